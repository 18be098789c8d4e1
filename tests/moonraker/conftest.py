"""Fixtures of the Moonraker tests: a real Moonraker per test module, with the Klipper stand-in behind it.

``moonraker_printer`` installs Moonraker into its own cached venv (``install_moonraker.py``) if missing, starts the
stand-in for Klipper's API socket and Moonraker on a free loopback port (about 1.5 s until Klipper is ready), and
stops both at the end of the module. ``printer`` hands it to one test with the printer ready, in standby, and the
job queue empty. Where Moonraker cannot be installed (no package index, no libsodium), the tests that need it are
skipped with the exact reason; anything else that goes wrong is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.moonraker.install_moonraker import MoonrakerUnavailable, ensure_moonraker
from tests.moonraker.klippy_standin import KlippyStandIn
from tests.moonraker.moonraker_server import MoonrakerServer, start_moonraker


@dataclass
class Printer:
    """Moonraker and the Klipper stand-in behind it."""

    server: MoonrakerServer
    klippy: KlippyStandIn

    def reset(self) -> None:
        self.klippy.reset()
        self.server.wait_klippy("ready")
        self.server.request("DELETE", "/server/job_queue/job?all=true")


@pytest.fixture(scope="module")
def moonraker_printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Printer]:
    try:
        python = ensure_moonraker()
    except MoonrakerUnavailable as error:
        pytest.skip(f"Moonraker cannot be installed here: {error}")
    base = tmp_path_factory.mktemp("moonraker")
    data = base / "data"
    (data / "gcodes").mkdir(parents=True)
    klippy = KlippyStandIn(base / "klippy.sock", data / "gcodes").start()
    try:
        server = start_moonraker(python, data, base / "klippy.sock")
    except BaseException:
        klippy.close()
        raise
    try:
        server.wait_klippy("ready")
        yield Printer(server, klippy)
    finally:
        server.stop()
        klippy.close()


@pytest.fixture
def printer(moonraker_printer: Printer) -> Printer:
    if moonraker_printer.server.process is None or moonraker_printer.server.process.poll() is not None:
        moonraker_printer.server.start()
    moonraker_printer.reset()
    return moonraker_printer
