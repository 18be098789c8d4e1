"""OctoPrint's push socket: the connection, the handshake, and what its messages mean.

OctoPrint pushes its state over SockJS at ``/sockjs``; its raw websocket transport, ``/sockjs/websocket``, carries
plain JSON text frames without SockJS's framing. Each message is an object with one key, its type:
``{"connected": {...}}`` at once, then ``{"history": {...}}`` and ``{"current": {...}}`` (the state, job,
progress and temperatures: the same data as ``GET /api/printer`` and ``GET /api/job``, from the same place in
OctoPrint), ``{"event": {"type": "PrintStarted", "payload": {...}}}`` and ``{"reauthRequired": {"reason": ...}}``.

The socket says nothing (but ``connected``) until it is authenticated: OctoPrint 1.11 wants
``{"auth": "<user>:<session key>"}``, the session coming from a passive ``POST /api/login`` with the API key
(:meth:`.rest.PrinterRest.login`). Before that the source also subscribes to what it reads (state without terminal
logs, a few events, no plugin messages) and sets a throttle.

Everything here is untrusted: :func:`parse_message` turns one frame into a typed message, or a :class:`Malformed`
one (not JSON, not an object of one key, a state without flags ...), never an exception. A frame over the size cap
ends the connection (the websocket library refuses it unread); the session counts it as malformed too.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from console.sources.octoprint.mapping import clean_text

__all__ = [
    "CANCEL_EVENTS",
    "MAX_MESSAGE_BYTES",
    "PUSH_PATH",
    "STATE_EVENTS",
    "SUBSCRIBED_EVENTS",
    "Connected",
    "Ignored",
    "Malformed",
    "PrinterEvent",
    "PushClosed",
    "PushConnection",
    "PushMessage",
    "PushUnavailable",
    "PushedState",
    "ReauthRequired",
    "SocketOpener",
    "auth_message",
    "handshake",
    "open_websocket",
    "parse_message",
    "socket_url",
]

PUSH_PATH = "/sockjs/websocket"
"""SockJS's raw websocket transport under OctoPrint's base URL."""

MAX_MESSAGE_BYTES = 1024 * 1024
"""The largest frame taken (the first ``history`` carries up to 30 minutes of temperatures, some 100 KiB)."""

STATE_EVENTS = frozenset(
    {
        "Connected",
        "Disconnected",
        "Error",
        "PrinterStateChanged",
        "PrintStarted",
        "PrintPaused",
        "PrintResumed",
        "PrintDone",
        "PrintFailed",
        "PrintCancelling",
        "PrintCancelled",
    }
)
"""Events after which the next pushed state is translated at once (not held to one a second)."""

CANCEL_EVENTS = frozenset({"PrintCancelling", "PrintCancelled"})
"""Events that say the print that ends next was cancelled (not completed), whoever cancelled it."""

SUBSCRIBED_EVENTS = tuple(sorted(STATE_EVENTS))

_IGNORED_TYPES = frozenset({"plugin", "timelapse", "slicingProgress", "renderProgress"})
"""OctoPrint's other message types: valid, but nothing the console shows."""

_EXCERPT = 160


class PushUnavailable(Exception):
    """The push socket could not be opened or authenticated (refused, 404, timeout, no state came)."""


class PushClosed(Exception):
    """An open push socket ended. ``oversized``: it ended because OctoPrint sent a frame over the cap."""

    def __init__(self, reason: str, *, oversized: bool = False) -> None:
        super().__init__(reason)
        self.oversized = oversized


class PushConnection(Protocol):
    """What a push session needs of an open socket (a websocket, or a test's stand-in)."""

    async def send(self, message: str) -> None: ...

    async def recv(self) -> str | bytes:
        """The next frame; raises :class:`PushClosed` when the socket has ended."""
        ...

    async def close(self) -> None: ...


SocketOpener = Callable[[str], Awaitable[PushConnection]]
"""Opens the socket at a ``ws://`` or ``wss://`` URL; raises :class:`PushUnavailable`."""


def socket_url(base_url: str, path: str = PUSH_PATH) -> str:
    """The push socket's URL under an OctoPrint base URL (a path prefix behind a proxy is kept)."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path + path, "", ""))


def handshake(user: str, session: str, *, throttle: int) -> list[str]:
    """What the source says after ``connected``: subscribe, throttle, then authenticate (the order OctoPrint takes
    them in, so every state it sends after the login is already filtered)."""
    subscribe = {"state": {"logs": False, "messages": False}, "events": list(SUBSCRIBED_EVENTS), "plugins": False}
    return [
        json.dumps({"subscribe": subscribe}),
        json.dumps({"throttle": max(1, throttle)}),
        auth_message(user, session),
    ]


def auth_message(user: str, session: str) -> str:
    """``{"auth": "<user>:<session key>"}``: logs the socket in (again, after ``reauthRequired``)."""
    return json.dumps({"auth": f"{user}:{session}"})


# --- messages ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    version: str


@dataclass(frozen=True, slots=True)
class PushedState:
    """A ``current`` or ``history`` message as the two REST answers the translation takes: ``printer`` shaped as
    ``GET /api/printer`` (``None`` when OctoPrint would answer that with 409: the printer is not operational) and
    ``job`` as ``GET /api/job``. ``key`` changes when the state, the file or the error does."""

    printer: dict[str, Any] | None
    job: dict[str, Any]
    key: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PrinterEvent:
    name: str


@dataclass(frozen=True, slots=True)
class ReauthRequired:
    reason: str


@dataclass(frozen=True, slots=True)
class Ignored:
    type: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame that is not what OctoPrint sends; ``excerpt`` is plain, short text."""

    type: str
    reason: str
    excerpt: str


