"""ISA-18.2 figures from hand-built journals at fixed times: rates, floods, chattering, stale alarms, the priority
mix against the guideline, top codes and repeats grouped by source and code."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

from console.alarm_metrics import (
    CHATTER_COUNT,
    DEFAULT_WINDOW,
    FLOOD_COUNT,
    AlarmFigures,
    alarm_figures,
    figures_now,
    floods,
)
from console.server_clock import ServerClock
from console.store.journal import AlertJournal, JournalRow
from tests.store import factories as f

NOW = f.at(48 * 3600)
"""Two days after ``f.T0``: the journals below are laid out backwards from here."""

_numbers = count(1)


def row(ago_s: float, transition: str = "raised", *, code: str = "E1", source: str = "M-1", **alert: Any) -> JournalRow:
    """A journal row ``ago_s`` seconds before :data:`NOW`."""
    at = NOW - timedelta(seconds=ago_s)
    fields: dict[str, Any] = {"id": f"A-{source}-{code}", "code": code, "raised_at": at, "updated_at": at} | alert
    return JournalRow(next(_numbers), at, f.alert(source_id=source, **fields), transition, "cluster")


def figures(rows: list[JournalRow], **kw: Any) -> AlarmFigures:
    return alarm_figures(rows, NOW, **kw)


def test_rates_count_annunciations_in_the_last_hour_and_ten_minutes() -> None:
    rows = [
        row(30),  # in the last 10 minutes
        row(300, "re-raised"),
        row(599),
        row(601),  # the last hour, not the last 10 minutes
        row(3599, code="E2"),
        row(3601, code="E3"),  # the window, not the last hour
        row(100, "count"),  # occurrences, not annunciations
        row(100, "acked", who="alice"),
        row(25 * 3600),  # before the window
    ]
    result = figures(rows)
    assert (result.raised, result.last_hour, result.last_10_min) == (6, 5, 3)
    assert result.peak_10_min == 4  # 30, 300, 599, 601 s ago: within 10 minutes of each other
    assert result.covered == DEFAULT_WINDOW and round(result.per_hour, 3) == round(6 / 24, 3)
    # a journal listening for two hours only averages over those two hours
    assert figures(rows, since=NOW - timedelta(hours=2)).per_hour == 3.0


def test_the_average_per_hour_counts_only_what_was_raised_while_the_journal_listened() -> None:
    # A console that started listening 30 minutes ago first saw, in its first snapshot, alerts raised up to 23 h
    # before: their rows are in the journal at their raised_at. Dividing every annunciation by the 30 minutes
    # heard made a quiet cluster read as a storm (the demo's handover said 50 an hour for 5 heard in 26 minutes).
    since = NOW - timedelta(minutes=30)
    rows = [row(23 * 3600), row(5 * 3600, code="E2"), row(3000, code="E3"), row(1200, code="E4"), row(60, code="E5")]
    result = figures(rows, since=since)
    assert result.raised == 5 and result.heard == 2 and result.covered == timedelta(minutes=30)
    assert result.per_hour == 4.0  # 2 in the half hour heard, not 5 in it (10.0)
    assert figures(rows).heard == 5  # no listening start given: the whole window was heard


def test_a_flood_is_more_than_ten_annunciations_in_ten_minutes() -> None:
    ten = [row(60 * i, source=f"M-{i}") for i in range(FLOOD_COUNT)]  # ten in nine minutes: not a flood
    assert figures(ten).floods == []
    eleven = [*ten, row(560, source="M-x")]
    [period] = figures(eleven).floods
    assert (period.start, period.end, period.count) == (NOW - timedelta(seconds=560), NOW, 11)
    # two bursts an hour apart are two periods; bursts whose ten-minute windows overlap are one
    later = [row(7200 + 30 * i, source=f"M-b{i}") for i in range(12)]
    assert [p.count for p in figures([*eleven, *later]).floods] == [12, 11]
    overlapping = [row(300 + 30 * i, source=f"M-c{i}") for i in range(11)]
    periods = figures([*eleven, *overlapping]).floods
    assert len(periods) == 1 and periods[0].count == 22


def test_floods_over_sorted_times_directly() -> None:
    times = [f.at(s) for s in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 599, 600, 5000)]
    [period] = floods(times)
    assert (period.start, period.end, period.count) == (f.at(0), f.at(600), 13)  # 600 is within 10 min of 1


def test_chattering_is_one_code_on_one_source_three_times_in_a_minute() -> None:
    rows = [
        row(100),
        row(80, "cleared"),
        row(70, "re-raised"),
        row(60, "cleared"),
        row(40, "re-raised"),  # three annunciations of M-1 E1 within 60 s
        row(500, source="M-2"),
        row(400, "re-raised", source="M-2"),
        row(300, "re-raised", source="M-2"),  # three, but over 200 s
        row(50, source="M-3", code="E9"),
        row(40, "count", source="M-3", code="E9"),
        row(30, "count", source="M-3", code="E9"),  # repeats while active are not chattering
        row(20, source="M-1", code="E2"),  # another code on the same source
    ]
    [chatter] = figures(rows).chattering
    assert (chatter.source_kind, chatter.source_id, chatter.code) == ("machine", "M-1", "E1")
    assert chatter.count == 3 and chatter.most_in_window == CHATTER_COUNT


def test_stale_alerts_have_been_active_for_more_than_a_day() -> None:
    day = 24 * 3600
    old = f.alert("A-old", raised_at=NOW - timedelta(seconds=day + 60))
    acked_old = f.alert("A-acked", state="active_acked", raised_at=NOW - timedelta(seconds=2 * day))
    young = f.alert("A-young", raised_at=NOW - timedelta(seconds=day - 60))
    cleared = f.alert("A-cleared", state="cleared_unacked", raised_at=NOW - timedelta(seconds=3 * day))
    shelved = f.alert("A-shelved", state="shelved", raised_at=NOW - timedelta(seconds=3 * day))
    back = f.alert("A-back", raised_at=NOW - timedelta(seconds=3 * day))
    rows = [row(3600, "re-raised", id="A-back")]  # active again only for an hour
    result = figures(rows, alerts=[old, acked_old, young, cleared, shelved, back])
    assert [s.alert.id for s in result.stale] == ["A-acked", "A-old"]
    assert result.stale[0].active_since == acked_old.raised_at


def test_the_priority_mix_against_the_guideline() -> None:
    def mix(**counts: int) -> Any:
        rows = [row(i, priority=p, source=f"{p}{i}") for p, n in counts.items() for i in range(n)]
        return figures(rows).mix

    bad = mix(low=12, medium=4, high=2, critical=2)
    assert (bad.low_medium, bad.critical, bad.within_guideline) == (0.8, 0.1, False)
    good = mix(low=14, medium=3, high=3)
    assert good.low_medium == 0.85 and good.critical == 0.0 and good.within_guideline is True
    too_few_low = mix(low=14, medium=0, high=6)
    assert too_few_low.within_guideline is False
    odd = mix(low=16, odd=4)
    assert odd.counts == {"low": 16, "other": 4} and odd.within_guideline is True
    # three alarms, one high: shares, but no verdict on so few
    few = mix(low=1, medium=1, high=1)
    assert few.total == 3 and round(few.low_medium, 2) == 0.67 and few.within_guideline is None
    assert figures([]).mix.within_guideline is None and figures([]).mix.total == 0


def test_top_ten_codes_by_occurrences() -> None:
    rows = [row(10 * i + k, code=f"C{i:02d}", source=f"M-{k}") for i in range(12) for k in range(12 - i)]
    top = figures(rows).top_codes
    assert len(top) == 10
    assert top[0] == ("C00", 12) and top[-1] == ("C09", 3)
    tied = figures([row(1, code="b"), row(2, code="a"), row(3, code="b", source="M-2")]).top_codes
    assert tied == [("b", 2), ("a", 1)]


def test_repeats_of_one_code_on_one_source_are_one_row_with_a_count() -> None:
    rows = [
        row(900, id="A-1"),
        row(800, "count", id="A-1"),
        row(700, "resolved", id="A-1"),
        row(600, id="A-2", priority="critical"),  # the same condition, a new alert id, its priority raised
        row(500, source="M-2"),
        row(400, code="E2"),
    ]
    repeats = figures(rows).repeats
    first = repeats[0]
    assert (first.source_id, first.code, first.count, first.priority) == ("M-1", "E1", 3, "critical")
    assert (first.first, first.last) == (NOW - timedelta(seconds=900), NOW - timedelta(seconds=600))
    assert sorted((r.source_id, r.code, r.count) for r in repeats[1:]) == [("M-1", "E2", 1), ("M-2", "E1", 1)]


def test_figures_now_reads_the_servers_clock_from_the_journal() -> None:
    journal = AlertJournal()
    clock = ServerClock(extrapolate=False)
    assert figures_now(journal, clock) is None  # no server time yet: no figures (never this machine's clock)
    for i in reversed(range(12)):  # oldest first, as a journal hears them
        at = NOW - timedelta(seconds=30 * i)
        journal.observe("cluster", f.alert(f"A-{i}", source_id=f"M-{i}", raised_at=at, updated_at=at))
    clock.reset(NOW)
    result = figures_now(journal, clock)
    assert result is not None and result.now == NOW
    assert result.last_10_min == 12 and len(result.floods) == 1
    assert result.covered == timedelta(seconds=330)  # since the journal started listening (its first alert)


def test_the_figures_import_neither_textual_nor_rich() -> None:
    import subprocess
    import sys

    code = "import sys, console.alarm_metrics; print(sorted(m for m in ('textual', 'rich') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
