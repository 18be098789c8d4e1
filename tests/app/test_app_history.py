"""History and timeline (issue 13), against the real simulator over loopback: enter on the Jobs screen opens the job
detail with its facts and where it ran; a reroute made on the server shows in the job's and both machines' history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Label

from console.screens.job_detail import JobDetailScreen
from tests.app.conftest import settle, wait_for, wait_ready

SIZE = (160, 48)


def visible_text(app: Any) -> str:
    """Every line the active screen shows."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def running_job(app: Any) -> Any:
    return next(j for j in sorted(app.store.jobs.values(), key=lambda j: j.id) if j.status == "running")


async def test_enter_on_the_jobs_screen_opens_the_job_detail(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        job = running_job(app)
        grid = app.screen.grid
        assert grid.move_cursor_to(job.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), what="the job detail")
        await settle(pilot)
        text = visible_text(app)
        assert f"order {job.order_id}" in text and job.design.sha256 in text and job.design.file in text
        assert f"Quantity {job.quantity}: {job.done_qty} done, {job.scrap_qty} scrapped" in text
        assert f"on {app.store.machines[job.machine_id].name} ({job.machine_id})" in text
        assert "created: " in text  # its first timeline entry
        await pilot.press("m")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MachineDetailScreen", what="its machine")
        assert app.screen.machine_id == job.machine_id
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), what="back to the job")


async def test_a_reroute_shows_where_the_job_ran(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        server = app.test_server
        job = running_job(app)
        old = job.machine_id
        target = server.call(
            lambda: next(c for c in server.sim.reroute_candidates(job.id) if not c.blockers).machine_id
        )
        body = {"machine_id": target, "restart": True, "reason": "spindle noise"}
        server.call(lambda: server.sim.execute("job.reroute", job.id, body, "bob", "k-reroute"))
        await wait_for(pilot, lambda: app.store.jobs[job.id].machine_id == target, what="the reroute")
        await settle(pilot)
        app.push_screen(JobDetailScreen(job.id))
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), what="the job detail")
        await settle(pilot)
        text = visible_text(app)
        assert f"Ran on: {old} until " in text and f"→ {target} (node " in text
        assert f"rerouted {old}" in text and f"→ {target} (node " in text and "scrapped 1 (scrap" in text
        assert "job.reroute: applied, reason: spindle noise" in text and "bob" in text


def exported(app: Any) -> tuple[Path, tuple[int, int], str]:
    """The file the export toast names: its path, its and its folder's modes, its text."""
    message = next(str(n.message) for n in app._notifications if "exported to" in str(n.message))
    path = Path(message.split("exported to ", 1)[1].strip())
    modes = (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777)
    return path, modes, path.read_text(encoding="utf-8")


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


async def test_pause_a_machine_with_a_reason_then_its_timeline_shows_who_and_why_and_exports(
    make_app, monkeypatch, tmp_path
) -> None:
    """``p`` with a reason on the dashboard, then ``T``: the command with who, the reason and the outcome, the state
    change with who paused it; ``/`` narrows the list; ``e`` writes the Markdown file the toast names, 0600 in a
    0700 folder under the user data dir, the reason in it; ``enter`` on the job's row opens the job."""
    from console.screens.modals import ConfirmAction
    from console.screens.timeline import TimelineScreen
    from widgets.machine_grid import MachineGrid

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        machine = next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == "running")
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(machine.id)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmAction), what="the pause dialog")
        await type_text(pilot, "nozzle check")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "paused", what="the pause")
        await wait_for(pilot, lambda: bool(app.store.audit), what="the server's audit entry")
        await settle(pilot)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the timeline")
        await settle(pilot)
        screen = app.screen
        assert (screen.kind, screen.subject_id) == ("machine", machine.id)
        text = visible_text(app)
        assert "machine.pause: applied, reason: nozzle check" in text
        assert "running → paused: paused by demo: nozzle check" in text and f"job {machine.job_id} paused" in text
        command = next(e for e in screen.entries if e.kind == "command")
        assert command.who == "demo" and command.ref == ("machine", machine.id)
        await pilot.press("slash")
        await type_text(pilot, "pause applied")
        await pilot.press("enter")
        await settle(pilot)
        assert [e.kind for e in screen.entries] == ["command"]
        app.clear_notifications()
        await pilot.press("e")
        await wait_for(pilot, lambda: any("exported to" in str(n.message) for n in app._notifications), what="toast")
        path, modes, markdown = exported(app)
        assert path.parent == tmp_path / "data" / "factory-console" / "exports"
        assert path.name.startswith(f"timeline-machine-{machine.id}-2026") and modes == (0o600, 0o700)
        assert markdown.startswith(f"# Timeline: Machine {machine.name} ({machine.id})")
        assert "machine.pause: applied, reason: nozzle check" in markdown and "filter `pause applied`" in markdown
        await pilot.press("escape")  # clears the filter
        await settle(pilot)
        job_key = next(e.key for e in screen.entries if e.ref == ("job", machine.job_id))
        screen.grid.move_cursor_to(job_key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), what="the job's detail")
        assert app.screen.job_id == machine.job_id


