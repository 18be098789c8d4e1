"""With ``--demo`` the heap is frozen once, a moment after the first machines are shown
(``console.heap_policy.HeapPolicy``): the simulator's state lives in the console's process and every full collection
walked it, inside a key's work."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.app.conftest import settle, wait_for, wait_ready

SIZE = (160, 48)


@pytest.mark.parametrize("demo", [True, False])
async def test_the_demo_freezes_the_heap_once_after_the_first_machines(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, demo: bool
) -> None:
    freezes: list[int] = []
    app = make_app()
    app.heap.freeze = lambda: freezes.append(1)
    app.heap.DEMO_FREEZE_AFTER_S = 0.05
    if demo:
        app.demo = SimpleNamespace()  # what --demo hands the app (its DemoHost); only its presence matters here
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        if demo:
            await wait_for(pilot, lambda: bool(freezes), what="the freeze")
        for _ in range(3):  # more flushes: still once
            seq = app.store.sources["cluster"].seq or 0
            app.test_server.advance(60)
            await wait_for(pilot, lambda s=seq: (app.store.sources["cluster"].seq or 0) > s, what="events")  # type: ignore[misc]
            await settle(pilot)
        await pilot.pause(0.2)
        assert freezes == ([1] if demo else [])
