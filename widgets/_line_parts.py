"""Helpers shared by the machine tiles and the dense table rows: the state colour and fitting parts to a width."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from widgets.glyphs import ascii_only

BOLD = Style(bold=True)


def mark_glyph(marked: bool) -> str:
    return ("*" if ascii_only() else "●") if marked else " "


def state_style(styles: dict[str, Style], style_class: str) -> Style:
    """The part style of a state class (``normal``, ``fault`` ...), ``unknown`` for a class the theme lacks."""
    return styles.get(f"state-{style_class}", styles["state-unknown"])


def fit_parts(parts: list[tuple[str, Style]], width: int, base: Style) -> list[Segment]:
    """The parts as segments of exactly ``width`` cells: padded with ``base``, or cropped."""
    segments: list[Segment] = []
    used = 0
    for text, style in parts:
        segments.append(Segment(text, style))
        used += len(text) if text.isascii() else Segment(text).cell_length
    if used < width:
        segments.append(Segment(" " * (width - used), base))
    elif used > width:
        return list(Strip(segments).crop(0, width))
    return segments
