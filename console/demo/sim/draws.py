"""Random draws the simulation makes by the million, at less cost than ``random.Random``'s methods give them.

``gauss(rng, sigma)`` is ``rng.gauss(0.0, sigma)``: the same value and the same generator state afterwards (CPython's
own code, Box-Muller with the spare value kept in ``rng.gauss_next``, which ``rng.gauss`` shares), without the method
call's defaults and bookkeeping. The quality measurements and telemetry draw ~3 million of them in a minute of the
20,000-machine demo. ``tests/demo/test_sim_draws.py`` checks the equality, interleaved with the method's own calls.
"""

from __future__ import annotations

import random
from math import cos, log, sin, sqrt, tau

__all__ = ["gauss"]


def gauss(rng: random.Random, sigma: float) -> float:
    """``rng.gauss(0.0, sigma)``, exactly (see the module docstring)."""
    z: float | None = rng.gauss_next  # type: ignore[attr-defined]
    if z is None:
        draw = rng.random
        x2pi = draw() * tau
        g2rad = sqrt(-2.0 * log(1.0 - draw()))
        z = cos(x2pi) * g2rad
        rng.gauss_next = sin(x2pi) * g2rad  # type: ignore[attr-defined]
    else:
        rng.gauss_next = None  # type: ignore[attr-defined]
    return 0.0 + z * sigma
