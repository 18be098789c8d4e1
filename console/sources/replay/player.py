"""The replay's engine: feeds the store from a recording at a replay clock, and seeks.

The replay clock is the recorded server time: it runs at the chosen speed while playing and stands still while
paused; the session's server clock follows it (``ServerClock.drive``), so every "ago" on screen is as it was. Each
:meth:`Player.tick` applies the records up to the clock, with a time budget: when the store cannot take them as fast
as the clock asks (a busy recording at 60x), the clock waits for the store rather than run more than a second ahead
of what is shown.

Records are applied through the store's ordinary inputs (``apply_snapshot``, ``apply_events``,
``set_source_state`` ...) under the recorded source ids, so the merge, the screens and the header work as they did
live. A seek back (or far forward) rebuilds the store: ``Store.clear``, the nearest checkpoint before the target
(each source's state and replica, the audit trail), then the records after it up to the target.

A recording that turns out to be damaged part-way stops the replay where it is (the store keeps what was shown) and
says why, as the state of a source named ``replay``.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from console.recording.format import (
    AUDIT,
    EVENTS,
    MALFORMED,
    OUTCOME,
    SNAPSHOT,
    STATE,
    Mark,
    Record,
    RecordingError,
    from_epoch,
    to_epoch,
)
from console.recording.playback import SPEEDS, STEP_S
from console.recording.reader import CheckpointRow, RecordingReader, SegmentReader

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["REPLAY_SOURCE", "Player"]

REPLAY_SOURCE = "replay"
"""The source id under which a damaged recording's problem is shown."""
TICK_BUDGET_S = 0.04
"""Work per tick at most (the loop must keep answering keys); what is left is applied at the next ticks."""
MAX_BEHIND_S = 1.0
"""How far (in seconds of the replay's speed) the store may trail the replay clock before the clock waits for it."""


