"""The recorder: what enters the store is written and reads back event for event, with checkpoints, marks, private
files, a ring pruned by age, and a full queue that drops from the recording without ever holding up the store."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from console.api.models import Event
from console.demo.sim import SimConfig
from console.recording.format import EVENTS, SNAPSHOT, STATE, RecordingUnavailable
from console.recording.reader import RecordingReader
from console.recording.recorder import Recorder
from console.recording.ring import RecordingSpec, newest_ring_file, prune_ring_folder
from console.store.store import Store
from tests.recording.sim_feed import SOURCE, SimFeed, connect, run


class FakeTime:
    """Wall and monotonic time that move only when told (checkpoints and retention follow it)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def wall(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def recorder(store: Store, feed: SimFeed, spec: RecordingSpec, fake: FakeTime | None = None) -> Recorder:
    fake = fake or FakeTime()
    return Recorder(spec, store, feed.now, monotonic=fake.monotonic, wall=fake.wall)


def read_all(path: Path) -> tuple[RecordingReader, list[Any]]:
    reader = RecordingReader(path)
    records: list[Any] = []
    for row in reader.checkpoints:
        segment = reader.open_segment(row)
        while (batch := segment.next_batch()) is not None:
            records += batch
    return reader, records


def test_what_the_store_takes_reads_back_event_for_event(tmp_path: Path) -> None:
    feed = SimFeed(SimConfig(seed=7, nodes=3, machines_per_node=6, telemetry_hz=2.0))
    store = Store()
    fed: list[Event] = []
    rec = recorder(store, feed, RecordingSpec(file=tmp_path / "r.sqlite", checkpoint_events=500, checkpoint_share=0))
    rec.start()
    original = store.apply_events  # the tapped one

    def keep(source_id: str, items: list[Any], start: int = 0) -> int:
        fed.extend(items[start:])
        return original(source_id, items, start)

    store.apply_events = keep  # type: ignore[method-assign]  # what the store takes, through the tap
    connect(store, feed)
    for _ in range(20):  # the writer wakes each second: in 30 simulated seconds at a time
        run(store, feed, 30)
        assert rec.writer.flush()
    rec.stop()
    assert rec.problem is None and rec.dropped == 0

    reader, records = read_all(tmp_path / "r.sqlite")
    events = [e for r in records if r.kind == EVENTS for e in r.payload]
    assert len(events) == len(fed) > 500
    for mine, theirs in zip(events, fed, strict=True):
        assert (mine.seq, mine.type, mine.data) == (theirs.seq, theirs.type, theirs.data)
    kinds = [r.kind for r in records]
    assert kinds[:3] == [STATE, SNAPSHOT, STATE]  # connecting, the snapshot, live: in the order they came
    assert records[1].payload == feed_snapshot_of(records)
    assert len(reader.checkpoints) > 3, "a checkpoint every 500 events"
    times = [r.t for r in records]
    assert times == sorted(times), "server times never go back within a recording"
    assert any(m.kind == "source" and "live" in m.label for m in reader.marks)
    assert rec.writer.events_written == len(fed)


def feed_snapshot_of(records: list[Any]) -> Any:
    return records[1].payload  # the snapshot reads back as the model it was (compared field by field above)


def test_a_checkpoint_holds_every_source_with_its_current_telemetry(tmp_path: Path) -> None:
    feed = SimFeed(SimConfig(seed=7, nodes=3, machines_per_node=6, telemetry_hz=2.0))
    store = Store()
    rec = recorder(store, feed, RecordingSpec(file=tmp_path / "r.sqlite", checkpoint_events=10**9))
    rec.start()
    connect(store, feed)
    run(store, feed, 120)
    rec._capture()  # now: the state after two minutes of telemetry
    rec.stop()
    reader = RecordingReader(tmp_path / "r.sqlite")
    first, last = (reader.open_segment(row).checkpoint for row in (reader.checkpoints[0], reader.checkpoints[-1]))
    assert first.sources == [], "the first checkpoint is the store before anything came"
    (source,) = last.sources
    assert (source.source_id, source.kind, source.state, source.seq) == (
        SOURCE,
        "cluster",
        "live",
        store.sources[SOURCE].seq,
    )
    assert source.snapshot is not None
    for machine in source.snapshot.machines:
        assert machine.telemetry == store.machine_telemetry(machine.id)
    assert {j.id for j in source.snapshot.jobs} == set(store.jobs)


def test_files_are_private_and_the_folder_too(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "recordings"
    feed = SimFeed(SimConfig(seed=7, nodes=2, machines_per_node=3))
    store = Store()
    rec = recorder(store, feed, RecordingSpec(ring_dir=folder))
    rec.start()
    connect(store, feed)
    run(store, feed, 30)
    assert rec.writer.flush()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    rec.stop()
    assert newest_ring_file(folder) == rec.path
    assert rec.path.name.startswith("ring-") and rec.path.name.endswith(f"-{os.getpid()}.sqlite")


def test_the_ring_keeps_its_retention_and_still_starts_at_a_checkpoint(tmp_path: Path) -> None:
    fake = FakeTime()
    feed = SimFeed(SimConfig(seed=7, nodes=2, machines_per_node=3, telemetry_hz=2.0))
    store = Store()
    spec = RecordingSpec(ring_dir=tmp_path, retention_h=1.0, checkpoint_s=600.0, checkpoint_share=0.0)
    rec = recorder(store, feed, spec, fake)
    rec.start()
    connect(store, feed)
    for _ in range(18):  # three hours of wall time, ten minutes at a time
        run(store, feed, 60)
        fake.now += 600
        assert rec.writer.flush()
    rec.stop()
    reader = RecordingReader(rec.path)
    oldest = reader.checkpoints[0].wall
    assert fake.now - 3600 - 660 <= oldest <= fake.now - 3600, "one checkpoint before the cutoff is kept"
    assert all(b.id >= reader.checkpoints[0].first_batch for b in reader.batches)
    segment = reader.open_segment(reader.checkpoints[0])
    assert segment.checkpoint.sources[0].snapshot is not None, "what remains starts at a whole state"
    assert segment.next_batch() is not None


def test_old_ring_files_go_young_ones_and_one_being_written_stay(tmp_path: Path) -> None:
    now = time.time()
    old, young, busy = (tmp_path / f"ring-2026010{n}T000000Z-1.sqlite" for n in (1, 2, 3))
    for path, age_h in ((old, 30), (young, 2), (busy, 30)):
        path.write_bytes(b"")
        os.utime(path, (now - age_h * 3600, now - age_h * 3600))
    import fcntl

    fd = os.open(busy, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert prune_ring_folder(tmp_path, 24 * 3600, now=now) == 1
    finally:
        os.close(fd)
    assert not old.exists() and young.exists() and busy.exists()


def test_the_ring_is_pruned_after_the_start_not_on_its_path(tmp_path: Path, monkeypatch: Any) -> None:
    """Issue 15: pruning stats and lock-tests every ring file (hundreds after a day of starts), so ``start()`` leaves
    it to a timer thread: the old file is still there when ``start()`` returns, and goes once the timer fires."""
    import console.recording.recorder as recorder_module

    fake = FakeTime(time.time())
    old = tmp_path / "ring-20260101T000000Z-1.sqlite"
    old.write_bytes(b"")
    os.utime(old, (fake.now - 30 * 3600, fake.now - 30 * 3600))
    feed = SimFeed(SimConfig(seed=7, nodes=2, machines_per_node=3))
    monkeypatch.setattr(recorder_module, "PRUNE_AFTER_S", 3600.0)
    rec = recorder(Store(), feed, RecordingSpec(ring_dir=tmp_path, retention_h=24.0), fake)
    rec.start()
    assert old.exists(), "not pruned on the start's path"
    rec.stop()
    monkeypatch.setattr(recorder_module, "PRUNE_AFTER_S", 0.0)
    rec = recorder(Store(), feed, RecordingSpec(ring_dir=tmp_path, retention_h=24.0), fake)
    rec.start()
    deadline = time.monotonic() + 30
    while old.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    rec.stop()
    assert not old.exists(), "pruned by the timer"


def test_a_full_queue_drops_from_the_recording_never_holds_up_the_store(tmp_path: Path, monkeypatch: Any) -> None:
    feed = SimFeed(SimConfig(seed=7, nodes=3, machines_per_node=6, telemetry_hz=4.0))
    store = Store()
    rec = recorder(store, feed, RecordingSpec(file=tmp_path / "r.sqlite", queue_events=200))
    release = threading.Event()
    drain = type(rec.writer)._drain

    def slow_drain(self: Any) -> None:
        release.wait(30)
        drain(self)

    monkeypatch.setattr(type(rec.writer), "_drain", slow_drain)
    rec.start()
    connect(store, feed)
    started = time.perf_counter()
    applied = run(store, feed, 240)
    elapsed = time.perf_counter() - started
    assert applied > 800
    assert rec.dropped > 0, "the writer was stuck: the queue filled"
    assert rec.backlog <= 200 + 100, "never much beyond its bound"
    assert elapsed < 5, "the store never waited for the writer"
    release.set()
    assert rec.writer.flush()
    run(store, feed, 30)
    rec.stop()
    reader = RecordingReader(tmp_path / "r.sqlite")
    assert any(c.after_gap for c in reader.checkpoints), "after a gap, a checkpoint to go on from"


def test_a_second_console_cannot_record_into_the_same_file(tmp_path: Path) -> None:
    feed = SimFeed(SimConfig(seed=7, nodes=2, machines_per_node=3))
    first = recorder(Store(), feed, RecordingSpec(file=tmp_path / "r.sqlite"))
    first.start()
    try:
        with pytest.raises(RecordingUnavailable, match=r"r\.sqlite: in use by another console"):
            recorder(Store(), feed, RecordingSpec(file=tmp_path / "r.sqlite")).start()
    finally:
        first.stop()


def test_a_store_with_no_tap_has_its_plain_methods_and_gets_them_back() -> None:
    store = Store()
    assert "apply_events" not in vars(store)

    class Tap:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def snapshot(self, source_id: str, snapshot: Any) -> None:
            self.seen.append("snapshot")

        def events(self, source_id: str, items: list[Any], start: int, end: int) -> None:
            self.seen.append(f"events {end - start}")

        def source_state(self, source_id: str, state: str, reason: str | None) -> None:
            self.seen.append(f"state {state}")

        def malformed(self, source_id: str, item: Any) -> None:
            self.seen.append("malformed")

    tap = Tap()
    store.add_tap(tap)
    feed = SimFeed(SimConfig(seed=7, nodes=2, machines_per_node=3, telemetry_hz=2.0))
    connect(store, feed)
    run(store, feed, 5)
    assert tap.seen[:3] == ["state connecting", "snapshot", "state live"]
    assert tap.seen[3].startswith("events ")
    store.remove_tap(tap)
    assert "apply_events" not in vars(store) and store.taps == []
