"""Which console commands a Klipper printer (through Moonraker) can carry out, the JSON-RPC calls they become, and
the carrier that sends them.

Moonraker can pause, resume and cancel the current print (``printer.print.pause|resume|cancel``) and take an entry
out of its job queue (``server.job_queue.delete_job``, the console's cancel of a queued job). Nothing else the
console offers (drain after the job, "ready", reroute, node pause) has a counterpart, so those are absent from
:data:`SUPPORTED_ACTIONS` (the app does not offer them) and refused with ``not_supported`` if asked anyway.

A command changes nothing in the store: :class:`PrinterCommands` sends it, and the effect comes back as Moonraker's
own notifications (``print_stats`` paused ...), which the translation turns into events. An acknowledgement (Klipper
has no alarms) is handed to the translation as an input and goes out with the next flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from console.api.command_bodies import CommandResult
from console.api.errors import ApiError, Conflict, ConnectionFailed, NotFound, Unprocessable, error_for_status
from console.api.models import Problem
from console.sources.idempotent import IdempotentCarrier, ResultCache
from console.sources.moonraker.mapping import clean_text
from console.sources.moonraker.rpc import RpcError

if TYPE_CHECKING:  # types only: the translation imports this module's problems
    from console.sources.moonraker.translation import Translator

__all__ = [
    "SUPPORTED_ACTIONS",
    "CommandTarget",
    "PrinterCommands",
    "ResultCache",
    "http_status_of",
    "not_found",
    "not_supported",
    "parse_command_path",
    "problem_for_rpc_error",
]

SUPPORTED_ACTIONS: frozenset[str] = frozenset(
    {"machine.pause", "machine.resume", "job.pause", "job.resume", "job.cancel"}
)
"""Console actions a Moonraker machine (and its jobs) supports; the app hides every other action for them."""

LOCAL_ACTIONS: frozenset[str] = frozenset({"alert.ack"})
"""Actions the source answers itself (Klipper has no alarms: acknowledging one is the console's own business)."""

PRINT_METHODS = {"pause": "printer.print.pause", "resume": "printer.print.resume", "cancel": "printer.print.cancel"}

_COLLECTIONS = {"machines": "machine", "jobs": "job", "alerts": "alert", "nodes": "node"}

Send = Callable[[str, "dict[str, Any] | None"], Awaitable[Any]]
"""Sends one JSON-RPC call on the source's current connection (``ConnectionFailed`` when there is none)."""


@dataclass(frozen=True, slots=True)
class CommandTarget:
    """A parsed command path: ``/v1/jobs/MR-a-1/pause`` is ``("job.pause", "MR-a-1")``."""

    action: str
    target_id: str

    @property
    def verb(self) -> str:
        return self.action.split(".", 1)[1]


def not_supported(detail: str) -> Unprocessable:
    """422 ``not_supported``: Moonraker has no way to do this."""
    return Unprocessable(422, Problem(title="Unprocessable Content", status=422, detail=detail, code="not_supported"))


def not_found(detail: str) -> NotFound:
    """404 ``not_found``: not this printer's machine, job or alert (what a contract server would answer)."""
    return NotFound(404, Problem(title="Not Found", status=404, detail=detail, code="not_found"))


def _conflict(detail: str, code: str) -> Conflict:
    return Conflict(409, Problem(title="Conflict", status=409, detail=detail, code=code))


def parse_command_path(path: str) -> CommandTarget:
    """Parse ``/v1/{collection}/{id}/{verb}``; raises :func:`not_supported` for anything Moonraker cannot do."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) != 4 or parts[0] != "v1" or parts[1] not in _COLLECTIONS:
        raise not_supported(f"Moonraker printers do not support {path}")
    action = f"{_COLLECTIONS[parts[1]]}.{parts[3]}"
    if action not in SUPPORTED_ACTIONS and action not in LOCAL_ACTIONS:
        raise not_supported(f"Moonraker cannot {action.replace('.', ' ')}")
    return CommandTarget(action, unquote(parts[2]))


def http_status_of(code: int, message: str) -> int:
    """The HTTP status a Moonraker JSON-RPC error stands for. Moonraker sends its HTTP-like status as the code, but
    401 as ``-32602`` ("Unauthorized", "Invalid API Key") and 404 as ``-32601`` ("Method not found")."""
    if code == -32602:
        lowered = message.lower()
        return 401 if "unauthorized" in lowered or "api key" in lowered else 422
    if code == -32601:
        return 404
    return code if 400 <= code <= 599 else 502


def problem_for_rpc_error(code: int, message: str) -> ApiError:
    """A Moonraker JSON-RPC error as a typed problem. Its 400 ("Print is not in progress") and 503 ("Klippy Host not
    connected") are the printer's state, not a bad request: a 409 ``invalid_state`` with Moonraker's own words."""
    detail = clean_text(message) or f"Moonraker error {code}"
    status = http_status_of(code, message)
    if status in (400, 503):
        return _conflict(detail, "invalid_state")
    return error_for_status(status, Problem(title="Moonraker refused", status=status, detail=detail))


class PrinterCommands(IdempotentCarrier):
    """The carrier of one printer's commands. See the module docstring."""

    def __init__(
        self,
        machine_id: str,
        send: Send,
        translator: Translator,
        *,
        wake: Callable[[], None],
        ended: Callable[[], bool],
    ) -> None:
        self.machine_id = machine_id
        self._send = send
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
            if target.verb == "pause" and body.get("mode", "now") != "now":
                raise not_supported("Moonraker cannot pause after the job (drain); only pause now")
        else:
            queue_id = self._translator.jobs.queue_job_id(target.target_id)
            if queue_id is not None:
                return await self._queued(target, queue_id)
            job = self._translator.job
            if job is None or job.id != target.target_id:
                raise not_found(f"job {target.target_id} is not a print or a queued job of {self.machine_id}")
            if job.status not in ("running", "paused"):
                raise _conflict(f"job {job.id} is {job.status}", "job_finished")
        await self._call(PRINT_METHODS[target.verb], None)
        if target.verb == "cancel":
            self._translator.cancel_sent()
        return _applied()

    async def _queued(self, target: CommandTarget, queue_id: str) -> CommandResult:
        """A job still in Moonraker's queue: cancelling takes it out; it cannot be paused or resumed."""
        if target.verb != "cancel":
            raise _conflict(f"job {target.target_id} is queued, not printing", "invalid_state")
        self._translator.jobs.queue_cancel_sent(queue_id)
        await self._call("server.job_queue.delete_job", {"job_ids": [queue_id]})
        return _applied()

    async def _call(self, method: str, params: dict[str, Any] | None) -> Any:
        if self._ended():
            raise ConnectionFailed(f"the Moonraker source of {self.machine_id} has stopped; the command was not sent")
        try:
            return await self._send(method, params)
        except RpcError as error:
            raise problem_for_rpc_error(error.code, error.message) from None

    def _ack_alert(self, alert_id: str, body: dict[str, Any]) -> CommandResult:
        """Acknowledge this printer's alert in the console (Klipper has no alarms): the translation takes it as an
        input and the next flush (brought forward) sends the ``alert.updated``."""
        if self._ended():
            raise ConnectionFailed(f"the Moonraker source of {self.machine_id} has stopped; the command was not sent")
        note = body.get("note")
        self._translator.acknowledge(alert_id, str(note) if note else None)
        self._wake()
        return _applied()


def _applied() -> CommandResult:
    """Moonraker took the command (it has no command ids: one is made up for the audit log)."""
    return CommandResult(command_id=f"mr-{uuid.uuid4()}", status="applied", audit_id=None)
