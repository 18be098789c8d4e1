"""Issue 12, the live view tells the truth: the Jobs sort header and toast agree and the list shows its top after a
re-sort; rows judge overdue on the server's clock; Quality says what window its OEE covers and never "ok" below a
capable Cpk."""

from __future__ import annotations

from console.rules import cpk_status, job_overdue, worst_cpk
from console.screens.columns import JOB_COLUMNS
from tests.app.conftest import settle, wait_ready
from tests.app.test_app_keys import SIZE
from widgets.data_grid import DataGrid


async def test_jobs_sort_header_and_toast_agree_and_the_list_shows_its_top(make_app):
    app = make_app()
    labels = {c.key: c.label for c in JOB_COLUMNS}
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        grid = screen.query_one("#list", DataGrid)
        assert grid.sort_key == "node"
        for _ in range(len(screen.SORTS)):
            await pilot.press("end")  # the cursor far down the list
            await settle(pilot)
            await pilot.press("o")
            await settle(pilot)
            toast = [n.message for n in app._notifications][-1]
            assert grid.sort_key is not None
            assert toast.startswith(f"Sorted by {labels[grid.sort_key]}:"), (toast, grid.sort_key)
            assert grid.cursor_index == 0 and grid.scroll_offset.y == 0
        await pilot.press("end", "O")  # reversed: the top of the reversed list
        await settle(pilot)
        assert grid.cursor_index == 0 and grid.scroll_offset.y == 0 and grid.sort_reverse


async def test_job_rows_judge_overdue_on_the_server_clock(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        now = screen.console.server_clock.now()
        assert now is not None
        for job in list(app.store.jobs.values())[:200]:
            row = screen._row_of(job.id)
            assert row is not None
            risk = row.cells[8]
            assert risk.startswith("LATE") == job_overdue(job, now), (job.id, risk)


async def test_quality_states_the_oee_window_and_never_ok_below_capable(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        windows = {q.window_h for q in app.store.quality.values()}
        label = str(screen.query_one("#window").render())
        assert len(windows) == 1 and f"over the last {next(iter(windows)):g} h" in label
        rows = screen.build_rows()
        assert rows
        for row in rows:
            quality = row.extra["quality"]
            status = cpk_status(worst_cpk(quality))  # type: ignore[arg-type]
            spc = str(row.cells[8])
            word = spc.split(" ")[0]
            expected = {"unknown": "no", "ok": "capable" if "⚠" in spc else "ok"}.get(status, status)
            assert word == expected, spc
            assert "we1" not in spc and "we2" not in spc
