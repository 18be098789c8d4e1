"""The recording's settings: ``record_retention_h`` and ``record_checkpoint_min`` in the config file (checked like
every key: one line naming file, line and key), the ring in the user data dir by default, and ``--record FILE``."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import build_run_parser
from console.config import ConfigError, load_config
from console.launch import LaunchError, build_settings
from console.recording.ring import RECORDINGS_DIR_ENV, RecordingSpec, ring_dir


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def settings_for(argv: list[str], config: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> object:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(config))
    return build_settings(build_run_parser().parse_args(argv), environ)


def test_defaults_a_day_in_the_ring_and_a_checkpoint_every_five_minutes(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml")
    assert config.record_retention_h == 24.0
    assert config.record_checkpoint_min == 5.0


@pytest.mark.parametrize(("text", "hours"), [("record_retention_h = 0", 0.0), ("record_retention_h = 2.5", 2.5)])
def test_retention_in_hours_zero_included(tmp_path: Path, text: str, hours: float) -> None:
    assert load_config(write(tmp_path, text + "\n")).record_retention_h == hours


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('record_retention_h = "24"', "record_retention_h: Input should be a valid number"),
        ("record_retention_h = -1", "record_retention_h: Input should be greater than or equal to 0"),
        ("record_retention_h = true", "record_retention_h: Input should be a valid number"),
        ("record_retention_h = 100000", "record_retention_h: Input should be less than or equal to 8784"),
        ("record_checkpoint_min = 0", "record_checkpoint_min: Input should be greater than 0"),
        ("record_retention = 24", "record_retention: unknown key (check the spelling)"),
    ],
)
def test_bad_recording_settings_are_one_line_with_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, 'theme = "factory-dark"\n' + text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"config error: {path} line 2: {message}"


def test_the_ring_is_in_the_user_data_dir_unless_the_environment_says(tmp_path: Path) -> None:
    assert ring_dir({}).parts[-2:] == ("factory-console", "recordings")
    assert ring_dir({RECORDINGS_DIR_ENV: str(tmp_path)}) == tmp_path


def test_the_console_records_to_the_ring_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, "record_retention_h = 6\nrecord_checkpoint_min = 2\n")
    settings = settings_for(["--api", "http://c.example"], config, monkeypatch, {RECORDINGS_DIR_ENV: str(tmp_path)})
    assert settings.recording == RecordingSpec(ring_dir=tmp_path, retention_h=6.0, checkpoint_s=120.0)  # type: ignore[attr-defined]


def test_a_retention_of_zero_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, "record_retention_h = 0\n")
    settings = settings_for(["--api", "http://c.example"], config, monkeypatch, {})
    assert settings.recording is None  # type: ignore[attr-defined]


def test_record_names_a_file_kept_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, "record_retention_h = 0\n")
    argv = ["--api", "http://c.example", "--record", str(tmp_path / "shift.sqlite")]
    spec = settings_for(argv, config, monkeypatch, {}).recording  # type: ignore[attr-defined]
    assert spec == RecordingSpec(file=tmp_path / "shift.sqlite")
    assert spec.retention_s is None


def test_record_into_a_folder_is_refused_before_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, "")
    with pytest.raises(LaunchError, match="a folder; name a file"):
        settings_for(["--api", "http://c.example", "--record", str(tmp_path)], config, monkeypatch, {})
