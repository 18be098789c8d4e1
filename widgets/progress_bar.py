"""The progress bar and percentage drawn in machine tiles and table rows.

Why its own module: the tiles, the dense table and the benchmarks' naive grid all draw the same bar, and the bar's
text is part of the render keys that decide what to repaint (a progress change that does not move the bar by an
eighth of a cell repaints nothing), so all of them must share one definition.
"""

from __future__ import annotations

from widgets.charset import ascii_only, pick

__all__ = ["percent", "progress_bar"]

_EIGHTHS = " ▏▎▍▌▋▊▉"


def progress_bar(progress: float | None, width: int) -> str:
    """A bar of ``width`` cells using eighth blocks (``███▌░░``); blank-ish ``-`` when there is no progress."""
    if width <= 0:
        return ""
    if progress is None:
        return ("." if ascii_only() else "·") * width
    value = min(1.0, max(0.0, progress)) * width
    full = int(value)
    if ascii_only():
        return "#" * full + "." * (width - full)
    rest = int((value - full) * 8)
    bar = "█" * full
    if full < width:
        bar += (_EIGHTHS[rest] if rest else "░") + "░" * (width - full - 1)
    return bar


def percent(progress: float | None) -> str:
    """Progress as four cells (`` 42%``), or a dash when there is none."""
    return f"  {pick('–', '-')} " if progress is None else f"{round(progress * 100):3d}%"
