"""An opt-in sampler of event-loop stalls: what held the loop, for how long, and whether the collector ran.

Why: under live load at 20,000 machines the console once answered most keys in ~25 ms but about one in ten waited
0.3-1.5 s behind a single piece of work (docs/performance.md §3: full garbage collections over a leak). A profiler over
the whole run drowns that in the steady ingest; what is needed is the main thread's stack *while the loop is stuck*,
and only then.

How: the loop beats a heartbeat (a ``call_later`` chain every ``interval_s``). A daemon thread watches it; once a beat
is late, it samples the loop thread's stack (``sys._current_frames``) every ``interval_s`` until the loop beats again.
Stalls longer than ``threshold_s`` are appended to a JSON-lines file, one record each. ``gc.callbacks`` note every
collection (start, stop, generation) so a record says whether the collector ran during the stall.

A record: ``start_monotonic``, ``start_wall``, ``duration_s``, ``loop_cpu_s``, ``samples``; ``gc`` (each collection
that overlapped: generation, offset, duration, CPU, objects collected) and ``gc_s``; ``owners``: per sample, the
innermost function of *ours* inside the loop callback that was running (``(library) f`` when that callback had no
frame of ours), most common first; ``stacks``: the most common stacks (``file:line function``, innermost last, the
innermost ``max_frames``); ``sampler_max_gap_s`` and ``stack_after_max_gap`` (see the caveat below). A collection's
stack is where an allocation happened to trigger it, not a cause: read ``gc_s`` against ``duration_s`` first.

Each record also says how much CPU the loop thread used during the stall (``loop_cpu_s``, and ``cpu_s`` per
collection): far less than the duration means the process was waiting (for a core on a busy machine, or in a sleep),
not computing.

Caveat, and why ``sampler_max_gap_s`` exists: the sampler thread needs the GIL to take a sample. Work that holds the
GIL without releasing it (a collection, a long call into C such as pydantic-core or ``re``) gets no samples while it
runs; the sampler wakes when it ends, so its first sample shows the Python caller of that work, and the long gap
between its wake-ups is recorded (``sampler_max_gap_s``, ``stack_after_max_gap``).

Costs nothing unless started: :func:`start_stall_trace_from_env` returns ``None`` when
``FACTORY_CONSOLE_STALL_TRACE`` is not set, and this module imports only the standard library.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["ENV_VAR", "StallTracer", "start_stall_trace", "start_stall_trace_from_env"]

ENV_VAR = "FACTORY_CONSOLE_STALL_TRACE"


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    """Frames under these directories are not ours: the standard library and installed packages (Textual, rich ...).

    Computed on first use, not at import: importing this module must cost the app nothing when tracing is off.
    """
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple({str(Path(paths[key]).resolve()) for key in ("stdlib", "purelib") if paths.get(key)})


def _is_own(filename: str) -> bool:
    return not filename.startswith(_library_dirs()) and not filename.startswith("<") and "site-packages" not in filename


_HANDLE_FILE = asyncio.events.__file__
"""Where ``Handle._run`` lives: the frame that runs each loop callback."""


def _function(frame: FrameType) -> str:
    """``file:first-line function``: the function, whichever line of it is running."""
    code = frame.f_code
    return f"{_short(code.co_filename)}:{code.co_firstlineno} {code.co_name}"


def _where(frame: FrameType) -> str:
    code = frame.f_code
    return f"{_short(code.co_filename)}:{frame.f_lineno} {code.co_name}"


def _short(filename: str) -> str:
    """``.../site-packages/textual/app.py`` -> ``textual/app.py``; our files relative to the working directory."""
    marker = "site-packages/"
    index = filename.rfind(marker)
    if index >= 0:
        return filename[index + len(marker) :]
    for base in _library_dirs():
        if filename.startswith(base):
            return "stdlib/" + filename[len(base) :].lstrip("/")
    try:
        return os.path.relpath(filename)
    except ValueError:
        return filename


@dataclass(slots=True)
class _GcEvent:
    generation: int
    start: float
    on_loop: bool
    cpu_start: float
    stop: float | None = None
    cpu_s: float | None = None
    collected: int | None = None


@dataclass(slots=True)
class _Stall:
    """What the sampler gathers while one stall lasts."""

    last_beat: float
    last_cpu: float
    stacks: collections.Counter[tuple[str, ...]] = field(default_factory=collections.Counter)
    owners: collections.Counter[str] = field(default_factory=collections.Counter)
    samples: int = 0
    max_gap: float = 0.0
    stack_after_max_gap: tuple[str, ...] = ()


class StallTracer:
    """The heartbeat on the loop, the sampler thread and the gc notes; see the module docstring."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        path: str | os.PathLike[str],
        threshold_s: float = 0.1,
        *,
        interval_s: float = 0.01,
        max_frames: int = 25,
        top: int = 5,
    ) -> None:
        self.loop = loop
        self.path = Path(path)
        self.threshold_s = threshold_s
        self.interval_s = interval_s
        self.max_frames = max_frames
        self.top = top
        self.records = 0
        """Stall records written so far."""
        self._beat: tuple[float, float] = (time.monotonic(), 0.0)
        """(monotonic time, loop thread's CPU time) of the last beat: one tuple, so the sampler reads both at once."""
        self._loop_thread: int | None = None
        self._stopped = threading.Event()
        self._gc_events: collections.deque[_GcEvent] = collections.deque(maxlen=2000)
        self._thread = threading.Thread(target=self._watch, name="stall-trace", daemon=True)

    # --- on the loop --------------------------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        self._beat = (time.monotonic(), time.thread_time())
        if not self._stopped.is_set():
            self.loop.call_later(self.interval_s, self._heartbeat)

    def _on_gc(self, phase: str, info: Mapping[str, Any]) -> None:
        """Runs in whichever thread collects (nearly always the loop's); cheap, no allocation beyond one record."""
        now, cpu = time.monotonic(), time.thread_time()
        if phase == "start":
            on_loop = threading.get_ident() == self._loop_thread
            self._gc_events.append(_GcEvent(int(info.get("generation", -1)), now, on_loop, cpu))
        elif self._gc_events and self._gc_events[-1].stop is None:
            event = self._gc_events[-1]
            event.stop = now
            event.cpu_s = cpu - event.cpu_start
            event.collected = int(info.get("collected", 0))

    def start(self) -> StallTracer:
        """Start from the loop's own thread (e.g. in ``on_mount``): that thread is the one sampled."""
        self._loop_thread = threading.get_ident()
        self._beat = (time.monotonic(), time.thread_time())
        gc.callbacks.append(self._on_gc)
        self.loop.call_soon(self._heartbeat)
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop beating and sampling; a stall that has just ended is still written."""
        self._stopped.set()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._thread.is_alive() and threading.get_ident() != self._thread.ident:
            self._thread.join(timeout)

    # --- on the sampler thread ----------------------------------------------------------------------------------

    def _watch(self) -> None:
        stall: _Stall | None = None
        last_wake = time.monotonic()
        while not self._stopped.wait(self.interval_s):
            now = time.monotonic()
            gap, last_wake = now - last_wake, now
            beat, beat_cpu = self._beat
            if stall is not None and beat != stall.last_beat:
                self._finish(stall, beat, beat_cpu)
                stall = None
            late = now - beat
            if late <= 2 * self.interval_s:
                continue
            if stall is None:
                stall = _Stall(beat, beat_cpu)
            self._sample(stall, gap)
        if stall is not None and self._beat[0] != stall.last_beat:
            self._finish(stall, *self._beat)  # stopped just after a stall: keep it

    def _sample(self, stall: _Stall, gap: float) -> None:
        frame = sys._current_frames().get(self._loop_thread) if self._loop_thread is not None else None
        if frame is None:
            return
        while frame is not None and frame.f_code.co_filename == __file__:
            frame = frame.f_back  # the loop thread is in our gc callback: show what it was doing
        stack: list[str] = []
        owner: str | None = None
        in_callback = True  # until the walk passes asyncio's Handle._run: frames below it only started the loop
        innermost = _function(frame) if frame is not None else ""
        depth = 0
        while frame is not None:
            code = frame.f_code
            if owner is None and in_callback and _is_own(code.co_filename):
                owner = _function(frame)
            if code.co_name == "_run" and code.co_filename == _HANDLE_FILE:
                in_callback = False
            if depth < self.max_frames:
                stack.append(_where(frame))
            depth += 1
            frame = frame.f_back
        stack.reverse()  # innermost last
        key = tuple(stack)
        stall.stacks[key] += 1
        stall.owners[owner or f"(library) {innermost}"] += 1
        stall.samples += 1
        if gap > stall.max_gap:
            stall.max_gap, stall.stack_after_max_gap = gap, key

    def _finish(self, stall: _Stall, beat: float, beat_cpu: float) -> None:
        duration = beat - stall.last_beat - self.interval_s
        if duration < self.threshold_s:
            return
        start, end = stall.last_beat, beat
        gcs = [
            {
                "generation": e.generation,
                "start_offset_s": round(e.start - start, 4),
                "duration_s": round((e.stop or end) - e.start, 4),
                "cpu_s": None if e.cpu_s is None else round(e.cpu_s, 4),
                "collected": e.collected,
                "on_loop_thread": e.on_loop,
            }
            for e in list(self._gc_events)
            if e.start < end and (e.stop is None or e.stop > start)
        ]
        record = {
            "start_monotonic": round(start, 4),
            "start_wall": round(time.time() - (time.monotonic() - start), 3),
            "duration_s": round(duration, 4),
            "loop_cpu_s": round(beat_cpu - stall.last_cpu, 4),
            "samples": stall.samples,
            "gc": gcs,
            "gc_s": round(sum(float(g["duration_s"] or 0.0) for g in gcs), 4),
            "sampler_max_gap_s": round(stall.max_gap, 4),
            "owners": [{"count": n, "function": f} for f, n in stall.owners.most_common(self.top)],
            "stacks": [{"count": n, "stack": list(s)} for s, n in stall.stacks.most_common(self.top)],
            "stack_after_max_gap": list(stall.stack_after_max_gap),
        }
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        self.records += 1


def start_stall_trace(
    loop: asyncio.AbstractEventLoop, path: str | os.PathLike[str], threshold_s: float = 0.1, **options: Any
) -> StallTracer:
    """Watch ``loop`` and append stalls longer than ``threshold_s`` to ``path``; call it from the loop's thread."""
    return StallTracer(loop, path, threshold_s, **options).start()


def start_stall_trace_from_env(
    loop: asyncio.AbstractEventLoop, environ: Mapping[str, str] | None = None
) -> StallTracer | None:
    """Start the tracer if ``FACTORY_CONSOLE_STALL_TRACE`` names a file (``..._THRESHOLD_MS`` sets the threshold)."""
    environ = os.environ if environ is None else environ
    path = environ.get(ENV_VAR)
    if not path:
        return None
    threshold_ms = float(environ.get(ENV_VAR + "_THRESHOLD_MS", "100"))
    return start_stall_trace(loop, path, threshold_ms / 1000)
