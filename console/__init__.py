"""factory-console: a terminal operator console for a regional cluster of micro-factories."""

__version__ = "0.1.0"
