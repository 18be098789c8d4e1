"""``y`` copies what is under the cursor with OSC 52 (``App.copy_to_clipboard``; Textual keeps the text in
``app.clipboard``): a machine's id on the grid and its detail, a node's on Nodes and its detail, a job's details on
Jobs, the job detail and the dashboard's queue, an alert on Alerts and the dashboard's alert panel, the entry under
the cursor on a timeline.

One console for the whole walk (booting one is the dear part); what each text holds is proven on the models in
``tests/test_copy_text.py``, here only that each screen hands over the right object and says so.
"""

from __future__ import annotations

from typing import Any

from console.screens.job_detail import JobDetailScreen
from console.screens.machine_detail import MachineDetailScreen
from console.screens.node_detail import NodeDetailScreen
from console.screens.timeline import TimelineScreen
from tests.app.conftest import settle, wait_for, wait_ready
from tests.app.test_app_keys import SIZE, focus_machine, grid, machine_in
from widgets.data_grid import DataGrid


def toasts(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def copy(pilot: Any) -> str:
    """Press ``y``; the new toast must say what was copied. New by identity, not by count: an older toast may time
    out in the same moment (a slow, busy machine walks the screens past their timeouts)."""
    app = pilot.app
    app._clipboard = ""
    before = {n.identity for n in app._notifications}
    await pilot.press("y")
    await pilot.pause()
    new = [str(n.message) for n in app._notifications if n.identity not in before]
    assert new, "no toast"
    assert new[-1].startswith("Copied "), new[-1]
    return str(app.clipboard)


def footer_keys(app: Any) -> dict[str, str]:
    return {b.binding.key: b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}


async def test_y_copies_what_is_under_the_cursor_on_every_screen_that_has_one(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        store = app.store
        faulted = machine_in(app, "fault")
        await focus_machine(pilot, faulted.id)
        assert footer_keys(app).get("y") == "Copy"
        assert await copy(pilot) == faulted.id
        assert toasts(app)[-1] == f"Copied machine id {faulted.id} to the clipboard"

        queue = app.screen.query_one("#queue", DataGrid)  # the queue of the machine under the grid's cursor
        await wait_for(pilot, lambda: bool(queue.cursor_key), what="a job in the faulted machine's queue")
        queue.focus()
        await pilot.pause()
        job = store.jobs[queue.cursor_key or ""]
        assert (await copy(pilot)).splitlines()[0] == f"Job {job.id}: {job.part}"

        alerts = app.screen.query_one("#alerts", DataGrid)
        alerts.focus()
        await pilot.pause()
        alert = store.alerts[alerts.cursor_key or ""]
        text = await copy(pilot)
        assert text.startswith(f"Alert {alert.id} {alert.priority} {alert.code}")
        assert alert.message in text

        grid(app).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the machine detail")
        assert await copy(pilot) == faulted.id

        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the timeline")
        await settle(pilot)
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        await wait_for(pilot, lambda: bool(timeline.grid.cursor_key), what="a timeline entry")
        entry = timeline.entries[0]
        text = await copy(pilot)
        assert entry.summary in text and f"({faulted.id}): [" in text
        assert text.startswith(entry.at.strftime("%Y-%m-%d %H:%M:%S UTC"))

        await pilot.press("escape", "escape", "2")
        await settle(pilot)
        jobs = app.screen.query_one("#list", DataGrid)
        job = store.jobs[jobs.cursor_key or ""]
        text = await copy(pilot)
        assert text.splitlines()[0] == f"Job {job.id}: {job.part}"
        assert "Due: " in text and f"Status: {job.status}" in text

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), what="the job detail")
        assert (await copy(pilot)).splitlines()[0] == f"Job {job.id}: {job.part}"

        await pilot.press("escape", "3")
        await settle(pilot)
        alert_id = app.screen.query_one("#list", DataGrid).cursor_key
        assert (await copy(pilot)).startswith(f"Alert {alert_id} ")

        await pilot.press("5")
        await settle(pilot)
        node_id = app.screen.query_one("#list", DataGrid).cursor_key
        assert node_id and await copy(pilot) == node_id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, NodeDetailScreen), what="the node detail")
        assert await copy(pilot) == node_id


async def test_y_with_nothing_under_the_cursor_copies_nothing_and_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("2", "slash", "z", "z", "z", "enter")  # a filter nothing matches: an empty list
        await settle(pilot)
        app._clipboard = "before"
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == "before"
        assert toasts(app)[-1] == "Nothing under the cursor to copy"


async def test_y_is_in_the_palette(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Dashboard: Copy" in titles
