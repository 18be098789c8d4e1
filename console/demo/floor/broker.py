"""The mixed floor's own Mosquitto broker: a config in a private temporary folder, a free loopback port, no
persistence, anonymous clients on 127.0.0.1 only, only errors and warnings logged (to a file in that folder, never
to the terminal the console owns).

Mosquitto is a system package (``apt-get install mosquitto``, or ``make sysdeps``), not a Python one, so the demo
cannot assume it: :func:`mosquitto_path` says whether it is there, and without it the Sparkplug site is skipped with
one line (:data:`INSTALL_HINT`). The folder is the caller's (``console.demo.floor.sites`` removes it at exit).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["INSTALL_HINT", "Broker", "mosquitto_path", "start_broker"]

SBIN_MOSQUITTO = Path("/usr/sbin/mosquitto")
"""Where Debian's package puts the binary: not on an ordinary user's PATH."""
INSTALL_HINT = "apt-get install mosquitto, or make sysdeps"
START_TIMEOUT_S = 10.0


def mosquitto_path() -> str | None:
    """The ``mosquitto`` binary on PATH, else Debian's ``/usr/sbin/mosquitto``; ``None`` when neither is there."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return str(SBIN_MOSQUITTO) if SBIN_MOSQUITTO.is_file() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Broker:
    """A running Mosquitto: its process, port, folder and config (the tests' brokers are these too)."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    config: Path
    binary: str

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate (then kill, if it lingers) and reap the process; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def restart(self) -> None:
        """Start again on the same port, with the same config (after :meth:`stop`: a broker restart, as tests do)."""
        self.process = _spawn(self.binary, self.config)
        if not _wait_open(self.process, self.port):
            raise RuntimeError(f"mosquitto did not start again: {self.log()[-500:]}")

    def log(self) -> str:
        """The tail of Mosquitto's own log (errors and warnings), for an error message."""
        with contextlib.suppress(OSError):
            return (self.folder / "mosquitto.log").read_text(errors="replace")[-2000:]
        return ""


def start_broker(folder: Path, binary: str, *, extra: str = "", anonymous: bool = True) -> Broker:
    """Start Mosquitto (``binary``) on a free port of 127.0.0.1 and wait until it accepts connections. ``extra``:
    more config lines (TLS listeners, a password file); ``anonymous``: whether clients may connect without a user."""
    process: subprocess.Popen[bytes] | None = None
    config = folder / "mosquitto.conf"
    for _attempt in range(5):  # the free port may be taken between the probe and Mosquitto's bind
        port = _free_port()
        config = folder / f"mosquitto-{port}.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous {'true' if anonymous else 'false'}\npersistence false\n"
            f"log_dest file {folder / 'mosquitto.log'}\nlog_type error\nlog_type warning\n{_keep_user()}{extra}"
        )
        process = _spawn(binary, config)
        if _wait_open(process, port):
            return Broker(process, port, folder, config, binary)
        with contextlib.suppress(Exception):
            process.kill()
            process.wait(timeout=5)
    tail = Broker(process, 0, folder, config, binary).log().strip().splitlines() if process is not None else []
    raise RuntimeError(f"mosquitto did not start on a free port{': ' + tail[-1] if tail else ''}")


def _spawn(binary: str, config: Path) -> subprocess.Popen[bytes]:
    """Mosquitto with no terminal: its output goes nowhere, and it has a session of its own, so a Ctrl+C typed at
    the console does not reach it (the console stops it, in order, when it exits)."""
    return subprocess.Popen(
        [binary, "-c", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _keep_user() -> str:
    """As root, Mosquitto drops to the user ``mosquitto``, who cannot read a private temporary folder (its config
    and log): keep the user we run as."""
    return "user root\n" if os.geteuid() == 0 else ""


def _wait_open(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
        time.sleep(0.02)
    return False
