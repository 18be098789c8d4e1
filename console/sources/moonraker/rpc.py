"""JSON-RPC 2.0 over Moonraker's websocket: requests with ids, their answers, and the server's notifications.

One :class:`RpcConnection` is one open websocket (``/websocket``). :meth:`RpcConnection.call` sends a request and
waits for the answer with the same ``id`` (a reader task matches them); everything the server sends unasked (a
``notify_*`` method) goes, in order, into :attr:`RpcConnection.notifications` for the session to handle, ending with
one :class:`Closed` when the connection ends. What is not JSON-RPC (not JSON, not an object, a method that is not a
string, a binary frame that is not UTF-8, a message over the size cap) is reported through ``on_malformed`` and
skipped: hostile input never ends the connection by itself (but an oversized frame does, as websockets refuses it;
it is reported too).

Errors: a JSON-RPC error answer raises :class:`RpcError` (Moonraker puts an HTTP-like status in ``code``: 400, 401,
404, 503 ...); a request that could not be sent raises ``ConnectionFailed``; one sent whose answer never came (the
connection dropped, or the timeout passed) raises ``AnswerLost``: it may or may not have been carried out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from console.api.errors import AnswerLost, ClientError, ConnectionFailed, ProtocolError
from console.api.sse import excerpt

__all__ = ["Closed", "Notification", "RpcConnection", "RpcError", "open_connection"]

log = logging.getLogger(__name__)

_TOO_BIG = 1009
"""The websocket close code for a message over the size cap (RFC 6455)."""


class RpcError(ClientError):
    """A JSON-RPC error answer: Moonraker's ``code`` (an HTTP-like status) and its message (untrusted text)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Notification:
    """A ``notify_*`` call from the server: its method and ``params`` (untrusted JSON, checked by the reader of it)."""

    method: str
    params: Any


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection ended (the last item of :attr:`RpcConnection.notifications`); ``reason`` says why."""

    reason: str


async def open_connection(
    url: str,
    *,
    open_timeout: float,
    max_size: int,
    ping_interval: float,
    on_malformed: Callable[[str, str], None],
    user_agent: str,
) -> RpcConnection:
    """Open the websocket at ``url`` and start reading it. Raises ``ConnectionFailed`` (refused, unreachable, not a
    websocket, the handshake timed out) with a plain reason; an HTTP 401/403 at the upgrade says so."""
    try:
        ws = await connect(
            url,
            open_timeout=open_timeout,
            ping_interval=ping_interval,
            ping_timeout=open_timeout,
            close_timeout=min(open_timeout, 2.0),
            max_size=max_size,
            max_queue=64,
            compression=None,
            user_agent_header=user_agent,
        )
    except InvalidStatus as error:
        raise ConnectionFailed(f"the websocket upgrade was refused (HTTP {error.response.status_code})") from None
    except InvalidURI:
        raise ConnectionFailed("not a websocket URL") from None
    except (OSError, TimeoutError, WebSocketException) as error:
        raise ConnectionFailed(f"cannot connect: {type(error).__name__}") from None
    connection = RpcConnection(ws, on_malformed=on_malformed, answer_within=open_timeout)
    connection.start()
    return connection


class RpcConnection:
    """One open websocket speaking JSON-RPC 2.0. See the module docstring."""

    def __init__(self, ws: ClientConnection, *, on_malformed: Callable[[str, str], None], answer_within: float) -> None:
        self._ws = ws
        self._on_malformed = on_malformed
        self.answer_within = answer_within
        """Seconds a call waits for its answer (then ``AnswerLost``)."""
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._closed_reason: str | None = None
        self.notifications: asyncio.Queue[Notification | Closed] = asyncio.Queue()
        self.last_heard = time.monotonic()
        """When anything last came (``time.monotonic()``): a message, an answer, a notification."""

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="moonraker-rpc-reader")

    @property
    def is_open(self) -> bool:
        return self._closed_reason is None

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send ``method`` and return the answer's ``result``. Raises :class:`RpcError`, ``ConnectionFailed`` (not
        sent) or ``AnswerLost`` (sent, no answer)."""
        if self._closed_reason is not None:
            raise ConnectionFailed(f"not connected ({self._closed_reason}); {method} was not sent")
        request_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            message["params"] = params
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            try:
                await self._ws.send(json.dumps(message))
            except (ConnectionClosed, OSError) as error:
                why = type(error).__name__
                raise ConnectionFailed(f"the connection closed; {method} was not sent ({why})") from None
            try:
                return await asyncio.wait_for(future, self.answer_within)
            except TimeoutError:
                raise AnswerLost(f"{method}: no answer within {self.answer_within:.0f} s") from None
        finally:
            self._pending.pop(request_id, None)

    async def aclose(self) -> None:
        """Close the websocket and stop reading (pending calls get ``AnswerLost``)."""
        self._finish("closed by the console")
        with contextlib.suppress(Exception):
            await self._ws.close()
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    # --- reading ----------------------------------------------------------------------------------------------------

    async def _read(self) -> None:
        reason = "the connection closed"
        try:
            async for frame in self._ws:
                self.last_heard = time.monotonic()
                self._take(frame)
        except ConnectionClosed as error:
            sent = error.sent
            if sent is not None and sent.code == _TOO_BIG:
                self._on_malformed("a message over the size cap", "")
                reason = "a message over the size cap"
            else:
                reason = f"the connection closed ({error.rcvd.code if error.rcvd else 'no close frame'})"
        except (OSError, WebSocketException) as error:
            reason = f"the connection failed ({type(error).__name__})"
        finally:
            self._finish(reason)

    def _finish(self, reason: str) -> None:
        if self._closed_reason is not None:
            return
        self._closed_reason = reason
        for future in self._pending.values():
            if not future.done():
                future.set_exception(AnswerLost(f"no answer: {reason}"))
        self.notifications.put_nowait(Closed(reason))

    def _take(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            try:
                frame = frame.decode("utf-8")
            except UnicodeDecodeError:
                self._on_malformed("a binary frame that is not UTF-8 text", "")
                return
        try:
            message = json.loads(frame)
        except ValueError:
            self._on_malformed("not JSON", excerpt(frame))
            return
        if not isinstance(message, dict):
            self._on_malformed("not a JSON-RPC object", excerpt(frame))
            return
        if "method" in message:
            method = message["method"]
            if not isinstance(method, str) or not method or len(method) > 100:
                self._on_malformed("a method that is not a name", excerpt(frame))
                return
            self.notifications.put_nowait(Notification(method, message.get("params")))
            return
        request_id = message.get("id")
        future = self._pending.get(request_id) if isinstance(request_id, int) else None
        if future is None or future.done():
            if not isinstance(request_id, int):
                self._on_malformed("neither a call nor an answer", excerpt(frame))
            return  # an answer after its timeout: nothing waits for it any more
        if "error" in message:
            future.set_exception(_rpc_error(message["error"]))
        elif "result" in message:
            future.set_result(message["result"])
        else:
            self._on_malformed("an answer without result or error", excerpt(frame))
            future.set_exception(ProtocolError("an answer without result or error"))


def _rpc_error(error: Any) -> RpcError:
    if not isinstance(error, dict):
        return RpcError(500, "malformed error answer")
    code = error.get("code")
    message = error.get("message")
    return RpcError(
        code if isinstance(code, int) and not isinstance(code, bool) else 500,
        message if isinstance(message, str) else "no message",
    )
