"""Tests of the small widgets: SpcChart, NodeStrip, QualityStrip, glyphs and themes."""

from __future__ import annotations

import pytest

from console.api.models import Node, Quality, SpcSeries
from tests.widgets.harness import T0, WidgetApp, screen_lines
from themes import CUSTOM_VARIABLES, DEFAULT_THEME, THEMES, choose_theme
from widgets.glyphs import kind_abbr, machine_state_look, set_ascii_only, telemetry_label
from widgets.node_strip import NodeStrip
from widgets.quality_strip import QualityStrip, sparkline
from widgets.spc_chart import SpcChart, rule_breaking_points

SERIES = SpcSeries(
    characteristic="bore [b]diameter[/b]",
    unit="mm",
    nominal=10.0,
    lsl=9.9,
    usl=10.1,
    lcl=9.95,
    ucl=10.05,
    values=[10.0 + 0.01 * ((i * 7) % 5 - 2) for i in range(30)] + [10.09, 10.01, 10.0],
    violations=["we1", "we9"],
    cpk=1.12,
)

NODES = [
    Node(id="N-0", name="Berlin", city="Berlin", lat=0, lon=0, state="online", last_seen=T0, machine_count=18),
    Node(id="N-1", name="Leipzig", city="Leipzig", lat=0, lon=0, state="degraded", last_seen=T0, machine_count=7),
    Node(id="N-2", name="Halle\x1b[5m", city="Halle", lat=0, lon=0, state="warp", last_seen=T0, machine_count=0),
]
COUNTS = {"N-0": {"running": 14, "idle": 3, "fault": 1}, "N-1": {"running": 5, "blocked": 2}}
QUALITY = Quality(
    scope="cluster",
    id="c",
    window_h=24,
    oee=0.58,
    availability=0.9,
    performance=0.8,
    quality_rate=0.97,
    first_pass_yield=0.93,
    scrap_rate=0.021,
    good_count=100,
    scrap_count=2,
)


def test_rule_breaking_points() -> None:
    assert rule_breaking_points([0, 0, 3.5, 0], 0, 1) == {2}  # we1
    assert rule_breaking_points([2.5, 0, 2.5], 0, 1) == {2}  # we2
    assert 4 in rule_breaking_points([1.5, 1.5, 0, 1.5, 1.5], 0, 1)  # we3
    assert rule_breaking_points([0.1] * 8, 0, 1) == {7}  # we4
    assert rule_breaking_points([0.1, -0.1] * 8, 0, 1) == set()
    assert rule_breaking_points([5.0], 0, 0) == set()


@pytest.mark.parametrize("size", [(40, 8), (100, 20)])
async def test_spc_chart_draws_limits_points_and_violations(size: tuple[int, int]) -> None:
    app = WidgetApp(SpcChart(SERIES))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert lines[0].startswith("bore [b]diamet")
        assert "Cpk 1.12 marginal" in lines[0]
        for label in ("USL", "UCL", "NOM", "LCL", "LSL"):
            assert label in text
        assert "✖" in text  # the 10.09 point breaks we1
        caption = lines[size[1] - 1]
        assert "rule 1" in caption and "we1" not in caption
        if size[0] >= 100:  # the rule in words, and the server's unknown code as it is
            assert "rule 1: a point beyond 3 sigma (1 point); we9 (reported by the server" in caption
        assert "•" in text


async def test_spc_chart_without_series() -> None:
    app = WidgetApp(SpcChart())
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        assert "No SPC data" in screen_lines(app)[0]


async def test_node_strip_cards_selection_and_messages() -> None:
    strip = NodeStrip()
    app = WidgetApp(strip)
    async with app.run_test(size=(60, 10)) as pilot:
        strip.set_nodes(NODES, COUNTS, {"N-0": 3})
        strip.focus()
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "All nodes ▶ 19 ○ 3 ■ 2 ✖ 1 !3" in text
        assert "Berlin ● online ▶ 14 ○ 3 ✖ 1 !3" in text
        assert "Leipzig ◐ degraded ▶ 5 ■ 2" in text
        assert "Halle␛[5m ? warp" in text
        await pilot.press("right", "right", "left", "home")
        await pilot.pause()
        assert [m.node_id for m in app.of_type(NodeStrip.Selected)] == ["N-0", "N-1", "N-0", None]
        await pilot.click(NodeStrip, offset=(5, 1))  # the Berlin card wrapped to the second line
        await pilot.pause()
        assert strip.selected == "N-0"
        strip.set_nodes(NODES[1:], COUNTS, {})  # the selected node went away: back to all nodes
        await pilot.pause()
        assert strip.selected is None


async def test_quality_strip_flags_only_values_off_target() -> None:
    strip = QualityStrip()
    app = WidgetApp(strip)
    async with app.run_test(size=(100, 3)) as pilot:
        strip.set_quality(QUALITY, [0.6, 0.65, 0.7, 0.72, 0.5, 0.58])
        await pilot.pause()
        line = screen_lines(app)[0]
        assert "OEE 24h 58.0%▼" in line  # the window the OEE covers (window_h) is stated
        assert "A 90% " in line and "P 80%▼" in line and "Q 97%)" in line
        assert "FPY 93.0%  scrap 2.1%" in line
        assert "▁" in line and "█" in line


def test_sparkline_scales() -> None:
    assert sparkline([0.0, 0.5, 1.0], 10) == "▁▅█"
    assert sparkline([0.0, 1.0, 0.0, 1.0], 2) == "▁█"


def test_glyphs_unknown_values_and_ascii() -> None:
    assert machine_state_look("fault").label == "✖ fault"
    assert machine_state_look("running").style == "normal"
    assert machine_state_look("warp\x1b").label == "? warp␛"
    assert kind_abbr("fdm_printer") == "FDM"
    assert kind_abbr("quantum_weaver") == "quantum…"
    assert telemetry_label("fdm_printer", {"bed_c": 60.0, "nozzle_c": 215.4}) == "nozzle 215°C"
    assert telemetry_label("cnc_mill", {"spindle_load_pct": 73.0}) == "load 73%"
    assert telemetry_label("x", {"weird\x1b": 1.25}) == "weird␛ 1.2"
    assert telemetry_label("x", {}) == ""
    set_ascii_only(True)
    try:
        assert machine_state_look("fault").label == "X fault"
    finally:
        set_ascii_only(False)


def test_themes_define_every_custom_variable() -> None:
    assert DEFAULT_THEME == "factory-dark"
    assert set(THEMES) == {"factory-dark", "factory-light", "isa101", "mono"}
    for theme in THEMES.values():
        assert set(CUSTOM_VARIABLES) <= set(theme.variables), theme.name
    assert choose_theme(None, {"NO_COLOR": "1"}) == "mono"
    assert choose_theme("isa101", {}) == "isa101"
    assert choose_theme(None, {}) == "factory-dark"


@pytest.mark.parametrize("theme", sorted(THEMES))
async def test_every_theme_loads_with_every_widget(theme: str) -> None:
    from widgets.data_grid import Column, DataGrid
    from widgets.machine_grid import MachineGrid

    app = WidgetApp(
        MachineGrid(), DataGrid([Column("a", "A")]), SpcChart(SERIES), NodeStrip(), QualityStrip(), theme=theme
    )
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        assert app.theme == theme
