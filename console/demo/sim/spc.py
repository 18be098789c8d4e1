"""Statistical process control: Western Electric rules and process capability.

Pure functions over plain lists, so they are unit-tested on crafted series and used by the engine alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["cpk", "western_electric"]


def _rule_windows(z: Sequence[float], n: int, need: int, beyond: float, ends: range, lo: int) -> bool:
    """True if a window of ``n`` points ending at one of ``ends`` has ``need`` points beyond ``beyond`` on one side.

    ``z`` holds the points from index ``lo`` on (``ends`` and the windows' starts are indices of the whole series).
    One pass per window counting both sides: this runs for every chart the simulation builds."""
    for end in ends:
        start = end - n + 1
        if start < 0:
            continue
        up = down = 0
        for v in z[start - lo : end - lo + 1]:
            if v > beyond:
                up += 1
            elif v < -beyond:
                down += 1
        if up >= need or down >= need:
            return True
    return False


def western_electric(values: Sequence[float], center: float, sigma: float, recent: int | None = None) -> list[str]:
    """The Western Electric rules broken by ``values`` (newest last) around ``center`` with process ``sigma``.

    * ``we1``: one point beyond 3 sigma;
    * ``we2``: 2 of 3 consecutive points beyond 2 sigma on the same side;
    * ``we3``: 4 of 5 consecutive points beyond 1 sigma on the same side;
    * ``we4``: 8 consecutive points on the same side of the center line.

    ``recent``: only windows that end within the last ``recent`` points count (an SPC chart flags what is happening
    now; a violation long scrolled into history should not stay on the list). ``None`` checks the whole series.
    Only the points a counted window can reach (the longest is 8) are standardised.
    """
    if sigma <= 0 or not math.isfinite(sigma) or not values:
        return []
    last = len(values) - 1
    first = 0 if recent is None else max(0, len(values) - recent)
    lo = max(0, first - 7)
    z = [(v - center) / sigma for v in values[lo:]]
    ends = range(first, last + 1)
    broken: list[str] = []
    if _rule_windows(z, 1, 1, 3.0, ends, lo):
        broken.append("we1")
    if _rule_windows(z, 3, 2, 2.0, ends, lo):
        broken.append("we2")
    if _rule_windows(z, 5, 4, 1.0, ends, lo):
        broken.append("we3")
    for end in ends:
        start = end - 7
        if start < 0:
            continue
        window = z[start - lo : end - lo + 1]
        if all(v > 0 for v in window) or all(v < 0 for v in window):
            broken.append("we4")
            break
    return broken


def cpk(values: Sequence[float], lsl: float, usl: float) -> float | None:
    """Process capability index ``min(usl - mean, mean - lsl) / (3 s)``; ``None`` with too few values or no spread."""
    n = len(values)
    if n < 5:
        return None
    mean = sum(values) / n
    var = sum([(v - mean) ** 2 for v in values]) / (n - 1)  # a list: the same sum, without a generator's cost
    if var <= 0:
        return None
    s = math.sqrt(var)
    value = min(usl - mean, mean - lsl) / (3 * s)
    return round(value, 3) if math.isfinite(value) else None
