"""The OctoPrint source: one OctoPrint server (one printer) shown as one machine of a synthetic node.

OctoPrint speaks its own REST API, not the contract, so this source *makes* contract objects and numbers its own
events. The loop, and why each step is there:

1. At start, a snapshot with the machine ``offline`` ("connecting"), so a configured printer is visible at once.
2. Once per connection: ``GET /api/version`` (checks the API key, gives the model text) and
   ``GET /api/printerprofiles`` (the build volume).
3. Every ``poll_interval`` (never faster than once a second): ``GET /api/printer`` (state flags, temperatures) and
   ``GET /api/job`` (file, progress, time left) side by side. OctoPrint answers ``/api/printer`` with 409 while its
   serial port is closed; the state text of ``/api/job`` then says why.
4. The answers are mapped (``octoprint_mapping``) and compared with what was sent last: only a change becomes an event
   (``machine.updated``, ``machine.telemetry``, ``job.updated``, ``job.removed``, ``alert.raised``/``alert.updated``),
   plus a ``machine.updated`` heartbeat now and then so ``last_seen`` stays fresh.
5. A failed poll backs off (exponential, full jitter) and records ``reconnecting`` (``stale`` after a while); after
   ``offline_after`` seconds without an answer the machine is shown ``offline``. 401/403 (a refused API key) records
   ``failed`` and ends, like the cluster source.

Several printers: one source per printer (each has its own connection state and command route); they share one
synthetic node whose object every source builds identically (pass the same ``node_*`` and ``farm_size`` to each), so
the store sees no change when another source writes it.

Commands (:meth:`OctoPrintSource.command`, the same call the command service makes on a cluster client) map to
``POST /api/job``; see ``octoprint_commands``. Everything OctoPrint says is untrusted: strings are cut and cleaned,
numbers checked, and nothing is rendered here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from console.api.client import safe_url
from console.api.errors import (
    AnswerLost,
    ApiError,
    ClientError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    ProtocolError,
    Unauthorized,
    error_for_status,
    problem_from_body,
)
from console.api.models import (
    Alert,
    AuditEntry,
    Cluster,
    CommandResult,
    Design,
    Event,
    EventType,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    Node,
    Page,
    Problem,
    RerouteCandidate,
    Snapshot,
    SourceRef,
    utc_now,
)
from console.sources.base import Backoff
from console.sources.octoprint_commands import (
    SUPPORTED_ACTIONS,
    ResultCache,
    not_found,
    octoprint_job_body,
    parse_command_path,
)
from console.sources.octoprint_mapping import (
    NAME_RE,
    PrinterView,
    clean_text,
    current_profile,
    envelope_from_profile,
    job_file,
    job_progress,
    map_flags,
    map_state_text,
    print_time,
    print_time_left,
    slug,
    telemetry_from_temperatures,
)
from console.store import ApplyOutcome, SourceState, Store

if TYPE_CHECKING:
    from console.settings import SourceSpec
    from console.sources.adapter import AdapterContext

__all__ = ["MIN_POLL_INTERVAL", "SUPPORTED_ACTIONS", "OctoPrintSource", "machine_id_for", "resolve_api_key"]

log = logging.getLogger(__name__)

MIN_POLL_INTERVAL = 1.0
"""Never poll one printer more than once a second (a Raspberry Pi runs OctoPrint; be gentle)."""

API_KEY_ENV = "OCTOPRINT_API_KEY"

_STARTED = utc_now().replace(microsecond=0)
"""The synthetic node's ``last_seen``: fixed, so every printer's source builds the very same node object."""

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def machine_id_for(name: str) -> str:
    """The console's machine id of the printer called ``name`` (``--octoprint NAME=URL``)."""
    return f"OP-{name}"


