"""What each list screen shows: its columns and how one object becomes one row (cells in column order, a style).

Why apart from the rules (``console.rules``): the order and the meaning of rows are domain facts; the words,
widths and glyphs of a table are presentation, and change with the screens.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from console.api.models import FINISHED_JOB_STATUSES, Alert, Job, Machine, Node, Quality
from console.formatting import age, clock, percent, until
from console.rules import MACHINE_STATE_RANK, UNACKED, job_at_risk, worst_cpk
from widgets.charset import pick
from widgets.data_grid import Column, RowData
from widgets.glyphs import alert_priority_look, job_status_look, kind_abbr, machine_state_look, node_state_look
from widgets.safe_text import clean

JOB_COLUMNS = [
    Column("id", "Job", width=12),
    Column("status", "Status", width=11),
    Column("part", "Part", min_width=10, flex=2),
    Column("machine", "Machine", min_width=9),
    Column("node", "Node", min_width=9),
    Column("priority", "P", width=2, align="right"),
    Column("due", "Due", width=5),
    Column("eta", "ETA", width=5),
    Column("risk", "Risk", width=7),
    Column("progress", "Done", width=5, align="right"),
]


QUEUE_COLUMNS = [
    Column("id", "Job", width=12),
    Column("status", "Status", width=11),
    Column("part", "Part", min_width=8),
    Column("priority", "P", width=2, align="right"),
    Column("eta", "ETA", width=5),
    Column("risk", "Risk", width=7),
]


def job_row(job: Job, nodes: Mapping[str, Node], machines: Mapping[str, Machine], *, queue: bool = False) -> RowData:
    look = job_status_look(job.status)
    risk = "AT RISK" if job_at_risk(job) else ""
    style = "row-high" if risk else ("row-muted" if job.status in FINISHED_JOB_STATUSES else _job_style(job.status))
    if queue:
        cells = [
            clean(job.id, 30),
            look.label,
            clean(job.part, 60),
            str(job.priority),
            clock(job.eta),
            risk,
        ]
        return RowData(job.id, cells, style, {"job": job})
    node = nodes.get(job.node_id) if job.node_id else None
    cells = [
        clean(job.id, 30),
        look.label,
        clean(job.part, 60),
        # Ids and cities: short and distinct, where names repeat the node's city.
        clean(job.machine_id or "-", 40),
        clean(node.city if node and node.city else (node.name if node else (job.node_id or "backlog")), 40),
        str(job.priority),
        clock(job.due_at),
        clock(job.eta),
        risk,
        percent(job.progress),
    ]
    return RowData(job.id, cells, style, {"job": job})


def _job_style(status: str) -> str:
    return {"paused": "row-paused", "failed": "row-fault"}.get(status, "")


ALERT_COLUMNS = [
    Column("priority", "Priority", width=10),
    Column("state", "State", width=9),
    Column("source", "Source", min_width=10),
    Column("code", "Code", min_width=8),
    Column("message", "Message", min_width=12, flex=3),
    Column("count", "#", width=3, align="right"),
    Column("age", "Age", width=6, align="right"),
]


ALERT_STATE_WORD = {
    "active_unacked": "UNACK",
    "active_acked": "acked",
    "cleared_unacked": "CLR-UNACK",
    "shelved": "shelved",
    "resolved": "resolved",
}


def alert_row(alert: Alert, now: datetime | None, *, compact: bool = False) -> RowData:
    look = alert_priority_look(alert.priority)
    state = ALERT_STATE_WORD.get(alert.state, clean(alert.state, 20))
    acked = alert.state not in UNACKED
    style = "row-muted" if acked or alert.state == "shelved" else f"row-{look.style}"
    source = f"{clean(alert.source.kind, 10)}:{clean(alert.source.id, 30)}"
    if compact:
        cells = [look.label, state, source, clean(alert.message, 200), age(alert.raised_at, now)]
    else:
        cells = [
            look.label,
            state,
            source,
            clean(alert.code, 40),
            clean(alert.message, 200),
            str(alert.count),
            age(alert.raised_at, now),
        ]
    return RowData(alert.id, cells, style, {"alert": alert})


COMPACT_ALERT_COLUMNS = [
    Column("priority", "Priority", width=10),
    Column("state", "State", width=9),
    Column("source", "Source", min_width=8),
    Column("message", "Message", min_width=10, flex=2),
    Column("age", "Age", width=6, align="right"),
]


SHELVED_COLUMNS = [
    Column("priority", "Priority", width=10),
    Column("source", "Source", min_width=10),
    Column("code", "Code", min_width=8),
    Column("message", "Message", min_width=12, flex=3),
    Column("until", "Until", width=8),
]


def shelved_row(alert: Alert, now: datetime | None) -> RowData:
    look = alert_priority_look(alert.priority)
    cells = [
        look.label,
        f"{clean(alert.source.kind, 10)}:{clean(alert.source.id, 30)}",
        clean(alert.code, 40),
        clean(alert.message, 200),
        until(alert.shelved_until, now) if alert.shelved_until else "-",
    ]
    return RowData(alert.id, cells, "row-muted", {"alert": alert})


NODE_COLUMNS = [
    Column("name", "Node", min_width=10),
    Column("city", "City", min_width=8),
    Column("location", "Lat, lon", width=16),
    Column("state", "State", width=11),
    Column("machines", "Machines by state", min_width=18, flex=2),
    Column("queue", "Queue", width=6, align="right"),
    Column("alerts", "Alerts", width=6, align="right"),
    Column("source", "Source", min_width=8),
    Column("seen", "Seen", width=7, align="right"),
]


def counts_text(counts: Mapping[str, int]) -> str:
    """``▶12 ◼3 ✖1``: machines by state, abnormal ones first, with glyphs (never colour alone)."""
    parts = []
    for state in sorted(counts, key=lambda s: MACHINE_STATE_RANK.get(s, -1)):
        if counts[state]:
            look = machine_state_look(state)
            parts.append(f"{look.glyph}{counts[state]} {look.word}")
    return " ".join(parts) or "-"


def node_row(
    node: Node,
    counts: Mapping[str, int],
    queue_depth: int,
    alerts: int,
    source: str,
    now: datetime | None,
) -> RowData:
    look = node_state_look(node.state)
    cells = [
        clean(node.name, 40),
        clean(node.city, 30),
        f"{node.lat:7.3f},{node.lon:8.3f}",
        look.label,
        counts_text(counts),
        str(queue_depth),
        str(alerts),
        clean(source, 20),
        age(node.last_seen, now),
    ]
    style = {"offline": "row-offline", "degraded": "row-high", "paused": "row-paused"}.get(node.state, "")
    return RowData(node.id, cells, style, {"node": node})


QUALITY_COLUMNS = [
    Column("name", "Scope", min_width=12, flex=2),
    Column("oee", "OEE", width=5, align="right"),
    Column("a", "Avail", width=5, align="right"),
    Column("p", "Perf", width=5, align="right"),
    Column("q", "Qual", width=5, align="right"),
    Column("fpy", "FPY", width=5, align="right"),
    Column("scrap", "Scrap", width=5, align="right"),
    Column("cpk", "Cpk", width=5, align="right"),
    Column("spc", "SPC", min_width=6),
]


def quality_row(quality: Quality, label: str) -> RowData:
    cpk = worst_cpk(quality)
    violations = sorted({v for s in quality.spc for v in s.violations})
    cells = [
        clean(label, 60),
        percent(quality.oee),
        percent(quality.availability),
        percent(quality.performance),
        percent(quality.quality_rate),
        percent(quality.first_pass_yield),
        percent(quality.scrap_rate, 1),
        f"{cpk:.2f}" if cpk is not None else "-",
        (pick("⚠ ", "! ") + ",".join(clean(v, 8) for v in violations)) if violations else "ok",
    ]
    style = "row-high" if violations or (cpk is not None and cpk < 1.0) else ""
    return RowData(f"{quality.scope}:{quality.id}", cells, style, {"quality": quality})


def machine_kind_label(machine: Machine) -> str:
    return kind_abbr(machine.kind)
