"""Commands: what an operator can do to the simulation, each checked, applied and recorded in the audit trail.

``execute`` is the one way in: it refuses text that is not valid Unicode before touching anything, finds the handler
for the action, applies it (a refusal is a ``SimCommandError``) and appends an ``applied`` or ``rejected`` audit
entry. The handlers change the records and then let the rest of the simulation catch up (``lifecycle.touch`` /
``settle``, ``placement.enqueue``), so a command's effects are sent exactly as the story's own would be.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from console.api.command_bodies import AckBody, PauseMachineBody, ReasonBody, RerouteBody, ShelveBody
from console.api.models import AuditEntry, SourceRef
from console.demo.text import invalid_text_at

from . import quality as q
from .errors import SimCommandError
from .faults import clear_condition
from .lifecycle import finish, settle, touch
from .placement import enqueue, place
from .projection import emit_job, emit_machine, job_status
from .reads import node_of
from .rollups import update_node
from .scheduling import blockers, candidates
from .state import SHELVE, SimState, at, node_index, now, push, reachable, send
from .world import JobRec, MachineRec, NodeRec

__all__ = ["execute"]

_Body = TypeVar("_Body", bound=BaseModel)
Handler = Callable[[SimState, str, dict[str, Any], str], str]


def execute(
    s: SimState,
    action: str,
    target_id: str,
    body: dict[str, Any] | None,
    operator: str,
    idempotency_key: str | None = None,
    local_node: str | None = None,
) -> AuditEntry:
    """Apply a command; return its ``applied`` audit entry (see ``Simulation.execute``)."""
    body = body if body is not None else {}
    bad = invalid_text_at(
        {"target_id": target_id, "operator": operator, "idempotency_key": idempotency_key, "body": body}, "command"
    )
    if bad is not None:
        # Checked before anything is applied or audited: text that cannot be encoded as UTF-8 could not be
        # published (an event, an audit entry), so the command would change the simulation and break the feed.
        raise SimCommandError(422, "invalid_text", f"{bad} is not valid Unicode text (a lone surrogate)")
    handler = _COMMANDS.get(action)
    kind = action.split(".", 1)[0] if "." in action else "cluster"
    reason = body.get("reason") if isinstance(body, dict) and isinstance(body.get("reason"), str) else None
    s.local_node = node_index(s, local_node)
    try:
        if handler is None:
            raise SimCommandError(422, "unknown_action", f"unknown action {action!r}")
        if not isinstance(body, dict):
            raise SimCommandError(422, "invalid_body", "the body must be a JSON object")
        if kind == "alert":
            _check_alert_reachable(s, target_id)
        detail = handler(s, target_id, body, operator)
    except SimCommandError as err:
        s.local_node = None
        err.audit = _record(s, action, kind, target_id, operator, reason, idempotency_key, "rejected", err.detail)
        raise
    s.local_node = None
    return _record(s, action, kind, target_id, operator, reason, idempotency_key, "applied", detail)


def _check_alert_reachable(s: SimState, alert_id: str) -> None:
    """An alert of a machine or job of a node the cluster cannot reach lives on that node: not from here."""
    source = s.alerts.source_of(alert_id)
    if source is None or source[0] == "node":  # the node's own alerts (node_offline) are the cluster's
        return
    node_id = node_of(s, *source)
    n = s.node_by_id.get(node_id) if node_id else None
    if n is not None and not reachable(s, n):
        raise SimCommandError(409, "target_offline", f"alert {alert_id}: node {n.id} is offline")


def _record(
    s: SimState,
    action: str,
    kind: str,
    target_id: str,
    operator: str,
    reason: str | None,
    key: str | None,
    outcome: str,
    detail: str | None,
) -> AuditEntry:
    s.audit_n += 1
    entry = AuditEntry(
        id=f"AU-{s.audit_n:06d}",
        at=now(s),
        operator=operator,
        action=action,
        target=SourceRef(kind=kind, id=target_id),
        reason=reason,
        idempotency_key=key,
        outcome=outcome,
        detail=detail,
    )
    s.audit[entry.id] = entry
    while len(s.audit) > 10000:
        s.audit.popitem(last=False)
    send(s, "audit.appended", entry)
    return entry


def _parse(model: type[_Body], body: dict[str, Any]) -> _Body:
    try:
        return model.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise SimCommandError(422, "invalid_body", f"{where}: {first.get('msg', 'invalid')}") from None


def _machine_for(s: SimState, machine_id: str) -> MachineRec:
    m = s.machine_by_id.get(machine_id)
    if m is None:
        raise SimCommandError(404, "not_found", f"machine {machine_id} not found")
    if not reachable(s, s.nodes[m.node]):
        raise SimCommandError(409, "target_offline", f"{m.id}: node {s.nodes[m.node].id} is offline")
    return m


def _job_for(s: SimState, job_id: str) -> JobRec:
    j = s.jobs.get(job_id)
    if j is None:
        raise SimCommandError(404, "not_found", f"job {job_id} not found")
    if j.finished_at is not None:
        raise SimCommandError(409, "job_finished", f"job {j.id} is {j.status}")
    if j.node is not None and not reachable(s, s.nodes[j.node]):
        raise SimCommandError(409, "target_offline", f"job {j.id}: node {s.nodes[j.node].id} is offline")
    return j


def _node_for(s: SimState, node_id: str) -> NodeRec:
    n = s.node_by_id.get(node_id)
    if n is None:
        raise SimCommandError(404, "not_found", f"node {node_id} not found")
    if not reachable(s, n):
        raise SimCommandError(409, "target_offline", f"node {n.id} is offline")
    return n


# --- machines --------------------------------------------------------------------------------------------------------


def _machine_pause(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = _parse(PauseMachineBody, body)
    m = _machine_for(s, target)
    if m.held and m.hold_kind == "machine":
        raise SimCommandError(409, "already_paused", f"{m.id} is already paused by {m.paused_by}")
    if b.mode == "after_job" and m.job is not None:
        if m.draining:
            raise SimCommandError(409, "already_draining", f"{m.id} already stops after job {m.job}")
        m.draining = True
        m.paused_by = operator
        m.pause_reason = b.reason
        touch(s, m)
        return f"{m.id} stops after job {m.job}"
    m.held = True
    m.hold_kind = "machine"
    m.paused_by = operator
    m.pause_reason = b.reason
    m.draining = False
    touch(s, m)
    return f"{m.id} paused" + (f"; job {m.job} paused" if m.job else "")


def _machine_resume(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    _parse(ReasonBody, body)
    m = _machine_for(s, target)
    if not m.held and not m.draining:
        raise SimCommandError(409, "not_paused", f"{m.id} is not paused (it is {m.state})")
    if m.job is not None and m.hold_kind == "job":
        s.jobs[m.job].held = False
    m.held = False
    m.hold_kind = None
    m.paused_by = None
    m.pause_reason = None
    m.draining = False
    touch(s, m)
    return f"{m.id} resumed"


def _machine_ready(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    _parse(ReasonBody, body)
    m = _machine_for(s, target)
    if m.condition is None or m.condition.effect != "blocked":
        raise SimCommandError(409, "not_blocked", f"{m.id} is {m.state}; ready releases a blocked machine")
    reason = m.condition.reason
    clear_condition(s, m)
    return f"{m.id} released ({reason})"


# --- nodes -----------------------------------------------------------------------------------------------------------


def _node_pause(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    _parse(ReasonBody, body)
    n = _node_for(s, target)
    if n.paused:
        raise SimCommandError(409, "already_paused", f"node {n.id} is already paused by {n.paused_by}")
    n.paused = True
    n.paused_by = operator
    update_node(s, n)
    for idx in n.machines:  # idle machines now say why they take nothing
        m = s.machines[idx]
        if m.job is None:
            emit_machine(s, m)
    return f"node {n.id} takes no new jobs; running jobs finish"


def _node_resume(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    _parse(ReasonBody, body)
    n = _node_for(s, target)
    if not n.paused:
        raise SimCommandError(409, "not_paused", f"node {n.id} is not paused")
    n.paused = False
    n.paused_by = None
    update_node(s, n)
    for idx in n.machines:
        m = s.machines[idx]
        if not settle(s, m) and m.job is None:
            emit_machine(s, m)
    return f"node {n.id} takes jobs again"


# --- jobs ------------------------------------------------------------------------------------------------------------


def _job_pause(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = _parse(ReasonBody, body)
    j = _job_for(s, target)
    if j.held:
        raise SimCommandError(409, "already_paused", f"job {j.id} is already paused")
    j.held = True
    if j.machine is not None and s.machines[j.machine].job == j.id:
        m = s.machines[j.machine]
        if not m.held:
            m.held = True
            m.hold_kind = "job"
            m.paused_by = operator
            m.pause_reason = b.reason
        touch(s, m, j)
    else:
        emit_job(s, j)
    return f"job {j.id} paused"


def _job_resume(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    _parse(ReasonBody, body)
    j = _job_for(s, target)
    if not j.held:
        raise SimCommandError(409, "not_paused", f"job {j.id} is not paused (it is {job_status(s, j)})")
    j.held = False
    if j.machine is None:
        if not place(s, j):
            emit_job(s, j)
        return f"job {j.id} resumed"
    m = s.machines[j.machine]
    if m.job == j.id and m.hold_kind == "job":
        m.held = False
        m.hold_kind = None
        m.paused_by = None
        m.pause_reason = None
    touch(s, m, j)
    return f"job {j.id} resumed"


def _job_cancel(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    _parse(ReasonBody, body)
    j = _job_for(s, target)
    finish(s, j, "cancelled")
    return f"job {j.id} cancelled"


def _job_reroute(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = _parse(RerouteBody, body)
    if sum((b.machine_id is not None, b.node_id is not None, bool(b.auto))) != 1:
        raise SimCommandError(422, "invalid_body", "give exactly one of machine_id, node_id or auto")
    j = _job_for(s, target)
    old = s.machines[j.machine] if j.machine is not None else None
    in_progress = old is not None and old.job == j.id
    if in_progress and not b.restart:
        raise SimCommandError(
            409, "job_running", f"job {j.id} is {job_status(s, j)} on {old.id if old else '?'}; "
            "moving it scraps the part in progress: send restart=true",
        )  # fmt: skip
    if b.machine_id is not None:
        dest = s.machine_by_id.get(b.machine_id)
        if dest is None:
            raise SimCommandError(422, "unknown_target", f"machine {b.machine_id} not found")
        if old is dest:
            raise SimCommandError(409, "same_target", f"job {j.id} is already on {dest.id}")
        found = blockers(s, j, dest)
        if found:
            raise SimCommandError(409, found[0][0], found[0][1])
    else:
        cands = candidates(s, j)
        if b.node_id is not None:
            node = s.node_by_id.get(b.node_id)
            if node is None:
                raise SimCommandError(422, "unknown_target", f"node {b.node_id} not found")
            if not reachable(s, node):
                raise SimCommandError(409, "target_offline", f"node {node.id} is offline")
            if node.paused:
                raise SimCommandError(409, "target_paused", f"node {node.id} is paused")
            cands = [c for c in cands if c[0].node == node.idx]
            if not cands:
                raise SimCommandError(409, "incompatible_process", f"node {node.id} has no {j.process} machine")
        if not cands:
            raise SimCommandError(409, "no_candidate", f"no other machine does {j.process}")
        dest, found = cands[0][0], cands[0][1]
        if found:
            code, text = found[0]
            raise SimCommandError(409, code, f"no machine can take job {j.id}; the best: {text}")
    _move(s, j, dest)
    scrapped = " (part in progress scrapped)" if in_progress else ""
    return f"job {j.id} moved from {old.id if old else 'the backlog'} to {dest.id}{scrapped}"


def _move(s: SimState, j: JobRec, dest: MachineRec) -> None:
    old = s.machines[j.machine] if j.machine is not None else None
    if old is not None:
        if old.job == j.id:
            if old.state == "running" and j.batch_end is not None:
                j.epoch += 1
            j.scrap_qty += 1
            q.add_count(old, s.t, 4, 1)
            old.quality_dirty = True
            j.batch_end = None
            j.batch_left = None
            j.batch_n = 0
            old.job = None
            if old.hold_kind == "job":
                old.held = False
                old.hold_kind = None
                old.paused_by = None
                old.pause_reason = None
            touch(s, old)
        else:
            pos = old.queue.index(j.id)
            del old.queue[pos]
            for jid in old.queue[pos:]:
                emit_job(s, s.jobs[jid])
            emit_machine(s, old)
    j.machine = None
    j.node = None
    enqueue(s, j, dest)
    emit_job(s, j)


# --- alerts ----------------------------------------------------------------------------------------------------------


def _alert_ack(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = _parse(AckBody, body)
    s.alerts.ack(now(s), target, operator, b.note)
    return f"alert {target} acknowledged"


def _alert_shelve(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = _parse(ShelveBody, body)
    until = b.until.astimezone(UTC) if b.until is not None else at(s, s.t + 3600.0)
    s.alerts.shelve(now(s), target, until, b.note)
    push(s, (until - s.start).total_seconds(), SHELVE, target, until)
    return f"alert {target} shelved until {until.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def _alert_unshelve(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    _parse(ShelveBody, body)
    s.alerts.unshelve(now(s), target)
    return f"alert {target} unshelved"


_COMMANDS: dict[str, Handler] = {
    "machine.pause": _machine_pause,
    "machine.resume": _machine_resume,
    "machine.ready": _machine_ready,
    "node.pause": _node_pause,
    "node.resume": _node_resume,
    "job.pause": _job_pause,
    "job.resume": _job_resume,
    "job.cancel": _job_cancel,
    "job.reroute": _job_reroute,
    "alert.ack": _alert_ack,
    "alert.shelve": _alert_shelve,
    "alert.unshelve": _alert_unshelve,
}
