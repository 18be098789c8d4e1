"""Shared steps of the app-level fault cases: the whole console, run headless against the hostile server.

Every app-level case asks the same four questions (issue 4): is the console still running, does it still handle a
key, does it show the right state, and, for text, is the server's string on screen literally (cleaned) with no
injected style, link or escape? They live here once so each catalogue file stays a list of cases.

Waits are event-driven (a predicate polled between short pilot pauses), never fixed sleeps, so a case takes as long
as the console needs and no longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import console.app
from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.server_clock import ServerClock
from console.settings import Settings, SourceSpec
from console.sources.adapter import AdapterContext
from console.sources.cluster_adapter import ClusterAdapter
from console.sources.registry import default_registry
from tests.faults.hostile_server import HostileServer
from widgets.safe_text import clean

SIZE = (160, 48)
SOURCE = "cluster"


class ConsoleUnderTest(FactoryConsoleApp):
    """The real console, with one test knob: the stream's silence timeout (45 s in the app, no setting for it).

    Only the silence cases need it. The source is built exactly as the app builds it (the built-in ``cluster``
    adapter), through a registry of its own that then lowers the source's public ``silence_timeout`` before its loop
    first runs: the same seam a plugin of a new source kind uses.
    """

    # Textual resolves a relative CSS path from the subclass's own module: point it back at the app's stylesheet.
    CSS_PATH = str((Path(console.app.__file__).parent / str(FactoryConsoleApp.CSS_PATH)).resolve())

    def __init__(self, *args: Any, silence_timeout: float | None = None, **kwargs: Any) -> None:
        registry = default_registry(plugins=False)
        if silence_timeout is not None:

            def cluster_with_short_silence(spec: Any, context: AdapterContext) -> ClusterAdapter:
                adapter = ClusterAdapter.from_spec(spec, context)
                adapter.source.silence_timeout = silence_timeout
                return adapter

            registry.register("cluster", cluster_with_short_silence)
        super().__init__(*args, registry=registry, **kwargs)


def make_console(server: HostileServer, tmp_path: Path, *, silence_timeout: float | None = None) -> ConsoleUnderTest:
    """A console on ``server`` built like tests/app/conftest.py builds it (private audit log, frozen clocks)."""
    settings = Settings(
        sources=[SourceSpec(SOURCE, "cluster", server.url)],
        save_theme=False,
        refresh_ms=30,
        panel_interval_s=0.0,
    )
    app = ConsoleUnderTest(
        settings,
        audit_log=AuditLog(tmp_path / "audit.jsonl"),
        server_clock=ServerClock(extrapolate=False),
        install_signal_handlers=False,
        silence_timeout=silence_timeout,
    )
    return app


@contextlib.asynccontextmanager
async def running_console(
    server: HostileServer, tmp_path: Path, *, silence_timeout: float | None = None
) -> AsyncIterator[Any]:
    """Run the console against ``server`` at 160x48; yields the pilot. Fails if a source worker crashed."""
    app = make_console(server, tmp_path, silence_timeout=silence_timeout)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        yield pilot
        assert_running(app)


def status(app: FactoryConsoleApp) -> Any:
    return app.store.sources[SOURCE]


async def until(pilot: Any, predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Let the app run until ``predicate()`` holds; fail naming ``what`` (and the source's state) after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            source = pilot.app.store.sources.get(SOURCE)
            seen = f"{source.state} at seq {source.seq}: {source.reason}" if source else "no source"
            raise AssertionError(f"timed out waiting for {what} (source {seen})")
        await pilot.pause(0.01)


async def until_live_at(pilot: Any, seq: int, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    app = pilot.app
    await until(
        pilot,
        lambda: status(app).state == "live" and status(app).seq == seq and bool(app.store.machines),
        f"live at seq {seq}",
        timeout,
    )


async def settle(pilot: Any) -> None:
    """Paint what the store holds now (not after the coalescing delay), then let the screen refresh."""
    pilot.app.flush_changes()
    await pilot.pause()


def assert_running(app: FactoryConsoleApp) -> None:
    """The app runs, and no source worker ended (a crashed source would leave the console silently stale)."""
    assert app.is_running, "the console stopped"
    assert app.return_code is None, f"the console exited with {app.return_code}"
    for worker in app.workers:
        if worker.name.startswith("source:"):
            assert not worker.is_finished, f"{worker.name} ended: {worker.state} {worker.error!r}"


async def assert_responsive(pilot: Any) -> None:
    """A key press is handled: ``f`` (an app binding, on every screen) flips the freeze switch.

    Cheaper than opening help (0.07 s against 0.4 s a case), which keeps 200+ whole-app cases inside the budget.
    """
    app = pilot.app
    before = app.frozen
    await pilot.press("f")
    await until(pilot, lambda: app.frozen is not before, "the freeze key 'f' to be handled", 3)


async def switch_to(pilot: Any, key: str, mode: str) -> None:
    """Press a screen key and wait until that mode is current and painted with the store's data."""
    app = pilot.app
    await pilot.press(key)
    await until(pilot, lambda: app.current_mode == mode, f"mode {mode} after key {key!r}", 3)
    await settle(pilot)


def screen_text(app: FactoryConsoleApp) -> tuple[str, str]:
    """(raw SVG, its text with XML entities decoded and no-break spaces made plain)."""
    svg = app.export_screenshot()
    return svg, html.unescape(svg).replace("\xa0", " ")


def header_line(app: FactoryConsoleApp) -> str:
    """The header bar's text (the source's state in words)."""
    from console.screens.header import StatusHeader

    header = app.screen.query_one(StatusHeader)
    return str(header.render())


_LINK = re.compile(r"<a\s|href\s*=|xlink:href", re.IGNORECASE)


def assert_literal_on_screen(app: FactoryConsoleApp, text: str, *, prefix: int = 8) -> None:
    """``clean(text)`` (at least a distinctive prefix: widgets cut long text) is on screen, inert.

    No link element and no raw escape or C1 control in the export: markup was not interpreted, escapes not passed on.
    """
    svg, shown = screen_text(app)
    cleaned = clean(text)
    head = cleaned[:prefix].strip()
    assert head, f"nothing visible to look for in {text!r}"
    assert head in shown, f"{head!r} (from {cleaned!r}) not on the {type(app.screen).__name__} screen"
    assert not _LINK.search(svg), "a link made it into the screen"
    for bad in ("\x1b", "\x9b", "\x9d", "\x07", "\u202e"):
        assert bad not in shown, f"raw {bad!r} on screen"
