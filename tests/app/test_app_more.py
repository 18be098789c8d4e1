"""Beyond single keys: saved themes, key overrides, the alert flood banner, node selection, filters on lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from textual.widgets import Label

from console.api.models import Alert, Event, SourceRef
from console.screens.modals import ConfirmAction
from tests.app.conftest import settle, wait_for, wait_ready
from tests.app.test_app_keys import SIZE, focus_machine, grid, type_text
from widgets.data_grid import DataGrid
from widgets.node_strip import NodeStrip


async def test_theme_choice_is_saved_to_the_config_file(make_app, tmp_path: Path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('# my settings\ntheme = "factory-dark"\n', encoding="utf-8")
    config.chmod(0o600)
    app = make_app()
    app.settings.save_theme = True
    app.settings.config_file = str(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        app.theme = "isa101"
        await pilot.pause()
    text = config.read_text(encoding="utf-8")
    assert 'theme = "isa101"' in text
    assert "# my settings" in text


async def test_keys_are_remappable_by_binding_id(make_app):
    app = make_app()
    app.settings.keymap = {"machine.pause": "P"}
    app.set_keymap(app.settings.keymap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        machine = next(m for m in app.store.machines.values() if m.state == "running")
        await focus_machine(pilot, machine.id)
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmAction)
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)


async def test_alert_flood_banner(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("3")
        await settle(pilot)
        banner = app.screen.query_one("#flood", Label)
        assert not banner.has_class("-shown")
        # Eleven alerts raised within ten minutes (on the server's clock) make a flood.
        now = app.server_clock.now()
        status = app.store.sources["cluster"]
        seq = status.seq
        for index in range(11):
            seq += 1
            alert = Alert(
                id=f"A-FLOOD-{index}",
                priority="high",
                state="active_unacked",
                source=SourceRef(kind="machine", id=f"M-X-{index}"),
                code="test_flood",
                message="flood",
                raised_at=now - timedelta(minutes=index % 9),
                updated_at=now,
            )
            app.store.apply_event("cluster", Event(seq, "alert.raised", alert))
        await settle(pilot)
        assert banner.has_class("-shown")
        assert "ALERT FLOOD" in str(banner.render())


async def test_selecting_a_node_narrows_the_grid_and_escape_widens_it(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        strip = app.screen.query_one(NodeStrip)
        strip.focus()
        await pilot.press("right")
        await settle(pilot)
        node_id = app.screen.selected_node
        assert node_id is not None
        assert {app.store.machines[i].node_id for i in grid(app).machine_ids} == {node_id}
        grid(app).focus()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.selected_node is None
        assert grid(app).row_count == len(app.store.machines)


async def test_jobs_filter_by_status_and_node(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "status:running node:york")
        await pilot.press("enter")
        await settle(pilot)
        rows = app.screen.query_one("#list", DataGrid).keys
        assert rows
        for key in rows:
            job = app.store.jobs[key]
            assert job.status == "running" and job.node_id == "N-YORK"


async def test_diagnostics_shows_sources_log_and_malformed_events(make_app):
    from console.api.sse import MalformedEvent

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        app.store.record_malformed(
            "cluster", MalformedEvent(seq=None, type="machine.updated", reason="bad JSON", excerpt="\x1b[31m{oops")
        )
        await pilot.press("6")
        await settle(pilot)
        sources = app.screen.query_one("#sources", DataGrid)
        assert sources.keys == ["cluster"]
        assert "live" in sources.get_row("cluster").cells
        log = app.screen.query_one("#log", DataGrid)
        assert log.row_count >= 1
        malformed = app.screen.query_one("#malformed", DataGrid)
        (row,) = [malformed.get_row(k) for k in malformed.keys]
        assert "bad JSON" in row.cells and "␛[31m{oops" in row.cells


async def test_audit_screen_shows_server_and_local_entries(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        machine = next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == "running")
        await focus_machine(pilot, machine.id)
        await pilot.press("p")
        await pilot.pause()
        await type_text(pilot, "audit me")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "paused", what="the pause")
        await pilot.press("7")
        await wait_for(pilot, lambda: bool(app.screen.fetched), what="the server audit page")
        await settle(pilot)
        server = app.screen.query_one("#list", DataGrid)
        rows = [server.get_row(k).cells for k in server.keys]
        assert any("machine.pause" in cells and f"machine:{machine.id}" in cells for cells in rows)
        local = app.screen.query_one("#local", DataGrid)
        local_rows = [local.get_row(k).cells for k in local.keys]
        assert any("machine.pause" in cells and "applied" in cells for cells in local_rows)


async def test_losing_the_server_marks_everything_stale_and_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        app.test_server.stop()
        await wait_for(pilot, lambda: app.store.source_state("cluster") != "live", what="the source to notice")
        await settle(pilot)
        from tests.app.test_app_keys import header_text

        assert "reconnecting" in header_text(app) or "stale" in header_text(app)
        assert grid(app).stale_ids == set(app.store.machines)
        assert "STALE" in str(app.screen.query_one("#alerts-title", Label).render())
        strip = app.screen.query_one(NodeStrip)
        assert "stale" in str(strip.render())
        # The console stays responsive to keys while the server is gone.
        await pilot.press("2")
        await pilot.pause()
        assert app.current_mode == "jobs"


async def test_jobs_list_moves_only_changed_jobs_and_stays_equal_to_a_full_sort(make_app):
    """The jobs screen keeps its order incrementally (changed jobs only) and formats rows only when drawn: after
    minutes of simulated changes, with and without a filter and reversed, its keys equal a fresh filter and sort."""
    from console.rules import sort_jobs

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        list_grid = screen.query_one("#list", DataGrid)
        built: list[str] = []
        row_of = screen._row_of

        def counting(job_id: str):  # type: ignore[no-untyped-def]
            built.append(job_id)
            return row_of(job_id)

        screen._row_of = counting  # type: ignore[method-assign]

        def expected(status: str | None = None, reverse: bool = False) -> list[str]:
            jobs = [j for j in app.store.jobs.values() if status is None or j.status == status]
            return [j.id for j in sort_jobs(jobs, screen.sort_key, reverse)]

        for step in range(4):
            seq = app.store.sources["cluster"].seq
            app.test_server.advance(90)
            await wait_for(pilot, lambda s=seq: app.store.sources["cluster"].seq > s + 20, what="job changes")  # type: ignore[misc]
            await settle(pilot)
            if step == 1:
                await pilot.press("O")  # reversed
                await settle(pilot)
            if step == 2:
                await pilot.press("slash")
                await type_text(pilot, "status:queued")
                await pilot.press("enter")
                await settle(pilot)
            status = "queued" if step >= 2 else None
            assert list_grid.keys == expected(status, reverse=step >= 1), step
        # rows formatted: those drawn after each change of order (~40 each), not every job on every flush (which
        # formatting all rows did: at least 6 flushes x all jobs here)
        assert len(app.store.jobs) > 100 and 0 < len(built) < 3 * len(app.store.jobs)


async def test_quality_list_rebuilds_at_most_once_a_second_under_a_stream_of_changes(make_app):
    """At 20,000 machines the quality list holds 20,000 records and re-sorts on any change: a burst of quality
    updates rebuilds it once now and once when the second is up, not once per flush.

    The throttle's clock and timer are the screen's own and frozen here, so the count does not depend on how fast
    the machine runs the flushes."""
    app = make_app()
    app.settings.panel_interval_s = 1.0  # the default (the test fixture sets 0 for immediate panels)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        now = [1000.0]
        later: list[tuple[float, Callable[[], None]]] = []
        screen.monotonic = lambda: now[0]
        screen.schedule = lambda wait, run: later.append((wait, run))
        rebuilds: list[float] = []
        original = screen.rebuild

        def counting() -> None:
            rebuilds.append(now[0])
            original()

        screen.rebuild = counting  # type: ignore[method-assign]

        async def flush_with_quality_changes() -> None:
            seq = app.store.sources["cluster"].seq
            app.test_server.advance(120)
            await wait_for(pilot, lambda s=seq: app.store.sources["cluster"].seq > s, what="events")  # type: ignore[misc]
            await settle(pilot)

        for _ in range(8):  # eight flushes within the same second
            await flush_with_quality_changes()
        assert rebuilds == [1000.0]  # the first at once
        assert [wait for wait, _ in later] == [1.0]  # the rest gathered into one, when the second is up
        now[0] += 1.0
        later.pop()[1]()
        assert rebuilds == [1000.0, 1001.0] and not later
        now[0] += 1.5  # a second after the last: the next change shows at once again
        await flush_with_quality_changes()
        assert rebuilds == [1000.0, 1001.0, 1002.5]
        # The simulated minutes may reach the console in one flush or, on a busy machine, in two: a second one within
        # the same (frozen) second is deferred to when it is up, as above; never more than one, never sooner.
        assert [wait for wait, _ in later] in ([], [1.0])


async def test_the_comparison_charts_survive_a_refresh_before_their_mount_finished(make_app):
    """Switching screens fast crashed the console (``NoMatches: #cmpl-0``): the quality screen rebuilt its
    across-nodes charts and a second refresh came before the new charts were mounted. Now the charts are kept, not
    looked up, so any number of refreshes in a row shows every node."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        for _ in range(3):
            screen._compare_nodes = []  # as if the nodes reporting quality had changed
            screen._show_comparison()
            screen._show_comparison()  # at once, before the mount above has run
        await settle(pilot)
        nodes = sorted(n for (scope, n) in app.store.quality if scope == "node")
        labels = [str(label.render()) for label in screen.query("#compare Label")]
        assert len(labels) == len(nodes) >= 2
        assert labels == [app.store.nodes[n].name for n in nodes]
