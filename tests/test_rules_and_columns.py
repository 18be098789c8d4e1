"""The screens' domain facts: sort orders, at-risk and overdue jobs, ETAs, Cpk status, alert floods, and what a row
says."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from console.api.models import Alert, Design, Job, Machine, Quality, SourceRef, SpcSeries
from console.formatting import age, duration, progress_bar, until
from console.rules import (
    CPK_CAPABLE,
    CPK_POOR,
    JOB_SORTS,
    STALLED_MACHINE_STATES,
    alert_flood,
    cpk_status,
    job_at_risk,
    job_eta,
    job_lateness,
    job_overdue,
    sort_alerts,
    sort_jobs,
    worst_characteristic,
    worst_series,
)
from console.screens.columns import (
    JOB_COLUMNS,
    QUEUE_COLUMNS,
    RISK_WIDTH,
    alert_row,
    counts_text,
    eta_text,
    job_row,
    oee_window_text,
    quality_row,
    risk_text,
    spc_text,
)
from widgets.data_grid import column_widths

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def job(
    job_id: str,
    *,
    status: str = "queued",
    node: str | None = None,
    priority: int = 3,
    due_h: float = 4,
    eta_h: float | None = None,
) -> Job:
    return Job(
        id=job_id,
        order_id="O-1",
        part="bracket",
        design=Design(file="b.step", sha256="0" * 64),
        process="fdm",
        material="PLA",
        size_mm=(10, 10, 10),
        quantity=1,
        done_qty=0,
        scrap_qty=0,
        priority=priority,
        due_at=NOW + timedelta(hours=due_h),
        status=status,
        node_id=node,
        progress=0.0,
        eta=None if eta_h is None else NOW + timedelta(hours=eta_h),
        created_at=NOW,
        customer_region="Leeds",
    )


def alert(alert_id: str, priority: str, state: str, minutes_ago: float) -> Alert:
    return Alert(
        id=alert_id,
        priority=priority,
        state=state,
        source=SourceRef(kind="machine", id="M-1"),
        code="c",
        message="[bold red]boom\x1b[2J",
        raised_at=NOW - timedelta(minutes=minutes_ago),
        updated_at=NOW,
    )


def test_at_risk_is_an_eta_past_the_due_time():
    assert job_at_risk(job("a", eta_h=5, due_h=4))
    assert not job_at_risk(job("b", eta_h=3, due_h=4))
    assert not job_at_risk(job("c", eta_h=None))
    assert not job_at_risk(job("d", status="completed", eta_h=5, due_h=4))


def test_backlog_first_then_at_risk_then_priority_finished_last():
    jobs = [
        job("done", status="completed", node="N1", priority=1),
        job("placed", status="assigned", node="N1", priority=1),
        job("risky", status="assigned", node="N1", priority=5, eta_h=9, due_h=1),
        job("backlog", status="queued", node=None, priority=5),
    ]
    assert [j.id for j in sort_jobs(jobs, "backlog")] == ["backlog", "risky", "placed", "done"]
    assert [j.id for j in sort_jobs(jobs, "priority")][:2] == ["done", "placed"]


def test_alerts_by_priority_active_unacked_first_then_newest():
    alerts = [
        alert("low", "low", "active_unacked", 1),
        alert("acked", "critical", "active_acked", 1),
        alert("cleared", "critical", "cleared_unacked", 1),
        alert("old", "critical", "active_unacked", 30),
        alert("new", "critical", "active_unacked", 2),
        alert("weird", "apocalyptic", "active_unacked", 1),
    ]
    assert [a.id for a in sort_alerts(alerts)] == ["new", "old", "cleared", "acked", "low", "weird"]


def test_flood_counts_alerts_raised_in_the_window():
    alerts = [alert(str(i), "high", "active_unacked", i) for i in range(15)]
    assert alert_flood(alerts, NOW) == 11  # minutes 0..10 inclusive
    assert alert_flood(alerts, None) == 0


def test_rows_carry_server_text_inert():
    row = alert_row(alert("a", "critical", "active_unacked", 3), NOW)
    message = row.cells[4]
    assert "\x1b" not in message and "[bold red]boom" in message
    assert row.style == "row-critical"


def test_job_row_marks_risk_and_backlog():
    row = job_row(job("j", eta_h=9, due_h=1), {}, {})
    assert "AT RISK" in row.cells and "backlog" in row.cells
    assert row.style == "row-high"


def test_counts_text_puts_abnormal_first_and_uses_words():
    text = counts_text({"running": 3, "fault": 1, "idle": 0})
    assert text.index("fault") < text.index("running")
    assert "idle" not in text


def test_formatting():
    assert duration(42) == "42s" and duration(300) == "5m" and duration(3 * 3600 + 720) == "3h12m"
    assert age(NOW - timedelta(minutes=5), NOW) == "5m"
    assert until(NOW + timedelta(minutes=5), NOW) == "in 5m"
    assert until(NOW - timedelta(minutes=5), NOW) == "5m ago"
    assert progress_bar(0.5, 8) == "████    "
    assert progress_bar(None, 3) == "   "


# --- overdue, at risk and ETAs on the server's clock (issue 12) ---------------------------------------------------

MACHINE_STATES = ["idle", "running", "paused", "blocked", "fault", "maintenance", "offline", "warp"]


def on_machine(j: Job, machine_id: str = "M-1") -> Job:
    return j.model_copy(update={"machine_id": machine_id, "node_id": "N1"})


def machine(state: str, machine_id: str = "M-1") -> Machine:
    return Machine.model_validate(
        {
            "id": machine_id,
            "node_id": "N1",
            "name": "Leeds Prusa",
            "kind": "fdm_printer",
            "model": "MK4",
            "state": state,
            "state_since": NOW,
            "envelope_mm": (200.0, 200.0, 200.0),
            "last_seen": NOW,
        }
    )


def test_overdue_is_its_own_flag_with_how_late_on_the_server_clock():
    late = job("late", status="running", node="N1", due_h=-14 / 60, eta_h=0.5)
    assert job_overdue(late, NOW) and job_lateness(late, NOW) == timedelta(minutes=14)
    assert risk_text(late, NOW) == "LATE 14m"
    assert not job_at_risk(late, NOW)  # overdue, not "at risk": two flags, never both
    # The server's clock decides, not the wall clock: the same job is fine two hours earlier on the server.
    assert risk_text(late, NOW - timedelta(hours=2)) == "AT RISK"  # its ETA is still past its due time
    assert not job_overdue(late, None) and job_lateness(late, None) is None
    assert risk_text(job("done", status="completed", due_h=-3), NOW) == ""
    assert risk_text(job("long", due_h=-50), NOW) == "LATE 2d2h"


def test_job_rows_and_queues_show_late_and_at_risk_apart():
    late = job_row(job("late", status="queued", node="N1", due_h=-0.5), {}, {}, now=NOW)
    risky = job_row(job("risky", status="queued", node="N1", due_h=1, eta_h=2), {}, {}, now=NOW)
    fine = job_row(job("fine", status="queued", node="N1", due_h=3, eta_h=2), {}, {}, now=NOW)
    assert "LATE 30m" in late.cells and "AT RISK" not in late.cells
    assert "AT RISK" in risky.cells
    assert "LATE" not in " ".join(map(str, fine.cells)) and "AT RISK" not in fine.cells
    queue = job_row(job("late", status="queued", node="N1", due_h=-0.5), {}, {}, queue=True, now=NOW)
    assert queue.cells[-1] == "LATE 30m" and late.style == risky.style == "row-high"


def test_a_stale_eta_is_shown_late_or_unknown_never_as_a_past_time():
    # A queued job at 12:38 with ETA 12:32 (the example).
    stale = job("q", status="queued", node="N1", due_h=2, eta_h=-6 / 60)
    now = NOW + timedelta(minutes=0)
    assert job_eta(stale, now).kind == "late"
    assert job_row(stale, {}, {}, now=now).cells[7] == "late"
    # A job on a machine in fault for 16 minutes keeps no ETA from before the fault.
    running = on_machine(job("r", status="running", due_h=4, eta_h=1))
    view = job_eta(running, NOW, machine("fault"))
    assert view.kind == "unknown" and view.reason == "machine fault"
    assert job_row(running, {}, {"M-1": machine("fault")}, now=NOW).cells[7] == "?"
    # On a running machine, a future ETA is shown as it is.
    assert job_row(running, {}, {"M-1": machine("running")}, now=NOW).cells[7] == "13:00"
    assert eta_text(job_eta(job("d", status="completed", eta_h=1), NOW)) == "--:--"


@given(
    eta_min=st.one_of(st.none(), st.integers(-600, 600)),
    due_min=st.integers(-600, 600),
    status=st.sampled_from(["queued", "assigned", "running", "paused", "completed", "failed", "cancelled", "warp"]),
    state=st.one_of(st.none(), st.sampled_from(MACHINE_STATES)),
    now_min=st.integers(-600, 600),
)
def test_an_eta_shown_is_never_before_now(eta_min, due_min, status, state, now_min):
    j = on_machine(job("j", status=status, due_h=due_min / 60, eta_h=None if eta_min is None else eta_min / 60))
    now = NOW + timedelta(minutes=now_min)
    m = machine(state) if state is not None else None
    view = job_eta(j, now, m)
    if view.kind == "time":
        assert view.at is not None and view.at >= now
        assert state not in STALLED_MACHINE_STATES and status != "paused"
    cell = job_row(j, {}, {"M-1": m} if m else {}, now=now).cells[7]
    if ":" in cell and cell != "--:--":
        assert view.at is not None and cell == view.at.strftime("%H:%M")
    # overdue and at risk never both; an overdue row says how late
    assert not (job_overdue(j, now) and job_at_risk(j, now))
    risk = risk_text(j, now)
    assert len(risk) <= RISK_WIDTH
    assert risk.startswith("LATE ") == job_overdue(j, now)


def test_the_risk_column_is_whole_at_80_columns():
    # At 80 columns the grid lays out 76 cells (80 less the vertical scrollbar and the 2-cell mark): every column
    # whole, the node's city too.
    for columns in (JOB_COLUMNS, QUEUE_COLUMNS):
        widths = column_widths(columns, 76)
        keys = [c.key for c in columns]
        assert widths[keys.index("risk")] == RISK_WIDTH
        assert sum(widths) + len(columns) - 1 <= 76, widths
    node = [c.key for c in JOB_COLUMNS].index("node")
    assert column_widths(JOB_COLUMNS, 76)[node] >= len("Sheffield")


def test_each_job_sort_says_what_its_header_arrow_shows():
    from console.screens.jobs import JobsScreen

    labels = {c.key: c.label for c in JOB_COLUMNS}
    for key, description in JOB_SORTS:
        column = JobsScreen.SORT_COLUMNS[key]
        assert description.startswith(labels[column] + ":"), (key, description)


def test_risk_sort_puts_overdue_then_at_risk_first():
    jobs = [
        job("fine", node="N1", due_h=1, eta_h=0.5),
        job("risky", node="N1", due_h=2, eta_h=3),
        job("later", node="N1", due_h=-0.2),
        job("latest", node="N1", due_h=-2),
        job("done", status="completed", node="N1", due_h=-5),
    ]
    assert [j.id for j in sort_jobs(jobs, "risk", now=NOW)] == ["latest", "later", "risky", "fine", "done"]


# --- quality: the status follows the figures ----------------------------------------------------------------------


def series(cpk: float | None, violations: list[str] | None = None, characteristic: str = "bore") -> SpcSeries:
    return SpcSeries(
        characteristic=characteristic,
        unit="mm",
        nominal=10,
        lsl=9.9,
        usl=10.1,
        lcl=9.95,
        ucl=10.05,
        values=[10.0] * 5,
        violations=violations or [],
        cpk=cpk,
    )


def quality(*spc: SpcSeries, window_h: float = 8) -> Quality:
    return Quality(
        scope="node",
        id="N1",
        window_h=window_h,
        oee=0.8,
        availability=0.9,
        performance=0.9,
        quality_rate=0.99,
        first_pass_yield=0.97,
        scrap_rate=0.01,
        good_count=99,
        scrap_count=1,
        spc=list(spc),
    )


def test_cpk_below_capable_is_never_ok():
    assert spc_text(quality(series(0.83))) == "poor"
    assert spc_text(quality(series(0.74), series(1.9))) == "poor"  # the worst Cpk counts
    assert spc_text(quality(series(1.2))) == "marginal"
    assert spc_text(quality(series(1.33))) == "ok"
    assert spc_text(quality(series(None))) == "no Cpk"
    assert quality_row(quality(series(0.83)), "n").style == "row-high"
    assert quality_row(quality(series(1.2)), "n").style == "row-medium"


def test_broken_rules_are_named_in_words_not_codes():
    text = spc_text(quality(series(1.5, ["we1", "we2"]), series(1.6, ["we4"])))
    assert text.startswith("capable ⚠ ")  # a capable Cpk, but rules broken now: not "ok"
    assert "rule 1: a point beyond 3 sigma" in text and "rule 2: 2 of 3 beyond 2 sigma" in text
    assert "rule 4: 8 in a row on one side" in text and "we1" not in text
    assert "we9" in spc_text(quality(series(1.5, ["we9"])))  # an unknown code is shown as it is


def test_the_worst_series_is_the_one_with_broken_rules_then_the_lowest_cpk():
    capable, poor = series(1.7, characteristic="capable"), series(0.8, characteristic="poor")
    broken, unknown = series(1.4, ["we3"], characteristic="broken"), series(None, characteristic="unknown")
    assert worst_series(quality(capable, poor, unknown)) is poor
    assert worst_series(quality(capable, poor, broken)) is broken  # a rule broken now comes before a low Cpk
    assert worst_series(quality(unknown, capable)) is capable
    assert worst_series(quality()) is None
    # The Quality screen opens on the worst characteristic anywhere, not the first name in the alphabet.
    assert worst_characteristic([quality(capable), quality(unknown, poor)]) == "poor"
    assert worst_characteristic([quality(capable), quality(broken)]) == "broken"
    assert worst_characteristic([]) is None


@given(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_status_agrees_with_cpk(cpk):
    status = cpk_status(cpk)
    if cpk is None or cpk != cpk:
        assert status == "unknown"
    elif cpk >= CPK_CAPABLE:
        assert status == "ok"
    elif cpk >= CPK_POOR:
        assert status == "marginal"
    else:
        assert status == "poor"
    if cpk is None or math.isfinite(cpk):  # a Quality's Cpk is finite
        shown = spc_text(quality(series(cpk)))
        assert (shown == "ok") == (cpk is not None and cpk >= 1.33)


def test_oee_window_is_stated():
    assert oee_window_text([8.0, 8.0]) == "the last 8 h"
    assert oee_window_text([8.0, 0.5]) == "the last 0.5 h to 8 h"
    assert oee_window_text([]) == "-"
