"""The input caps (``max_response_mb``, ``max_event_kb``) come from the config file, validated, into Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import build_run_parser
from console.config import Config, ConfigError, load_config
from console.launch import LaunchError, build_settings
from console.settings import DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RESPONSE_BYTES, Settings


def settings_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(path))
    return build_settings(build_run_parser().parse_args(["--demo"]), {})


def test_defaults_are_512_mib_and_1_mib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.api import body, sse

    assert (DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_EVENT_BYTES) == (512 * 1024 * 1024, 1024 * 1024)
    assert (body.DEFAULT_MAX_RESPONSE_BYTES, sse.DEFAULT_MAX_EVENT_BYTES) == (512 * 1024 * 1024, 1024 * 1024)
    settings = settings_from(tmp_path, monkeypatch, "")
    assert (settings.max_response_bytes, settings.max_event_bytes) == (512 * 1024 * 1024, 1024 * 1024)
    assert (Settings().max_response_bytes, Settings().max_event_bytes) == (
        DEFAULT_MAX_RESPONSE_BYTES,
        DEFAULT_MAX_EVENT_BYTES,
    )
    assert Config().max_response_mb * 1024 * 1024 == DEFAULT_MAX_RESPONSE_BYTES
    assert Config().max_event_kb * 1024 == DEFAULT_MAX_EVENT_BYTES


def test_the_file_sets_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(tmp_path, monkeypatch, "max_response_mb = 64\nmax_event_kb = 256\n")
    assert (settings.max_response_bytes, settings.max_event_bytes) == (64 * 1024 * 1024, 256 * 1024)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("max_response_mb = 0", "max_response_mb"),
        ("max_response_mb = -5", "max_response_mb"),
        ("max_response_mb = 4097", "max_response_mb"),
        ("max_response_mb = 1.5", "max_response_mb"),
        ('max_response_mb = "256"', "max_response_mb"),
        ("max_response_mb = true", "max_response_mb"),
        ("max_event_kb = 0", "max_event_kb"),
        ("max_event_kb = 65537", "max_event_kb"),
        ("max_event_kb = 1e3", "max_event_kb"),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'theme = "mono"\n{line}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^config error: .* line 2: {key}: "):
        load_config(path)
    with pytest.raises(LaunchError, match=rf"line 2: {key}: "):
        settings_from(tmp_path, monkeypatch, f'theme = "mono"\n{line}\n')


def test_the_bounds_themselves_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("max_response_mb = 1\nmax_event_kb = 65536\n", encoding="utf-8")
    config = load_config(path)
    assert (config.max_response_mb, config.max_event_kb) == (1, 65536)
    path.write_text("max_response_mb = 4096\nmax_event_kb = 1\n", encoding="utf-8")
    assert load_config(path).max_response_mb == 4096


@pytest.mark.parametrize("value", [0, -1, True, 1.0])
def test_settings_built_in_code_refuse_nonsense(value: object) -> None:
    with pytest.raises(ValueError, match="max_response_bytes"):
        Settings(max_response_bytes=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_event_bytes"):
        Settings(max_event_bytes=value)  # type: ignore[arg-type]
