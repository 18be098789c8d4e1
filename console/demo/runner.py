"""Run a simulation and the servers that show it, all in one asyncio loop.

:class:`DemoHost` owns one simulation, the task that ticks it, and any number of uvicorn servers: a cluster API
and/or node agents (each with its own feed, ``seq`` and ``instance_id``). Everything runs on one loop thread, so the
handlers read the simulation between ticks and never see a half-applied one.

:func:`make_simulation` builds the simulation a host runs. ``factory-console demo-server`` sets a host up from its
arguments in ``console.demo.standalone``; the embedded server of ``--demo`` (``console.demo.embedded``) runs a
``DemoHost`` in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import socket
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn

from console.demo.auth import TokenTable, parse_token
from console.demo.feed import DEFAULT_HISTORY, DEFAULT_HISTORY_S, EventFeed
from console.demo.protocol import ProblemH11Protocol
from console.demo.server import ServedApp, create_app
from console.demo.views import NodeView, View

__all__ = ["DemoHost", "ServedView", "make_simulation", "parse_token"]

log = logging.getLogger(__name__)

DEFAULT_TICK_INTERVAL = 0.1
GC_FREEZE_EVERY_S = 1.0
"""How often the ticker moves the objects that survived a young collection out of the collector's sight (see
:meth:`DemoHost._pace_gc`)."""
TICK_SLICE_S = 0.02
"""Wall time the ticker works before it lets the loop serve requests (``Simulation.tick(budget_s=...)``): a
20,000-machine cluster at speed 20 needs about half a core to simulate, and a read must not wait behind it."""
STARTUP_TIMEOUT_S = 20.0


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals alone: the host handles them once for all its servers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class ServedView:
    """One server of a host: the view it serves (``node_id`` None for the cluster API), its feed, app and URL.

    ``server`` and ``sock`` change when the server is taken down and brought back (:meth:`DemoHost.set_down`); the
    URL (host and port) stays. ``down`` says it is not listening now.
    """

    node_id: str | None
    feed: EventFeed
    app: ServedApp
    server: uvicorn.Server
    sock: socket.socket
    url: str
    config: uvicorn.Config | None = None
    task: asyncio.Task[None] | None = None
    down: bool = False
    address: tuple[str, int] = ("127.0.0.1", 0)


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket (port 0: a free one), so the URL is known before the server starts."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class DemoHost:
    """One simulation, its ticker, and the servers that serve views of it, for one asyncio loop.

    Build it, :meth:`add_server` for each view (sockets are bound at once, so URLs are known), then ``await
    run()``. ``tick_interval=None`` does not tick (tests step a ``SteppedClock`` and tick themselves).
    """

    def __init__(
        self,
        sim: Any,
        *,
        tokens: Iterable[str | tuple[str, str, str]] = (),
        keepalive_s: float = 15.0,
        history: int = DEFAULT_HISTORY,
        tick_interval: float | None = DEFAULT_TICK_INTERVAL,
        log_level: str = "warning",
        gc_pacing: bool = False,
        history_s: float = DEFAULT_HISTORY_S,
    ) -> None:
        self.sim = sim
        self.gc_pacing = gc_pacing  # only where the host owns its process (demo-server): gc.freeze is process-wide
        self.tokens = TokenTable(tokens)
        self.keepalive_s = keepalive_s
        self.history = history
        self.history_s = history_s
        self.tick_interval = tick_interval
        self.log_level = log_level
        self.servers: list[ServedView] = []
        self.agent_urls: dict[str, str] = {}  # shared by every view: fills Node.agent_url
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = False

    def add_server(self, host: str = "127.0.0.1", port: int = 0, node_id: str | None = None) -> ServedView:
        """Serve the whole cluster (``node_id`` None) or one node's agent on ``host:port`` (0: a free port)."""
        view = NodeView(self.sim, node_id, self.agent_urls) if node_id is not None else View(self.sim, self.agent_urls)
        feed = EventFeed(self.sim, view=view, history=self.history, history_s=self.history_s)
        app = create_app(self.sim, feed, self.tokens, keepalive_s=self.keepalive_s)
        config = uvicorn.Config(
            app,
            log_level=self.log_level,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=3,
            http=ProblemH11Protocol,  # a request that is not valid HTTP gets a problem document too
        )
        sock = bind_socket(host, port)
        served = ServedView(
            node_id, feed, app, _Server(config), sock, _url_of(sock), config, address=sock.getsockname()[:2]
        )
        if node_id is not None:
            self.agent_urls[node_id] = served.url
        self.servers.append(served)
        return served

    def server_for(self, node_id: str | None = None) -> ServedView:
        return next(s for s in self.servers if s.node_id == node_id)

    def drop_streams(self) -> int:
        """Cut every open SSE stream of every server (on the loop thread). Returns how many were open."""
        return sum(s.app.state.ctx.hub.drop_all() for s in self.servers)

    async def set_down(self, served: ServedView, down: bool) -> None:
        """Take one server down (``down``) or bring it back, on the loop thread, while the others keep serving.

        Down is an outage as a client sees one: the open SSE streams are cut, the listening socket is closed (a new
        connection is refused), and nothing answers. The feed stays subscribed, so it goes on numbering the events
        of its view; brought back (a new uvicorn server on the same host and port), a client resuming with
        ``Last-Event-ID`` gets every event it missed, as long as the feed's history still holds them.
        Idempotent; returns once the server has stopped listening (down) or accepts connections again (up).
        """
        if self.loop is None:
            raise RuntimeError("the host is not running")
        if down == served.down:
            return
        hub = served.app.state.ctx.hub
        if down:
            served.down = True
            hub.close()  # open streams end now; a request racing the shutdown gets no stream either
            served.server.should_exit = True
            if served.task is not None:
                await asyncio.gather(served.task, return_exceptions=True)
            served.sock.close()
            return
        sock = bind_socket(*served.address)  # SO_REUSEADDR: the port's old connections in TIME_WAIT do not block it
        hub.closed = False
        served.sock = sock
        served.server = _Server(served.config or served.server.config)
        served.down = False
        served.task = self._serve(served)
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_S
        while not served.server.started:
            if served.task.done():
                served.task.result()
                raise RuntimeError(f"the demo server at {served.url} stopped while starting")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the demo server at {served.url} did not start in time")
            await asyncio.sleep(0.01)

    def _serve(self, served: ServedView) -> asyncio.Task[None]:
        """Start serving ``served``; a server that stops without being taken down stops the whole host."""
        task = asyncio.create_task(served.server.serve(sockets=[served.sock]), name=f"serve {served.url}")

        def done(finished: asyncio.Task[None]) -> None:
            if served.task is finished and not served.down and self._stop is not None:
                self._stop.set()

        task.add_done_callback(done)
        return task

    def request_stop(self) -> None:
        """Ask :meth:`run` to shut down (on the loop thread; from elsewhere use ``loop.call_soon_threadsafe``)."""
        self._stop_requested = True
        if self._stop is not None:
            self._stop.set()

    async def _tick_forever(self, interval: float) -> None:
        """Tick every ``interval`` s; a tick that takes longer than ``TICK_SLICE_S`` is cut into slices with a turn of
        the loop between them (HTTP handlers and streams interleave), when the simulation supports a budget."""
        budgeted = _takes_budget(self.sim.tick)
        loop = asyncio.get_running_loop()
        frozen_at = loop.time()
        while True:
            if self.gc_pacing and loop.time() - frozen_at >= GC_FREEZE_EVERY_S:
                frozen_at = loop.time()
                _pace_gc()
            try:
                if budgeted:
                    caught_up = False
                    while not caught_up:
                        caught_up = self.sim.tick(budget_s=TICK_SLICE_S)
                        await asyncio.sleep(0)  # a turn of the loop: requests and streams go on
                else:
                    self.sim.tick()
            except Exception:
                log.exception("the simulation failed to tick")
            await asyncio.sleep(interval)

    async def run(self, ready: Callable[[], None] | None = None) -> None:
        """Serve until :meth:`request_stop`; ``ready()`` is called once every server accepts connections."""
        if not self.servers:
            raise RuntimeError("add at least one server before run()")
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        for served in self.servers:
            served.task = self._serve(served)
        tasks = [s.task for s in self.servers if s.task is not None]
        ticker = (
            asyncio.create_task(self._tick_forever(self.tick_interval), name="sim ticker")
            if self.tick_interval
            else None
        )
        stop_wait = asyncio.create_task(self._stop.wait())
        try:
            await self._wait_started(tasks)
            if self.gc_pacing:
                gc.collect()  # once: the world and the seeded states are built; keep them out of later collections
                gc.freeze()
            if ready is not None:
                ready()
            await stop_wait
        finally:
            await self._shutdown(ticker, stop_wait)

    async def _wait_started(self, tasks: list[asyncio.Task[None]]) -> None:
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_S
        while not all(s.server.started for s in self.servers):
            for task in tasks:
                if task.done():
                    task.result()  # raises the server's startup error
                    raise RuntimeError(f"a demo server stopped while starting ({task.get_name()})")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the demo servers did not start in time")
            await asyncio.sleep(0.01)

    async def _shutdown(self, ticker: asyncio.Task[None] | None, stop_wait: asyncio.Task[Any]) -> None:
        tasks = [s.task for s in self.servers if s.task is not None]
        for served in self.servers:
            served.app.state.ctx.hub.close()  # open streams end, so uvicorn's graceful shutdown does not wait
            served.server.should_exit = True
        stop_wait.cancel()
        if ticker is not None:
            ticker.cancel()
        results = await asyncio.gather(*tasks, *(t for t in (ticker, stop_wait) if t), return_exceptions=True)
        for served in self.servers:
            served.feed.close()
            served.sock.close()
        for result in results[: len(tasks)]:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("a demo server failed: %r", result)


