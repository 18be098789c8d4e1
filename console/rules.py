"""Domain rules the screens share, as pure functions: which state is worse, how each list sorts, when a job is at
risk or overdue, when alerts flood, a quality record's worst Cpk.

Why here and not in a screen: these are facts about the cluster, decided once and unit-tested without a terminal;
the table columns and row builders that show them are in ``console.screens.columns``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from console.api.models import ALERT_PRIORITY_RANK, FINISHED_JOB_STATUSES, Alert, Job, Machine, Node, Quality, SpcSeries
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


def job_overdue(job: Job, now: datetime | None) -> bool:
    """Overdue: its due time has passed on the server's clock and it is not finished."""
    return now is not None and job.status not in FINISHED_JOB_STATUSES and job.due_at < now


def job_lateness(job: Job, now: datetime | None) -> timedelta | None:
    """How late an overdue job is (``now - due_at``); ``None`` when it is not overdue."""
    if now is None or not job_overdue(job, now):
        return None
    return now - job.due_at


def job_at_risk(job: Job, now: datetime | None = None) -> bool:
    """At risk: unfinished, not yet overdue, and expected to finish after its due time (its ETA is past it).

    Judged on the server's clock (``now``): an overdue job is flagged as overdue, not at risk; without ``now`` only
    the ETA is compared. A stale ETA (in the past, or on a stopped machine) only moves later, so comparing the ETA
    the server gave with the due time never clears a job that really is at risk.
    """
    if job.status in FINISHED_JOB_STATUSES or job_overdue(job, now):
        return False
    return job.eta is not None and job.eta > job.due_at


STALLED_MACHINE_STATES = frozenset({"fault", "blocked", "offline", "paused", "maintenance"})
"""A job on a machine in one of these states makes no progress: its ETA cannot be met."""

EtaKind = Literal["time", "late", "unknown", "none"]


@dataclass(frozen=True, slots=True)
class EtaView:
    """What to show for a job's ETA: ``time`` (``at``, never before now), ``late`` (the ETA passed and the job is not
    done), ``unknown`` (it cannot be met: its machine or the job is stopped; ``reason`` says why) or ``none``
    (finished, or the server gave none)."""

    kind: EtaKind
    at: datetime | None = None
    reason: str = ""


def job_eta(job: Job, now: datetime | None, machine: Machine | None = None) -> EtaView:
    """The ETA worth showing for ``job`` at ``now`` (server clock), given the machine it is on (if known).

    The rule: a finished job or one without an ETA shows none; a job on a stopped machine (fault, blocked, offline,
    paused, maintenance) or itself paused has an unknown ETA (the server's figure was made while it ran); an ETA
    already past on the server's clock is late; otherwise the server's ETA. So a time shown is never before ``now``.
    """
    if job.status in FINISHED_JOB_STATUSES or job.eta is None:
        return EtaView("none")
    if machine is not None and job.machine_id == machine.id and machine.state in STALLED_MACHINE_STATES:
        return EtaView("unknown", reason=f"machine {machine.state}")
    if job.status == "paused":
        return EtaView("unknown", reason="job paused")
    if now is not None and job.eta < now:
        return EtaView("late", reason="ETA passed")
    return EtaView("time", job.eta)


JOB_STATUS_RANK = {"queued": 0, "assigned": 1, "running": 2, "paused": 3, "failed": 4, "completed": 5, "cancelled": 6}


JOB_SORTS: list[tuple[str, str]] = [
    ("backlog", "Node: the backlog (on no node) first, then ETA past due, then priority and due"),
    ("risk", "Risk: overdue (latest first), then at risk, then due"),
    ("due", "Due: due time"),
    ("priority", "P: priority, then due"),
    ("status", "Status: status, then priority and due"),
    ("eta", "ETA: the server's ETA"),
    ("machine", "Machine: machine, then queue position"),
]
"""Each sort: its key and what the toast says, starting with the header of the column that carries the arrow (so the
two say the same thing; ``JobsScreen.sort_column`` maps the key to that column)."""

_FAR = datetime.max.replace(tzinfo=None)


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("inf")


