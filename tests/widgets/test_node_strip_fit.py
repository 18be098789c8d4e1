"""The node strip keeps every node on screen in the lines it has, and its height does not jump."""

from __future__ import annotations

from console.api.models import Node
from tests.widgets.harness import T0, WidgetApp, screen_lines
from widgets.node_strip import NodeStrip

CITIES = ["Leeds", "Liverpool", "Manchester", "Newcastle", "Sheffield", "York"]
NODES = [
    Node.model_validate(
        {
            "id": f"N-{city[:3].upper()}",
            "name": f"{city} Micro-Factory",
            "city": city,
            "lat": 53.8,
            "lon": -1.5,
            "machine_count": 19,
            "state": "online",
            "last_seen": T0,
        }
    )
    for city in CITIES
]
CALM = {n.id: {"running": 14, "idle": 5} for n in NODES}


class TwoLines(NodeStrip):
    DEFAULT_CSS = "TwoLines { max-height: 2; }"


async def test_every_node_is_on_screen_at_80_columns_and_faults_show() -> None:
    strip = TwoLines()
    app = WidgetApp(strip)
    async with app.run_test(size=(80, 6)) as pilot:
        counts = {**CALM, "N-YOR": {"running": 10, "fault": 2, "blocked": 1}}
        strip.set_nodes(NODES, counts, {"N-YOR": 3})
        await pilot.pause()
        text = "\n".join(screen_lines(app)[:2])
        for city in CITIES:
            assert city in text, (city, text)
        assert "✖2" in text and "■1" in text and "!3" in text  # York's faults: what the operator must see
        assert strip.size.height == 2


async def test_full_cards_when_they_fit() -> None:
    strip = NodeStrip()
    app = WidgetApp(strip)
    async with app.run_test(size=(200, 6)) as pilot:
        strip.set_nodes(NODES, CALM, {})
        await pilot.pause()
        assert "Leeds Micro-Factory ● online ▶ 14 ○ 5" in "\n".join(screen_lines(app))


async def test_the_height_does_not_shrink_when_counts_go_away() -> None:
    strip = NodeStrip()
    app = WidgetApp(strip)
    async with app.run_test(size=(120, 8)) as pilot:
        busy = {n.id: {"running": 9, "idle": 3, "paused": 1, "blocked": 1, "fault": 1} for n in NODES}
        strip.set_nodes(NODES, busy, {n.id: 2 for n in NODES})
        await pilot.pause()
        tall = strip.size.height
        strip.set_nodes(NODES, CALM, {})
        await pilot.pause()
        assert strip.size.height == tall  # the grid below does not jump


async def test_at_60_columns_quiet_nodes_fold_and_every_node_in_trouble_stays() -> None:
    """The demo at 60x20 lost York (a blocked machine, two alerts) off the end of the two lines it has."""
    strip = TwoLines()
    app = WidgetApp(strip)
    async with app.run_test(size=(60, 6)) as pilot:
        counts = {
            **CALM,
            "N-LEE": {"running": 14, "blocked": 2, "fault": 1},
            "N-MAN": {"running": 13, "paused": 1},
            "N-NEW": {"running": 14, "fault": 1},
            "N-SHE": {"running": 9, "fault": 1},
            "N-YOR": {"running": 13, "blocked": 1},
        }
        strip.set_nodes(NODES, counts, {"N-LEE": 4, "N-MAN": 3, "N-NEW": 4, "N-SHE": 2, "N-YOR": 2})
        await pilot.pause()
        text = "\n".join(screen_lines(app)[:2])
        for city in ("Leeds", "Manchester", "Newcastle", "Sheffield", "York"):
            assert city in text, (city, text)
        assert "Liverpool" not in text and "+1 ok" in text, text  # the one node with nothing to attend is folded
        strip.select("N-LIV", notify=False)
        await pilot.pause()
        assert "Liverpool" in "\n".join(screen_lines(app)[:2])  # the selected node is never folded away
