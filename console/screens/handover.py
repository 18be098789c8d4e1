"""The shift handover (``h`` on the Audit screen, or the palette): what went wrong since the shift began, what was
done about it and by whom, what is still open, and the ISA-18.2 alarm figures of the span.

What it says is :mod:`console.handover`'s (pure). ``s`` asks from when (``06:00``, ``-8h``, ``-90m``, ``2d``,
``shift``, an ISO time; all UTC on the server's clock); it starts at the last ``shift_start`` of the config file,
else 8 hours back. ``e`` exports it as Markdown (``console.exports``; the toast names the file); ``g`` fetches the
server's audit page again and gathers it at once. It follows the store at most every 10 seconds; the local audit log
is read off the UI thread. Server text is plain ``Content``, never markup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Static

from console.formatting import clock, in_utc
from console.handover import (
    DEFAULT_SPAN,
    Handover,
    Section,
    build_handover,
    handover_markdown,
    isa_lines,
    parse_since,
    shift_began,
)
from console.screens.base import ConsoleScreen
from console.store.changes import ChangeSet
from widgets.safe_text import clean

__all__ = ["HandoverScreen", "SinceInput"]

REFRESH_S = 10.0
"""At most this often the handover is gathered again while the store changes (``g`` does it at once)."""
GROUPS = (("wrong", "What went wrong", 4), ("done", "What was done", 1), ("open", "What is still open", 4))
_TONE_STYLE = {
    "critical": "bold $alarm-critical",
    "high": "$alarm-high",
    "medium": "$alarm-medium",
    "low": "$alarm-low",
    "fault": "$state-fault",
    "blocked": "$state-blocked",
    "paused": "$state-paused",
    "offline": "$state-offline",
    "muted": "$text-muted",
}


class SinceInput(Input):
    """Where ``since`` is typed; escape leaves it unchanged."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="handover.since_cancel")]

    def action_cancel(self) -> None:
        screen = self.screen
        if isinstance(screen, HandoverScreen):
            screen.close_since()


def section_content(section: Section, now: datetime | None, *, with_time: bool) -> Content:
    """A section's lines: time (if it has one), what, who; each line in its tone."""
    if not section.items:
        return Content.styled(clean(section.empty, 200), "italic $text-muted")
    parts: list[Content] = []
    for item in section.items:
        when = ""
        if with_time and item.at is not None:
            same_day = now is not None and in_utc(item.at).date() == in_utc(now).date()
            when = in_utc(item.at).strftime("%H:%M" if same_day else "%m-%d %H:%M") + "  "
        who = f" ({clean(item.who, 30)})" if item.who and item.who not in item.text else ""
        text = f"{when}{clean(item.text, 400)}{who}"
        style = _TONE_STYLE.get(item.tone)
        parts.append(Content.styled(text, style) if style else Content(text))
    if section.more:
        parts.append(Content.styled(f"… and {section.more} earlier, not listed", "italic $text-muted"))
    return Content("\n").join(parts)


