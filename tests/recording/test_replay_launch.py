"""``factory-console replay``: what cannot be replayed is one line on stderr and exit code 2, before the terminal is
taken over (never a traceback); a good recording gives the settings of a read-only console with one replay source."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from console.cli import main
from console.demo.sim import SimConfig
from console.recording.recorder import Recorder
from console.recording.ring import RECORDINGS_DIR_ENV, RecordingSpec
from console.replay_launch import build_replay_parser, replay_settings
from console.store.store import Store
from tests.recording.sim_feed import SimFeed, connect, run


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "missing.toml"))
    monkeypatch.setenv(RECORDINGS_DIR_ENV, str(tmp_path / "ring"))
    return tmp_path


def recorded(path: Path) -> Path:
    feed = SimFeed(SimConfig(seed=7, nodes=2, machines_per_node=3, telemetry_hz=2.0))
    store = Store()
    recorder = Recorder(RecordingSpec(file=path), store, feed.now)
    recorder.start()
    connect(store, feed)
    run(store, feed, 60)
    recorder.stop()
    return path


def args(*argv: str) -> argparse.Namespace:
    return build_replay_parser().parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "replay what? name a recording (replay FILE) or open the ring (replay --last HOURS)"),
        (["--last", "0"], "--last takes a number of hours above 0"),
        (["nothing.sqlite"], "replay: nothing.sqlite: no such file"),
        (["--last", "2"], "no recording in "),
    ],
)
def test_what_cannot_be_replayed_is_one_line(config: Path, capsys: pytest.CaptureFixture[str], argv, expected) -> None:
    assert main(["replay", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("factory-console: ") and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_damaged_file_is_one_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config / "broken.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 2000)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"factory-console: replay: {path}: not a readable recording")
    assert err.count("\n") == 1


def test_a_recording_replays_read_only_as_one_source(config: Path) -> None:
    path = recorded(config / "shift.sqlite")
    settings = replay_settings(args(str(path), "--last", "0.5"), {})
    (source,) = settings.sources
    assert (source.source_id, source.kind, source.url) == ("replay", "replay", str(path))
    assert settings.read_only and settings.recording is None and settings.replay_last_h == 0.5


def test_last_opens_the_newest_file_of_the_ring(config: Path) -> None:
    ring = config / "ring"
    ring.mkdir()
    older = recorded(ring / "ring-20261124T080000Z-1.sqlite")
    newer = recorded(ring / "ring-20261125T080000Z-2.sqlite")
    import os

    os.utime(older, (1, 1))
    settings = replay_settings(args("--last", "1"), {RECORDINGS_DIR_ENV: str(ring)})
    assert settings.sources[0].url == str(newer)
