"""The alert history and the alert detail (issue 13, "History and timeline"): ``i`` on the Alerts screen opens the
alert's detail with its whole life, ``H`` the history of every transition, which the ``/`` language filters
(``transition:acked by:alice``) and whose ``enter`` opens the detail. Acknowledging with a note shows who and the
note in both. Server text is drawn inert.

Driven with Pilot against the seeded simulator over loopback HTTP (the ``make_app`` fixture of ``tests/app``); the
snapshots follow ``tests/app/test_app_snapshots_oncall.py`` (a stepped clock, a quiet header, no animations, no
toasts). Update them with ``pytest tests/screens/test_alert_history.py --snapshot-update`` and read the SVGs.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Label, Static

from console.screens.alert_detail import AlertDetail
from console.screens.alert_history import AlertHistoryScreen
from console.screens.alerts import AlertsScreen
from console.screens.help import binding_rows
from console.screens.journal_rows import history_row, isa_summary, life_row
from console.screens.modals import NoteDialog
from console.store.journal import JournalRow
from console.store.query import parse
from console.store.query.fields import EXAMPLES
from tests.app import conftest as app_fixtures
from tests.app.conftest import settle, wait_for, wait_ready
from tests.app.test_app_snapshots_oncall import freeze, quiet
from tests.store import factories as f
from widgets.data_grid import DataGrid
from widgets.footer import ConsoleFooter

make_app = app_fixtures.make_app  # the console against the seeded simulator (tests/app/conftest.py)

SIZE = (120, 36)
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
NOTE = "nozzle cleaned, watching the next layer"


# --- the filter on journal rows, without an app -----------------------------------------------------------------------


def journal_row(
    transition: str = "acked", *, who: str | None = "alice", note: str | None = "seen", **alert: Any
) -> JournalRow:
    fields: dict[str, Any] = {"state": "active_acked", "acked_by": who, "ack_note": note} | alert
    return JournalRow(7, f.at(60), f.alert(**fields), transition, "cluster", who=who, note=note)


def test_the_history_filter_takes_the_rows_own_fields_and_every_alert_field() -> None:
    acked = journal_row()
    raised = journal_row("raised", who=None, note=None, state="active_unacked", code="door_open")
    for text, matches in [
        ("transition:acked", (True, False)),
        ("transition:ack by:ali", (True, False)),
        ("transition:re", (False, False)),
        ("transition:raised", (False, True)),
        ("by:bob", (False, False)),
        ("note:seen", (True, False)),
        ("server:clus", (True, True)),
        ("code:door", (False, True)),
        ("priority:high state:acked", (True, False)),
        ("state:unack", (False, True)),
        ("-transition:acked", (False, True)),
        ("alice", (True, False)),  # free text finds who and the note
        ("source:M-1 machine:M-1", (True, True)),
    ]:
        q = parse(text)
        assert not q.errors and q.warnings("history") == [], text
        assert (q.matches_history(acked), q.matches_history(raised)) == matches, text
    assert not parse(EXAMPLES["history"]).warnings("history")
    # the row's own fields do not apply to the Alerts screen's rows
    assert parse("transition:acked by:alice").warnings("alert") == [
        "transition: does not apply to alerts (ignored)",
        "by: does not apply to alerts (ignored)",
    ]


def test_server_text_in_a_row_is_drawn_inert() -> None:
    hostile = journal_row(who="\x1b]52;c;ZXZpbA==\x07mallory", note="[@click=app.quit]x[/] \x1b[31mred", code="\x9bE")
    for row in (history_row(hostile, f.at(60), source="M-1"), life_row(hostile, f.at(60))):
        for cell in row.cells:
            assert isinstance(cell, str)
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in cell), cell
    assert "[@click=app.quit]x[/]" in history_row(hostile, None, source="M-1").cells[7]  # shown as written


def test_the_isa_line_fits_80_and_160_columns_and_says_what_is_abnormal() -> None:
    from datetime import timedelta

    from console.alarm_metrics import AlarmFigures, PriorityMix

    def figures(**kw: Any) -> AlarmFigures:
        fields: dict[str, Any] = {
            "now": f.T0,
            "window": timedelta(hours=24),
            "covered": timedelta(hours=2),
            "raised": 24,
            "last_hour": 12,
            "last_10_min": 3,
            "peak_10_min": 7,
            "floods": [],
            "chattering": [],
            "stale": [],
            "mix": PriorityMix({"low": 15, "medium": 5, "high": 4}, 24),  # 24: enough to judge
            "top_codes": [],
            "repeats": [],
        }
        return AlarmFigures(**(fields | kw))

    calm, calm_alarm = isa_summary(figures(), 80)
    assert calm == "ISA-18.2 12/h 3/10m · flood 0 · chatter 0 · stale 0 · L+M 83% crit 0% ok" and not calm_alarm
    wide, _ = isa_summary(figures(), 160)
    assert "12 raised in 1 h, 3 in 10 min (peak 7)" in wide and "within guideline" in wide
    bad, alarm = isa_summary(figures(mix=PriorityMix({"critical": 5, "high": 19}, 24), stale=[None] * 3), 80)
    assert alarm and bad.endswith("L+M 0% crit 21% OUTSIDE") and "stale 3" in bad
    few, few_alarm = isa_summary(figures(mix=PriorityMix({"low": 2, "high": 1}, 3)), 80)
    assert few.endswith("L+M 67% crit 0% n=3") and not few_alarm
    assert "of 3: too few to judge the mix" in isa_summary(figures(mix=PriorityMix({"high": 3}, 3)), 160)[0]
    for width in (80, 160):
        for each in (figures(), figures(mix=PriorityMix({"critical": 5, "high": 19}, 24), floods=[None] * 2)):
            text, _ = isa_summary(each, width)
            assert len(text) <= width - 2, (width, text)  # within the line's padding


# --- against the simulator --------------------------------------------------------------------------------------------


def first_unacked(app: Any) -> Any:
    alerts = sorted(app.store.active_alerts(), key=lambda a: a.id)
    return next(a for a in alerts if a.state == "active_unacked")


async def alerts_cursor_on(pilot: Any, alert_id: str) -> DataGrid:
    app = pilot.app
    if not isinstance(app.screen, AlertsScreen):
        app.simulate_key("3")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.ready, what="Alerts")
        await settle(pilot)
    grid = app.screen.query_one("#list", DataGrid)
    grid.focus()
    assert grid.move_cursor_to(alert_id)
    await pilot.pause()
    return grid


async def ack_with_note(pilot: Any, note: str = NOTE) -> Any:
    """``a`` on the first unacknowledged alert, the note typed, enter: wait until the server's echo is in."""
    app = pilot.app
    alert = first_unacked(app)
    await alerts_cursor_on(pilot, alert.id)
    app.simulate_key("a")
    await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog), what="the ack dialog")
    field = app.screen.query_one("#note", Input)
    field.value = note
    await pilot.pause()
    app.simulate_key("enter")
    await wait_for(pilot, lambda: (app.store.alerts.get(alert.id) or alert).acked_by is not None, what="the ack")
    await settle(pilot)
    return alert


