"""What a recording holds: its records, its errors, its constants and its SQLite schema.

A recording is one SQLite file (WAL) with four tables:

* ``meta``: ``format``, ``version``, when and by what it was started;
* ``batches``: what the console received, a batch at a time (about a second of it): the records in arrival order,
  in columns, each column compressed with zstd (:mod:`console.recording.codec`), with the server time the batch
  covers (``t0``..``t1``), the wall time it was written, its segment and how many records and events it holds;
* ``checkpoints``: the whole state now and then (every source's replica as a contract ``Snapshot``, its connection
  state, the audit trail), one compressed JSON document each. A checkpoint starts a *segment*: its batches are
  compressed as streams that start with it, so a batch is read by reading its segment from the checkpoint on, which is
  also what a seek does (the state at a checkpoint, then the records after it);
* ``marks``: notable moments (an alert raised, a machine into fault, a node's or a source's state changed), for the
  replay's "next" key.

Times: ``t`` is the server's time as the console estimated it (``ServerClock``) when it took the record, in seconds
since the epoch, never going back within a recording; ``wall`` is this machine's clock (retention is by wall time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AUDIT",
    "EVENTS",
    "FORMAT",
    "MALFORMED",
    "OUTCOME",
    "SCHEMA",
    "SNAPSHOT",
    "STATE",
    "VERSION",
    "Mark",
    "Record",
    "RecordingError",
    "RecordingUnavailable",
    "StateChange",
    "from_epoch",
    "to_epoch",
]

FORMAT = "factory-console-recording"
VERSION = 1

# Record kinds (the first field of a record's index line).
SNAPSHOT = "s"
"""A source's snapshot (``payload``: the contract ``Snapshot``)."""
EVENTS = "e"
"""Events a source's read of the stream brought, applied in ``seq`` order (``payload``: ``list[Event]``)."""
STATE = "c"
"""A source's connection state changed (``payload``: :class:`StateChange`)."""
MALFORMED = "m"
"""A malformed event the store stepped over (``payload``: ``MalformedEvent``)."""
OUTCOME = "o"
"""The outcome of a command this console sent (``payload``: a dict; ``source_id``: the source that carried it)."""
AUDIT = "a"
"""A page of the server's audit trail the console fetched (``payload``: ``list[AuditEntry]``; ``Store.merge_audit``)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    wall REAL NOT NULL,
    first_batch INTEGER NOT NULL,
    after_gap INTEGER NOT NULL DEFAULT 0,
    raw_bytes INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    segment INTEGER NOT NULL,
    t0 REAL NOT NULL,
    t1 REAL NOT NULL,
    wall REAL NOT NULL,
    records INTEGER NOT NULL,
    events INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    id INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    batch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL
);
"""


class RecordingError(Exception):
    """A recording cannot be read (not a recording, a newer format, truncated, corrupt): the message is one line."""


class RecordingUnavailable(Exception):
    """Recording cannot start or go on (no room, no permission, the file in use): the message is one line."""


@dataclass(frozen=True, slots=True)
class StateChange:
    """A source's connection state as the store was told it."""

    kind: str
    state: str
    reason: str | None


@dataclass(slots=True)
class Record:
    """One thing the console received, as the recording keeps it (see the kinds above)."""

    kind: str
    source_id: str
    t: float
    seq: int | None
    payload: Any


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment worth jumping to: ``t`` (server time, epoch seconds), what it is and a short label."""

    t: float
    kind: str
    label: str


def to_epoch(value: datetime) -> float:
    """Seconds since the epoch of an aware time (times at the calendar's ends included)."""
    try:
        return value.timestamp()
    except (OverflowError, OSError, ValueError):
        return 0.0


def from_epoch(seconds: float) -> datetime:
    """The aware UTC time of ``seconds`` since the epoch (pinned to the calendar's ends)."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.max.replace(tzinfo=UTC) if seconds > 0 else datetime.min.replace(tzinfo=UTC)
