"""Screen switches: a screen already built is brought up to date before it is shown, and drawn without Textual's
50 ms mask (``FactoryConsoleApp.switch_mode``); its styles are recomputed only when something they depend on changed
(``ConsoleScreen.on_screen_resume``)."""

from __future__ import annotations

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
        assert jobs.needs_rebuild, "a hidden screen is marked, not repainted, while data flows"
        assert _job_statuses(jobs) == shown_before, "the hidden screen did not follow the data"
        app.switch_mode("jobs")
        # No pause: the switch itself brought the screen up to date, before Textual drew a frame of it.
        assert not jobs.needs_rebuild
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