class HandoverScreen(ConsoleScreen):
    """What the next shift needs to know."""

    SCREEN_TITLE = "Handover"
    FILTERABLE = False

    DEFAULT_CSS = """
    HandoverScreen #handover-title { width: 1fr; height: auto; padding: 0 1; text-style: bold; }
    HandoverScreen #since-bar { height: 1; display: none; background: $panel; }
    HandoverScreen #since-bar.-shown { display: block; }
    HandoverScreen #since-bar Label { width: auto; padding: 0 1; color: $text-muted; }
    HandoverScreen #since-bar SinceInput { border: none; height: 1; padding: 0; width: 1fr; background: $panel; }
    HandoverScreen #handover-body { height: 1fr; padding: 0 1; }
    HandoverScreen .group { text-style: bold underline; margin: 1 0 0 0; width: 1fr; }
    HandoverScreen .section-title { color: $text-muted; text-style: bold; width: 1fr; }
    HandoverScreen .section { width: 1fr; height: auto; padding: 0 0 0 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="handover.back"),
        Binding("s", "since", "Since…", tooltip="From when: 06:00, -8h, -90m, 2d, shift", id="handover.since"),
        Binding("e", "export", "Export", tooltip="Export the handover as Markdown", id="handover.export"),
        Binding("g", "fetch", "Refresh", tooltip="Fetch the server's audit page and gather again", id="handover.fetch"),
    ]

    def __init__(self, since: datetime | None = None) -> None:
        super().__init__()
        self.since: datetime | None = since
        self.since_words = "" if since is None else f"since {clock(since)}"
        self.local: list[dict[str, Any]] = []
        self.fetched: list[Any] = []
        self.handover: Handover | None = None
        self._stale = False

    def compose_body(self) -> ComposeResult:
        yield Label("", id="handover-title")
        with Horizontal(id="since-bar"):
            yield Label("since")
            yield SinceInput(placeholder="06:00, -8h, -90m, 2d, shift, 2026-11-25T06:00 (UTC)", id="since-input")
        with VerticalScroll(id="handover-body"):
            for group, title, count in GROUPS:
                yield Label(title, classes="group")
                for index in range(count):
                    yield Label("", classes="section-title", id=f"{group}-{index}-title")
                    yield Static("", classes="section", id=f"{group}-{index}")
            yield Label("ISA-18.2 alarm figures of the span", classes="group")
            yield Static("", classes="section", id="isa")

    def on_mount(self) -> None:
        super().on_mount()
        self.rebuild()
        self.set_interval(REFRESH_S, self._follow, name="handover-follow")
        self.query_one("#handover-body", VerticalScroll).focus()
        self.run_worker(self._read_local(), group="handover-local-audit", exclusive=True, exit_on_error=False)
        self.console.fetch_audit(self._fetched)

    async def _read_local(self) -> None:
        self.local = await self.console.session.local_audit(1000)
        if self.is_mounted:
            self.rebuild()

    def action_fetch(self) -> None:
        self.console.fetch_audit(self._fetched)
        self.rebuild()

    def _fetched(self, entries: list[Any]) -> None:
        self.fetched = entries
        if self.is_mounted:
            self.rebuild()

    def apply_changes(self, changes: ChangeSet) -> None:
        """A report need not follow every flush: what changed is gathered at most every :data:`REFRESH_S` (a big
        cluster's journal and history take tens of milliseconds to go through)."""
        if self.needs_rebuild:
            self.rebuild()
        elif not changes.empty:
            self._stale = True

    def _follow(self) -> None:
        if self._stale and self.is_current and not self.console.frozen:
            self._stale = False
            self.rebuild()

    # --- since ----------------------------------------------------------------------------------------------------

    def _since(self, now: datetime) -> tuple[datetime, str]:
        if self.since is not None:
            return self.since, self.since_words
        began = shift_began(now, self.console.settings.shift_start)
        if began is not None:
            return began, f"the shift began at {clock(began)}"
        return now - DEFAULT_SPAN, "the last 8 hours (no shift_start in the config file)"

    def action_since(self) -> None:
        self.query_one("#since-bar").add_class("-shown")
        field = self.query_one(SinceInput)
        field.value = ""
        field.focus()

    def close_since(self) -> None:
        self.query_one("#since-bar").remove_class("-shown")
        self.query_one("#handover-body", VerticalScroll).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not isinstance(event.input, SinceInput):
            return
        event.stop()
        now = self.console.server_clock.now()
        if now is None:
            self.notify("The server's time is not known yet", timeout=3)
            return
        found = parse_since(event.value, now, self.console.settings.shift_start)
        if isinstance(found, str):
            self.notify(f"Since: {found}", severity="warning", timeout=5)
            return
        self.since = found
        typed = clean(event.value.strip(), 30)
        self.since_words = f"since {clock(found)}" + ("" if typed == clock(found) else f" ({typed})")
        self.close_since()
        self.rebuild()

    # --- what is shown --------------------------------------------------------------------------------------------

    def rebuild(self) -> None:
        super().rebuild()
        now = self.console.server_clock.now()
        title = self.query_one("#handover-title", Label)
        if now is None:
            title.update("Handover: waiting for the server's time")
            return
        since, words = self._since(now)
        handover = build_handover(self.store, since=since, now=now, local=self.local, fetched=self.fetched)
        self.handover = handover
        span = f"{clock(since)}-{clock(now)} UTC"
        if now - since >= timedelta(days=1):
            span = f"{in_utc(since).strftime('%m-%d %H:%M')} to {clock(now)} UTC"
        heard = handover.heard_from
        note = f" · the console heard from {clock(heard)} on" if heard is not None and heard > since else ""
        title.update(Content(f"Handover {span}: {words}{note}"))
        groups = {"wrong": handover.went_wrong, "done": handover.done, "open": handover.still_open}
        for group, sections in groups.items():
            for index, section in enumerate(sections):
                self.query_one(f"#{group}-{index}-title", Label).update(Content(clean(section.title, 120)))
                content = section_content(section, now, with_time=group != "open")
                self.query_one(f"#{group}-{index}", Static).update(content)
        self.query_one("#isa", Static).update(
            Content("\n".join(clean(line, 400) for line in isa_lines(handover.figures)))
        )

    # --- keys -----------------------------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.query_one("#since-bar").has_class("-shown"):
            self.close_since()
            return
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()

    def action_export(self) -> None:
        self.run_worker(self._export(), group="handover-export", exclusive=True, exit_on_error=False)

    async def _export(self) -> None:
        handover = self.handover
        if handover is None:
            self.notify("Nothing to export yet: the server's time is not known", timeout=3)
            return
        store, session = self.store, self.console.session
        cluster = store.cluster.name if store.cluster else None
        text = handover_markdown(handover, cluster=cluster, operator=session.operator)
        try:
            path = await session.export_markdown("handover", text)
        except OSError as error:
            self.notify(f"Export failed: {error}", severity="error", timeout=8)
            return
        self.notify(f"Handover exported to {path}", title="Export", timeout=8)


def open_handover(screen: Any) -> None:
    """Open the handover (from the Audit screen's ``h`` or the palette)."""
    if not isinstance(screen.app.screen, HandoverScreen):
        screen.app.push_screen(HandoverScreen())
