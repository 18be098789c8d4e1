"""Benchmark 4, idle: the console connected to a quiet cluster; CPU and bytes written when nothing changes.

A demo-server of the default 120-machine scenario made quiet (``--speed 0.0001 --telemetry-hz 0``: the simulated
clock barely moves, so no events but the server's keep-alive comments) and the console (``--api``) in a 160x48
pseudo-terminal. After the first frame with machines and a settling time, over a window: the console's CPU share
(``/proc/<pid>/stat``), the bytes it wrote to the terminal and the frames (``CSI ? 2026 l``) it drew. The time of
every frame in the window is kept, so a repaint timer shows up as a regular series (the header clock may change once
a minute).
"""

from __future__ import annotations

import re
import time
from typing import Any

from benchmarks.harness import Target, method_of, print_table, print_targets, write_result
from benchmarks.servers import MACHINE_NAME, DemoServerProcess, console_argv
from benchmarks.session import header_state, measure_window
from benchmarks.terminal import PtyProcess

NAME = "idle"
QUIET = ["--speed", "0.0001", "--telemetry-hz", "0"]


def measure(window: float, settle: float = 5.0) -> dict[str, Any]:
    result: dict[str, Any] = {"method": method_of(__doc__)}
    with DemoServerProcess(QUIET) as server, PtyProcess(console_argv("--api", server.url)) as console:
        shown = console.wait_for(re.compile(MACHINE_NAME), 0, 60)
        result["first_machines_s"] = None if shown is None else round(shown[0] - console.started, 2)
        time.sleep(settle)
        offset = console.total_bytes
        start = time.perf_counter()
        win = measure_window(console, window, server)
        result["window"] = win.as_dict()
        result["frame_times_s"] = [round(at - start, 3) for at, _ in console.frames_after(offset)][:50]
        result["header"] = header_state(console)
    result["targets"] = [
        Target("idle CPU", 1.0, win.cpu_pct, "% of a core"),
        Target(
            "frames drawn per minute while idle",
            2,
            win.frames * 60 / win.seconds,
            "frames",
            note="the brief allows the header clock's once-a-minute change (1-2 frames); bytes are reported beside",
        ),
    ]
    return result


def report(result: dict[str, Any]) -> None:
    win = result["window"]
    rows = [
        ["window (s)", win["seconds"]],
        ["server events/s", win["server_events_per_s"]],
        ["console CPU % of one core", win["console_cpu_pct_of_one_core"]],
        ["bytes written", win["bytes_total"]],
        ["frames drawn", win["frames"]],
        ["frame times (s into window)", " ".join(str(t) for t in result["frame_times_s"][:12])],
    ]
    print_table("idle: quiet cluster (pty 160x48)", ["measure", "value"], rows)
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    result = measure(window=6 if quick else 60, settle=2 if quick else 5)
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
