"""How the alert journal is shown: the columns of the alert history and of an alert's life, one row each, and the
one-line ISA-18.2 summary of the Alerts screen.

Shared by the history screen (``console.screens.alert_history``) and the alert detail (``console.screens.
alert_detail``), which open each other. Everything from the server (ids, codes, names, who, notes) is cleaned and
drawn as plain text, never as markup.
"""

from __future__ import annotations

from datetime import datetime

from console.alarm_metrics import FLOOD_COUNT, AlarmFigures
from console.formatting import clock, in_utc
from console.screens.columns import ALERT_STATE_WORD
from console.store.journal import JournalRow
from widgets.charset import pick
from widgets.data_grid import Column, RowData
from widgets.glyphs import alert_priority_look
from widgets.safe_text import clean

__all__ = ["HISTORY_COLUMNS", "LIFE_COLUMNS", "WIDE", "history_row", "isa_summary", "life_row", "row_detail", "when"]

HISTORY_COLUMNS = [
    Column("at", "Time", width=11),
    Column("transition", "What", width=9),
    Column("priority", "Priority", width=10),
    Column("alert", "Alert", width=8, drop=3),
    Column("source", "Source", min_width=12, flex=4),
    Column("code", "Code", min_width=8, flex=2),
    Column("by", "By", width=8),
    Column("note", "Note", min_width=14, flex=5),
    Column("count", "#", width=3, align="right", drop=2),
    Column("server", "Server", width=8, drop=4),
]

LIFE_COLUMNS = [
    Column("at", "Time", width=11),
    Column("transition", "What", width=9),
    Column("state", "State", width=9),
    Column("by", "By", width=8),
    Column("note", "Note", min_width=12, flex=3),
    Column("count", "#", width=3, align="right"),
    Column("server", "Server", width=8, drop=1),
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
    return pick(" · ", "; ").join(parts)


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


WIDE = 158
"""From this many columns the ISA-18.2 summary says its figures in words."""


def isa_summary(figures: AlarmFigures, width: int) -> tuple[str, bool]:
    """The Alerts screen's ISA-18.2 line for a screen ``width`` wide, and whether anything in it is abnormal (a
    flood now or in the window, chattering, stale alarms, a priority mix outside the guideline). Wide, an abnormal
    line starts with a warning sign; narrow, there is no room for it (the screen shows the line bold either way)."""
    mix = figures.mix
    within = mix.within_guideline
    abnormal = bool(
        figures.floods or figures.chattering or figures.stale or within is False or figures.last_10_min > FLOOD_COUNT
    )
    low_medium, critical = round(mix.low_medium * 100), round(mix.critical * 100)
    warn = pick("⚠ ", "! ") if abnormal else ""
    dot = pick(" · ", " | ")
    hours = round(figures.window.total_seconds() / 3600)
    if width >= WIDE:
        if not mix.total:
            verdict = "mix: no alarm raised yet"
        elif within is None:
            verdict = f"low+medium {low_medium}%, critical {critical}% of {mix.total}: too few to judge the mix"
        else:
            verdict = (
                f"low+medium {low_medium}% ({pick('≥', '>=')}80%), critical {critical}% (<5%):"
                f" {'within guideline' if within else 'OUTSIDE guideline'}"
            )
        text = (
            f"{warn}ISA-18.2 ({hours} h): {figures.last_hour} raised in 1 h, {figures.last_10_min} in 10 min"
            f" (peak {figures.peak_10_min}){dot}floods {len(figures.floods)}{dot}chattering {len(figures.chattering)}"
            f"{dot}stale {len(figures.stale)}{dot}{verdict}"
        )
    else:
        judged = f"n={mix.total}" if within is None else ("ok" if within else "OUTSIDE")
        verdict = f"L+M {low_medium}% crit {critical}% {judged}" if mix.total else "mix -"
        text = (
            f"ISA-18.2 {figures.last_hour}/h {figures.last_10_min}/10m{dot}flood {len(figures.floods)}"
            f"{dot}chatter {len(figures.chattering)}{dot}stale {len(figures.stale)}{dot}{verdict}"
        )
    return text, abnormal
