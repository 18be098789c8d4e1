"""The screen beneath the palette, dimmed: the picture Textual's ``BackgroundScreen`` draws, made straight from that
screen's strips with each style's tint worked out once.

Why: a modal with a translucent background (the command palette's ``$background 60%``) is drawn by Textual as a
``RichVisual`` over ``BackgroundScreen``: the screen beneath is rendered to strips, turned into a stream of Rich
segments, every segment tinted (two colour blends and a new style each), styled again with the palette's own style,
then split back into lines and cropped: 10.5 ms of CPU on every palette open over the demo's dashboard at 160x48
(issue 15, the palette's first frame), most of it redoing the same few dozen styles thousands of times. Here the
strips are taken as they are and each distinct style is tinted once, through Textual's own ``process_segments``, so
the picture is the same segment for segment (tested against Textual's pipeline): 6.5 ms, 3.7 of them the screen
beneath rendering its strips.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.color import Color
from textual.css.styles import RulesMap
from textual.renderables.background_screen import BackgroundScreen
from textual.screen import Screen
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

_TINTS: dict[tuple[Color, RichStyle], dict[RichStyle | None, RichStyle]] = {}
"""(the tint, the palette's base style) -> {a segment's style -> its style in the picture}. Kept across palette opens:
the screens beneath use a few hundred styles at most."""
_TINTS_MAX = 4096


def tinted_style(style: RichStyle | None, color: Color, base: RichStyle) -> RichStyle:
    """The style a segment of the screen beneath ends with: Textual's tint (``BackgroundScreen.process_segments``,
    which also drops meta and links), then the palette's base style beneath it (``Widget.post_render``'s
    ``_Styled``, skipped when the base style is null, as there)."""
    (tinted,) = BackgroundScreen.process_segments([Segment(" ", style)], color)
    found = tinted.style or RichStyle()
    return base + found if base else found


def _tints(color: Color, base: RichStyle) -> dict[RichStyle | None, RichStyle]:
    tints = _TINTS.get((color, base))
    if tints is None or len(tints) > _TINTS_MAX:
        tints = _TINTS[color, base] = {}
    return tints


class TintedScreen(Visual):
    """``screen`` tinted by ``color``, as ``RichVisual(palette, BackgroundScreen(screen, color))`` renders it.

    A compositor's strips hold text segments only (no control codes, which Textual's pipeline would pass untinted),
    and the tint drops meta and links, so the link styling of Textual's ``_Styled`` has nothing to do here."""

    def __init__(self, screen: Screen[Any], color: Color) -> None:
        self._screen = screen
        self._color = color

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        base = style.rich_style
        color = self._color
        tints = _tints(color, base)
        lines: list[Strip] = []
        for strip in self._screen._compositor.render_strips()[:height]:
            line = []
            for text, seg_style, _ in strip:
                tinted = tints.get(seg_style)
                if tinted is None:
                    tinted = tints[seg_style] = tinted_style(seg_style, color, base)
                line.append(Segment(text, tinted))
            if strip.cell_length > width:
                lines.append(Strip(Segment.adjust_line_length(line, width, pad=False)))
            else:
                lines.append(Strip(line, strip.cell_length))
        return lines

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self._screen._compositor.size.width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._screen._compositor.size.height
