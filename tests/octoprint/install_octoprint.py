"""Install OctoPrint into its own virtual environment, once, and reuse it across test runs.

OctoPrint pins many old dependencies, so it never goes into the project's ``.venv``: it gets a venv of its own under
the user cache directory (``~/.cache/factory-console/octoprint-py3.11`` on Linux), which survives clean clones (CI
checks out afresh each time; the cache directory does not go away). ``OCTOPRINT_VENV=/some/dir`` picks another place.

Run it alone to prepare a machine (or to see why it fails): ``python tests/octoprint/install_octoprint.py``.
Only pip and PyPI access are needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from platformdirs import user_cache_dir

__all__ = ["OCTOPRINT_REQUIREMENT", "OctoPrintUnavailable", "default_venv", "ensure_octoprint"]

OCTOPRINT_REQUIREMENT = "OctoPrint>=1.10,<2"
"""The versions the driver is tested against (the REST API used has been stable since 1.4)."""

STAMP = ".factory-console-installed"
INSTALL_TIMEOUT = 900.0


class OctoPrintUnavailable(RuntimeError):
    """OctoPrint cannot be installed here; the message says exactly why (for ``pytest.skip``)."""


def default_venv() -> Path:
    """Where the OctoPrint venv lives: ``$OCTOPRINT_VENV``, else one per Python version in the user cache dir."""
    override = os.environ.get("OCTOPRINT_VENV")
    if override:
        return Path(override).expanduser()
    version = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return Path(user_cache_dir("factory-console")) / f"octoprint-{version}"


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def _run(args: list[str], what: str, timeout: float) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise OctoPrintUnavailable(f"{what}: timed out after {timeout:.0f} s") from None
    except OSError as error:
        raise OctoPrintUnavailable(f"{what}: {error}") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        tail = [line for line in lines if line.startswith("ERROR")][-3:] or lines[-5:]
        raise OctoPrintUnavailable(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")


@contextlib.contextmanager
def _locked(venv: Path) -> Iterator[None]:
    """One installer at a time per venv (two test runs on one machine must not build it together)."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _installed(venv: Path) -> bool:
    stamp = venv / STAMP
    return _bin(venv, "octoprint").exists() and stamp.exists() and stamp.read_text().strip() == OCTOPRINT_REQUIREMENT


def ensure_octoprint(venv: Path | None = None, *, log: bool = False) -> Path:
    """The ``octoprint`` executable, installing it first if needed. Raises :class:`OctoPrintUnavailable`."""
    venv = venv or default_venv()
    if _installed(venv):
        return _bin(venv, "octoprint")
    try:
        return _install(venv, log=log)
    except OSError as error:  # no writable cache directory, no lock support ...
        raise OctoPrintUnavailable(f"cannot prepare {venv}: {error}") from None


def _install(venv: Path, *, log: bool) -> Path:
    with _locked(venv):
        if _installed(venv):
            return _bin(venv, "octoprint")
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as scratch:
            # Is OctoPrint reachable on the package index at all? A clear reason beats a failed venv build.
            _run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", scratch, OCTOPRINT_REQUIREMENT],
                "pip download OctoPrint (is PyPI reachable?)",
                120.0,
            )
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], f"python -m venv {venv}", 120.0)
        python = str(_bin(venv, "python"))
        _run(
            [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools", "wheel"], "upgrade pip", 300.0
        )
        _run(
            [python, "-m", "pip", "install", "--quiet", OCTOPRINT_REQUIREMENT], "pip install OctoPrint", INSTALL_TIMEOUT
        )
        _run([str(_bin(venv, "octoprint")), "--version"], "octoprint --version", 120.0)
        (venv / STAMP).write_text(OCTOPRINT_REQUIREMENT + "\n")
        if log:
            print(f"installed {OCTOPRINT_REQUIREMENT} in {venv} in {time.monotonic() - started:.0f} s")
    return _bin(venv, "octoprint")


if __name__ == "__main__":
    try:
        exe = ensure_octoprint(log=True)
    except OctoPrintUnavailable as error:
        print(f"OctoPrint unavailable: {error}", file=sys.stderr)
        sys.exit(1)
    print(exe)
