"""Pause, resume and cancel as Sparkplug DCMDs, where a device's DBIRTH declared a writable metric for them.

A device says what it can be told in its DBIRTH: a metric named as the mapping's ``commands`` say (by default
``Command/Pause``, ``Command/Resume``, ``Command/Cancel``), Boolean or numeric, not marked ``readOnly``. The console
then offers that action on its machine and on the machine's job (:meth:`DeviceCommands.allows`), and carries it out
as a DCMD writing ``true`` (or 1) to that metric, QoS 0 and not retained, as Sparkplug 3.0 requires. A device that
declared none of them shows no such action: nothing is offered and refused after the fact.

A command writes nothing to the store: the device reports its new state in its next DDATA, and that is what the
console shows. Idempotency keys: a key already answered gets its first answer again and sends nothing twice.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from console.api.command_bodies import CommandResult
from console.api.errors import ApiError, Conflict, NotFound, Unprocessable
from console.api.models import Problem
from console.sources.sparkplug.host import Host
from console.sources.sparkplug.payload import BOOLEAN, build_metric, build_payload
from console.sources.sparkplug.state import Device
from console.sources.sparkplug.topics import command_topic
from console.sources.sparkplug.translation import LIVE_JOB, Translator

__all__ = ["SUPPORTED_ACTIONS", "VERBS", "DeviceCommands", "not_found", "not_supported"]

VERBS: dict[str, str] = {
    "machine.pause": "pause",
    "machine.resume": "resume",
    "job.pause": "pause",
    "job.resume": "resume",
    "job.cancel": "cancel",
}
"""Console actions -> the device command they become."""

SUPPORTED_ACTIONS: frozenset[str] = frozenset(VERBS)
"""The actions a Sparkplug device may support; each machine offers those its DBIRTH declared (:meth:`allows`)."""

_COLLECTIONS = {"machines": "machine", "jobs": "job", "alerts": "alert", "nodes": "node"}

Publish = Callable[[str, bytes], Awaitable[None]]


def not_supported(detail: str) -> Unprocessable:
    """422 ``not_supported``: the device declared no way to do this."""
    return Unprocessable(422, Problem(title="Unprocessable Content", status=422, detail=detail, code="not_supported"))


def not_found(detail: str) -> NotFound:
    """404 ``not_found``: not a machine or job of this source."""
    return NotFound(404, Problem(title="Not Found", status=404, detail=detail, code="not_found"))


def _conflict(detail: str, code: str) -> Conflict:
    return Conflict(409, Problem(title="Conflict", status=409, detail=detail, code=code))


class DeviceCommands:
    """Carries the console's commands to Sparkplug devices: what the command service calls ``command(...)`` on."""

    def __init__(self, host: Host, translator: Translator, publish: Publish) -> None:
        self._host = host
        self._translator = translator
        self._publish = publish
        self._answers: OrderedDict[str, CommandResult | ApiError] = OrderedDict()
        self.sent = 0

    # --- what is offered ------------------------------------------------------------------------------------------

    def allows(self, action: str, kind: str, target_id: str) -> bool:
        """Whether ``action`` is offered on this target: its device is online and declared the command's metric."""
        verb = VERBS.get(action)
        if verb is None:
            return False
        device = self._device_of(kind, target_id)
        if device is None or not device.online or verb not in device.commands:
            return False
        # A job action on a machine (the dashboard's cancel on a tile) is about the job the machine is running.
        return not (kind == "machine" and action.startswith("job.")) or self._translator.live_job(target_id) is not None

    def _device_of(self, kind: str, target_id: str) -> Device | None:
        if kind == "machine":
            return self._host.device(target_id)
        if kind == "job":
            job = self._translator.jobs.get(target_id)
            if job is None or job.machine_id is None:
                return None
            return self._host.device(job.machine_id)
        return None

    # --- carrying one out -----------------------------------------------------------------------------------------

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        """Carry out ``/v1/machines/{id}/pause`` & co as a DCMD. Raises ``Unprocessable`` (``not_supported``) for
        what the device did not declare, ``NotFound`` for what is not this source's, ``Conflict`` for a dead
        device or an ended job, ``ConnectionFailed`` when the broker is not connected."""
        if idempotency_key is not None and idempotency_key in self._answers:
            cached = self._answers[idempotency_key]
            if isinstance(cached, ApiError):
                raise cached
            return cached
        try:
            result = await self._command(path, body or {})
        except ApiError as error:
            self._remember(idempotency_key, error)
            raise
        self._remember(idempotency_key, result)
        return result

    def _remember(self, key: str | None, answer: CommandResult | ApiError) -> None:
        if key is None:
            return
        self._answers[key] = answer
        while len(self._answers) > 256:
            self._answers.popitem(last=False)

    async def _command(self, path: str, body: dict[str, Any]) -> CommandResult:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 4 or parts[0] != "v1" or parts[1] not in _COLLECTIONS:
            raise not_supported(f"Sparkplug devices do not support {path}")
        kind, target_id, verb_name = _COLLECTIONS[parts[1]], unquote(parts[2]), parts[3]
        action = f"{kind}.{verb_name}"
        verb = VERBS.get(action)
        if verb is None:
            raise not_supported(f"a Sparkplug device cannot {action.replace('.', ' ')}")
        if action == "machine.pause" and body.get("mode", "now") != "now":
            raise not_supported("a Sparkplug device cannot pause after the job (drain); only pause now")
        device = self._device_of(kind, target_id)
        if device is None:
            raise not_found(f"{kind} {target_id} is not served by this Sparkplug source")
        if kind == "job":
            job = self._translator.jobs.get(target_id)
            if job is None or job.status not in LIVE_JOB or self._translator.live_job(device.machine_id) is not job:
                raise _conflict(f"job {target_id} has ended", "job_finished")
        metric = device.commands.get(verb)
        if metric is None:
            raise not_supported(f"device {device.machine_id} declared no {verb} command in its DBIRTH")
        if not device.online:
            raise _conflict(f"device {device.machine_id} is offline", "target_offline")
        value: bool | int = True if metric.datatype == BOOLEAN else 1
        payload = build_payload([build_metric(metric.name, value, metric.datatype)])
        await self._publish(command_topic(device.group, device.edge, device.device_id), payload)
        self.sent += 1
        return CommandResult(command_id=f"spb-{uuid.uuid4()}", status="applied", audit_id=None)
