"""Dialogs tell the truth by shape and by name: resume asks and says what restarts, buttons say what they do,
toggles change shape, reroute explains its figures and says where the job went, help speaks the operator's words."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, DataTable, Input, Static

from console.screens.base import FilterInput
from console.screens.help import HelpScreen
from console.screens.modals import ConfirmAction, ShapeCheckbox, ShapeRadioButton
from console.screens.reroute import RerouteDialog
from console.store.query import HELP
from tests.app.conftest import settle, wait_for, wait_ready
from tests.widgets.harness import screen_lines
from widgets.data_grid import DataGrid
from widgets.machine_grid import MachineGrid

SIZE = (160, 48)


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


def machine_in(app: Any, state: str) -> Any:
    return next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == state and m.job_id)


def effects(dialog: Any) -> str:
    return str(dialog.query_one("#effects", Static).render())


async def test_resume_asks_for_a_reason_and_names_what_restarts(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        machine = machine_in(app, "running")
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(machine.id)
        await pilot.press("p")
        await pilot.pause()
        pause = app.screen
        assert isinstance(pause, ConfirmAction)
        # The radio choice shows by shape: the chosen one (*), the other ( ).
        radios = list(pause.query(ShapeRadioButton))
        assert [r._button.plain for r in radios] == ["(*)", "( )"]
        assert "(*) Pause now" in "\n".join(screen_lines(app))
        await type_text(pilot, "operator check")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "paused", what="the machine to pause")
        await settle(pilot)
        assert grid.move_cursor_to(machine.id)
        await pilot.press("p")  # a stray p no longer restarts production: it asks
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmAction)
        text = effects(dialog)
        assert f"({machine.id}) (paused by demo: operator check) resumes; its job {machine.job_id}" in text
        assert "continues" in text
        assert [b.label.plain for b in dialog.query(Button)] == ["Keep paused", "Resume"]
        await pilot.press("enter")  # no reason: refused
        await pilot.pause()
        assert app.screen is dialog
        assert app.store.machines[machine.id].state == "paused"
        await type_text(pilot, "checked ok")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "running", what="the machine to resume")
        entries = [e for e in app.audit_log.recent(10) if e["action"] == "machine.resume"]
        assert entries and all(e.get("body", {}).get("reason", "checked ok") == "checked ok" for e in entries)


async def test_job_resume_asks_and_cancel_buttons_say_keep_or_cancel(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        jobs = app.screen.query_one("#list", DataGrid)
        running = next(j for j in sorted(app.store.jobs.values(), key=lambda j: j.id) if j.status == "running")
        jobs.move_cursor_to(running.id)
        await pilot.press("p")
        await pilot.pause()
        await type_text(pilot, "check part")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.jobs[running.id].status == "paused", what="the job to pause")
        await settle(pilot)
        jobs.move_cursor_to(running.id)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmAction), "resuming a job asks first"
        assert f"{running.id} (" in effects(dialog) and "continues on" in effects(dialog)
        await pilot.press("escape")
        await pilot.pause()
        assert app.store.jobs[running.id].status == "paused"
        jobs.move_cursor_to(running.id)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmAction)
        assert [b.label.plain for b in dialog.query(Button)] == ["Keep job(s)", "Cancel job(s)"]
        await pilot.press("escape")


async def test_reroute_explains_its_figures_shows_reasons_whole_and_says_where_the_job_went(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        jobs = app.screen.query_one("#list", DataGrid)
        job = next(j for j in sorted(app.store.jobs.values(), key=lambda j: j.id) if j.status == "running")
        assert jobs.move_cursor_to(job.id)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RerouteDialog), what="the reroute dialog")
        dialog = app.screen
        await pilot.pause()
        shown = "\n".join(screen_lines(app))
        assert f"Due {job.due_at.strftime('%H:%M')}" in shown and "ETA where it is now" in shown
        assert "Score: the server's ranking" in shown and "Delivery: distance" in shown
        # The highlighted candidate's reasons, every one in full, on the detail line.
        table = dialog.query_one("#candidates", DataTable)
        free = [c for c in dialog.candidates if not c.blocked]
        table.move_cursor(row=1 + dialog.candidates.index(free[0]))
        await pilot.pause()
        detail = str(dialog.query_one("#detail", Static).render())
        for reason in free[0].reasons:
            assert reason in detail
        # The restart box shows its state by shape.
        box = dialog.query_one("#restart", ShapeCheckbox)
        assert box._button.plain == "[ ]"
        box.value = True
        await pilot.pause()
        assert box._button.plain == "[x]"
        assert "[x] Restart the job" in "\n".join(screen_lines(app))
        table.move_cursor(row=0)
        dialog.query_one("#reason", Input).focus()
        await type_text(pilot, "balance load")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not dialog

        def went() -> list[str]:
            return [n.message for n in app._notifications if " went to " in n.message]

        await wait_for(pilot, lambda: bool(went()), what="the toast saying where the job went")
        moved = app.store.jobs[job.id]
        machine = app.store.machines[moved.machine_id]
        node = app.store.nodes[machine.node_id]
        assert went()[0] == f"{job.id} went to {machine.name} ({machine.id}) on {node.name} ({node.id})"


async def test_help_names_places_as_people_read_them_and_shows_the_filter_syntax(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        places = {where for _keys, _description, where in help_screen.rows}
        assert {"Dashboard", "Everywhere", "Machine grid"} <= places
        assert not any(p.endswith(("Screen", "Grid", "App")) or p[:1].islower() for p in places), places
        shown = "\n".join(screen_lines(app))
        assert "DashboardScreen" not in shown and "MachineGrid" not in shown
        await pilot.press("slash")
        await pilot.pause()
        shown = "\n".join(screen_lines(app))
        assert HELP.splitlines()[0] in shown and "Filter syntax" in shown
        await pilot.press("escape")
        await pilot.pause()
        # Opened while the filter input has focus, help shows the syntax first; typing ? there is just a ?.
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen.focused, FilterInput)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.focused.value == "?"
        await pilot.press("f1")  # the key for help from inside a filter box
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.screen.topic == "filter"
