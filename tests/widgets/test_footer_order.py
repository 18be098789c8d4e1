"""The footer in an app: the screen's keys in the order an operator needs them, a click presses the key, and a
rebuild of the bindings makes no widgets (Textual's ``Footer`` made one per key and leaked them, issue #6666)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen

from widgets.footer import ConsoleFooter


class Pretend(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("o", "sort_next", "Sort"),
        Binding("p", "pause", "Pause/Resume"),
        Binding("a", "ack", "Ack"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []

    def compose(self) -> ComposeResult:
        yield ConsoleFooter()

    def action_filter(self) -> None: ...
    def action_sort_next(self) -> None: ...
    def action_pause(self) -> None:
        self.pressed.append("pause")

    def action_ack(self) -> None:
        self.pressed.append("ack")


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
        footer = app.screen.query_one(ConsoleFooter)
        actions = [a for a in footer.shown_actions if a != "command_palette"]
        assert actions[:2] == ["help", "quit_console"]
        assert actions[2:4] == ["pause", "ack"]
        assert set(actions[4:]) == {"filter", "sort_next", "toggle_freeze", "switch_mode('dashboard')"}


async def test_a_click_on_a_key_presses_it() -> None:
    app = FooterApp()
    async with app.run_test(size=(110, 5)) as pilot:
        await pilot.pause()
        await pilot.pause()
        footer = app.screen.query_one(ConsoleFooter)
        line = str(footer.render())
        await pilot.click(ConsoleFooter, offset=(line.index("Ack"), 0))
        await pilot.click(ConsoleFooter, offset=(line.index(" p ") + 1, 0))
        await pilot.click(ConsoleFooter, offset=(line.index("▏") - 2, 0))  # the blank before ^p: nothing
        await pilot.pause()
        assert app.screen.pressed == ["ack", "pause"]


async def test_rebuilding_the_bindings_makes_no_widgets_and_repaints_only_on_a_change() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.pause()
        await pilot.pause()
        footer = app.screen.query_one(ConsoleFooter)
        before = footer.entries
        for _ in range(20):
            app.screen.refresh_bindings()
            await pilot.pause()
        assert not footer.children
        assert footer.entries is before  # the same keys: the footer kept what it had
