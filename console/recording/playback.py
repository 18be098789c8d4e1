"""What the app and the screens may ask of a replay (:class:`Playback`), and reading the time an operator types.

The replay source (``console.sources.replay``) implements :class:`Playback`; the session hands it to the app, which
binds the replay keys to it and shows its state in the header. Neither asks which kind of source it is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol

from console.recording.format import Mark

__all__ = ["SPEEDS", "STEP_S", "Playback", "SeekError", "parse_seek"]

SPEEDS: tuple[int, ...] = (1, 2, 5, 10, 30, 60)
"""Replay speeds, in recorded seconds per second; ``+`` and ``-`` move along them."""
STEP_S = 10.0
"""How far ``[`` and ``]`` step, in recorded seconds."""


class SeekError(ValueError):
    """What the operator typed is not a time; the message says what is expected."""


class Playback(Protocol):
    """A replay's controls and state (times are the recorded server time)."""

    @property
    def position(self) -> datetime: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def playing(self) -> bool: ...

    @property
    def speed(self) -> int: ...

    @property
    def at_end(self) -> bool: ...

    def toggle(self) -> None: ...

    def faster(self) -> None: ...

    def slower(self) -> None: ...

    def step(self, direction: int) -> None:
        """Pause and move :data:`STEP_S` forward (``1``) or back (``-1``)."""
        ...

    def seek(self, when: datetime) -> None: ...

    def next_mark(self) -> Mark | None:
        """Pause at the next alert or state change; ``None`` when there is none."""
        ...


_OFFSET = re.compile(r"^([+-])\s*((?:\d+(?:\.\d+)?\s*[hms]\s*)+)$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([hms])")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}

HINT = "HH:MM[:SS] (recorded time, UTC) or an offset such as -15m, +1h30m, -90s"


def parse_seek(text: str, now: datetime, start: datetime, end: datetime) -> datetime:
    """The time ``text`` names: a clock time ``HH:MM[:SS]`` (UTC; the day of ``now``, else the nearest day within
    ``start``..``end``), an offset from ``now`` (``-15m``, ``+1h30m``, ``-90s``) or an ISO date and time. The result
    is kept within ``start``..``end``. Raises :class:`SeekError`."""
    value = text.strip().lower()
    if not value:
        raise SeekError(f"type a time: {HINT}")
    offset = _OFFSET.match(value)
    if offset:
        seconds = sum(float(n) * _UNIT[u] for n, u in _PART.findall(offset.group(2)))
        target = now + timedelta(seconds=seconds if offset.group(1) == "+" else -seconds)
        return _within(target, start, end)
    clock = _CLOCK.match(value)
    if clock:
        hours, minutes, seconds = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
        if hours > 23 or minutes > 59 or seconds > 59:
            raise SeekError(f"not a time of day: {text.strip()[:20]!r}; {HINT}")
        day = now.astimezone(UTC).replace(hour=hours, minute=minutes, second=seconds, microsecond=0)
        candidates = [day + timedelta(days=n) for n in (0, -1, 1)]
        inside = [c for c in candidates if start <= c <= end]
        return inside[0] if inside else _within(day, start, end)
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SeekError(f"not a time: {text.strip()[:20]!r}; {HINT}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _within(parsed, start, end)


def _within(value: datetime, start: datetime, end: datetime) -> datetime:
    return max(start, min(end, value))
