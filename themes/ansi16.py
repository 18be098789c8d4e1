"""16 colours (the Linux console, ``TERM=xterm`` without ``COLORTERM``): the ANSI colour each meaning takes there.

Why a filter of our own: on a 16-colour terminal Rich turns each true colour into the *nearest* of the 16, and
nearest is not legible. Measured on ``factory-dark``: blocked and high (orange) became bright red like fault and
critical; maintenance, offline and unknown became the grey of a normal machine; the cursor row's blue-grey became
bright black, which the Linux console cannot show as a background at all (its ``100``-``107`` are the plain ``40``-
``47``: bright black is black, and the cursor vanished). So, only while the terminal has 16 colours:

* each theme's state, alarm and cursor colours become the ANSI colour chosen for them (:data:`CHOICES`): fault and
  critical bright red, blocked and high bright yellow, paused and medium yellow, maintenance bright cyan, offline
  and unknown bright magenta, the cursor row white on blue;
* every other colour becomes the nearest of the 16 (Rich's rule), and then
* backgrounds take the eight colours every 16-colour terminal can show (bright black is black, bright white is white),
  and text that would read at less than :data:`MIN_CONTRAST` on its background takes the nearest colour that reads.

The frame then holds only the 16 ANSI colours, which the terminal draws in its own palette; the words, glyphs and
text styles the widgets always show still tell every state apart (colour is never the only cue).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich._palettes import STANDARD_PALETTE
from rich.color import Color as RichColor
from rich.color import ColorSystem, ColorType
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter
from textual.theme import Theme

__all__ = ["CHOICES", "MIN_CONTRAST", "Ansi16", "ansi_of", "contrast", "legible"]

BLACK, RED, YELLOW, BLUE, WHITE = 0, 1, 3, 4, 7
BRIGHT_BLACK, BRIGHT_RED, BRIGHT_YELLOW, BRIGHT_MAGENTA, BRIGHT_CYAN, BRIGHT_WHITE = 8, 9, 11, 13, 14, 15

MIN_CONTRAST = 3.0
"""The least contrast (WCAG's ratio, on the VGA palette) text may have on its background in 16 colours."""

_DARK = {
    "state-fault": BRIGHT_RED,
    "alarm-critical": BRIGHT_RED,
    "error": BRIGHT_RED,
    "state-blocked": BRIGHT_YELLOW,
    "alarm-high": BRIGHT_YELLOW,
    "warning": BRIGHT_YELLOW,
    "state-paused": YELLOW,
    "alarm-medium": YELLOW,
    "state-maintenance": BRIGHT_CYAN,
    "mark": BRIGHT_CYAN,
    "state-offline": BRIGHT_MAGENTA,
    "state-unknown": BRIGHT_MAGENTA,
    "block-cursor-background": BLUE,
    "block-cursor-foreground": BRIGHT_WHITE,
}
_LIGHT = {
    "state-fault": RED,
    "alarm-critical": RED,
    "error": RED,
    "state-blocked": BLUE,
    "alarm-high": BLUE,
    "warning": BLUE,
    "state-paused": BLACK,
    "alarm-medium": BLACK,
    "block-cursor-background": BLUE,
    "block-cursor-foreground": BRIGHT_WHITE,
}
"""On a light background (white in 16 colours) only black, red and blue read; paused and medium keep their words
and styles, in black."""

CHOICES: dict[str, dict[str, int]] = {"factory-dark": _DARK, "factory-light": _LIGHT, "isa101": _LIGHT}
"""Theme name -> variable -> ANSI colour number; ``mono`` needs none (it is grey on black by design)."""


def _luminance(number: int) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = STANDARD_PALETTE[number]
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(foreground: int, background: int) -> float:
    """WCAG's contrast ratio of two ANSI colours, on the VGA palette (Rich's ``STANDARD_PALETTE``)."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def legible(foreground: int, background: int) -> int:
    """``foreground``, or the nearest ANSI colour to it that reads on ``background`` (at least :data:`MIN_CONTRAST`)."""
    if contrast(foreground, background) >= MIN_CONTRAST:
        return foreground
    red, green, blue = STANDARD_PALETTE[foreground]

    def distance(number: int) -> int:
        r, g, b = STANDARD_PALETTE[number]
        return (r - red) ** 2 + (g - green) ** 2 + (b - blue) ** 2

    readable = [n for n in range(16) if contrast(n, background) >= MIN_CONTRAST]
    return min(readable, key=distance)


def ansi_of(colour: RichColor) -> int:
    """The nearest of the 16 ANSI colours (Rich's rule), as a number."""
    if colour.type == ColorType.STANDARD and colour.number is not None:
        return colour.number
    number = colour.downgrade(ColorSystem.STANDARD).number
    return 0 if number is None else number


def choices_for(theme: Theme) -> dict[tuple[int, int, int], int]:
    """The exact colours of ``theme`` that have an ANSI colour chosen for them (:data:`CHOICES`)."""
    chosen = CHOICES.get(theme.name, {})
    variables: dict[str, str] = {**theme.to_color_system().generate(), **theme.variables}
    found: dict[tuple[int, int, int], int] = {}
    for name, number in chosen.items():
        value = variables.get(name)
        if value is None:
            continue
        try:
            red, green, blue = Color.parse(value).rgb
        except Exception:  # "auto 87%" and the like: not a colour of its own
            continue
        found.setdefault((red, green, blue), number)
    return found


class Ansi16(LineFilter):
    """Every colour of the frame as one of the 16 ANSI colours, the theme's meanings as chosen (module docstring).

    ``theme`` gives the current theme (the operator may change it from the palette); the colour map is worked out
    once per theme and each style once."""

    def __init__(self, theme: Callable[[], Theme | None], enabled: bool = True) -> None:
        super().__init__(enabled=enabled)
        self._theme = theme
        self._maps: dict[str, Mapping[tuple[int, int, int], int]] = {}

    def _choices(self) -> tuple[str, Mapping[tuple[int, int, int], int]]:
        theme = self._theme()
        if theme is None:
            return "", {}
        if theme.name not in self._maps:
            self._maps[theme.name] = choices_for(theme)
        return theme.name, self._maps[theme.name]

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        name, choices = self._choices()
        under = RichColor.from_triplet(background.rich_color.get_truecolor())
        return [
            Segment(text, None if style is None else _restyle(style, under, name, choices), control)
            for text, style, control in segments
        ]


def _number(colour: RichColor, choices: Mapping[tuple[int, int, int], int]) -> int:
    triplet = colour.triplet
    if triplet is not None and (chosen := choices.get((triplet.red, triplet.green, triplet.blue))) is not None:
        return chosen
    return ansi_of(colour)


_STYLE_CACHE: dict[tuple[Style, RichColor, str], Style] = {}
_STYLE_CACHE_MAX = 8192
"""Styles already turned into 16 colours: a frame has a few hundred distinct ones, each line repeats them."""


def _restyle(style: Style, under: RichColor, name: str, choices: Mapping[tuple[int, int, int], int]) -> Style:
    """``style`` in 16 colours on the widget's background ``under`` (when the style has no background of its own)."""
    key = (style, under, name)
    cached = _STYLE_CACHE.get(key)
    if cached is not None:
        return cached
    bg_colour = style.bgcolor if style.bgcolor is not None else under
    background = _number(bg_colour, choices) % 8  # bright backgrounds are the plain ones on the Linux console
    new_bg = RichColor.from_ansi(background) if style.bgcolor is not None else None
    new_fg = None
    if style.color is not None:
        foreground = legible(_number(style.color, choices), background)
        new_fg = RichColor.from_ansi(foreground)
    result = style + Style(color=new_fg, bgcolor=new_bg) if (new_fg or new_bg) else style
    if len(_STYLE_CACHE) >= _STYLE_CACHE_MAX:
        _STYLE_CACHE.clear()
    _STYLE_CACHE[key] = result
    return result
