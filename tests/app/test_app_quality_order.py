"""The quality list's order: grouped sorts (the cluster, every node, then the machines, each in the chosen order)
with labels made only when the order or the filter needs them (``QualityScreen._ordered``; issue 15: at 20,000
machines the full label-and-two-sorts took ~50 ms on every switch to the screen). The order must be exactly the one
the two stable sorts gave, for every sort, both directions, with and without a filter."""

from __future__ import annotations

from typing import Any

from console.api.models import Quality
from console.rules import QUALITY_SORTS, quality_sort_key
from console.screens.quality import QualityScreen
from tests.app.conftest import settle, wait_for, wait_ready

SIZE = (160, 48)


def _reference(screen: QualityScreen) -> list[Quality]:
    """The order as it was computed before: label everything, sort by the key, then stably by scope."""
    labels = screen._labels()
    items = list(screen.store.quality.values())
    words = screen.query_text.lower().split()
    if words:
        items = [q for q in items if all(w in f"{labels.get(q.key, '')} {q.id}".lower() for w in words)]
    items.sort(key=quality_sort_key(screen.sort_key, labels), reverse=screen.sort_reverse)
    items.sort(key=lambda q: {"cluster": 0, "node": 1}.get(q.scope, 2))
    return items


async def test_the_grouped_order_is_the_two_sorts_order(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, QualityScreen), what="the quality screen")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QualityScreen)
        assert len(screen.store.quality) > 10
        for text in ("", "node", "a"):
            screen.query_text = text
            for index in range(len(QUALITY_SORTS)):
                for reverse in (False, True):
                    screen.sort_index, screen.sort_reverse = index, reverse
                    items, _labels = screen._ordered()
                    assert [q.key for q in items] == [q.key for q in _reference(screen)], (text, index, reverse)
        screen.query_text, screen.sort_index, screen.sort_reverse = "", 0, False
        screen.rebuild()
        shown = screen.grid.keys
        assert shown == [f"{q.scope}:{q.id}" for q in _reference(screen)]
        rows = [screen.grid._rows[i] for i in range(min(5, len(shown)))]  # rows are labelled when drawn
        labels = screen._labels()
        for row, key in zip(rows, shown, strict=False):
            scope, _, ident = key.partition(":")
            assert row is not None and labels[(scope, ident)] in row.cells
