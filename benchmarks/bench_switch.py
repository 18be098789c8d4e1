"""Benchmark: screen switches, the machine detail and the palette, from the key to the new screen fully drawn.

Why from outside: the issue's figures are what an operator feels over a terminal. The console runs in a 160x48
pseudo-terminal (the real Textual driver, :mod:`benchmarks.terminal`); a key's bytes are written to the pty and its
output is read back into a small terminal emulator. For each press the benchmark times:

* **first frame**: the key's write to the end (``CSI ? 2026 l``) of the first frame after it (what the issue called
  "first redraw");
* **fully drawn**: the key's write to the end of the first frame after which the emulated screen shows *every* mark
  of the new screen at once: its footer keys (bindings refreshed), its column headings and at least one row of data
  (the list filled from the store, not an empty frame waiting for a rebuild). Those marks are the ``SCREENS`` below;
  a screen with a heading but no rows is not drawn yet.

The presses: ``2 3 4 5 1`` in a loop (each switch from the screen before), then ``enter`` on the dashboard (the
machine detail) and ``escape`` back, then ``ctrl+p`` (the palette) and ``escape``; 150-350 ms apart (random, seeded:
not in step with the console's 100 ms refresh). A press whose marks do not show within the timeout counts as the
timeout (a lower bound). Scenarios: the embedded demo (``--demo``: 120 machines at speed 20, its own mix) and
20,000 machines under the live benchmark's load (``demo-server --nodes 200 --machines-per-node 100 --telemetry-hz
0.25``, ~5,000 events/s) in a separate process.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.harness import Target, method_of, percentile, print_table, print_targets, write_result
from benchmarks.servers import MACHINE_NAME, MACHINE_TILE, DemoServerProcess, console_argv
from benchmarks.session import screen_of
from benchmarks.terminal import PtyProcess, Screen

NAME = "switch"

KEY_BYTES = {
    "1": b"1",
    "2": b"2",
    "3": b"3",
    "4": b"4",
    "5": b"5",
    "enter": b"\r",
    "escape": b"\x1b",
    "ctrl+p": b"\x10",
}

SCREENS: dict[str, tuple[str, ...]] = {
    # what must all be on screen at once: footer keys, headings, one row of data
    "dashboard": (MACHINE_TILE, r"t Tiles/table", r"Queue", r"OEE 8h"),
    "jobs": (r"x Cancel  r Reroute", r"Job +Status +Machine", r"J-\d+ +\S+ \w+ +\S+"),
    "alerts": (r"a Ack  s Shelve", r"Priority\S* +State +Source", r"(critical|high|medium|low) +(acked|UNACK|CLR)"),
    "quality": (r"v Characteristic", r"Scope +OEE", r"node \S+"),
    "nodes": (r"n Drain/Resume node", r"Node\S* +City", r"(cluster|agent) · \d"),
    "detail": (r"esc Back", r"Recent events", r"Queue \(\d+\)", r"State: "),
    "palette": (r"Search for commands…[^\n]*\n[^\n]*\n[^\n]*\n +\S",),  # the search box and a first hit
}
SWITCHES = (("2", "jobs"), ("3", "alerts"), ("4", "quality"), ("5", "nodes"), ("1", "dashboard"))
"""Each number key, pressed from the screen before it in this loop."""
_COMPILED = {name: [re.compile(p) for p in marks] for name, marks in SCREENS.items()}


def shows(screen: Screen, name: str) -> bool:
    text = "\n".join(screen.text())
    return all(p.search(text) for p in _COMPILED[name])


def press_until(console: PtyProcess, screen: Screen, fed: int, key: str, want: str, timeout: float) -> tuple:
    """Press ``key``; (first frame ms, fully drawn ms or None, bytes fed so far)."""
    fed = console.total_bytes if fed < 0 else fed
    screen.feed(console.bytes_since(fed))
    fed = console.total_bytes
    pressed = console.send(KEY_BYTES[key])
    deadline = pressed + timeout
    first = drawn = None
    while time.perf_counter() < deadline:
        frame = console.wait_frame(fed, deadline - time.perf_counter())
        if frame is None:
            break
        at, end = frame
        screen.feed(console.bytes_since(fed)[: end - fed])
        fed = end
        if first is None:
            first = (at - pressed) * 1e3
        if shows(screen, want):
            drawn = (at - pressed) * 1e3
            break
    return first, drawn, fed


def _stats(values: Sequence[float], timeouts: int) -> dict[str, Any]:
    return {
        "n": len(values),
        "timeouts": timeouts,
        "p50_ms": round(percentile(values, 0.5), 1) if values else None,
        "p95_ms": round(percentile(values, 0.95), 1) if values else None,
        "max_ms": round(max(values), 1) if values else None,
    }


def drive(console: PtyProcess, rounds: int, timeout: float, seed: int = 5) -> dict[str, Any]:
    """Press the switches ``rounds`` times, then detail and palette ``rounds`` times each; latencies by kind."""
    rng = random.Random(seed)
    screen = screen_of(console)
    fed = console.total_bytes
    drawn: dict[str, list[float]] = {"switch": [], "detail": [], "palette": [], "back": []}
    first: dict[str, list[float]] = {k: [] for k in drawn}
    timeouts = dict.fromkeys(drawn, 0)
    per_screen: dict[str, list[float]] = {}

    def one(kind: str, key: str, want: str) -> None:
        nonlocal fed
        f, d, fed = press_until(console, screen, fed, key, want, timeout)
        if f is not None:
            first[kind].append(f)
        if d is None:
            timeouts[kind] += 1
            d = timeout * 1e3
        drawn[kind].append(d)
        if kind == "switch":
            per_screen.setdefault(want, []).append(d)
        time.sleep(rng.uniform(0.15, 0.35))

    for _ in range(rounds):
        for key, want in SWITCHES:
            one("switch", key, want)
    for _ in range(rounds):
        one("detail", "enter", "detail")
        one("back", "escape", "dashboard")
        one("palette", "ctrl+p", "palette")
        one("back", "escape", "dashboard")
    return {
        "drawn": {k: _stats(v, timeouts[k]) for k, v in drawn.items()},
        "first_frame": {k: _stats(v, 0) for k, v in first.items()},
        "per_screen_p95_ms": {k: round(percentile(v, 0.95), 1) for k, v in per_screen.items()},
    }


def measure(label: str, argv: list[str], rounds: int, warmup: float, timeout: float) -> dict[str, Any]:
    with PtyProcess(argv) as console:
        shown = console.wait_for(re.compile(MACHINE_NAME), 0, 120.0)
        if shown is None:
            return {"scenario": label, "error": "never showed machines"}
        time.sleep(warmup)
        cpu0, t0 = console.cpu_seconds(), time.perf_counter()
        result = drive(console, rounds, timeout)
        result["console_cpu_pct_during"] = round((console.cpu_seconds() - cpu0) / (time.perf_counter() - t0) * 100, 1)
        result["scenario"] = label
        result["console_rss_mb"] = round(console.rss_bytes() / 2**20, 1)
    return result


def report(results: list[dict[str, Any]]) -> None:
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["scenario"], "error", r["error"], "", "", ""])
            continue
        for kind in ("switch", "detail", "palette", "back"):
            d, f = r["drawn"][kind], r["first_frame"][kind]
            rows.append(
                [
                    r["scenario"],
                    kind,
                    d["n"],
                    f"{f['p50_ms']} / {f['p95_ms']}",
                    f"{d['p50_ms']} / {d['p95_ms']}",
                    f"{d['max_ms']} ({d['timeouts']})",
                ]
            )
    print_table(
        "key -> new screen (pty 160x48)",
        ["scenario", "press", "n", "first frame p50/p95 ms", "fully drawn p50/p95 ms", "max (timeouts)"],
        rows,
    )
    for r in results:
        if "per_screen_p95_ms" in r:
            print(f"  {r['scenario']}: per screen p95 {r['per_screen_p95_ms']}; CPU {r['console_cpu_pct_during']} %")


def run(quick: bool = False) -> dict[str, Any]:
    rounds, warmup = (4, 3.0) if quick else (20, 10.0)
    results = [measure("demo (120)", console_argv("--demo"), rounds, warmup, timeout=3.0)]
    nodes = 50 if quick else 200
    with DemoServerProcess(["--nodes", str(nodes), "--machines-per-node", "100", "--telemetry-hz", "0.25"]) as server:
        results.append(measure(f"{nodes * 100:,} live", console_argv("--api", server.url), rounds, warmup, 5.0))
    targets: list[Target] = []
    for r, limit in zip(results, (50, 100), strict=True):
        for kind in ("switch", "detail", "palette"):
            measured = r["drawn"][kind]["p95_ms"] if "drawn" in r else None
            targets.append(Target(f"{r['scenario']}: {kind} fully drawn p95", limit, measured, "ms"))
    report(results)
    print_targets(targets)
    result = {"method": method_of(__doc__), "scenarios": results, "targets": targets}
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
