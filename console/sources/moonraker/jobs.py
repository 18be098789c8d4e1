"""The printer's jobs as contract ``Job`` objects: the current (or last) print, and Moonraker's job queue.

:class:`JobBook` holds the jobs this source last told the store about and emits ``job.updated`` / ``job.removed``
through the translation's emitter when they change. It is part of the translation (no I/O, no store).

* The print: a job exists while Klipper prints or is paused; when it ends it becomes ``completed`` (``print_stats``
  said ``complete``), ``failed`` (``error``, a Klipper shutdown, or Klipper going away while Moonraker watched) or
  ``cancelled`` (anything else); Moonraker's history (``notify_history_changed``, ``finished``) corrects an end that
  was missed. While Klipper's state is unknown (Moonraker just started) the print is kept as it was. The last
  finished print stays until the next starts.
* The queue: each entry of ``server.job_queue.status`` is a job ``assigned`` to this machine with its
  ``queue_position`` (1 is next). An entry that leaves the queue is removed, but one the console cancelled
  (``server.job_queue.delete_job``) is shown ``cancelled`` until the next print starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from console.api.models import Design, EventType, Job, JobRemoved
from console.sources.moonraker.mapping import (
    PrinterView,
    QueuedFile,
    clean_text,
    print_elapsed,
    print_file,
    print_progress,
    seconds_left,
    slug,
)

__all__ = ["LIVE", "JobBook", "history_status"]

LIVE = ("running", "paused")

ETA_SLACK = timedelta(seconds=30)
"""A new time-left estimate replaces the last one only when it moved by more than this (no event a second)."""

_HISTORY_END = {"completed": "completed", "cancelled": "cancelled"}

_HISTORY_NOT_AN_END = ("in_progress", "server_exit")
"""History statuses that say nothing of how the print ended: ``server_exit`` is Moonraker closing its record as it
stops (its ``on_exit``), while Klipper prints on; the print is followed again when Moonraker is back."""

SAME_PRINT_SLACK = timedelta(seconds=3)
"""A print seen again (after a Moonraker restart) is the same job when its file is the same and its start, worked
out again from ``total_duration``, lands within this of the first (the two readings round to whole seconds)."""


def history_status(status: Any) -> str | None:
    """A Moonraker history job's ``status`` as a final job status (``None`` while it is in progress, or when
    Moonraker only stopped watching it)."""
    text = clean_text(status, 40)
    if not text or text in _HISTORY_NOT_AN_END:
        return None
    return _HISTORY_END.get(text, "failed")


class JobBook:
    """The print and the queue of one printer, as last sent. See the module docstring."""

    def __init__(
        self,
        *,
        machine_id: str,
        node_id: str,
        emit: Callable[[str, Any], None],
        clock: Callable[[], datetime],
    ) -> None:
        self.machine_id = machine_id
        self.node_id = node_id
        self._emit = emit
        self._clock = clock
        self.job: Job | None = None
        """The current (or last finished) print."""
        self._path: str | None = None
        self._cancel_sent = False
        self.queued: dict[str, Job] = {}
        """Queue entries by Moonraker's ``job_id``, in queue order."""
        self._dropped: list[Job] = []
        """Queue entries the console cancelled (shown ``cancelled`` until the next print starts)."""
        self._queue_cancels: set[str] = set()

    def all(self) -> list[Job]:
        """Every job held (for a snapshot)."""
        jobs = [self.job] if self.job is not None else []
        return jobs + list(self.queued.values()) + self._dropped

    @property
    def live(self) -> Job | None:
        job = self.job
        return job if job is not None and job.status in LIVE else None

    # --- the print ----------------------------------------------------------------------------------------------

    def cancel_sent(self) -> None:
        """The console sent a cancel: the print that ends next was cancelled."""
        self._cancel_sent = True

    def update_print(self, view: PrinterView, objects: Mapping[str, Any]) -> None:
        """Follow the print through one look at the printer (``view`` from the same ``objects``)."""
        now = self._clock()
        progress = print_progress(objects)
        job = self.job
        if view.job_active:
            path, display = print_file(objects) or ("", "current print")
            if job is None or job.status not in LIVE or path != self._path:
                if job is not None and job.status in LIVE:
                    self._finish(job, "cancelled")
                self._start(path, display, view, progress, objects, now)
                return
            update: dict[str, Any] = {"status": view.state, "progress": _rounded(progress, job.progress)}
            left = seconds_left(objects, progress)
            update["eta"] = self._eta(job.eta, left, now) if view.state == "running" else None
            self._put(job, update)
        elif job is not None and job.status in LIVE:
            if view.state == "offline":
                return  # Klipper not (yet) heard from: the print may well go on (Moonraker itself restarted)
            if view.print_state == "complete":
                self._finish(job, "completed")
            elif view.state == "fault" or view.print_state == "error":
                self._finish(job, "failed")
            else:
                self._finish(job, "cancelled")

    def print_lost(self) -> None:
        """Klipper went away while printing (``notify_klippy_disconnected``): the print cannot go on."""
        if self.live is not None:
            self._finish(self.live, "failed")

    def history_finished(self, entry: Any) -> None:
        """Moonraker's history says a print ended (``notify_history_changed``, ``finished``): the current print, if
        it is that file, ends as history says (the end may have been missed, or misread)."""
        if not isinstance(entry, Mapping) or self.job is None:
            return
        status = history_status(entry.get("status"))
        if status is None or clean_text(entry.get("filename")) != self._path:
            return
        if self.job.status != status:
            self._finish(self.job, status)

    def _eta(self, old: datetime | None, left: float | None, now: datetime) -> datetime | None:
        if left is None:
            return old
        new = now + timedelta(seconds=round(min(left, 365 * 86400.0)))
        return new if old is None or abs(new - old) > ETA_SLACK else old

    def _start(
        self,
        path: str,
        display: str,
        view: PrinterView,
        progress: float | None,
        objects: Mapping[str, Any],
        now: datetime,
    ) -> None:
        started = (now - timedelta(seconds=print_elapsed(objects))).replace(microsecond=0)
        last = self.job
        if last is not None and path == self._path and abs(last.created_at - started) <= SAME_PRINT_SLACK:
            # The same print seen again: it keeps its id (and its start), so the store follows one job.
            started = last.created_at
        else:
            self._drop_finished()
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
            # Klipper has no due date; a day after the start keeps the console from calling a print late.
            due_at=started + timedelta(days=1),
            status=view.state,
            node_id=self.node_id,
            machine_id=self.machine_id,
            queue_position=None,
            progress=_rounded(progress, 0.0),
            eta=self._eta(None, seconds_left(objects, progress), now) if view.state == "running" else None,
            created_at=started,
            customer_region="",
        )
        self.job, self._path, self._cancel_sent = job, path, False
        self._emit(EventType.JOB_UPDATED, job)

    def _finish(self, job: Job, status: str) -> None:
        # A cancel the console sent wins over "standby" (a reset print), never over a failure or a completion.
        final = "cancelled" if self._cancel_sent and status not in ("failed", "completed") else status
        update: dict[str, Any] = {"status": final, "eta": None}
        if final == "completed":
            update.update(progress=1.0, done_qty=1)
        self._put(job, update)

    def _drop_finished(self) -> None:
        """A new print starts: the last finished print and the cancelled queue entries go."""
        if self.job is not None:
            self._emit(EventType.JOB_REMOVED, JobRemoved(id=self.job.id))
            self.job = None
        for job in self._dropped:
            self._emit(EventType.JOB_REMOVED, JobRemoved(id=job.id))
        self._dropped.clear()

    def _put(self, job: Job, update: dict[str, Any]) -> None:
        new = job.model_copy(update=update)
        if new != job:
            self.job = new
            self._emit(EventType.JOB_UPDATED, new)

    # --- the queue ----------------------------------------------------------------------------------------------

    def queue_job_id(self, job_id: str) -> str | None:
        """Moonraker's queue ``job_id`` of the console's job id, when it is one of this queue's."""
        for queue_id, job in self.queued.items():
            if job.id == job_id:
                return queue_id
        return None

    def queue_cancel_sent(self, queue_id: str) -> None:
        """The console asked Moonraker to delete this entry: when it leaves the queue it was cancelled."""
        self._queue_cancels.add(queue_id)

    def update_queue(self, files: list[QueuedFile]) -> None:
        """The queue as Moonraker now says it is, in order."""
        now = self._clock()
        fresh: dict[str, Job] = {}
        for position, entry in enumerate(files, start=1):
            if entry.job_id in fresh:
                continue
            old = self.queued.get(entry.job_id)
            created = (
                datetime.fromtimestamp(entry.time_added, UTC).replace(microsecond=0)
                if entry.time_added is not None
                else (old.created_at if old is not None else now.replace(microsecond=0))
            )
            job = Job(
                id=f"{self.machine_id}-Q-{entry.job_id}",
                order_id="",
                part=entry.filename.rsplit("/", 1)[-1] or entry.filename,
                design=Design(file=entry.filename, sha256=""),
                process="fdm",
                material="",
                size_mm=(0.0, 0.0, 0.0),
                quantity=1,
                done_qty=0,
                scrap_qty=0,
                priority=3,
                due_at=created + timedelta(days=1),
                status="assigned",
                node_id=self.node_id,
                machine_id=self.machine_id,
                queue_position=position,
                progress=0.0,
                eta=None,
                created_at=created,
                customer_region="",
            )
            fresh[entry.job_id] = job
            if job != old:
                self._emit(EventType.JOB_UPDATED, job)
        for queue_id, job in self.queued.items():
            if queue_id in fresh:
                continue
            if queue_id in self._queue_cancels:
                cancelled = job.model_copy(update={"status": "cancelled", "queue_position": None})
                self._dropped.append(cancelled)
                self._emit(EventType.JOB_UPDATED, cancelled)
            else:
                self._emit(EventType.JOB_REMOVED, JobRemoved(id=job.id))
        self._queue_cancels &= set(fresh)
        self.queued = fresh


def _rounded(progress: float | None, fallback: float) -> float:
    """Progress to 0.1 % (finer steps make events, not information)."""
    return fallback if progress is None else round(progress, 3)
