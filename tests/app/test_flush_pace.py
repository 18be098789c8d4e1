"""The wait before the next coalesced flush: ``refresh_ms`` after a cheap flush, ``DUTY`` times a dear flush's CPU
(at most ``MAX_DELAY_S``) after a dear one, so flushes take a bounded share of the loop under a heavy stream
(issue 15). No timing is measured: the flushes' CPU comes from a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from console.flush_pace import DUTY, MAX_DELAY_S, FlushPace
from tests.app.conftest import wait_for


def stepping_clock(step: float) -> Callable[[], float]:
    """A CPU clock that moves ``step`` seconds at each reading: every flush costs ``step``."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


@pytest.mark.parametrize(
    ("cost", "expected"),
    [(0.0, 0.1), (0.005, 0.1), (0.02, DUTY * 0.02), (0.04, DUTY * 0.04), (0.2, MAX_DELAY_S)],
)
def test_the_wait_follows_the_flush_cost(cost: float, expected: float) -> None:
    pace = FlushPace(clock=stepping_clock(cost))
    assert pace.delay(0.1) == 0.1  # before any flush
    pace.start()
    pace.done()
    assert pace.last_cost_s == pytest.approx(cost)
    assert pace.delay(0.1) == pytest.approx(expected)


def test_a_longer_refresh_setting_is_kept() -> None:
    pace = FlushPace(clock=stepping_clock(0.2))
    pace.start()
    pace.done()
    assert pace.delay(2.0) == 2.0  # refresh_ms above the cap: the operator's setting wins


async def test_the_app_waits_longer_after_a_dear_flush(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.grid.machine_ids), what="machines on the grid")
        delays: list[float] = []
        set_timer = app.set_timer

        def spy(delay: float, callback: Any = None, *, name: str | None = None, **kw: Any) -> Any:
            if name == "flush":
                delays.append(delay)
            return set_timer(delay, callback, name=name, **kw)

        app.set_timer = spy
        app.flush_pace = FlushPace(clock=stepping_clock(0.03))  # every flush "costs" 30 ms of the loop's CPU
        app.flush_changes()
        app.test_server.advance(30)  # news for the store: the next flush is scheduled
        await wait_for(pilot, lambda: bool(delays), what="the next flush scheduled")
        assert delays[0] == pytest.approx(max(app.settings.refresh_ms / 1000, DUTY * 0.03))
