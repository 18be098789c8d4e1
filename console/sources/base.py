"""What every source is (something that feeds the store until stopped) and the reconnect backoff they share."""

from __future__ import annotations

import random
from typing import Literal, Protocol, runtime_checkable

__all__ = ["Backoff", "Source"]


@runtime_checkable
class Source(Protocol):
    """A feed of one server's view into the store: ``run()`` until cancelled or ``stop()``-ped.

    A source calls the store directly (it runs on the app's asyncio loop) and never touches widgets.
    """

    source_id: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...


class Backoff:
    """Exponential backoff with jitter: the n-th retry waits up to ``min(max, base * 2**n)`` (the ceiling).

    Full jitter (``uniform(0, ceiling)``) spreads the reconnects of many consoles after a server restart instead of
    having them knock in step. Equal jitter (``ceiling/2 + uniform(0, ceiling/2)``) keeps a floor: for a loop that
    must really slow down (resyncs in a run), where a lucky draw of zero would defeat the point.
    """

    def __init__(
        self,
        base: float = 0.5,
        maximum: float = 30.0,
        rng: random.Random | None = None,
        *,
        jitter: Literal["full", "equal"] = "full",
    ) -> None:
        self.base = base
        self.maximum = maximum
        self.rng = rng or random.Random()
        self.jitter = jitter
        self.attempt = 0

    def next_delay(self, at_least: float | None = None) -> float:
        """The delay before the next attempt (counting it); at least ``at_least`` (a server's ``Retry-After``)."""
        ceiling = min(self.maximum, self.base * (2 ** min(self.attempt, 32)))
        self.attempt += 1
        low = ceiling / 2 if self.jitter == "equal" else 0.0
        delay = self.rng.uniform(low, ceiling)
        if at_least is not None:
            delay = max(delay, at_least)
        return delay

    def reset(self) -> None:
        self.attempt = 0
