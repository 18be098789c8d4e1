"""The simulator on loopback, inside this process, in a thread with its own event loop.

``factory-console --demo`` and the tests use it. The console's Textual loop must not host the server (a slow
render would stall the simulation and the stream, and the console must talk to it over real HTTP like to any
cluster), so :func:`start_demo` runs a :class:`~console.demo.runner.DemoHost` in a background thread and returns a
:class:`DemoServer` handle once every server accepts connections.

The simulation is not thread-safe: touch it only through :meth:`DemoServer.call`, which runs a function on the
server's loop thread (between ticks and requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from console.demo.feed import DEFAULT_HISTORY, EventFeed
from console.demo.runner import DEFAULT_TICK_INTERVAL, DemoHost, make_simulation
from console.demo.sim.clock import SteppedClock

__all__ = ["DemoServer", "start_demo"]

T = TypeVar("T")

_AUTO: Any = object()
START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0


class DemoServer:
    """A running embedded demo: its URLs, simulation and feeds, and ways to act on it from another thread."""

    def __init__(
        self, host: DemoHost, thread: threading.Thread, loop: asyncio.AbstractEventLoop, clock: Any = None
    ) -> None:
        self.host = host
        self._clock = clock
        self._thread = thread
        self._loop = loop
        self._stopped = False
        self.url: str = host.server_for(None).url
        self.agent_urls: dict[str, str] = {s.node_id: s.url for s in host.servers if s.node_id is not None}

    @property
    def sim(self) -> Any:
        return self.host.sim

    @property
    def clock(self) -> Any:
        """The simulation's clock (a ``SteppedClock`` in tests)."""
        return self._clock if self._clock is not None else getattr(self.host.sim, "clock", None)

    @property
    def feed(self) -> EventFeed:
        """The cluster API's feed."""
        return self.host.server_for(None).feed

    def agent_feed(self, node_id: str) -> EventFeed:
        return self.host.server_for(node_id).feed

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the server's loop thread and return its result (or raise its error).

        ``fn`` may be a coroutine function. Use it for anything that touches the simulation or the feeds: stepping a
        ``SteppedClock`` and ticking, issuing sim commands, reading state consistently.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("DemoServer.call from the server's own thread would deadlock; call fn directly")

        async def run() -> T:
            result = fn(*args)
            if inspect.isawaitable(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(CALL_TIMEOUT_S)

    def advance(self, seconds: float) -> None:
        """Step the simulation's (stepped) clock by ``seconds`` and tick it, on the loop thread."""

        def step() -> None:
            self.clock.advance(seconds)
            self.sim.tick()

        self.call(step)

    def drop_streams(self) -> int:
        """Cut every open SSE stream of every server, server-side. Returns how many were open."""
        return self.call(self.host.drop_streams)

    def set_cluster_down(self, down: bool) -> None:
        """Take the cluster API down (``True``) or bring it back (``False``) while the node agents keep serving.

        Thread-safe (any thread but the server's own); returns once done. Down looks like a real outage to a client:
        its open event streams are cut and new connections to :attr:`url` are refused (the listening socket is
        closed; no 503). The simulation keeps running and the cluster feed keeps numbering its events, so when the
        API comes back on the same URL a client resuming with ``Last-Event-ID`` gets everything it missed (within
        the feed's history), as if the WAN had come back.
        """
        served = self.host.server_for(None)
        _ = self.call(self.host.set_down, served, bool(down))  # a coroutine function: call awaits it

    @property
    def cluster_down(self) -> bool:
        """Whether the cluster API is down now (:meth:`set_cluster_down`)."""
        return self.host.server_for(None).down

    def stop(self) -> None:
        """Stop the servers and the loop thread (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self.host.request_stop)
            self._thread.join(15)

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_demo(
    config: Any = None,
    *,
    clock: Any = None,
    tokens: Iterable[str | tuple[str, str, str]] = (),
    keepalive_s: float = 15.0,
    history: int = DEFAULT_HISTORY,
    with_agents: bool = False,
    tick_interval: float | None = _AUTO,
    sim: Any = None,
) -> DemoServer:
    """Start the simulated cluster on 127.0.0.1 (free ports) in a background thread; return once it accepts.

    ``config`` is a ``SimConfig`` (default scenario when None); ``clock`` a ``SteppedClock`` for tests (a sped-up
    ``WallClock`` when None). ``tick_interval``: seconds between ticks; by default 0.1, but ``None`` (no ticking)
    when ``clock`` is a ``SteppedClock``, so a test decides when time passes (:meth:`DemoServer.advance`).
    ``with_agents`` also serves one node agent per node (``DemoServer.agent_urls``). ``sim`` serves a ready-made
    simulation instead of building one from ``config`` and ``clock``.
    """
    if sim is None:
        sim = make_simulation(config, clock)
    if tick_interval is _AUTO:
        tick_interval = None if isinstance(clock, SteppedClock) else DEFAULT_TICK_INTERVAL
    host = DemoHost(sim, tokens=tokens, keepalive_s=keepalive_s, history=history, tick_interval=tick_interval)
    try:
        host.add_server("127.0.0.1", 0)
        if with_agents:
            for node in sim.nodes():
                host.add_server("127.0.0.1", 0, node_id=node.id)
    except BaseException:
        for served in host.servers:
            served.feed.close()
            served.sock.close()
        raise

    ready = threading.Event()
    loop_box: list[asyncio.AbstractEventLoop] = []
    errors: list[BaseException] = []

    def main() -> None:
        loop = asyncio.new_event_loop()
        loop_box.append(loop)
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(host.run(ready=ready.set))
        except BaseException as error:
            errors.append(error)
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                ready.set()

    thread = threading.Thread(target=main, name="factory-console-demo-server", daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT_S):
        raise TimeoutError("the embedded demo server did not start in time")
    if errors or not thread.is_alive():
        raise RuntimeError("the embedded demo server failed to start") from (errors[0] if errors else None)
    return DemoServer(host, thread, loop_box[0], clock)
