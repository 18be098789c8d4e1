"""The one-shot summary of ``factory-console status``: a :class:`~console.api.models.Snapshot` in, a
:class:`StatusReport` out, and the report as plain text or as a JSON-ready dict.

Pure: no I/O, no clock of its own (overdue and at-risk are judged on the snapshot's ``cluster.server_time``, with the
rules of ``console.rules``), no Textual or Rich, so a monitor that runs ``status`` every minute starts fast and a test
builds a snapshot by hand. The command that fetches the snapshot and prints is ``console.status_command``; the output
fields and exit codes are documented in ``docs/status-command.md``.

Every string that came from the server is cleaned once, when the report is built (:func:`clean`, the same rule as
``widgets.safe_text.clean``), so neither renderer can let an escape sequence, a bidi override or a zero-width
character through to the terminal, nor to a script that prints a JSON value with ``jq -r``.

Which alerts count:

* **active**: state ``active_unacked``, ``active_acked`` or ``cleared_unacked`` (:data:`ACTIVE_ALERT_STATES`): what
  still needs an operator (a cleared but unacknowledged alert still does). ``shelved`` alerts are counted apart;
  ``resolved`` ones are not counted (the contract drops them from the snapshot anyway); an alert in a state this
  console does not know is counted under ``other``.
* **critical**: an active alert (as above) whose priority is ``critical``. Any such alert makes the exit code 2.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from console.api.models import FINISHED_JOB_STATUSES, Alert, Quality, Snapshot
from console.formatting import in_utc
from console.rules import job_at_risk, job_overdue, sort_alerts
from widgets.text_clean import cut, inert

__all__ = [
    "ACTIVE_ALERT_STATES",
    "EXIT_CRITICAL",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "FORMAT",
    "AlertLine",
    "AlertSummary",
    "ClusterLine",
    "JobSummary",
    "OeeFigures",
    "StateCounts",
    "StatusReport",
    "build_report",
    "clean",
]

FORMAT = "factory-console.status/1"
"""The ``format`` key of the JSON output: a new major number only when a key changes meaning or goes away."""

EXIT_OK = 0
"""The cluster was read and no critical alert is active."""
EXIT_CRITICAL = 2
"""The cluster was read and at least one critical alert is active (see the module docstring)."""
EXIT_UNREACHABLE = 3
"""The cluster could not be read (unreachable, a problem answer, an invalid answer) or the command line or the
configuration is wrong. The same numbers as a Nagios plugin's OK, CRITICAL and UNKNOWN."""

ACTIVE_ALERT_STATES: tuple[str, ...] = ("active_unacked", "active_acked", "cleared_unacked")
"""The alert states that count as active, and so (with priority ``critical``) as critical."""
SHELVED = "shelved"
RESOLVED = "resolved"

NODE_STATES: tuple[str, ...] = ("online", "degraded", "offline", "paused")
"""The contract's node states, in the contract's order: the JSON always has each of them (0 when none)."""
MACHINE_STATES: tuple[str, ...] = ("idle", "running", "paused", "blocked", "fault", "maintenance", "offline")
"""The contract's machine states, in the contract's order: the JSON always has each of them."""
PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
"""The contract's alert priorities, most urgent first: the JSON always has each of them."""

NODE_STATE_RANK = {"offline": 0, "degraded": 1, "paused": 2, "online": 3}
"""The text shows node states worst first (as the Nodes screen sorts them); machine states follow
``console.rules.MACHINE_STATE_RANK``."""

# --- cleaning ---------------------------------------------------------------------------------------------------------
# The rule of ``widgets.safe_text.clean``, without its Textual and Rich imports (that module also fits text to cells,
# which needs Rich): C0 controls become control pictures (ESC -> U+241B), DEL and C1 controls, bidi controls and
# zero-width characters become a visible ``<U+XXXX>``, lone surrogates U+FFFD, a leading combining mark gets a base
# and runs of combining marks are cut to 3. ``tests/test_status_command.py`` checks both give the same result.


def clean(text: object, max_len: int | None = None) -> str:
    """``widgets.safe_text.clean``'s rule without Textual (``widgets.text_clean``): inert, cut with ``…``."""
    return cut(inert(text), max_len)


def _time(value: datetime | None) -> str | None:
    """RFC 3339 UTC with a ``Z`` and whole seconds, for any aware time the models accept (year 1 to 9999)."""
    if value is None:
        return None
    return in_utc(value).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


