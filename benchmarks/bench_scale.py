"""Scale (issue 15): how the console's costs grow from 120 to 20,000 to 100,000 machines.

For each size a ``factory-console demo-server`` runs in its own process at ``--speed 1`` (the shop at real pace):
120 machines (the demo's 6 nodes x 20) with telemetry at 1 Hz (~120 events/s); 20,000 (200 x 100) at 0.25 Hz and
100,000 (1,000 x 100) at 0.05 Hz, both ~5,000 telemetry events/s (the live benchmark's stream). The console
(``python -m console --api URL``) runs in a 160x48 pseudo-terminal with the real Textual driver. Measured from
outside the console:

* **start**: from just before ``Popen`` to the first output showing a machine tile (as the start benchmark), and to
  the first screen whose header says ``live`` (the snapshot applied and the stream followed; machines may show
  before, from a preview); the warm-up starts then;
* **RSS after warm-up** (``VmRSS``) and the peak (``VmHWM``: the snapshot's parse), after the first machines and a
  warm-up; whether the header says ``live``;
* **CPU** of the console under the live stream over a window (``/proc/<pid>/stat``), with the stream's event rate;
* **arrow keys**: ``down``/``up`` in the machine grid, each from the key's write to the frame showing the cursor on
  the other tile (``benchmarks.session.key_latency``); p50/p95;
* **filter**: ``/`` opens the filter box, then the query ``state:idle`` arrives as one bracketed paste (the filter
  applies as its text changes, so the paste is the input that submits it; typed key by key, every prefix would be
  applied in turn); timed from the paste's write to the first frame whose grid (the columns left of the queue panel)
  shows only idle machines' tiles; then ``enter`` and ``escape`` (the filter cleared) before the next round. The
  query is over all machines (no node selected). The grid must show other states before each round, so a round
  cannot pass by itself.

Sizes run one after another, each with its own server; the load average is recorded before and after each.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Target, method_of, percentile, print_table, print_targets, write_result
from benchmarks.servers import MACHINE_NAME, MACHINE_TILE, DemoServerProcess, console_argv
from benchmarks.session import header_state, key_latency, measure_window, screen_of
from benchmarks.terminal import PtyProcess, Screen
from console.api.enums import MachineState

NAME = "scale"

SIZES: dict[str, tuple[int, int, float]] = {
    "120": (6, 20, 1.0),
    "20,000": (200, 100, 0.25),
    "100,000": (1000, 100, 0.05),
}
"""Size label -> (nodes, machines per node, telemetry Hz)."""

QUERY = "state:idle"
WANTED = "idle"
PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"
_BAR = re.compile(MACHINE_TILE)
_STATE = re.compile(r"\b(" + "|".join(sorted((s.value for s in MachineState), key=len, reverse=True)) + r")\b")


def grid_states(screen: Screen) -> list[str]:
    """The machine states the grid's tiles show: the state words of the tile lines (those with a progress bar), in
    the columns left of the queue panel (whose job statuses share words with machine states)."""
    lines = screen.text()
    right = next((line.find("Queue of") for line in lines if "Queue of" in line), screen.columns)
    return [m.group(1) for line in lines if _BAR.search(line[:right]) for m in _STATE.finditer(line[:right])]


def only_wanted(screen: Screen) -> bool:
    states = grid_states(screen)
    return bool(states) and all(state == WANTED for state in states)


def _wait_screen(console: PtyProcess, screen: Screen, fed: int, test: Any, timeout: float) -> tuple[float | None, int]:
    """Feed frames to ``screen`` until ``test(screen)``; the time of that frame (``None``: not within timeout)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        frame = console.wait_frame(fed, deadline - time.perf_counter())
        if frame is None:
            break
        at, end = frame
        screen.feed(console.bytes_since(fed)[: end - fed])
        fed = end
        if test(screen):
            return at, fed
    return None, fed


