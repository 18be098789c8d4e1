"""The header bar: cluster name, each source's connection state, events per second, operator and role, server time,
and badges (FROZEN, READ-ONLY, DEMO, and while a recording is replayed, REPLAY with the replayed time).

It is told what to show (``show``); it repaints only when the text it would show has changed, so a quiet cluster
costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.widgets import Static

from console.formatting import clock, clock_s, duration
from widgets.charset import ascii_only, ellipsis, pick
from widgets.safe_text import clean

if TYPE_CHECKING:
    from console.recording.playback import Playback


@dataclass(frozen=True)
class SourceView:
    """What the header shows of one source."""

    source_id: str
    state: str
    reason: str | None = None
    retry_in_s: float | None = None
    silent_for_s: float | None = None


def replay_badge(playback: Playback) -> str:
    """The header's badge while a recording is replayed: ``REPLAY 14:05:09 ▶ 5x`` (the replayed time, UTC)."""
    if playback.playing:
        return f"REPLAY {clock_s(playback.position)} {pick('▶', '>')} {playback.speed}x"
    return f"REPLAY {clock_s(playback.position)} {'end' if playback.at_end else pick('‖', '||') + ' paused'}"


# The mark before each source state: Unicode, and ASCII for the Linux console (``--ascii``).
_MARKS = {"live": ("●", "*"), "busy": ("↻", "~"), "stale": ("◌", "o"), "failed": ("✖", "X")}


def _mark(state: str) -> str:
    unicode, plain = _MARKS[state]
    return plain if ascii_only() else unicode


def source_text(view: SourceView, stale_after_s: float) -> tuple[str, str]:
    """The words for one source's state and the style class that goes with them (never colour alone)."""
    name = clean(view.source_id, 24)
    state = view.state
    if state in ("summary", "summary-warn"):
        return name, "ok" if state == "summary" else "warn"
    if state == "live":
        # A live stream is current even when quiet: keep-alives prove it, and 45 s of nothing ends it.
        return f"{name} {_mark('live')} live", "ok"
    if state == "reconnecting":
        retry = f" in {max(0, round(view.retry_in_s))}s" if view.retry_in_s is not None else ""
        return f"{name} {_mark('busy')} reconnecting{retry}", "warn"
    if state == "connecting":
        return f"{name} {_mark('busy')} connecting", "warn"
    if state == "stale":
        silent = f" for {duration(view.silent_for_s)}" if view.silent_for_s is not None else ""
        retry = f", retry in {max(0, round(view.retry_in_s))}s" if view.retry_in_s is not None else ""
        return f"{name} {_mark('stale')} stale{silent}{retry}", "bad"
    if state == "failed":
        reason = f": {clean(view.reason, 60)}" if view.reason else ""
        return f"{name} {_mark('failed')} failed{reason}", "bad"
    return f"{name} {clean(state, 20)}", "warn"


class StatusHeader(Static):
    """One line at the top of every screen."""

    DEFAULT_CSS = """
    StatusHeader {
        width: 1fr;
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._last: Content | None = None
        self._parts: list[tuple[int, Content]] = []

    def show(
        self,
        *,
        cluster_name: str | None,
        sources: list[SourceView],
        events_per_second: float,
        operator: str | None,
        role: str | None,
        server_time: datetime | None,
        stale_after_s: float,
        badges: list[str],
    ) -> None:
        # (importance, content): when the line is too long, the least important parts go first. Connection states
        # and badges never go: they are what an operator must not miss.
        parts: list[tuple[int, Content]] = [
            (3, Content.styled(clean(cluster_name or f"connecting{ellipsis()}", 40), "bold"))
        ]
        for view in sources:
            text, kind = source_text(view, stale_after_s)
            style = {"ok": "", "warn": "$warning", "bad": "bold $error"}[kind]
            parts.append((0, Content.styled(text, style) if style else Content(text)))
        parts.append((5, Content(f"{events_per_second:,.0f} ev/s")))
        if operator:
            parts.append((4, Content(f"{clean(operator, 24)} ({clean(role or '?', 12)})")))
        parts.append((2, Content(f"{clock(server_time)} UTC")))
        for badge in badges:
            parts.append((1, Content.styled(f" {badge} ", "reverse bold")))
        self._parts = parts
        self._render_parts()

    def on_resize(self) -> None:
        self._render_parts()

    def _render_parts(self) -> None:
        parts = list(getattr(self, "_parts", []))
        if not parts:
            return
        width = (self.size.width or self.app.size.width) - 2
        separator = Content(" │ ")

        def joined(items: list[tuple[int, Content]]) -> Content:
            return separator.join([c for _, c in items])

        if joined(parts).cell_length > width and parts[0][0] == 3:
            parts[0] = (3, Content.styled(clean(parts[0][1].plain, 18), "bold"))
        while joined(parts).cell_length > width:
            droppable = [p for p in parts if p[0] >= 2]
            if not droppable:
                break
            parts.remove(max(droppable, key=lambda p: p[0]))
        content = joined(parts)
        if self._last is not None and content.plain == self._last.plain and content.spans == self._last.spans:
            return
        self._last = content
        # One line, as wide as the screen whatever it says: a repaint, never a layout of the whole screen (a layout
        # here, once a second, cost the screen 3-19 ms and held keys back behind it; issue 15).
        self.update(content, layout=False)
