"""When the app's next coalesced flush runs: ``refresh_ms`` after the store's news, or later when flushes are dear.

Why: the app gathers the store's changes for ``refresh_ms`` (100 ms) and hands them to the visible screen in one
flush. Under a heavy stream (the demo's own mix at 20,000 machines, ~9,000 events/s of which ~4,000 are machine, job
and quality updates) every flush has changes, and a flush pays fixed costs whatever it holds: the dashboard places
20,000 machines in its grid's order, redraws the node strip's 200 cards, sorts thousands of active alerts, and the
frame after it is composed. Paid ten times a second, those were a third of the console's CPU (issue 15).

So the wait after a flush grows with what that flush cost the loop's thread: :data:`DUTY` times its CPU, never less
than ``refresh_ms`` and never more than :data:`MAX_DELAY_S`. Flushes (and the frames they cause) then take about a
:data:`DUTY`-th of the loop whatever the stream's rate, leaving the rest to keys and the sources. A cheap flush (a
small cluster, a quiet stream: nearly every case) is followed by ``refresh_ms`` exactly as before. What an operator
sees under such a stream: the screen moves a few times a second instead of ten, each change at most
:data:`MAX_DELAY_S` later (the stream-to-screen target is 1 s); keys are not flushes and do not wait for one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["DUTY", "MAX_DELAY_S", "FlushPace"]

DUTY = 10.0
"""The wait after a flush is at least this many times the flush's CPU (a flush at most ~1/10 of the loop)."""
MAX_DELAY_S = 0.5
"""The longest wait: a change is on screen within ``MAX_DELAY_S`` plus a flush, well inside the 1 s lag target."""


class FlushPace:
    """The last flush's CPU on the loop's thread, and the wait it asks for. ``clock`` is that thread's CPU clock
    (``time.thread_time``: another thread's work, the recorder's writer, is not the loop's), injectable for tests."""

    __slots__ = ("_clock", "_started", "last_cost_s")

    def __init__(self, clock: Callable[[], float] = time.thread_time) -> None:
        self._clock = clock
        self._started = 0.0
        self.last_cost_s = 0.0
        """CPU seconds the last flush took on the loop's thread."""

    def start(self) -> None:
        self._started = self._clock()

    def done(self) -> None:
        self.last_cost_s = max(0.0, self._clock() - self._started)

    def delay(self, refresh_s: float) -> float:
        """Seconds to wait before the next flush, ``refresh_s`` being the configured ``refresh_ms``."""
        return max(refresh_s, min(DUTY * self.last_cost_s, MAX_DELAY_S))
