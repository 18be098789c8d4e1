"""The recording benchmark's code runs at toy size and returns well-formed results (no timing assertions: figures
depend on the machine; this only keeps the benchmark from rotting)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import bench_recording, run


@pytest.fixture(autouse=True)
def long_lived_objects_frozen() -> Iterator[None]:
    gc.freeze()
    yield
    gc.unfreeze()


def test_registered() -> None:
    assert run.BENCHMARKS["recording"] == "benchmarks.bench_recording"


def test_cpu_and_bytes_toy() -> None:
    toy = {"nodes": 2, "machines_per_node": 5, "telemetry_hz": 4.0, "speed": 1.0}
    cpu = bench_recording.measure_cpu(1, 1, **toy)
    assert cpu["events"] > 0 and cpu["cpu_pct_with"] >= 0 and cpu["checkpoint_bytes"] > 0
    size = bench_recording.measure_bytes(30, **toy)
    assert size["events"] > 0 and size["file_bytes"] > 0 and size["checkpoints"] >= 1


def test_seek_and_replay_toy(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    recorded = bench_recording.record_demo(path, 0.02)
    assert recorded["events"] > 0
    seek = bench_recording.measure_seek(path, 3)
    assert seek["seeks"] == 3 and seek["ms_max"] >= seek["ms_median"] > 0
    replay = bench_recording.measure_replay(path, 0.3)
    assert replay["speed"] == 60 and replay["recorded_s_replayed"] > 0
