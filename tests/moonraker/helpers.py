"""What the Moonraker tests share: waiting on the test's loop, a running source and its command service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from console.command_service import CommandService
from console.sources.moonraker import MoonrakerSource
from console.store import Store

NAME = "k1"
MID = "MR-k1"
SOURCE_ID = "moonraker:k1"


async def until(predicate: Callable[[], Any], what: str, within: float = 10.0) -> Any:
    """Wait until ``predicate()`` is true and return its value; fail after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what} (last: {value!r})")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(url: str, api_key: str | None = None, **options: Any) -> AsyncIterator[tuple[MoonrakerSource, Store]]:
    """A source following ``url`` until the block ends (it must go live first)."""
    store = Store()
    options.setdefault("backoff_base", 0.2)
    options.setdefault("backoff_max", 1.0)
    source = MoonrakerSource(SOURCE_ID, NAME, url, api_key, store, **options)
    task = asyncio.create_task(source.run())
    try:
        await until(lambda: store.source_state(SOURCE_ID) == "live" or task.done(), "the source to go live")
        yield source, store
    finally:
        source.stop()
        await asyncio.wait_for(task, 3)  # stopping is prompt


def service_for(source: MoonrakerSource) -> CommandService:
    """The console's command service, routed to this source as the app routes printer machines."""
    return CommandService(lambda command: (SOURCE_ID, source.carrier), role=lambda: "operator")