async def history_shown(pilot: Any) -> AlertHistoryScreen:
    """Wait until the history is up and has drawn the journal."""
    app = pilot.app

    def shown() -> bool:
        screen = app.screen
        return isinstance(screen, AlertHistoryScreen) and screen.ready and not screen.needs_rebuild

    await wait_for(pilot, shown, what="the history")
    return app.screen  # type: ignore[no-any-return]


async def detail_shown(pilot: Any, what: str = "the alert detail") -> AlertDetail:
    """Wait until the detail is up and has drawn its alert (its title names it)."""
    app = pilot.app

    def shown() -> bool:
        screen = app.screen
        return isinstance(screen, AlertDetail) and screen.alert_id in str(screen.query_one("#detail-title").content)

    await wait_for(pilot, shown, what=what)
    return app.screen  # type: ignore[no-any-return]


def footer_words(app: Any) -> set[str]:
    """The footer's ``key Description`` pairs as drawn now."""
    text = str(app.screen.query_one(ConsoleFooter).render())
    return {pair.strip() for pair in text.split("  ") if pair.strip()}


def fields_text(app: Any) -> str:
    return str(app.screen.query_one("#fields", Static).content)


def life_transitions(app: Any) -> list[str]:
    grid = app.screen.query_one("#life", DataGrid)
    return [str(grid.get_row(key).cells[1]) for key in grid.keys]  # type: ignore[union-attr]


