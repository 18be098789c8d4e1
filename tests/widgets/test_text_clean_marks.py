"""The combining-mark table of ``widgets.mark_ranges`` is this Python's Unicode, and the fast rule (regex passes
over the table) gives what the character-by-character rule gives, for any text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from widgets import text_clean
from widgets.mark_ranges import MARK_RANGES, UNICODE_VERSION


def test_the_table_is_this_pythons_unicode() -> None:
    assert unicodedata.unidata_version == UNICODE_VERSION, "regenerate widgets/mark_ranges.py for this Python"
    assert text_clean.scan_mark_ranges() == MARK_RANGES


MARKS = st.sampled_from(["\u0301", "\u0308", "\u20dd", "\u0489", "\u05b0", "\U0001e8d0", "\u0f39", "\u0903"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.characters(), MARKS, st.just("e")), max_size=60).map("".join))
def test_the_fast_rule_is_the_slow_rule(text: str) -> None:
    assert text_clean._fix_combining(text) == text_clean._fix_combining_slowly(text)


def test_leading_marks_get_a_base_and_long_runs_are_cut() -> None:
    assert text_clean.inert("\u0301abc") == "◌\u0301abc"
    assert text_clean.inert("e" + "\u0301" * 9 + "x" + "\u0308" * 2) == "e" + "\u0301" * 3 + "x" + "\u0308" * 2
    assert text_clean.inert("\u0301" * 5) == "◌" + "\u0301" * 3
    assert text_clean.inert("Müller") == "Müller"
