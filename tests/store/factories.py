"""Small factories of valid contract objects for store tests (plain models, no simulator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console.api.models import (
    Alert,
    AuditEntry,
    Cluster,
    Design,
    Event,
    Job,
    Machine,
    MachineTelemetry,
    Node,
    Quality,
    Snapshot,
    SourceRef,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds: float = 0) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cluster(seq: int = 0, instance_id: str = "inst-1", **kw: Any) -> Cluster:
    fields: dict[str, Any] = dict(
        id="C-1", name="Test cluster", region="eu", server_time=T0, seq=seq, instance_id=instance_id
    )
    return Cluster(**(fields | kw))


def node(id: str = "N-1", **kw: Any) -> Node:
    fields: dict[str, Any] = dict(
        id=id, name=f"node {id}", city="Lyon", lat=45.7, lon=4.8, state="online", last_seen=T0, machine_count=2
    )
    return Node(**(fields | kw))


def machine(id: str = "M-1", node_id: str = "N-1", **kw: Any) -> Machine:
    fields: dict[str, Any] = dict(
        id=id,
        node_id=node_id,
        name=f"machine {id}",
        kind="fdm_printer",
        model="P1",
        state="idle",
        state_since=T0,
        materials=["PLA"],
        processes=["fdm"],
        envelope_mm=(200, 200, 200),
        telemetry={"nozzle_c": 20.0},
        last_seen=T0,
    )
    return Machine(**(fields | kw))


def job(id: str = "J-1", **kw: Any) -> Job:
    fields: dict[str, Any] = dict(
        id=id,
        order_id="O-1",
        part="bracket",
        design=Design(file="b.stl", sha256="0" * 64),
        process="fdm",
        material="PLA",
        size_mm=(10, 10, 10),
        quantity=1,
        done_qty=0,
        scrap_qty=0,
        priority=3,
        due_at=at(3600),
        status="queued",
        progress=0.0,
        created_at=T0,
        customer_region="eu",
    )
    return Job(**(fields | kw))


def alert(id: str = "A-1", kind: str = "machine", source_id: str = "M-1", **kw: Any) -> Alert:
    fields: dict[str, Any] = dict(
        id=id,
        priority="high",
        state="active_unacked",
        source=SourceRef(kind=kind, id=source_id),
        code="E1",
        message="hot",
        raised_at=T0,
        updated_at=T0,
    )
    return Alert(**(fields | kw))


def quality(scope: str = "machine", id: str = "M-1", **kw: Any) -> Quality:
    fields: dict[str, Any] = dict(
        scope=scope,
        id=id,
        window_h=24,
        oee=0.5,
        availability=0.8,
        performance=0.8,
        quality_rate=0.78125,
        first_pass_yield=0.9,
        scrap_rate=0.1,
        good_count=90,
        scrap_count=10,
    )
    return Quality(**(fields | kw))


def audit(id: str = "AU-1", **kw: Any) -> AuditEntry:
    fields: dict[str, Any] = dict(
        id=id,
        at=T0,
        operator="alice",
        action="machine.pause",
        target=SourceRef(kind="machine", id="M-1"),
        outcome="applied",
    )
    return AuditEntry(**(fields | kw))


def telemetry(machine_id: str = "M-1", **values: float) -> MachineTelemetry:
    return MachineTelemetry(machine_id=machine_id, at=T0, values=values)


def snapshot(
    seq: int = 0,
    *,
    nodes: list[Node] | None = None,
    machines: list[Machine] | None = None,
    jobs: list[Job] | None = None,
    alerts: list[Alert] | None = None,
    quality_: list[Quality] | None = None,
    instance_id: str = "inst-1",
) -> Snapshot:
    return Snapshot(
        seq=seq,
        cluster=cluster(seq, instance_id),
        nodes=nodes or [],
        machines=machines or [],
        jobs=jobs or [],
        alerts=alerts or [],
        quality=quality_ or [],
    )


def ev(seq: int, type_: str, data: Any) -> Event:
    return Event(seq, type_, data)