async def test_ack_with_a_note_then_the_detail_shows_who_and_the_history_finds_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        operator = app.store.whoami.operator
        alert = await ack_with_note(pilot)

        # i: the alert's detail, with who acked it and the note, and its life
        await alerts_cursor_on(pilot, alert.id)
        app.simulate_key("i")
        assert (await detail_shown(pilot)).alert_id == alert.id
        assert f"by {operator}: {NOTE}" in fields_text(app)
        assert life_transitions(app)[0] == "raised" and "acked" in life_transitions(app)
        app.simulate_key("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen), what="back to Alerts")

        # H: the history; the filter finds the acknowledgement by transition and by who
        app.simulate_key("H")
        await history_shown(pilot)
        await settle(pilot)
        history = app.screen
        assert history.grid.row_count == len(app.store.journal) > 1
        await pilot.press("slash")
        history.query_one(Input).value = f"transition:acked by:{operator}"
        await settle(pilot)
        keys = history.grid.keys
        rows = [app.store.journal.row(int(key)) for key in keys]
        assert [(row.id, row.transition, row.who, row.note) for row in rows] == [(alert.id, "acked", operator, NOTE)]
        assert str(history.grid.get_row(keys[0]).cells[7]) == NOTE  # type: ignore[union-attr]
        await pilot.press("enter")  # leaves the filter box
        history.grid.focus()
        await pilot.press("enter")  # opens the detail of the row under the cursor
        assert (await detail_shown(pilot, "the detail from the history")).alert_id == alert.id

        # a filter nothing matches says so
        app.simulate_key("escape")
        await wait_for(pilot, lambda: app.screen is history, what="back to the history")
        history.set_filter("by:nobody-at-all")
        await settle(pilot)
        assert history.grid.row_count == 0 and history.grid.empty_message == "No history rows match the filter"


async def test_the_title_says_from_when_the_console_heard_and_what_the_earlier_rows_are(make_app: Any) -> None:
    # The simulator's opening scene has alerts raised before the console started: their rows come first-sighted
    # from the first snapshot, at their raised_at. The title said "since 08:00 UTC" above rows of 07:03, which
    # reads as a history complete since 08:00 that somehow holds older rows.
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ready(pilot)
        await pilot.press("3")
        app.simulate_key("H")
        history = await history_shown(pilot)
        await settle(pilot)
        journal = app.store.journal
        assert journal.since is not None and journal.rows[0].at < journal.since, "the scene's older alerts"
        title = str(history.query_one("#history-title", Label).content)
        heard = f"the console heard from {journal.since:%H:%M} UTC on (earlier rows: what its first snapshot held)"
        assert heard in title and "since" not in title


async def test_the_history_names_the_most_frequent_codes_and_the_repeats(make_app: Any) -> None:
    # ISA-18.2's top 10 most frequent codes and the repeats of one code on one source were worked out
    # (console.alarm_metrics) and shown nowhere on the Alerts side; the history, where the repeats are, names them.
    from console.alarm_metrics import figures_now
    from console.handover import isa_lines

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ready(pilot)
        await pilot.press("3")
        app.simulate_key("H")
        history = await history_shown(pilot)
        await settle(pilot)
        figures = figures_now(app.store.journal, app.server_clock)
        assert figures is not None and figures.top_codes
        line = str(history.query_one("#history-figures", Label).content)
        top, repeats = isa_lines(figures)[-2:]
        assert line == f"24 h: {top} · {repeats}"
        assert top.startswith("Most frequent codes: " + f"{figures.top_codes[0][0]} {figures.top_codes[0][1]}")


async def test_a_resolved_alert_stays_in_the_history_and_its_detail(make_app) -> None:
    """The condition clears in the simulator (``CLR-UNACK``), the operator acknowledges it: it resolves and leaves
    the Alerts screen, and the history and the detail still tell its whole story."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        server = app.test_server
        alert = first_unacked(app)
        kind, source_id, code = alert.source.kind, alert.source.id, alert.code
        server.call(lambda: server.sim._s.alerts.clear(server.sim.now(), kind, source_id, code))  # the condition goes
        await wait_for(pilot, lambda: app.store.alerts[alert.id].state == "cleared_unacked", what="the clear")
        await alerts_cursor_on(pilot, alert.id)
        app.simulate_key("a")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteDialog), what="the ack dialog")
        app.simulate_key("enter")
        await wait_for(pilot, lambda: alert.id not in app.store.alerts, what="the alert to resolve")
        await settle(pilot)
        assert [row.transition for row in app.store.journal.rows_of(alert.id)] == [
            "raised",
            "cleared",
            "acked",
            "resolved",
        ]
        app.simulate_key("H")
        await history_shown(pilot)
        history = app.screen
        history.set_filter(f"transition:resolved id:{alert.id}")
        await settle(pilot)
        assert history.grid.row_count == 1
        history.grid.focus()
        await pilot.press("i")
        await detail_shown(pilot)
        assert "resolved" in str(app.screen.query_one("#detail-title").content)
        assert life_transitions(app) == ["raised", "cleared", "acked", "resolved"]


async def test_every_new_key_has_words_in_the_footer_help_and_palette(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        app.simulate_key("3")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.ready, what="Alerts")
        help_rows = {keys: words for keys, words, _where in binding_rows(app.screen)}
        assert help_rows["i"] == "Detail: the alert's fields and its whole life"
        assert help_rows["H"] == "History: every transition of every alert"
        await wait_for(pilot, lambda: {"i Detail", "H History"} <= footer_words(app), what="the footer's keys")
        palette = [command.title for command in app.get_system_commands(app.screen)]
        assert "Alerts: History" in palette and "Alerts: Detail" in palette
        from console.palette import HISTORY_TITLE, EntityProvider

        hits = [hit async for hit in EntityProvider(app.screen).search("alert history")]
        assert hits and str(hits[0].match_display) == HISTORY_TITLE  # from any screen, not only Alerts
        app.simulate_key("H")
        await history_shown(pilot)
        await settle(pilot)
        history_rows = {(keys, words) for keys, words, _where in binding_rows(app.screen)}
        assert {("i", "Detail"), ("esc", "Back"), ("/", "Filter")} <= history_rows
        await wait_for(pilot, lambda: "i Detail" in footer_words(app), what="the history's footer")


# --- pictures ---------------------------------------------------------------------------------------------------------


def acked_then(*keys: str) -> Any:
    """A ``run_before``: ack the first unacknowledged alert with :data:`NOTE`, then press ``keys`` (each waits for a
    new screen), then a quiet header and no toasts."""

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        app.animation_level = "none"
        await wait_ready(pilot)
        alert = await ack_with_note(pilot)
        await alerts_cursor_on(pilot, alert.id)
        for name in keys:
            before = app.screen
            app.simulate_key(name)
            await wait_for(pilot, lambda before=before: app.screen is not before, what=f"{name} to open a screen")
            await settle(pilot)
        app.clear_notifications()
        await quiet(pilot)
        freeze(app)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_history_snapshot(snap_compare, make_app, size: tuple[int, int]) -> None:
    """``H`` after acknowledging an alert with a note: newest first, the ack with who and the note on top."""
    assert snap_compare(make_app(), terminal_size=size, run_before=acked_then("H"))


@pytest.mark.parametrize("size", SIZES)
def test_detail_snapshot(snap_compare, make_app, size: tuple[int, int]) -> None:
    """``i`` on the alert just acknowledged: its fields (acked by whom, the note) and its life."""
    assert snap_compare(make_app(), terminal_size=size, run_before=acked_then("i"))