def _pace_gc() -> None:
    """Collect the young generations, then freeze what survived (``gc.freeze``).

    Why: a 20,000-machine cluster keeps millions of tracked objects (models of every machine, job and quality record,
    and the event history), and a full (generation 2) collection of them stops the loop for 0.5-0.8 s every ~20 s:
    every read waits. Frozen objects are still freed by reference counting (the models hold no cycles); only cyclic
    garbage that became garbage after being frozen is never collected, a small, bounded price for a demo server.
    With the survivors frozen every second, the generations the collector scans stay small (a young collection of a
    second's survivors takes ~10-100 ms at 9,000 events/s, instead of the full pause).
    """
    gc.collect(1)
    gc.freeze()


def _takes_budget(tick: Callable[..., Any]) -> bool:
    """Whether a simulation's ``tick`` accepts ``budget_s`` (the real one does; test doubles may not)."""
    try:
        return "budget_s" in inspect.signature(tick).parameters
    except (TypeError, ValueError):
        return False


def make_simulation(config: Any = None, clock: Any = None) -> Any:
    """A ``Simulation`` for ``config`` (default scenario when None), on ``clock`` (when None, a wall clock sped up by
    ``config.speed`` that starts at the simulation's own start: starting it at the real time would make the first
    tick catch up on hours of simulated history).

    On that wall clock the simulation is the live demo (``--demo``, ``demo-server``): unless the config says otherwise
    (``opening_scene`` True or False), it opens mid-shift, with the shift's first hour and the opening scene already
    played (``console.demo.sim.opening``). On a caller's clock (tests, screenshots) it does so only when asked."""
    from dataclasses import replace

    from console.demo.sim.clock import DEFAULT_START, WallClock
    from console.demo.sim.engine import SimConfig, Simulation

    config = config if config is not None else SimConfig()
    if clock is None:
        if config.opening_scene is None:
            config = replace(config, opening_scene=True)
        clock = WallClock(start=config.start or DEFAULT_START, speed=config.speed)
    return Simulation(config, clock)