async def test_the_handover_from_the_audit_screen_with_a_since_and_its_markdown(
    make_app, monkeypatch, tmp_path
) -> None:
    """``h`` on the Audit screen: the handover lists this console's pause with who and why, the blocked machines,
    the active alerts; ``s`` with ``-30m`` moves its start; ``e`` writes the Markdown file the toast names."""
    from console.screens.handover import HandoverScreen, SinceInput
    from console.screens.modals import ConfirmAction
    from widgets.machine_grid import MachineGrid

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        machine = next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == "running")
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(machine.id)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmAction), what="the pause dialog")
        await type_text(pilot, "handover check")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "paused", what="the pause")
        await wait_for(pilot, lambda: bool(app.store.audit), what="the server's audit entry")
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HandoverScreen), what="the handover")
        await settle(pilot)
        screen = app.screen
        text = visible_text(app)
        assert "What went wrong" in text and "What was done" in text and "What is still open" in text
        assert f"machine.pause machine {machine.id}: applied, reason: handover check (demo)" in text
        assert "the last 8 hours (no shift_start in the config file)" in text
        now = app.server_clock.now()
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.focused, SinceInput), what="the since input")
        await type_text(pilot, "-30m")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.handover.since == now - timedelta(minutes=30)
        assert "since " in visible_text(app) and "(-30m)" in visible_text(app)
        app.clear_notifications()
        await pilot.press("e")
        await wait_for(pilot, lambda: any("exported to" in str(n.message) for n in app._notifications), what="toast")
        path, modes, markdown = exported(app)
        assert path.parent == tmp_path / "data" / "factory-console" / "exports" and path.name.startswith("handover-")
        assert modes == (0o600, 0o700)
        assert markdown.startswith("# Handover: North of England micro")
        assert f"machine.pause machine {machine.id}: applied, reason: handover check (demo)" in markdown
        assert "## ISA-18.2 alarm figures" in markdown and "Written by demo" in markdown


async def test_t_reaches_the_timeline_from_the_dashboard_panels_and_the_nodes_and_enter_opens_an_alert(
    make_app,
) -> None:
    """``T`` on the dashboard: the machine under the grid's cursor (a faulted one: ``enter`` on its alert's row opens
    the alert's detail), the job under the queue's; ``T`` on the Nodes screen: the node."""
    from console.screens.alert_detail import AlertDetail
    from console.screens.dashboard import DashboardScreen
    from console.screens.timeline import TimelineScreen
    from widgets.machine_grid import MachineGrid

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        faulted = next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == "fault")
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(faulted.id)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the machine's timeline")
        await settle(pilot)
        timeline = app.screen
        assert (timeline.kind, timeline.subject_id) == ("machine", faulted.id)
        alert_row = next(e for e in timeline.entries if e.kind == "alert")
        assert alert_row.summary.startswith("raised ")
        timeline.grid.move_cursor_to(alert_row.key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertDetail), what="the alert's detail")
        assert app.screen.alert_id == alert_row.ref[1]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is timeline, what="back to the timeline")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="back to the dashboard")
        await settle(pilot)
        queue = app.screen.queue
        queue.focus()
        await settle(pilot)
        job_id = queue.cursor_key
        assert job_id
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the job's timeline")
        assert (app.screen.kind, app.screen.subject_id) == ("job", job_id)
        await pilot.press("escape")
        await pilot.press("5")
        await settle(pilot)
        node_id = app.screen.grid.cursor_key
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the node's timeline")
        assert (app.screen.kind, app.screen.subject_id) == ("node", node_id)


async def test_a_timeline_of_one_entry_says_one_entry(make_app: Any) -> None:
    """A job just queued has one entry, its creation: the title said '1 entries'."""
    from console.screens.timeline import TimelineScreen
    from console.timeline_view import subject_entries

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        now = app.server_clock.now()
        lone = next(
            j.id
            for j in sorted(app.store.jobs.values(), key=lambda j: j.id)
            if len(subject_entries(app.store, "job", j.id, now=now)) == 1
        )
        app.push_screen(TimelineScreen("job", lone))
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the job's timeline")
        await settle(pilot)
        title = str(app.screen.query_one("#timeline-title", Label).content)
        assert ": 1 entry, newest first" in title, title
