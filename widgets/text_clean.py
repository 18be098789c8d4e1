"""The rule that makes an untrusted string inert in a terminal, with no Textual and no Rich.

Split out of :mod:`widgets.safe_text` so code that must start fast and never import Textual (``factory-console
status``, the runbooks) applies the very same rule instead of a copy of it; ``widgets.safe_text.clean`` is
:func:`inert` plus the console's cut. Why each character class is replaced: see :mod:`widgets.safe_text`.
"""

from __future__ import annotations

import re
import unicodedata

from widgets.mark_ranges import MARK_RANGES
from widgets.mark_ranges import UNICODE_VERSION as MARK_UNICODE_VERSION

__all__ = ["ELLIPSIS", "cut", "inert"]

ELLIPSIS = "…"

_MAX_COMBINING_RUN = 3
"""Longer runs of combining marks ("Zalgo" text) are cut: they draw outside their cell in many terminals."""


def _escape(code: int) -> str:
    return f"<U+{code:04X}>"


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    # C0 controls -> the Unicode "control pictures" (U+2400..U+241F): ESC becomes ␛, BEL ␇, NUL ␀, LF ␊ ...
    for code in range(0x20):
        table[code] = chr(0x2400 + code)
    table[0x7F] = "␡"  # DEL
    # C1 controls (0x80..0x9F), which include the 8-bit CSI (0x9B), OSC (0x9D), DCS (0x90), ST (0x9C).
    for code in range(0x80, 0xA0):
        table[code] = _escape(code)
    # Bidi embeddings/overrides, isolates, marks; zero-width characters; line/paragraph separators; BOM;
    # interlinear annotation controls. All are invisible and change how the rest of a line is shown or compared.
    invisible = [
        *range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
        *range(0x2066, 0x206A),  # LRI RLI FSI PDI
        0x200E,  # LRM
        0x200F,  # RLM
        0x061C,  # ALM
        *range(0x200B, 0x200E),  # ZWSP ZWNJ ZWJ
        0x2060,  # word joiner
        0xFEFF,  # BOM / ZWNBSP
        0x2028,  # line separator
        0x2029,  # paragraph separator
        0x00AD,  # soft hyphen (invisible in most terminals, width disagreements)
        0xFFF9,
        0xFFFA,
        0xFFFB,
    ]
    for code in invisible:
        table[code] = _escape(code)
    return table


_TABLE = _build_table()
_SURROGATES = re.compile("[\ud800-\udfff]")
_SAFE_ASCII = re.compile(r"[ -~]*")


def _is_mark(char: str) -> bool:
    return bool(unicodedata.combining(char)) or unicodedata.category(char) in ("Mn", "Me")


def scan_mark_ranges() -> tuple[tuple[int, int], ...]:
    """Every code point :func:`_is_mark` holds, as ``(first, last)`` ranges: the table of :mod:`widgets.mark_ranges`
    (a full scan takes about half a second)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x80, 0x110000):
        if _is_mark(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return tuple(ranges)


def _mark_pattern() -> str | None:
    """A regex class of the marks, when the table was made for this Python's Unicode; ``None`` otherwise."""
    if unicodedata.unidata_version != MARK_UNICODE_VERSION:
        return None
    return "[" + "".join(f"\\U{first:08X}-\\U{last:08X}" for first, last in MARK_RANGES) + "]"


_MARK_CLASS = _mark_pattern()
_MARK = re.compile(_MARK_CLASS) if _MARK_CLASS else None
_LONG_MARK_RUN = re.compile(f"({_MARK_CLASS}{{{_MAX_COMBINING_RUN}}}){_MARK_CLASS}+") if _MARK_CLASS else None


def _fix_combining(text: str) -> str:
    """Give a leading combining mark a base (so it cannot attach to the previous column) and cap long runs.

    With the table (the usual case) both are regex passes in C, so a long hostile string costs microseconds rather
    than a Python loop over each of its characters (the property tests feed thousands of them)."""
    if _MARK is None or _LONG_MARK_RUN is None:
        return _fix_combining_slowly(text)
    if _MARK.search(text) is None:
        return text
    fixed = _LONG_MARK_RUN.sub(r"\1", text)
    return "◌" + fixed if _MARK.match(fixed) else fixed


def _fix_combining_slowly(text: str) -> str:
    """:func:`_fix_combining` character by character, for a Python whose Unicode the table was not made for."""
    out: list[str] = []
    run = 0
    for index, char in enumerate(text):
        if _is_mark(char):
            if index == 0:
                out.append("◌")
            run += 1
            if run > _MAX_COMBINING_RUN:
                continue
        else:
            run = 0
        out.append(char)
    return "".join(out)


def inert(text: object) -> str:
    """``text`` with every control, escape, bidi and zero-width character made visible and inert; ``None`` is ``""``
    and any other non-string is converted with ``str`` first (an unknown enum value may arrive as a number)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if not _SAFE_ASCII.fullmatch(text):
        text = text.translate(_TABLE)
        if not text.isascii():
            text = _SURROGATES.sub("\ufffd", text)
            text = _fix_combining(text)
    return text


def cut(text: str, max_len: int | None, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to ``max_len`` characters, ending with ``ellipsis`` when it was longer."""
    if max_len is not None and len(text) > max_len:
        return text[: max(0, max_len - 1)] + ellipsis if max_len > 0 else ""
    return text
