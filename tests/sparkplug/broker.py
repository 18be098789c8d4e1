"""A real Mosquitto broker for the Sparkplug tests: its own config in a temporary folder, a free loopback port, no
persistence, anonymous clients. ``make sysdeps`` installs Mosquitto; without it the tests are skipped with why."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Broker", "mosquitto_path", "start_broker"]


def mosquitto_path() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").is_file() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Broker:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    config: Path

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def restart(self) -> None:
        """Start again on the same port (after :meth:`stop`)."""
        binary = mosquitto_path()
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if not _wait_open(self.process, self.port):
            raise RuntimeError(f"mosquitto did not start again: {self.log()}")

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "mosquitto.log").read_text(errors="replace")[-4000:]
        return ""


def start_broker(folder: Path, *, extra: str = "", anonymous: bool = True) -> Broker:
    """Start Mosquitto on a free port of 127.0.0.1 and wait until it accepts connections."""
    binary = mosquitto_path()
    if binary is None:
        raise FileNotFoundError("mosquitto is not installed (make sysdeps, or apt-get install mosquitto)")
    for _attempt in range(5):
        port = _free_port()
        config = folder / f"mosquitto-{port}.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous {'true' if anonymous else 'false'}\npersistence false\n"
            f"log_dest file {folder / 'mosquitto.log'}\nlog_type error\nlog_type warning\n{_keep_user()}{extra}"
        )
        process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _wait_open(process, port):
            return Broker(process, port, folder, config)
        with contextlib.suppress(Exception):
            process.kill()
            process.wait(timeout=5)
    raise RuntimeError(f"mosquitto did not start on a free port: {Broker(process, 0, folder, config).log()}")


def _keep_user() -> str:
    """As root, Mosquitto drops to the user ``mosquitto``, who cannot read the test's private temporary folder (its
    log, certificates and password file): keep the user the tests run as."""
    return "user root\n" if os.geteuid() == 0 else ""


def _wait_open(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
        time.sleep(0.02)
    return False
