"""Which keys the footer shows at a given width, proved without an app (``widgets.footer_layout``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from widgets.footer_layout import FooterKey, entries_from_keys, layout, narrowest


def key(k: str, description: str, action: str, enabled: bool = True) -> FooterKey:
    return FooterKey(k, k, description, action, enabled)


SCREENS = [key(str(i), name, f"switch_mode({name.lower()!r})") for i, name in enumerate(("Dashboard", "Jobs"), 1)]
DASHBOARD = [
    key("/", "Filter", "filter"),
    key("o", "Sort", "sort_next"),
    key("p", "Pause/Resume", "pause"),
    key("a", "Ack", "ack"),
    *SCREENS,
    key("?", "Help", "help"),
    key("f", "Freeze", "toggle_freeze"),
    key("q", "Quit", "quit_console"),
]


def text(pieces: list) -> str:
    return "".join(p.text for p in pieces)


def test_help_and_quit_first_then_the_screens_actions_then_the_common_keys() -> None:
    entries = entries_from_keys(DASHBOARD)
    assert [e.keys[0].action for e in entries] == [
        "help",
        "quit_console",
        "pause",
        "ack",
        "filter",
        "sort_next",
        "switch_mode('dashboard')",
        "toggle_freeze",
    ]
    assert entries[6].is_group and [k.key for k in entries[6].keys] == ["1", "2"]


def test_the_screen_numbers_are_named_when_there_is_room_and_digits_when_not() -> None:
    entries = entries_from_keys(DASHBOARD)
    wide = text(layout(entries, 200))
    assert "1 Dashboard 2 Jobs" in wide and wide.endswith("f Freeze ")
    folded = text(layout(entries, narrowest(entries)))
    assert "1 2 Screens" in folded and "Dashboard" not in folded and folded.endswith("f Freeze ")


def test_a_short_line_drops_whole_entries_from_the_common_keys_first_never_help_or_quit() -> None:
    entries = entries_from_keys(DASHBOARD)
    line = text(layout(entries, 40))
    assert line.startswith(" ? Help  q Quit  p Pause/Resume  a Ack ")
    assert "Filter" not in line and "Freeze" not in line
    assert len(line) <= 40
    assert text(layout(entries, 5)).startswith(" ? Help  q Quit ")  # kept even when nothing else fits


def test_the_current_screens_digit_is_marked_and_every_digit_is_its_own_key() -> None:
    entries = entries_from_keys(DASHBOARD)
    pieces = layout(entries, narrowest(entries), current_action="switch_mode('jobs')")
    digits = [p for p in pieces if p.text in ("1", "2")]
    assert [(p.key, p.role) for p in digits] == [("1", "key"), ("2", "current")]


def test_a_disabled_key_is_shown_as_disabled() -> None:
    entries = entries_from_keys([key("p", "Pause", "pause", enabled=False), key("?", "Help", "help")])
    assert [p.enabled for p in layout(entries, 80) if p.key == "p"] == [False, False]


names = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)


@given(
    st.lists(
        st.tuples(names, names, st.sampled_from(["help", "quit_console", "filter", "x", "y", "switch_mode('a')"])),
        max_size=12,
    ),
    st.integers(min_value=0, max_value=200),
)
def test_never_wider_than_the_line_once_help_and_quit_fit(items: list[tuple[str, str, str]], width: int) -> None:
    keys = [key(k, d, f"{a}{i}" if a in ("x", "y") else a) for i, (k, d, a) in enumerate(items)]
    entries = entries_from_keys(keys)
    first = entries_from_keys([k for k in keys if k.action in ("help", "quit_console")])
    pieces = layout(entries, width)
    if narrowest(first) <= width:
        assert len(text(pieces)) <= width
    shown = {p.key for p in pieces}
    assert all(
        k.key in shown
        for k in keys
        if k.action in ("help", "quit_console") and k == next(x for x in keys if x.action == k.action)
    )
