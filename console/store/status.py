"""The state of each source (the cluster API, later node agents), as the status bar and diagnostics show it.

Counters (``events_total``, the rate) change with every event without raising a change notice: read them on a timer.
State changes, malformed events and log lines do raise one (``ChangeSet.sources``).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from console.api.sse import MalformedEvent

__all__ = ["LogLine", "MalformedRecord", "SourceState", "SourceStatus"]


class SourceState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STALE = "stale"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(slots=True, frozen=True)
class LogLine:
    """One line of a source's connection log."""

    at: datetime
    message: str


@dataclass(slots=True, frozen=True)
class MalformedRecord:
    """A malformed event as received (untrusted text: render escaped), with when it came."""

    at: datetime
    seq: int | None
    type: str
    reason: str
    excerpt: str

    @classmethod
    def of(cls, item: MalformedEvent, at: datetime) -> MalformedRecord:
        return cls(at, item.seq, item.type, item.reason, item.excerpt)


def _wall(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


@dataclass(slots=True)
class SourceStatus:
    """One source's connection state and counters. ``url`` never carries secrets (the source passes a safe one)."""

    source_id: str
    kind: str = "cluster"
    url: str = ""
    state: str = SourceState.CONNECTING
    reason: str | None = None
    retry_at: float | None = None
    """When the next attempt is due, on the ``time.monotonic()`` clock (see :meth:`retry_in`)."""
    retry_at_wall: datetime | None = None
    seq: int | None = None
    instance_id: str | None = None
    last_event_monotonic: float | None = None
    last_event_epoch: float | None = None
    events_total: int = 0
    ignored_total: int = 0
    malformed_total: int = 0
    snapshots_total: int = 0
    state_since: float = field(default_factory=time.monotonic)
    log: deque[LogLine] = field(default_factory=lambda: deque(maxlen=200))
    malformed: deque[MalformedRecord] = field(default_factory=lambda: deque(maxlen=50))
    # The rate: events counted in the current one-second bucket, and the last complete bucket's count.
    _bucket: int = -1
    _bucket_count: int = 0
    _last_rate: int = 0

    def note_event(self, now: float) -> None:
        """Count one event at monotonic time ``now`` (hot path: a few attribute writes)."""
        self.events_total += 1
        self.last_event_monotonic = now
        self.last_event_epoch = time.time()
        second = int(now)
        if second == self._bucket:
            self._bucket_count += 1
        else:
            self._last_rate = self._bucket_count if second == self._bucket + 1 else 0
            self._bucket = second
            self._bucket_count = 1

    def note_events(self, count: int, now: float) -> None:
        """Count ``count`` events that arrived together (one read of the stream) at monotonic time ``now``."""
        self.events_total += count
        self.last_event_monotonic = now
        self.last_event_epoch = time.time()
        second = int(now)
        if second == self._bucket:
            self._bucket_count += count
        else:
            self._last_rate = self._bucket_count if second == self._bucket + 1 else 0
            self._bucket = second
            self._bucket_count = count

    def events_per_second(self, now: float | None = None) -> int:
        """Events in the last complete second (0 if the source went quiet), or, if more, those of this second so far:
        a stream that has just started (or woken up) is not shown as "0 ev/s" while its events arrive."""
        second = int(time.monotonic() if now is None else now)
        if second == self._bucket:
            return max(self._last_rate, self._bucket_count)
        if second == self._bucket + 1:
            return self._bucket_count
        return 0

    @property
    def last_event_at(self) -> datetime | None:
        """Wall time of the last event."""
        return _wall(self.last_event_epoch)

    def seconds_since_event(self, now: float | None = None) -> float | None:
        if self.last_event_monotonic is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_event_monotonic

    def retry_in(self, now: float | None = None) -> float | None:
        """Seconds until the next connection attempt, or ``None`` if none is scheduled."""
        if self.retry_at is None:
            return None
        return max(0.0, self.retry_at - (time.monotonic() if now is None else now))