def job_sort_key(key: str, now: datetime | None = None) -> Callable[[Job], Any]:
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
    if key == "risk":
        # Overdue first (the earliest due is the latest), then at risk, then the rest by due; finished last.
        return lambda j: (
            j.status in FINISHED_JOB_STATUSES,
            0 if job_overdue(j, now) else 1 if job_at_risk(j, now) else 2,
            _ts(j.due_at),
            j.priority,
            j.id,
        )
    # The cluster backlog (not yet on any node) first: it is what the cluster has not found a home for. Then the
    # jobs whose ETA is past their due time, then the rest by priority and due time; finished jobs last. Independent
    # of the clock, so the Jobs screen can keep this order incrementally.
    return lambda j: (
        j.status in FINISHED_JOB_STATUSES,
        j.node_id is not None,
        not job_at_risk(j),
        j.priority,
        _ts(j.due_at),
        j.id,
    )


def sort_jobs(jobs: Iterable[Job], key: str, reverse: bool = False, now: datetime | None = None) -> list[Job]:
    return sorted(jobs, key=job_sort_key(key, now), reverse=reverse)


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


def _series_urgency(series: SpcSeries) -> tuple[int, float]:
    """Rule breaks first (the more the worse), then the lowest Cpk; a series without Cpk last."""
    return (-len(series.violations), series.cpk if series.cpk is not None else 99.0)


def worst_series(quality: Quality) -> SpcSeries | None:
    """The series that needs a look first: the one a row's Cpk and rules point at, so its chart is shown first."""
    return min(quality.spc, key=_series_urgency, default=None)


def worst_characteristic(qualities: Iterable[Quality]) -> str | None:
    """The characteristic of the worst series anywhere: the Quality screen opens on it (the eye goes to what needs
    action), not on the first name in the alphabet."""
    worst = min((s for q in qualities for s in q.spc), key=_series_urgency, default=None)
    return worst.characteristic if worst is not None else None


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


CPK_CAPABLE = 1.33
"""A process is capable (``ok``) at Cpk >= 1.33; ``marginal`` from 1.0; ``poor`` below 1.0."""
CPK_POOR = 1.0

CpkStatus = Literal["ok", "marginal", "poor", "unknown"]


def cpk_status(cpk: float | None) -> CpkStatus:
    """The word a Cpk earns: ``ok`` (>= 1.33), ``marginal`` (1.0 to 1.33), ``poor`` (< 1.0), ``unknown`` (none)."""
    if cpk is None or math.isnan(cpk):
        return "unknown"
    if cpk >= CPK_CAPABLE:
        return "ok"
    if cpk >= CPK_POOR:
        return "marginal"
    return "poor"


RULE_WORDS: dict[str, str] = {
    "we1": "rule 1: a point beyond 3 sigma",
    "we2": "rule 2: 2 of 3 beyond 2 sigma",
    "we3": "rule 3: 4 of 5 beyond 1 sigma",
    "we4": "rule 4: 8 in a row on one side",
}
"""The Western Electric rules by the contract's codes (``SpcSeries.violations``), in words."""


def rule_words(code: str) -> str:
    """``we1`` -> ``rule 1: a point beyond 3 sigma``; an unknown code as it is (the caller cleans it)."""
    return RULE_WORDS.get(code, code)


def rule_breaks(values: Sequence[float], centre: float, sigma: float) -> dict[int, frozenset[str]]:
    """Each point that completes a Western Electric pattern, with the rules (``we1``..``we4``) it completes.

    One computation for a chart's marked points and its caption: the caption names exactly the rules of the points
    it marks. ``centre`` and ``sigma`` come from the chart's control limits. Computed on halves, so any finite floats
    a server sends (+/-1.7e308) give no infinities.
    """
    marks: dict[int, set[str]] = {}
    half = sigma / 2
    if not half > 0 or not math.isfinite(half):
        return {}
    z = [(v / 2 - centre / 2) / half for v in values]
    for i, zi in enumerate(z):
        if abs(zi) > 3:
            marks.setdefault(i, set()).add("we1")
        for side in (1, -1):
            if side * zi > 2 and i >= 2 and sum(1 for zj in z[i - 2 : i + 1] if side * zj > 2) >= 2:
                marks.setdefault(i, set()).add("we2")
            if side * zi > 1 and i >= 4 and sum(1 for zj in z[i - 4 : i + 1] if side * zj > 1) >= 4:
                marks.setdefault(i, set()).add("we3")
            if i >= 7 and all(side * zj > 0 for zj in z[i - 7 : i + 1]):
                marks.setdefault(i, set()).add("we4")
    return {i: frozenset(rules) for i, rules in marks.items()}


def rules_of(marks: Mapping[int, frozenset[str]]) -> list[str]:
    """The rules the marked points complete, in rule order (``we1`` first)."""
    return sorted({rule for rules in marks.values() for rule in rules})
