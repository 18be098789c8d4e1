"""``make screenshots``: SVG pictures of the console against the seeded simulator, for the README.

``python -m console.screenshots DIR`` writes ``DIR/<shot>.svg``: the dashboard mid-incident (160x48 and 80x24), the
main screens, the reroute dialog on the faulted machine whose job is overdue, and failover to the node agents with
the cluster API down. The simulator opens mid-shift (``SimConfig.opening_scene``: the shift's first hour played, a
fault, a blocked and a paused machine, alerts acked with notes and shelved, a rush order in the backlog, control
charts breaking rules) on a stepped clock with a fixed seed, and is then stepped as the live demo would run for two
seconds before each picture, so the header shows the event rate. The pictures change when the console or the
simulation does (and the header's events per second by a few from run to run: it is measured on the wall clock).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEED = 20.0  # simulated seconds per wall second, as the live demo runs
FEED_S = 2.2  # wall seconds of live feed before a picture (the header's events per second needs a full second)

Step = Callable[[Any, Any], Awaitable[None]]  # (pilot, server) -> None


@dataclass(frozen=True)
class Shot:
    name: str
    size: tuple[int, int]
    keys: tuple[str, ...] = ()
    before: Step | None = None  # run after the app is live, before the keys
    agents: bool = False


def _incident_machine(app: Any) -> Any:
    """The machine of the incident: in fault with its job overdue (the reroute's case), else with an alert nobody
    answered, else any in fault with a job."""
    store = app.store
    now = app.server_clock.now()
    unanswered = {
        a.source.id
        for a in store.alerts.values()
        if a.state == "active_unacked" and a.source.kind == "machine" and a.priority in ("critical", "high")
    }

    def rank(machine: Any) -> tuple[bool, bool, str]:
        job = store.jobs.get(machine.job_id)
        overdue = job is not None and now is not None and job.due_at < now
        return (not overdue, machine.id not in unanswered, machine.id)

    faulted = [m for m in store.machines.values() if m.state == "fault" and m.job_id]
    return min(faulted, key=rank) if faulted else None


async def _cursor_on_incident(pilot: Any, server: Any) -> None:
    from widgets.machine_grid import MachineGrid

    machine = _incident_machine(pilot.app)
    if machine is None:
        return
    grid = pilot.app.screen.query_one("#grid", MachineGrid)
    grid.focus()
    grid.move_cursor_to(machine.id)
    await pilot.pause(0.1)


async def _cursor_on_paused(pilot: Any, server: Any) -> None:
    """The machine an operator paused with a reason in the opening scene: its timeline tells who, why and since when."""
    from widgets.machine_grid import MachineGrid

    paused = sorted(m.id for m in pilot.app.store.machines.values() if m.state == "paused" and m.paused_by)
    if not paused:
        return
    grid = pilot.app.screen.query_one("#grid", MachineGrid)
    grid.focus()
    grid.move_cursor_to(paused[0])
    await pilot.pause(0.1)


async def _cluster_down(pilot: Any, server: Any) -> None:
    """``D``: the demo takes the cluster API down; wait until every node is served by its own agent."""
    app = pilot.app
    for _ in range(200):
        if all(app.store.source_state(s) == "live" for s in app.store.sources):
            break
        await pilot.pause(0.05)
    await pilot.press("D")
    for _ in range(400):
        nodes = list(app.store.nodes)
        if nodes and all((app.store.node_source(n) or "").startswith("agent-") for n in nodes):
            break
        await pilot.pause(0.05)
    await _cursor_on_incident(pilot, server)


SHOTS: list[Shot] = [
    Shot("dashboard", (160, 48), before=_cursor_on_incident),
    Shot("dashboard-80x24", (80, 24), before=_cursor_on_incident),
    Shot("reroute", (160, 48), ("r",), before=_cursor_on_incident),
    Shot("failover", (160, 48), before=_cluster_down, agents=True),
    Shot("jobs", (160, 48), ("2",)),
    Shot("alerts", (160, 48), ("3",)),
    Shot("quality", (160, 48), ("4",)),
    Shot("nodes", (160, 48), ("5",)),
    Shot("audit", (160, 48), ("7",)),
    Shot("help", (160, 48), ("question_mark",)),
    Shot("timeline", (160, 48), ("T",), before=_cursor_on_paused),
    Shot("alert-history", (160, 48), ("3", "H")),
    Shot("handover", (160, 48), ("7", "h")),
    Shot("replay", (160, 48)),
]


async def _feed(server: Any, seconds: float) -> None:
    """Step the simulation as the live demo would (``SPEED`` simulated seconds per wall second), off the UI loop."""
    for _ in range(round(seconds / 0.1)):
        await asyncio.to_thread(server.advance, SPEED * 0.1)
        await asyncio.sleep(0.1)


async def _shoot_replay(server: Any, shot: Shot, log_dir: Path) -> str:
    """Record the demo live for a while (``--record``), then replay the recording paused half-way through it."""
    from console.app import FactoryConsoleApp
    from console.audit_log import AuditLog
    from console.recording.ring import RecordingSpec
    from console.server_clock import ServerClock
    from console.settings import Settings, SourceSpec

    path = log_dir / "replay.sqlite"
    settings = Settings(sources=[SourceSpec("cluster", "cluster", server.url)], save_theme=False, refresh_ms=30)
    settings.recording = RecordingSpec(file=path)
    live = FactoryConsoleApp(
        settings, audit_log=AuditLog(log_dir / "audit.jsonl"), server_clock=ServerClock(), install_signal_handlers=False
    )
    async with live.run_test(size=shot.size) as pilot:
        for _ in range(300):
            if live.store.source_state("cluster") == "live" and live.store.machines:
                break
            await pilot.pause(0.05)
        await _feed(server, 4 * FEED_S)
    replay_settings = Settings(
        sources=[SourceSpec("replay", "replay", str(path))], read_only=True, save_theme=False, refresh_ms=30
    )
    app = FactoryConsoleApp(
        replay_settings, audit_log=AuditLog(log_dir / "replay-audit.jsonl"), install_signal_handlers=False
    )
    async with app.run_test(size=shot.size) as pilot:
        for _ in range(300):
            if app.store.machines and getattr(app.session, "playback", None) is not None:
                break
            await pilot.pause(0.05)
        playback: Any = app.session.playback  # the replay source's player (play, seek, start, end)
        playback.play(False)
        playback.seek(playback.start + (playback.end - playback.start) / 2)
        await pilot.pause(0.5)
        app.flush_changes()
        await pilot.pause(0.2)
        return app.export_screenshot(title=f"factory-console: {shot.name}")


async def _shoot(server: Any, shot: Shot, log_dir: Path) -> str:
    from console.app import FactoryConsoleApp
    from console.audit_log import AuditLog
    from console.server_clock import ServerClock
    from console.settings import Settings, SourceSpec

    sources = [SourceSpec("cluster", "cluster", server.url)]
    for index, (node_id, url) in enumerate(sorted(server.agent_urls.items()), start=1):
        sources.append(SourceSpec(f"agent-{index}", "agent", url, name=node_id))
    settings = Settings(sources=sources, save_theme=False, refresh_ms=30)
    settings.demo = True
    app = FactoryConsoleApp(
        settings,
        demo=server,
        audit_log=AuditLog(log_dir / "audit.jsonl"),
        server_clock=ServerClock(extrapolate=False),
        install_signal_handlers=False,
    )
    async with app.run_test(size=shot.size) as pilot:
        for _ in range(300):
            status = app.store.sources.get("cluster")
            if status and status.state == "live" and app.store.machines:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        app.flush_changes()
        if shot.before is not None:
            await shot.before(pilot, server)
        for key in shot.keys:
            await pilot.press(key)
            await pilot.pause(0.1)
            app.flush_changes()
        await _feed(server, FEED_S)
        app.flush_changes()
        await pilot.pause(0.2)
        return app.export_screenshot(title=f"factory-console: {shot.name}")


def main(argv: list[str]) -> int:
    from console.demo.embedded import start_demo
    from console.demo.sim import SimConfig
    from console.demo.sim.clock import DEFAULT_START, SteppedClock

    out = Path(argv[0] if argv else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(argv[1:])
    with tempfile.TemporaryDirectory() as log_dir:
        for shot in SHOTS:
            if wanted and shot.name not in wanted:
                continue
            # Mid-shift at the first snapshot, on a stepped clock: every run draws the same story.
            config = SimConfig(seed=7, speed=SPEED, opening_scene=True)
            server = start_demo(config, clock=SteppedClock(DEFAULT_START), with_agents=shot.agents)
            try:
                shoot = _shoot_replay if shot.name == "replay" else _shoot
                svg = asyncio.run(shoot(server, shot, Path(log_dir)))
                (out / f"{shot.name}.svg").write_text(svg, encoding="utf-8")
            finally:
                server.stop()
            print(f"wrote {out / (shot.name + '.svg')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
