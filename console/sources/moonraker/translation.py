"""Translation: what Moonraker and Klipper said becomes contract objects and events, numbered by this source's ``seq``.

Moonraker pushes changes (``notify_status_update`` with only the fields that changed, Klipper's state changes, the
job queue); the store follows a numbered stream of contract events. The :class:`Translator` is the bridge: it keeps
the printer objects as last heard (merged field by field), Klipper's host state, and what it last told the store
(the machine, the jobs in :class:`~console.sources.moonraker.jobs.JobBook`, the open alert), and :meth:`flush` turns
the difference into ``machine.updated``, ``machine.telemetry``, ``job.updated``, ``job.removed``, ``alert.raised``
and ``alert.updated`` events. Only a change becomes an event (plus a ``machine.updated`` heartbeat now and then, so
``last_seen`` stays fresh). Every event gets the next ``seq`` of this source, from 1 up with no gaps, so a snapshot at
:attr:`Translator.seq` is exactly the fold of them.

Commands never write here directly: what the console did is an input of the next flush, like what Moonraker said
(:meth:`Translator.cancel_sent`, :meth:`Translator.acknowledge`). No I/O, no store: clocks are passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.api.models import Alert, Event, EventType, Job, Machine, MachineTelemetry, SourceRef
from console.sources.moonraker.commands import not_found
from console.sources.moonraker.jobs import LIVE, JobBook
from console.sources.moonraker.mapping import (
    PrinterView,
    QueuedFile,
    clean_text,
    envelope,
    finite,
    map_state,
    telemetry,
)

__all__ = ["Translator"]

MAX_OBJECTS = 64
"""Printer objects kept (the subscription names a dozen; a flood of unknown names is not kept)."""


_NUMBERS = frozenset({"temperature", "target", "progress", "print_duration", "total_duration"})
_TEXTS = frozenset({"state", "state_message", "filename", "message", "file_path"})


def _fits(key: Any, value: Any) -> bool:
    """A field the mapping reads has the type it needs: numbers finite, texts text (or null)."""
    if key in _NUMBERS:
        return finite(value) is not None
    if key in _TEXTS:
        return value is None or isinstance(value, str)
    return isinstance(key, str)


@dataclass(frozen=True, slots=True)
class _Ack:
    alert_id: str
    note: str | None
    at: datetime


class Translator:
    """One printer's state as last heard and as last sent, and the events between them. See the module docstring."""

    def __init__(
        self,
        *,
        name: str,
        machine_id: str,
        node_id: str,
        clock: Callable[[], datetime],
        heartbeat: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.machine_id = machine_id
        self.node_id = node_id
        self.heartbeat = heartbeat
        self._clock = clock
        self._monotonic = monotonic
        self._seq = 0
        self._out: list[Event] = []
        self.model = "Klipper"
        """``Klipper <software_version>`` from ``printer.info``."""
        self.objects: dict[str, dict[str, Any]] = {}
        """Klipper's printer objects as last heard (``print_stats``, ``extruder`` ...)."""
        self.klippy_state = "disconnected"
        self.klippy_message = ""
        self._unreachable: str | None = "connecting to Moonraker"
        self._telemetry: dict[str, float] = {}
        self._envelope: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.jobs = JobBook(machine_id=machine_id, node_id=node_id, emit=self._emit, clock=clock)
        self._machine = self._make_machine(PrinterView("offline", self._unreachable), since=clock())
        self._machine_sent_at = monotonic()
        self._alert: Alert | None = None
        self._acks: list[_Ack] = []

    # --- what was sent --------------------------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event made (0 before any): a snapshot of what is held is at this ``seq``."""
        return self._seq

    @property
    def machine(self) -> Machine:
        return self._machine

    @property
    def job(self) -> Job | None:
        """The current (or last finished) print."""
        return self.jobs.job

    @property
    def alert(self) -> Alert | None:
        """The open (not resolved) fault alert."""
        return self._alert

    # --- inputs (each takes effect at the next flush) -------------------------------------------------------------

    def klippy(self, state: Any, message: Any = None) -> None:
        """Klipper's host state (``server.info``'s ``klippy_state``, ``printer.info``, ``webhooks``, a
        ``notify_klippy_*``) and its message when one came."""
        self.klippy_state = clean_text(state, 40).lower() or "disconnected"
        if message is not None:
            self.klippy_message = clean_text(message)
        self._unreachable = None

    def klippy_gone(self, *, seen: bool = False) -> None:
        """Klipper is away: what it said no longer holds. ``seen``: it went away while Moonraker watched
        (``notify_klippy_disconnected``), so a print in progress is lost; else (Moonraker just started and has not
        reached it yet) a print may go on."""
        self.klippy("disconnected", "")
        self.objects.clear()
        if seen:
            self.jobs.print_lost()

    def replace_status(self, status: Mapping[str, Any]) -> int:
        """A subscription's whole answer: the objects start again from it. Returns how many parts were unusable."""
        self.objects.clear()
        return self.status(status)

    def status(self, status: Mapping[str, Any]) -> int:
        """A ``notify_status_update``: merge the changed fields in. Returns how many parts were unusable (an object
        that is not an object of fields, a known field of the wrong type: a temperature that is not a finite
        number ...); those are skipped, so the last good value stays."""
        bad = 0
        for name, fields in status.items():
            if not isinstance(name, str) or not isinstance(fields, Mapping):
                bad += 1
                continue
            known = self.objects.get(name)
            if known is None:
                if len(self.objects) >= MAX_OBJECTS:
                    bad += 1
                    continue
                known = self.objects[name] = {}
            for key, value in fields.items():
                if _fits(key, value):
                    known[str(key)] = value
                else:
                    bad += 1
        webhooks = self.objects.get("webhooks")
        if webhooks is not None and "state" in webhooks:
            self.klippy(webhooks["state"], webhooks.get("state_message"))
        return bad

    def queue(self, files: list[QueuedFile]) -> None:
        """Moonraker's job queue as it now is."""
        self.jobs.update_queue(files)

    def history_finished(self, entry: Any) -> None:
        self.jobs.history_finished(entry)

    def unreachable(self, reason: str | None) -> None:
        """Moonraker cannot be reached: the machine shows ``offline`` with ``reason`` at the next flush (``None``:
        not long enough to say so; the last state stays)."""
        if reason is not None:
            self._unreachable = reason

    def identified(self, software_version: Any) -> None:
        version = clean_text(software_version, 40)
        self.model = f"Klipper {version}" if version else "Klipper"

    def cancel_sent(self) -> None:
        self.jobs.cancel_sent()

    def acknowledge(self, alert_id: str, note: str | None) -> None:
        """The operator acknowledged ``alert_id``; it becomes an ``alert.updated`` at the next flush.

        Raises ``NotFound`` when it is not this printer's open alert (as last sent).
        """
        alert = self._alert
        if alert is None or alert.id != alert_id:
            raise not_found(f"alert {alert_id} is not an open alert of {self.machine_id}")
        self._acks.append(_Ack(alert_id, clean_text(note) if note else None, self._clock()))

    # --- the events -----------------------------------------------------------------------------------------------

    def flush(self) -> list[Event]:
        """The events that take the store from what was sent to what is now known (empty when nothing changed)."""
        self._apply_acks()
        if self._unreachable is not None:
            view = PrinterView("offline", self._unreachable)
        else:
            view = map_state(self.klippy_state, self.klippy_message, self.objects)
            self.jobs.update_print(view, self.objects)
            self._update_telemetry(telemetry(self.objects))
            if (size := envelope(self.objects)) != (0.0, 0.0, 0.0):
                self._envelope = size
        live = self.jobs.live
        self._set_machine(view, live)
        self._update_alert(view)
        out, self._out = self._out, []
        return out

    def _emit(self, type_: str, data: Any) -> None:
        self._seq += 1
        self._out.append(Event(self._seq, type_, data))

    def _apply_acks(self) -> None:
        acks, self._acks = self._acks, []
        for ack in acks:
            alert = self._alert
            if alert is None or alert.id != ack.alert_id:
                continue  # resolved meanwhile
            update: dict[str, Any] = {"acked_by": "console", "ack_note": ack.note, "updated_at": ack.at}
            if alert.state == "active_unacked":
                update["state"] = "active_acked"
            elif alert.state == "cleared_unacked":
                update["state"] = "resolved"
            self._put_alert(alert, **update)

    # --- the machine ------------------------------------------------------------------------------------------------

    def _update_telemetry(self, values: dict[str, float]) -> None:
        changed = {k: v for k, v in values.items() if self._telemetry.get(k) != v}
        if not changed:
            return
        self._telemetry.update(changed)
        self._emit(
            EventType.MACHINE_TELEMETRY, MachineTelemetry(machine_id=self.machine_id, at=self._clock(), values=changed)
        )

    def _make_machine(self, view: PrinterView, *, since: datetime, job: Job | None = None) -> Machine:
        return Machine(
            id=self.machine_id,
            node_id=self.node_id,
            name=self.name,
            kind="fdm_printer",
            model=self.model,
            state=view.state,
            state_since=since,
            job_id=job.id if job is not None else None,
            progress=job.progress if job is not None else None,
            materials=[],
            processes=["fdm"],
            envelope_mm=self._envelope,
            telemetry=dict(self._telemetry),
            state_reason=view.reason,
            fault_code=view.fault_code,
            last_seen=self._clock(),
        )

    def _set_machine(self, view: PrinterView, job: Job | None) -> None:
        """``machine.updated`` when anything but the telemetry and ``last_seen`` changed (or on the heartbeat)."""
        old = self._machine
        since = old.state_since if old.state == view.state else self._clock()
        new = self._make_machine(view, since=since, job=job if job is not None and job.status in LIVE else None)
        ignore = {"telemetry", "last_seen"}
        same = new.model_dump(exclude=ignore) == old.model_dump(exclude=ignore)
        if same and self._monotonic() - self._machine_sent_at < self.heartbeat:
            self._machine = old.model_copy(update={"telemetry": dict(self._telemetry)})
            return
        self._machine = new
        self._machine_sent_at = self._monotonic()
        self._emit(EventType.MACHINE_UPDATED, new)

    # --- the fault alert --------------------------------------------------------------------------------------------

    def _update_alert(self, view: PrinterView) -> None:
        """ISA-18.2 lite, as OctoPrint's: a fault raises ``active_unacked``; when it goes, the alert is cleared (or
        resolved if it was acknowledged); the same fault coming back before it resolved counts up."""
        alert, now = self._alert, self._clock()
        if view.error is not None:
            if alert is None:
                self._alert = Alert(
                    id=f"{self.machine_id}-ERR-{now:%Y%m%dT%H%M%S}",
                    priority="high",
                    state="active_unacked",
                    source=SourceRef(kind="machine", id=self.machine_id),
                    code=view.fault_code or "printer_error",
                    message=view.error,
                    raised_at=now,
                    updated_at=now,
                )
                self._emit(EventType.ALERT_RAISED, self._alert)
            elif alert.state == "cleared_unacked":
                count = alert.count + 1
                self._put_alert(alert, state="active_unacked", count=count, message=view.error, updated_at=now)
            elif alert.message != view.error:
                self._put_alert(alert, message=view.error, updated_at=now)
        elif alert is not None and alert.state in ("active_unacked", "active_acked") and view.state != "offline":
            # Offline says nothing about the fault (Moonraker or Klipper gone): it clears when the printer says so.
            state = "resolved" if alert.state == "active_acked" else "cleared_unacked"
            self._put_alert(alert, state=state, updated_at=now)

    def _put_alert(self, alert: Alert, **update: Any) -> None:
        new = alert.model_copy(update=update)
        self._alert = None if new.state == "resolved" else new
        self._emit(EventType.ALERT_UPDATED, new)
