"""Domain facts for the screens, as pure functions: sort orders, at-risk jobs, alert floods, and table rows.

Screens compose widgets and bind keys; what a row says and in which order rows come is decided here, where it can be
unit-tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from console.api.models import ALERT_PRIORITY_RANK, FINISHED_JOB_STATUSES, Alert, Job, Machine, Node, Quality
from console.formatting import age, clock, percent, shifted, until
from widgets.data_grid import Column, RowData
from widgets.glyphs import alert_priority_look, job_status_look, kind_abbr, machine_state_look, node_state_look
from widgets.safe_text import clean

# --- machines -----------------------------------------------------------------------------------------------------

MACHINE_STATE_RANK = {"fault": 0, "blocked": 1, "offline": 2, "maintenance": 3, "paused": 4, "running": 5, "idle": 6}

MACHINE_SORTS: list[tuple[str, str]] = [
    ("node", "node, name"),
    ("state", "state (abnormal first)"),
    ("name", "name"),
    ("kind", "kind"),
    ("progress", "progress"),
]


def machine_sort_key(key: str) -> Callable[[Machine], Any]:
    if key == "state":
        return lambda m: (MACHINE_STATE_RANK.get(m.state, -1), m.node_id, m.name)
    if key == "name":
        return lambda m: (m.name.lower(), m.id)
    if key == "kind":
        return lambda m: (m.kind, m.name.lower())
    if key == "progress":
        return lambda m: (m.progress if m.progress is not None else -1.0, m.name.lower())
    return lambda m: (m.node_id, m.name.lower(), m.id)


def sort_machines(machines: Iterable[Machine], key: str, reverse: bool = False) -> list[Machine]:
    return sorted(machines, key=machine_sort_key(key), reverse=reverse)


# --- jobs -----------------------------------------------------------------------------------------------------------


def job_at_risk(job: Job) -> bool:
    """At risk: its ETA is past its due time (or it is unfinished and already overdue, with no ETA)."""
    if job.status in FINISHED_JOB_STATUSES:
        return False
    if job.eta is not None:
        return job.eta > job.due_at
    return False


def job_overdue(job: Job, now: datetime | None) -> bool:
    return now is not None and job.status not in FINISHED_JOB_STATUSES and job.due_at < now


JOB_STATUS_RANK = {"queued": 0, "assigned": 1, "running": 2, "paused": 3, "failed": 4, "completed": 5, "cancelled": 6}

JOB_SORTS: list[tuple[str, str]] = [
    ("backlog", "backlog first, then priority and due"),
    ("due", "due time"),
    ("priority", "priority"),
    ("status", "status"),
    ("eta", "ETA"),
    ("machine", "machine"),
]

_FAR = datetime.max.replace(tzinfo=None)


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("inf")


def job_sort_key(key: str) -> Callable[[Job], Any]:
    if key == "due":
        return lambda j: (_ts(j.due_at), j.priority, j.id)
    if key == "priority":
        return lambda j: (j.priority, _ts(j.due_at), j.id)
    if key == "status":
        return lambda j: (JOB_STATUS_RANK.get(j.status, -1), j.priority, _ts(j.due_at), j.id)
    if key == "eta":
        return lambda j: (_ts(j.eta), j.id)
    if key == "machine":
        return lambda j: (j.machine_id or "", j.queue_position if j.queue_position is not None else 1 << 30, j.id)
    # The cluster backlog (not yet on any node) first: it is what the cluster has not found a home for. Then the
    # jobs at risk, then the rest by priority and due time; finished jobs last.
    return lambda j: (
        j.status in FINISHED_JOB_STATUSES,
        j.node_id is not None,
        not job_at_risk(j),
        j.priority,
        _ts(j.due_at),
        j.id,
    )


def sort_jobs(jobs: Iterable[Job], key: str, reverse: bool = False) -> list[Job]:
    return sorted(jobs, key=job_sort_key(key), reverse=reverse)


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


# --- alerts ---------------------------------------------------------------------------------------------------------

UNACKED = frozenset({"active_unacked", "cleared_unacked"})
ALERT_STATE_RANK = {"active_unacked": 0, "cleared_unacked": 1, "active_acked": 2, "shelved": 3}

ALERT_SORTS: list[tuple[str, str]] = [
    ("priority", "priority, unacknowledged first, then age"),
    ("age", "age (newest first)"),
    ("source", "source"),
    ("count", "count"),
]


def alert_sort_key(key: str) -> Callable[[Alert], Any]:
    if key == "age":
        return lambda a: (-a.raised_at.timestamp(), a.id)
    if key == "source":
        return lambda a: (a.source.kind, a.source.id, ALERT_PRIORITY_RANK.get(a.priority, 9))
    if key == "count":
        return lambda a: (-a.count, ALERT_PRIORITY_RANK.get(a.priority, 9))
    # Priority first; within it unacknowledged before acknowledged (still active before cleared), then newest first.
    return lambda a: (
        ALERT_PRIORITY_RANK.get(a.priority, 9),
        ALERT_STATE_RANK.get(a.state, 4),
        -a.raised_at.timestamp(),
        a.id,
    )


def sort_alerts(alerts: Iterable[Alert], key: str = "priority", reverse: bool = False) -> list[Alert]:
    return sorted(alerts, key=alert_sort_key(key), reverse=reverse)


def alert_flood(
    alerts: Iterable[Alert], now: datetime | None, *, window: timedelta = timedelta(minutes=10), threshold: int = 10
) -> int:
    """How many alerts were raised in the last ``window``; a flood when it is more than ``threshold``."""
    if now is None:
        return 0
    since = shifted(now, -window)
    return sum(1 for a in alerts if a.raised_at >= since)


ALERT_COLUMNS = [
    Column("priority", "Priority", width=10),
    Column("state", "State", width=9),
    Column("source", "Source", min_width=10),
    Column("code", "Code", min_width=8),
    Column("message", "Message", min_width=12, flex=3),
    Column("count", "×", width=3, align="right"),
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


# --- nodes ----------------------------------------------------------------------------------------------------------

NODE_SORTS: list[tuple[str, str]] = [
    ("name", "name"),
    ("state", "state"),
    ("queue", "queue depth"),
    ("alerts", "active alerts"),
]

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


def node_sort_key(key: str, queue: Mapping[str, int], alerts: Mapping[str, int]) -> Callable[[Node], Any]:
    if key == "state":
        rank = {"offline": 0, "degraded": 1, "paused": 2, "online": 3}
        return lambda n: (rank.get(n.state, -1), n.name)
    if key == "queue":
        return lambda n: (-queue.get(n.id, 0), n.name)
    if key == "alerts":
        return lambda n: (-alerts.get(n.id, 0), n.name)
    return lambda n: (n.name.lower(), n.id)


# --- quality --------------------------------------------------------------------------------------------------------

QUALITY_SORTS: list[tuple[str, str]] = [
    ("oee", "OEE (worst first)"),
    ("name", "name"),
    ("fpy", "first-pass yield"),
    ("scrap", "scrap rate"),
    ("cpk", "worst Cpk"),
]

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


def worst_cpk(quality: Quality) -> float | None:
    values = [s.cpk for s in quality.spc if s.cpk is not None]
    return min(values) if values else None


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
        ("⚠ " + ",".join(clean(v, 8) for v in violations)) if violations else "ok",
    ]
    style = "row-high" if violations or (cpk is not None and cpk < 1.0) else ""
    return RowData(f"{quality.scope}:{quality.id}", cells, style, {"quality": quality})


def quality_sort_key(key: str, labels: Mapping[tuple[str, str], str]) -> Callable[[Quality], Any]:
    if key == "name":
        return lambda q: (q.scope != "node", labels.get(q.key, q.id).lower())
    if key == "fpy":
        return lambda q: q.first_pass_yield
    if key == "scrap":
        return lambda q: -q.scrap_rate
    if key == "cpk":
        return lambda q: worst_cpk(q) if worst_cpk(q) is not None else 99.0
    return lambda q: q.oee


def characteristics(qualities: Sequence[Quality]) -> list[str]:
    """Every SPC characteristic measured anywhere, in a stable order."""
    seen: dict[str, None] = {}
    for quality in qualities:
        for series in quality.spc:
            seen.setdefault(series.characteristic, None)
    return sorted(seen)


def machine_kind_label(machine: Machine) -> str:
    return kind_abbr(machine.kind)
