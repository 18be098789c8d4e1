"""The dense table of machines: one line per machine under a header, for narrow terminals and long scans.

Why its own module: the table's columns, their widths at a given terminal width, and what decides that a row
changed (:func:`table_row_key`, which must cover every machine field :func:`table_row` reads) belong together;
the grid only says which machine goes on which line and whether the cursor is on it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from console.api.models import Machine
from widgets._line_parts import fit_parts, mark_glyph, state_style
from widgets.charset import DASH, pick
from widgets.glyphs import kind_abbr, machine_state_look, telemetry_label
from widgets.machine_source import MachineFacts, cleaned
from widgets.progress_bar import percent, progress_bar
from widgets.safe_text import fit, id_and_name

__all__ = ["TABLE_COLUMNS", "table_header", "table_row", "table_row_key", "table_row_line_key", "table_widths"]

TABLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("KIND", 4),
    ("STATE", 13),
    ("PROGRESS", 11),
    ("JOB", 10),
    ("TELEMETRY", 14),
    ("AL", 3),
)
"""The fixed columns between the name and the node: (label, width)."""


def table_row_key(machine: Machine, telemetry: Mapping[str, float] | None = None) -> tuple[object, ...]:
    """What a table line shows of the machine itself (equal keys: an equal line, as far as the machine goes)."""
    progress = machine.progress
    kind = machine.kind
    return (
        machine.name,
        kind,
        machine.state,
        progress_bar(progress, 6),
        percent(progress),
        machine.job_id,
        telemetry_label(kind, machine.telemetry if telemetry is None else telemetry),
        machine.node_id,
    )


def table_row_line_key(
    machine: Machine, telemetry: Mapping[str, float], facts: MachineFacts, cursor: int, width: int
) -> Hashable:
    """The line cache's key of a table row: the machine's own key, the facts the row shows, cursor and width."""
    return (
        "table",
        table_row_key(machine, telemetry),
        facts.marked,
        facts.stale,
        facts.alerts,
        facts.node,
        cursor,
        width,
    )


NAME_MIN = 9
"""A machine's id (``M-LDS-05``) whole and a space: below it, ids of different nodes read alike (``M-L…05``)."""
PROGRESS_WIDTH = 11


def table_shows_progress(width: int) -> bool:
    """Whether the progress column fits beside a whole id; narrower (about 70 columns), it goes first, so the
    alerts column stays on screen (at 60 columns it was cut off, with the ids)."""
    return width - 2 - sum(w + 1 for _, w in TABLE_COLUMNS) >= NAME_MIN


TELEMETRY_WIDTH = 14
TELEMETRY_MIN = 8
ID_WIDTH = 8


def telemetry_width(width: int) -> int:
    """The telemetry column's width: narrower (to 8) when even without the progress column a machine's id would be
    cut (the console at 60 columns, less its scrollbar)."""
    if table_shows_progress(width):
        return TELEMETRY_WIDTH
    rest = width - 2 - sum(w + 1 for _, w in TABLE_COLUMNS) + PROGRESS_WIDTH + 1
    return max(TELEMETRY_MIN, TELEMETRY_WIDTH - max(0, ID_WIDTH - rest))


def table_widths(width: int) -> tuple[int, int]:
    """(name width, node width) at ``width``: the name takes what is left, and the node a column if there is room."""
    fixed = 2 + sum(w + 1 for _, w in TABLE_COLUMNS)
    if not table_shows_progress(width):
        fixed -= PROGRESS_WIDTH + 1 + TELEMETRY_WIDTH - telemetry_width(width)
    rest = width - fixed
    if rest >= 28:
        node = min(16, rest - 16)
        return rest - node - 1, node
    return max(6, rest), 0  # no node column: the space ``fixed`` counts after the alerts column is not drawn


def table_header(width: int, styles: dict[str, Style]) -> Strip:
    name_w, node_w = table_widths(width)
    text = "  " + fit("NAME", name_w) + " "
    progress = table_shows_progress(width)
    tele_w = telemetry_width(width)
    text += " ".join(
        fit(label, tele_w if label == "TELEMETRY" else w)
        for label, w in TABLE_COLUMNS
        if progress or label != "PROGRESS"
    )
    if node_w:
        text += " " + fit("NODE", node_w)
    return Strip([Segment(fit(text, width, cleaned=True), styles["_base"] + styles["header"])], width)


def table_row(
    machine: Machine,
    telemetry: Mapping[str, float],
    facts: MachineFacts,
    width: int,
    styles: dict[str, Style],
    at_cursor: bool,
) -> Strip:
    """``machine``'s row: exactly ``width`` cells."""
    base = styles["cursor"] if at_cursor else styles["_base"] + styles["state-normal"]
    stale = facts.stale
    alerts = facts.alerts
    look = machine_state_look(machine.state)
    muted = base + styles["muted"]
    name_w, node_w = table_widths(width)
    tele = "stale" if stale else telemetry_label(machine.kind, telemetry)
    parts: list[tuple[str, Style]] = [
        (mark_glyph(facts.marked), base + styles["mark"]),
        (" ", base),
        (id_and_name(machine.id, machine.name, name_w), base + styles["name"]),
        (" ", base),
        (fit(kind_abbr(machine.kind), 4, cleaned=True), muted),
        (" ", base),
        (fit(look.label, 13, cleaned=True), base + state_style(styles, look.style)),
        (" ", base),
    ]
    if table_shows_progress(width):
        parts += [
            (progress_bar(machine.progress, 6), base + styles["progress"]),
            (" ", base),
            (percent(machine.progress), muted),
            (" ", base),
        ]
    parts += [
        (fit(cleaned(machine.job_id or pick(*DASH)), 10, cleaned=True), base),
        (" ", base),
        (fit(tele, telemetry_width(width), cleaned=True), base + styles["stale"] if stale else muted),
        (" ", base),
        (
            fit(f"!{alerts}" if alerts else "", 3, align="right", cleaned=True),
            base + styles["alerts"] if alerts else base,
        ),
    ]
    if node_w:
        parts += [(" ", base), (fit(facts.node, node_w), muted)]
    return Strip(fit_parts(parts, width, base), width)
