"""``factory-console demo-server``: the simulator as a standalone server, in a process of its own.

Split out of ``console.demo.runner`` so that module holds the running (a :class:`~console.demo.runner.DemoHost` with
its ticker and servers, and the simulation it runs) and this one the command that sets one up from its arguments:
the cluster API, one node's agent or the cluster API with an agent per node, on the given ports; SIGINT and SIGTERM
handled once for all the servers; the URLs printed when they are up; the garbage collector paced (the process is the
server's own). The embedded server of ``--demo`` is ``console.demo.embedded``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from console.demo.feed import DEFAULT_HISTORY, DEFAULT_HISTORY_S
from console.demo.runner import DEFAULT_TICK_INTERVAL, DemoHost, make_simulation

__all__ = ["run_demo_server", "serve_demo"]


async def serve_demo(
    host: str = "127.0.0.1",
    port: int = 8700,
    config: Any = None,
    tokens: Iterable[str | tuple[str, str, str]] = (),
    node_id: str | None = None,
    *,
    with_agents: bool = False,
    clock: Any = None,
    tick_interval: float | None = DEFAULT_TICK_INTERVAL,
    keepalive_s: float = 15.0,
    history: int = DEFAULT_HISTORY,
    log_level: str = "info",
    ready: Callable[[DemoHost], None] | None = None,
    gc_pacing: bool = False,
    history_s: float = DEFAULT_HISTORY_S,
) -> None:
    """Serve the simulated cluster until SIGINT/SIGTERM (or the task is cancelled).

    ``node_id`` serves only that node's agent on ``port``. ``with_agents`` serves the cluster API on ``port`` and one
    node agent per node on the next ports (``port+1``...; with ``port=0`` free ports). ``tokens`` are
    ``NAME:ROLE:SECRET`` strings or parsed triples (``console.demo.auth.parse_token``); none means no auth.
    ``ready(host)`` is called once every server accepts connections (by default the URLs are printed). ``gc_pacing``:
    freeze the garbage collector's survivors every second (only in a process of its own: see ``_pace_gc`` in
    ``console.demo.runner``). ``history`` events are kept for resume, and every event younger than ``history_s``
    seconds (``console.demo.feed``).
    """
    sim = make_simulation(config, clock)
    demo = DemoHost(
        sim,
        tokens=tokens,
        keepalive_s=keepalive_s,
        history=history,
        history_s=history_s,
        tick_interval=tick_interval,
        log_level=log_level,
        gc_pacing=gc_pacing,
    )
    if node_id is not None:
        demo.add_server(host, port, node_id=node_id)
    else:
        demo.add_server(host, port)
        if with_agents:
            for index, node in enumerate(sim.nodes(), start=1):
                demo.add_server(host, port + index if port else 0, node_id=node.id)

    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, demo.request_stop)
                handled.append(sig)
    try:
        await demo.run(ready=lambda: (ready or _print_urls)(demo))
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def _print_urls(demo: DemoHost) -> None:
    for served in demo.servers:
        what = f"node agent of {served.node_id}" if served.node_id else "cluster API"
        print(f"factory-console demo-server: {what} at {served.url}", file=sys.stderr, flush=True)
    auth = "no auth" if demo.tokens.open else "bearer tokens required"
    print(f"factory-console demo-server: {auth}; Ctrl+C to stop", file=sys.stderr, flush=True)


def run_demo_server(
    host: str = "127.0.0.1",
    port: int = 8700,
    config: Any = None,
    tokens: Iterable[str | tuple[str, str, str]] = (),
    node_id: str | None = None,
    **options: Any,
) -> None:
    """Blocking :func:`serve_demo` for the CLI (its own process: the garbage collector is paced); returns when
    stopped by SIGINT/SIGTERM."""
    options.setdefault("gc_pacing", True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_demo(host, port, config, tokens, node_id, **options))
