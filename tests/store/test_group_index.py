"""GroupIndex keeps small groups as tuples and larger ones as dicts; either way it behaves as a mapping of sets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.store.indexes import SMALL, GroupIndex

ops = st.lists(
    st.tuples(st.sampled_from(["add", "discard", "move"]), st.integers(0, 3), st.integers(0, 3), st.integers(0, 20)),
    max_size=200,
)


@given(ops)
def test_the_index_equals_a_dict_of_sets_after_any_changes(changes: list[tuple[str, int, int, int]]) -> None:
    index: GroupIndex[int] = GroupIndex()
    model: dict[int, set[str]] = {}
    for op, key, other, n in changes:
        item = f"J-{n}"
        if op == "add":
            index.add(key, item)
            model.setdefault(key, set()).add(item)
        elif op == "discard":
            index.discard(key, item)
            model.get(key, set()).discard(item)
        else:
            if item in model.get(key, set()):
                index.move(key, other, item)
                model[key].discard(item)
                model.setdefault(other, set()).add(item)
        model = {k: v for k, v in model.items() if v}
        assert index.as_dict() == model
    for key in range(4):
        assert index.get(key) == model.get(key, set())
        assert index.count(key) == len(model.get(key, ()))
    assert index.counts() == {k: len(v) for k, v in model.items()}
    assert set(index.keys()) == set(model)


def test_small_groups_are_tuples_and_large_ones_dicts_read_as_live_sets() -> None:
    index: GroupIndex[str] = GroupIndex()
    for i in range(SMALL):
        index.add("M-1", f"J-{i}")
    index.add("M-1", "J-0")  # already there: no duplicate
    assert type(index._groups["M-1"]) is tuple and index.count("M-1") == SMALL
    index.add("M-1", "J-new")
    assert isinstance(index._groups["M-1"], dict) and index.count("M-1") == SMALL + 1
    live = index.get("M-1")  # a large group's live set, as before
    index.add("M-1", "J-later")
    assert "J-later" in live and live == {*(f"J-{i}" for i in range(SMALL)), "J-new", "J-later"}
    small = GroupIndex[str]()
    small.add("M-2", "J-1")
    assert index.get("nothing") == frozenset() and small.get("M-2") == frozenset({"J-1"})
