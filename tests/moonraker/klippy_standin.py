"""A stand-in for Klipper's API server, for the Moonraker tests: the unix socket Moonraker talks to.

Written from Klipper's API server documentation (``docs/API_Server.md``): JSON objects terminated by ``0x03`` on a
unix domain socket; a request ``{"id", "method", "params"}`` gets ``{"id", "result"}`` or ``{"id", "error": {"error",
"message"}}``; ``objects/subscribe`` and ``gcode/subscribe_output`` take a ``response_template`` that later pushes
(``{"method": ..., "params": {"eventtime", "status"}}``) are built from, and ``register_remote_method`` lets the
client be called the same way. What it answers is what Moonraker 0.11 asks (``moonraker/klippy_connection.py``,
``moonraker/components/klippy_apis.py``, ``job_state.py``, ``job_queue.py``): ``info`` (with ``klipper_path`` and
``python_path``), ``list_endpoints``, ``objects/list``, ``objects/query`` (``configfile`` for the gcode path,
``print_stats`` before a queued job starts), ``objects/subscribe``, ``gcode/script`` (``SDCARD_PRINT_FILE`` ...),
``gcode/subscribe_output``, ``gcode/help``, ``pause_resume/pause|resume|cancel``, ``register_remote_method`` and
``emergency_stop``.

The printer behind it is :class:`~tests.moonraker.klippy_printer.ToyPrinter`; the tests drive the rest
(:meth:`KlippyStandIn.shutdown`, :meth:`KlippyStandIn.print_error`, :meth:`KlippyStandIn.disconnect` ...), so every
state Moonraker reports (standby, printing, paused, complete, cancelled, error, shutdown, disconnected) can be made
to happen. It runs its own asyncio loop in a thread; every public method is safe to call from the test's thread or
loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from tests.moonraker.klippy_printer import PrinterError, Status, ToyPrinter, pick

__all__ = ["KlippyStandIn"]

ENDPOINTS = [
    "info",
    "emergency_stop",
    "register_remote_method",
    "list_endpoints",
    "objects/list",
    "objects/query",
    "objects/subscribe",
    "gcode/script",
    "gcode/help",
    "gcode/subscribe_output",
    "gcode/restart",
    "gcode/firmware_restart",
    "pause_resume/pause",
    "pause_resume/resume",
    "pause_resume/cancel",
]


class _Connection:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.subscription: dict[str, list[str] | None] = {}
        self.status_template: dict[str, Any] | None = None
        self.gcode_template: dict[str, Any] | None = None
        self.remote_methods: dict[str, dict[str, Any]] = {}

    def send(self, message: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            self.writer.write(json.dumps(message).encode() + b"\x03")


class KlippyStandIn:
    """Klipper's API socket at ``socket_path``; the virtual SD card is ``gcodes``. See the module docstring."""

    def __init__(self, socket_path: Path, gcodes: Path, *, tick: float = 0.1, print_seconds: float = 120.0) -> None:
        self.socket_path = socket_path
        self.gcodes = gcodes
        self.tick = tick
        self.printer = ToyPrinter(gcodes, self._push, tick=tick, print_seconds=print_seconds)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        """Every request received, as ``(method, params)``, in order (what Moonraker asked)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="klippy-standin", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._connections: list[_Connection] = []
        self._ticker: asyncio.Task[None] | None = None

    # --- life -----------------------------------------------------------------------------------------------------

    def start(self) -> KlippyStandIn:
        self._thread.start()
        self._call(self._listen)
        self._ticker = self._call(self._start_ticker)
        return self

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown_server)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` (a function, or a coroutine function) on the stand-in's loop and return what it returns."""

        async def run() -> Any:
            result = fn()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        future: Future[Any] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(10)

    async def _listen(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket_path), limit=1 << 22)

    async def _start_ticker(self) -> asyncio.Task[None]:
        return asyncio.create_task(self._tick_forever())

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            with contextlib.suppress(Exception):
                self.printer.step()

    async def _shutdown_server(self) -> None:
        await self._drop_connections()
        if self._ticker is not None:
            self._ticker.cancel()

    async def _drop_connections(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in self._connections:
            connection.writer.close()
        self._connections.clear()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    async def _restart(self) -> None:
        """Klipper's host process starts again: connections dropped, a fresh printer listening."""
        await self._drop_connections()
        self.printer.status = self.printer.fresh()
        await self._listen()

    async def _reset(self) -> None:
        if self._server is None or not self.printer.ready:
            await self._restart()
        else:
            self.printer.standby()

    # --- what the tests do ----------------------------------------------------------------------------------------

    def start_print(self, filename: str, seconds: float | None = None) -> None:
        """Start printing ``filename`` (as ``SDCARD_PRINT_FILE`` would), over ``seconds``."""
        self._call(lambda: self.printer.start_print(filename, seconds))

    def pause(self) -> None:
        """Pause the print (as ``PAUSE`` would)."""
        self._call(self.printer.pause)

    def print_error(self, message: str) -> None:
        """The print fails (a G-code error in the file): ``print_stats.state`` ``error`` with ``message``."""
        self._call(lambda: self.printer.end_print("error", message))

    def shutdown(self, message: str) -> None:
        """Klipper shuts down (an MCU error): ``webhooks.state`` ``shutdown``; a print in progress ends in error."""
        self._call(lambda: self.printer.shutdown(message))

    def firmware_restart(self) -> None:
        """Back from a shutdown, as after ``FIRMWARE_RESTART``: the connection drops and comes back ready."""
        self._call(self._restart)

    def disconnect(self) -> None:
        """Klipper goes away (its host process stopped): connections closed, the socket gone until :meth:`reconnect`."""
        self._call(self._drop_connections)

    def reconnect(self) -> None:
        """Klipper is back (a new process): ready and in standby, listening again."""
        self._call(self._restart)

    def reset(self) -> None:
        """Back to a ready printer in standby, heaters off (between tests); a shut down one restarts first."""
        self._call(self._reset)

    def update(self, status: Status) -> None:
        """Change objects as Klipper would (pushed to subscribers); any JSON, hostile values too."""
        self._call(lambda: self.printer.update(copy.deepcopy(status)))

    def get(self, name: str) -> dict[str, Any]:
        """An object's current status (a copy)."""
        return dict(self._call(lambda: copy.deepcopy(self.printer.status[name])))

    @property
    def state(self) -> str:
        """``print_stats.state``."""
        return str(self.get("print_stats")["state"])

    def methods(self) -> list[str]:
        return self._call(lambda: [method for method, _ in self.requests])

    # --- the socket -----------------------------------------------------------------------------------------------

    def _push(self, diff: Status) -> None:
        """Send what changed to each subscriber (only the fields it subscribed), as Klipper's status updates."""
        eventtime = time.monotonic()
        for connection in list(self._connections):
            if connection.status_template is None:
                continue
            pushed = pick(diff, connection.subscription)
            if pushed:
                connection.send({**connection.status_template, "params": {"eventtime": eventtime, "status": pushed}})

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(writer)
        self._connections.append(connection)
        try:
            while True:
                try:
                    data = await reader.readuntil(b"\x03")
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                try:
                    request = json.loads(data[:-1])
                except ValueError:
                    continue
                if isinstance(request, dict):
                    self._handle(connection, request)
        finally:
            if connection in self._connections:
                self._connections.remove(connection)
            writer.close()

    def _handle(self, connection: _Connection, request: dict[str, Any]) -> None:
        method = str(request.get("method"))
        params = request.get("params") or {}
        self.requests.append((method, params))
        try:
            result = self._dispatch(connection, method, params)
        except PrinterError as error:
            answer: dict[str, Any] = {"error": {"error": "WebRequestError", "message": str(error)}}
        else:
            answer = {"result": result}
        if request.get("id") is not None:
            connection.send({"id": request["id"], **answer})

    def _info(self) -> dict[str, Any]:
        webhooks, home = self.printer.status["webhooks"], self.gcodes.parent
        return {
            "state": webhooks["state"],
            "state_message": webhooks["state_message"],
            "hostname": "standin",
            "klipper_path": str(home / "klipper"),
            "python_path": str(home / "klippy-env" / "bin" / "python"),
            "process_id": os.getpid(),
            "user_id": os.getuid(),
            "group_id": os.getgid(),
            "log_file": str(home / "logs" / "klippy.log"),
            "config_file": str(home / "config" / "printer.cfg"),
            "software_version": "v0.12.0-standin",
            "cpu_info": "stand-in",
            "app": "Klipper",
        }

    def _dispatch(self, connection: _Connection, method: str, params: dict[str, Any]) -> Any:
        printer, status = self.printer, self.printer.status
        if method == "info":
            return self._info()
        if method == "list_endpoints":
            return {"endpoints": list(ENDPOINTS)}
        if method == "objects/list":
            return {"objects": sorted(status)}
        if method == "objects/query":
            return {"eventtime": time.monotonic(), "status": pick(status, _objects(params))}
        if method == "objects/subscribe":
            connection.subscription = _objects(params)
            connection.status_template = dict(params.get("response_template") or {})
            return {"eventtime": time.monotonic(), "status": pick(status, connection.subscription)}
        if method == "gcode/subscribe_output":
            connection.gcode_template = dict(params.get("response_template") or {})
            return {}
        if method == "register_remote_method":
            connection.remote_methods[str(params.get("remote_method"))] = dict(params.get("response_template") or {})
            return {}
        if method == "gcode/help":
            return {"SDCARD_PRINT_FILE": "Loads a SD file and starts the print", "PAUSE": "Pauses the current print"}
        if method == "emergency_stop":
            printer.shutdown("Shutdown due to webhooks request")
            return {}
        if method == "gcode/firmware_restart":
            self._loop.call_later(0.05, lambda: asyncio.ensure_future(self._restart()))
            return {}
        if not printer.ready:
            raise PrinterError(f"Klipper is {status['webhooks']['state']}: {status['webhooks']['state_message']}")
        actions: dict[str, Callable[[], None]] = {
            "pause_resume/pause": printer.pause,
            "pause_resume/resume": printer.resume,
            "pause_resume/cancel": printer.cancel,
            "gcode/script": lambda: printer.run_script(str(params.get("script", ""))),
        }
        action = actions.get(method)
        if action is None:
            raise PrinterError(f"No registered endpoint '{method}'")
        action()
        return {}


def _objects(params: dict[str, Any]) -> dict[str, list[str] | None]:
    objects = params.get("objects")
    return dict(objects) if isinstance(objects, dict) else {}
