"""Benchmark 8, recording: what recording costs the live console, how big a recorded hour is, how fast a seek is,
and whether a replay at 60x keeps up.

All four drive the real store and the real recorder (``console.recording``) or the real replay engine
(``console.sources.replay.Player``) with the simulator's own events, as ``View.translate`` gives them to a server's
feed and a source would apply them (reads of 200 events through ``Store.apply_events``); no network, no terminal.

* ``cpu``: the reference stream of the ingest and live benchmarks, 20,000 machines (200 nodes x 100) at 0.25 Hz
  telemetry and speed 1 (about 5,200 events/s, nine in ten telemetry), generated ahead, then applied to a store at
  its real pace (every 0.1 s what that 0.1 s brought) for the window, once without and once with a recorder, in
  turns; the process's CPU time (all threads: the store's, the tap's, the writer's, its final write included) over
  the window. The difference is what recording costs; the tap's share is the main thread's difference.
* ``bytes``: the same cluster streamed faster than real time through a store with a recorder for the duration (sim
  time; the recorder's wall and monotonic clocks follow it, so checkpoints come as they would); the file's size
  (checkpoints and SQLite's own pages included) per event and per recorded hour.
* ``seek``: the demo's 120-machine cluster with telemetry at 1 Hz and speed 1 (``bench_bytes``' scenario), recorded
  for ``hours`` of simulated time in a few minutes; then, in a fresh store, seeks to random moments across it (back
  and forth), each timed from the call to the store holding that moment's state.
* ``replay``: that recording played at 60x by the Player on the real monotonic clock, ticked every 50 ms as the
  replay source does: how much recorded time the replay clock had to wait for the store (it waits when the store
  trails it by more than a second at that speed), how far the store trails it at the end, and the longest tick.
"""

from __future__ import annotations

import gc
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Target, method_of, percentile, print_table, print_targets, write_result
from console.api.models import EVENT_MODELS, Event, Snapshot
from console.recording.format import to_epoch
from console.recording.reader import RecordingReader
from console.recording.recorder import Recorder
from console.recording.ring import RecordingSpec
from console.sources.replay.player import Player
from console.store.store import Store

NAME = "recording"
SOURCE = "cluster"
READ = 200
"""Events per read of the stream (what ``Store.apply_events`` is handed at a time)."""
MB = 1_000_000


class SimStream:
    """A seeded simulation's cluster view, as its server's feed numbers it: ``snapshot()``, then ``step()``."""

    def __init__(self, **config: Any) -> None:
        from console.demo.runner import make_simulation
        from console.demo.sim import SimConfig
        from console.demo.sim.clock import DEFAULT_START, SteppedClock
        from console.demo.views import View

        self.clock = SteppedClock(DEFAULT_START)
        self.sim = make_simulation(SimConfig(seed=7, **config), self.clock)
        self.view = View(self.sim)
        self.seq = 0
        self._pending: list[Event] = []
        self.sim.subscribe(self._on)

    def _on(self, type_: str, payload: Any) -> None:
        for event_type, data in self.view.translate(type_, payload):
            model = EVENT_MODELS[event_type]
            self.seq += 1
            value = data if isinstance(data, model) else model.model_validate(data)
            self._pending.append(Event(self.seq, event_type, value))

    def snapshot(self) -> Snapshot:
        view = self.view
        return Snapshot(
            seq=self.seq,
            cluster=view.cluster(self.seq, "bench"),
            nodes=view.nodes(),
            machines=view.machines(),
            jobs=view.jobs(),
            alerts=view.alerts(),
            quality=view.quality(),
        )

    def step(self, seconds: float = 1.0) -> list[Event]:
        self.clock.advance(seconds)
        self.sim.tick()
        events, self._pending = self._pending, []
        return events


def _connect(store: Store, snapshot: Snapshot) -> None:
    store.register_source(SOURCE, kind="cluster")
    store.set_source_state(SOURCE, "connecting")
    store.apply_snapshot(SOURCE, snapshot)
    store.set_source_state(SOURCE, "live")


def _apply(store: Store, events: list[Event]) -> None:
    for start in range(0, len(events), READ):
        store.apply_events(SOURCE, events[start : start + READ])


