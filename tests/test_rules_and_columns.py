"""The screens' domain facts: sort orders, at-risk jobs, alert floods, and what a row says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.api.models import Alert, Design, Job, SourceRef
from console.formatting import age, duration, progress_bar, until
from console.rules import alert_flood, job_at_risk, sort_alerts, sort_jobs
from console.screens.columns import alert_row, counts_text, job_row

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
