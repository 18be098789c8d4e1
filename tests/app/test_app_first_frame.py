"""The first machines are drawn at once, not after the wait that gathers a live burst (``refresh_ms``): at the start
nothing else is coming that the wait would gather (issue 15: start to first machines on screen)."""

from __future__ import annotations

from tests.app.conftest import wait_for


async def test_the_first_machines_are_drawn_without_the_refresh_wait(make_app):
    app = make_app()
    app.settings.refresh_ms = 60_000  # a live burst would wait a minute: the first machines must not
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: bool(app.store.machines), what="the cluster's machines in the store")
        grid = app.screen.grid
        await wait_for(pilot, lambda: bool(grid.machine_ids), timeout=5, what="machines on the grid")
        assert set(grid.machine_ids) <= set(app.store.machines)
