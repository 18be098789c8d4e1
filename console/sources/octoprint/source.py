"""The OctoPrint source adapter: one OctoPrint server (one printer) as one machine of a synthetic node.

This is what the registry builds for a source of kind ``octoprint`` (:meth:`OctoPrintSource.from_spec`), and the
one place that touches the store. It wires the parts of the package and runs the loop:

1. At start, a snapshot with the machine ``offline`` ("connecting"), so a configured printer is visible at once.
2. The push socket first (:mod:`.push`): while it is up, what OctoPrint pushes is translated (:mod:`.translation`)
   into contract events with this source's own ``seq``, and nothing is polled. The source is ``live`` with the
   reason ``push ws://...``.
3. When the socket cannot be opened, or drops, the poller (:mod:`.poller`) asks OctoPrint once a second and the same
   translation turns the answers into the same events (reason ``polling http://... (push socket: why)``); the
   socket is tried again with its own backoff (exponential, full jitter, 2 s up to a minute), and polling stops
   when it is back. Each switch is a line of the source's connection log.
4. Events go to ``store.apply_events``, the path every source's events take. A gap (the store forgot this source) is
   mended with a new snapshot at the translation's ``seq``, as a cluster source re-bootstraps. A pushed frame that
   is not what OctoPrint sends is ``store.record_malformed`` and the stream goes on.
5. A failed poll backs off (exponential, full jitter) and records ``reconnecting`` (``stale`` after a while); after
   ``offline_after`` seconds without an answer the machine is shown ``offline``. 401/403 (a refused API key, from a
   poll or the socket's login) records ``failed`` and ends, like the cluster source.

Commands (:mod:`.commands`) never write the store: their effect arrives as the next pushed state's events (or the
next poll's, which they bring forward). So what the operator sees is what the printer did, in the same order as
everything else it did.

Several printers: one source per printer (each has its own connection state and command route); they share one
synthetic node whose object every source builds identically (pass the same ``node_*`` and ``farm_size`` to each), so
the store sees no change when another source writes it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from console.api.command_bodies import CommandResult
from console.api.errors import ClientError, Forbidden, Unauthorized
from console.api.models import AuditEntry, Event, Job, Machine, Page, RerouteCandidate
from console.api.transport import safe_url
from console.api.wire import utc_now
from console.sources.base import Backoff
from console.sources.octoprint.commands import SUPPORTED_ACTIONS, PrinterCommands, not_found
from console.sources.octoprint.mapping import NAME_RE, machine_id_for
from console.sources.octoprint.poller import Poller
from console.sources.octoprint.push import PushSession
from console.sources.octoprint.push_socket import (
    PushClosed,
    PushUnavailable,
    SocketOpener,
    open_websocket,
    socket_url,
)
from console.sources.octoprint.rest import PrinterRest
from console.sources.octoprint.snapshot import Farm
from console.sources.octoprint.translation import Translator
from console.store import SourceState, Store

if TYPE_CHECKING:
    from console.settings import SourceSpec
    from console.sources.adapter import AdapterContext

__all__ = ["OctoPrintSource"]

log = logging.getLogger(__name__)


class OctoPrintSource:
    """Feeds ``store`` from one OctoPrint server and carries commands to it. See the module docstring."""

    kind = "octoprint"
    supported_actions: frozenset[str] | None = SUPPORTED_ACTIONS
    grants_role: str | None = "operator"
    """OctoPrint has no ``whoami``: the printer's API key is the permission (OctoPrint refuses what it does not
    allow), so with printers alone the operator acts as an operator."""

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
        push: bool = True,
        push_url: str | None = None,
        push_opener: SocketOpener | None = None,
        push_throttle: int = 1,
        push_retry_base: float = 2.0,
        push_retry_max: float = 60.0,
    ) -> None:
        if not NAME_RE.match(name):
            raise ValueError(f"printer name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
        self.source_id = source_id
        self.name = name
        self.store = store
        self.farm = Farm(node_id, node_name, node_city, max(1, farm_size))
        self.machine_id = machine_id_for(name)
        self.timeout = timeout
        self.offline_after = offline_after
        self.stale_after = stale_after
        self.rest = PrinterRest(url, api_key, timeout=timeout, http_client=http_client)
        self.url = self.rest.url
        self.display_url = self.rest.display_url
        self.poller = Poller(self.rest, poll_interval=poll_interval, backoff=Backoff(backoff_base, backoff_max, rng))
        self.translator = Translator(
            name=name, machine_id=self.machine_id, node_id=node_id, clock=clock, heartbeat=heartbeat
        )
        self.commands = PrinterCommands(
            self.machine_id, self.rest, self.translator, wake=self._wake, ended=lambda: self._ended
        )
        self.push_enabled = push
        self.push_url = push_url or socket_url(self.url)
        self._push_opener = push_opener
        self.push = PushSession(
            self.translator,
            login=self.rest.login,
            feed=self._feed,
            malformed=lambda item: self.store.record_malformed(self.source_id, item),
            went_live=self._push_live,
            throttle=push_throttle,
            min_interval=self.poller.poll_interval,
            heartbeat=heartbeat,
        )
        self.push_backoff = Backoff(push_retry_base, push_retry_max, rng)
        self.transport: str | None = None
        """``"push"`` while the socket feeds the store, ``"poll"`` while polling does, ``None`` before either."""
        self.polls = 0
        """Successful polls so far (for tests and diagnostics)."""
        self._push_at = 0.0
        self._push_problem: str | None = None
        self._stopping = False
        self._ended = False
        self._task: asyncio.Task[None] | None = None
        self._session_ready = False
        self._down_since: float | None = None
        store.register_source(source_id, kind=self.kind, url=self.display_url)

    # --- the public face ------------------------------------------------------------------------------------------

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
    def node_id(self) -> str:
        return self.farm.node_id

    @property
    def farm_size(self) -> int:
        """How many printers share the synthetic node (its ``machine_count``)."""
        return self.farm.farm_size

    @property
    def poll_interval(self) -> float:
        """Seconds between polls (never under a second)."""
        return self.poller.poll_interval

    @property
    def backoff(self) -> Backoff:
        return self.poller.backoff

    @property
    def carrier(self) -> OctoPrintSource:
        """What the command service calls ``command(path, body, idempotency_key)`` on: the source itself."""
        return self

    command_client = carrier

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        """Carry out one console command on OctoPrint (:class:`~.commands.PrinterCommands`). Its effect reaches the
        store through the push socket, or the next poll, which it brings forward."""
        return await self.commands.command(path, body, idempotency_key)

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        """A printer is its own farm: there is nowhere to reroute to (the action is not offered)."""
        raise not_found("an OctoPrint printer has no reroute candidates")

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        """OctoPrint keeps no audit trail of the contract's kind; the local audit log has what this console did."""
        raise not_found("an OctoPrint printer has no audit trail")

    @property
    def machine(self) -> Machine:
        """The machine as last sent to the store."""
        return self.translator.machine

    @property
    def job(self) -> Job | None:
        """The current (or last finished) job as last sent to the store."""
        return self.translator.job

    def stop(self) -> None:
        """Stop the loop (from the same event loop); ``run()`` then returns."""
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def aclose(self) -> None:
        """Close the HTTP client if this source made it (``run()`` does when it ends; later commands are not sent)."""
        await self.rest.aclose()

    async def run(self) -> None:
        """Follow the printer (its push socket, else polling) until cancelled or stopped; returns early only when
        OctoPrint refuses the API key."""
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
            self._ended = True
            await self.aclose()

    # --- the loop ---------------------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            if self.push_enabled and time.monotonic() >= self._push_at:
                if not await self._push_once():
                    return
                continue
            started = time.monotonic()
            try:
                await self.poll_once()
            except (Unauthorized, Forbidden) as error:
                self._refused(error)
                return
            except ClientError as error:
                await self._retry_later(str(error), started)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug or an odd answer must not kill the source silently
                log.exception("octoprint source %s failed", self.source_id)
                await self._retry_later(f"unexpected error: {type(error).__name__}", started)
                continue
            await self.poller.wait_next(started, self._push_next())

    def _push_next(self) -> float | None:
        """When the push socket is tried next (``time.monotonic()``), ``None`` without push."""
        return self._push_at if self.push_enabled else None

    def _wake(self) -> None:
        """A command was carried out or an acknowledgement waits: the next poll now, or a translation now."""
        self.poller.wake()
        self.push.wake()

    def _refused(self, error: ClientError) -> None:
        self._feed(self.translator.poll_failed("OctoPrint refused the API key"))
        self.store.set_source_state(self.source_id, SourceState.FAILED, reason=str(error))

    async def _printer_info(self) -> None:
        if not self._session_ready:
            info = await self.poller.printer_info()
            self.translator.model, self.translator.envelope = info.model, info.envelope
            self._session_ready = True

    async def _push_once(self) -> bool:
        """Follow the push socket until it ends; ``False`` when OctoPrint refused the API key (the source failed).

        Afterwards polling takes over until the socket's next try (its own backoff, reset after a socket that was up
        for half a minute or more)."""
        started = time.monotonic()
        opener = self._push_opener or (lambda url: open_websocket(url, open_timeout=self.timeout))
        try:
            await self._printer_info()
            await self.push.run(opener, self.push_url)
        except (Unauthorized, Forbidden) as error:
            self._refused(error)
            return False
        except (PushUnavailable, PushClosed, ClientError) as error:
            why = str(error)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug or an odd frame must not kill the source: poll instead
            log.exception("octoprint push socket of %s failed", self.source_id)
            why = f"unexpected error: {type(error).__name__}"
        was_up = self.push.live
        self.push.live = False
        if was_up:
            self._session_ready = False  # OctoPrint may have restarted: read its version and profile again
            if time.monotonic() - started >= 30.0:
                self.push_backoff.reset()
        delay = self.push_backoff.next_delay()
        self._push_at = time.monotonic() + delay
        self._push_problem = why
        if self.transport == "push":
            self.transport = None  # the next good poll says "polling" (the state stays live meanwhile)
        what = "closed" if was_up else "unavailable"
        self.store.log_source(self.source_id, f"push socket {what}: {why}; polling, next try in {delay:.1f} s")
        return True

    def _push_live(self) -> None:
        """The first pushed state of a socket was translated: the socket feeds the store, polling stops."""
        self._down_since = None
        self._push_problem = None
        self.transport = "push"
        self.poller.backoff.reset()
        self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"push {safe_url(self.push_url)}")

    async def poll_once(self) -> None:
        """One look at the printer: ask, translate, feed what changed. Raises ``ClientError`` & co when it fails.

        The loop calls it once per interval; tests call it directly to step the source without waiting.
        """
        status = self.store.sources.get(self.source_id)
        if status is None or status.seq is None:
            self._resnapshot()
        await self._printer_info()
        answer = await self.poller.poll()
        events = self.translator.answer(answer.printer, answer.job)
        self.polls += 1
        self._down_since = None
        self._feed(events)
        status = self.store.sources.get(self.source_id)
        if status is None or status.state != SourceState.LIVE or self.transport != "poll":
            self.poller.backoff.reset()
            self.transport = "poll"
            why = f" (push socket: {self._push_problem})" if self._push_problem else ""
            self.store.set_source_state(self.source_id, SourceState.LIVE, reason=f"polling {self.display_url}{why}")

    async def _retry_later(self, reason: str, started: float) -> None:
        now = time.monotonic()
        self._session_ready = False
        if self._down_since is None:
            self._down_since = now
        down_for = now - self._down_since
        show_offline = down_for >= self.offline_after or (self.polls == 0 and self.push.states == 0)
        self._feed(self.translator.poll_failed(f"OctoPrint unreachable: {reason}" if show_offline else None))
        state = SourceState.STALE if down_for >= self.stale_after else SourceState.RECONNECTING
        delay = self.poller.retry_delay()
        self.transport = None
        self.store.set_source_state(self.source_id, state, reason=reason, retry_at=now + delay)
        await self.poller.sleep_retry(started, delay, self._push_next())

    # --- feeding the store ----------------------------------------------------------------------------------------

    def _feed(self, events: list[Event]) -> None:
        """Hand the store a poll's (or a pushed state's) events, the way every source does (``apply_events``, in
        ``seq`` order).

        The store takes them while each is the next ``seq``; one it does not (it forgot or reset this source) means
        it no longer follows this stream, so it gets a snapshot of what this source holds, which already includes
        every event made so far.
        """
        if not events:
            return
        status = self.store.sources.get(self.source_id)
        if status is None or status.seq is None:
            self._resnapshot()
            return
        if self.store.apply_events(self.source_id, events) < len(events):
            self._resnapshot()

    def _resnapshot(self) -> None:
        """Hand the store everything this source holds at the translation's ``seq`` (at start, and after a gap)."""
        if self.source_id not in self.store.sources:
            self.store.register_source(self.source_id, kind=self.kind, url=self.display_url)
        self.store.apply_snapshot(self.source_id, self.farm.snapshot(self.translator, self.store.cluster))
