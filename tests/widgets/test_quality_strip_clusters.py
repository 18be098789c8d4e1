"""The dashboard's quality strip with several clusters: each cluster's own OEE and first-pass yield, by name (no one
cluster's figures stand for everyone's, and "no data" is not said while each cluster has some)."""

from __future__ import annotations

from tests.store.factories import quality
from tests.widgets.harness import WidgetApp, screen_lines
from widgets.quality_strip import QualityStrip


async def test_each_clusters_oee_and_fpy_and_the_low_one_marked() -> None:
    strip = QualityStrip()
    app = WidgetApp(strip)
    north = quality("cluster", "north/CL", oee=0.844, first_pass_yield=0.975)
    south = quality("cluster", "south/CL", oee=0.52, first_pass_yield=0.96)
    async with app.run_test(size=(120, 3)) as pilot:
        strip.set_quality(None, [], [("north", north), ("south", south)])
        await pilot.pause()
        line = screen_lines(app)[0]
        assert "north OEE 24h 84.4% FPY 97.5%" in line, line
        assert "south OEE 24h 52.0%▼" in line, line  # below the OEE target: marked, not only coloured
        assert "no data" not in line
        strip.set_quality(None, [], [])
        await pilot.pause()
        assert "quality: no data" in screen_lines(app)[0]
