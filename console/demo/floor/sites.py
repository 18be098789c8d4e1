"""Start and stop the mixed floor's sites: the local stand-ins of real shop-floor protocols beside the simulation.

``factory-console --demo --with-devices`` calls :func:`start_floor` before the terminal is taken over. It starts, on
127.0.0.1 and free ports:

1. a Sparkplug B site: a Mosquitto broker of its own (``broker``; only when the ``mosquitto`` binary is installed,
   else one line in :attr:`Floor.notices` says what is skipped and how to get it) and an edge node with four devices
   (``sparkplug_site``);
2. an OPC UA site: an asyncua server with three Machinery-model injection moulders and an alarm (``opcua_site``).

The sites run in a thread of their own with its own event loop (as the embedded demo does): the console's loop must
not host them, and the console reaches them over real sockets like any site. :attr:`Floor.specs` are the sources the
console adds. A Moonraker site is not started: Moonraker is a server of its own (its own virtual environment and
Klipper behind it), and an imitation written here would only repeat our own reading of its protocol
(``docs/moonraker.md``).

Everything is seeded and bounded; Mosquitto's config and log live in a temporary folder removed by :meth:`Floor.stop`,
which also stops the edge node (its NDEATH first), the OPC UA server and Mosquitto, in that order; it is idempotent,
and the launcher calls it at exit, on SIGTERM/SIGHUP and after Ctrl+C.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from console.demo.floor.broker import INSTALL_HINT, Broker, mosquitto_path, start_broker
from console.demo.floor.opcua_site import OpcUaSite
from console.demo.floor.sparkplug_devices import DEVICES, DeviceSpec
from console.demo.floor.sparkplug_site import GROUP, SparkplugSite
from console.settings import SourceSpec

__all__ = ["OPCUA_NAME", "SPARKPLUG_SOURCE", "Floor", "start_floor"]

T = TypeVar("T")

SPARKPLUG_SOURCE = "demo-sparkplug"
OPCUA_NAME = "demo-cell"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class Floor:
    """The running sites (see the module docstring): the sources to add, what was skipped, and :meth:`stop`."""

    def __init__(self) -> None:
        self.specs: list[SourceSpec] = []
        self.notices: list[str] = []
        self.broker: Broker | None = None
        self.sparkplug: SparkplugSite | None = None
        self.opcua: OpcUaSite | None = None
        self.folder: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self._lock = threading.Lock()

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run the coroutine function ``fn(*args)`` on the sites' loop and return its result (tests use it)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(_call(fn, *args), self._loop).result(START_TIMEOUT_S)

    def stop(self) -> None:
        """Stop the edge node, the OPC UA server, the loop and Mosquitto; remove the folder. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(Exception):  # the loop is gone already, or a site fails to say goodbye
                asyncio.run_coroutine_threadsafe(self._close(), loop).result(STOP_TIMEOUT_S)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
            thread.join(STOP_TIMEOUT_S)
        if self.broker is not None:
            self.broker.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def _open(self) -> None:
        if self.opcua is not None:
            await self.opcua.start()
            self._tasks.append(asyncio.ensure_future(self.opcua.run()))
        if self.sparkplug is not None:
            await self.sparkplug.start()

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.sparkplug is not None:
            await self.sparkplug.stop()
        if self.opcua is not None:
            await self.opcua.stop()

    def __enter__(self) -> Floor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _call(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    return await fn(*args)


def start_floor(
    *,
    seed: int = 7,
    sparkplug: bool = True,
    opcua: bool = True,
    mosquitto: Callable[[], str | None] = mosquitto_path,
    sparkplug_interval: float = 1.0,
    opcua_interval: float = 2.0,
    devices: tuple[DeviceSpec, ...] = DEVICES,
) -> Floor:
    """Start the sites (see the module docstring) and return once each accepts connections.

    ``mosquitto`` finds the binary (``None``: not installed, and the Sparkplug site is skipped with a notice);
    ``devices`` are the Sparkplug site's (tests make them steadier). Raises
    ``RuntimeError`` with a one-line reason when a site fails to start; whatever had started is stopped first.
    """
    floor = Floor()
    try:
        _start(floor, seed, sparkplug, opcua, mosquitto, (sparkplug_interval, opcua_interval), devices)
    except BaseException:
        floor.stop()
        raise
    return floor


def _start(
    floor: Floor,
    seed: int,
    sparkplug: bool,
    opcua: bool,
    mosquitto: Callable[[], str | None],
    intervals: tuple[float, float],
    devices: tuple[DeviceSpec, ...],
) -> None:
    if sparkplug:
        binary = mosquitto()
        if binary is None:
            floor.notices.append(
                f"--with-devices: no Sparkplug B site: the mosquitto broker is not installed ({INSTALL_HINT})"
            )
        else:
            floor.folder = Path(tempfile.mkdtemp(prefix="factory-console-floor-"))
            floor.broker = start_broker(floor.folder, binary)
            floor.sparkplug = SparkplugSite(floor.broker.port, seed=seed, interval=intervals[0], devices=devices)
            options = {"groups": [GROUP], "host_id": "factory-console-demo", "rebirth_interval_s": 1.0}
            floor.specs.append(SourceSpec(SPARKPLUG_SOURCE, "sparkplug", floor.broker.url, options=options))
    if opcua:
        floor.opcua = OpcUaSite(seed=seed + 1, interval=intervals[1])
        options = {"kind": "injection_molder", "node_name": "Moulding cell (OPC UA)"}
        floor.specs.append(
            SourceSpec(f"opcua:{OPCUA_NAME}", "opcua", floor.opcua.url, name=OPCUA_NAME, options=options)
        )
    if floor.sparkplug is None and floor.opcua is None:
        return
    _run_thread(floor)


def _run_thread(floor: Floor) -> None:
    ready = threading.Event()
    errors: list[BaseException] = []

    def main() -> None:
        loop = asyncio.new_event_loop()
        floor._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(floor._open())
        except BaseException as error:
            errors.append(error)
            ready.set()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(floor._close())
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=main, name="factory-console-floor", daemon=True)
    floor._thread = thread
    thread.start()
    if not ready.wait(START_TIMEOUT_S):
        raise RuntimeError("--with-devices: the local sites did not start in time")
    if errors:
        error = errors[0]
        raise RuntimeError(f"--with-devices: a local site failed to start: {type(error).__name__}: {error}") from error
