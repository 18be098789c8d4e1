"""The contract's commands on the wire: one table of routes and one typed body per action.

Everything that sends a command (the command service for the operator, the tests, a plugin) goes through
:func:`command_path` and :func:`encode_body`, so a body is validated against its contract model on the way out (an
unknown field, a wrong type or a reroute with no target never leaves the console) and written one way. Before this
there were two encodings: plain dicts with a path table in the command service, and twelve typed client methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from console.api.command_bodies import AckBody, PauseMachineBody, ReasonBody, RerouteBody, ShelveBody

__all__ = ["ACTIONS", "ROUTES", "CommandRoute", "InvalidCommandBody", "command_path", "encode_body"]


_OUTGOING = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)
"""Outgoing bodies refuse unknown fields (incoming objects ignore them: the future may add some)."""


class PauseMachine(PauseMachineBody):
    model_config = _OUTGOING


class Reason(ReasonBody):
    model_config = _OUTGOING


class Reroute(RerouteBody):
    model_config = _OUTGOING

    @model_validator(mode="after")
    def _one_target(self) -> Reroute:
        targets = sum((self.machine_id is not None, self.node_id is not None, bool(self.auto)))
        if targets != 1:
            raise ValueError("a reroute needs exactly one of machine_id, node_id or auto")
        return self


class Ack(AckBody):
    model_config = _OUTGOING


class Shelve(ShelveBody):
    model_config = _OUTGOING


@dataclass(frozen=True)
class CommandRoute:
    """``POST /v1/{collection}/{id}/{verb}`` with a body of ``body``."""

    collection: str
    verb: str
    body: type[BaseModel]


PAUSE_AFTER_JOB = "machine.pause.after_job"
"""Not a route of its own: ``machine.pause`` with ``mode: after_job`` (drain), named so that a source can say whether
it has it (``supported_actions``; a printer's API can only pause now). A contract server has every mode."""


ROUTES: dict[str, CommandRoute] = {
    "machine.pause": CommandRoute("machines", "pause", PauseMachine),
    "machine.resume": CommandRoute("machines", "resume", Reason),
    "machine.ready": CommandRoute("machines", "ready", Reason),
    "node.pause": CommandRoute("nodes", "pause", Reason),
    "node.resume": CommandRoute("nodes", "resume", Reason),
    "job.pause": CommandRoute("jobs", "pause", Reason),
    "job.resume": CommandRoute("jobs", "resume", Reason),
    "job.cancel": CommandRoute("jobs", "cancel", Reason),
    "job.reroute": CommandRoute("jobs", "reroute", Reroute),
    "alert.ack": CommandRoute("alerts", "ack", Ack),
    "alert.shelve": CommandRoute("alerts", "shelve", Shelve),
    "alert.unshelve": CommandRoute("alerts", "unshelve", Ack),
}
"""Every command of the contract, by action name."""

ACTIONS = frozenset(ROUTES)


class InvalidCommandBody(ValueError):
    """A command's body does not fit its contract model: it is not sent."""


def command_path(action: str, target_id: str) -> str:
    """The path of ``action`` on ``target_id`` (an id is one path segment, whatever it holds)."""
    route = ROUTES[action]
    return f"/v1/{route.collection}/{quote(target_id, safe='')}/{route.verb}"


def encode_body(action: str, body: Mapping[str, Any] | BaseModel | None = None) -> dict[str, Any]:
    """``body`` validated against the action's model and written as the contract's JSON (no ``null`` members; a
    reroute's ``auto`` only when it is the target). Raises :class:`InvalidCommandBody` with the first problem."""
    model = ROUTES[action].body
    data = body.model_dump(exclude_none=True) if isinstance(body, BaseModel) else dict(body or {})
    try:
        validated = model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise InvalidCommandBody(f"{action}: {where}: {first.get('msg', 'invalid')}") from None
    payload = validated.model_dump(mode="json", exclude_none=True)
    if action == "job.reroute" and not payload.get("auto"):
        payload.pop("auto", None)
    return payload
