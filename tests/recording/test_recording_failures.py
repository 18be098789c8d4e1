"""When recording cannot start or go on (no folder, no permission, no space, the file in use), one clear line says
why and the console goes on without recording; and a recording that is not one, or is damaged, is one line too."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.demo.sim import SimConfig
from console.recording.database import WriteConnection
from console.recording.format import RecordingError, RecordingUnavailable
from console.recording.reader import RecordingReader
from console.recording.recorder import Recorder
from console.recording.ring import RecordingSpec
from console.session import Session
from console.settings import Settings
from console.store.store import Store
from tests.recording.sim_feed import SimFeed, connect, run


def small_feed() -> SimFeed:
    return SimFeed(SimConfig(seed=7, nodes=2, machines_per_node=3, telemetry_hz=2.0))


def test_a_file_where_the_folder_should_be_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "recordings").write_text("not a folder")
    feed = small_feed()
    with pytest.raises(RecordingUnavailable) as caught:
        Recorder(RecordingSpec(file=tmp_path / "recordings" / "r.sqlite"), Store(), feed.now).start()
    message = str(caught.value)
    assert message.startswith(f"cannot record to {tmp_path / 'recordings' / 'r.sqlite'}: ")
    assert "\n" not in message


@contextlib.contextmanager
def as_nobody_if_root() -> Iterator[None]:
    """Root writes into a read-only folder anyway (CI runs as root): take nobody's effective ids for the block, so
    the kernel refuses the write as it refuses an operator's."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_a_read_only_folder_is_one_line() -> None:
    base = Path(tempfile.mkdtemp(prefix="fc-ro-"))  # under /tmp, which nobody can reach (pytest's tmp_path is 0700)
    try:
        base.chmod(0o755)
        folder = base / "ro"
        folder.mkdir(mode=0o555)
        feed = small_feed()
        with (
            as_nobody_if_root(),
            pytest.raises(RecordingUnavailable, match=r"permission denied \(read-only file or folder\)"),
        ):
            Recorder(RecordingSpec(ring_dir=folder), Store(), feed.now).start()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_permission_denied_is_one_line_even_for_root(tmp_path: Path, monkeypatch: Any) -> None:
    real_open = os.open

    def refused(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        if str(path).endswith("r.sqlite"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(RecordingUnavailable, match=r"r\.sqlite: permission denied \(read-only file or folder\)$"):
        Recorder(RecordingSpec(file=tmp_path / "r.sqlite"), Store(), small_feed().now).start()


def test_the_session_says_it_goes_on_without_recording(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file")
    settings = Settings(recording=RecordingSpec(file=tmp_path / "blocked" / "r.sqlite"))
    session = Session(settings, registry=None)
    problem = session.start_recording()
    assert problem is not None
    assert problem.startswith("cannot record to ") and problem.endswith("; the console goes on without recording")
    assert session.recorder is None and session.store.taps == []


def test_no_space_left_stops_recording_once_and_the_store_goes_on(tmp_path: Path, monkeypatch: Any) -> None:
    feed = small_feed()
    store = Store()
    told: list[str] = []
    rec = Recorder(RecordingSpec(file=tmp_path / "r.sqlite"), store, feed.now, on_problem=told.append)
    rec.start()
    connect(store, feed)
    run(store, feed, 20)
    assert rec.writer.flush()

    def full(self: Any, *args: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(WriteConnection, "write", full)
    assert run(store, feed, 120) > 0
    rec.writer.flush(timeout=5)
    assert told == [f"recording stopped: {tmp_path / 'r.sqlite'}: no space left on the device"]
    assert rec.problem == told[0]
    before = store.sources["cluster"].seq
    assert run(store, feed, 60) > 0 and store.sources["cluster"].seq > before, "the console goes on"
    assert rec.backlog == 0 and len(rec._queue) == 0, "nothing is queued for a writer that is gone"
    rec.stop()
    assert told == [told[0]], "said once"
    monkeypatch.undo()
    reader = RecordingReader(tmp_path / "r.sqlite")
    assert reader.batches, "what was written before stays readable"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        (b"", "not a recording (not an SQLite file)"),
        (b"hello, not a database at all" * 10, "not a recording (not an SQLite file)"),
        (b"SQLite format 3\x00" + b"\x00" * 84 + b"garbage" * 100, "not a readable recording"),
    ],
    ids=["missing", "empty", "text", "damaged-sqlite"],
)
def test_what_is_not_a_recording_is_one_line(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "x.sqlite"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RecordingError) as caught:
        RecordingReader(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_another_sqlite_file_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(RecordingError, match=r"not a readable recording|not a factory-console recording"):
        RecordingReader(path)


def _recorded(tmp_path: Path, seconds: int = 120) -> Path:
    feed = small_feed()
    store = Store()
    rec = Recorder(RecordingSpec(file=tmp_path / "r.sqlite", checkpoint_events=10**9), store, feed.now)
    rec.start()
    connect(store, feed)
    for _ in range(seconds // 10):
        run(store, feed, 10)
        assert rec.writer.flush()
    rec.stop()
    return tmp_path / "r.sqlite"


def test_a_damaged_batch_is_one_line_naming_it(tmp_path: Path) -> None:
    path = _recorded(tmp_path)
    with sqlite3.connect(path) as db:
        (batch_id, data) = db.execute("SELECT id, data FROM batches ORDER BY id LIMIT 1 OFFSET 3").fetchone()
        damaged = data[:40] + bytes(b ^ 0x5A for b in data[40:80]) + data[80:]
        db.execute("UPDATE batches SET data = ? WHERE id = ?", (damaged, batch_id))
    reader = RecordingReader(path)
    segment = reader.open_segment(reader.checkpoints[0])
    with pytest.raises(RecordingError) as caught:
        while segment.next_batch() is not None:
            pass
    assert f"batch {batch_id} does not read back" in str(caught.value)


def test_a_truncated_file_is_one_line(tmp_path: Path) -> None:
    path = _recorded(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError) as caught:
        reader = RecordingReader(path)
        for row in reader.checkpoints:
            segment = reader.open_segment(row)
            while segment.next_batch() is not None:
                pass
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_batch_is_one_line(tmp_path: Path) -> None:
    path = _recorded(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM batches WHERE id = 3")
    reader = RecordingReader(path)
    segment = reader.open_segment(reader.checkpoints[0])
    with pytest.raises(RecordingError, match="batch 3 is missing"):
        while segment.next_batch() is not None:
            pass
