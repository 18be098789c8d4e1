"""Install Moonraker (Klipper's API server) into its own virtual environment, once, and reuse it across test runs.

Moonraker pins many dependencies exactly (tornado, jinja2, paho-mqtt, libnacl ...), so it never goes into the
project's ``.venv``: it gets a venv of its own in the user cache directory, beside OctoPrint's
(``~/.cache/factory-console/moonraker-py3.11`` on Linux), which survives clean clones. ``MOONRAKER_VENV=/some/dir``
picks another place.

Run it alone to prepare a machine (or to see why it fails): ``python tests/moonraker/install_moonraker.py``.
Only pip and PyPI access are needed, and the libsodium shared library (``libnacl`` loads it; Debian's
``libsodium23``), which Moonraker's authorization component needs.
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

__all__ = ["MOONRAKER_REQUIREMENT", "MoonrakerUnavailable", "default_venv", "ensure_moonraker"]

MOONRAKER_REQUIREMENT = "moonraker>=0.11,<0.12"
"""The versions the adapter is tested against (the JSON-RPC API used has been stable since 0.8)."""

STAMP = ".factory-console-installed"
INSTALL_TIMEOUT = 900.0
CHECK = "import moonraker.server, libnacl.sign, tornado"


class MoonrakerUnavailable(RuntimeError):
    """Moonraker cannot be installed here; the message says exactly why (for ``pytest.skip``)."""


def default_venv() -> Path:
    """Where the Moonraker venv lives: ``$MOONRAKER_VENV``, else one per Python version in the user cache dir."""
    override = os.environ.get("MOONRAKER_VENV")
    if override:
        return Path(override).expanduser()
    version = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return Path(user_cache_dir("factory-console")) / f"moonraker-{version}"


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def _run(args: list[str], what: str, timeout: float) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise MoonrakerUnavailable(f"{what}: timed out after {timeout:.0f} s") from None
    except OSError as error:
        raise MoonrakerUnavailable(f"{what}: {error}") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        tail = [line for line in lines if line.startswith("ERROR")][-3:] or lines[-5:]
        raise MoonrakerUnavailable(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")


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
    return _bin(venv, "python").exists() and stamp.exists() and stamp.read_text().strip() == MOONRAKER_REQUIREMENT


def ensure_moonraker(venv: Path | None = None, *, log: bool = False) -> Path:
    """The venv's ``python`` (run Moonraker as ``python -m moonraker``), installing it first if needed.

    Raises :class:`MoonrakerUnavailable`.
    """
    venv = venv or default_venv()
    if _installed(venv):
        return _bin(venv, "python")
    try:
        return _install(venv, log=log)
    except OSError as error:  # no writable cache directory, no lock support ...
        raise MoonrakerUnavailable(f"cannot prepare {venv}: {error}") from None


def _install(venv: Path, *, log: bool) -> Path:
    with _locked(venv):
        if _installed(venv):
            return _bin(venv, "python")
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as scratch:
            # Is Moonraker reachable on the package index at all? A clear reason beats a failed venv build.
            _run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", scratch, MOONRAKER_REQUIREMENT],
                "pip download moonraker (is PyPI reachable?)",
                120.0,
            )
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], f"python -m venv {venv}", 120.0)
        python = str(_bin(venv, "python"))
        _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], "upgrade pip", 300.0)
        _run(
            [python, "-m", "pip", "install", "--quiet", MOONRAKER_REQUIREMENT], "pip install moonraker", INSTALL_TIMEOUT
        )
        # libnacl loads libsodium with ctypes: a machine without it installs fine and fails here, with the reason.
        _run([python, "-c", CHECK], "import moonraker (is libsodium installed? Debian: libsodium23)", 120.0)
        (venv / STAMP).write_text(MOONRAKER_REQUIREMENT + "\n")
        if log:
            print(f"installed {MOONRAKER_REQUIREMENT} in {venv} in {time.monotonic() - started:.0f} s")
    return _bin(venv, "python")


if __name__ == "__main__":
    try:
        exe = ensure_moonraker(log=True)
    except MoonrakerUnavailable as error:
        print(f"Moonraker unavailable: {error}", file=sys.stderr)
        sys.exit(1)
    print(exe)
