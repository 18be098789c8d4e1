"""Measurements on a running console in a pty: CPU share, bytes written, key-to-screen latency, stream-to-screen lag.

Shared by the live, idle and bytes benchmarks. Everything is read from outside the console process: CPU from
``/proc/<pid>/stat``, bytes from the pty, effects from the emulated screen (:class:`benchmarks.terminal.Screen`).
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.harness import percentile
from benchmarks.servers import MACHINE_TILE, DemoServerProcess
from benchmarks.terminal import PtyProcess, Screen

__all__ = ["Window", "key_latency", "measure_window", "screen_of", "stream_lag"]

_BAR = re.compile(MACHINE_TILE)
_QUEUE_OF = re.compile(r"Queue of (\S+)")


@dataclass(slots=True)
class Window:
    seconds: float
    cpu_pct: float
    bytes_total: int
    bytes_per_s: float
    frames: int
    server_events_per_s: float | None
    server_cpu_pct: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 2),
            "console_cpu_pct_of_one_core": round(self.cpu_pct, 2),
            "bytes_total": self.bytes_total,
            "bytes_per_s": round(self.bytes_per_s, 1),
            "frames": self.frames,
            "server_events_per_s": None if self.server_events_per_s is None else round(self.server_events_per_s, 1),
            "server_cpu_pct_of_one_core": None if self.server_cpu_pct is None else round(self.server_cpu_pct, 1),
        }


def measure_window(console: PtyProcess, seconds: float, server: DemoServerProcess | None = None) -> Window:
    """CPU share, bytes and frames of the console over ``seconds`` (and the stream's event rate, if a server)."""
    seq0 = server.seq() if server is not None else None
    server_cpu0 = server.cpu_seconds() if server is not None else None
    offset0 = console.total_bytes
    cpu0, t0 = console.cpu_seconds(), time.perf_counter()
    time.sleep(seconds)
    cpu1, t1 = console.cpu_seconds(), time.perf_counter()
    offset1 = console.total_bytes
    elapsed = t1 - t0
    events = cpu_server = None
    if server is not None and server_cpu0 is not None:
        cpu_server = (server.cpu_seconds() - server_cpu0) / elapsed * 100
        seq1 = server.seq()
        if seq0 is not None and seq1 is not None:
            events = (seq1 - seq0) / (time.perf_counter() - t0)
    frames = len(console.frames_after(offset0)) - len(console.frames_after(offset1))
    return Window(
        elapsed,
        (cpu1 - cpu0) / elapsed * 100,
        offset1 - offset0,
        (offset1 - offset0) / elapsed,
        frames,
        events,
        cpu_server,
    )


def screen_of(console: PtyProcess) -> Screen:
    screen = Screen(console.columns, console.rows)
    screen.feed(console.bytes_since(0))
    return screen


def _first_tile(screen: Screen) -> tuple[int, int] | None:
    """(row, column) of the state line of the top-left machine tile."""
    for y, line in enumerate(screen.text()):
        match = _BAR.search(line)
        if match is not None:
            return y, 0
    return None


def key_latency(console: PtyProcess, presses: int, timeout: float = 2.0, seed: int = 3) -> dict[str, Any]:
    """Press ``down`` and ``up`` in turn in the machine grid; each time, the time until the frame in which the cursor
    highlight has moved to the tile below (or back). The cursor tile's background colour is read from the screen
    before the first press; a probe cell in the tile's name line tells where the highlight is."""
    screen = screen_of(console)
    fed = console.total_bytes
    first = _first_tile(screen)
    if first is None:
        return {"error": "no machine tile on screen"}
    name_row = first[0] - 1
    probe_top, probe_below = (name_row, 2), (name_row + 5, 2)
    cursor_bg = screen.bg[probe_top[0]][probe_top[1]]
    if cursor_bg == screen.bg[probe_below[0]][probe_below[1]]:
        return {"error": "cannot tell the cursor tile from the one below"}
    rng = random.Random(seed)
    latencies: list[float] = []
    timeouts = 0
    for i in range(presses):
        key, target = ("down", probe_below) if i % 2 == 0 else ("up", probe_top)
        start = console.total_bytes
        screen.feed(console.bytes_since(fed)[: start - fed])
        fed = start
        pressed = console.press(key)
        deadline = pressed + timeout
        latency = None
        while time.perf_counter() < deadline:
            frame = console.wait_frame(fed, deadline - time.perf_counter())
            if frame is None:
                break
            at, end = frame
            screen.feed(console.bytes_since(fed)[: end - fed])
            fed = end
            if screen.bg[target[0]][target[1]] == cursor_bg:
                latency = at - pressed
                break
        if latency is None:
            timeouts += 1
            latencies.append(timeout * 1e3)  # a lower bound: the effect never showed within the timeout
        else:
            latencies.append(latency * 1e3)
        time.sleep(rng.uniform(0.05, 0.15))  # not in step with the console's refresh timer
    return {
        "presses": presses,
        "timeouts": timeouts,
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
    }


def stream_lag(console: PtyProcess, server: DemoServerProcess, samples: int, timeout: float = 10.0) -> dict[str, Any]:
    """Pause (then resume) the machine under the grid cursor through the API; the time from the server's answer
    (the event is in its feed by then) to the frame whose cursor tile shows the new state. That is how far the screen
    lags the stream, queueing in the console included."""
    screen = screen_of(console)
    first = _first_tile(screen)
    match = _QUEUE_OF.search("\n".join(screen.text()))
    if first is None or match is None:
        return {"error": "cannot find the cursor machine on screen"}
    machine_id = match.group(1)
    state_row = first[0]
    lags: list[float] = []
    refused: list[str] = []
    timeouts = 0
    for i in range(samples):
        action, want_paused = ("pause", True) if i % 2 == 0 else ("resume", False)
        screen = screen_of(console)
        fed = console.total_bytes
        try:
            response = server.post(f"/v1/machines/{machine_id}/{action}", {"mode": "now"} if action == "pause" else {})
        except httpx.HTTPError as error:  # an overloaded server may not answer in time: report it, go on
            refused.append(f"{action} {machine_id}: {type(error).__name__}")
            break
        answered = time.perf_counter()
        if response.status_code != 200:
            refused.append(f"{action} {machine_id}: {response.status_code} {response.text[:120]}")
            break
        deadline = answered + timeout
        lag = None
        while time.perf_counter() < deadline:
            frame = console.wait_frame(fed, deadline - time.perf_counter())
            if frame is None:
                break
            at, end = frame
            screen.feed(console.bytes_since(fed)[: end - fed])
            fed = end
            shows_paused = "paused" in screen.text()[state_row][:30]
            if shows_paused == want_paused:
                lag = at - answered
                break
        if lag is None:
            timeouts += 1
        else:
            lags.append(lag * 1e3)
        time.sleep(0.3)
    return {
        "machine_id": machine_id,
        "samples": len(lags),
        "timeouts": timeouts,
        "refused": refused,
        "p50_ms": round(percentile(lags, 0.5), 1) if lags else None,
        "max_ms": round(max(lags), 1) if lags else None,
    }


def header_state(console: PtyProcess) -> str:
    """The first screen line (the header: cluster, connection state, ev/s)."""
    return screen_of(console).text()[0].strip()
