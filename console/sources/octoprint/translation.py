"""Translation: what OctoPrint said becomes contract objects and events, numbered by this source's own ``seq``.

OctoPrint answers questions about *now*; the console's store follows a numbered stream of *changes*. The
:class:`Translator` is the bridge: it holds what this source last told the store (the machine, the current or last
print as a job, the open alert) and turns each poll into the events that take the store from that to the new
state: ``machine.updated``, ``machine.telemetry``, ``job.updated``, ``job.removed``, ``alert.raised`` and
``alert.updated``. Only a change becomes an event (plus a ``machine.updated`` heartbeat now and then, so
``last_seen`` stays fresh). Every event gets the next ``seq`` of this source, from 1 up with no gaps, so the store
applies them like any other source's stream and a snapshot at :attr:`Translator.seq` is exactly the fold of them.

Commands never write here directly. What the console did is an *input* of the next translation, like an answer:
:meth:`Translator.cancel_sent` (so the print that ends next is ``cancelled``, not ``completed``) and
:meth:`Translator.acknowledge` (OctoPrint has no alarms, so an acknowledgement is the console's own business). Its
effect becomes an event at the next :meth:`Translator.answer` or :meth:`Translator.poll_failed`, never at once.
That keeps one writer, the poll, and one order of events, whatever commands run meanwhile.

No I/O, no store: the clock and the monotonic clock are passed in, so tests step it by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.api.errors import ProtocolError
from console.api.models import (
    Alert,
    Design,
    Event,
    EventType,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    SourceRef,
)
from console.sources.octoprint.commands import not_found
from console.sources.octoprint.mapping import (
    PrinterView,
    clean_text,
    job_file,
    job_progress,
    map_flags,
    map_state_text,
    print_time,
    print_time_left,
    slug,
    telemetry_from_temperatures,
)

__all__ = ["Translator"]

_LIVE_JOB = ("running", "paused")


@dataclass(frozen=True, slots=True)
class _Ack:
    """An acknowledgement the console made, waiting for the next translation."""

    alert_id: str
    note: str | None
    at: datetime


class Translator:
    """One printer's state as last sent, and the events that move it on. See the module docstring."""

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
        self.model = "OctoPrint"
        """The model text (``/api/version``); the next ``machine.updated`` carries a change."""
        self.envelope: tuple[float, float, float] = (0.0, 0.0, 0.0)
        """The build volume in mm (``/api/printerprofiles``)."""
        self._telemetry: dict[str, float] = {}
        self._machine = self._make_machine(
            PrinterView("offline", "connecting to OctoPrint"), job_id=None, progress=None, since=clock()
        )
        self._machine_sent_at = monotonic()
        self._job: Job | None = None
        self._job_path: str | None = None
        self._job_cancel_seen = False
        self._alert: Alert | None = None
        self._acks: list[_Ack] = []

    # --- what was sent --------------------------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event made (0 before any): a snapshot of the state below is at this ``seq``."""
        return self._seq

    @property
    def machine(self) -> Machine:
        return self._machine

    @property
    def job(self) -> Job | None:
        """The current (or last finished) print."""
        return self._job

    @property
    def alert(self) -> Alert | None:
        """The open (not resolved) printer-error alert."""
        return self._alert

    # --- inputs ---------------------------------------------------------------------------------------------------

    def answer(self, printer: Any, job_answer: Any) -> list[Event]:
        """A poll's answers (``printer`` is ``None`` when ``/api/printer`` said 409) as the events they make.

        Raises ``ProtocolError`` when ``/api/job`` is not an object (then nothing changed and no event was made).
        """
        if not isinstance(job_answer, Mapping):
            raise ProtocolError("GET /api/job: not an object")
        if isinstance(printer, Mapping) and isinstance(printer.get("state"), Mapping):
            view = map_flags(printer["state"])
            telemetry = telemetry_from_temperatures(printer.get("temperature"))
        else:  # 409: the serial port is closed; no flags, no temperatures
            view = map_state_text(job_answer.get("state"), job_answer.get("error"))
            telemetry = {}
        self._apply_acks()
        self._update_job(view, job_answer)
        self._update_telemetry(telemetry)
        job = self._job
        active = job is not None and job.status in _LIVE_JOB
        self._set_machine(
            view,
            job_id=job.id if active and job is not None else None,
            progress=job.progress if active and job is not None else None,
        )
        self._update_alert(view)
        return self._take()

    def poll_failed(self, offline_reason: str | None) -> list[Event]:
        """A poll without a usable answer: the console's own pending changes, and the machine ``offline`` with
        ``offline_reason`` when one is given (unreachable long enough to say so, or the API key refused)."""
        self._apply_acks()
        if offline_reason is not None:
            self._set_machine(PrinterView("offline", offline_reason))
        return self._take()

    def pending_events(self) -> list[Event]:
        """The console's own pending changes (acknowledgements) as events, without a new answer: what a push
        session translates when it is woken between two pushed states."""
        self._apply_acks()
        return self._take()

    def cancel_sent(self) -> None:
        """The console sent a cancel (or OctoPrint pushed a cancel event): the print that ends next was cancelled,
        even if no answer shows it cancelling."""
        self._job_cancel_seen = True

    def acknowledge(self, alert_id: str, note: str | None) -> None:
        """The operator acknowledged ``alert_id``; it becomes an ``alert.updated`` at the next translation.

        Raises ``NotFound`` when it is not this printer's open alert (as last sent).
        """
        alert = self._alert
        if alert is None or alert.id != alert_id:
            raise not_found(f"alert {alert_id} is not an open alert of {self.machine_id}")
        self._acks.append(_Ack(alert_id, clean_text(note) if note else None, self._clock()))

    @property
    def pending(self) -> bool:
        """Whether console-side changes wait for the next translation."""
        return bool(self._acks)

    # --- the events -----------------------------------------------------------------------------------------------

    def _emit(self, type_: str, data: Any) -> None:
        self._seq += 1
        self._out.append(Event(self._seq, type_, data))

    def _take(self) -> list[Event]:
        out, self._out = self._out, []
        return out

    def _apply_acks(self) -> None:
        """Acknowledged in the console: ``active_unacked`` becomes ``active_acked``, ``cleared_unacked`` resolved."""
        acks, self._acks = self._acks, []
        for ack in acks:
            alert = self._alert
            if alert is None or alert.id != ack.alert_id:
                continue  # resolved meanwhile: nothing left to acknowledge
            update: dict[str, Any] = {"acked_by": "console", "ack_note": ack.note, "updated_at": ack.at}
            if alert.state == "active_unacked":
                update["state"] = "active_acked"
            elif alert.state == "cleared_unacked":
                update["state"] = "resolved"
            self._put_alert(alert, **update)

    # --- the machine and its telemetry ----------------------------------------------------------------------------

    def _update_telemetry(self, values: dict[str, float]) -> None:
        changed = {k: v for k, v in values.items() if self._telemetry.get(k) != v}
        if not changed:
            return
        self._telemetry.update(changed)
        self._emit(
            EventType.MACHINE_TELEMETRY, MachineTelemetry(machine_id=self.machine_id, at=self._clock(), values=changed)
        )

    def _make_machine(
        self, view: PrinterView, *, job_id: str | None, progress: float | None, since: datetime
    ) -> Machine:
        return Machine(
            id=self.machine_id,
            node_id=self.node_id,
            name=self.name,
            kind="fdm_printer",
            model=self.model,
            state=view.state,
            state_since=since,
            job_id=job_id,
            progress=progress,
            materials=[],
            processes=["fdm"],
            envelope_mm=self.envelope,
            telemetry=dict(self._telemetry),
            state_reason=view.reason,
            fault_code=view.fault_code,
            last_seen=self._clock(),
        )

    def _set_machine(self, view: PrinterView, *, job_id: str | None = None, progress: float | None = None) -> None:
        """``machine.updated`` when anything but the telemetry and ``last_seen`` changed (or on the heartbeat)."""
        old = self._machine
        since = old.state_since if old.state == view.state else self._clock()
        new = self._make_machine(view, job_id=job_id, progress=progress, since=since)
        ignore = {"telemetry", "last_seen"}
        same = new.model_dump(exclude=ignore) == old.model_dump(exclude=ignore)
        if same and self._monotonic() - self._machine_sent_at < self.heartbeat:
            self._machine = old.model_copy(update={"telemetry": dict(self._telemetry)})
            return
        self._machine = new
        self._machine_sent_at = self._monotonic()
        self._emit(EventType.MACHINE_UPDATED, new)

    # --- the print as a job ---------------------------------------------------------------------------------------

    def _update_job(self, view: PrinterView, answer: Mapping[str, Any]) -> None:
        now = self._clock()
        progress_data = answer.get("progress")
        file = job_file(answer.get("job"))
        progress = job_progress(progress_data)
        job = self._job
        if view.job_active:
            path, display = file or ("", "current print")
            if view.cancelling:
                self._job_cancel_seen = True
            if job is None or job.status not in _LIVE_JOB or path != self._job_path:
                if job is not None and job.status in _LIVE_JOB:
                    self._finish_job(job, view, progress=None)
                self._start_job(path, display, view, progress, progress_data, now)
                return
            left = print_time_left(progress_data)
            update: dict[str, Any] = {
                "status": "paused" if view.state == "paused" else "running",
                "progress": progress if progress is not None else job.progress,
                "eta": now + timedelta(seconds=round(left)) if left is not None else job.eta,
            }
            self._put_job(job, update)
        elif job is not None and job.status in _LIVE_JOB:
            self._finish_job(job, view, progress=progress if file and file[0] == self._job_path else None)

    def _start_job(
        self, path: str, display: str, view: PrinterView, progress: float | None, progress_data: Any, now: datetime
    ) -> None:
        previous = self._job
        if previous is not None:  # one finished print is kept per printer, until the next starts
            self._emit(EventType.JOB_REMOVED, JobRemoved(id=previous.id))
        started = (now - timedelta(seconds=print_time(progress_data))).replace(microsecond=0)
        left = print_time_left(progress_data)
        job = Job(
            id=f"{self.machine_id}-{started:%Y%m%dT%H%M%S}-{slug(display)}",
            order_id="",
            part=display,
            design=Design(file=path, sha256=""),
            process="fdm",
            material="",
            size_mm=(0.0, 0.0, 0.0),
            quantity=1,
            done_qty=0,
            scrap_qty=0,
            priority=3,
            # OctoPrint has no due date; a day after the start keeps the console from calling a print late.
            due_at=started + timedelta(days=1),
            status="paused" if view.state == "paused" else "running",
            node_id=self.node_id,
            machine_id=self.machine_id,
            queue_position=None,
            progress=progress or 0.0,
            eta=now + timedelta(seconds=round(left)) if left is not None else None,
            created_at=started,
            customer_region="",
        )
        self._job, self._job_path, self._job_cancel_seen = job, path, view.cancelling
        self._emit(EventType.JOB_UPDATED, job)

    def _finish_job(self, job: Job, view: PrinterView, *, progress: float | None) -> None:
        """The print ended: completed at 100 %, failed on a printer error, cancelled otherwise.

        OctoPrint keeps ``completion`` at 100 after a finished print and clears it after a cancel, which tells the two
        apart even when no poll caught the short ``Cancelling`` phase.
        """
        if view.state == "fault":
            status = "failed"
        elif progress is not None and progress >= 0.999 and not self._job_cancel_seen:
            status = "completed"
        else:
            status = "cancelled"
        update: dict[str, Any] = {"status": status, "eta": None}
        if status == "completed":
            update.update(progress=1.0, done_qty=1)
        self._put_job(job, update)

    def _put_job(self, job: Job, update: dict[str, Any]) -> None:
        new = job.model_copy(update=update)
        if new != job:
            self._job = new
            self._emit(EventType.JOB_UPDATED, new)

    # --- the printer-error alert ----------------------------------------------------------------------------------

    def _update_alert(self, view: PrinterView) -> None:
        """ISA-18.2 lite: an error raises ``active_unacked``; when it goes, the alert is cleared (or resolved if it
        was acknowledged); the same error coming back before it resolved counts up instead of raising a new one."""
        alert, now = self._alert, self._clock()
        if view.error is not None:
            message = view.error
            if alert is None:
                self._alert = Alert(
                    id=f"{self.machine_id}-ERR-{now:%Y%m%dT%H%M%S}",
                    priority="high",
                    state="active_unacked",
                    source=SourceRef(kind="machine", id=self.machine_id),
                    code="printer_error",
                    message=message,
                    raised_at=now,
                    updated_at=now,
                )
                self._emit(EventType.ALERT_RAISED, self._alert)
            elif alert.state == "cleared_unacked":
                self._put_alert(alert, state="active_unacked", count=alert.count + 1, message=message, updated_at=now)
            elif alert.message != message:
                self._put_alert(alert, message=message, updated_at=now)
        elif alert is not None and alert.state in ("active_unacked", "active_acked"):
            state = "resolved" if alert.state == "active_acked" else "cleared_unacked"
            self._put_alert(alert, state=state, updated_at=now)

    def _put_alert(self, alert: Alert, **update: Any) -> None:
        new = alert.model_copy(update=update)
        self._alert = None if new.state == "resolved" else new
        self._emit(EventType.ALERT_UPDATED, new)