class SimTime:
    """The recorder's wall and monotonic clocks, following the simulation's time (a recorded hour in minutes)."""

    def __init__(self, stream: SimStream) -> None:
        self.stream = stream
        self.origin = to_epoch(stream.clock.now())

    def __call__(self) -> float:
        return to_epoch(self.stream.clock.now()) - self.origin + 1_800_000_000.0


def _feed(store: Store, stream: SimStream, recorder: Recorder, seconds: int, flush_every: int) -> int:
    """Step the simulation ``seconds`` times (a simulated second each) into the store; the writer is woken every
    ``flush_every`` simulated seconds, as its own wall-clock wake-up would at that pace, so batches and checkpoints
    come as they would in real time. Returns the events applied."""
    events = 0
    for second in range(1, seconds + 1):
        batch = stream.step(1.0)
        _apply(store, batch)
        events += len(batch)
        if second % flush_every == 0 or recorder.backlog > 50_000:
            assert recorder.writer.flush(120)
    return events


def _recorder(store: Store, stream: SimStream, path: Path, **spec: Any) -> Recorder:
    clock = SimTime(stream)
    return Recorder(RecordingSpec(file=path, **spec), store, stream.clock.now, monotonic=clock, wall=clock)


# --- cpu ------------------------------------------------------------------------------------------------------------


def measure_cpu(window_s: int, repeats: int, **config: Any) -> dict[str, Any]:
    stream = SimStream(**config)
    snapshot = stream.snapshot()
    seconds = [stream.step(1.0) for _ in range(window_s)]
    events = sum(map(len, seconds))
    del stream
    runs: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    sizes: list[int] = []
    checkpoint_s: list[float] = []
    checkpoint_bytes: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(repeats):
            for mode in ("off", "on"):
                store = Store()
                _connect(store, snapshot)
                recorder = None
                if mode == "on":
                    recorder = Recorder(RecordingSpec(file=Path(folder) / f"cpu-{n}.sqlite"), store, _utc_now)
                    checkpoint0 = time.process_time()
                    recorder.start()  # its first checkpoint: timed apart (it comes every few minutes, not per event)
                    assert recorder.writer.flush(120)
                    checkpoint_s.append(time.process_time() - checkpoint0)
                    checkpoint_bytes.append(recorder.writer.last_checkpoint_bytes)
                gc.collect()
                cpu0, main0 = time.process_time(), time.thread_time()
                _paced(store, seconds)
                if recorder is not None:
                    recorder.stop()
                    assert recorder.problem is None and recorder.dropped == 0, (recorder.problem, recorder.dropped)
                    sizes.append(recorder.writer.bytes_written - checkpoint_bytes[-1])
                runs[mode].append((time.process_time() - cpu0, time.thread_time() - main0))
    off = statistics.median(c for c, _ in runs["off"]) / window_s * 100
    on = statistics.median(c for c, _ in runs["on"]) / window_s * 100
    main_off = statistics.median(m for _, m in runs["off"]) / window_s * 100
    main_on = statistics.median(m for _, m in runs["on"]) / window_s * 100
    return {
        "window_s": window_s,
        "events": events,
        "events_per_s": events / window_s,
        "cpu_pct_without": off,
        "cpu_pct_with": on,
        "added_pct": on - off,
        "tap_pct": main_on - main_off,
        "writer_pct": (on - main_on) - (off - main_off),
        "runs": {mode: [[round(c, 3), round(m, 3)] for c, m in r] for mode, r in runs.items()},
        "bytes_per_event_in_window": statistics.median(sizes) / events if sizes else None,
        "checkpoint_cpu_s": statistics.median(checkpoint_s),
        "checkpoint_bytes": statistics.median(checkpoint_bytes),
    }


def _utc_now() -> Any:
    from console.api.wire import utc_now

    return utc_now()


