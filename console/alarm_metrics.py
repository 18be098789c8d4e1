"""ISA-18.2 alarm-system figures, computed from the alert journal (:mod:`console.store.journal`) over a window.

Pure functions (no Textual, no I/O), on the server's clock: the caller passes ``now`` (:func:`figures_now` reads it
from a :class:`~console.server_clock.ServerClock`), never this machine's time. The definitions (also in
``docs/alert-journal.md``):

* an *annunciation* is a ``raised`` or ``re-raised`` row (the alarm became active); an *occurrence* is an
  annunciation or a ``count`` row (the condition fired again while active);
* **rates**: annunciations in the last hour and the last 10 minutes, the busiest 10 minutes of the window, and the
  average per hour over the part of the window the journal covers (since it started listening), of the
  annunciations in that part only (the first snapshot's older alerts are not spread over the time heard);
* **floods**: periods with more than :data:`FLOOD_COUNT` annunciations in :data:`FLOOD_WINDOW`: each sliding
  10-minute window over that count marks its first to its last annunciation; overlapping ones merge into one period
  (start, end, annunciations in it);
* **chattering**: a code on one source annunciated :data:`CHATTER_COUNT` or more times within
  :data:`CHATTER_WINDOW`;
* **stale**: an alert whose last known state is active (acked or not) and has been since more than
  :data:`STALE_AFTER` (since its last annunciation in the journal, else its ``raised_at``);
* **priority mix** of the window's annunciations against the guideline: low and medium together at least
  :data:`LOW_MEDIUM_MIN`, critical under :data:`CRITICAL_MAX` (judged from :data:`MIX_MIN_ALARMS` annunciations on);
* **top codes**: the :data:`TOP_CODES` codes with the most occurrences; **repeats**: occurrences grouped by source
  and code, one row each with its count, most first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from console.api.models import Alert
from console.server_clock import ServerClock
from console.store.journal import ACTIVATIONS, COUNT, AlertJournal, JournalRow

__all__ = [
    "CHATTER_COUNT",
    "CHATTER_WINDOW",
    "CRITICAL_MAX",
    "DEFAULT_WINDOW",
    "FLOOD_COUNT",
    "FLOOD_WINDOW",
    "LOW_MEDIUM_MIN",
    "MIX_MIN_ALARMS",
    "STALE_AFTER",
    "TOP_CODES",
    "AlarmFigures",
    "FloodPeriod",
    "PriorityMix",
    "Repeat",
    "StaleAlert",
    "alarm_figures",
    "figures_now",
    "floods",
    "priority_mix",
]

DEFAULT_WINDOW = timedelta(hours=24)
FLOOD_WINDOW = timedelta(minutes=10)
FLOOD_COUNT = 10
"""A flood is *more than* this many annunciations in :data:`FLOOD_WINDOW`."""
CHATTER_WINDOW = timedelta(minutes=1)
CHATTER_COUNT = 3
STALE_AFTER = timedelta(hours=24)
LOW_MEDIUM_MIN = 0.80
CRITICAL_MAX = 0.05
MIX_MIN_ALARMS = 20
"""Fewer annunciations than this are too few to judge the mix by (three alarms, one of them high, is not a badly
designed alarm system): the shares are given, the verdict is not."""
TOP_CODES = 10
PRIORITIES = ("critical", "high", "medium", "low")

_ACTIVE = frozenset({"active_unacked", "active_acked"})
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class FloodPeriod:
    start: datetime
    end: datetime
    count: int


@dataclass(frozen=True, slots=True)
class Repeat:
    """One code on one source: its occurrences in the window, and the most of them within one
    :data:`CHATTER_WINDOW` (``most_in_window``: what makes it chatter)."""

    source_kind: str
    source_id: str
    code: str
    priority: str
    count: int
    first: datetime
    last: datetime
    most_in_window: int = 0


@dataclass(frozen=True, slots=True)
class StaleAlert:
    alert: Alert
    active_since: datetime


@dataclass(frozen=True, slots=True)
class PriorityMix:
    counts: dict[str, int]
    """Annunciations by priority (``other``: a priority the contract does not name)."""
    total: int

    def share(self, priority: str) -> float:
        return self.counts.get(priority, 0) / self.total if self.total else 0.0

    @property
    def low_medium(self) -> float:
        counts = self.counts
        return (counts.get("low", 0) + counts.get("medium", 0)) / self.total if self.total else 0.0

    @property
    def critical(self) -> float:
        return self.share("critical")

    @property
    def within_guideline(self) -> bool | None:
        """Low and medium at least 80 %, critical under 5 % (``None``: fewer than :data:`MIX_MIN_ALARMS` to judge)."""
        if self.total < MIX_MIN_ALARMS:
            return None
        return self.low_medium >= LOW_MEDIUM_MIN and self.critical < CRITICAL_MAX


@dataclass(frozen=True, slots=True)
class AlarmFigures:
    now: datetime
    window: timedelta
    covered: timedelta
    """How much of the window the journal saw (from when it started listening, at most the window)."""
    raised: int
    """Annunciations in the window."""
    last_hour: int
    last_10_min: int
    peak_10_min: int
    floods: list[FloodPeriod]
    chattering: list[Repeat]
    stale: list[StaleAlert]
    mix: PriorityMix
    top_codes: list[tuple[str, int]]
    repeats: list[Repeat]
    per_hour: float = field(default=0.0)
    """Average annunciations per hour over :attr:`covered` (at least 10 minutes of it, so a fresh start does not
    read as a storm): :attr:`heard` of them, not those raised before the journal listened."""
    heard: int = field(default=0)
    """Annunciations in :attr:`covered`. :attr:`raised` also counts the rows a first snapshot brought of alerts
    raised earlier (at their ``raised_at``): a partial sample (alerts that came and went before are not in it), so
    they are not averaged over the time heard."""


def figures_now(journal: AlertJournal, clock: ServerClock, window: timedelta = DEFAULT_WINDOW) -> AlarmFigures | None:
    """The figures at the server's current time (``None`` until the console has heard the server's time)."""
    now = clock.now()
    if now is None:
        return None
    return alarm_figures(journal.rows, now, window=window, alerts=journal.alerts(), since=journal.since)


def alarm_figures(
    rows: Iterable[JournalRow],
    now: datetime,
    *,
    window: timedelta = DEFAULT_WINDOW,
    alerts: Iterable[Alert] = (),
    since: datetime | None = None,
) -> AlarmFigures:
    """Every figure over ``(now - window, now]``; ``alerts`` are the last known alerts (for stale ones), ``since``
    when the journal started listening."""
    start = now - window
    annunciations: list[JournalRow] = []
    occurrences: list[JournalRow] = []
    last_activation: dict[str, datetime] = {}
    for row in rows:
        transition = row.transition
        if transition in ACTIVATIONS:
            at = row.at
            seen = last_activation.get(row.id)
            if seen is None or at > seen:
                last_activation[row.id] = at
            if start < at <= now:
                annunciations.append(row)
                occurrences.append(row)
        elif transition == COUNT and start < row.at <= now:
            occurrences.append(row)
    times = sorted(row.at for row in annunciations)
    covered_from = start if since is None or since < start else min(since, now)
    covered = now - covered_from
    hours = max(covered, FLOOD_WINDOW) / _HOUR
    heard = len(times) - bisect_right(times, covered_from)
    repeats = _group(occurrences)
    return AlarmFigures(
        now=now,
        window=window,
        covered=covered,
        raised=len(times),
        last_hour=len(times) - bisect_right(times, now - _HOUR),
        last_10_min=len(times) - bisect_right(times, now - FLOOD_WINDOW),
        peak_10_min=_peak(times, FLOOD_WINDOW),
        floods=floods(times),
        chattering=_group(annunciations, chatter_only=True),
        stale=_stale(alerts, last_activation, now),
        mix=priority_mix(annunciations),
        top_codes=_top_codes(occurrences),
        repeats=repeats,
        per_hour=heard / hours,
        heard=heard,
    )


def floods(times: list[datetime], window: timedelta = FLOOD_WINDOW, more_than: int = FLOOD_COUNT) -> list[FloodPeriod]:
    """Flood periods in sorted annunciation ``times`` (see the module docstring)."""
    spans: list[tuple[datetime, datetime]] = []
    j = 0
    n = len(times)
    for i in range(n):
        j = max(j, i)
        while j < n and times[j] < times[i] + window:
            j += 1
        if j - i > more_than:
            first, last = times[i], times[j - 1]
            if spans and first <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], last))
            else:
                spans.append((first, last))
    return [FloodPeriod(a, b, bisect_right(times, b) - bisect_left(times, a)) for a, b in spans]


def priority_mix(annunciations: Iterable[JournalRow]) -> PriorityMix:
    counts: Counter[str] = Counter()
    for row in annunciations:
        priority = row.priority.casefold()
        counts[priority if priority in PRIORITIES else "other"] += 1
    return PriorityMix(dict(counts), sum(counts.values()))


def _peak(times: list[datetime], window: timedelta) -> int:
    best = 0
    j = 0
    for i in range(len(times)):
        while times[i] - times[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    return best


def _by_source_and_code(rows: list[JournalRow]) -> dict[tuple[str, str, str], list[JournalRow]]:
    groups: dict[tuple[str, str, str], list[JournalRow]] = {}
    for row in rows:
        groups.setdefault((row.source.kind, row.source.id, row.code), []).append(row)
    return groups


def _group(rows: list[JournalRow], *, chatter_only: bool = False) -> list[Repeat]:
    """Rows by source and code, one :class:`Repeat` each, most first (then the latest first, then by name). With
    ``chatter_only`` only the groups with :data:`CHATTER_COUNT` or more within :data:`CHATTER_WINDOW`."""
    repeats = []
    for (kind, ident, code), members in _by_source_and_code(rows).items():
        if chatter_only and len(members) < CHATTER_COUNT:
            continue
        times = sorted(row.at for row in members)
        most = _peak_inclusive(times, CHATTER_WINDOW)
        if chatter_only and most < CHATTER_COUNT:
            continue
        newest = max(members, key=lambda r: (r.at, r.n))
        repeats.append(Repeat(kind, ident, code, newest.priority, len(members), times[0], times[-1], most))
    repeats.sort(key=lambda r: (-r.count, -r.last.timestamp(), r.source_id, r.code))
    return repeats


def _peak_inclusive(times: list[datetime], window: timedelta) -> int:
    """The most ``times`` within any span of ``window`` (both ends included: three in exactly a minute chatter)."""
    best = 0
    j = 0
    for i in range(len(times)):
        while times[i] - times[j] > window:
            j += 1
        best = max(best, i - j + 1)
    return best


def _stale(alerts: Iterable[Alert], last_activation: dict[str, datetime], now: datetime) -> list[StaleAlert]:
    limit = now - STALE_AFTER
    stale = []
    for alert in alerts:
        if alert.state not in _ACTIVE:
            continue
        since = last_activation.get(alert.id, alert.raised_at)
        if since < limit:
            stale.append(StaleAlert(alert, since))
    stale.sort(key=lambda s: (s.active_since, s.alert.id))
    return stale


def _top_codes(occurrences: list[JournalRow]) -> list[tuple[str, int]]:
    counts = Counter(row.code for row in occurrences)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_CODES]
