"""A theme name that does not exist is refused before the terminal is taken over, from the file and from --theme."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import build_run_parser
from console.config import ConfigError, load_config
from console.launch import LaunchError, build_settings
from console.settings import Settings
from console.theme_names import PROJECT_THEMES, TEXTUAL_THEMES, THEME_NAMES


def test_the_plain_list_is_what_the_app_registers(tmp_path: Path) -> None:
    from textual.theme import BUILTIN_THEMES

    from console.app import FactoryConsoleApp
    from console.audit_log import AuditLog
    from themes import DEFAULT_THEME, THEMES

    assert set(PROJECT_THEMES) == set(THEMES) and PROJECT_THEMES[0] == DEFAULT_THEME
    assert set(TEXTUAL_THEMES) == set(BUILTIN_THEMES)
    app = FactoryConsoleApp(Settings(save_theme=False), audit_log=AuditLog(tmp_path / "audit.jsonl"))
    assert set(app.available_themes) == THEME_NAMES


@pytest.mark.parametrize("name", sorted(THEME_NAMES))
def test_every_theme_the_app_has_is_accepted(tmp_path: Path, name: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'theme = "{name}"\n')
    assert load_config(path).theme == name


def test_an_unknown_theme_in_the_file_is_one_line_naming_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('refresh_ms = 100\ntheme = "neon"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"config error: {path} line 2: theme: no such theme")
    assert "factory-dark" in message and "nord" in message
    assert "\n" not in message and "neon" not in message  # the file's value is not echoed


def test_an_unknown_theme_in_the_file_stops_the_launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "neon"\n')
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(path))
    with pytest.raises(LaunchError, match=r"line 1: theme: no such theme"):
        build_settings(build_run_parser().parse_args(["--demo"]), {})


def test_an_unknown_theme_on_the_command_line_stops_the_launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(LaunchError, match=r"^--theme 'neon': no such theme \(themes: factory-dark"):
        build_settings(build_run_parser().parse_args(["--demo", "--theme", "neon"]), {})
    with pytest.raises(LaunchError) as error:
        build_settings(build_run_parser().parse_args(["--demo", "--theme", "x\x1b]52;c;AAAA\x07"]), {})
    assert "\x1b" not in str(error.value) and "\x07" not in str(error.value)
    settings = build_settings(build_run_parser().parse_args(["--demo", "--theme", "gruvbox"]), {})
    assert settings.theme == "gruvbox"


def test_config_and_audit_log_do_not_import_textual() -> None:
    code = (
        "import sys, console.config, console.audit_log, console.theme_names, console.settings; "
        "sys.exit(1 if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