def resolve_api_key(
    name: str, per_printer: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The API key of one printer: its own from the config if given, else ``OCTOPRINT_API_KEY``, else ``None``."""
    if per_printer and per_printer.get(name):
        return per_printer[name]
    env = environ if environ is not None else os.environ
    return env.get(API_KEY_ENV) or None


class OctoPrintSource:
    """Feeds ``store`` from one OctoPrint server and carries commands to it. See the module docstring."""

    kind = "octoprint"
    supported_actions = SUPPORTED_ACTIONS

    def __init__(
        self,
        source_id: str,
        name: str,
        url: str,
        api_key: str | None,
        store: Store,
        *,
        node_id: str = "octoprint",
        node_name: str = "OctoPrint farm",
        node_city: str = "",
        farm_size: int = 1,
        poll_interval: float = 1.0,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        offline_after: float = 5.0,
        stale_after: float = 30.0,
        heartbeat: float = 15.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not NAME_RE.match(name):
            raise ValueError(f"printer name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
        self.source_id = source_id
        self.name = name
        self.url = url.rstrip("/")
        self.display_url = safe_url(self.url)
        self.store = store
        self.node_id = node_id
        self.node_name = node_name
        self.node_city = node_city
        self.farm_size = max(1, farm_size)
        self.machine_id = machine_id_for(name)
        self.poll_interval = max(MIN_POLL_INTERVAL, poll_interval)
        self.timeout = timeout
        self.offline_after = offline_after
        self.stale_after = stale_after
        self.heartbeat = heartbeat
        self.backoff = Backoff(backoff_base, backoff_max, rng)
        self._clock = clock
        self._headers = {"Accept": "application/json", "User-Agent": "factory-console"}
        if api_key:
            self._headers["X-Api-Key"] = api_key
        self._own_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

        self.polls = 0
        """Successful polls so far (for tests and diagnostics)."""
        self._seq = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._session_ready = False
        self._down_since: float | None = None
        self._model = "OctoPrint"
        self._envelope: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._telemetry: dict[str, float] = {}
        self._machine = self._make_machine(
            PrinterView("offline", "connecting to OctoPrint"), job_id=None, progress=None, since=clock()
        )
        self._machine_sent_at = time.monotonic()
        self._job: Job | None = None
        self._job_path: str | None = None
        self._job_cancel_seen = False
        self._alert: Alert | None = None
        self._answers = ResultCache()
        self._in_flight: dict[str, asyncio.Future[CommandResult]] = {}
        store.register_source(source_id, kind=self.kind, url=self.display_url)

    # --- the public face ------------------------------------------------------------------------------------------

    grants_role = "operator"
    """OctoPrint has no ``whoami``: the printer's API key is the permission (OctoPrint refuses what it does not
    allow), so with printers alone the operator acts as an operator."""

    @classmethod
    def from_spec(cls, spec: SourceSpec, context: AdapterContext) -> OctoPrintSource:
        """The adapter of one configured printer (``console.sources.registry``)."""
        return cls(
            spec.source_id,
            spec.name or spec.source_id,
            spec.url,
            spec.token,
            context.store,
            farm_size=context.count_of_kind("octoprint"),
            stale_after=context.settings.stale_after_s,
        )

    @property
    def carrier(self) -> OctoPrintSource:
        """What the command service calls ``command(path, body, idempotency_key)`` on: the source itself."""
        return self

    command_client = carrier

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        """A printer is its own farm: there is nowhere to reroute to (the action is not offered)."""
        raise not_found("an OctoPrint printer has no reroute candidates")

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        """OctoPrint keeps no audit trail of the contract's kind; the local audit log has what this console did."""
        raise not_found("an OctoPrint printer has no audit trail")

    @property
    def machine(self) -> Machine:
        """The machine as last sent to the store."""
        return self._machine

    @property
    def job(self) -> Job | None:
        """The current (or last finished) job as last sent to the store."""
        return self._job

    def stop(self) -> None:
        """Stop the loop (from the same event loop); ``run()`` then returns."""
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def aclose(self) -> None:
        """Close the HTTP client if this source made it (``run()`` does when it ends; later commands are not sent)."""
        if self._own_http:
            await self._http.aclose()

    async def run(self) -> None:
        """Poll until cancelled or stopped; returns early only when OctoPrint refuses the API key."""
        self._task = asyncio.current_task()
        self.store.set_source_state(self.source_id, SourceState.CONNECTING)
        self._resnapshot()
        try:
            await self._loop()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            self.store.set_source_state(self.source_id, SourceState.STOPPED)
        finally:
            await self.aclose()

    # --- the loop ---------------------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            started = time.monotonic()
            try:
                await self.poll_once()
            except (Unauthorized, Forbidden) as error:
                self._set_machine(PrinterView("offline", "OctoPrint refused the API key"))
                self.store.set_source_state(self.source_id, SourceState.FAILED, reason=str(error))
                return
            except ClientError as error:
                await self._retry_later(str(error))
                continue
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug or an odd answer must not kill the source silently
                log.exception("octoprint source %s failed", self.source_id)
                await self._retry_later(f"unexpected error: {type(error).__name__}")
                continue
            await self._sleep_until(started + self.poll_interval)

    async def poll_once(self) -> None:
        """One look at the printer: fetch, map, send what changed. Raises ``ClientError`` & co when it fails.

        The loop calls it once per interval; tests call it directly to step the source without waiting.
        """
        status = self.store.sources.get(self.source_id)
        if status is None or status.seq is None:
            self._resnapshot()
        if not self._session_ready:
            await self._open_session()
        printer, job = await asyncio.gather(self._get("/api/printer", none_on_409=True), self._get("/api/job"))
        self._on_poll(printer, job)

    async def _sleep_until(self, deadline: float) -> None:
        """Sleep until the next poll is due, or until a command asks for an early look (never within 1 s)."""
        delay = deadline - time.monotonic()
        if delay <= 0:
            self._wake.clear()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)  # a command during the last poll counts too
        self._wake.clear()
        # Woken early by a command: still keep to at most one poll a second.
        floor = deadline - self.poll_interval + MIN_POLL_INTERVAL
        if (rest := floor - time.monotonic()) > 0:
            await asyncio.sleep(rest)

    async def _open_session(self) -> None:
        version = await self._get("/api/version")
        text = clean_text(version.get("text") if isinstance(version, Mapping) else None, 60)
        self._model = text or "OctoPrint"
        try:
            profile = current_profile(await self._get("/api/printerprofiles"))
        except ClientError:
            # The build volume is a nicety: a key without the Connection permission (403 here, after /api/version
            # accepted it) still gets everything else.
            profile = None
        self._envelope = envelope_from_profile(profile)
        self._session_ready = True

    async def _retry_later(self, reason: str) -> None:
        now = time.monotonic()
        self._session_ready = False
        if self._down_since is None:
            self._down_since = now
        down_for = now - self._down_since
        if down_for >= self.offline_after or self.polls == 0:
            self._set_machine(PrinterView("offline", f"OctoPrint unreachable: {reason}"))
        state = SourceState.STALE if down_for >= self.stale_after else SourceState.RECONNECTING
        delay = max(MIN_POLL_INTERVAL, self.backoff.next_delay())
        self.store.set_source_state(self.source_id, state, reason=reason, retry_at=now + delay)
        await asyncio.sleep(delay)

    # --- HTTP ---------------------------------------------------------------------------------------------------------

    async def _get(self, path: str, *, none_on_409: bool = False) -> Any:
        try:
            response = await self._http.get(self.url + path, headers=self._headers, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise ConnectionFailed(f"cannot reach {self.display_url}: {type(error).__name__}") from None
        if response.status_code == 409 and none_on_409:
            return None
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"GET {path}: the answer is not JSON") from None

    def _error(self, response: httpx.Response, code: str | None = None) -> ApiError:
        """An OctoPrint error answer (``{"error": "..."}``, or HTML) as a typed problem; its text stays data."""
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if isinstance(body, Mapping) and "error" in body and "title" not in body:
            problem = problem_from_body(response.status_code, {"detail": clean_text(body.get("error"))})
        else:
            problem = problem_from_body(response.status_code, body)
        if code is not None and problem.code is None:
            problem = problem.model_copy(update={"code": code})
        return error_for_status(response.status_code, problem)

    # --- mapping a poll to events ---------------------------------------------------------------------------------

    def _on_poll(self, printer: Any, job_answer: Any) -> None:
        if not isinstance(job_answer, Mapping):
            raise ProtocolError("GET /api/job: not an object")
        if isinstance(printer, Mapping) and isinstance(printer.get("state"), Mapping):
            view = map_flags(printer["state"])
            telemetry = telemetry_from_temperatures(printer.get("temperature"))
        else:  # 409: the serial port is closed; no flags, no temperatures
            view = map_state_text(job_answer.get("state"), job_answer.get("error"))
            telemetry = {}
        self.polls += 1
        self._down_since = None
        self._update_job(view, job_answer)
        self._update_telemetry(telemetry)
        active = self._job is not None and self._job.status in ("running", "paused")
        self._set_machine(
            view,
            job_id=self._job.id if active and self._job else None,
            progress=self._job.progress if active and self._job else None,
        )
        self._update_alert(view)
        status = self.store.sources.get(self.source_id)
        if status is None or status.state != SourceState.LIVE:
            self.backoff.reset()
            self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"polling {self.display_url}")

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
            model=self._model,
            state=view.state,
            state_since=since,
            job_id=job_id,
            progress=progress,
            materials=[],
            processes=["fdm"],
            envelope_mm=self._envelope,
            telemetry=dict(self._telemetry),
            state_reason=view.reason,
            fault_code=view.fault_code,
            last_seen=self._clock(),
        )

    def _set_machine(self, view: PrinterView, *, job_id: str | None = None, progress: float | None = None) -> None:
        """Send ``machine.updated`` when anything but the telemetry and ``last_seen`` changed (or on the heartbeat)."""
        old = self._machine
        since = old.state_since if old.state == view.state else self._clock()
        new = self._make_machine(view, job_id=job_id, progress=progress, since=since)
        ignore = {"telemetry", "last_seen"}
        same = new.model_dump(exclude=ignore) == old.model_dump(exclude=ignore)
        if same and time.monotonic() - self._machine_sent_at < self.heartbeat:
            self._machine = old.model_copy(update={"telemetry": dict(self._telemetry)})
            return
        self._machine = new
        self._machine_sent_at = time.monotonic()
        self._emit(EventType.MACHINE_UPDATED, new)

    def _update_job(self, view: PrinterView, answer: Mapping[str, Any]) -> None:
        now = self._clock()
        progress_data = answer.get("progress")
        file = job_file(answer.get("job"))
        progress = job_progress(progress_data)
        job = self._job
        running = job is not None and job.status in ("running", "paused")
        if view.job_active:
            path, display = file or ("", "current print")
            if view.cancelling:
                self._job_cancel_seen = True
            if job is None or not running or path != self._job_path:
                if running and job is not None:
                    self._finish_job(job, view, progress=None, now=now)
                self._start_job(path, display, view, progress, progress_data, now)
                return
            assert job is not None
            left = print_time_left(progress_data)
            update: dict[str, Any] = {
                "status": "paused" if view.state == "paused" else "running",
                "progress": progress if progress is not None else job.progress,
                "eta": now + timedelta(seconds=round(left)) if left is not None else job.eta,
            }
            self._put_job(job, update)
        elif running and job is not None:
            self._finish_job(job, view, progress=progress if file and file[0] == self._job_path else None, now=now)

    def _start_job(
        self, path: str, display: str, view: PrinterView, progress: float | None, progress_data: Any, now: datetime
    ) -> None:
        previous = self._job
        if previous is not None:
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

    def _finish_job(self, job: Job, view: PrinterView, *, progress: float | None, now: datetime) -> None:
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

    # --- feeding the store --------------------------------------------------------------------------------------------

    def _node(self) -> Node:
        """The synthetic node, the same object from every printer's source (nothing in it depends on this one)."""
        return Node(
            id=self.node_id,
            name=self.node_name,
            city=self.node_city,
            lat=0.0,
            lon=0.0,
            state="online",
            last_seen=_STARTED,
            machine_count=self.farm_size,
            agent_url=None,
        )

    def _resnapshot(self) -> None:
        """Hand the store everything this source holds at its current ``seq`` (at start, and after a gap)."""
        if self.source_id not in self.store.sources:
            self.store.register_source(self.source_id, kind=self.kind, url=self.display_url)
        # A snapshot must carry a cluster, and the store takes it as *the* cluster: keep the one a cluster source put
        # there; without one, a synthetic cluster that every printer's source builds the same (so no churn).
        cluster = self.store.cluster or Cluster(
            id=self.node_id,
            name=self.node_name,
            region="",
            server_time=_STARTED,
            seq=0,
            instance_id=f"octoprint-{self.node_id}",
        )
        snapshot = Snapshot(
            seq=self._seq,
            cluster=cluster,
            nodes=[self._node()],
            machines=[self._machine],
            jobs=[self._job] if self._job is not None else [],
            alerts=[self._alert] if self._alert is not None else [],
        )
        self.store.apply_snapshot(self.source_id, snapshot)

    def _emit(self, type_: str, data: Any) -> None:
        self._seq += 1
        outcome = self.store.apply_event(self.source_id, Event(self._seq, type_, data))
        if outcome is ApplyOutcome.GAP:  # someone reset our source in the store: start it over from what we hold
            self._resnapshot()

    # --- commands -------------------------------------------------------------------------------------------------

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        """Carry out one console command (``/v1/jobs/{id}/pause`` ...) on OctoPrint; see ``octoprint_commands``.

        Raises ``Unprocessable`` (``not_supported``) for what OctoPrint cannot do, ``NotFound`` for another machine or
        a job that is not this printer's current one, ``Conflict`` when OctoPrint refuses (not printing ...),
        ``ConnectionFailed`` when it could not be sent, ``AnswerLost`` when sent but unanswered. A key already answered
        returns (or raises) its first answer again and does nothing twice.
        """
        cached = self._answers.get(idempotency_key)
        if isinstance(cached, ApiError):
            raise cached
        if cached is not None:
            return cached
        task = self._in_flight.get(idempotency_key) if idempotency_key is not None else None
        if task is None:
            task = asyncio.ensure_future(self._command_once(path, body or {}, idempotency_key))
            # Retrieve a failure even if every caller was cancelled meanwhile (no "never retrieved" warning).
            task.add_done_callback(lambda done: None if done.cancelled() else done.exception())
            if idempotency_key is not None:
                self._in_flight[idempotency_key] = task
        # Shielded: a caller giving up does not abandon a command half-way; its answer is still cached for the key.
        return await asyncio.shield(task)

    async def _command_once(self, path: str, body: dict[str, Any], idempotency_key: str | None) -> CommandResult:
        try:
            result = await self._command(path, body)
        except ApiError as error:
            self._answers.put(idempotency_key, error)
            raise
        else:
            self._answers.put(idempotency_key, result)
            return result
        finally:
            if idempotency_key is not None:
                self._in_flight.pop(idempotency_key, None)

    async def _command(self, path: str, body: dict[str, Any]) -> CommandResult:
        target = parse_command_path(path)
        if target.action == "alert.ack":
            return self._ack_alert(target.target_id, body)
        if target.action.startswith("machine."):
            if target.target_id != self.machine_id:
                raise not_found(f"machine {target.target_id} is not {self.machine_id}")
        else:
            job = self._job
            if job is None or job.id != target.target_id:
                raise not_found(f"job {target.target_id} is not the current print of {self.machine_id}")
            if job.status not in ("running", "paused"):
                raise Conflict(
                    409,
                    Problem(title="Conflict", status=409, detail=f"job {job.id} is {job.status}", code="job_finished"),
                )
        payload = octoprint_job_body(target.action, body)
        if self._http.is_closed:
            raise ConnectionFailed(f"the OctoPrint source of {self.machine_id} has stopped; the command was not sent")
        try:
            response = await self._http.post(
                self.url + "/api/job", json=payload, headers=self._headers, timeout=self.timeout
            )
        except _NOT_SENT as error:
            raise ConnectionFailed(
                f"cannot connect to {self.display_url}: {type(error).__name__}; the command was not sent"
            ) from None
        except httpx.HTTPError as error:
            raise AnswerLost(
                f"POST /api/job to {self.display_url}: no answer ({type(error).__name__}); it may or may not have "
                "taken effect"
            ) from None
        if response.status_code >= 400:
            raise self._error(response, code="invalid_state" if response.status_code == 409 else None)
        if target.verb == "cancel":
            self._job_cancel_seen = True
        self._wake.set()
        return CommandResult(command_id=f"op-{uuid.uuid4()}", status="applied", audit_id=None)

    def _ack_alert(self, alert_id: str, body: dict[str, Any]) -> CommandResult:
        """Acknowledge this printer's alert in the console (OctoPrint has no alarms to acknowledge)."""
        alert = self._alert
        if alert is None or alert.id != alert_id:
            raise not_found(f"alert {alert_id} is not an open alert of {self.machine_id}")
        note = body.get("note")
        update: dict[str, Any] = {
            "acked_by": "console",
            "ack_note": clean_text(note) if note else None,
            "updated_at": self._clock(),
        }
        if alert.state == "active_unacked":
            update["state"] = "active_acked"
        elif alert.state == "cleared_unacked":
            update["state"] = "resolved"
        self._put_alert(alert, **update)
        return CommandResult(command_id=f"op-{uuid.uuid4()}", status="applied", audit_id=None)
