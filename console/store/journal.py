"""The alert journal: one row per transition of each alert, so acked and cleared alerts stay findable.

The store's ``alerts`` table holds what is unresolved now; an alert that resolves leaves it, and ``active_acked``
says nothing of who or why. The journal keeps the story instead: a :class:`JournalRow` per transition, in the order
the console heard of them, bounded (the last :data:`DEFAULT_CAPACITY` rows; older ones are dropped and counted).

Transitions (:data:`TRANSITIONS`), worked out by comparing each alert the store takes (a snapshot's or an
``alert.raised`` / ``alert.updated`` event's) with the last one the journal knows of the same id:

* ``raised``: an alert id seen for the first time (at its ``raised_at``); an alert first seen already acked,
  shelved or cleared gets those rows too, so its detail says who acked it;
* ``re-raised``: its condition came back (it had cleared, resolved or gone); ``count``: it fired again while
  active (``count`` grew);
* ``acked`` (``who`` = ``acked_by``, ``note`` = ``ack_note``), ``shelved`` (``until``; ``who`` when the server's
  audit trail names who did it: :meth:`AlertJournal.note_audit`), ``unshelved`` (``note`` says when a shelve ran
  out), ``cleared`` (the condition went, unacknowledged), ``resolved``;
* ``gone``: it was in a source's last snapshot and is missing from its new one without a ``resolved`` (resolved
  while the console was away), and no other source still holds it;
* ``changed``: a state this console does not know (``note`` is the state), shown as it is.

Why a comparison and not the event type: a snapshot re-applied after a reconnect brings every alert again, and two
sources (the cluster API and a node's agent) report the same alert; only a real change makes a row. An alert older
than the one known (``updated_at`` before it: a lagging source) is ignored.

Cost: O(1) per alert (a dict lookup, a few attribute compares, an append); rows are slotted objects of references
the alert already holds (about 150 bytes each, ~7 MB at 50,000). No Textual, no Rich: this is the store layer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from console.api.models import Alert, AuditEntry, SourceRef

__all__ = ["ACTIVATIONS", "COUNT", "DEFAULT_CAPACITY", "TRANSITIONS", "AlertJournal", "JournalRow"]

DEFAULT_CAPACITY = 50_000
"""Rows kept; the oldest go first."""

RAISED = "raised"
RE_RAISED = "re-raised"
COUNT = "count"
ACKED = "acked"
SHELVED = "shelved"
UNSHELVED = "unshelved"
CLEARED = "cleared"
RESOLVED = "resolved"
GONE = "gone"
CHANGED = "changed"

TRANSITIONS: tuple[str, ...] = (RAISED, RE_RAISED, COUNT, ACKED, SHELVED, UNSHELVED, CLEARED, RESOLVED, GONE, CHANGED)
"""Every transition the journal records."""

ACTIVATIONS = frozenset({RAISED, RE_RAISED})
"""The transitions that annunciate an alarm (what ISA-18.2 rates count)."""

_CONDITION: dict[str, bool | None] = {
    "active_unacked": True,
    "active_acked": True,
    "cleared_unacked": False,
    "resolved": False,
    "shelved": None,  # shelving hides whether the condition is present
}
"""Is the alarm's condition present in this state (``None``: cannot tell)."""

_AUDITED = {"alert.ack": ACKED, "alert.shelve": SHELVED, "alert.unshelve": UNSHELVED}
"""Commands whose audit entry names who made a transition the alert itself does not (a shelve's operator)."""

_LOOK_BACK = 64
"""How many recent rows :meth:`AlertJournal.note_audit` searches for the row an audit entry completes."""

_WAITING_LIMIT = 256


class JournalRow:
    """One transition of one alert. ``id``, ``priority``, ``state``, ``code``, ``message`` and ``source`` are the
    alert's (as after this transition), so the ``/`` language's alert tests apply to a row as they do to an alert."""

    __slots__ = (
        "at",
        "code",
        "count",
        "id",
        "message",
        "n",
        "note",
        "priority",
        "server",
        "source",
        "state",
        "transition",
        "until",
        "who",
    )

    def __init__(
        self,
        n: int,
        at: datetime,
        alert: Alert,
        transition: str,
        server: str,
        *,
        who: str | None = None,
        note: str | None = None,
        state: str | None = None,
    ) -> None:
        self.n = n
        """The row's number: grows by one per row, never reused (the list's key)."""
        self.at = at
        """When, on the server's clock: the alert's ``updated_at`` (``raised_at`` for ``raised``)."""
        self.id = alert.id
        self.source: SourceRef = alert.source
        self.code = alert.code
        self.priority = alert.priority
        self.state = alert.state if state is None else state
        self.message = alert.message
        self.count = alert.count
        self.until = alert.shelved_until
        self.transition = transition
        self.who = who
        self.note = note
        self.server = server
        """The source (server) the alert came from."""

    def __repr__(self) -> str:
        return f"JournalRow({self.n}, {self.at.isoformat()}, {self.id}, {self.transition}, who={self.who!r})"


