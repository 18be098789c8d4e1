"""ConsoleFooter does not keep the rebuilt keys of Textual's Footer alive (Textual issue #6666)."""

from __future__ import annotations

import gc
import weakref
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from widgets.footer import ConsoleFooter


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding(k, f"key_{k}", f"key {k}") for k in "abcdefghij"]

    def action_key_a(self) -> None: ...

    def __init__(self, footer: Footer) -> None:
        super().__init__()
        self.footer = footer

    def compose(self) -> ComposeResult:
        yield Static("x")
        yield self.footer


def compact_watchers(footer: Footer) -> int:
    return len(getattr(footer, "__watchers", {}).get("compact", []))


def closed_keys_alive(seen: weakref.WeakSet[FooterKey]) -> int:
    """How many of the keys ``seen`` (every key this footer showed) are closed but still alive."""
    gc.collect()
    return sum(1 for key in seen if not key.is_attached)


async def rebuild_footer(app: FooterApp, times: int) -> None:
    seen: weakref.WeakSet[FooterKey] = weakref.WeakSet()
    async with app.run_test() as pilot:
        await pilot.pause()
        for _ in range(times):
            seen.update(app.footer.query(FooterKey))
            app.screen.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
        await pilot.pause(0.2)  # the last rebuild's removal finishes
        app.result_watchers = compact_watchers(app.footer)  # type: ignore[attr-defined]
        app.result_closed = closed_keys_alive(seen)  # type: ignore[attr-defined]
        app.result_attached = len(app.footer.query(FooterKey))  # type: ignore[attr-defined]


async def test_textual_footer_keeps_a_watcher_per_rebuilt_key_the_console_footer_does_not() -> None:
    plain = FooterApp(Footer())
    await rebuild_footer(plain, 20)
    console = FooterApp(ConsoleFooter())
    await rebuild_footer(console, 20)
    # Textual's own footer: the leak this widget exists for, watchers and dead keys piling up with every rebuild (if
    # Textual fixes #6666, this first assert tells us).
    assert plain.result_watchers >= 20 * 5 and plain.result_closed >= 19 * 5  # type: ignore[attr-defined]
    # ours: no more watchers than live keys, and no closed key kept alive
    assert console.result_watchers <= console.result_attached  # type: ignore[attr-defined]
    assert console.result_closed == 0  # type: ignore[attr-defined]
