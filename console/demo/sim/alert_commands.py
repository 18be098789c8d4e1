"""The alert commands of the simulation: acknowledge, shelve (for an hour unless told until when) and unshelve.

One group of ``console.demo.sim.commands``' handlers, split out so each group of commands is a module of its own;
``commands.execute`` dispatches to them (after checking the alert's node is reachable) and records the audit entry.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from console.api.command_bodies import AckBody, ShelveBody

from .command_checks import parse_body
from .state import SHELVE, SimState, at, now, push

__all__ = ["alert_ack", "alert_shelve", "alert_unshelve"]


def alert_ack(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = parse_body(AckBody, body)
    s.alerts.ack(now(s), target, operator, b.note)
    return f"alert {target} acknowledged"


def alert_shelve(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    b = parse_body(ShelveBody, body)
    until = b.until.astimezone(UTC) if b.until is not None else at(s, s.t + 3600.0)
    s.alerts.shelve(now(s), target, until, b.note)
    push(s, (until - s.start).total_seconds(), SHELVE, target, until)
    return f"alert {target} shelved until {until.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def alert_unshelve(s: SimState, target: str, body: dict[str, Any], operator: str) -> str:
    parse_body(ShelveBody, body)
    s.alerts.unshelve(now(s), target)
    return f"alert {target} unshelved"