class _Track:
    """What the journal knows of one alert id: the last alert, its condition, whether it ended, its row count."""

    __slots__ = ("alert", "condition", "ended", "rows")

    def __init__(self, alert: Alert, condition: bool | None) -> None:
        self.alert = alert
        self.condition = condition
        self.ended = False
        self.rows = 0


class AlertJournal:
    """The rows, oldest first, and the last known alert of every id that has rows or is alive."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = max(1, capacity)
        self.rows: deque[JournalRow] = deque()
        self.dropped = 0
        """Rows dropped to stay within ``capacity``."""
        self.version = 0
        """Grows on every change (a row added or completed): a screen compares it to know whether to redraw."""
        self.since: datetime | None = None
        """The server's time when the journal started listening: figures cover no time before it."""
        self._tracks: dict[str, _Track] = {}
        self._n = 0
        self._waiting: dict[tuple[str, str], str] = {}
        """``(alert id, transition) -> operator`` from audit entries that came before their transition."""

    # --- reading --------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[JournalRow]:
        return iter(self.rows)

    @property
    def total(self) -> int:
        """Rows ever recorded (kept + dropped)."""
        return self._n

    @property
    def first_n(self) -> int:
        """The number of the oldest row kept (``total + 1`` when empty)."""
        return self.rows[0].n if self.rows else self._n + 1

    def last_alert(self, alert_id: str) -> Alert | None:
        """The last alert the journal knows by this id (resolved and gone ones too), or ``None``."""
        track = self._tracks.get(alert_id)
        return None if track is None else track.alert

    def is_alive(self, alert_id: str) -> bool:
        """Known, and not resolved or gone."""
        track = self._tracks.get(alert_id)
        return track is not None and not track.ended

    def alerts(self) -> Iterator[Alert]:
        """The last known alert of every id the journal tracks."""
        return (track.alert for track in self._tracks.values())

    def rows_of(self, alert_id: str) -> list[JournalRow]:
        """Every kept row of one alert, oldest first (its whole life, as far as the journal reaches back)."""
        return [row for row in self.rows if row.id == alert_id]

    def row(self, n: int) -> JournalRow | None:
        """The row numbered ``n``, if it is still kept (O(1): numbers are consecutive)."""
        first = self.first_n
        if first <= n <= self._n:
            return self.rows[n - first]
        return None

    # --- writing --------------------------------------------------------------------------------------------------

    def observe(self, server: str, alert: Alert) -> None:
        """Take one alert as a source reports it now (an event's, or a snapshot's); record what changed."""
        track = self._tracks.get(alert.id)
        if track is None:
            self._first(server, alert)
            return
        prev = track.alert
        if prev is alert:
            return
        at = alert.updated_at
        if at < prev.updated_at or (at == prev.updated_at and prev.state == RESOLVED):
            return  # older than what we know (a lagging source), or a copy of a resolved alert from before it resolved
        state = alert.state
        if (
            state == prev.state
            and alert.count == prev.count
            and alert.acked_by == prev.acked_by
            and alert.shelved_until == prev.shelved_until
            and alert.ack_note == prev.ack_note
            and not track.ended
        ):
            track.alert = alert  # the same alert again (a re-applied snapshot, a second source), or a new message
            return
        self._diff(server, track, prev, alert)

    def observe_snapshot(
        self, server: str, alerts: Iterable[Alert], before: Iterable[str], held: Callable[[str], bool], at: datetime
    ) -> None:
        """A source's snapshot: each alert as :meth:`observe` (oldest raised first); an id in ``before`` (what this
        source held) that the snapshot lacks, and no source still ``held``, is ``gone`` (at ``at``, the snapshot's
        server time)."""
        if self.since is None:
            self.since = at
        seen: set[str] = set()
        length, dropped, first_n = len(self.rows), self.dropped, self._n + 1
        for alert in sorted(alerts, key=_raised_order):  # first sights then come in the order they were raised
            self.observe(server, alert)
            seen.add(alert.id)
        if self.dropped == dropped:
            self._in_time_order(len(self.rows) - length, first_n)
        for alert_id in before:
            if alert_id in seen or held(alert_id):
                continue
            track = self._tracks.get(alert_id)
            if track is None or track.ended:
                continue
            self._add(track, at, track.alert, GONE, server)
            track.ended = True
            track.condition = False

    def _in_time_order(self, count: int, first_n: int) -> None:
        """The last ``count`` rows (one snapshot's) in the order they happened, numbered afresh from ``first_n``.

        A first sight makes its alert's raise and, right after it, its ack or clear hours later; without this the
        history, newest first by number, showed an ack at 07:58 below a raise at 07:40."""
        if count < 2:
            return
        rows = self.rows
        tail = sorted((rows.pop() for _ in range(count)), key=lambda row: (row.at, row.n))
        for offset, row in enumerate(tail):
            row.n = first_n + offset
        rows.extend(tail)

    def note_audit(self, entry: AuditEntry) -> None:
        """An applied alert command names its operator: complete the row it made (or the one it will make)."""
        transition = _AUDITED.get(entry.action)
        if transition is None or entry.outcome != "applied" or entry.target.kind != "alert":
            return
        alert_id = entry.target.id
        for index, row in enumerate(reversed(self.rows)):
            if index >= _LOOK_BACK:
                break
            if row.id == alert_id and row.transition == transition:
                if row.who is None:
                    row.who = entry.operator
                    self.version += 1
                return
        if len(self._waiting) >= _WAITING_LIMIT:
            self._waiting.pop(next(iter(self._waiting)))
        self._waiting[(alert_id, transition)] = entry.operator

    # --- how rows are made ----------------------------------------------------------------------------------------

    def _first(self, server: str, alert: Alert) -> None:
        state = alert.state
        condition = _CONDITION.get(state)
        track = _Track(alert, condition)
        self._tracks[alert.id] = track
        if self.since is None:
            self.since = alert.updated_at
        if state == RESOLVED:
            self._add(track, alert.updated_at, alert, RESOLVED, server)
            track.ended = True
            return
        self._add(track, alert.raised_at, alert, RAISED, server, state="active_unacked")
        at = alert.updated_at
        if _acked(alert):
            self._add(track, at, alert, ACKED, server, who=alert.acked_by, note=alert.ack_note)
        if state == SHELVED:
            self._add(track, at, alert, SHELVED, server)
        elif condition is False:
            self._add(track, at, alert, CLEARED, server)
        elif condition is None:
            self._add(track, at, alert, CHANGED, server, note=state)

    def _diff(self, server: str, track: _Track, prev: Alert, alert: Alert) -> None:
        at = alert.updated_at
        state = alert.state
        was = track.condition
        known = _CONDITION.get(state)
        condition = was if known is None else known  # shelving hides the condition: keep what was last known
        came_back = track.ended and state != RESOLVED
        if condition is True and (was is False or came_back):
            self._add(track, at, alert, RE_RAISED, server)
        elif alert.count > prev.count:
            self._add(track, at, alert, COUNT, server, note=f"{prev.count} -> {alert.count}")
        if _acked(alert) and (not _acked(prev) or (alert.acked_by is not None and alert.acked_by != prev.acked_by)):
            self._add(track, at, alert, ACKED, server, who=alert.acked_by, note=alert.ack_note)
        if state == SHELVED:
            if prev.state != SHELVED or alert.shelved_until != prev.shelved_until:
                note = alert.ack_note if alert.ack_note != prev.ack_note else None
                self._add(track, at, alert, SHELVED, server, note=note)
        elif prev.state == SHELVED:
            ran_out = prev.shelved_until is not None and at >= prev.shelved_until
            self._add(track, at, alert, UNSHELVED, server, note="the shelve ran out" if ran_out else None)
        if state == RESOLVED:
            if not track.ended:
                self._add(track, at, alert, RESOLVED, server)
        elif condition is False and was is not False:
            self._add(track, at, alert, CLEARED, server)
        elif state not in _CONDITION and state != prev.state:
            self._add(track, at, alert, CHANGED, server, note=state)
        track.alert = alert
        track.condition = condition
        track.ended = state == RESOLVED

    def _add(
        self,
        track: _Track,
        at: datetime,
        alert: Alert,
        transition: str,
        server: str,
        *,
        who: str | None = None,
        note: str | None = None,
        state: str | None = None,
    ) -> None:
        rows = self.rows
        if len(rows) >= self.capacity:
            self._drop()
        if who is None and self._waiting:
            who = self._waiting.pop((alert.id, transition), None)
        self._n += 1
        rows.append(JournalRow(self._n, at, alert, transition, server, who=who, note=note, state=state))
        track.rows += 1
        self.version += 1

    def _drop(self) -> None:
        old = self.rows.popleft()
        self.dropped += 1
        track = self._tracks.get(old.id)
        if track is not None:
            track.rows -= 1
            if track.rows <= 0 and track.ended:
                del self._tracks[old.id]  # resolved or gone, and no row left to show it


def _raised_order(alert: Alert) -> tuple[datetime, str]:
    return (alert.raised_at, alert.id)


def _acked(alert: Alert) -> bool:
    return alert.acked_by is not None or alert.state == "active_acked"
