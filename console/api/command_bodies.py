"""What a command sends and what it gets back: the request bodies of the contract's commands and their result.

Split out of ``console.api.models`` so that module holds the objects the server reports (cluster, nodes, machines,
jobs, alerts, quality, audit) and this one the command traffic. A refusal is a ``Problem``, the answer of any failed
request, so it stays with the wire objects. These bodies are the lenient ones (unknown fields ignored, as everywhere
on the wire): the simulator parses incoming commands with them, and the strict outgoing variants of
``console.api.commands`` are built on them.
"""

from __future__ import annotations

from typing import Literal

from console.api.wire import ApiModel, Timestamp

__all__ = [
    "AckBody",
    "CommandResult",
    "PauseMachineBody",
    "ReasonBody",
    "RerouteBody",
    "ShelveBody",
]


class ReasonBody(ApiModel):
    """The body of commands that need nothing more than an optional reason."""

    reason: str | None = None


class PauseMachineBody(ReasonBody):
    mode: Literal["now", "after_job"] = "now"


class RerouteBody(ReasonBody):
    machine_id: str | None = None
    node_id: str | None = None
    auto: bool = False
    restart: bool = False


class AckBody(ApiModel):
    note: str | None = None
    reason: str | None = None


class ShelveBody(ApiModel):
    until: Timestamp | None = None
    note: str | None = None
    reason: str | None = None


class CommandResult(ApiModel):
    command_id: str
    status: str
    audit_id: str | None = None
