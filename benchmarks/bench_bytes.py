"""Benchmark 7, bytes to the terminal: what an SSH link carries while every visible tile changes once a second.

A demo-server of the default 120-machine scenario with ``--telemetry-hz 1`` (every machine sends telemetry once a
second, so every visible tile's telemetry line changes at 1 Hz) and the console (``--api``) in a 160x48
pseudo-terminal. After a warm-up, over a window: bytes written per second and frames per second, with the console's
CPU for context. "Nothing written when nothing changed" is measured by the ``idle`` benchmark.

The target's scenario is the one measured with ``--speed 1``: simulated time runs at real time, so besides the 1 Hz
telemetry the shop changes as fast as a real one (jobs, states, alerts). Beside it, the same at the demo's default
``--speed 20`` (a shop twenty times busier than real: every job, state change and alert twenty times as often), to
show what the extra churn costs.
"""

from __future__ import annotations

import re
import time
from typing import Any

from benchmarks.harness import Target, method_of, print_table, print_targets, write_result
from benchmarks.servers import MACHINE_NAME, DemoServerProcess, console_argv
from benchmarks.session import measure_window
from benchmarks.terminal import PtyProcess

NAME = "bytes"


def measure(window: float, warmup: float = 3.0, telemetry_hz: float = 1.0, speed: float = 1.0) -> dict[str, Any]:
    result: dict[str, Any] = {
        "method": method_of(__doc__),
        "telemetry_hz": telemetry_hz,
        "speed": speed,
        "terminal_size": [160, 48],
    }
    with (
        DemoServerProcess(["--telemetry-hz", str(telemetry_hz), "--speed", str(speed)]) as server,
        PtyProcess(console_argv("--api", server.url)) as console,
    ):
        shown = console.wait_for(re.compile(MACHINE_NAME), 0, 60)
        result["first_machines_s"] = None if shown is None else round(shown[0] - console.started, 2)
        time.sleep(warmup)
        win = measure_window(console, window, server)
    result["window"] = win.as_dict()
    result["frames_per_s"] = round(win.frames / win.seconds, 2)
    result["bytes_per_frame"] = round(win.bytes_total / win.frames) if win.frames else None
    result["targets"] = [Target("bytes/s with 1 Hz updates on every visible tile", 30_000, win.bytes_per_s, "B/s")]
    return result


def report(result: dict[str, Any]) -> None:
    win = result["window"]
    rows = [
        ["window (s)", win["seconds"]],
        ["server events/s", win["server_events_per_s"]],
        ["bytes/s", win["bytes_per_s"]],
        ["frames/s", result["frames_per_s"]],
        ["bytes/frame", result["bytes_per_frame"]],
        ["console CPU % of one core", win["console_cpu_pct_of_one_core"]],
    ]
    busy = result.get("at_speed_20")
    if busy:
        rows += [
            ["--speed 20: bytes/s", busy["bytes_per_s"]],
            ["--speed 20: frames/s", busy["frames_per_s"]],
            ["--speed 20: console CPU %", busy["console_cpu_pct_of_one_core"]],
        ]
    print_table("bytes to the terminal (pty 160x48, 1 Hz telemetry on every machine)", ["measure", "value"], rows)
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    result = measure(window=5 if quick else 30, warmup=2 if quick else 3)
    busy = measure(window=5 if quick else 15, warmup=2 if quick else 3, speed=20.0)
    result["at_speed_20"] = {
        "bytes_per_s": busy["window"]["bytes_per_s"],
        "frames_per_s": busy["frames_per_s"],
        "bytes_per_frame": busy["bytes_per_frame"],
        "console_cpu_pct_of_one_core": busy["window"]["console_cpu_pct_of_one_core"],
    }
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
