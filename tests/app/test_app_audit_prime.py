"""The console reads the server's audit trail once the cluster is in (``FactoryConsoleApp._prime_audit``), so an
alert shelved before it started says by whom (the demo opens with one, shelved by an operator of its story), not
only after somebody opened the Audit screen."""

from __future__ import annotations

from tests.app.conftest import scenario_config, wait_for, wait_ready

SIZE = (120, 36)


async def test_who_shelved_an_alert_before_the_console_started_is_known(make_app):
    app = make_app(config=scenario_config(opening_scene=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        shelved = [a for a in app.store.alerts.values() if a.state == "shelved"]
        assert shelved, "the scenario opens with a shelved alert"

        def who(alert_id: str) -> str | None:
            rows = [row for row in app.store.journal.rows_of(alert_id) if row.transition == "shelved"]
            return rows[-1].who if rows else None

        await wait_for(pilot, lambda: all(who(a.id) for a in shelved), what="who shelved, from the audit trail")
        for alert in shelved:
            entry = next(e for e in app.store.audit if e.action == "alert.shelve" and e.target.id == alert.id)
            assert who(alert.id) == entry.operator


async def test_the_alerts_screen_names_the_most_frequent_codes(make_app):
    """ISA-18.2's top 10 most frequent codes on the Alerts screen itself (they were only in the handover)."""
    from console.alarm_metrics import figures_now
    from console.screens.alerts import AlertsScreen

    app = make_app(config=scenario_config(opening_scene=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.ready, what="alerts")
        figures = figures_now(app.store.journal, app.server_clock)
        assert figures is not None and figures.top_codes
        code, count = figures.top_codes[0]
        line = app.screen.query_one("#isa-top")
        await wait_for(pilot, lambda: f"{code} {count}" in str(line.render()), what="the top codes line")
        assert str(line.render()).startswith("Most frequent (24 h): ")
