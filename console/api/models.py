"""The Factory Cluster API v1 wire contract as pydantic v2 models.

The objects the server reports (see ``shared/contract.md``) and the events that carry them; the bodies and results
of commands are in ``console.api.command_bodies``, the base every model is built on in ``console.api.wire``. The
simulator serves these models, the client parses them, the store keeps them. No Textual or Rich here.

Two forward-compatibility rules of the contract shape every model here:

* Unknown fields are ignored (``extra="ignore"``, from ``console.api.wire.ApiModel``), so a newer server does not
  break an older console.
* Enumerations are *open*: a field such as ``Machine.state`` is a plain ``str``. The ``StrEnum`` classes below list
  the values known today, for comparisons and for the simulator; a value the console does not know is kept as its
  string and shown as it is. (A closed ``Literal`` would turn a newer server's new state into a validation error and
  lose the whole event.)

Numbers that the contract bounds (progress 0..1, scores, OEE components) are validated, and NaN or infinity are
refused everywhere: such an event is malformed and is counted by the source, not applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter

from console.api.enums import (
    ALERT_PRIORITY_RANK,
    FINISHED_JOB_STATUSES,
    AlertPriority,
    AlertState,
    EventType,
    JobStatus,
    MachineKind,
    MachineState,
    NodeState,
    Role,
)
from console.api.lean import LeanModel, WeakLeanModel, lean
from console.api.shared_values import (
    SHARING,
    intern_list,
    intern_slots,
    share,
    share_float_dict,
    share_float_slots,
    share_floats,
    share_time_slots,
    share_weak,
    sharing,
)
from console.api.wire import ApiModel, Count, Fraction, NonNegative, Timestamp

__all__ = [
    "ALERT_PRIORITY_RANK",
    "EVENT_MODELS",
    "FINISHED_JOB_STATUSES",
    "Alert",
    "AlertPriority",
    "AlertState",
    "AuditEntry",
    "Cluster",
    "Design",
    "Event",
    "EventType",
    "Job",
    "JobRemoved",
    "JobStatus",
    "Machine",
    "MachineKind",
    "MachineState",
    "MachineTelemetry",
    "Node",
    "NodeState",
    "Page",
    "Problem",
    "Quality",
    "RerouteCandidate",
    "ResetData",
    "Role",
    "Snapshot",
    "SourceRef",
    "SpcSeries",
    "WhoAmI",
]


# --- objects --------------------------------------------------------------------------------------------------------


class WhoAmI(ApiModel):
    operator: str
    role: str


class Cluster(ApiModel):
    id: str
    name: str
    region: str
    server_time: Timestamp
    seq: int
    instance_id: str


class Node(ApiModel):
    id: str
    name: str
    city: str
    lat: float
    lon: float
    state: str
    last_seen: Timestamp
    machine_count: Count
    agent_url: str | None = None


_MACHINE_STRINGS = ("node_id", "kind", "model", "state")
"""A machine's strings that repeat across thousands of machines."""
_MACHINE_TIMES = ("state_since", "last_seen")
"""A machine's times that repeat across machines (``console.api.shared_values``)."""
_SET = object.__setattr__


@lean
class Machine(LeanModel):
    """A machine. Lean (``console.api.lean``): 100,000 of them as ``BaseModel``s carried ~46 MB of ``__dict__``s.
    Its repeated strings are interned as it is validated (``console.api.shared_values`` says why then)."""

    id: str
    node_id: str
    name: str
    kind: str
    model: str
    state: str
    state_since: Timestamp
    job_id: str | None = None
    progress: Fraction | None = None
    materials: list[str] = Field(default_factory=list)
    processes: list[str] = Field(default_factory=list)
    envelope_mm: tuple[NonNegative, NonNegative, NonNegative]
    telemetry: dict[str, float] = Field(default_factory=dict)
    state_reason: str | None = None
    fault_code: str | None = None
    paused_by: str | None = None
    draining: bool = False
    last_seen: Timestamp

    def __post_init__(self) -> None:
        # Called by pydantic once the fields are validated (not by ``model_copy``).
        if SHARING.on:
            self.share_values()

    def share_values(self) -> None:
        """Replace repeated values by shared equal ones, in place (``console.api.shared_values``): while a snapshot
        is parsed, and by the store before it keeps the record."""
        intern_slots(self, _MACHINE_STRINGS)
        intern_list(self.materials)
        intern_list(self.processes)
        share_time_slots(self, _MACHINE_TIMES)
        _SET(self, "envelope_mm", share(self.envelope_mm))
        share_float_dict(self.telemetry)
        share_float_slots(self, ("progress",))


