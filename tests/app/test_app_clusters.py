"""Several clusters in one console (issue 16, docs/multi-cluster.md), against two real simulators over loopback.

Both simulators tell the same story shape (the same node and machine ids), so every id collides: the console shows
both clusters' machines apart (``north/M-…``, ``south/M-…``), a pause on a machine of the second cluster lands on
that cluster's server (read back from its simulation, not from the console), and a cluster taken down goes stale
alone. The dashboard with two clusters is a snapshot (the header names each cluster's connection; the node strip
groups nodes by cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.server_clock import ServerClock
from console.settings import Settings, SourceSpec
from tests.app.conftest import wait_for
from tests.app.test_app_keys import SIZE, focus_machine, grid, header_text, type_text
from tests.app.test_app_snapshots import freeze
from tests.demo_server import test_config

NAMES = ("north", "south")


@pytest.fixture
def two_clusters(live_server: Callable[..., Any], tmp_path: Path) -> Iterator[Callable[..., FactoryConsoleApp]]:
    def make(stale_after_s: float = 30.0) -> FactoryConsoleApp:
        # Keep-alives every 0.2 s keep a quiet stream live under a short ``stale_after_s`` (a down cluster is
        # stale after it, without the test waiting 30 s).
        servers = [live_server(config=test_config(seed), warmup_s=600, keepalive_s=0.2) for seed in (7, 8)]
        sources = [
            SourceSpec(name, "cluster", server.url, cluster=name) for name, server in zip(NAMES, servers, strict=True)
        ]
        settings = Settings(
            sources=sources,
            save_theme=False,
            refresh_ms=30,
            panel_interval_s=0.0,
            stale_after_s=stale_after_s,
        )
        app = FactoryConsoleApp(
            settings,
            audit_log=AuditLog(tmp_path / "audit.jsonl"),
            server_clock=ServerClock(extrapolate=False),
            install_signal_handlers=False,
        )
        app.servers = dict(zip(NAMES, servers, strict=True))  # type: ignore[attr-defined]
        return app

    yield make


def _caught_up(app: Any) -> bool:
    """Both clusters live, every event their feeds sent applied, no command on its way."""
    if any(w.group == "commands" and not w.is_finished for w in app.workers):
        return False
    for name, server in app.servers.items():
        status = app.store.sources.get(name)
        if status is None or status.state != "live" or (status.seq or 0) < server.feed.seq:
            return False
    return bool(app.store.whoami)


async def settle(pilot: Any) -> None:
    await wait_for(pilot, lambda: _caught_up(pilot.app), what="both clusters caught up")
    pilot.app.flush_changes()
    await pilot.pause()


async def test_two_clusters_commands_and_staleness(two_clusters: Callable[..., FactoryConsoleApp]) -> None:
    app = two_clusters(stale_after_s=1.5)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        store = app.store
        north = {m for m in store.machines if m.startswith("north/")}
        south = {m for m in store.machines if m.startswith("south/")}
        assert north and south and len(north) == len(south) == len(store.machines) // 2
        assert {m.split("/", 1)[1] for m in north} == {m.split("/", 1)[1] for m in south}  # every id collides
        assert set(grid(app).machine_ids) == north | south
        text = header_text(app)
        assert "2 clusters" in text and "north ● live" in text and "south ● live" in text

        # A pause on a machine of the second cluster lands on that cluster's server, and only there.
        machine_id = next(m for m in sorted(south) if store.machines[m].state == "running")
        server_id = machine_id.split("/", 1)[1]
        north_before = app.servers["north"].call(lambda: app.servers["north"].sim.machine(server_id).state)
        await focus_machine(pilot, machine_id)
        await pilot.press("p")
        await pilot.pause()
        await type_text(pilot, "check the second cluster")
        await pilot.press("enter")
        await wait_for(pilot, lambda: store.machines[machine_id].state == "paused", what="the pause's event")
        south_server = app.servers["south"]
        assert south_server.call(lambda: south_server.sim.machine(server_id).state) == "paused"
        assert app.servers["north"].call(lambda: app.servers["north"].sim.machine(server_id).state) == north_before
        outcome = [r for r in app.audit_log.recent(10) if r.get("phase") == "outcome"][-1]
        assert outcome["source"] == "south" and outcome["outcome"] == "applied"

        # The second cluster goes down: its machines are stale, the first cluster's are not.
        south_server.set_cluster_down(True)
        await wait_for(pilot, lambda: store.source_state("south") == "stale", what="south stale")
        await pilot.pause()
        app.flush_changes()
        await wait_for(pilot, lambda: grid(app).stale_ids == south, what="only south's machines stale")
        assert store.source_state("north") == "live"
        assert "south ◌ stale" in header_text(app)

        # `/cluster:` narrows the grid to one cluster.
        await pilot.press("/")
        await type_text(pilot, "cluster:north")
        await pilot.press("enter")
        await pilot.pause()
        app.flush_changes()
        await wait_for(pilot, lambda: set(grid(app).machine_ids) == north, what="the filter to show north only")


def test_dashboard_with_two_clusters(snap_compare: Any, two_clusters: Callable[..., FactoryConsoleApp]) -> None:
    app = two_clusters()

    async def run_before(pilot: Any) -> None:
        pilot.app.animation_level = "none"
        await settle(pilot)
        # Receipt rates fall back to 0 ev/s a second after the snapshots (the stepped simulators send nothing more).
        await wait_for(
            pilot,
            lambda: all(s.events_per_second() == 0 for s in pilot.app.store.sources.values()),
            what="quiet streams",
        )
        # The cursor stays on the machine it was on when the other cluster's machines arrive, and which cluster's
        # snapshot is drawn first (at once, since f4e67a9) is a race between the two sources: put it on the first.
        await pilot.press("home")
        await settle(pilot)
        freeze(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
