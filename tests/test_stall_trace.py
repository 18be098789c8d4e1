"""The stall tracer: a loop blocked by a slow callback gives one record naming that callback; off by default."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from pathlib import Path

from console.stall_trace import ENV_VAR, start_stall_trace, start_stall_trace_from_env


def _hold_the_loop() -> None:
    time.sleep(0.3)


def _hold_with_a_collection() -> None:
    gc.collect()
    time.sleep(0.2)


async def test_a_blocked_loop_gives_one_record_with_the_blocking_function(tmp_path: Path) -> None:
    path = tmp_path / "stalls.jsonl"
    tracer = start_stall_trace(asyncio.get_running_loop(), path, threshold_s=0.1)
    try:
        await asyncio.sleep(0.1)  # a few quiet beats: no record
        asyncio.get_running_loop().call_soon(_hold_the_loop)
        await asyncio.sleep(0.3)
        asyncio.get_running_loop().call_soon(_hold_with_a_collection)
        await asyncio.sleep(0.1)
    finally:
        tracer.stop()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == 2
    first, second = records
    assert 0.25 <= first["duration_s"] < 1.0
    assert first["samples"] > 0
    assert first["loop_cpu_s"] < 0.15  # the loop slept: off the CPU for most of the stall
    top = first["stacks"][0]["stack"]
    assert top[-1].endswith("sleep") or "_hold_the_loop" in top[-1]
    assert any("_hold_the_loop" in frame for frame in top)
    assert "_hold_the_loop" in first["owners"][0]["function"]
    assert not [g for g in first["gc"] if g["generation"] == 2]
    assert any(g["generation"] == 2 and g["on_loop_thread"] for g in second["gc"])


def test_nothing_starts_without_the_environment_variable() -> None:
    loop = asyncio.new_event_loop()
    try:
        callbacks = list(gc.callbacks)
        assert start_stall_trace_from_env(loop, environ={"OTHER": "x"}) is None
        assert start_stall_trace_from_env(loop, environ={ENV_VAR: ""}) is None
        assert gc.callbacks == callbacks
        assert not [t for t in threading.enumerate() if t.name == "stall-trace"]
    finally:
        loop.close()
