"""How a timeline is shown: its columns, one row per entry, where ``enter`` on a row goes, and the names of subjects.

Shared by the timeline screen (``console.screens.timeline``) and the job detail (``console.screens.job_detail``),
which shows its job's timeline below its facts. The entries come from :mod:`console.timeline_view` (pure); server
text in them is cleaned here and drawn as plain text, never as markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from console.screens.journal_rows import when
from console.timeline_view import Entry
from widgets.data_grid import Column, RowData
from widgets.safe_text import clean

if TYPE_CHECKING:
    from textual.screen import Screen

    from console.store.store import Store

__all__ = ["TIMELINE_COLUMNS", "entry_row", "open_ref", "ref_text", "row_entry", "subject_title"]

TIMELINE_COLUMNS = [
    Column("at", "Time", width=11),
    Column("kind", "Kind", width=10),
    Column("what", "What", min_width=36, flex=6),
    Column("who", "Who", width=10),
    Column("ref", "Goes to", min_width=17, flex=1, drop=1),
]

_TONE_STYLE = {
    "fault": "row-fault",
    "blocked": "row-blocked",
    "paused": "row-paused",
    "offline": "row-offline",
    "critical": "row-critical",
    "high": "row-high",
    "medium": "row-medium",
    "low": "row-low",
}


def ref_text(ref: tuple[str, str] | None) -> str:
    return "" if ref is None else f"{clean(ref[0], 8)} {clean(ref[1], 40)}"


def entry_row(entry: Entry, now: datetime | None) -> RowData:
    return RowData(
        entry.key,
        [
            when(entry.at, now),
            entry.kind,
            clean(entry.summary, 300),
            clean(entry.who or "", 30),
            ref_text(entry.ref),
        ],
        _TONE_STYLE.get(entry.tone, ""),
        {"entry": entry},
    )


def row_entry(row: RowData | None) -> Entry | None:
    """The entry a row was built from."""
    entry = None if row is None else row.extra.get("entry")
    return entry if isinstance(entry, Entry) else None


def subject_title(store: Store, kind: str, subject_id: str) -> str:
    """``Machine Printer 07 (M-LDS-07)``, ``Job J-1042: bracket``, ``Node Leeds (N-LDS)``: cleaned."""
    if kind == "machine" and (machine := store.machines.get(subject_id)) is not None:
        return f"Machine {clean(machine.name, 40)} ({clean(subject_id, 40)})"
    if kind == "node" and (node := store.nodes.get(subject_id)) is not None:
        return f"Node {clean(node.name, 40)} ({clean(subject_id, 40)})"
    if kind == "job" and (job := store.jobs.get(subject_id)) is not None:
        return f"Job {clean(subject_id, 40)}: {clean(job.part, 40)}"
    return f"{clean(kind, 10).capitalize()} {clean(subject_id, 40)}"


def open_ref(screen: Screen[object], ref: tuple[str, str] | None) -> None:
    """``enter`` on an entry: open what it is about (a machine's or a job's detail, a node's, an alert's)."""
    if ref is None:
        screen.notify("This entry is about no machine, job, node or alert", timeout=2)
        return
    kind, ident = ref
    app = screen.app
    if kind == "machine":
        from console.screens.machine_detail import open_machine_detail

        open_machine_detail(app, ident)
    elif kind == "job":
        from console.screens.job_detail import JobDetailScreen

        app.push_screen(JobDetailScreen(ident))
    elif kind == "node":
        from console.screens.node_detail import NodeDetailScreen

        app.push_screen(NodeDetailScreen(ident))
    elif kind == "alert":
        from console.screens.alert_detail import AlertDetail

        app.push_screen(AlertDetail(ident))
    else:
        screen.notify(f"Nothing to open for {clean(kind, 10)} {clean(ident, 40)}", timeout=2)