class MachineTelemetry(ApiModel):
    """The payload of ``machine.telemetry``: frequent and small, merged into ``Machine.telemetry``."""

    machine_id: str
    at: Timestamp
    values: dict[str, float]


@lean
class Design(WeakLeanModel):
    """A job's design file. Lean (see ``console.api.lean``) and weakly referenceable: the store shares one object
    among the jobs that make the same design."""

    file: str
    sha256: str


_JOB_STRINGS = ("id", "order_id", "process", "material", "status", "node_id", "machine_id", "customer_region", "part")
"""A job's strings that repeat across jobs (and its id, which the machines and the store's tables repeat)."""


@lean
class Job(LeanModel):
    """A job. Lean (``console.api.lean``): the console may hold 100,000 of them. Its repeated values are shared as
    it is validated (``console.api.shared_values`` says why then)."""

    id: str
    order_id: str
    part: str
    design: Design
    process: str
    material: str
    size_mm: tuple[NonNegative, NonNegative, NonNegative]
    quantity: Annotated[int, Field(ge=1)]
    done_qty: Count
    scrap_qty: Count
    priority: Annotated[int, Field(ge=1, le=5)]
    due_at: Timestamp
    status: str
    node_id: str | None = None
    machine_id: str | None = None
    queue_position: Count | None = None
    progress: Fraction
    eta: Timestamp | None = None
    created_at: Timestamp
    customer_region: str

    def __post_init__(self) -> None:
        # Called by pydantic once the fields are validated (not by ``model_copy``).
        if SHARING.on:
            self.share_values()

    def share_values(self) -> None:
        """Replace repeated values by shared equal ones, in place (``console.api.shared_values``): while a snapshot
        is parsed, and by the store before it keeps the record."""
        intern_slots(self, _JOB_STRINGS)
        share_time_slots(self, ("created_at",))  # due_at and eta rarely repeat
        share_float_slots(self, ("progress",))
        _SET(self, "size_mm", share(self.size_mm))
        design = self.design
        if type(design) is Design:
            _SET(self, "design", share_weak((design.file, design.sha256), design))


class JobRemoved(ApiModel):
    """The payload of ``job.removed``."""

    id: str


class SourceRef(ApiModel):
    """What an alert or an audit entry is about: ``{kind: machine|node|job|cluster, id}``."""

    kind: str
    id: str


class Alert(ApiModel):
    id: str
    priority: str
    state: str
    source: SourceRef
    code: str
    message: str
    raised_at: Timestamp
    updated_at: Timestamp
    count: Annotated[int, Field(ge=1)] = 1
    acked_by: str | None = None
    ack_note: str | None = None
    shelved_until: Timestamp | None = None


_SPC_FLOATS = ("nominal", "lsl", "usl", "lcl", "ucl", "cpk")
_QUALITY_FLOATS = ("window_h", "oee", "availability", "performance", "quality_rate", "first_pass_yield", "scrap_rate")


@lean
class SpcSeries(LeanModel):
    """One SPC chart's recent values. Lean (``console.api.lean``): every machine's quality carries some."""

    characteristic: str
    unit: str
    nominal: float
    lsl: float
    usl: float
    lcl: float
    ucl: float
    values: list[float] = Field(default_factory=list)
    violations: list[str] = Field(default_factory=list)
    cpk: float | None = None

    def __post_init__(self) -> None:
        # Called by pydantic once the fields are validated.
        if SHARING.on:
            self.share_values()

    def share_values(self) -> None:
        """Replace repeated values by shared equal ones, in place (``console.api.shared_values``): ~30 values a
        chart, 1.5 charts a machine, and measured values repeat."""
        intern_slots(self, ("characteristic", "unit"))
        intern_list(self.violations)
        share_floats(self.values)
        share_float_slots(self, _SPC_FLOATS)