PushMessage = Connected | PushedState | PrinterEvent | ReauthRequired | Ignored | Malformed


def _excerpt(raw: str) -> str:
    return clean_text(raw[: _EXCERPT * 2], _EXCERPT)


def parse_message(raw: str | bytes) -> PushMessage:
    """One frame as a typed message; anything unexpected is :class:`Malformed` (this never raises)."""
    if isinstance(raw, bytes):
        return Malformed("binary", f"a binary frame ({len(raw)} bytes)", "")
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError):
        return Malformed("push", "not JSON", _excerpt(raw))
    if not isinstance(data, dict) or len(data) != 1:
        return Malformed("push", "not an object with one key", _excerpt(raw))
    [(kind, payload)] = data.items()
    name = clean_text(kind, 40)
    try:
        if kind in ("current", "history"):
            return _state(payload)
        if kind == "event":
            return _event(payload)
        if kind == "connected":
            return Connected(clean_text(_mapping(payload).get("version"), 40))
        if kind == "reauthRequired":
            return ReauthRequired(clean_text(_mapping(payload).get("reason"), 40) or "unknown")
    except ValueError as error:
        return Malformed(name, str(error), _excerpt(raw))
    if kind in _IGNORED_TYPES:
        return Ignored(kind)
    return Ignored(name or "?")


def _mapping(value: Any, what: str = "the payload") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not an object")
    return value


def _optional_mapping(value: Any, what: str) -> Mapping[str, Any] | None:
    return None if value is None else _mapping(value, what)


def _event(payload: Any) -> PrinterEvent:
    event = _mapping(payload)
    name = event.get("type")
    if not isinstance(name, str) or not name:
        raise ValueError("an event without a type")
    _optional_mapping(event.get("payload"), "the event's payload")
    return PrinterEvent(clean_text(name, 60))


def _state(payload: Any) -> PushedState:
    """``current``/``history`` as the REST answers: OctoPrint's ``/api/job`` is ``job``, ``progress`` and the
    state's text (and ``error`` when there is one), and ``/api/printer`` is the state and the latest temperatures,
    or a 409 while the printer is not operational. Built the same way, they translate to the same objects."""
    data = _mapping(payload)
    state = _mapping(data.get("state"), "state")
    flags = _mapping(state.get("flags"), "state.flags")
    text = state.get("text")
    if not isinstance(text, str):
        raise ValueError("state.text is not a string")
    error = state.get("error")
    job = _optional_mapping(data.get("job"), "job")
    progress = _optional_mapping(data.get("progress"), "progress")
    temps = data.get("temps")
    if temps is not None and not isinstance(temps, list):
        raise ValueError("temps is not a list")
    job_answer: dict[str, Any] = {"job": job, "progress": progress, "state": text}
    if error:
        job_answer["error"] = error
    printer: dict[str, Any] | None = None
    if flags.get("operational") is True:
        latest = temps[-1] if temps and isinstance(temps[-1], Mapping) else {}
        printer = {"state": state, "temperature": latest}
    file = job.get("file") if job is not None else None
    path = file.get("path") if isinstance(file, Mapping) else None
    on = tuple(sorted(str(name) for name, value in flags.items() if value is True))
    return PushedState(printer, job_answer, (text, on, path if isinstance(path, str) else None, bool(error)))


# --- the websocket ----------------------------------------------------------------------------------------------


class _WebSocket:
    """A :class:`PushConnection` over the ``websockets`` library."""

    def __init__(self, connection: ClientConnection, max_bytes: int) -> None:
        self._connection = connection
        self._max_bytes = max_bytes

    async def send(self, message: str) -> None:
        try:
            await self._connection.send(message)
        except ConnectionClosed as error:
            raise PushClosed(_closed_reason(error)) from None

    async def recv(self) -> str | bytes:
        try:
            frame: str | bytes = await self._connection.recv()
        except ConnectionClosed as error:
            oversized = error.sent is not None and error.sent.code == 1009
            reason = f"a message over {self._max_bytes // 1024} KiB" if oversized else _closed_reason(error)
            raise PushClosed(reason, oversized=oversized) from None
        return frame

    async def close(self) -> None:
        await self._connection.close()


def _closed_reason(error: ConnectionClosed) -> str:
    """Why a websocket ended, in a few plain words (OctoPrint's close reason is untrusted)."""
    frame = error.rcvd or error.sent
    if frame is None:
        return "the connection was lost"
    reason = clean_text(frame.reason, 60)
    return f"closed ({frame.code}{': ' + reason if reason else ''})"


async def open_websocket(
    url: str, *, open_timeout: float = 5.0, max_bytes: int = MAX_MESSAGE_BYTES, ping_interval: float = 10.0
) -> PushConnection:
    """Open the push socket with the ``websockets`` library: frames over ``max_bytes`` end it (code 1009), a ping
    every ``ping_interval`` seconds finds a dead connection. Raises :class:`PushUnavailable` with a plain reason."""
    try:
        connection = await connect(
            url,
            open_timeout=open_timeout,
            max_size=max_bytes,
            ping_interval=ping_interval,
            ping_timeout=ping_interval,
            close_timeout=2.0,
            user_agent_header="factory-console",
        )
    except InvalidStatus as error:
        raise PushUnavailable(f"the socket was refused (HTTP {error.response.status_code})") from None
    except (OSError, TimeoutError, WebSocketException) as error:
        raise PushUnavailable(f"cannot open the socket: {type(error).__name__}") from None
    return _WebSocket(connection, max_bytes)