def _paced(store: Store, seconds: list[list[Event]]) -> None:
    """Each second's events over ten 0.1 s slices at their real pace."""
    start = time.perf_counter()
    for second, events in enumerate(seconds):
        size = -(-len(events) // 10)
        for tenth in range(10):
            _apply(store, events[tenth * size : (tenth + 1) * size])
            wait = start + second + (tenth + 1) / 10 - time.perf_counter()
            if wait > 0:
                time.sleep(wait)


# --- bytes ----------------------------------------------------------------------------------------------------------


def measure_bytes(duration_s: int, **config: Any) -> dict[str, Any]:
    stream = SimStream(**config)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hour.sqlite"
        store = Store()
        recorder = _recorder(store, stream, path)
        recorder.start()
        _connect(store, stream.snapshot())
        started = time.perf_counter()
        events = _feed(store, stream, recorder, duration_s, flush_every=1)
        recorder.stop(timeout=120)
        elapsed = time.perf_counter() - started
        assert recorder.problem is None and recorder.dropped == 0, (recorder.problem, recorder.dropped)
        reader = RecordingReader(path)
        checkpoints = reader._db.query("SELECT COUNT(*), SUM(LENGTH(data)) FROM checkpoints")[0]
        batches = reader._db.query("SELECT SUM(LENGTH(data)) FROM batches")[0][0]
        reader.close()
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
    return {
        "duration_s": duration_s,
        "events": events,
        "events_per_s": events / duration_s,
        "file_bytes": size,
        "bytes_per_event": size / events,
        "batch_bytes_per_event": batches / events,
        "checkpoints": checkpoints[0],
        "checkpoint_bytes": checkpoints[1],
        "mb_per_recorded_hour": size / MB * 3600 / duration_s,
        "wall_s": elapsed,
    }


# --- seek and replay --------------------------------------------------------------------------------------------------


def record_demo(path: Path, hours: float) -> dict[str, Any]:
    stream = SimStream(telemetry_hz=1.0, speed=1.0)
    store = Store()
    recorder = _recorder(store, stream, path)
    recorder.start()
    _connect(store, stream.snapshot())
    started = time.perf_counter()
    events = _feed(store, stream, recorder, int(hours * 3600), flush_every=5)
    recorder.stop(timeout=120)
    assert recorder.problem is None and recorder.dropped == 0
    return {
        "hours": hours,
        "events": events,
        "file_bytes": path.stat().st_size,
        "wall_s": time.perf_counter() - started,
    }


def measure_seek(path: Path, count: int) -> dict[str, Any]:
    reader = RecordingReader(path)
    store = Store()
    player = Player(reader, store)
    player.open()
    rng = random.Random(13)
    targets = [rng.uniform(reader.start, reader.end) for _ in range(count)]
    times: list[float] = []
    for target in targets:
        started = time.perf_counter()
        player.seek_s(target)
        times.append(time.perf_counter() - started)
        assert player.problem is None and store.machines
    reader.close()
    return {
        "seeks": count,
        "checkpoints": len(reader.checkpoints),
        "ms_median": statistics.median(times) * 1000,
        "ms_p95": percentile(times, 0.95) * 1000,
        "ms_max": max(times) * 1000,
    }


def measure_replay(path: Path, window_s: float, speed: int = 60) -> dict[str, Any]:
    from console.recording.playback import SPEEDS
    from console.sources.replay.source import TICK_S

    reader = RecordingReader(path)
    store = Store()
    player = Player(reader, store)
    player.seek_s(reader.start + min(3600.0, (reader.end - reader.start) / 4))
    player.play(True)
    while player.speed < speed:
        player.faster()
    assert speed in SPEEDS
    begin, applied0 = player.position_s, store.sources[SOURCE].events_total
    cpu0, started = time.process_time(), time.monotonic()
    ticks: list[float] = []
    while time.monotonic() - started < window_s:
        tick0 = time.perf_counter()
        player.tick()
        ticks.append(time.perf_counter() - tick0)
        time.sleep(max(0.0, TICK_S - ticks[-1]))
    elapsed = time.monotonic() - started
    intended = begin + elapsed * speed
    events = store.sources[SOURCE].events_total - applied0
    reader.close()
    return {
        "speed": speed,
        "window_s": elapsed,
        "recorded_s_replayed": player.position_s - begin,
        "clock_held_recorded_s": max(0.0, intended - player.position_s),
        "data_behind_clock_recorded_s": max(0.0, player.position_s - player._applied),
        "events_applied": events,
        "events_per_s": events / elapsed,
        "cpu_pct": (time.process_time() - cpu0) / elapsed * 100,
        "tick_ms_max": max(ticks) * 1000,
        "tick_ms_p95": percentile(ticks, 0.95) * 1000,
    }


# --- the run ----------------------------------------------------------------------------------------------------------


def measure(
    *, cpu_window_s: int, cpu_repeats: int, bytes_s: int, seek_hours: float, seeks: int, replay_s: float
) -> dict[str, Any]:
    reference = {"nodes": 200, "machines_per_node": 100, "telemetry_hz": 0.25, "speed": 1.0}
    results: dict[str, Any] = {"cpu": measure_cpu(cpu_window_s, cpu_repeats, **reference)}
    gc.collect()
    results["bytes"] = measure_bytes(bytes_s, **reference)
    gc.collect()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.sqlite"
        results["demo_recording"] = record_demo(path, seek_hours)
        gc.collect()
        results["seek"] = measure_seek(path, seeks)
        results["replay"] = measure_replay(path, replay_s)
    cpu, size, seek, replay = results["cpu"], results["bytes"], results["seek"], results["replay"]
    results["targets"] = [
        Target(f"recording at ~{cpu['events_per_s']:,.0f} ev/s: added CPU", 5, cpu["added_pct"], "% of a core"),
        Target(f"a recorded hour at ~{size['events_per_s']:,.0f} ev/s", 200, size["mb_per_recorded_hour"], "MB"),
        Target(f"seek in {seek_hours:g} h of the 120-machine demo (max)", 300, seek["ms_max"], "ms"),
        Target("replay at 60x: clock held for the store", 1, replay["clock_held_recorded_s"], "recorded s"),
    ]
    results["method"] = method_of(__doc__)
    results["scenario"] = {"reference": reference, "demo": {"machines": 120, "telemetry_hz": 1.0, "speed": 1.0}}
    return results


def report(result: dict[str, Any]) -> None:
    cpu, size, seek, replay = result["cpu"], result["bytes"], result["seek"], result["replay"]
    print_table(
        "recording: CPU at the reference rate (20,000 machines)",
        ["events/s", "CPU without", "CPU with", "added", "tap", "writer"],
        [[cpu["events_per_s"], cpu["cpu_pct_without"], cpu["cpu_pct_with"], cpu["added_pct"], cpu["tap_pct"],
          cpu["writer_pct"]]],
    )  # fmt: skip
    print_table(
        "recording: size",
        ["recorded", "events", "bytes/event", "batches B/ev", "checkpoints", "MB per recorded hour"],
        [[f"{size['duration_s']} s", size["events"], round(size["bytes_per_event"], 2),
          round(size["batch_bytes_per_event"], 2), size["checkpoints"], round(size["mb_per_recorded_hour"], 1)]],
    )  # fmt: skip
    demo = result["demo_recording"]
    print_table(
        f"seek: {demo['hours']:g} h of the 120-machine demo "
        f"({demo['events']:,} events, {demo['file_bytes'] / MB:.1f} MB)",
        ["seeks", "checkpoints", "median ms", "p95 ms", "max ms"],
        [[seek["seeks"], seek["checkpoints"], seek["ms_median"], seek["ms_p95"], seek["ms_max"]]],
    )
    print_table(
        "replay at 60x",
        ["recorded s replayed", "clock held (rec. s)", "data behind (rec. s)", "events/s", "CPU %", "tick max ms"],
        [[replay["recorded_s_replayed"], replay["clock_held_recorded_s"], replay["data_behind_clock_recorded_s"],
          replay["events_per_s"], replay["cpu_pct"], replay["tick_ms_max"]]],
    )  # fmt: skip
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    if quick:
        options = {"cpu_window_s": 10, "cpu_repeats": 1, "bytes_s": 300, "seek_hours": 2, "seeks": 20, "replay_s": 5}
    else:
        options = {"cpu_window_s": 60, "cpu_repeats": 2, "bytes_s": 3600, "seek_hours": 24, "seeks": 50, "replay_s": 30}
    result = measure(**options)
    result["options"] = options
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