@lean
class Quality(LeanModel):
    """OEE, yield and SPC of the cluster, a node or a machine. Lean (``console.api.lean``): there is one per machine,
    and parsing 20,000 of them as ``BaseModel``s was the largest part of a 20,000-machine snapshot's parse."""

    scope: str
    id: str
    window_h: Annotated[float, Field(gt=0)]
    oee: Fraction
    availability: Fraction
    performance: Fraction
    quality_rate: Fraction
    first_pass_yield: Fraction
    scrap_rate: Fraction
    good_count: Count
    scrap_count: Count
    spc: list[SpcSeries] = Field(default_factory=list)

    def __post_init__(self) -> None:
        # Called by pydantic once the fields (and the SPC series, which share their own) are validated.
        if SHARING.on:
            intern_slots(self, ("scope",))
            share_float_slots(self, _QUALITY_FLOATS)

    def share_values(self) -> None:
        """Replace repeated values by shared equal ones, its SPC series' too, in place
        (``console.api.shared_values``): one record per machine."""
        intern_slots(self, ("scope",))
        share_float_slots(self, _QUALITY_FLOATS)
        for series in self.spc:
            series.share_values()

    @property
    def key(self) -> tuple[str, str]:
        """The store's key for a quality record: scope and id together (a node and a machine may share an id)."""
        return (self.scope, self.id)


class AuditEntry(ApiModel):
    id: str
    at: Timestamp
    operator: str
    action: str
    target: SourceRef
    reason: str | None = None
    idempotency_key: str | None = None
    outcome: str
    detail: str | None = None


class ResetData(ApiModel):
    """The payload of ``reset``: the server's current ``seq`` and the instance it belongs to."""

    seq: int
    instance_id: str


class Snapshot(ApiModel):
    """``GET /v1/snapshot``: everything at one consistent ``seq``.

    Parsed from JSON, its records share their repeated values as they are validated (``console.api.shared_values``
    says why), and :attr:`values_shared` says so: the store then need not share them again."""

    _values_shared: bool = PrivateAttr(default=False)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **options: Any) -> Self:
        """As ``BaseModel.model_validate_json``, with the records' values shared as they are validated."""
        with sharing():
            snapshot = super().model_validate_json(json_data, **options)
        snapshot._values_shared = True
        return snapshot

    @property
    def values_shared(self) -> bool:
        """Whether the records' repeated values were shared as they were parsed (see the class docstring)."""
        return self._values_shared

    def __eq__(self, other: object) -> bool:
        # As BaseModel's, without the private flag: how a snapshot was parsed is not part of its value.
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    seq: int
    cluster: Cluster
    nodes: list[Node] = Field(default_factory=list)
    machines: list[Machine] = Field(default_factory=list)
    jobs: list[Job] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    quality: list[Quality] = Field(default_factory=list)


class RerouteCandidate(ApiModel):
    machine_id: str
    node_id: str
    score: Fraction
    eta: Timestamp | None = None
    distance_km: NonNegative | None = None
    co2e_kg: NonNegative | None = None
    reasons: list[str] = Field(default_factory=list)
    blockers: list[str] = Field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """A candidate with blockers cannot take the job."""
        return bool(self.blockers)


RerouteCandidates = TypeAdapter(list[RerouteCandidate])


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    """A page of a paged list: ``{"items": [...], "next_cursor": "..." | null}``."""

    items: list[T]
    next_cursor: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem detail. Extension members (``code`` and any other) are kept."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str = ""
    status: int | None = None
    detail: str | None = None
    code: str | None = None
    instance: str | None = None


# --- events ---------------------------------------------------------------------------------------------------------

EVENT_MODELS: dict[str, type[ApiModel | LeanModel]] = {
    EventType.CLUSTER_UPDATED: Cluster,
    EventType.NODE_UPDATED: Node,
    EventType.MACHINE_UPDATED: Machine,
    EventType.MACHINE_TELEMETRY: MachineTelemetry,
    EventType.JOB_UPDATED: Job,
    EventType.JOB_REMOVED: JobRemoved,
    EventType.ALERT_RAISED: Alert,
    EventType.ALERT_UPDATED: Alert,
    EventType.QUALITY_UPDATED: Quality,
    EventType.AUDIT_APPENDED: AuditEntry,
    EventType.RESET: ResetData,
}
"""Which model each known event type carries. A client ignores event types that are not here."""


@dataclass(slots=True)
class Event:
    """One event of a source's stream: its ``seq`` (the SSE ``id``), its type and its validated payload.

    A plain dataclass, not a model: the payload is already validated, and ingest creates thousands a second. Not
    ``frozen`` for the same reason (a frozen dataclass's ``__init__`` costs ~0.2 µs more); never change one.
    """

    seq: int
    type: str
    data: Any

    @classmethod
    def parse(cls, seq: int, type_: str, data: str | bytes) -> Event | None:
        """Validate one SSE event's ``data``. ``None`` for a type the console does not know (it is ignored).

        Raises ``pydantic.ValidationError`` for a payload that does not match its type's model.
        """
        model = EVENT_MODELS.get(type_)
        if model is None:
            return None
        return cls(seq, type_, model.model_validate_json(data))
