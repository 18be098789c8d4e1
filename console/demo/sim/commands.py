"""Commands: what an operator can do to the simulation, each checked, applied and recorded in the audit trail.

``execute`` is the one way in: it refuses text that is not valid Unicode before touching anything, finds the handler
for the action, applies it (a refusal is a ``SimCommandError``) and appends an ``applied`` or ``rejected`` audit
entry. The handlers change the records and then let the rest of the simulation catch up (``lifecycle.touch`` /
``settle``, ``placement.enqueue``), so a command's effects are sent exactly as the story's own would be.

This module is the way in and the audit trail; the handlers live one group a module (``machine_commands``,
``node_commands``, ``job_commands``, ``alert_commands``) on the shared checks of ``command_checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.api.models import AuditEntry, SourceRef
from console.demo.text import invalid_text_at

from .alert_commands import alert_ack, alert_shelve, alert_unshelve
from .errors import SimCommandError
from .job_commands import job_cancel, job_pause, job_reroute, job_resume
from .machine_commands import machine_pause, machine_ready, machine_resume
from .node_commands import node_pause, node_resume
from .reads import node_of
from .state import SimState, node_index, now, reachable, send

__all__ = ["execute"]

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


_COMMANDS: dict[str, Handler] = {
    "machine.pause": machine_pause,
    "machine.resume": machine_resume,
    "machine.ready": machine_ready,
    "node.pause": node_pause,
    "node.resume": node_resume,
    "job.pause": job_pause,
    "job.resume": job_resume,
    "job.cancel": job_cancel,
    "job.reroute": job_reroute,
    "alert.ack": alert_ack,
    "alert.shelve": alert_shelve,
    "alert.unshelve": alert_unshelve,
}
