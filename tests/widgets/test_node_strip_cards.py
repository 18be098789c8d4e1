"""The node strip builds a node's card again only when what the card shows changed (issue 15: every refresh built
all four levels of all 200 nodes' cards at 20,000 machines); what it draws is what a fresh strip draws."""

from __future__ import annotations

from typing import Any

import pytest

from tests.widgets.test_node_strip_fit import CALM, NODES
from widgets.charset import ascii_only, set_ascii_only
from widgets.node_strip import LEVELS, NodeStrip


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    built: list[str | None] = []
    card = NodeStrip._card

    def counted(node_id: str | None, *args: Any, **kwargs: Any) -> Any:
        built.append(node_id)
        return card(node_id, *args, **kwargs)

    monkeypatch.setattr(NodeStrip, "_card", staticmethod(counted))
    return built


def _drawn(strip: NodeStrip) -> list[list[tuple[str | None, tuple[tuple[str, str], ...]]]]:
    return [[(card.node_id, card.parts) for card in level] for level in strip._levels]


def test_only_the_changed_nodes_cards_are_built_again(monkeypatch: pytest.MonkeyPatch) -> None:
    strip = NodeStrip()
    strip.set_nodes(NODES, CALM, {})
    built = _counting(monkeypatch)
    busy = {**CALM, "N-YOR": {"running": 10, "fault": 2}}
    strip.set_nodes(NODES, busy, {"N-LEE": 1})
    assert sorted(n for n in built if n is not None) == sorted(["N-YOR"] * LEVELS + ["N-LEE"] * LEVELS)
    fresh = NodeStrip()
    fresh.set_nodes(NODES, busy, {"N-LEE": 1})
    assert _drawn(strip) == _drawn(fresh)


def test_the_glyph_set_is_part_of_what_a_card_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    strip = NodeStrip()
    strip.set_nodes(NODES, CALM, {})
    was = ascii_only()
    built = _counting(monkeypatch)
    try:
        set_ascii_only(not was)
        strip.set_nodes(NODES, CALM, {})
        fresh = NodeStrip()
        fresh.set_nodes(NODES, CALM, {})
    finally:
        set_ascii_only(was)
    assert len([n for n in built if n is not None]) == 2 * len(NODES) * LEVELS, "all built again, then the fresh one"
    assert _drawn(strip) == _drawn(fresh)


def test_the_same_cards_are_not_laid_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    strip = NodeStrip()
    refreshed: list[bool] = []
    monkeypatch.setattr(strip, "refresh", lambda *a, layout=False, **k: refreshed.append(layout))
    strip.set_nodes(NODES, CALM, {})
    strip.set_nodes(NODES, dict(CALM), {})
    assert refreshed == [True], "the second set shows the same cards"
    strip.set_nodes(NODES, {**CALM, "N-YOR": {"running": 1}}, {})
    assert refreshed == [True, True]
