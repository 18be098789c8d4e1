"""Fixtures of the OctoPrint tests: one real OctoPrint (virtual printer) per session, installed on first use.

``octoprint_server`` installs OctoPrint into its own cached venv (``install_octoprint.py``) if missing, starts it on a
free loopback port, and stops it at the end of the session. Where OctoPrint cannot be installed (no package index),
the tests that need it are skipped with the exact reason; anything else that goes wrong is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.octoprint.install_octoprint import OctoPrintUnavailable, ensure_octoprint
from tests.octoprint.octoprint_server import OctoPrintServer, start_octoprint


@pytest.fixture(scope="session")
def octoprint_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OctoPrintServer]:
    try:
        octoprint = ensure_octoprint()
    except OctoPrintUnavailable as error:
        pytest.skip(f"OctoPrint cannot be installed here: {error}")
    server = start_octoprint(octoprint, tmp_path_factory.mktemp("octoprint"))
    try:
        yield server
    finally:
        server.stop()
