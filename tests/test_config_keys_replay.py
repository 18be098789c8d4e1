"""The replay's keys in ``[keys]``: they share keys with commands a replay never offers (``p``, ``n``, ``S``), so the
check sees them only where they exist, in a replay, where the command keys do not; elsewhere they shadow as any key."""

from __future__ import annotations

import pytest

from console.keymap_check import BindingTable, binding_table, check_keymap


@pytest.fixture(scope="module")
def table() -> BindingTable:
    return binding_table()


def test_the_replay_keys_are_known_ids_and_clean_by_default(table: BindingTable) -> None:
    ids = {
        "replay.play",
        "replay.faster",
        "replay.slower",
        "replay.back",
        "replay.forward",
        "replay.seek",
        "replay.next",
    }
    assert ids <= table.ids
    assert check_keymap({}, table) == []
    assert check_keymap({"machine.pause": "p", "node.pause": "n", "alert.unshelve": "S"}, table) == []


def test_a_replay_key_may_take_a_command_key(table: BindingTable) -> None:
    assert check_keymap({"replay.play": "space,x"}, table) != []  # space marks rows, in a replay too
    assert check_keymap({"replay.play": "x"}, table) == []  # x cancels a job: never in a replay
    assert check_keymap({"job.cancel": "plus"}, table) == []  # and the other way round


@pytest.mark.parametrize(
    ("keymap", "other"),
    [
        ({"replay.play": "o"}, "view.sort"),  # sorting works in a replay
        ({"replay.seek": "f"}, "app.freeze"),
        ({"replay.next": "slash"}, "view.filter"),
        ({"replay.faster": "1"}, "screen.dashboard"),
    ],
)
def test_a_replay_key_shadowing_what_a_replay_has_is_refused(
    table: BindingTable, keymap: dict[str, str], other: str
) -> None:
    problems = check_keymap(keymap, table)
    assert problems and problems[0].message.startswith("refused:") and other in problems[0].message
