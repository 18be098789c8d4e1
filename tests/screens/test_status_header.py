"""The status header repaints its one line without laying the screen out again (issue 15: a layout a second, from the
header's clock, cost the whole screen 3-19 ms and held keys back behind it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console.screens.header import StatusHeader
from tests.widgets.harness import WidgetApp, screen_lines


def _show(header: StatusHeader, at: datetime, rate: float) -> None:
    header.show(
        cluster_name="North of England",
        sources=[],
        events_per_second=rate,
        operator="ann",
        role="operator",
        server_time=at,
        stale_after_s=30.0,
        badges=["DEMO"],
    )


async def test_a_new_second_repaints_the_line_and_lays_out_nothing() -> None:
    header = StatusHeader()
    app = WidgetApp(header)
    async with app.run_test(size=(100, 4)) as pilot:
        start = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
        _show(header, start, 10)
        await pilot.pause()
        layouts: list[bool] = []
        refresh = header.refresh

        def spy(*args: Any, layout: bool = False, **kwargs: Any) -> Any:
            layouts.append(layout)
            return refresh(*args, layout=layout, **kwargs)

        header.refresh = spy  # type: ignore[method-assign]
        for second in range(1, 4):
            _show(header, start + timedelta(seconds=second), 10 + second)
            await pilot.pause()
        assert layouts and not any(layouts)
        line = screen_lines(app)[0]
        assert "08:00:03 UTC" in line or "08:00 UTC" in line, line
        assert "13 ev/s" in line and "DEMO" in line
