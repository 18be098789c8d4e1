"""256 colours (``xterm-256color``, and tmux's ``screen-256color`` / ``tmux-256color``, without ``COLORTERM``): each
true colour as the *nearest* of the 240 fixed colours, not Rich's rounding.

Why: Rich turns a true colour into a 256-colour one by rounding each channel to the 6x6x6 cube (greys alone go to
the grey ramp). For the dark, slightly blue greys of the dark themes that lands far off: ``#263545``, the selected
node's background in the node strip, became ``#005f5f`` (teal), and the fault count drawn on it in reverse fell to
2.5:1 (4:1 in true colour). Measured by ``tests/app/test_terminal_matrix.py``. Here the match is the least distance
over the cube *and* the grey ramp, so ``#263545`` is ``#3a3a3a``, and contrast stays as the theme meant it.

Colours 0-15 are never chosen: each terminal sets them to its own palette, so their value is unknown.
"""

from __future__ import annotations

from rich._palettes import EIGHT_BIT_PALETTE
from rich.color import Color as RichColor
from rich.color import ColorType
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter

__all__ = ["Nearest256", "nearest256"]

_FIXED = [(number, EIGHT_BIT_PALETTE[number]) for number in range(16, 256)]
_CACHE: dict[tuple[int, int, int], int] = {}
_STYLES: dict[Style, Style] = {}
_STYLES_MAX = 8192


def nearest256(red: int, green: int, blue: int) -> int:
    """The number (16-255) of the fixed 256-colour entry nearest to the colour (weighted by the eye's sensitivity)."""
    key = (red, green, blue)
    found = _CACHE.get(key)
    if found is not None:
        return found

    def distance(entry: tuple[int, tuple[int, int, int]]) -> float:
        r, g, b = entry[1]
        mean_red = (red + r) / 2
        weight_red, weight_blue = 2 + mean_red / 256, 2 + (255 - mean_red) / 256
        return weight_red * (red - r) ** 2 + 4 * (green - g) ** 2 + weight_blue * (blue - b) ** 2

    number = min(_FIXED, key=distance)[0]
    _CACHE[key] = number
    return number


def _eight_bit(colour: RichColor | None) -> RichColor | None:
    if colour is None or colour.type != ColorType.TRUECOLOR or colour.triplet is None:
        return None
    red, green, blue = colour.triplet
    return RichColor.from_ansi(nearest256(red, green, blue))


class Nearest256(LineFilter):
    """Every true colour of the frame as its nearest fixed 256-colour entry (module docstring)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(text, None if style is None else _restyle(style), control) for text, style, control in segments]


def _restyle(style: Style) -> Style:
    cached = _STYLES.get(style)
    if cached is not None:
        return cached
    fg, bg = _eight_bit(style.color), _eight_bit(style.bgcolor)
    result = style + Style(color=fg, bgcolor=bg) if (fg or bg) else style
    if len(_STYLES) >= _STYLES_MAX:
        _STYLES.clear()
    _STYLES[style] = result
    return result
