"""At 80 columns the footer shows what matters first: ? and q, then the screen's own actions, then the common keys."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets._footer import FooterKey

from widgets.footer import ConsoleFooter


class Pretend(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("o", "sort_next", "Sort"),
        Binding("p", "pause", "Pause/Resume"),
        Binding("a", "ack", "Ack"),
    ]

    def compose(self) -> ComposeResult:
        yield ConsoleFooter()

    def action_filter(self) -> None: ...
    def action_sort_next(self) -> None: ...
    def action_pause(self) -> None: ...
    def action_ack(self) -> None: ...


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('dashboard')", "Dashboard"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f", "toggle_freeze", "Freeze"),
        Binding("q", "quit_console", "Quit"),
    ]

    def on_mount(self) -> None:
        self.push_screen(Pretend())

    def action_help(self) -> None: ...
    def action_toggle_freeze(self) -> None: ...
    def action_quit_console(self) -> None: ...


async def test_help_and_quit_first_then_the_screens_actions_then_the_common_keys() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        await pilot.pause()
        keys = [k.action for k in app.screen.query(FooterKey) if "-command-palette" not in k.classes]
        assert keys[:2] == ["help", "quit_console"]
        assert keys[2:4] == ["pause", "ack"]
        assert set(keys[4:]) == {"filter", "sort_next", "toggle_freeze", "switch_mode('dashboard')"}
