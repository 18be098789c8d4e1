"""Every key of the console, driven with Pilot against the simulated cluster over loopback HTTP.

Effects are checked in the store, i.e. as they come back on the event stream: the console never paints a command's
effect before the server says it happened.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, RadioSet

from console.screens.base import FilterInput
from console.screens.header import StatusHeader
from console.screens.help import HelpScreen
from console.screens.machine_detail import MachineDetailScreen
from console.screens.modals import ConfirmAction, ConfirmQuit, NoteDialog, ShelveDialog
from console.screens.reroute import RerouteDialog
from tests.app.conftest import settle, wait_for, wait_ready
from widgets.data_grid import DataGrid
from widgets.machine_grid import MachineGrid

SIZE = (160, 48)


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


def grid(app: Any) -> MachineGrid:
    return app.screen.query_one("#grid", MachineGrid)


def header_text(app: Any) -> str:
    return str(app.screen.query_one(StatusHeader).render())


def machine_in(app: Any, state: str) -> Any:
    return next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == state)


async def focus_machine(pilot: Any, machine_id: str) -> None:
    g = grid(pilot.app)
    g.focus()
    assert g.move_cursor_to(machine_id)
    await pilot.pause()


async def test_dashboard_shows_the_live_cluster(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert grid(app).row_count == len(app.store.machines) == 120
        text = header_text(app)
        assert "North of England" in text
        assert "cluster ● live" in text
        assert "demo (supervisor)" in text
        assert "08:15 UTC" in text


async def test_arrows_and_hjkl_move_enter_drills_down_escape_goes_back(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        g = grid(app)
        assert g.cursor_index == 0
        await pilot.press("down")
        after_down = g.cursor_index
        assert after_down > 0
        await pilot.press("k")
        assert g.cursor_index == 0
        await pilot.press("l")
        assert g.cursor_index == 1
        await pilot.press("h")
        assert g.cursor_index == 0
        await pilot.press("j")
        assert g.cursor_index == after_down
        machine_id = g.cursor_id
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MachineDetailScreen)
        assert app.screen.machine_id == machine_id
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, MachineDetailScreen)
        assert grid(app).cursor_id == machine_id


async def test_number_keys_switch_screens(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        for key, mode in (("2", "jobs"), ("3", "alerts"), ("4", "quality"), ("5", "nodes"), ("1", "dashboard")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
        await pilot.press("2")
        await settle(pilot)
        jobs = app.screen.query_one("#list", DataGrid)
        assert jobs.row_count == len(app.store.jobs)


async def test_filter_narrows_the_grid_stays_visible_and_escape_clears(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput)
        # Typing in the input never triggers screen keys: `p` would open the pause dialog.
        await type_text(pilot, "state:blocked p")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmAction)
        await pilot.press("backspace", "backspace")
        await pilot.press("enter")
        await pilot.pause()
        g = grid(app)
        blocked = {m.id for m in app.store.machines.values() if m.state == "blocked"}
        assert blocked and set(g.machine_ids) == blocked
        assert app.screen.query_one("#filter-bar").has_class("-shown")
        assert isinstance(app.focused, MachineGrid)
        # Combined terms: free text and a node.
        await pilot.press("slash")
        app.screen.query_one(FilterInput).value = ""
        await type_text(pilot, "node:leeds kind:cnc")
        await pilot.pause()
        assert g.machine_ids
        assert all(
            m.node_id == "N-LEEDS" and m.kind.startswith("cnc") for m in map(app.store.machines.get, g.machine_ids)
        )
        await pilot.press("escape")
        await pilot.pause()
        assert g.row_count == len(app.store.machines)
        assert not app.screen.query_one("#filter-bar").has_class("-shown")


async def test_sort_cycles_and_reverses(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        g = grid(app)
        assert app.screen.sort_key == "state"  # abnormal first by default
        by_state = list(g.machine_ids)
        first = app.store.machines[by_state[0]]
        assert first.state in ("fault", "blocked", "offline")
        await pilot.press("O")
        assert list(g.machine_ids) == list(reversed(by_state))
        await pilot.press("O", "o")
        assert app.screen.sort_key == "node"
        assert list(g.machine_ids) != by_state


async def test_space_marks_and_u_clears(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        g = grid(app)
        first = g.cursor_id
        await pilot.press("space", "l", "space")
        assert app.screen.marked == {first, g.cursor_id}
        assert g.marked == app.screen.marked
        await pilot.press("u")
        assert app.screen.marked == set()


async def test_freeze_stops_the_view_not_the_data(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f")
        await pilot.pause()
        assert app.frozen
        assert "FROZEN" in header_text(app)
        g = grid(app)
        shown_before = {i: g.get_machine(i) for i in g.machine_ids}
        seq_before = app.store.sources["cluster"].seq
        app.test_server.advance(120)
        await wait_for(pilot, lambda: app.store.sources["cluster"].seq > seq_before + 50, what="events to flow")
        await settle(pilot)
        changed = [i for i, m in shown_before.items() if app.store.machines[i] != m]
        assert changed, "the simulation changed nothing in two minutes"
        assert all(g.get_machine(i) is shown_before[i] for i in changed)
        await pilot.press("f")
        await settle(pilot)
        assert not app.frozen
        assert "FROZEN" not in header_text(app)
        assert all(g.get_machine(i) == app.store.machines[i] for i in changed)


async def test_help_lists_the_screens_keys_from_its_bindings(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {description: keys for keys, description, _where in app.screen.rows}
        assert rows["Pause/Resume"] == "p"
        assert rows["Filter"] == "/"
        assert rows["Jobs"] == "2"
        assert rows["Freeze"] == "f"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits_and_asks_first_while_a_command_is_in_flight(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        app.commands_service.in_flight = 1
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmQuit)
        app.commands_service.in_flight = 0
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_pause_now_needs_a_reason_and_the_effect_comes_from_the_stream(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        machine = machine_in(app, "running")
        await focus_machine(pilot, machine.id)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmAction)
        effects = str(dialog.query_one("#effects").render())
        assert machine.id in effects and (machine.job_id or "") in effects
        await pilot.press("enter")  # no reason yet: refused
        await pilot.pause()
        assert app.screen is dialog
        await type_text(pilot, "nozzle check")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "paused", what="the machine to pause")
        assert app.store.machines[machine.id].paused_by == "demo"
        job = app.store.jobs[machine.job_id]
        assert job.status == "paused"
        await settle(pilot)
        assert grid(app).get_machine(machine.id).state == "paused"
        # p on a paused machine asks too, with a reason, and names what restarts.
        await pilot.press("p")
        await pilot.pause()
        resume = app.screen
        assert isinstance(resume, ConfirmAction)
        assert machine.id in str(resume.query_one("#effects").render())
        await pilot.press("enter")  # no reason yet: refused
        await pilot.pause()
        assert app.screen is resume
        await type_text(pilot, "checked")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "running", what="the machine to resume")
        entries = app.audit_log.recent(10)
        assert [e["action"] for e in entries if e["phase"] == "outcome"][-2:] == ["machine.pause", "machine.resume"]
        assert all(e["outcome"] == "applied" for e in entries if e["phase"] == "outcome")


async def test_pause_after_job_drains(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        machine = machine_in(app, "running")
        await focus_machine(pilot, machine.id)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        radio = dialog.query_one(RadioSet)
        radio.focus()
        await pilot.press("down", "enter")
        dialog.query_one(Input).focus()
        await type_text(pilot, "end of shift")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].draining, what="the machine to drain")
        assert app.store.machines[machine.id].state == "running"


async def test_c_confirms_a_blocked_machine_is_clear(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        machine = machine_in(app, "blocked")
        await focus_machine(pilot, machine.id)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        await type_text(pilot, "bed cleared")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state != "blocked", what="the machine to be ready")
        # On a machine that is not blocked, c only says why not.
        running = machine_in(app, "running")
        await focus_machine(pilot, running.id)
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, NoteDialog)


async def test_n_drains_and_resumes_the_node(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        machine = machine_in(app, "running")
        await focus_machine(pilot, machine.id)
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmAction)
        assert machine.node_id in str(dialog.query_one("#effects").render()) or "Micro-Factory" in dialog.title_text
        await type_text(pilot, "power work")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.nodes[machine.node_id].state == "paused", what="the node to drain")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)  # resuming a node asks too, with a reason
        await type_text(pilot, "power back")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.nodes[machine.node_id].state != "paused", what="the node to resume")


async def test_reroute_refuses_a_blocked_candidate_and_auto_applies(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        jobs = app.screen.query_one("#list", DataGrid)
        job = next(j for j in sorted(app.store.jobs.values(), key=lambda j: j.id) if j.status == "assigned")
        assert jobs.move_cursor_to(job.id)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RerouteDialog), what="the reroute dialog")
        dialog = app.screen
        blocked = [c for c in dialog.candidates if c.blockers]
        assert blocked, "the simulator offers no blocked candidate for this job"
        table = dialog.query_one("#candidates")
        row = 1 + dialog.candidates.index(blocked[0])  # row 0 is "auto"
        table.move_cursor(row=row)
        dialog.query_one("#reason", Input).focus()
        await type_text(pilot, "balance load")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog, "a blocked candidate must not be accepted"
        table.move_cursor(row=0)
        dialog.query_one("#reason", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not dialog

        def rerouted() -> bool:
            return any(e.action == "job.reroute" and e.target.id == job.id for e in app.store.audit)

        await wait_for(pilot, rerouted, what="the reroute audit entry")
        entry = next(e for e in app.store.audit if e.action == "job.reroute" and e.target.id == job.id)
        assert entry.outcome == "applied"


async def test_jobs_screen_pause_and_cancel(make_app):
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
        assert isinstance(app.screen, ConfirmAction)
        await type_text(pilot, "check part")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.jobs[running.id].status == "paused", what="the job to pause")
        await settle(pilot)
        jobs.move_cursor_to(running.id)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)  # resuming asks, with a reason, as pausing does
        await type_text(pilot, "checked")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.jobs[running.id].status == "running", what="the job to resume")
        await settle(pilot)
        jobs.move_cursor_to(running.id)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        await type_text(pilot, "customer cancelled")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: running.id not in app.store.jobs or app.store.jobs[running.id].status == "cancelled",
            what="the job to be cancelled",
        )


async def test_alert_ack_shelve_unshelve_and_jump(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("3")
        await settle(pilot)
        alerts = app.screen.query_one("#list", DataGrid)
        alert = next(a for a in sorted(app.store.alerts.values(), key=lambda a: a.id) if a.state == "active_unacked")
        alerts.move_cursor_to(alert.id)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        await type_text(pilot, "on it")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.alerts[alert.id].acked_by == "demo", what="the ack")
        assert app.store.alerts[alert.id].ack_note == "on it"
        await settle(pilot)
        alerts.move_cursor_to(alert.id)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ShelveDialog)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.alerts[alert.id].state == "shelved", what="the shelve")
        await settle(pilot)
        shelved = app.screen.query_one("#shelved", DataGrid)
        assert alert.id in shelved.keys
        shelved.focus()
        shelved.move_cursor_to(alert.id)
        await pilot.press("S")
        await wait_for(pilot, lambda: app.store.alerts[alert.id].state != "shelved", what="the unshelve")
        await settle(pilot)
        alerts.focus()
        alerts.move_cursor_to(alert.id)
        await pilot.press("enter")
        await pilot.pause()
        if alert.source.kind == "machine":
            assert isinstance(app.screen, MachineDetailScreen)
            assert app.screen.machine_id == alert.source.id


async def test_bulk_pause_of_marked_machines_reports_each(make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        running = sorted(m.id for m in app.store.machines.values() if m.state == "running")[:3]
        for machine_id in running:
            await focus_machine(pilot, machine_id)
            await pilot.press("space")
        assert app.screen.marked == set(running)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmAction)
        effects = str(dialog.query_one("#effects").render())
        assert all(m in effects for m in running)
        await type_text(pilot, "bulk test")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: all(app.store.machines[m].state == "paused" for m in running), what="all three to pause"
        )
        await pilot.pause(0.2)
        messages = [n.message for n in app._notifications]
        assert any("3 applied" in m for m in messages)


async def test_read_only_hides_every_action(make_app):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert "READ-ONLY" in header_text(app)
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not actions & {"pause", "ready", "node", "reroute", "cancel_job", "ack", "shelve"}
        assert "filter" in actions
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmAction)


async def test_viewer_role_from_whoami_hides_actions(make_app):
    app = make_app(tokens=["vera:viewer:s3cret"], token="s3cret")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert app.role == "viewer"
        await pilot.pause(1.2)  # the header notices the role on its next tick and refreshes the bindings
        assert "READ-ONLY" in header_text(app)
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "pause" not in actions


async def test_command_palette_jumps_to_a_machine(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        target = sorted(app.store.machines)[5]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, target)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the machine detail")
        assert app.screen.machine_id == target


async def test_cursor_moves_do_not_rebuild_the_footer_unless_the_offered_actions_change(make_app):
    """Each refresh_bindings rebuilds Textual's footer and leaks its old keys (Textual #6666): moving the cursor
    between machines that offer the same actions must not call it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = app.screen
        calls: list[int] = []
        original = screen.refresh_bindings

        def counting() -> None:
            calls.append(1)
            original()

        screen.refresh_bindings = counting  # type: ignore[method-assign]
        await pilot.press("right", "down", "right", "left", "up", "down", "right", "down")
        await pilot.pause()
        assert len(calls) <= 1  # at most the first, which records what is offered
        before = len(calls)
        screen._offered_actions = ()  # as if another set of actions had been offered
        await pilot.press("right")
        await pilot.pause()
        assert len(calls) == before + 1 and screen._offered_actions != ()


