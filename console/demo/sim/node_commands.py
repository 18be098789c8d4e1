"""The node commands of the simulation: pause (no new jobs; running jobs finish) and resume.

One group of ``console.demo.sim.commands``' handlers, split out so each group of commands is a module of its own;
``commands.execute`` dispatches to them and records the audit entry.
"""

from __future__ import annotations

from typing import Any

from console.api.command_bodies import ReasonBody

from .command_checks import node_for, parse_body
from .errors import SimCommandError
from .lifecycle import settle
from .projection import emit_machine
from .rollups import update_node
from .state import SimState

__all__ = ["node_pause", "node_resume"]


def node_pause(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    parse_body(ReasonBody, body)
    n = node_for(s, target)
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


def node_resume(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    parse_body(ReasonBody, body)
    n = node_for(s, target)
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
