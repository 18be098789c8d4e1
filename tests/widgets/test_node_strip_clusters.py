"""The node strip with several clusters (docs/multi-cluster.md): a group per cluster behind its label, short names
apart within a cluster, and one card per cluster when even the shortest node cards do not fit."""

from __future__ import annotations

from console.api.models import Node
from tests.widgets.harness import WidgetApp, screen_lines
from tests.widgets.test_node_strip_fit import CALM, NODES, TwoLines
from widgets.node_strip import NodeStrip

CLUSTERS = ("north", "south", "east")


def qualified(cluster: str, node: Node) -> Node:
    return node.model_copy(update={"id": f"{cluster}/{node.id}"})


ALL = [qualified(c, n) for c in CLUSTERS for n in NODES]
COUNTS = {f"{c}/{nid}": counts for c in CLUSTERS for nid, counts in CALM.items()}


async def test_a_group_per_cluster_behind_its_label() -> None:
    strip = NodeStrip(clusters=CLUSTERS)
    app = WidgetApp(strip)
    async with app.run_test(size=(160, 12)) as pilot:
        strip.set_nodes(ALL[:6] + ALL[6:12], COUNTS, {})
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert text.index("north:") < text.index("Leeds") < text.index("south:")
        assert "north/" not in text  # first words are told apart within a cluster, not across clusters
        strip.focus()
        await pilot.press("right", "right")
        assert strip.selected == "north/N-LIV"  # the label cards are stepped over


async def test_one_card_per_cluster_when_nodes_do_not_fit() -> None:
    strip = TwoLines(clusters=CLUSTERS)
    app = WidgetApp(strip)
    async with app.run_test(size=(80, 6)) as pilot:
        counts = {**COUNTS, "east/N-YOR": {"running": 10, "fault": 2}}
        strip.set_nodes(ALL, counts, {"east/N-YOR": 3})
        await pilot.pause()
        text = "\n".join(screen_lines(app)[:2])
        for cluster in CLUSTERS:
            assert f"{cluster}:" in text, text
        assert "✖2" in text and "!3" in text  # east's fault is still on screen
        assert strip.size.height <= 2


async def test_an_id_that_holds_the_separator_is_no_cluster_of_its_own() -> None:
    """One cluster, and a Sparkplug node ``demo/Cell-A`` beside its nodes: no group, no label (the strip groups by the
    clusters configured, never by the shape of an id)."""
    strip = NodeStrip()
    app = WidgetApp(strip)
    async with app.run_test(size=(160, 12)) as pilot:
        cell = NODES[0].model_copy(update={"id": "demo/Cell-A", "name": "Cell A"})
        strip.set_nodes([*NODES[:3], cell], {**CALM, "demo/Cell-A": {"running": 2}}, {})
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "demo:" not in text and "-:" not in text, text
        assert "Cell A" in text
