"""Replaying a recording (``console.recording``) as a source: :class:`ReplaySource` and its :class:`Player`."""

from console.sources.replay.player import Player
from console.sources.replay.source import ReplaySource

__all__ = ["Player", "ReplaySource"]
