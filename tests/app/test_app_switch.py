"""Screen switches: a screen already built is brought up to date before it is shown, and drawn without Textual's
50 ms mask (``FactoryConsoleApp.switch_mode``); its styles are recomputed only when something they depend on changed
(``ConsoleScreen.on_screen_resume``)."""

from __future__ import annotations

from typing import Any

from textual.app import App

from console.screens.base import ConsoleScreen
from console.screens.jobs import JobsScreen
from tests.app.conftest import settle, wait_for, wait_ready

SIZE = (160, 48)


def _job_statuses(screen: JobsScreen) -> list[str]:
    """The jobs the list shows, in its order (jobs come, go and move as the simulation runs)."""
    return screen.grid.keys


async def test_a_warm_screen_shows_the_stores_latest_state_in_its_first_frame(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        await pilot.press("1")
        await settle(pilot)
        shown_before = _job_statuses(jobs)
        seq_before = app.store.sources["cluster"].seq or 0
        app.test_server.advance(300)
        await wait_for(pilot, lambda: (app.store.sources["cluster"].seq or 0) > seq_before + 50, what="events")
        await settle(pilot)
        assert _job_statuses(jobs) == shown_before, "a hidden screen is not repainted while data flows"
        app.switch_mode("jobs")
        # No pause: the switch itself brought the screen up to date, before Textual drew a frame of it.
        assert not jobs.needs_rebuild and jobs._held is None
        fresh = _job_statuses(jobs)
        assert fresh != shown_before, "five simulated minutes changed nothing on the jobs list"
        jobs.rebuild()
        assert _job_statuses(jobs) == fresh, "the switch showed something other than the store's latest state"


async def test_a_warm_switch_is_not_masked_and_a_first_one_is(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        delays: list[float] = []
        monkeypatch.setattr(App, "delay_update", lambda self, delay=0.05: delays.append(delay))  # Textual's mask
        app.switch_mode("jobs")  # first time: composed under Textual's mask
        await settle(pilot)
        assert delays == [0.05]
        app.switch_mode("dashboard")  # warm: no mask
        await settle(pilot)
        app.switch_mode("jobs")
        await settle(pilot)
        assert delays == [0.05]


async def test_styles_are_recomputed_on_return_only_when_their_inputs_changed(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        dashboard = app.screen
        assert isinstance(dashboard, ConsoleScreen)
        restyled: list[object] = []
        original = dashboard.update_node_styles

        def spy(animate: bool = True) -> None:
            restyled.append(dashboard)
            original(animate)

        dashboard.update_node_styles = spy  # type: ignore[method-assign]
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert restyled == [], "nothing the styles depend on changed: no restyle"
        await pilot.press("2")
        await settle(pilot)
        await pilot.resize_terminal(100, 40)  # breakpoints: the hidden dashboard's styles depend on the size
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert restyled, "the terminal was resized while the dashboard was hidden: it must restyle"


async def test_a_hidden_list_catches_up_with_what_changed_instead_of_rebuilding(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        await pilot.press("1")
        await settle(pilot)
        seq_before = app.store.sources["cluster"].seq or 0
        app.test_server.advance(20)  # a few job changes, well under a minute of server time (the list's re-sort)
        await wait_for(pilot, lambda: (app.store.sources["cluster"].seq or 0) > seq_before, what="events")
        await settle(pilot)
        assert jobs._held is not None and jobs._held.jobs, "the hidden list kept what changed"
        rebuilds: list[int] = []
        original = jobs.rebuild
        jobs.rebuild = lambda: rebuilds.append(1) or original()  # type: ignore[method-assign]
        app.switch_mode("jobs")
        assert rebuilds == [], "caught up from the held changes, not rebuilt"
        caught_up = _job_statuses(jobs)
        original()
        assert _job_statuses(jobs) == caught_up, "catching up showed what a rebuild shows"


def test_merged_changes_read_as_one_flush():
    from console.screens.base import merge_changes
    from console.store.changes import ChangeSet

    held = ChangeSet(telemetry_only={"M-1", "M-2"}, jobs={"J-1"})
    merge_changes(held, ChangeSet(machines={"M-2"}, structure=True, structure_tables={"machines"}, cluster=True))
    assert held.machines == {"M-2"} and held.telemetry_only == {"M-1"}, "a changed machine is not telemetry only"
    assert held.jobs == {"J-1"} and held.structure and held.structure_tables == {"machines"} and held.cluster


async def test_the_machine_detail_rebuilds_for_its_own_machine_not_for_any_job(make_app):
    from console.screens.machine_detail import MachineDetailScreen
    from console.store.changes import ChangeSet

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the detail")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, MachineDetailScreen)
        mid = detail.machine_id
        other_job = next(j.id for j in app.store.jobs.values() if j.machine_id not in (mid, None))
        other_alert = next((a.id for a in app.store.alerts.values() if a.source.id != mid), None)
        rebuilds: list[int] = []
        original = detail.rebuild
        detail.rebuild = lambda: rebuilds.append(1) or original()  # type: ignore[method-assign]
        unrelated = ChangeSet(jobs={other_job}, alerts={other_alert} if other_alert else set(), structure=True)
        detail.apply_changes(unrelated)
        assert rebuilds == [], "another machine's job or alert does not concern this screen"
        detail.apply_changes(ChangeSet(machines={mid}))
        assert rebuilds == [1]
        own_job = next((j.id for j in app.store.jobs.values() if j.machine_id == mid), None)
        if own_job is not None:
            detail.apply_changes(ChangeSet(jobs={own_job}))
            assert rebuilds == [1, 1], "its own job's change rebuilds it"


async def test_the_nodes_list_rebuilds_on_counts_at_most_once_per_panel_interval(make_app):
    from console.screens.nodes import NodesScreen
    from console.store.changes import ChangeSet

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("5")
        await settle(pilot)
        nodes = app.screen
        assert isinstance(nodes, NodesScreen)
        app.settings.panel_interval_s = 1.0
        now = [1000.0]
        later: list[object] = []
        nodes.monotonic = lambda: now[0]
        nodes.schedule = lambda wait, run: later.append(run)
        rebuilds: list[int] = []
        original = nodes.rebuild
        nodes.rebuild = lambda: rebuilds.append(1) or original()  # type: ignore[method-assign]
        some_machine = next(iter(app.store.machines))
        nodes.apply_changes(ChangeSet(machines={some_machine}))
        nodes.apply_changes(ChangeSet(machines={some_machine}))
        assert rebuilds == [1] and len(later) == 1, "a count change: once now, then once when the interval is up"
        nodes.apply_changes(ChangeSet(nodes={next(iter(app.store.nodes))}))
        assert rebuilds == [1, 1], "a node's own change shows at once"


async def test_a_warm_switch_draws_the_screen_once_after_its_resume(make_app: Any, monkeypatch: Any) -> None:
    """Textual laid out and drew a switched-to screen inside ``switch_mode``, before its ``ScreenResume`` was handled,
    and that handler's refresh drew it all again: two full frames per switch. Now the first frame comes after the
    resume, and the screen is laid out at most once."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        for mode in ("jobs", "dashboard", "jobs", "dashboard"):  # composed, and the stylesheet settled (a screen
            app.switch_mode(mode)  # composed later restyles the others once, in Textual's refresh_css)
            await settle(pilot)
        jobs = app._screen_stacks["jobs"][-1]
        seen: list[str] = []
        monkeypatch.setattr(JobsScreen, "on_screen_resume", lambda self, event: seen.append("resume"), raising=False)
        draw, layout = jobs._compositor_refresh, jobs._refresh_layout

        def drawing() -> None:
            seen.append("draw")
            draw()

        def laying_out(*args: Any, **kwargs: Any) -> None:
            seen.append("layout")
            layout(*args, **kwargs)

        monkeypatch.setattr(jobs, "_compositor_refresh", drawing)
        monkeypatch.setattr(jobs, "_refresh_layout", laying_out)
        app.switch_mode("jobs")
        assert seen == [], "nothing is drawn inside switch_mode"
        await settle(pilot)
        assert seen[0] == "resume" and "draw" in seen
        assert seen.count("layout") <= 1, seen  # once, if what changed while hidden asked for a layout
        assert app._batch_count == 0, "the hold was released"
