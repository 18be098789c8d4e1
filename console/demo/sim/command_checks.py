"""What every command of the simulation checks before it changes anything: its body parsed against the
contract's model, and its target found and reachable.

Split out of ``console.demo.sim.commands`` so the handlers of each group (machines, nodes, jobs, alerts) share these
checks and answer a bad body or target the same way: 422 ``invalid_body`` naming the field, 404 ``not_found``, 409
``target_offline`` for a node the cluster cannot reach, 409 ``job_finished``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import SimCommandError
from .state import SimState, reachable
from .world import JobRec, MachineRec, NodeRec

__all__ = ["job_for", "machine_for", "node_for", "parse_body"]

_Body = TypeVar("_Body", bound=BaseModel)


def parse_body(model: type[_Body], body: dict[str, Any]) -> _Body:
    try:
        return model.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise SimCommandError(422, "invalid_body", f"{where}: {first.get('msg', 'invalid')}") from None


def machine_for(s: SimState, machine_id: str) -> MachineRec:
    m = s.machine_by_id.get(machine_id)
    if m is None:
        raise SimCommandError(404, "not_found", f"machine {machine_id} not found")
    if not reachable(s, s.nodes[m.node]):
        raise SimCommandError(409, "target_offline", f"{m.id}: node {s.nodes[m.node].id} is offline")
    return m


def job_for(s: SimState, job_id: str) -> JobRec:
    j = s.jobs.get(job_id)
    if j is None:
        raise SimCommandError(404, "not_found", f"job {job_id} not found")
    if j.finished_at is not None:
        raise SimCommandError(409, "job_finished", f"job {j.id} is {j.status}")
    if j.node is not None and not reachable(s, s.nodes[j.node]):
        raise SimCommandError(409, "target_offline", f"job {j.id}: node {s.nodes[j.node].id} is offline")
    return j


def node_for(s: SimState, node_id: str) -> NodeRec:
    n = s.node_by_id.get(node_id)
    if n is None:
        raise SimCommandError(404, "not_found", f"node {node_id} not found")
    if not reachable(s, n):
        raise SimCommandError(409, "target_offline", f"node {n.id} is offline")
    return n
