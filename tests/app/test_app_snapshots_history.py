"""History and timeline, pictured (issue 13): the job detail, a machine's timeline and the handover, at 80x24 and
160x48.

Same ground rules as ``test_app_snapshots_oncall.py`` (whose steps these reuse): the simulator is seeded on a stepped
clock, the server clock does not move on its own, the local audit log's wall-clock times are re-dated on the server's
clock, and the header's rate is let fall to 0 before the picture. The story each picture tells is made the same way
every time: the first running job (by id) is rerouted on the server by ``bob`` with a restart (its part in progress
is scrapped), and this console pauses it (or its new machine) with a reason.

Update after an intended change with ``pytest tests/app/test_app_snapshots_history.py --snapshot-update`` and read the
SVGs in ``tests/app/__snapshots__/test_app_snapshots_history/`` before committing them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.conftest import settle, wait_for
from tests.app.test_app_snapshots_oncall import key, opens, pin_local_audit, quiet, scene, to_mode, type_into

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


def first_running_job(app: Any) -> Any:
    return next(j for j in sorted(app.store.jobs.values(), key=lambda j: j.id) if j.status == "running")


async def rerouted_by_bob(pilot: Any) -> None:
    """The first running job moves to the best other machine on the server, restarted: a part is scrapped."""
    app = pilot.app
    server = app.test_server
    job = first_running_job(app)
    app.story_job = job.id
    target = server.call(lambda: next(c for c in server.sim.reroute_candidates(job.id) if not c.blockers).machine_id)
    body = {"machine_id": target, "restart": True, "reason": "spindle noise on the old machine"}
    server.call(lambda: server.sim.execute("job.reroute", job.id, body, "bob", "k-reroute"))
    await wait_for(pilot, lambda: app.store.jobs[job.id].machine_id == target, what="the reroute")
    server.advance(60)  # a minute later, this console pauses it
    await settle(pilot)


async def cursor_on_story_job(pilot: Any) -> None:
    grid = pilot.app.screen.grid
    grid.focus()
    assert grid.move_cursor_to(pilot.app.story_job)
    await pilot.pause()


def story_job_paused(app: Any) -> bool:
    return app.store.jobs[app.story_job].status == "paused"


async def local_audit_pinned(pilot: Any) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: len(app.audit_log.recent(10)) >= 2, what="the local outcome")
    app.clear_notifications()
    pin_local_audit(app)


@pytest.mark.parametrize("size", SIZES)
def test_job_detail(snap_compare, make_app, size: tuple[int, int]) -> None:
    """``enter`` on the Jobs screen: the job's facts (order, design and its sha256, quantity with done and scrapped,
    due, ETA, where it runs and where it ran) and its timeline: created, scrapped on the machine it left, rerouted by
    bob with his reason, paused from this console with a reason."""
    from console.screens.job_detail import JobDetailScreen
    from console.screens.modals import ConfirmAction

    steps = (
        rerouted_by_bob,
        to_mode("2", "jobs"),
        cursor_on_story_job,
        opens("enter", JobDetailScreen),
        opens("p", ConfirmAction),
        type_into("waiting for QA sign-off"),
        key("enter", story_job_paused, "the pause"),
        local_audit_pinned,
        key("escape", lambda app: not isinstance(app.screen, JobDetailScreen), "back to the jobs"),
        opens("enter", JobDetailScreen),
        quiet,
    )
    assert snap_compare(make_app(), terminal_size=size, run_before=scene(*steps))


async def cursor_on_new_machine(pilot: Any) -> None:
    """The dashboard grid's cursor on the machine the story job was rerouted to."""
    from widgets.machine_grid import MachineGrid

    app = pilot.app
    grid = app.screen.query_one("#grid", MachineGrid)
    grid.focus()
    assert grid.move_cursor_to(app.store.jobs[app.story_job].machine_id)
    await pilot.pause()


def new_machine_paused(app: Any) -> bool:
    return app.store.machines[app.store.jobs[app.story_job].machine_id].state == "paused"


@pytest.mark.parametrize("size", SIZES)
def test_machine_timeline(snap_compare, make_app, size: tuple[int, int]) -> None:
    """``T`` on the dashboard: the timeline of the machine the story job was rerouted to, paused from this console a
    minute later with a reason: the command (who, reason, outcome), the state change, its jobs paused, the job that
    came to it."""
    from console.screens.modals import ConfirmAction
    from console.screens.timeline import TimelineScreen

    steps = (
        rerouted_by_bob,
        cursor_on_new_machine,
        opens("p", ConfirmAction),
        type_into("coolant top-up, 10 min"),
        key("enter", new_machine_paused, "the pause"),
        local_audit_pinned,
        opens("T", TimelineScreen),
        quiet,
    )
    assert snap_compare(make_app(), terminal_size=size, run_before=scene(*steps))


@pytest.mark.parametrize("size", SIZES)
def test_handover(snap_compare, make_app, size: tuple[int, int]) -> None:
    """``h`` on the Audit screen with ``shift_start = "06:00"``: since the shift began, what went wrong (alerts
    raised, the scrapped part), what was done (bob's reroute, this console's pause, each with its reason), what is
    still open (alerts by priority, machines blocked or paused, late jobs) and the ISA-18.2 figures."""
    from datetime import time

    from console.screens.audit import AuditScreen
    from console.screens.handover import HandoverScreen
    from console.screens.modals import ConfirmAction

    app = make_app()
    app.settings.shift_start = (time(6, 0),)

    def audit_fetched(app: Any) -> bool:
        return isinstance(app.screen, AuditScreen) and bool(app.screen.fetched)

    steps = (
        rerouted_by_bob,
        cursor_on_new_machine,
        opens("p", ConfirmAction),
        type_into("coolant top-up, 10 min"),
        key("enter", new_machine_paused, "the pause"),
        local_audit_pinned,
        key("7", audit_fetched, "the audit screen"),
        opens("h", HandoverScreen),
        quiet,
    )
    assert snap_compare(app, terminal_size=size, run_before=scene(*steps))
