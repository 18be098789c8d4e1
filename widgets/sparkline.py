"""Textual's ``Sparkline``, drawn in ASCII in ASCII mode (``--ascii``, the Linux console).

Textual draws its bars with the block elements ``▁▂▃▄▅▆▇█`` (and an empty series as a line of ``▁``), which the
Linux console's font lacks; in ASCII mode each becomes a step of the ramp ``_.,-=+*#``: low to high still reads.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderableType, RenderResult
from rich.segment import Segment
from textual.app import RenderResult as WidgetRender
from textual.widgets import Sparkline as TextualSparkline

from widgets.charset import ascii_only

__all__ = ["ASCII_RAMP", "Sparkline"]

ASCII_RAMP = "_.,-=+*#"
_TABLE = str.maketrans(dict(zip("▁▂▃▄▅▆▇█", ASCII_RAMP, strict=True)))


class _Ascii:
    """A renderable's segments with the block elements turned into the ASCII ramp."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for text, style, control in console.render(self.renderable, options):
            yield Segment(text if control else text.translate(_TABLE), style, control)


class Sparkline(TextualSparkline):
    """A sparkline whose bars are ASCII in ASCII mode."""

    def render(self) -> WidgetRender:
        renderable = super().render()
        if ascii_only() and isinstance(renderable, ConsoleRenderable):
            return _Ascii(renderable)
        return renderable
