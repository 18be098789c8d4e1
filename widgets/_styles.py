"""Resolve component-class styles into Rich styles for the parts of a line (shared by the Line-API widgets)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from textual.widget import Widget


def part_styles(widget: Widget, names: Iterable[str], prefix: str) -> dict[str, Style]:
    """Each component class as a *foreground-only* Rich style, keyed by its name without ``prefix``.

    Why not ``partial=True`` alone: a colour such as ``$text-muted`` is ``auto 60%``, which only becomes a real colour
    once blended with the background; the full style has the blended colour. We keep that colour and the text
    attributes (bold, reverse ...) but drop the background, so a part can sit on a tile, a cursor or a plain row.
    A component that sets a background (e.g. the cursor) keeps it.
    """
    styles: dict[str, Style] = {}
    for name in names:
        full = widget.get_component_rich_style(name)
        partial = widget.get_component_rich_style(name, partial=True)
        style = Style(color=full.color) + partial.without_color
        if partial.bgcolor is not None:
            style += Style(bgcolor=full.bgcolor)
        styles[name.removeprefix(prefix)] = style
    return styles
