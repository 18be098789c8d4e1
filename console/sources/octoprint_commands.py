"""Which console commands an OctoPrint printer can carry out, and how they become ``POST /api/job`` bodies.

OctoPrint can pause, resume and cancel the current print; nothing else the console offers (drain after the job,
"ready", reroute, node pause) has a counterpart there, so those are refused with a ``not_supported`` problem instead
of being faked. The app hides them for OctoPrint machines using :data:`SUPPORTED_ACTIONS`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from console.api.errors import ApiError, NotFound, Unprocessable
from console.api.models import CommandResult, Problem

__all__ = [
    "SUPPORTED_ACTIONS",
    "CommandTarget",
    "ResultCache",
    "not_found",
    "not_supported",
    "octoprint_job_body",
    "parse_command_path",
]

SUPPORTED_ACTIONS: frozenset[str] = frozenset(
    {"machine.pause", "machine.resume", "job.pause", "job.resume", "job.cancel"}
)
"""Console actions an OctoPrint machine (and its job) supports; the app hides every other action for them."""

LOCAL_ACTIONS: frozenset[str] = frozenset({"alert.ack"})
"""Actions the source answers itself (OctoPrint has no alarms: acknowledging one is the console's own business)."""

_COLLECTIONS = {"machines": "machine", "jobs": "job", "alerts": "alert", "nodes": "node"}

_JOB_BODIES: dict[str, dict[str, str]] = {
    "pause": {"command": "pause", "action": "pause"},
    "resume": {"command": "pause", "action": "resume"},
    "cancel": {"command": "cancel"},
}


@dataclass(frozen=True, slots=True)
class CommandTarget:
    """A parsed command path: ``/v1/jobs/OP-a-1/pause`` is ``("job.pause", "OP-a-1")``."""

    action: str
    target_id: str

    @property
    def verb(self) -> str:
        return self.action.split(".", 1)[1]


def not_supported(detail: str) -> Unprocessable:
    """422 ``not_supported``: OctoPrint has no way to do this."""
    return Unprocessable(422, Problem(title="Unprocessable Content", status=422, detail=detail, code="not_supported"))


def not_found(detail: str) -> NotFound:
    return NotFound(404, Problem(title="Not Found", status=404, detail=detail, code="not_found"))


def parse_command_path(path: str) -> CommandTarget:
    """Parse ``/v1/{collection}/{id}/{verb}``; raises :func:`not_supported` for anything this source cannot do."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) != 4 or parts[0] != "v1" or parts[1] not in _COLLECTIONS:
        raise not_supported(f"OctoPrint printers do not support {path}")
    action = f"{_COLLECTIONS[parts[1]]}.{parts[3]}"
    if action not in SUPPORTED_ACTIONS and action not in LOCAL_ACTIONS:
        raise not_supported(f"OctoPrint cannot {action.replace('.', ' ')}")
    return CommandTarget(action, unquote(parts[2]))


def octoprint_job_body(action: str, body: dict[str, Any]) -> dict[str, str]:
    """The ``POST /api/job`` body for a supported action. A machine pause ``after_job`` (drain) is not supported."""
    if action == "machine.pause" and body.get("mode", "now") != "now":
        raise not_supported("OctoPrint cannot pause after the job (drain); only pause now")
    verb = action.split(".", 1)[1]
    return dict(_JOB_BODIES[verb])


class ResultCache:
    """The first answer to each idempotency key (a result or an :class:`ApiError`), the newest ``size`` keys.

    OctoPrint has no idempotency of its own: without this, a command service that retries a lost answer with the same
    key would pause twice (the second time getting a confusing 409).
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._answers: OrderedDict[str, CommandResult | ApiError] = OrderedDict()

    def get(self, key: str | None) -> CommandResult | ApiError | None:
        if key is None:
            return None
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: str | None, answer: CommandResult | ApiError) -> None:
        if key is None:
            return
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
