"""Which console commands an OctoPrint printer can carry out, how they become ``POST /api/job`` bodies, and the
carrier that sends them.

OctoPrint can pause, resume and cancel the current print; nothing else the console offers (drain after the job,
"ready", reroute, node pause) has a counterpart there, so those are refused with a ``not_supported`` problem instead
of being faked. The app hides them for OctoPrint machines using :data:`SUPPORTED_ACTIONS`.

A command changes nothing in the store. :class:`PrinterCommands` sends it (or, for an acknowledgement, hands it to
the translation as an input), then wakes the source (the next poll now, or a translation now on the push socket);
the next state OctoPrint pushes (or the next poll) shows it paused (or cancelled ...) and the translation turns that
into events, so the screen shows what the printer did, not what the console asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from console.api.command_bodies import CommandResult
from console.api.errors import Conflict, ConnectionFailed, NotFound, Unprocessable
from console.api.models import Problem
from console.sources.idempotent import IdempotentCarrier, ResultCache

if TYPE_CHECKING:  # types only: the translation imports this module's problems
    from console.sources.octoprint.rest import PrinterRest
    from console.sources.octoprint.translation import Translator

__all__ = [
    "LOCAL_ACTIONS",
    "SUPPORTED_ACTIONS",
    "CommandTarget",
    "PrinterCommands",
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
        """``pause`` of ``job.pause``."""
        return self.action.split(".", 1)[1]


def not_supported(detail: str) -> Unprocessable:
    """422 ``not_supported``: OctoPrint has no way to do this."""
    return Unprocessable(422, Problem(title="Unprocessable Content", status=422, detail=detail, code="not_supported"))


def not_found(detail: str) -> NotFound:
    """404 ``not_found``: not this printer's machine, job or alert (what a contract server would answer)."""
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


class PrinterCommands(IdempotentCarrier):
    """Carries the console's commands to one printer: what the command service calls ``command(...)`` on.

    It reads the translation (which job and alert are this printer's, as last sent) to refuse what is not its own,
    tells it what was sent (a cancel), hands it acknowledgements, and calls ``wake`` so the next poll comes at once
    and brings the effect into the store. It never writes the store.
    """

    def __init__(
        self,
        machine_id: str,
        rest: PrinterRest,
        translator: Translator,
        *,
        wake: Callable[[], None],
        ended: Callable[[], bool],
    ) -> None:
        self.machine_id = machine_id
        self._rest = rest
        self._translator = translator
        self._wake = wake
        self._ended = ended
        super().__init__()

    async def _command(self, path: str, body: dict[str, Any]) -> CommandResult:
        target = parse_command_path(path)
        if target.action == "alert.ack":
            return self._ack_alert(target.target_id, body)
        if target.action.startswith("machine."):
            if target.target_id != self.machine_id:
                raise not_found(f"machine {target.target_id} is not {self.machine_id}")
        else:
            job = self._translator.job
            if job is None or job.id != target.target_id:
                raise not_found(f"job {target.target_id} is not the current print of {self.machine_id}")
            if job.status not in ("running", "paused"):
                raise Conflict(
                    409,
                    Problem(title="Conflict", status=409, detail=f"job {job.id} is {job.status}", code="job_finished"),
                )
        await self._rest.post_job(octoprint_job_body(target.action, body), target=self.machine_id)
        if target.verb == "cancel":
            self._translator.cancel_sent()
        self._wake()
        return _applied()

    def _ack_alert(self, alert_id: str, body: dict[str, Any]) -> CommandResult:
        """Acknowledge this printer's alert in the console (OctoPrint has no alarms to acknowledge): the translation
        takes it as an input, and the next poll (brought forward) sends the ``alert.updated``."""
        if self._ended():
            raise ConnectionFailed(f"the OctoPrint source of {self.machine_id} has stopped; the command was not sent")
        note = body.get("note")
        self._translator.acknowledge(alert_id, str(note) if note else None)
        self._wake()
        return _applied()


def _applied() -> CommandResult:
    """OctoPrint took the command (it has no command ids: one is made up for the audit log)."""
    return CommandResult(command_id=f"op-{uuid.uuid4()}", status="applied", audit_id=None)
