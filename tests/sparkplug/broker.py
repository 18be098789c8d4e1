"""A real Mosquitto broker for the Sparkplug tests: the mixed floor's own (``console.demo.floor.broker``: a config in
a temporary folder, a free loopback port, no persistence), here with anonymous clients unless a test says otherwise.
``make sysdeps`` installs Mosquitto; without it the tests are skipped with why."""

from __future__ import annotations

from pathlib import Path

from console.demo.floor.broker import Broker, mosquitto_path
from console.demo.floor.broker import start_broker as _start

__all__ = ["Broker", "mosquitto_path", "start_broker"]


def start_broker(folder: Path, *, extra: str = "", anonymous: bool = True) -> Broker:
    """Start Mosquitto on a free port of 127.0.0.1 and wait until it accepts connections."""
    binary = mosquitto_path()
    if binary is None:
        raise FileNotFoundError("mosquitto is not installed (make sysdeps, or apt-get install mosquitto)")
    return _start(folder, binary, extra=extra, anonymous=anonymous)