def filter_latency(console: PtyProcess, rounds: int, timeout: float = 10.0) -> dict[str, Any]:
    """``rounds`` times: ``QUERY`` pasted into the ``/`` box, timed to the frame showing the filtered grid."""
    latencies: list[float] = []
    timeouts = 0
    skipped: list[str] = []
    for _ in range(rounds):
        screen = screen_of(console)
        if only_wanted(screen) or not grid_states(screen):
            skipped.append("the grid showed no other states before the filter")
            break
        console.send(b"/")
        time.sleep(0.3)
        fed = console.total_bytes
        screen = screen_of(console)
        sent = console.send(PASTE_START + QUERY.encode() + PASTE_END)
        at, fed = _wait_screen(console, screen, fed, only_wanted, timeout)
        if at is None:
            timeouts += 1
            latencies.append(timeout * 1e3)
        else:
            latencies.append((at - sent) * 1e3)
        console.send(b"\r")
        time.sleep(0.3)
        console.send(b"\x1b")  # clears the filter (the box is closed: escape on the screen clears it)
        time.sleep(0.3)
        screen = screen_of(console)
        _wait_screen(console, screen, console.total_bytes, lambda s: not only_wanted(s), timeout)
        time.sleep(0.5)
    return {
        "query": QUERY,
        "rounds": len(latencies),
        "timeouts": timeouts,
        "skipped": skipped,
        "samples_ms": [round(v, 1) for v in latencies],
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def measure_size(label: str, warmup: float, window: float, presses: int, rounds: int) -> dict[str, Any]:
    nodes, per_node, hz = SIZES[label]
    options = ["--nodes", str(nodes), "--machines-per-node", str(per_node), "--telemetry-hz", f"{hz:g}"]
    result: dict[str, Any] = {"machines": nodes * per_node, "options": options, "load_average_before": _loadavg()}
    with DemoServerProcess(options, start_timeout=1800.0) as server:
        result["server_ready_s"] = round(server.ready_after, 1)
        result["server_rss_mb"] = round(server_rss(server.pid), 1)
        with PtyProcess(console_argv("--api", server.url)) as console:
            shown = console.wait_for(re.compile(MACHINE_NAME), 0, 900.0)
            result["first_machines_s"] = None if shown is None else round(shown[0] - console.started, 2)
            if shown is None:
                result["error"] = "no machines on screen within 900 s"
                result["load_average_after"] = _loadavg()
                return result
            result["live_s"] = wait_live(console, 1200.0)
            time.sleep(warmup)
            result["header_after_warmup"] = header_state(console)
            result["rss_after_warmup_mb"] = round(console.rss_bytes() / 2**20, 1)
            result["peak_rss_mb"] = _peak_rss_mb(console.pid)
            result["window"] = measure_window(console, window, server).as_dict()
            result["header_after_window"] = header_state(console)
            result["live"] = " live" in result["header_after_window"]
            result["keys"] = key_latency(console, presses)
            result["filter"] = filter_latency(console, rounds)
            result["rss_at_end_mb"] = round(console.rss_bytes() / 2**20, 1)
            result["peak_rss_at_end_mb"] = _peak_rss_mb(console.pid)
    result["load_average_after"] = _loadavg()
    return result


def wait_live(console: PtyProcess, timeout: float) -> float | None:
    """Seconds from the console's start until its header says ``live`` (the snapshot applied, the stream followed);
    ``None`` if not within ``timeout``. The first machines may show before (a preview while the snapshot loads)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if " live" in header_state(console):
            return round(time.perf_counter() - console.started, 1)
        time.sleep(0.5)
    return None


def server_rss(pid: int) -> float:
    from benchmarks.harness import rss_bytes

    return rss_bytes(pid) / 2**20


def run(quick: bool = False, sizes: tuple[str, ...] | None = None) -> dict[str, Any]:
    chosen = sizes or (("120", "20,000") if quick else tuple(SIZES))
    warmup, window, presses, rounds = (5.0, 10.0, 30, 2) if quick else (15.0, 30.0, 100, 5)
    results = {label: measure_size(label, warmup, window, presses, rounds) for label in chosen}
    targets: list[Target] = []
    big = results.get("100,000")
    if big is not None:
        keys, filt = big.get("keys", {}), big.get("filter", {})
        targets = [
            Target("100,000 machines: arrow key p95 (timeouts count as 2 s)", 100, keys.get("p95_ms"), "ms"),
            Target("100,000 machines: filter over all machines applied (max)", 200, filt.get("max_ms"), "ms"),
            Target("100,000 machines: RSS after warm-up", 600, big.get("rss_after_warmup_mb"), "MB"),
        ]
    result = {"method": method_of(__doc__), "sizes": results, "targets": targets}
    report(result)
    write_result(NAME, result, quick=quick)
    return result


def report(result: dict[str, Any]) -> None:
    sizes = result["sizes"]
    labels = list(sizes)

    def row(name: str, get: Any) -> list[Any]:
        cells = []
        for label in labels:
            try:
                cells.append(get(sizes[label]))
            except (KeyError, TypeError):
                cells.append("-")
        return [name, *cells]

    rows = [
        row("demo-server ready (s)", lambda r: r["server_ready_s"]),
        row("start to first machines (s)", lambda r: r["first_machines_s"]),
        row("start to live (s)", lambda r: r["live_s"]),
        row("live after warm-up", lambda r: r["live"]),
        row("RSS after warm-up (MB)", lambda r: r["rss_after_warmup_mb"]),
        row("peak RSS (MB)", lambda r: r["peak_rss_at_end_mb"]),
        row("stream events/s", lambda r: r["window"]["server_events_per_s"]),
        row("console CPU % of a core", lambda r: r["window"]["console_cpu_pct_of_one_core"]),
        row("arrow key p50 / p95 (ms)", lambda r: f"{r['keys']['p50_ms']} / {r['keys']['p95_ms']}"),
        row("filter p50 / max (ms)", lambda r: f"{r['filter']['p50_ms']} / {r['filter']['max_ms']}"),
        row("load before / after", lambda r: f"{r['load_average_before']} / {r['load_average_after']}"),
    ]
    print_table("scale (pty 160x48)", ["measure", *labels], rows)
    print_targets(result["targets"])


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv, sizes=tuple(a for a in sys.argv[1:] if not a.startswith("--")) or None)