class Player:
    """See the module docstring. ``start_at``: where to begin (server time, epoch seconds; the recording's start
    if ``None``), which is also the earliest a seek goes (``replay --last``)."""

    def __init__(
        self,
        reader: RecordingReader,
        store: Store,
        *,
        start_at: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.store = store
        self._monotonic = monotonic
        self._floor = reader.start if start_at is None else max(reader.start, min(start_at, reader.end))
        self._speed_index = 0
        self._playing = False
        self._base = self._floor
        self._base_mono = monotonic()
        self._segment: SegmentReader | None = None
        self._pending: deque[Record] = deque()
        self._applied = float("-inf")
        """The server time of the last record applied."""
        self._at_end = False
        self.problem: str | None = None
        self._kinds: dict[str, str] = {}

    # --- the clock --------------------------------------------------------------------------------------------

    @property
    def position_s(self) -> float:
        if not self._playing:
            return self._base
        return min(self.reader.end, self._base + (self._monotonic() - self._base_mono) * self.speed)

    def _rebase(self, t: float) -> None:
        self._base = t
        self._base_mono = self._monotonic()

    def now(self) -> datetime:
        """The replayed server time (what the session's server clock shows)."""
        return from_epoch(self.position_s)

    # --- Playback -----------------------------------------------------------------------------------------------

    @property
    def position(self) -> datetime:
        return self.now()

    @property
    def start(self) -> datetime:
        return from_epoch(self._floor)

    @property
    def end(self) -> datetime:
        return from_epoch(self.reader.end)

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> int:
        return SPEEDS[self._speed_index]

    @property
    def at_end(self) -> bool:
        return self._at_end

    def play(self, playing: bool = True) -> None:
        if self.problem is not None:
            playing = False
        if playing and self._at_end:
            self._follow()
            if self._at_end:
                return
        self._rebase(self.position_s)
        self._playing = playing

    def toggle(self) -> None:
        self.play(not self._playing)

    def faster(self) -> None:
        self._rebase(self.position_s)
        self._speed_index = min(len(SPEEDS) - 1, self._speed_index + 1)

    def slower(self) -> None:
        self._rebase(self.position_s)
        self._speed_index = max(0, self._speed_index - 1)

    def step(self, direction: int) -> None:
        self.play(False)
        self.seek_s(self.position_s + (STEP_S if direction > 0 else -STEP_S))

    def seek(self, when: datetime) -> None:
        self.seek_s(to_epoch(when))

    def next_mark(self) -> Mark | None:
        position = self.position_s
        mark = self.reader.next_mark(position)
        if mark is None and self._follow_index():
            mark = self.reader.next_mark(position)
        if mark is None:
            return None
        self.play(False)
        self.seek_s(mark.t)
        return mark

    # --- feeding the store --------------------------------------------------------------------------------------

    def open(self) -> None:
        """Show the state at the starting point."""
        self.seek_s(self._floor)

    def tick(self) -> None:
        """Apply what the clock has reached (called a few times a second while the replay runs)."""
        if self.problem is not None:
            return
        target = self.position_s
        deadline = time.perf_counter() + TICK_BUDGET_S
        try:
            caught_up = self._advance(target, deadline)
        except RecordingError as error:
            self._fail(str(error))
            return
        if not caught_up and target - self._applied > self.speed * MAX_BEHIND_S:
            self._rebase(self._applied + self.speed * MAX_BEHIND_S)  # the store is behind: the clock waits for it
        elif caught_up and self._playing and target >= self.reader.end and not self._pending:
            self._follow()
            if self._at_end:
                self._rebase(self.reader.end)
                self._playing = False

    def seek_s(self, t: float) -> None:
        """Show the state at server time ``t`` (kept within the recording)."""
        if self.problem is not None:
            return
        t = max(self._floor, min(self.reader.end, t))
        row = self.reader.checkpoint_at(t)
        current = self._segment.row if self._segment is not None else None
        forward = current is not None and t >= self._applied and row.id <= current.id
        collecting = gc.isenabled()
        gc.disable()  # tens of thousands of new objects, no cycle among them: the collector would only walk them
        try:
            if not forward:
                self._rebuild(row)
            self._advance(t, None)
        except RecordingError as error:
            self._fail(str(error))
            return
        finally:
            if collecting:
                gc.enable()
        self._at_end = t >= self.reader.end and not self._pending
        self._rebase(t)

    def _follow_index(self) -> bool:
        try:
            return self.reader.refresh()
        except RecordingError:
            return False

    def _follow(self) -> None:
        """At the end: read on if the file has grown (a ring still being written), else stay at the end."""
        self._at_end = not self._follow_index() or self.position_s >= self.reader.end

    def _fail(self, message: str) -> None:
        self.problem = message
        self._playing = False
        self.store.register_source(REPLAY_SOURCE, kind="replay")
        self.store.set_source_state(REPLAY_SOURCE, "failed", message)

    def _rebuild(self, row: CheckpointRow) -> None:
        segment = self.reader.open_segment(row)
        checkpoint = segment.checkpoint
        store = self.store
        store.clear(audit=checkpoint.audit)
        self._kinds.clear()
        for source in checkpoint.sources:
            self._register(source.source_id, source.kind)
            store.set_source_state(source.source_id, source.state, source.reason)
            if source.snapshot is not None:
                store.apply_snapshot(source.source_id, source.snapshot)
        self._segment = segment
        self._pending.clear()
        self._applied = checkpoint.t

    def _advance(self, target: float, deadline: float | None) -> bool:
        """Apply records up to ``target``; ``False`` when the deadline came first."""
        pending = self._pending
        while True:
            if not pending and not self._load():
                return True
            record = pending[0]
            if record.t > target:
                return True
            pending.popleft()
            self._apply(record)
            self._applied = record.t
            if deadline is not None and time.perf_counter() > deadline:
                return not pending or pending[0].t > target

    def _load(self) -> bool:
        """Decode the next batch (moving to the next segment at its end); whether there was one."""
        segment = self._segment
        if segment is None:
            return False
        records = segment.next_batch()
        if records is None:
            following = self.reader.next_checkpoint(segment.row)
            if following is None:
                return False
            if following.after_gap:  # events were dropped while recording: go on from the state after the gap
                self._rebuild(following)
            else:
                self._segment = self.reader.open_segment(following)
            return self._load()
        self._pending.extend(records)
        return True

    def _register(self, source_id: str, kind: str) -> None:
        if self._kinds.get(source_id) != kind or source_id not in self.store.sources:
            self._kinds[source_id] = kind
            self.store.register_source(source_id, kind=kind)

    def _apply(self, record: Record) -> None:
        store, source_id, kind = self.store, record.source_id, record.kind
        if kind == EVENTS:
            events = record.payload
            i, end = 0, len(events)
            while i < end:
                i = store.apply_events(source_id, events, i)
                if i < end:
                    store.apply_event(source_id, events[i])
                    i += 1
        elif kind == SNAPSHOT:
            if source_id not in store.sources:
                self._register(source_id, "cluster")
            store.apply_snapshot(source_id, record.payload)
        elif kind == STATE:
            change = record.payload
            self._register(source_id, change.kind)
            store.set_source_state(source_id, change.state, change.reason)
        elif kind == MALFORMED:
            store.record_malformed(source_id, record.payload)
        elif kind == AUDIT:
            store.merge_audit(source_id, record.payload)
        elif kind == OUTCOME and source_id in store.sources:
            outcome = record.payload
            detail = f": {outcome.get('detail')}" if outcome.get("detail") else ""
            what = f"{outcome.get('action')} {outcome.get('target')}: {outcome.get('outcome')}{detail}"
            store.log_source(source_id, f"command {what}")