# --- the report ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateCounts:
    """How many objects, and how many in each state: the contract's states always (0 when none), then any other
    state the server sent (cleaned, by name)."""

    total: int
    by_state: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One critical alert, its server strings cleaned."""

    id: str
    priority: str
    state: str
    source_kind: str
    source_id: str
    code: str
    message: str
    raised_at: str | None
    count: int


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """Active alerts by priority (the contract's four always, then any other), shelved and other-state counts, and
    the critical alerts that set the exit code (most urgent first: unacknowledged, then newest)."""

    active: int
    by_priority: Mapping[str, int]
    shelved: int
    other: int
    critical: tuple[AlertLine, ...]


@dataclass(frozen=True, slots=True)
class JobSummary:
    """Jobs in the snapshot; open (not completed, failed or cancelled); overdue and at risk on the server's clock
    (``console.rules.job_overdue`` and ``job_at_risk``: a job is one or the other, never both)."""

    total: int
    open: int
    overdue: int
    at_risk: int


@dataclass(frozen=True, slots=True)
class OeeFigures:
    """The cluster-scope ``Quality`` record's figures (each 0..1 but the window and the counts)."""

    id: str
    window_h: float
    oee: float
    availability: float
    performance: float
    quality_rate: float
    first_pass_yield: float
    scrap_rate: float
    good_count: int
    scrap_count: int


@dataclass(frozen=True, slots=True)
class ClusterLine:
    """Which cluster, and when (the server's clock) and at which ``seq`` it was read."""

    id: str
    name: str
    region: str
    server_time: str | None
    seq: int
    instance_id: str


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The summary of one snapshot. ``exit_code`` is :data:`EXIT_CRITICAL` when any critical alert is active."""

    cluster: ClusterLine
    nodes: StateCounts
    machines: StateCounts
    alerts: AlertSummary
    jobs: JobSummary
    oee: OeeFigures | None

    @property
    def critical(self) -> bool:
        return bool(self.alerts.critical)

    @property
    def exit_code(self) -> int:
        return EXIT_CRITICAL if self.critical else EXIT_OK

    @property
    def status(self) -> str:
        """``ok`` or ``critical`` (``unknown`` is for when there is no report: :func:`error_json`)."""
        return "critical" if self.critical else "ok"


def _counts(values: Iterable[str], known: Sequence[str]) -> StateCounts:
    counter = Counter(clean(value) for value in values)
    by_state = {name: counter.pop(name, 0) for name in known}
    by_state.update(sorted(counter.items()))
    return StateCounts(total=sum(by_state.values()), by_state=by_state)


def _alert_line(alert: Alert) -> AlertLine:
    return AlertLine(
        id=clean(alert.id),
        priority=clean(alert.priority),
        state=clean(alert.state),
        source_kind=clean(alert.source.kind),
        source_id=clean(alert.source.id),
        code=clean(alert.code),
        message=clean(alert.message),
        raised_at=_time(alert.raised_at),
        count=alert.count,
    )


def _alerts(alerts: Sequence[Alert]) -> AlertSummary:
    active = [a for a in alerts if a.state in ACTIVE_ALERT_STATES]
    shelved = sum(1 for a in alerts if a.state == SHELVED)
    other = sum(1 for a in alerts if a.state not in ACTIVE_ALERT_STATES and a.state not in (SHELVED, RESOLVED))
    by_priority = _counts((a.priority for a in active), PRIORITIES).by_state
    critical = [a for a in active if a.priority == "critical"]
    return AlertSummary(
        active=len(active),
        by_priority=by_priority,
        shelved=shelved,
        other=other,
        critical=tuple(_alert_line(a) for a in sort_alerts(critical)),
    )


def _cluster_quality(snapshot: Snapshot) -> Quality | None:
    """The cluster-scope quality record: the one whose id is the cluster's, else the first of scope ``cluster``."""
    records = [q for q in snapshot.quality if q.scope == "cluster"]
    for record in records:
        if record.id == snapshot.cluster.id:
            return record
    return records[0] if records else None


def _oee(quality: Quality | None) -> OeeFigures | None:
    if quality is None:
        return None
    return OeeFigures(
        id=clean(quality.id),
        window_h=quality.window_h,
        oee=quality.oee,
        availability=quality.availability,
        performance=quality.performance,
        quality_rate=quality.quality_rate,
        first_pass_yield=quality.first_pass_yield,
        scrap_rate=quality.scrap_rate,
        good_count=quality.good_count,
        scrap_count=quality.scrap_count,
    )


def build_report(snapshot: Snapshot) -> StatusReport:
    """Summarise ``snapshot``: nodes and machines by state, active alerts by priority (and the critical ones), jobs
    open, overdue and at risk on the server's clock, and the cluster's OEE."""
    cluster = snapshot.cluster
    now = cluster.server_time
    jobs = snapshot.jobs
    return StatusReport(
        cluster=ClusterLine(
            id=clean(cluster.id),
            name=clean(cluster.name),
            region=clean(cluster.region),
            server_time=_time(now),
            seq=snapshot.seq,
            instance_id=clean(cluster.instance_id),
        ),
        nodes=_counts((n.state for n in snapshot.nodes), NODE_STATES),
        machines=_counts((m.state for m in snapshot.machines), MACHINE_STATES),
        alerts=_alerts(snapshot.alerts),
        jobs=JobSummary(
            total=len(jobs),
            open=sum(1 for j in jobs if j.status not in FINISHED_JOB_STATUSES),
            overdue=sum(1 for j in jobs if job_overdue(j, now)),
            at_risk=sum(1 for j in jobs if job_at_risk(j, now)),
        ),
        oee=_oee(_cluster_quality(snapshot)),
    )


# --- JSON -----------------------------------------------------------------------------------------------------------
