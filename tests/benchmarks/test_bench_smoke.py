"""Smoke tests of the benchmarks: every benchmark's code runs at toy size and returns well-formed results.

No timing assertions (figures depend on the machine); these only keep the benchmarks from rotting. The pty-based
ones share one small demo-server and one console, exercising the same measuring functions the benchmarks use.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import bench_grid, bench_idle, bench_ingest, bench_memory, live_cursor, run
from benchmarks.bench_start import FIRST_FRAME, time_to_machines
from benchmarks.harness import Target, environment, write_result
from benchmarks.servers import DemoServerProcess, console_argv
from benchmarks.session import key_latency, measure_window, stream_lag
from benchmarks.terminal import PtyProcess, Screen


@pytest.fixture(autouse=True)
def long_lived_objects_frozen() -> Iterator[None]:
    """The benchmarks ``gc.collect()`` before each measured run; in a test worker that has run hundreds of tests,
    each collection walks their whole heap (2 s a run). Frozen, what the worker held before the test is left out of
    every collection: the benchmark's own objects are collected as in a fresh process."""
    gc.freeze()
    yield
    gc.unfreeze()


def test_target_verdicts() -> None:
    assert Target("a", 10, 5).met is True
    assert Target("a", 10, 15).met is False
    assert Target("a", 10, 15, higher_is_better=True).met is True
    assert Target("a", 10, None).met is None


def test_result_file_has_environment(tmp_path: Path) -> None:
    path = write_result("toy", {"targets": [Target("a", 1, 0.5)], "x": 1}, quick=True, directory=tmp_path)
    text = path.read_text()
    assert '"cpu_model"' in text and '"python"' in text and '"textual"' in text and '"met": true' in text
    assert environment()["logical_cores"]


def test_screen_emulator_tracks_text_and_background() -> None:
    screen = Screen(20, 3)
    screen.feed(b"\x1b[2;3H\x1b[48;2;1;2;3mab\x1b[0mc")
    assert screen.text()[1][2:5] == "abc"
    assert screen.bg[1][2] == "#010203" and screen.bg[1][4] == ""


def test_ingest_toy() -> None:
    result = bench_ingest.measure(300, 100, repeats=1, nodes=2, machines_per_node=10)
    for type_ in ("machine.telemetry", "machine.updated"):
        assert result["results"][type_]["full_path"]["events_per_s_median"] > 0
    assert len(result["targets"]) == 4


def test_grid_toy() -> None:
    plan = {"machine_grid": (200,), "naive": (30,), "data_table": (30,)}
    result = bench_grid.measure(plan, iterations=1, patterns=("two_visible",))
    assert {r["widget"] for r in result["results"]} == {"machine_grid", "naive", "data_table"}
    assert all(r["iterations_with_frame"] == 1 for r in result["results"])


def test_memory_toy() -> None:
    result = bench_memory.measure(100, 300, history_len=2, with_app=False)
    assert set(result["rss_mb"]) == {"imports", "store", "store_with_history"}


def test_run_rejects_unknown_names() -> None:
    with pytest.raises(SystemExit):
        run.main(["no-such-benchmark"])


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServerProcess]:
    with DemoServerProcess(["--telemetry-hz", "1"]) as demo:
        yield demo


def test_console_measurements_toy(server: DemoServerProcess) -> None:
    with PtyProcess(console_argv("--api", server.url)) as console:
        assert console.wait_for(FIRST_FRAME, 0, 30) is not None
        window = measure_window(console, 0.5, server)
        assert window.bytes_total >= 0 and window.server_events_per_s is not None
        keys = key_latency(console, 2)
        assert "error" not in keys and keys["presses"] == 2
        lag = stream_lag(console, server, 1)
        assert "error" not in lag
        keys = live_cursor.cursor_key_latency(console, 2)  # the live benchmark's own: the cursor by its colour
        assert "error" not in keys and keys["presses"] == 2, keys
        lag = live_cursor.cursor_stream_lag(console, server, 2, colour=keys["cursor_colour"])
        assert "error" not in lag and not lag["refused"], lag


def test_start_toy(server: DemoServerProcess) -> None:
    assert time_to_machines(["--api", server.url], timeout=30) is not None


def test_idle_toy() -> None:
    result = bench_idle.measure(window=0.5, settle=0.2)
    assert result["first_machines_s"] is not None
    assert re.match(r"\S", result["header"])
