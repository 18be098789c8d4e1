"""The conversation with Moonraker over one websocket: what to ask when, and what each notification means.

On a new connection (:meth:`Session.open`):

1. ``server.connection.identify`` (the client's name and version; the API key when one is configured);
2. ``server.info``: is Klipper connected, and in which state (``klippy_state``);
3. when Klipper is there: ``printer.info`` (its state message and version) and ``printer.objects.subscribe`` to the
   objects of :data:`~console.sources.moonraker.mapping.SUBSCRIPTION` (the answer is their whole status);
4. ``server.job_queue.status``: the queue.

Then each notification (:meth:`Session.handle`): ``notify_status_update`` (changed fields), ``notify_klippy_ready``
(subscribe again: Klipper's subscriptions end with its connection), ``notify_klippy_shutdown`` (ask
``printer.info`` for the reason), ``notify_klippy_disconnected``, ``notify_history_changed`` (a print ended, as
history records it) and ``notify_job_queue_changed``. Others (``notify_proc_stat_update`` every second ...) only
show the connection is alive. A notification whose ``params`` are not shaped as Moonraker documents them is
reported malformed and skipped. No store here: the translation takes what was learnt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from console import __version__
from console.api.errors import ProtocolError
from console.sources.moonraker.mapping import SUBSCRIPTION, parse_queue
from console.sources.moonraker.rpc import Notification, RpcConnection, RpcError
from console.sources.moonraker.translation import Translator

__all__ = ["CLIENT_NAME", "Session"]

CLIENT_NAME = "factory-console"
_PRESENT = ("ready", "shutdown", "error")
"""Klipper host states in which its printer objects can be asked for."""


class Session:
    """One connection's conversation. See the module docstring."""

    def __init__(
        self,
        rpc: RpcConnection,
        translator: Translator,
        *,
        api_key: str | None,
        on_malformed: Callable[[str, str, str], None],
    ) -> None:
        self.rpc = rpc
        self.translator = translator
        self.api_key = api_key
        self._malformed = on_malformed
        self.last_klippy_check = 0.0

    async def open(self) -> None:
        """Identify, learn Klipper's state (and subscribe), read the queue. Raises ``RpcError`` (a 401 when the API
        key is refused), ``ProtocolError`` for answers not shaped as documented, and what the calls raise."""
        identity: dict[str, Any] = {
            "client_name": CLIENT_NAME,
            "version": __version__,
            "type": "other",
            "url": "",  # the client's home page: the console has none to name
        }
        if self.api_key:
            identity["api_key"] = self.api_key
        await self.rpc.call("server.connection.identify", identity)
        await self.refresh_klippy()
        await self.refresh_queue()

    async def refresh_klippy(self) -> None:
        """Ask Moonraker how Klipper is; when Klipper is there, its version, message and printer objects."""
        self.last_klippy_check = time.monotonic()
        info = _mapping(await self.rpc.call("server.info"), "server.info")
        state = info.get("klippy_state") if info.get("klippy_connected") is not False else "disconnected"
        if not isinstance(state, str) or state not in _PRESENT:
            self.translator.klippy_gone()  # away or starting: what it said before no longer holds
            if isinstance(state, str) and state != "disconnected":
                self.translator.klippy(state, "")
            return
        try:
            printer = _mapping(await self.rpc.call("printer.info"), "printer.info")
        except RpcError:  # Klipper went away between the two calls: ask again shortly
            self.translator.klippy_gone()
            self.translator.klippy("startup", "")
            return
        self.translator.identified(printer.get("software_version"))
        self.translator.klippy(printer.get("state", state), printer.get("state_message", ""))
        try:
            answer = _mapping(await self.rpc.call("printer.objects.subscribe", {"objects": SUBSCRIPTION}), "subscribe")
        except RpcError:  # Klipper went away between the two calls: its notification follows
            return
        status = answer.get("status")
        if isinstance(status, Mapping):
            bad = self.translator.replace_status(status)
            if bad:
                self._malformed("printer.objects.subscribe", f"{bad} printer objects not shaped as objects", "")
        else:
            self._malformed("printer.objects.subscribe", "an answer without a status object", "")

    async def refresh_queue(self) -> None:
        try:
            answer = await self.rpc.call("server.job_queue.status")
        except RpcError:  # a Moonraker without the job queue (it is a core component since 0.8): no queue
            return
        queue = parse_queue(answer)
        if queue is None:
            self._malformed("server.job_queue.status", "not a job queue status", "")
            return
        self.translator.queue(queue[0])

    @property
    def klippy_settled(self) -> bool:
        """Klipper is ready, shut down or in error: nothing to wait for (else it is starting or away)."""
        return self.translator.klippy_state in _PRESENT

    async def handle(self, item: Notification) -> None:
        """Take one notification in (see the module docstring)."""
        method, params = item.method, item.params
        if method == "notify_status_update":
            status = _first(params)
            if not isinstance(status, Mapping):
                self._malformed(method, "params are not [status, eventtime]", repr(params)[:200])
                return
            bad = self.translator.status(status)
            if bad:
                self._malformed(method, f"{bad} printer objects not shaped as objects", repr(status)[:200])
        elif method == "notify_klippy_ready":
            await self.refresh_klippy()
        elif method == "notify_klippy_shutdown":
            self.translator.klippy("shutdown")
            await self.refresh_klippy()
        elif method == "notify_klippy_disconnected":
            self.translator.klippy_gone(seen=True)
        elif method == "notify_history_changed":
            change = _first(params)
            if not isinstance(change, Mapping) or not isinstance(change.get("action"), str):
                self._malformed(method, "params are not [{action, job}]", repr(params)[:200])
            elif change["action"] == "finished":
                self.translator.history_finished(change.get("job"))
        elif method == "notify_job_queue_changed":
            change = _first(params)
            if not isinstance(change, Mapping):
                self._malformed(method, "params are not [{action, updated_queue, queue_state}]", repr(params)[:200])
            elif change.get("updated_queue") is not None:
                queue = parse_queue(change)
                if queue is None:
                    self._malformed(method, "updated_queue is not a list of jobs", repr(params)[:200])
                else:
                    self.translator.queue(queue[0])


def _first(params: Any) -> Any:
    """The first of a notification's positional ``params`` (Moonraker sends a list), else ``None``."""
    return params[0] if isinstance(params, list) and params else None


def _mapping(answer: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(answer, Mapping):
        raise ProtocolError(f"{what}: the answer is not an object")
    return answer
