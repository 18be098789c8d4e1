"""Property-based, at the lowest level that can prove it: hostile but valid objects through the store, every sort,
every row builder, the filter language, the SPC chart and the text helpers, with the server clock set to any time.

Nothing may raise, and every cell a row builder makes must be inert text (``clean`` was applied). The app-level
suite (``test_faults_property_app``) then proves the same through the real screens on a smaller budget.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.style import Style
from rich.text import Text

from console import rules
from console.api.models import Event, Snapshot, SpcSeries
from console.formatting import age, clock, until
from console.screens import columns
from console.server_clock import ServerClock
from console.store import query
from console.store.store import Store
from tests.faults.hostile_strategies import aware_times, hostile_text, snapshots, spc_series
from tests.faults.terminal_bytes import foreign_sequences
from widgets.safe_text import clean, fit

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
BUDGET = settings(
    max_examples=5_000 if DEEP else 200,
    derandomize=not DEEP,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def _cells(row: Any) -> list[str]:
    """The text of every cell of a row (rows are tuples/lists of str, Text or Content)."""
    cells = getattr(row, "cells", row)
    return [str(getattr(cell, "plain", cell)) for cell in cells]


def _assert_inert_cells(row: Any) -> None:
    for cell in _cells(row):
        assert not foreign_sequences(cell), cell


@BUDGET
@given(snapshot=snapshots(size=3), now=st.none() | aware_times, filter_text=hostile_text)
def test_the_store_and_every_row_take_any_valid_object(
    snapshot: Snapshot, now: datetime | None, filter_text: str
) -> None:
    store = Store()
    store.register_source("cluster", kind="cluster")
    store.set_source_state("cluster", "live")
    store.apply_snapshot("cluster", snapshot)
    # The same objects again as live events (the incremental path), then removed jobs.
    seq = snapshot.seq
    events: list[Event] = []
    for machine in snapshot.machines:
        seq += 1
        events.append(Event(seq, "machine.updated", machine))
    for job in snapshot.jobs:
        seq += 1
        events.append(Event(seq, "job.updated", job))
    for alert in snapshot.alerts:
        seq += 1
        events.append(Event(seq, "alert.updated", alert))
    for quality in snapshot.quality:
        seq += 1
        events.append(Event(seq, "quality.updated", quality))
    store.apply_events("cluster", events)
    changes = store.take_changes()
    assert changes is not None

    clock_ = ServerClock(extrapolate=True)
    clock_.reset(snapshot.cluster.server_time)
    for machine in snapshot.machines:
        clock_.observe(machine.last_seen)
    server_now = clock_.now() if now is None else now

    machines = list(store.machines.values())
    jobs = list(store.jobs.values())
    alerts = list(store.alerts.values())
    for key, _label in rules.MACHINE_SORTS:
        rules.sort_machines(machines, key)
    for key in ("due", "priority", "status", "eta", "machine", "backlog"):
        rules.sort_jobs(jobs, key)
    for key in ("priority", "raised", "source", "state"):
        rules.sort_alerts(alerts, key)
    for job in jobs:
        rules.job_overdue(job, server_now)
        _assert_inert_cells(columns.job_row(job, store.nodes, store.machines))
        _assert_inert_cells(columns.job_row(job, store.nodes, store.machines, queue=True))
    for alert in alerts:
        _assert_inert_cells(columns.alert_row(alert, server_now))
        _assert_inert_cells(columns.alert_row(alert, server_now, compact=True))
        _assert_inert_cells(columns.shelved_row(alert, server_now))
    rules.alert_flood(alerts, server_now)
    for quality in store.quality.values():
        rules.worst_cpk(quality)
        _assert_inert_cells(columns.quality_row(quality, clean(quality.id)))
    rules.characteristics(list(store.quality.values()))
    for machine in machines:
        columns.machine_kind_label(machine)
        store.machine_telemetry(machine.id)
        for when in (machine.state_since, machine.last_seen):
            for text in (age(when, server_now), until(when, server_now), clock(when)):
                assert not foreign_sequences(text)

    parsed = query.parse(filter_text)
    assert parsed is not None


@BUDGET
@given(series=spc_series(), width=st.integers(min_value=1, max_value=200), height=st.integers(1, 40))
def test_the_spc_chart_draws_any_series(series: SpcSeries, width: int, height: int) -> None:
    from widgets.spc_chart import SpcChart

    chart = SpcChart()
    styles = {name: Style() for name in ("title", "data", "violation", "limit", "spec", "centre", "muted")}
    out = Text()
    chart._title(out, series, width, styles)
    from widgets.spc_chart import _LABEL_WIDTH, chart_marks

    marks = chart_marks(series, max(1, width - _LABEL_WIDTH - 1))
    chart._plot(out, series, width, max(2, height - 2), styles, marks)
    assert not foreign_sequences(out.plain)


@BUDGET
@given(text=hostile_text, width=st.integers(min_value=-5, max_value=300), max_len=st.none() | st.integers(0, 500))
def test_the_sanitiser_leaves_nothing_a_terminal_acts_on(text: str, width: int, max_len: int | None) -> None:
    cleaned = clean(text, max_len)
    assert not foreign_sequences(cleaned)
    assert not foreign_sequences(fit(text, width))
    if max_len is not None:
        assert len(cleaned) <= max(max_len, 0) or cleaned == ""


@BUDGET
@given(server_time=aware_times, seen=aware_times, elapsed=st.floats(min_value=0, max_value=1e9))
def test_the_server_clock_takes_any_time(server_time: datetime, seen: datetime, elapsed: float) -> None:
    """``Cluster.server_time = 9999-12-31T23:59:59Z`` used to kill the console seconds after start (OverflowError)."""
    monotonic = [0.0]
    server_clock = ServerClock(monotonic=lambda: monotonic[0])
    server_clock.reset(server_time)
    monotonic[0] = elapsed
    now = server_clock.now()
    assert now is not None
    server_clock.observe(seen)
    assert server_clock.now() is not None
    assert not foreign_sequences(age(seen, now) + until(seen, now) + clock(now))


def test_the_server_clock_at_the_end_of_the_calendar() -> None:
    from datetime import UTC

    monotonic = [0.0]
    server_clock = ServerClock(monotonic=lambda: monotonic[0])
    server_clock.reset(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    monotonic[0] = 5.0
    assert server_clock.now() == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    server_clock.observe(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    assert clock(server_clock.now()) == "23:59"
