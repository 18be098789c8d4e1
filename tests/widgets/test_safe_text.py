"""Units for widgets.safe_text: no control, escape, bidi or zero-width character survives; widths by cell."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text
from textual.content import Content

from widgets.safe_text import clean, content, fit, plain

DANGEROUS = {chr(c) for c in range(0x20)} | {chr(0x7F)} | {chr(c) for c in range(0x80, 0xA0)}
DANGEROUS |= {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x200C, 0x200D, 0xFEFF)}


def assert_inert(text: str) -> None:
    assert not DANGEROUS & set(text), repr(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred", "␛[31mred"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "␛]8;;http://evil␛\\link␛]8;;␛\\"),
        ("\x1b]52;c;ZXZpbA==\x07", "␛]52;c;ZXZpbA==␇"),
        ("bell\x07", "bell␇"),
        ("a\x9b31mb", "a<U+009B>31mb"),
        ("nul\x00", "nul␀"),
        ("del\x7f", "del␡"),
        ("line\nbreak\r\ttab", "line␊break␍␉tab"),
        ("abc\u202edcba", "abc<U+202E>dcba"),
        ("x\u2066y\u2069", "x<U+2066>y<U+2069>"),
        ("zero\u200bwidth", "zero<U+200B>width"),
        ("\ufeffbom", "<U+FEFF>bom"),
        ("plain ascii", "plain ascii"),
        ("[bold red]x[/]", "[bold red]x[/]"),
    ],
)
def test_clean_replaces_controls_with_visible_placeholders(raw: str, expected: str) -> None:
    assert clean(raw) == expected
    assert_inert(clean(raw))


def test_clean_breaks_zwj_emoji_sequences_visibly() -> None:
    family = "👨\u200d👩\u200d👧"
    cleaned = clean(family)
    assert "\u200d" not in cleaned
    assert cleaned == "👨<U+200D>👩<U+200D>👧"


def test_clean_keeps_wide_and_combining_text() -> None:
    assert clean("工場 ✓") == "工場 ✓"
    assert clean("e\u0301") == "e\u0301"


def test_leading_combining_mark_gets_a_base_and_runs_are_capped() -> None:
    assert clean("\u0301x") == "◌\u0301x"
    zalgo = "a" + "\u0301" * 20
    cleaned = clean(zalgo)
    assert sum(1 for ch in cleaned if unicodedata.combining(ch)) == 3


def test_clean_handles_none_numbers_and_surrogates() -> None:
    assert clean(None) == ""
    assert clean(42) == "42"
    assert clean("a\ud800b") == "a\ufffdb"


def test_max_len_cuts_with_ellipsis() -> None:
    assert clean("abcdefgh", 5) == "abcd…"
    assert clean("abc", 5) == "abc"
    assert clean("abc", 0) == ""


@pytest.mark.parametrize("text", ["abc", "工場工場工場", "👍👍👍👍", "e\u0301" * 6, "a\x1bb"])
@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 20])
def test_fit_is_exactly_width_cells(text: str, width: int) -> None:
    assert cell_len(fit(text, width)) == width


def test_fit_alignments_and_cut() -> None:
    assert fit("ab", 4) == "ab  "
    assert fit("ab", 4, align="right") == "  ab"
    assert fit("ab", 5, align="center") == " ab  "
    assert fit("abcdef", 4) == "abc…"
    assert fit("工場工場", 5) == "工場…"
    assert fit("工場工場", 4) == "工 …"  # a wide char cut in half becomes a space
    assert fit("x", 0) == ""


def test_plain_and_content_never_interpret_markup() -> None:
    hostile = "[bold red]boom[/] [link=https://evil.example]x[/link] [@click=app.quit]q[/]"
    text = plain(hostile)
    assert isinstance(text, Text)
    assert text.plain == hostile
    assert not text.spans
    c = content(hostile)
    assert isinstance(c, Content)
    assert c.plain == hostile
    assert not c.spans


@given(st.text())
def test_clean_never_leaves_dangerous_characters(text: str) -> None:
    cleaned = clean(text)
    assert_inert(cleaned)
    assert clean(cleaned) == cleaned


@given(st.text(), st.integers(min_value=1, max_value=40))
def test_fit_width_property(text: str, width: int) -> None:
    assert cell_len(fit(text, width)) == width
