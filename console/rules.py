"""Domain rules the screens share, as pure functions: which state is worse, how each list sorts, when a job is at
risk or overdue, when alerts flood, a quality record's worst Cpk.

Why here and not in a screen: these are facts about the cluster, decided once and unit-tested without a terminal;
the table columns and row builders that show them are in ``console.screens.columns``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from console.api.models import ALERT_PRIORITY_RANK, FINISHED_JOB_STATUSES, Alert, Job, Machine, Node, Quality
from console.formatting import shifted

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


NODE_SORTS: list[tuple[str, str]] = [
    ("name", "name"),
    ("state", "state"),
    ("queue", "queue depth"),
    ("alerts", "active alerts"),
]


def node_sort_key(key: str, queue: Mapping[str, int], alerts: Mapping[str, int]) -> Callable[[Node], Any]:
    if key == "state":
        rank = {"offline": 0, "degraded": 1, "paused": 2, "online": 3}
        return lambda n: (rank.get(n.state, -1), n.name)
    if key == "queue":
        return lambda n: (-queue.get(n.id, 0), n.name)
    if key == "alerts":
        return lambda n: (-alerts.get(n.id, 0), n.name)
    return lambda n: (n.name.lower(), n.id)


QUALITY_SORTS: list[tuple[str, str]] = [
    ("oee", "OEE (worst first)"),
    ("name", "name"),
    ("fpy", "first-pass yield"),
    ("scrap", "scrap rate"),
    ("cpk", "worst Cpk"),
]


def worst_cpk(quality: Quality) -> float | None:
    values = [s.cpk for s in quality.spc if s.cpk is not None]
    return min(values) if values else None


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
