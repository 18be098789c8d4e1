"""The replay's engine over a recording of the simulator: a seek anywhere shows what the live console showed then,
playing follows the replay clock at its speed, steps and "next" land where they should, a gap in the recording is
crossed from its checkpoint, and a damaged recording stops the replay with one line instead of a traceback."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.demo.sim import SimConfig
from console.recording.format import to_epoch
from console.recording.playback import SPEEDS, SeekError, parse_seek
from console.recording.reader import RecordingReader
from console.recording.recorder import Recorder
from console.recording.ring import RecordingSpec
from console.sources.replay.player import REPLAY_SOURCE, Player
from console.store.store import Store
from tests.recording.sim_feed import SimFeed, connect, run, state_of


class Mono:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(path: Path, minutes: int, *, every: int = 60, **spec: Any) -> dict[float, dict[str, Any]]:
    """Record ``minutes`` of the demo's 120-machine simulation; the live state every ``every`` simulated seconds, by
    the server time it was recorded at."""
    feed = SimFeed(SimConfig(seed=7, telemetry_hz=1.0))
    store = Store()
    options = {"checkpoint_events": 400, "checkpoint_share": 0.0, **spec}
    recorder = Recorder(RecordingSpec(file=path, **options), store, feed.now)
    recorder.start()
    connect(store, feed)
    states = {to_epoch(feed.now()): state_of(store)}
    for _ in range(minutes * 60 // every):
        run(store, feed, every)
        states[to_epoch(feed.now())] = state_of(store)
        assert recorder.writer.flush()
    recorder.stop()
    assert recorder.problem is None
    return states


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[float, dict[str, Any]]]:
    path = tmp_path_factory.mktemp("replay") / "r.sqlite"
    return path, record(path, 20)


def player(path: Path, mono: Mono | None = None) -> tuple[Player, Store]:
    store = Store()
    return Player(RecordingReader(path), store, monotonic=mono or Mono()), store


def test_a_seek_anywhere_shows_what_the_live_console_showed_then(recorded: Any) -> None:
    path, states = recorded
    replay, store = player(path)
    replay.open()
    assert len(replay.reader.checkpoints) > 4
    times = list(states)
    random.Random(7).shuffle(times)  # back and forth, across checkpoints and within a segment
    for t in times:
        replay.seek_s(t)
        assert state_of(store) == states[t], f"at {t}"
        assert replay.position_s == t


def test_playing_follows_the_replay_clock_at_its_speed(recorded: Any) -> None:
    path, states = recorded
    mono = Mono()
    replay, store = player(path, mono)
    replay.open()
    start = replay.position_s
    replay.play(True)
    for _ in range(3):
        replay.faster()  # 1x -> 10x
    assert replay.speed == 10
    mono.now += 6.0
    replay.tick()
    assert replay.position_s == start + 60
    assert state_of(store) == states[start + 60], "the store shows what was recorded up to the replay clock"
    replay.play(False)
    mono.now += 100
    replay.tick()
    assert replay.position_s == start + 60, "paused: the clock stands still"
    for _ in range(10):
        replay.slower()
    assert replay.speed == SPEEDS[0]


def test_steps_pause_and_move_ten_seconds(recorded: Any) -> None:
    path, _ = recorded
    replay, _store = player(path)
    replay.open()
    replay.seek_s(replay.reader.start + 300)
    replay.play(True)
    replay.step(1)
    assert not replay.playing and replay.position_s == replay.reader.start + 310
    replay.step(-1)
    replay.step(-1)
    assert replay.position_s == replay.reader.start + 290


def test_next_jumps_to_the_next_alert_or_state_change(recorded: Any) -> None:
    path, _ = recorded
    replay, store = player(path)
    replay.open()
    alerts = [m for m in replay.reader.marks if m.kind == "alert"]
    assert alerts, "the simulation raised alerts in 20 minutes"
    position = replay.position_s
    seen = []
    while (mark := replay.next_mark()) is not None:
        assert mark.t > position or (mark.t == position and seen)
        assert replay.position_s == mark.t and not replay.playing
        position = mark.t
        seen.append(mark)
        if mark.kind == "alert":
            break
    assert seen[-1].kind == "alert"
    alert_id = [a for a in store.alerts.values() if a.raised_at <= replay.position]
    assert alert_id, "the alert is on screen once the replay is there"


def test_at_the_end_the_replay_stops(recorded: Any) -> None:
    path, states = recorded
    mono = Mono()
    replay, store = player(path, mono)
    replay.open()
    replay.seek_s(replay.reader.end - 5)
    replay.play(True)
    mono.now += 60
    replay.tick()
    assert replay.at_end and not replay.playing and replay.position_s == replay.reader.end
    assert state_of(store) == states[max(states)]


def test_a_gap_in_the_recording_is_crossed_from_its_checkpoint(tmp_path: Path, monkeypatch: Any) -> None:
    import threading

    from console.recording.writer import Writer

    release = threading.Event()
    drain = Writer._drain

    def slow_drain(self: Any) -> None:
        release.wait(10)
        drain(self)

    monkeypatch.setattr(Writer, "_drain", slow_drain)
    feed = SimFeed(SimConfig(seed=7, nodes=3, machines_per_node=6, telemetry_hz=4.0))
    store = Store()
    recorder = Recorder(RecordingSpec(file=tmp_path / "gap.sqlite", queue_events=300), store, feed.now)
    recorder.start()
    connect(store, feed)
    run(store, feed, 240)
    assert recorder.dropped > 0
    release.set()
    assert recorder.writer.flush()
    dropped = recorder.dropped
    run(store, feed, 30)  # fits in the queue: no more gaps
    assert recorder.dropped == dropped
    final = state_of(store)
    recorder.stop()
    replay, replayed = player(tmp_path / "gap.sqlite")
    replay.open()
    replay.seek_s(replay.reader.start)  # from the start, forward across the gap
    replay.seek_s(replay.reader.end)
    assert state_of(replayed) == final


def test_a_damaged_batch_stops_the_replay_with_one_line(recorded: Any, tmp_path: Path) -> None:
    path, _ = recorded
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(path.read_bytes())
    with sqlite3.connect(damaged) as db:
        query = "SELECT id, t1, data FROM batches ORDER BY id LIMIT 1 OFFSET 6"
        batch_id, t1, data = db.execute(query).fetchone()
        db.execute("UPDATE batches SET data = ? WHERE id = ?", (data[:30] + b"\xff" * 40 + data[70:], batch_id))
    replay, store = player(damaged)
    replay.open()
    replay.seek_s(t1)
    assert replay.problem is not None and f"batch {batch_id} does not read back" in replay.problem
    status = store.sources[REPLAY_SOURCE]
    assert (status.state, status.reason) == ("failed", replay.problem)
    assert store.machines, "what was shown stays"
    replay.play(True)
    assert not replay.playing, "a damaged replay does not play on"


NOW = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
START = NOW - timedelta(hours=3)
END = NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:05", NOW.replace(minute=5)),
        ("12:30:15", NOW.replace(hour=12, minute=30, second=15)),
        ("9:00", START),  # before the recording: its start
        ("-15m", NOW - timedelta(minutes=15)),
        ("+1h30m", END),  # beyond the end: the end
        ("-90s", NOW - timedelta(seconds=90)),
        (" - 2h ", NOW - timedelta(hours=2)),
        ("2026-11-25T13:00:00Z", NOW - timedelta(hours=1)),
    ],
)
def test_seek_takes_a_clock_time_or_an_offset(text: str, expected: datetime) -> None:
    assert parse_seek(text, NOW, START, END) == expected


def test_seek_finds_the_clock_time_on_the_day_it_is_recorded() -> None:
    start, end = datetime(2026, 11, 24, 22, 0, tzinfo=UTC), datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert parse_seek("23:15", now, start, end) == datetime(2026, 11, 24, 23, 15, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "soon", "25:00", "12:60", "-15x", "+", "12:5"])
def test_what_is_no_time_says_what_is_expected(text: str) -> None:
    with pytest.raises(SeekError, match=r"HH:MM\[:SS\]"):
        parse_seek(text, NOW, START, END)
