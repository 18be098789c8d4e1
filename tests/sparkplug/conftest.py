"""Fixtures of the Sparkplug B tests: a real Mosquitto per test (its own config, a free loopback port), the
console's store and a Sparkplug source following that broker, and edge nodes written in the tests (``edge.py``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.sources.sparkplug import SparkplugSource
from console.store import Store
from tests.sparkplug.broker import Broker, mosquitto_path, start_broker
from tests.sparkplug.edge import EdgeNodeSim


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (make sysdeps installs it)")
    started = start_broker(tmp_path)
    try:
        yield started
    finally:
        started.stop()


async def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def follow(broker: Broker) -> AsyncIterator[Callable[..., Any]]:
    """``source, store = await follow(**options)``: a running Sparkplug source on the test's broker, live."""
    running: list[tuple[SparkplugSource, asyncio.Task[None]]] = []

    async def start(**options: Any) -> tuple[SparkplugSource, Store]:
        store = options.pop("store", None) or Store()
        options.setdefault("host_id", "console-test")
        source = SparkplugSource("sparkplug", broker.url, store, **options)
        task = asyncio.ensure_future(source.run())
        running.append((source, task))
        await wait_for(lambda: source.sessions > 0, "the source to go live")
        return source, store

    yield start
    for source, task in running:
        source.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


@pytest.fixture
async def edges(broker: Broker) -> AsyncIterator[Callable[..., Any]]:
    """``edge = await edges(group, edge_id)``: a connected edge node simulator (closed at teardown)."""
    made: list[EdgeNodeSim] = []

    async def make(group: str, edge: str, **options: Any) -> EdgeNodeSim:
        sim = EdgeNodeSim(broker.port, group, edge, **options)
        await sim.connect()
        made.append(sim)
        return sim

    yield make
    for sim in made:
        with contextlib.suppress(Exception):
            await sim.close()
