"""Clocks that tell the simulation what time it is.

The simulation never reads the system clock itself: it asks a clock object, so tests drive it step by step
(``SteppedClock``) and the demo lets it follow the wall clock, sped up (``WallClock``). Both give timezone-aware UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

__all__ = ["DEFAULT_START", "SteppedClock", "WallClock"]

DEFAULT_START = datetime(2026, 11, 25, 8, 0, 0, tzinfo=UTC)
"""A fixed start so that two runs with the same seed tell the same story."""


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("clock start must be timezone-aware")
    return value.astimezone(UTC)


class SteppedClock:
    """A clock that moves only when told: deterministic tests advance it and call ``Simulation.tick()``."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += timedelta(seconds=seconds)


class WallClock:
    """Simulated time that follows the wall clock: ``start + monotonic elapsed * speed``.

    ``time.monotonic`` (not ``time.time``) so that a system clock jump does not make the world jump.
    """

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = _aware(start) if start is not None else datetime.now(UTC)
        self._speed = speed
        self._t0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self._speed)
