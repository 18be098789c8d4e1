"""Fixtures shared by the whole test suite. Keep this file small: put fixtures of one area in its own conftest.

* ``live_server``: a factory that starts the simulated cluster over real loopback HTTP (``tests.demo_server``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def live_server() -> Iterator[Callable[..., Any]]:
    """Start embedded demo servers; every one started is stopped at teardown.

    ``server = live_server()`` gives a started ``console.demo.embedded.DemoServer`` on a ``SteppedClock`` with a fixed
    seed and no ticker (``server.advance(seconds)`` steps time and ticks; ``server.call(fn)`` runs ``fn`` on the
    server's loop thread). Options (see ``tests.demo_server.start_test_server``): ``tokens=["alice:operator:s"]``,
    ``history=50``, ``keepalive_s=0.2``, ``with_agents=True`` (``server.agent_urls``), ``seed=...``, ``config=...``,
    ``warmup_s=...``.
    """
    from tests.demo_server import start_test_server

    started: list[Any] = []

    def start(**options: Any) -> Any:
        server = start_test_server(**options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
