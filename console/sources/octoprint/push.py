"""Following OctoPrint's push socket: one session from opening the socket to its end.

:class:`PushSession` opens the socket (:mod:`.push_socket`), authenticates it with a session key from a passive
login, and turns what OctoPrint pushes into the translation's inputs: a ``current`` (or ``history``) is the same pair
of answers a poll gets, so the same :class:`~.translation.Translator` makes the same events with the same ``seq``
whichever transport delivered them. It never touches the store: events go to ``feed``, bad frames to
``malformed``, and the first state to ``went_live`` (the source does the rest).

Pace: OctoPrint pushes ``current`` about twice a second (``{"throttle": N}`` slows that N times). A state whose
flags, text, file or error changed is translated at once; otherwise the latest is translated at most once per
``min_interval`` (1 s, the poll's pace), so progress and temperatures cost no more than polling did. Events
(``PrintStarted``, ``PrintPaused``, ``PrintDone``, ``PrintCancelled``, ``Error``, ``Disconnected`` ...) carry no state
of their own here: each makes the next state go through at once, and a cancel makes the print that ends next
``cancelled``. Without any message for ``heartbeat`` seconds (a printer whose port is closed pushes nothing), the
last state is translated again, which refreshes ``last_seen`` as the poll's heartbeat does.

``reauthRequired`` (OctoPrint dropped the session: it went stale, the user changed) logs in again on the same
socket. The session ends by raising :class:`~.push_socket.PushUnavailable` (the socket could not be opened, or no
state came within ``first_state_timeout``: a key without the *Status* permission gets nothing) or
:class:`~.push_socket.PushClosed` (it was up and ended); a refused key comes out of the login as
``Unauthorized``/``Forbidden``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from console.api.models import Event
from console.api.sse import MalformedEvent
from console.sources.octoprint.push_socket import (
    CANCEL_EVENTS,
    STATE_EVENTS,
    Connected,
    Ignored,
    Malformed,
    PrinterEvent,
    PushClosed,
    PushConnection,
    PushedState,
    PushUnavailable,
    ReauthRequired,
    SocketOpener,
    auth_message,
    handshake,
    parse_message,
)
from console.sources.octoprint.translation import Translator

__all__ = ["PushSession"]

_WAKE = object()
"""Put in the queue by :meth:`PushSession.wake`: translate the console's own changes now."""


