"""The contract's enumerations: the values known today of each open enumeration.

Open, because the contract says so: a model field such as ``Machine.state`` is a plain ``str`` and these classes
serve comparisons and the simulator; a value the console does not know is kept as its string and shown as it is (see
``console.api.models``, which re-exports every name here). Apart from the models because they are a vocabulary, read
by the rules and the screens without the models' validation machinery.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"


class NodeState(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    PAUSED = "paused"


class MachineKind(StrEnum):
    FDM_PRINTER = "fdm_printer"
    SLA_PRINTER = "sla_printer"
    SLS_PRINTER = "sls_printer"
    CNC_MILL = "cnc_mill"
    CNC_LATHE = "cnc_lathe"
    LASER_CUTTER = "laser_cutter"
    INJECTION_MOLDER = "injection_molder"
    INSPECTION = "inspection"
    ASSEMBLY = "assembly"


class MachineState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    BLOCKED = "blocked"
    FAULT = "fault"
    MAINTENANCE = "maintenance"
    OFFLINE = "offline"


class JobStatus(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_JOB_STATUSES: frozenset[str] = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


class AlertPriority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


ALERT_PRIORITY_RANK: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}
"""Sort rank of alert priorities; an unknown priority sorts after ``low``."""


class AlertState(StrEnum):
    ACTIVE_UNACKED = "active_unacked"
    ACTIVE_ACKED = "active_acked"
    CLEARED_UNACKED = "cleared_unacked"
    SHELVED = "shelved"
    RESOLVED = "resolved"


class EventType(StrEnum):
    CLUSTER_UPDATED = "cluster.updated"
    NODE_UPDATED = "node.updated"
    MACHINE_UPDATED = "machine.updated"
    MACHINE_TELEMETRY = "machine.telemetry"
    JOB_UPDATED = "job.updated"
    JOB_REMOVED = "job.removed"
    ALERT_RAISED = "alert.raised"
    ALERT_UPDATED = "alert.updated"
    QUALITY_UPDATED = "quality.updated"
    AUDIT_APPENDED = "audit.appended"
    RESET = "reset"
