"""The machine tiles: four lines of content per machine (name, state and progress, job and telemetry, detail).

Why its own module: a tile is the most drawn thing in the console (up to 20 on a line, every telemetry tick), so
what a tile line shows and what decides that it changed live side by side here: :func:`tile_line_keys` must cover
every field :func:`tile_piece` reads (a test renders old and new versions field by field to check it). The grid
places the pieces on screen lines and caches them; this module knows nothing about scrolling or the cursor beyond
"this tile is under it".

Looks follow ISA-101: idle and running are calm (``state-normal``), colour only marks the abnormal, and a state is
always a word and a glyph too. Server strings are cleaned and drawn as plain segments, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from rich.segment import Segment
from rich.style import Style

from console.api.models import Machine
from widgets._line_parts import BOLD, fit_parts, mark_glyph, state_style
from widgets.charset import DASH, pick
from widgets.glyphs import kind_abbr, machine_state_look, telemetry_label
from widgets.machine_source import MachineFacts, cleaned
from widgets.progress_bar import percent, progress_bar
from widgets.safe_text import fit, id_and_name

__all__ = ["TILE_CONTENT_LINES", "tile_line_keys", "tile_piece", "tile_piece_key"]

TILE_CONTENT_LINES = 4
"""Lines of content in a tile (the grid adds a blank separator line)."""


def tile_line_keys(machine: Machine, telemetry: Mapping[str, float] | None = None) -> tuple[tuple[object, ...], ...]:
    """What each of a tile's four content lines shows *of the machine itself*; equal keys mean an equal line.

    Why: a telemetry tick (the most frequent change) then repaints one tile line instead of five, and a change
    that does not show (a telemetry value rounding to the same label) repaints nothing. Marks, stale flags, alert
    counts and jobs come from the grid's source (:class:`~widgets.machine_source.MachineFacts`); its owner asks for
    a repaint with ``refresh_ids`` after changing them.
    """
    progress = machine.progress
    kind = machine.kind
    return (
        (machine.name, kind),
        (machine.state, progress_bar(progress, 9), percent(progress)),
        (machine.job_id, telemetry_label(kind, machine.telemetry if telemetry is None else telemetry)),
        (machine.state, machine.state_reason, machine.fault_code, machine.draining, machine.job_id),
    )


def tile_piece_key(
    machine: Machine, telemetry: Mapping[str, float], facts: MachineFacts, within: int, cursor: int, width: int
) -> Hashable:
    """The line cache's key of one tile line: what :func:`tile_piece` reads for line ``within``, and nothing else
    (so a tick of the telemetry keeps the other three lines of the tile cached)."""
    if within == 0:
        own: tuple[object, ...] = (machine.name, machine.kind, facts.marked)
    elif within == 1:
        progress = machine.progress
        own = (machine.state, progress_bar(progress, 9), percent(progress))
    elif within == 2:
        tele = "" if facts.stale else telemetry_label(machine.kind, telemetry)
        own = (machine.job_id, tele, facts.stale, facts.alerts)
    else:
        own = (machine.state, machine.state_reason, machine.fault_code, machine.draining, machine.job_id, facts.job)
    return ("tile", within, own, cursor, width)


def tile_piece(
    machine: Machine,
    telemetry: Mapping[str, float],
    facts: MachineFacts,
    within: int,
    width: int,
    styles: dict[str, Style],
    at_cursor: bool,
) -> list[Segment]:
    """Line ``within`` (0-3) of ``machine``'s tile: exactly ``width`` cells."""
    base = styles["cursor"] if at_cursor else styles["tile"]

    def part(key: str) -> Style:
        # On the cursor the cursor's own colours win (a theme's part colour could vanish into its background,
        # e.g. white on white in mono); words and glyphs still tell the state.
        if at_cursor:
            return base + BOLD if key == "name" else base
        return base + styles[key]

    look = machine_state_look(machine.state)
    state = base if at_cursor else base + state_style(styles, look.style)
    muted = part("muted")
    parts: list[tuple[str, Style]]
    if within == 0:
        kind = kind_abbr(machine.kind)
        kind_width = min(max(4, len(kind)), 8)
        name_width = max(1, width - kind_width - 3)
        parts = [
            (mark_glyph(facts.marked), part("mark")),
            (id_and_name(machine.id, machine.name, name_width), part("name")),
            (" ", base),
            (fit(kind, kind_width, align="right", cleaned=True), muted),
            (" ", base),
        ]
    elif within == 1:
        label_width = max(4, width - 16)
        parts = [
            (" ", base),
            (fit(look.label, label_width, cleaned=True), state),
            (" ", base),
            (progress_bar(machine.progress, 9), part("progress")),
            (" ", base),
            (percent(machine.progress), muted),
        ]  # exactly ``width`` cells (no trailing space: it was cropped off on every draw)
    elif within == 2:
        tele = "stale" if facts.stale else telemetry_label(machine.kind, telemetry)
        alerts = facts.alerts
        job_width = max(1, min(11, width - 18))
        parts = [
            (" ", base),
            (fit(cleaned(machine.job_id or pick(*DASH)), job_width, cleaned=True), base),
            (" ", base),
            (
                fit(tele, max(1, width - job_width - 6), align="right", cleaned=True),
                part("stale") if facts.stale else muted,
            ),
            (" ", base),
            (fit(f"!{alerts}" if alerts else "", 3, align="right", cleaned=True), part("alerts") if alerts else base),
        ]  # exactly ``width`` cells, as above
    else:
        detail, detail_style = _detail(machine, facts, look.style, styles)
        parts = [(" ", base), (fit(detail, width - 2), base if at_cursor else base + detail_style), (" ", base)]
    return fit_parts(parts, width, base)


def _detail(machine: Machine, facts: MachineFacts, style_class: str, styles: dict[str, Style]) -> tuple[str, Style]:
    """The fourth tile line: why an abnormal machine is so, else what it is making."""
    if style_class != "normal" and (machine.state_reason or machine.fault_code):
        text = " ".join(cleaned(part) for part in (machine.fault_code, machine.state_reason) if part)
        return text, Style(color=state_style(styles, style_class).color)
    if machine.draining:
        return "draining", styles["state-paused"]
    if facts.job is not None:
        part, done, quantity = facts.job
        return f"{part} {done}/{quantity}", styles["muted"]
    return "", styles["muted"]
