"""The simulated regional cluster (pure Python, deterministic): see ``engine`` for the interface."""

from .clock import DEFAULT_START, SteppedClock, WallClock
from .engine import ClusterInfo, SimCommandError, SimConfig, Simulation
from .spc import cpk, western_electric

__all__ = [
    "DEFAULT_START",
    "ClusterInfo",
    "SimCommandError",
    "SimConfig",
    "Simulation",
    "SteppedClock",
    "WallClock",
    "cpk",
    "western_electric",
]
