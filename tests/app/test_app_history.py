"""History and timeline (issue 13), against the real simulator over loopback: enter on the Jobs screen opens the job
detail with its facts and where it ran; a reroute made on the server shows in the job's and both machines' history."""

from __future__ import annotations

from typing import Any

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
