"""Reading a recording: its index (batches, checkpoints, marks), a checkpoint, and a segment's batches in order.

The index is read once when the file is opened (a day of a busy cluster is ~86,000 batch rows: a few tens of
milliseconds) and can be refreshed to follow a file that is still being written (the ring of a running console).
Every problem reading the file is a :class:`~console.recording.format.RecordingError` with one line naming the file
and what is wrong with it, never a traceback.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from console.recording.checkpoint import Checkpoint, decode_checkpoint
from console.recording.codec import SegmentDecoder
from console.recording.database import ReadConnection
from console.recording.format import Mark, Record, RecordingError

__all__ = ["BatchRow", "CheckpointRow", "RecordingReader", "SegmentReader"]

FETCH = 64
"""Batches read from the file per query while a segment is read."""


@dataclass(frozen=True, slots=True)
class BatchRow:
    id: int
    segment: int
    t0: float
    t1: float
    wall: float
    events: int


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    id: int
    t: float
    wall: float
    first_batch: int
    after_gap: bool


class RecordingReader:
    """One recording file, open for reading. Raises ``RecordingError`` from the start if it is not one."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = ReadConnection(self.path)
        self.checkpoints: list[CheckpointRow] = []
        self.batches: list[BatchRow] = []
        self.marks: list[Mark] = []
        self._mark_times: list[float] = []
        self.refresh()
        if not self.checkpoints:
            raise RecordingError(f"{self.path}: an empty recording (nothing was recorded)")

    # --- the index ------------------------------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Read what was added since (a file still being written); whether anything was."""
        last_checkpoint = self.checkpoints[-1].id if self.checkpoints else 0
        last_batch = self.batches[-1].id if self.batches else 0
        last_mark = len(self.marks)
        query = self._db.query
        checkpoints = query(
            "SELECT id, t, wall, first_batch, after_gap FROM checkpoints WHERE id > ? ORDER BY id", (last_checkpoint,)
        )
        batches = query("SELECT id, segment, t0, t1, wall, events FROM batches WHERE id > ? ORDER BY id", (last_batch,))
        marks = query("SELECT t, kind, label FROM marks ORDER BY id LIMIT -1 OFFSET ?", (last_mark,))
        try:
            self.checkpoints += [
                CheckpointRow(int(i), float(t), float(w), int(f), bool(g)) for i, t, w, f, g in checkpoints
            ]
            self.batches += [
                BatchRow(int(i), int(s), float(a), float(b), float(w), int(e)) for i, s, a, b, w, e in batches
            ]
            self.marks += [Mark(float(t), str(k), str(label)) for t, k, label in marks]
        except (TypeError, ValueError):
            raise RecordingError(f"{self.path}: a damaged index") from None
        self._mark_times = [m.t for m in self.marks]
        return bool(checkpoints or batches or marks)

    @property
    def start(self) -> float:
        """The server time of the first checkpoint (what remains of a pruned ring starts with one)."""
        return self.checkpoints[0].t

    @property
    def end(self) -> float:
        last = self.batches[-1].t1 if self.batches else self.start
        return max(last, self.checkpoints[-1].t)

    @property
    def events(self) -> int:
        return sum(b.events for b in self.batches)

    def checkpoint_at(self, t: float) -> CheckpointRow:
        """The last checkpoint at or before ``t`` (the first one if ``t`` is before it)."""
        times = [c.t for c in self.checkpoints]
        index = bisect.bisect_right(times, t) - 1
        return self.checkpoints[max(0, index)]

    def next_checkpoint(self, row: CheckpointRow) -> CheckpointRow | None:
        for candidate in self.checkpoints:
            if candidate.id > row.id:
                return candidate
        return None

    def next_mark(self, after: float) -> Mark | None:
        """The first mark later than ``after``."""
        index = bisect.bisect_right(self._mark_times, after + 1e-6)
        return self.marks[index] if index < len(self.marks) else None

    def time_at_wall(self, wall: float) -> float:
        """The server time recorded at wall time ``wall`` (the first batch written then or later; else the end)."""
        walls = [b.wall for b in self.batches]
        index = bisect.bisect_left(walls, wall)
        return self.batches[index].t0 if index < len(self.batches) else self.end

    # --- content --------------------------------------------------------------------------------------------------

    def open_segment(self, row: CheckpointRow) -> SegmentReader:
        rows = self._db.query("SELECT data FROM checkpoints WHERE id = ?", (row.id,))
        if not rows:
            raise RecordingError(f"{self.path}: checkpoint {row.id} is gone (pruned while replayed?)")
        checkpoint, raw = decode_checkpoint(rows[0][0], f"{self.path}: checkpoint {row.id}")
        return SegmentReader(self, row, checkpoint, raw)

    def batch_blobs(self, segment: int, after_id: int) -> list[tuple[int, bytes]]:
        rows = self._db.query(
            "SELECT id, data FROM batches WHERE segment = ? AND id > ? ORDER BY id LIMIT ?", (segment, after_id, FETCH)
        )
        return [(int(i), bytes(d)) for i, d in rows]

    def close(self) -> None:
        self._db.close()


class SegmentReader:
    """A checkpoint and the batches after it, read in order (each batch needs the ones before it)."""

    def __init__(self, reader: RecordingReader, row: CheckpointRow, checkpoint: Checkpoint, raw: bytes) -> None:
        self.reader = reader
        self.row = row
        self.checkpoint = checkpoint
        self._decoder = SegmentDecoder(raw)
        self._last_id = row.first_batch - 1
        self._fetched: list[tuple[int, bytes]] = []

    def next_batch(self) -> list[Record] | None:
        """The next batch's records, or ``None`` when none follows (yet)."""
        if not self._fetched:
            self._fetched = self.reader.batch_blobs(self.row.id, self._last_id)
            if not self._fetched:
                return None
            self._fetched.reverse()
        batch_id, blob = self._fetched.pop()
        if batch_id != self._last_id + 1:
            raise RecordingError(f"{self.reader.path}: batch {self._last_id + 1} is missing")
        self._last_id = batch_id
        return self._decoder.decode(blob, f"{self.reader.path}: batch {batch_id}")
