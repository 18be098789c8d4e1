"""Fixtures shared by the whole test suite. Keep this file small: put fixtures of one area in its own conftest.

* ``live_server``: a factory that starts the simulated cluster over real loopback HTTP (``tests.demo_server``).
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import textual._wait
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

# The cyclic collector at its default (a pass every 700 net allocations) took a sixth of the app tests' CPU: each test
# boots an app, builds thousands of Textual objects and drops them. A larger first generation collects the same
# garbage in fewer, bigger passes (measured on test_app_keys + test_app_alert_pile: 32 s -> 26 s of CPU). Nothing
# here relies on when a collection happens; the console's own policy (``gc.freeze`` after big snapshots) is unchanged.
gc.set_threshold(50_000, 20, 20)

# The console records into a ring in the user's data dir by default (console.recording): every console a test starts,
# in this process or as a child, records into a folder of this run instead, never into the home of whoever runs it.
# The process that makes the folder removes it when it ends (a child or an xdist worker handed one by its parent
# leaves it to that parent).
if "FACTORY_CONSOLE_RECORDINGS_DIR" not in os.environ:
    os.environ["FACTORY_CONSOLE_RECORDINGS_DIR"] = _recordings = tempfile.mkdtemp(prefix="fc-test-recordings-")
    atexit.register(shutil.rmtree, _recordings, ignore_errors=True)

# Pilot's ``press`` waits, after each key, until the process looks idle: a 20 ms sleep, repeated until one passes with
# under 1 ms of CPU. The test's server runs in this process, so that costs 40 ms or more a key, which alone was half of
# an app test's time. The same rule over 5 ms windows (idle: under 0.5 ms of CPU) waits for the same thing, the app
# having handled the key, in a quarter of the time. Tests never rely on it for a network round trip: they wait for
# their condition (``wait_for``, ``settle``).
textual._wait.SLEEP_GRANULARITY = 0.005
textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 10

# Every app a test boots parses the same CSS again (each widget's DEFAULT_CSS and the app's own), into a cache that
# lives and dies with that app's stylesheet: ~45 ms of CPU a boot, a tenth of it, paid some 300 times a run. The
# parse is a pure function of the text, where it was read from, its flags and the theme's variables, so one cache
# for the process, keyed by all of them, gives every later app the same rules. Tests only; the console boots once.
_shared_css_rules: dict[tuple[object, ...], list[RuleSet]] = {}
_parse_css_rules = Stylesheet._parse_rules


def _parse_css_rules_once(
    self: Stylesheet,
    css: str,
    read_from: tuple[str, str],
    is_default_rules: bool = False,
    tie_breaker: int = 0,
    scope: str = "",
) -> list[RuleSet]:
    key = (css, read_from, is_default_rules, tie_breaker, scope, tuple(sorted(self._variables.items())))
    rules = _shared_css_rules.get(key)
    if rules is None:
        rules = _shared_css_rules[key] = _parse_css_rules(self, css, read_from, is_default_rules, tie_breaker, scope)
    return rules


Stylesheet._parse_rules = _parse_css_rules_once  # type: ignore[method-assign]


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


SLOWEST_FIRST = (
    "tests/app/test_terminal_drop.py",
    "tests/app/test_app_keys.py",
    "tests/app/test_app_snapshots_oncall.py",
    "tests/benchmarks/test_bench_smoke.py",
    "tests/octoprint/test_octoprint_live.py",
    "tests/faults/test_faults_connection.py",
    "tests/app/test_app_snapshots.py",
    "tests/faults/test_faults_text.py",
    "tests/demo/test_sim_scenario.py",
    "tests/app/test_app_more.py",
    "tests/app/test_app_alert_pile.py",
    "tests/faults/test_faults_property_store.py",
    "tests/app/test_terminal_matrix.py",
    "tests/faults/test_faults_property_app.py",
)
"""The files that take longest (``--durations``), started first: ``make test`` hands whole files to its workers in
collection order, and a long file drawn last would leave the other workers idle while it runs alone. Only the order
changes; a file missing from the list runs after these, in its usual place."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files keep their order
