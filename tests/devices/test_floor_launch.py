"""``--demo --with-devices`` at launch: without Mosquitto on the machine, one line says what is skipped and how to
get it, and the OPC UA site still starts (never a crash); without ``--demo`` the flag is a one-line error."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cli import build_run_parser
from console.demo.floor import broker
from console.launch import LaunchError, _start_floor, sim_config
from console.terminal_guard import TerminalGuard


def test_without_mosquitto_one_line_says_what_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no mosquitto on PATH ...
    monkeypatch.setattr(broker, "SBIN_MOSQUITTO", tmp_path / "mosquitto")  # ... nor where Debian puts it
    args = build_run_parser().parse_args(["--demo", "--with-devices"])
    guard = TerminalGuard()
    with ExitStack() as stack:
        specs = _start_floor(args, stack, guard)
        assert [spec.kind for spec in specs] == ["opcua"]
        assert len(guard.cleanups) == 1, "stopped on SIGTERM and SIGHUP too"
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("factory-console: --with-devices: no Sparkplug B site: the mosquitto broker is not installed")
    assert "apt-get install mosquitto" in err


def test_with_devices_needs_the_demo() -> None:
    args = build_run_parser().parse_args(["--api", "http://127.0.0.1:9", "--with-devices"])
    with ExitStack() as stack, pytest.raises(LaunchError, match=r"^--with-devices needs --demo"):
        _start_floor(args, stack, TerminalGuard())


def test_the_simulation_runs_on_the_devices_clock() -> None:
    """The devices stamp real time, so with them the simulation starts now at real speed (unless --speed says)."""
    before = datetime.now(UTC).replace(microsecond=0)
    config = sim_config(build_run_parser().parse_args(["--demo", "--with-devices"]))
    assert config.speed == 1.0 and config.start is not None and before <= config.start <= datetime.now(UTC)
    faster = sim_config(build_run_parser().parse_args(["--demo", "--with-devices", "--speed", "20"]))
    assert faster.speed == 20.0
    assert sim_config(build_run_parser().parse_args(["--demo"])).start is None, "the plain demo is unchanged"