class PushSession:
    """One printer's push socket, session after session. See the module docstring."""

    def __init__(
        self,
        translator: Translator,
        *,
        login: Callable[[], Awaitable[tuple[str, str]]],
        feed: Callable[[list[Event]], None],
        malformed: Callable[[MalformedEvent], object],
        went_live: Callable[[], None],
        throttle: int = 1,
        min_interval: float = 1.0,
        heartbeat: float = 15.0,
        first_state_timeout: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.translator = translator
        self._login = login
        self._feed = feed
        self._malformed = malformed
        self._went_live = went_live
        self.throttle = throttle
        self.min_interval = min_interval
        self.heartbeat = heartbeat
        self.first_state_timeout = first_state_timeout
        self.reauth_every = 5.0
        """A ``reauthRequired`` sooner than this many seconds after the last login ends the socket instead."""
        self._monotonic = monotonic
        self.states = 0
        """States translated from the socket (all sessions)."""
        self.ignored = 0
        """Valid messages the console has no use for (plugin messages, timelapse ...)."""
        self.version = ""
        """OctoPrint's version as the last ``connected`` said."""
        self.live = False
        """A state has arrived on the current socket."""
        self._queue: asyncio.Queue[object] | None = None
        self._pending: PushedState | None = None
        self._last: PushedState | None = None
        self._last_key: tuple[object, ...] | None = None
        self._last_at = 0.0
        self._urgent = False

    def wake(self) -> None:
        """The console changed something the translation takes (an acknowledgement): translate it now."""
        if self._queue is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_WAKE)

    async def run(self, opener: SocketOpener, url: str) -> None:
        """Open the socket at ``url``, log in, authenticate the socket and translate until it ends (it always
        raises). The login comes second, so a socket that cannot be opened costs OctoPrint no session."""
        connection = await opener(url)
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=16)  # frames of up to 1 MiB: few at a time
        pump: asyncio.Task[None] | None = None
        self._queue, self.live, self._pending, self._last_key, self._urgent = queue, False, None, None, False
        try:
            user, session = await self._login()
            pump = asyncio.create_task(self._pump(connection, queue))
            for message in handshake(user, session, throttle=self.throttle):
                await connection.send(message)
            await self._follow(connection, queue)
        except PushClosed as error:
            if error.oversized:
                self._malformed(MalformedEvent(None, "push", str(error), ""))
            if not self.live:
                raise PushUnavailable(str(error)) from None
            raise
        finally:
            self._queue = None
            if pump is not None:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 3.0)

    async def _pump(self, connection: PushConnection, queue: asyncio.Queue[object]) -> None:
        """Read frames into ``queue`` until the socket ends (its end goes in as the :class:`PushClosed`)."""
        try:
            while True:
                await queue.put(await connection.recv())
        except PushClosed as error:
            await queue.put(error)
        except Exception as error:  # a socket that fails oddly ends the session like one that closed
            await queue.put(PushClosed(f"reading failed: {type(error).__name__}"))

    async def _follow(self, connection: PushConnection, queue: asyncio.Queue[object]) -> None:
        opened = self._monotonic()
        last_login = opened
        while True:
            now = self._monotonic()
            if not self.live and now - opened >= self.first_state_timeout:
                raise PushUnavailable(
                    f"no printer state within {self.first_state_timeout:.0f} s (does the key's user have the Status "
                    "permission?)"
                )
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                try:
                    item = await asyncio.wait_for(queue.get(), max(0.0, self._deadline(opened) - now))
                except TimeoutError:
                    item = None
            if isinstance(item, PushClosed):
                raise item
            if item is _WAKE:
                self._feed(self.translator.pending_events())
            elif isinstance(item, str | bytes):
                message = parse_message(item)
                if isinstance(message, ReauthRequired):
                    # Once per session key: OctoPrint asking again at once refuses the new key too (a login storm
                    # would not help), so the socket is given up and polling takes over.
                    if self._monotonic() - last_login < self.reauth_every:
                        refused = f"OctoPrint refused the socket's session ({message.reason})"
                        raise PushClosed(refused) if self.live else PushUnavailable(refused)
                    last_login = self._monotonic()
                    user, session = await self._login()
                    await connection.send(auth_message(user, session))
                else:
                    self._take(message)
            self._translate_if_due()

    def _deadline(self, opened: float) -> float:
        """When to look again without a message: the held-back state, the heartbeat, the first-state timeout."""
        if not self.live:
            return opened + self.first_state_timeout
        if self._pending is not None:
            return self._last_at + self.min_interval
        return self._last_at + self.heartbeat

    def _take(self, message: object) -> None:
        if isinstance(message, PushedState):
            self._pending = message
            if message.key != self._last_key:
                self._urgent = True
        elif isinstance(message, PrinterEvent):
            if message.name in CANCEL_EVENTS:
                self.translator.cancel_sent()
            if message.name in STATE_EVENTS:
                self._urgent = True
        elif isinstance(message, Malformed):
            self._malformed(MalformedEvent(None, message.type, message.reason, message.excerpt))
        elif isinstance(message, Connected):
            self.version = message.version
        elif isinstance(message, Ignored):
            self.ignored += 1

    def _translate_if_due(self) -> None:
        now = self._monotonic()
        state = self._pending
        if state is None:
            if self._last is not None and now - self._last_at >= self.heartbeat:
                state = self._last  # nothing pushed for a while: the same state again (the heartbeat)
            else:
                return
        elif not self._urgent and now - self._last_at < self.min_interval:
            return
        self._pending, self._urgent = None, False
        self._last, self._last_key, self._last_at = state, state.key, now
        events = self.translator.answer(state.printer, state.job)
        self.states += 1
        if not self.live:
            self.live = True
            self._went_live()
        self._feed(events)
