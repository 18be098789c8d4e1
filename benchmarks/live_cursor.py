"""Where the machine grid's cursor is on an emulated screen, found as a person finds it: by its colour (issue 15).

Used by the live benchmark (``benchmarks.bench_live``) for key-to-screen latency and stream-to-screen lag. Why not
fixed cells: under the demo's own mix the grid (sorted by state) moves machines several times a second and the
cursor follows its machine, so it is seldom on the top-left tile, and the tile below it may move too.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from typing import Any

import httpx

from benchmarks.harness import percentile
from benchmarks.servers import DemoServerProcess
from benchmarks.session import screen_of
from benchmarks.terminal import PtyProcess, Screen

__all__ = ["cursor_colour", "cursor_key_latency", "cursor_machine", "cursor_stream_lag", "tile_of"]

_QUEUE_OF = re.compile(r"Queue of (\S+)")
_MACHINE_ID = re.compile(r"M-[A-Z0-9][A-Z0-9-]*")
"""A machine id as a tile's name line starts with it (``M-BAR3-023``: the simulator's ids; ids are always drawn
whole). Jobs (``J-``) and alert codes (``E-``) on the tiles do not match."""


def _grid_right(screen: Screen) -> int:
    """The first column of the dashboard's right-hand panels (where ``Queue of`` starts), else the screen's width:
    the grid is left of it."""
    found = screen.find("Queue of ")
    return screen.columns if found is None else found[1]


def cursor_colour(screen: Screen) -> str | None:
    """The background of the highlighted tile, as a person finds it: the tile of the machine the queue panel is
    about (``Queue of M-...``: the dashboard shows the cursor machine's queue). ``None`` if that machine is not on
    screen or its tile looks like the others (then nothing tells the cursor apart)."""
    match = _QUEUE_OF.search("\n".join(screen.text()))
    if match is None:
        return None
    machine_id, right = match.group(1), _grid_right(screen)
    others: set[str] = set()
    colour = None
    for y, line in enumerate(screen.text()):
        for tile in _MACHINE_ID.finditer(line[:right]):
            bg = screen.bg[y][tile.start()]
            if tile.group() == machine_id:
                colour = bg
            else:
                others.add(bg)
    return colour if colour is not None and colour not in others else None


def cursor_machine(screen: Screen, colour: str) -> tuple[str, int, int] | None:
    """(machine id, row, column) of the tile drawn in the cursor's colour: the first machine id, in reading order,
    whose first cell has that background; ``None`` if the cursor is not on screen."""
    right = _grid_right(screen)
    for y, line in enumerate(screen.text()):
        row = screen.bg[y]
        for tile in _MACHINE_ID.finditer(line[:right]):
            if row[tile.start()] == colour:
                return tile.group(), y, tile.start()
    return None


def tile_of(screen: Screen, machine_id: str) -> tuple[int, int] | None:
    """(row, column) of the name line of ``machine_id``'s tile in the grid (not the panels' mentions of it)."""
    right = _grid_right(screen)
    for y, line in enumerate(screen.text()):
        for tile in _MACHINE_ID.finditer(line[:right]):
            if tile.group() == machine_id:
                return y, tile.start()
    return None


def _fed_to_frame(console: PtyProcess, screen: Screen, fed: int, deadline: float) -> tuple[float, int] | None:
    """Wait for the next frame after byte ``fed`` and feed the screen up to its end: (when it came, its end)."""
    frame = console.wait_frame(fed, deadline - time.perf_counter())
    if frame is not None:
        screen.feed(console.bytes_since(fed)[: frame[1] - fed])
    return frame


def cursor_key_latency(console: PtyProcess, presses: int, timeout: float = 2.0, seed: int = 3) -> dict[str, Any]:
    """Press ``down`` and ``up`` in turn in the machine grid; each time, the time from the key's write until the
    frame after which the highlighted tile shows another machine than before the press.

    Why by the highlight and the machine under it, not by a fixed place: with the demo's mix, machines change state
    several times a second and the grid (sorted by state) moves them, the cursor's machine with them, so the cursor
    is seldom on the top-left tile and the tile below it may move too. A person finds the cursor by its colour and
    sees the key take effect when the highlight is on another machine; so does this. The colour is learnt once: the
    background of the tile of the machine the ``Queue of`` panel names (the cursor's machine), when no other tile
    has it. Moves of the cursor's machine by the sort do not count (same machine); a press whose effect never shows
    within ``timeout`` counts as ``timeout``."""
    screen = screen_of(console)
    colour = cursor_colour(screen)
    if colour is None:  # the cursor's machine may be off screen: a key brings it back, and the queue panel follows
        for key in ("down", "up"):
            console.press(key)
            time.sleep(1.5)
        screen = screen_of(console)
        colour = cursor_colour(screen)
    if colour is None:
        return {"error": "cannot find the cursor: no tile of the queue's machine in a colour of its own"}
    fed = console.total_bytes
    rng = random.Random(seed)
    latencies: list[float] = []
    timeouts = unseen = 0
    for i in range(presses):
        start = console.total_bytes
        screen.feed(console.bytes_since(fed)[: start - fed])
        fed = start
        before = cursor_machine(screen, colour)
        unseen += before is None
        pressed = console.press("down" if i % 2 == 0 else "up")
        deadline = pressed + timeout
        latency = None
        while time.perf_counter() < deadline:
            frame = _fed_to_frame(console, screen, fed, deadline)
            if frame is None:
                break
            fed = frame[1]
            now = cursor_machine(screen, colour)
            if now is not None and (before is None or now[0] != before[0]):
                latency = frame[0] - pressed
                break
        if latency is None:
            timeouts += 1
        latencies.append(timeout * 1e3 if latency is None else latency * 1e3)
        time.sleep(rng.uniform(0.05, 0.15))  # not in step with the console's refresh timer
    return {
        "method": "cursor by colour: the highlighted tile shows another machine than before the press",
        "cursor_colour": colour,
        "presses": presses,
        "timeouts": timeouts,
        "cursor_unseen_before_press": unseen,
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
    }


def _pausable_cursor(console: PtyProcess, server: DemoServerProcess, colour: str, tries: int = 40) -> str | None:
    """Put the cursor on a machine a pause shows on (running or idle: a machine in fault stays ``fault`` when
    paused), and return its id. The grid sorts worst first, so the search starts at the end (``end``) and goes up;
    the candidate's tile must show it running or idle, and so must the server (a console behind the stream may
    show an old state)."""
    console.send(b"\x1b[F")  # end
    for _ in range(tries):
        time.sleep(0.3)
        screen = screen_of(console)
        where = cursor_machine(screen, colour)
        if where is not None and where[1] + 1 < screen.rows:
            shown = screen.text()[where[1] + 1][where[2] : where[2] + 15]
            if "running" not in shown and "idle" not in shown:
                console.press("up")
                continue
            try:
                state = httpx.get(f"{server.url}/v1/machines/{where[0]}", timeout=10).json().get("state")
            except (httpx.HTTPError, ValueError):
                state = None
            if state in ("running", "idle"):
                return where[0]
        console.press("up")
    return None


def cursor_stream_lag(
    console: PtyProcess, server: DemoServerProcess, samples: int, timeout: float = 10.0, colour: str | None = None
) -> dict[str, Any]:
    """Pause (then resume) the cursor's machine through the API; the time from the server's answer (the event is in
    its feed by then) to the frame whose tile of that machine shows the new state, wherever the sort has put it
    (paused machines move up the grid; the cursor, and so the tile, stays on screen with its machine). ``colour``:
    the cursor's, as :func:`cursor_key_latency` learnt it (right after keys the queue panel may lag the cursor)."""
    colour = colour or cursor_colour(screen_of(console))
    machine_id = None if colour is None else _pausable_cursor(console, server, colour)
    if machine_id is None:
        return {"error": "cannot put the cursor on a running or idle machine"}
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
            frame = _fed_to_frame(console, screen, fed, deadline)
            if frame is None:
                break
            fed = frame[1]
            found = tile_of(screen, machine_id)
            if found is not None and found[0] + 1 < screen.rows:
                state = screen.text()[found[0] + 1][found[1] : found[1] + 15]
                if ("paused" in state) == want_paused:
                    lag = frame[0] - answered
                    break
        if lag is None:
            timeouts += 1
            if want_paused:
                with contextlib.suppress(httpx.HTTPError):  # leave no machine paused behind
                    server.post(f"/v1/machines/{machine_id}/resume", {})
                break  # never seen paused: a resume would "show" at once
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