def screen_text(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_tiles_and_detail_show_current_telemetry_and_freeze_keeps_it(make_app):
    """Telemetry is kept apart from the machine objects (updated in place in the store): the tiles and the machine
    detail must show the current values, and a frozen view the values of the moment it froze."""
    from widgets.glyphs import telemetry_label

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        store = app.store
        on_screen = grid(app).machine_ids[:20]

        def moved() -> list[str]:
            return [
                i
                for i in on_screen
                if telemetry_label(store.machines[i].kind, store.machine_telemetry(i))
                != telemetry_label(store.machines[i].kind, store.machines[i].telemetry)
            ]

        app.test_server.advance(30)
        await wait_for(pilot, lambda: bool(moved()), timeout=20, what="telemetry to move past the machine objects")
        await settle(pilot)
        machine_id = moved()[0]
        machine = store.machines[machine_id]
        current = telemetry_label(machine.kind, store.machine_telemetry(machine_id))
        assert current in screen_text(app)
        # frozen: the values of that moment stay, even when the grid repaints (cursor moves)
        await pilot.press("f")
        await pilot.pause()
        frozen = {i: telemetry_label(store.machines[i].kind, store.machine_telemetry(i)) for i in on_screen}

        def moved_while_frozen() -> list[str]:
            return [
                i for i in on_screen if telemetry_label(store.machines[i].kind, store.machine_telemetry(i)) != frozen[i]
            ]

        app.test_server.advance(120)
        await wait_for(pilot, lambda: bool(moved_while_frozen()), timeout=20, what="telemetry to move on while frozen")
        await pilot.press("right", "left")
        await pilot.pause()
        g = grid(app)
        for i in moved_while_frozen():
            assert telemetry_label(store.machines[i].kind, g.telemetry_of(store.machines[i])) == frozen[i]
            assert frozen[i] in screen_text(app)
        await pilot.press("f")
        await settle(pilot)
        assert telemetry_label(machine.kind, store.machine_telemetry(machine_id)) in screen_text(app)
        # the machine detail reads the current values too
        await focus_machine(pilot, machine_id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="machine detail")
        await settle(pilot)
        values = store.machine_telemetry(machine_id)
        name = sorted(values)[0]
        assert f"{values[name]:,.1f}" in screen_text(app)
