"""A tiny stand-in for ``console.demo.sim.Simulation`` for unit tests of the feed and views.

Two nodes, three machines, jobs and alerts; ``emit`` sends an event to the subscribers like the real simulation.
The server tests use the real simulation; this keeps the feed's own tests independent of its story.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from console.api.models import (
    Alert,
    AuditEntry,
    Cluster,
    Design,
    Job,
    Machine,
    MachineTelemetry,
    Node,
    Quality,
    SourceRef,
)
from console.demo.sim.errors import SimCommandError

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def node(node_id: str) -> Node:
    return Node(
        id=node_id,
        name=f"Node {node_id}",
        city="Lyon",
        lat=45.0,
        lon=4.8,
        state="online",
        last_seen=T0,
        machine_count=2,
    )


def machine(machine_id: str, node_id: str, state: str = "idle") -> Machine:
    return Machine(
        id=machine_id,
        node_id=node_id,
        name=machine_id,
        kind="fdm_printer",
        model="X1",
        state=state,
        state_since=T0,
        envelope_mm=(250, 250, 250),
        last_seen=T0,
    )


def job(job_id: str, node_id: str | None, machine_id: str | None = None) -> Job:
    return Job(
        id=job_id,
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
        due_at=T0,
        status="queued",
        node_id=node_id,
        machine_id=machine_id,
        progress=0.0,
        created_at=T0,
        customer_region="eu-west",
    )


def alert(alert_id: str, kind: str, source_id: str) -> Alert:
    return Alert(
        id=alert_id,
        priority="high",
        state="active_unacked",
        source=SourceRef(kind=kind, id=source_id),
        code="x",
        message="m",
        raised_at=T0,
        updated_at=T0,
    )


def quality(scope: str, object_id: str) -> Quality:
    return Quality(
        scope=scope,
        id=object_id,
        window_h=24,
        oee=0.5,
        availability=0.9,
        performance=0.8,
        quality_rate=0.7,
        first_pass_yield=0.7,
        scrap_rate=0.1,
        good_count=10,
        scrap_count=1,
    )


def audit(entry_id: str, kind: str, target_id: str) -> AuditEntry:
    return AuditEntry(
        id=entry_id,
        at=T0,
        operator="x",
        action="machine.pause",
        target=SourceRef(kind=kind, id=target_id),
        outcome="applied",
    )


def telemetry(machine_id: str) -> MachineTelemetry:
    return MachineTelemetry(machine_id=machine_id, at=T0, values={"nozzle_c": 210.0})


class FakeSim:
    def __init__(self) -> None:
        self._subs: list[Callable[[str, Any], None]] = []
        self._nodes = {n.id: n for n in (node("N-1"), node("N-2"))}
        self._machines = {m.id: m for m in (machine("M-1", "N-1"), machine("M-2", "N-1"), machine("M-3", "N-2"))}
        self._jobs = {j.id: j for j in (job("J-1", "N-1", "M-1"), job("J-2", "N-2", "M-3"))}
        self._alerts = {a.id: a for a in (alert("A-1", "machine", "M-1"), alert("A-2", "node", "N-2"))}
        self._quality = [
            quality("cluster", "C"),
            quality("node", "N-1"),
            quality("node", "N-2"),
            quality("machine", "M-3"),
        ]
        self._audit = [audit("AU-1", "machine", "M-1"), audit("AU-2", "node", "N-2")]

    def subscribe(self, cb: Callable[[str, Any], None]) -> Callable[[], None]:
        self._subs.append(cb)
        return lambda: self._subs.remove(cb)

    def emit(self, type_: str, payload: Any) -> None:
        for cb in list(self._subs):
            cb(type_, payload)

    def move_job(self, job_id: str, node_id: str) -> None:
        self._jobs[job_id] = self._jobs[job_id].model_copy(update={"node_id": node_id, "machine_id": None})
        self.emit("job.updated", self._jobs[job_id])

    def cluster_info(self) -> Cluster:
        return Cluster(id="C", name="Cluster", region="eu-west", server_time=T0, seq=0, instance_id="")

    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    def machines(self) -> list[Machine]:
        return list(self._machines.values())

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    def alerts(self) -> list[Alert]:
        return list(self._alerts.values())

    def quality(self) -> list[Quality]:
        return list(self._quality)

    def audit(self) -> list[AuditEntry]:
        return list(self._audit)

    def reroute_candidates(self, job_id: str, local_node: str | None = None) -> list[Any]:
        return []

    def node(self, node_id: str) -> Node | None:
        return self._nodes.get(node_id)

    def machine(self, machine_id: str) -> Machine | None:
        return self._machines.get(machine_id)

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def alert(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def tick(self) -> None:
        pass

    def execute(
        self,
        action: str,
        target_id: str,
        body: dict,
        operator: str,
        idempotency_key: str | None = None,
        local_node: str | None = None,
    ) -> AuditEntry:
        kind = action.split(".")[0]
        if self.node_of(kind, target_id) is None:
            raise SimCommandError(404, "not_found", f"no {kind} {target_id}")
        if kind == "machine":
            state = "paused" if action == "machine.pause" else "idle"
            self._machines[target_id] = self._machines[target_id].model_copy(update={"state": state})
            self.emit("machine.updated", self._machines[target_id])
        entry = audit(f"AU-{len(self._audit) + 1}", kind, target_id).model_copy(
            update={"operator": operator, "action": action, "idempotency_key": idempotency_key}
        )
        self._audit.append(entry)
        self.emit("audit.appended", entry)
        return entry

    def node_of(self, kind: str, object_id: str) -> str | None:
        if kind == "node":
            return object_id if object_id in self._nodes else None
        if kind == "machine":
            m = self._machines.get(object_id)
            return m.node_id if m else None
        if kind == "job":
            j = self._jobs.get(object_id)
            return j.node_id if j else None
        if kind == "alert":
            a = self._alerts.get(object_id)
            return self.node_of(a.source.kind, a.source.id) if a else None
        return None
