"""The console's idea of the server's "now", for ages, ETAs and due times.

Ages must be measured on the server's clock, not the operator's laptop: a simulated cluster runs faster than real
time, and a real server's clock may be off from ours. The clock follows the newest trusted server time (a snapshot's
``server_time``, a telemetry ``at``, a machine's ``last_seen``) and moves on at real speed in between. A time far
ahead of what we know (a lying or broken server) is not believed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

MAX_JUMP = timedelta(minutes=15)
"""An observed time further ahead than this of the current estimate is ignored unless it comes from a snapshot."""


class ServerClock:
    """An estimate of the server's current time."""

    def __init__(self, *, extrapolate: bool = True, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._base: datetime | None = None
        self._base_mono = 0.0
        self._extrapolate = extrapolate
        self._monotonic = monotonic
        self._driver: Callable[[], datetime] | None = None

    def drive(self, driver: Callable[[], datetime] | None) -> None:
        """Let ``driver`` tell the time (a replay's clock: the recorded time, at the replay's speed); while it does,
        :meth:`reset` and :meth:`observe` change nothing. ``None`` gives the clock back to the server's times."""
        self._driver = driver

    def reset(self, server_time: datetime) -> None:
        """Believe ``server_time`` (from a snapshot's cluster): it replaces the estimate, forwards or back."""
        if self._driver is not None:
            return
        self._base = server_time
        self._base_mono = self._monotonic()

    def observe(self, at: datetime) -> None:
        """A time seen in an event: move forward to it if it is plausible."""
        if self._driver is not None:
            return
        current = self.now()
        if current is None:
            self.reset(at)
            return
        if current < at and at - current <= MAX_JUMP:
            self._base = at
            self._base_mono = self._monotonic()

    def now(self) -> datetime | None:
        """The estimated server time, or ``None`` before anything was seen."""
        if self._driver is not None:
            return self._driver()
        if self._base is None:
            return None
        if not self._extrapolate:
            return self._base
        try:
            return self._base + timedelta(seconds=self._monotonic() - self._base_mono)
        except OverflowError:  # a server time at the end of the calendar (9999-12-31T23:59:59Z) stays there
            return self._base
