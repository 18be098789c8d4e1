"""Fixtures for driving the whole console against the real simulator over loopback HTTP.

``make_app()`` starts a seeded simulated cluster on a stepped clock (time passes only when a test says so) and builds
a ``FactoryConsoleApp`` pointed at it, with a private audit log, no theme saving and a server clock that does not
move on its own: so a screen shows the same thing on every run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.server_clock import ServerClock
from console.settings import Settings, SourceSpec

SNAPSHOT_WARMUP_S = 900.0


def scenario_config(**overrides: Any) -> Any:
    """The demo's default 6-node scenario, seeded."""
    from console.demo.sim import SimConfig

    options: dict[str, Any] = {"seed": 7}
    options.update(overrides)
    return SimConfig(**options)


@pytest.fixture
def make_app(live_server: Callable[..., Any], tmp_path: Path) -> Iterator[Callable[..., FactoryConsoleApp]]:
    """A factory: ``make_app(read_only=False, theme=..., server=..., token=..., **server_options)``."""

    def make(
        *,
        server: Any = None,
        read_only: bool = False,
        theme: str = "factory-dark",
        token: str | None = None,
        warmup_s: float = SNAPSHOT_WARMUP_S,
        config: Any = None,
        agents: bool = False,
        **server_options: Any,
    ) -> FactoryConsoleApp:
        if server is None:
            if agents:
                server_options["with_agents"] = True
            server = live_server(config=config or scenario_config(), warmup_s=warmup_s, **server_options)
        sources = [SourceSpec("cluster", "cluster", server.url, token=token)]
        if agents:
            for index, (node_id, url) in enumerate(sorted(server.agent_urls.items()), start=1):
                sources.append(SourceSpec(f"agent-{index}", "agent", url, token=token, name=node_id))
        settings = Settings(
            sources=sources,
            read_only=read_only,
            theme=theme,
            save_theme=False,
            refresh_ms=30,
            panel_interval_s=0.0,
        )
        app = FactoryConsoleApp(
            settings,
            demo=server if agents else None,
            audit_log=AuditLog(tmp_path / "audit.jsonl"),
            server_clock=ServerClock(extrapolate=False),
            install_signal_handlers=False,
        )
        app.test_server = server  # type: ignore[attr-defined]
        return app

    yield make


async def wait_for(pilot: Any, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:  # noqa: ASYNC109
    """Let the app run until ``predicate()`` holds; fail with ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.03)


async def wait_ready(pilot: Any) -> None:
    """Until the console is live, knows who we are, and has painted what it loaded."""
    app = pilot.app

    def ready() -> bool:
        status = app.store.sources.get("cluster")
        return bool(status and status.state == "live" and app.store.machines and app.store.whoami)

    await wait_for(pilot, ready, what="the console to be live")
    await settle(pilot)


def _caught_up(app: Any) -> bool:
    """No command of the console is on its way and the store holds every event each live source's feed has sent."""
    if any(w.group == "commands" and not w.is_finished for w in app.workers):
        return False
    server = getattr(app, "test_server", None)
    if server is None:
        return True
    for name, status in app.store.sources.items():
        if status.state != "live":
            continue
        spec = next((s for s in app.settings.sources if s.source_id == name), None)
        if spec is None or spec.kind not in ("cluster", "agent") or (spec.kind == "cluster" and server.cluster_down):
            continue
        feed = server.feed if spec.kind == "cluster" else server.agent_feed(spec.name)
        if (status.seq or 0) < feed.seq:
            return False
    return True


async def settle(pilot: Any) -> None:
    """Let pending events reach the store, then flush them to the screen now (not after the coalescing delay).

    Why by condition, not by a fixed pause: a command in flight and the events its effect makes are waited for
    until the store has caught up with the server's feeds, so the test neither races them nor sleeps longer than
    it takes. A console not live (fault tests) falls back to a short pause."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    await pilot.pause(0.02)
    while not _caught_up(app) and loop.time() < deadline:
        await pilot.pause(0.02)
    if getattr(app, "test_server", None) is None:
        await pilot.pause(0.13)
    app.flush_changes()
    await pilot.pause()
