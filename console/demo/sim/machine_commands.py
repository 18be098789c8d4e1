"""The machine commands of the simulation: pause (now or after the job), resume, and ready (release a blocked
machine).

One group of ``console.demo.sim.commands``' handlers, split out so each group of commands is a module of its own;
``commands.execute`` dispatches to them and records the audit entry.
"""

from __future__ import annotations

from typing import Any

from console.api.command_bodies import PauseMachineBody, ReasonBody

from .command_checks import machine_for, parse_body
from .errors import SimCommandError
from .faults import clear_condition
from .lifecycle import touch
from .state import SimState

__all__ = ["machine_pause", "machine_ready", "machine_resume"]


def machine_pause(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = parse_body(PauseMachineBody, body)
    m = machine_for(s, target)
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


def machine_resume(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    parse_body(ReasonBody, body)
    m = machine_for(s, target)
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


def machine_ready(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    parse_body(ReasonBody, body)
    m = machine_for(s, target)
    if m.condition is None or m.condition.effect != "blocked":
        raise SimCommandError(409, "not_blocked", f"{m.id} is {m.state}; ready releases a blocked machine")
    reason = m.condition.reason
    clear_condition(s, m)
    return f"{m.id} released ({reason})"
