"""The live lists tell the truth and the standing-alarm pile can be worked, driven with Pilot against the simulated
cluster over loopback HTTP: ``/node:york`` finds York's alerts (raised by its machines), ``/state:unack`` what the
list shows as ``UNACK`` and ``CLR-UNACK``, a filter that matches nothing says so, ``at-risk`` and ``overdue`` on the
Jobs screen follow the server's clock (the simulation runs on its own date), and ``space``, ``*`` and ``A`` work
through a pile of cleared alerts. Expectations are computed from the store, not counted by hand."""

from __future__ import annotations

from typing import Any

from console.rules import job_overdue
from console.screens.alerts import AlertsScreen
from console.screens.base import FilterInput
from console.screens.help import binding_rows
from console.screens.jobs import JobsScreen
from console.screens.modals import NoteDialog
from console.store.query import alert_node_id, job_at_risk
from tests.app.conftest import settle, wait_for, wait_ready
from widgets.data_grid import DataGrid

SIZE = (160, 48)
PILE_S = 3 * 3600.0
"""Three hours into the shift the seeded cluster has a pile of cleared, never acknowledged alerts on every node."""


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


async def open_screen(pilot: Any, key: str, kind: type) -> Any:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind) and pilot.app.screen.ready, what=kind.__name__)
    await settle(pilot)
    return pilot.app.screen


async def filter_by(pilot: Any, text: str) -> None:
    """``/``, clear what is there, type ``text``, enter; then let the list rebuild."""
    screen = pilot.app.screen
    await pilot.press("slash")
    screen.query_one(FilterInput).value = ""
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


def node_of(app: Any, alert: Any) -> str | None:
    return alert_node_id(alert, app.store.machines, app.store.jobs)


def shown(screen: Any) -> list[str]:
    return screen.query_one("#list", DataGrid).keys


def busiest_node(app: Any, state: str | None = None) -> str:
    """The node with the most active alerts raised by its machines or jobs (of ``state``, if given)."""
    counts: dict[str, int] = {}
    for alert in app.store.active_alerts():
        node_id = node_of(app, alert)
        if node_id and alert.source.kind != "node" and (state is None or alert.state == state):
            counts[node_id] = counts.get(node_id, 0) + 1
    assert counts, "the scenario has no alerts raised by machines"
    return max(sorted(counts), key=lambda n: counts[n])


async def test_alert_filters_find_what_the_list_shows(make_app):
    app = make_app(warmup_s=PILE_S)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = await open_screen(pilot, "3", AlertsScreen)
        placeholder = screen.query_one(FilterInput).placeholder
        assert "state:unack" in placeholder and "node:york" in placeholder and "kind:cnc" not in placeholder

        node_id = busiest_node(app)
        node = app.store.nodes[node_id]
        expected = {a.id for a in app.store.active_alerts() if node_of(app, a) == node_id}
        for typed in (f"node:{node.city.lower()}", f"node:{node_id.upper()}", f"node:{node_id.lower()}"):
            await filter_by(pilot, typed)
            assert set(shown(screen)) == expected, typed

        await filter_by(pilot, "state:unack")
        unacked = {a.id for a in app.store.active_alerts() if a.state in ("active_unacked", "cleared_unacked")}
        assert unacked and set(shown(screen)) == unacked
        words = {row.cells[1] for row in screen.build_rows()}
        assert words <= {"UNACK", "CLR-UNACK"} and "CLR-UNACK" in words

        await filter_by(pilot, "node:atlantis")
        grid = screen.query_one("#list", DataGrid)
        assert grid.row_count == 0 and app.store.active_alerts()
        assert grid.empty_message == "No alerts match the filter"
        assert "No alerts match the filter" in grid.render_line(1).text
        assert "No active alerts" not in grid.render_line(1).text


async def test_the_pile_is_worked_with_space_star_and_ack_all_cleared(make_app):
    app = make_app(warmup_s=PILE_S)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = await open_screen(pilot, "3", AlertsScreen)
        commands = {c.title for c in screen.palette_commands()}
        assert {"Alerts: Ack all cleared", "Alerts: Mark all shown"} <= commands
        help_rows = {(keys, description) for keys, description, _ in binding_rows(screen)}
        assert ("A", "Ack all cleared") in help_rows and ("*", "Mark all shown") in help_rows

        node_id = busiest_node(app, "cleared_unacked")
        await filter_by(pilot, f"node:{node_id}")
        grid = screen.query_one("#list", DataGrid)
        in_filter = shown(screen)
        assert len(in_filter) >= 2

        # space marks the cursor row and moves down; * marks every row the filter shows; u unmarks
        await pilot.press("home", "space")
        assert screen.marked == {in_filter[0]} and grid.cursor_key == in_filter[1]
        await pilot.press("space")
        assert screen.marked == set(in_filter[:2])
        await pilot.press("u", "asterisk")
        assert screen.marked == set(in_filter) and grid.marked == screen.marked
        await pilot.press("u")
        assert screen.marked == set()

        # A: acknowledge every cleared-unacknowledged alert of the filter, after the ack dialog
        cleared = [k for k in in_filter if app.store.alerts[k].state == "cleared_unacked"]
        elsewhere = {
            a.id for a in app.store.active_alerts() if a.state == "cleared_unacked" and node_of(app, a) != node_id
        }
        assert cleared and elsewhere
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog), what="the ack dialog")
        assert app.screen.title_text == f"Acknowledge {len(cleared)} alert(s)"
        await type_text(pilot, "pile worked")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: not any(k in app.store.alerts for k in cleared), what="the cleared alerts to resolve"
        )
        assert all(app.store.alerts[k].state == "cleared_unacked" for k in elsewhere if k in app.store.alerts)

        await settle(pilot)
        await pilot.press("A")  # nothing left to acknowledge here: no dialog
        await pilot.pause()
        assert app.screen is screen


async def test_jobs_at_risk_and_overdue_follow_the_servers_clock(make_app):
    app = make_app(warmup_s=PILE_S)  # by then some jobs are late, some at risk, most neither
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = await open_screen(pilot, "2", JobsScreen)
        now = app.server_clock.now()
        jobs = list(app.store.jobs.values())
        unfinished = {j.id for j in jobs if j.status not in ("completed", "failed", "cancelled")}

        await filter_by(pilot, "at-risk")
        at_risk = {j.id for j in jobs if job_at_risk(j, now)}
        assert set(shown(screen)) == at_risk
        assert at_risk and at_risk < unfinished  # on this machine's clock (after the simulation's) all would be

        await filter_by(pilot, "overdue")
        overdue = {j.id for j in jobs if job_overdue(j, now)}
        assert overdue and set(shown(screen)) == overdue
        await filter_by(pilot, "at-risk -overdue")
        assert set(shown(screen)) == at_risk - overdue
        await filter_by(pilot, "-overdue")
        assert set(shown(screen)) == {j.id for j in jobs if not job_overdue(j, now)}

        await filter_by(pilot, "overdue node:atlantis")
        grid = screen.query_one("#list", DataGrid)
        assert grid.row_count == 0 and grid.empty_message == "No jobs match the filter"


async def test_a_mark_the_filter_hides_is_dropped_so_no_action_reaches_a_hidden_row(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        keys = screen.grid.keys
        assert len(keys) >= 2
        screen.marked = {keys[0], keys[1]}
        screen.set_filter(keys[0])
        await settle(pilot)
        assert screen.marked == {keys[0]}
        assert screen.targets() == [keys[0]]
