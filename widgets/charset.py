"""Which character set the console draws its own symbols with: Unicode (the default) or ASCII only.

ASCII is for terminals and fonts without the symbols (the Linux console's font shows most of them as diamonds): it is
set once at start (``--ascii``, ``ascii = true``, or ``TERM=linux``) and read by every widget as it draws. It lives
in a module of its own because both the vocabulary of states (``widgets.glyphs``) and the text cleaner
(``widgets.safe_text``, which ends a cut text with an ellipsis) need it, and the first imports the second.

Textual's own scrollbars draw fractional thumbs with block elements (``▁`` ... ``▇``, ``▉`` ... ``▏``); in ASCII mode
they draw whole cells instead (a space on the thumb's colour), and sparklines (``widgets.sparkline``) an ASCII ramp,
and Textual's borders made of block elements (dialogs, toasts, help: ``▊▔▎▁▌``) ``+``, ``-`` and ``|``, so nothing
outside ASCII (but box drawing, which every console font has) comes from the console. Text the screens compose
with typographic marks of their own (the ``·`` between facts, ``→``, a progress bar's blocks, the help's arrow keys)
goes through :func:`fold`.
"""

from __future__ import annotations

from textual import _border
from textual.scrollbar import ScrollBarRender

__all__ = ["DASH", "ascii_only", "ellipsis", "fold", "pick", "set_ascii_only"]

_UNICODE_ELLIPSIS = "…"
_ASCII_ELLIPSIS = "~"
_UNICODE_BARS = (list(ScrollBarRender.VERTICAL_BARS), list(ScrollBarRender.HORIZONTAL_BARS))
_UNICODE_BORDERS = dict(_border.BORDER_CHARS)
_ASCII_PLACES = (("+", "-", "+"), ("|", " ", "|"), ("+", "-", "+"))
"""What a border character that is neither ASCII nor box drawing becomes, by where it sits in the box."""


def _drawable(char: str) -> bool:
    """ASCII, or box drawing (``─│┌``: every console font has those, the Linux console's included)."""
    return char.isascii() or 0x2500 <= ord(char) <= 0x257F


def _ascii_borders() -> dict[str, object]:
    """Textual's border styles with their block elements (``tall``, ``outer``, ``wide``, ``panel`` ... as dialogs,
    toasts and help draw them: ``▊▔▎▁▌``) as ``+``, ``-`` and ``|``; the box-drawing styles as they are."""
    borders: dict[str, object] = {}
    for name, rows in _UNICODE_BORDERS.items():
        borders[name] = tuple(
            tuple(char if _drawable(char) else _ASCII_PLACES[y][x] for x, char in enumerate(row))
            for y, row in enumerate(rows)
        )
    return borders


_FOLD = str.maketrans(
    {
        "·": "-",
        "→": "->",
        "●": "*",
        "…": "~",
        "—": "-",
        "≤": "<=",
        "≥": ">=",
        "█": "#",
        "←": "<-",
        "↑": "up",
        "↓": "down",
        "•": "-",
        **dict.fromkeys("▏▎▍▌▋▊▉", "+"),
    }
)

_ascii_only = False


def set_ascii_only(value: bool) -> None:
    """Switch every widget (and Textual's scrollbars) to ASCII (``True``) or back to Unicode (``False``)."""
    global _ascii_only
    _ascii_only = bool(value)
    if _ascii_only:
        ScrollBarRender.VERTICAL_BARS = [" "] * len(_UNICODE_BARS[0])
        ScrollBarRender.HORIZONTAL_BARS = [" "] * len(_UNICODE_BARS[1])
        _border.BORDER_CHARS.update(_ascii_borders())  # type: ignore[arg-type]
    else:
        ScrollBarRender.VERTICAL_BARS, ScrollBarRender.HORIZONTAL_BARS = (list(bars) for bars in _UNICODE_BARS)
        _border.BORDER_CHARS.update(_UNICODE_BORDERS)
    _border.get_box.cache_clear()  # boxes already made with the other set


def ascii_only() -> bool:
    """Whether the console draws its own symbols in ASCII only."""
    return _ascii_only


def ellipsis() -> str:
    """The one-cell mark at the end of a cut text: ``…``, or ``~`` in ASCII mode."""
    return _ASCII_ELLIPSIS if _ascii_only else _UNICODE_ELLIPSIS


def pick(unicode: str, plain: str) -> str:
    """``unicode``, or ``plain`` in ASCII mode: for a symbol that has no place in the glyph tables."""
    return plain if _ascii_only else unicode


def fold(text: str) -> str:
    """``text`` as is, or in ASCII mode with the console's own typographic marks in ASCII (``·`` ``-``, ``→`` ``->``,
    ``●`` ``*``, a progress bar's blocks ``#``). Server text in it is folded too (a ``·`` in a name shows as ``-``):
    it is only shown, and the font could not draw it anyway."""
    return text.translate(_FOLD) if _ascii_only else text


DASH = ("—", "-")
"""No value (``—``); in ASCII ``-``. Use as ``pick(*DASH)``."""
