"""How alert journal rows are shown: the columns of the alert history and of an alert's life, and one row each.

Shared by the history screen (``console.screens.alert_history``) and the alert detail (``console.screens.
alert_detail``), which open each other. Everything from the server (ids, codes, names, who, notes) is cleaned and
drawn as plain text, never as markup.
"""

from __future__ import annotations

from datetime import datetime

from console.formatting import clock, in_utc
from console.screens.columns import ALERT_STATE_WORD
from console.store.journal import JournalRow
from widgets.data_grid import Column, RowData
from widgets.glyphs import alert_priority_look
from widgets.safe_text import clean

__all__ = ["HISTORY_COLUMNS", "LIFE_COLUMNS", "history_row", "life_row", "row_detail", "when"]

HISTORY_COLUMNS = [
    Column("at", "Time", width=11),
    Column("transition", "What", width=9),
    Column("priority", "Priority", width=10),
    Column("alert", "Alert", width=8, drop=2),
    Column("source", "Source", min_width=12, flex=2),
    Column("code", "Code", min_width=8),
    Column("by", "By", min_width=6),
    Column("note", "Note", min_width=10, flex=2),
    Column("count", "#", width=3, align="right", drop=1),
    Column("server", "Server", min_width=7, drop=3),
]

LIFE_COLUMNS = [
    Column("at", "Time", width=11),
    Column("transition", "What", width=9),
    Column("state", "State", width=9),
    Column("by", "By", min_width=6),
    Column("note", "Note", min_width=12, flex=3),
    Column("count", "#", width=3, align="right"),
    Column("server", "Server", min_width=7, drop=1),
]

_LOUD = frozenset({"raised", "re-raised", "count"})


def when(at: datetime, now: datetime | None) -> str:
    """``08:14:05`` on the server's day, ``11-24 23:50`` on another (UTC, as every time the console shows)."""
    shown = in_utc(at)
    if now is not None and shown.date() == in_utc(now).date():
        return shown.strftime("%H:%M:%S")
    return shown.strftime("%m-%d %H:%M")


def row_detail(row: JournalRow) -> str:
    """What a row says beyond its transition: the shelve's end, a count's step, the note (cleaned)."""
    parts: list[str] = []
    if row.transition == "shelved" and row.until is not None:
        parts.append(f"until {clock(row.until)}")
    if row.note:
        parts.append(clean(row.note, 200))
    return " · ".join(parts)


def _style(row: JournalRow) -> str:
    if row.transition in _LOUD:
        return f"row-{alert_priority_look(row.priority).style}"
    return "row-muted" if row.transition in ("acked", "resolved", "shelved", "gone") else ""


def history_row(row: JournalRow, now: datetime | None, *, source: str) -> RowData:
    """One journal row of the history; ``source`` is the Source column's text (``columns.source_text``)."""
    cells = [
        when(row.at, now),
        clean(row.transition, 12),
        alert_priority_look(row.priority).label,
        clean(row.id, 30),
        source,
        clean(row.code, 40),
        clean(row.who or "", 30),
        row_detail(row),
        str(row.count),
        clean(row.server, 30),
    ]
    return RowData(str(row.n), cells, _style(row), {"row": row})


def life_row(row: JournalRow, now: datetime | None) -> RowData:
    """One transition in an alert's life (the detail's list)."""
    cells = [
        when(row.at, now),
        clean(row.transition, 12),
        ALERT_STATE_WORD.get(row.state, clean(row.state, 20)),
        clean(row.who or "", 30),
        row_detail(row),
        str(row.count),
        clean(row.server, 30),
    ]
    return RowData(str(row.n), cells, _style(row), {"row": row})
