"""Reading a rendered frame as a terminal of one kind would get it: its text, its colour codes, and its legibility.

The frame is the composed screen (``Compositor.render_update(full=True)``, the strips the Linux driver writes, with
Textual's line filters applied: ``NO_COLOR``'s and the 16-colour one among them) and the string the driver sends for
it, rendered with the app's own Rich console, whose colour system comes from ``TERM`` and ``COLORTERM`` as on a real
terminal (``linux`` -> 16 colours, ``xterm-256color`` and ``screen-256color`` -> 256).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich._palettes import EIGHT_BIT_PALETTE, STANDARD_PALETTE
from rich.cells import cell_len
from rich.color import Color as RichColor
from rich.color import ColorSystem, ColorType
from rich.style import Style
from textual.scrollbar import ScrollBar, ScrollBarCorner

from tests.faults.terminal_bytes import frame_bytes

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_ANY_CSI = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]")


def sgr_params(frame: str) -> list[list[int]]:
    """The parameters of every SGR sequence (``ESC [ ... m``) in ``frame``."""
    return [[int(c) for c in re.split(r"[;:]", m.group(1)) if c] for m in SGR.finditer(frame)]


def colour_kinds(frame: str) -> set[str]:
    """Which colour encodings ``frame`` uses: ``16`` (30-37, 90-97, 40-47, 100-107), ``256`` (``38;5``),
    ``truecolor`` (``38;2``)."""
    kinds: set[str] = set()
    for params in sgr_params(frame):
        i = 0
        while i < len(params):
            code = params[i]
            if code in (38, 48, 58) and i + 1 < len(params):
                kinds.add("256" if params[i + 1] == 5 else "truecolor")
                i += 3 if params[i + 1] == 5 else 5
                continue
            if 30 <= code <= 37 or 40 <= code <= 47 or 90 <= code <= 97 or 100 <= code <= 107:
                kinds.add("16")
            i += 1
    return kinds


def frame_text(frame: str) -> str:
    """What the terminal prints: every escape sequence taken out, one line per row."""
    return _ANY_CSI.sub("\n", frame)


def rendered(app: Any) -> str:
    """The bytes the terminal receives for the whole screen now."""
    return frame_bytes(app)


@dataclass(frozen=True)
class Cell:
    """A run of text with the colours the terminal shows it in (``None``: the terminal's own default), and where."""

    text: str
    fg: tuple[int, int, int] | None
    bg: tuple[int, int, int] | None
    x: int
    y: int


def _triplet(colour: RichColor | None, system: ColorSystem) -> tuple[int, int, int] | None:
    if colour is None or colour.type == ColorType.DEFAULT:
        return None
    shown = colour.downgrade(system)
    if shown.type == ColorType.STANDARD and shown.number is not None:
        return STANDARD_PALETTE[shown.number]
    if shown.type == ColorType.EIGHT_BIT and shown.number is not None:
        return EIGHT_BIT_PALETTE[shown.number]
    if shown.triplet is not None:
        return (shown.triplet.red, shown.triplet.green, shown.triplet.blue)
    return None


def cells(app: Any, *, fold_bright_backgrounds: bool = False) -> Iterator[Cell]:
    """Every run of visible text on screen with the colours it is shown in on the app's terminal (reverse applied).

    ``fold_bright_backgrounds``: as on the Linux console, whose backgrounds are the eight plain colours only."""
    system = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT}.get(
        app.console.color_system or "", ColorSystem.TRUECOLOR
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    for y, line in enumerate(getattr(update, "strips", [])):
        x = 0
        for strip in line:
            for text, style, control in strip:
                start, x = x, x + cell_len(text)
                if control or not text.strip():
                    continue
                style = style or Style()
                bg_colour = style.bgcolor
                if fold_bright_backgrounds and bg_colour is not None:
                    number = bg_colour.downgrade(ColorSystem.STANDARD).number
                    if number is not None and number >= 8:
                        bg_colour = RichColor.from_ansi(number - 8)
                fg, bg = _triplet(style.color, system), _triplet(bg_colour, system)
                if style.reverse:
                    fg, bg = bg, fg
                yield Cell(text.strip(), fg, bg, start, y)


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = rgb
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(one: tuple[int, int, int], two: tuple[int, int, int]) -> float:
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _chrome(app: Any, cell: Cell) -> bool:
    """A scrollbar's thumb or a border (a dialog's, a toast's accent bar): Textual's chrome, drawn faint by design
    (a ``tall`` border is half blocks in the colours around it), not text."""
    try:
        widget, region = app.screen.get_widget_at(cell.x, cell.y)
    except Exception:
        return False
    if isinstance(widget, (ScrollBar, ScrollBarCorner)):
        return True
    inside = region.shrink(widget.styles.border.spacing)
    return not inside.contains(cell.x, cell.y)


def low_contrast(app: Any, minimum: float, *, fold_bright_backgrounds: bool = False) -> list[str]:
    """Text shown at less than ``minimum`` contrast on its background (both colours known), with the colours."""
    found: dict[str, str] = {}
    for cell in cells(app, fold_bright_backgrounds=fold_bright_backgrounds):
        if cell.fg is None or cell.bg is None:
            continue
        ratio = contrast(cell.fg, cell.bg)
        if ratio < minimum and not _chrome(app, cell):
            found.setdefault(f"{cell.fg} on {cell.bg}", f"{cell.text[:30]!r} {ratio:.2f}")
    return [f"{pair}: {sample}" for pair, sample in found.items()]
