"""Saving the config file (split from test_config.py): comments, other keys, private modes and symlinks survive;
refusals are one line."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from console.config import (
    ConfigError,
    load_config,
    save_setting,
    save_theme,
)
from tests.test_config import FULL, write

# --- saving ---------------------------------------------------------------------------------------------------------


def test_save_theme_preserves_comments_and_other_keys(tmp_path: Path) -> None:
    path = write(tmp_path, FULL, mode=0o640)
    save_theme("solarized-light", path)
    text = path.read_text()
    assert text == FULL.replace(
        'theme = "factory-dark"          # default theme', 'theme = "solarized-light"          # default theme'
    )
    assert load_config(path).theme == "solarized-light"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # an existing file keeps its mode


def test_every_comment_survives_saves(tmp_path: Path) -> None:
    """The operator's comments stay, wherever they are: above, beside and below the saved keys, and in tables."""
    original = (
        "# my console, my rules\n"
        "\n"
        "# the theme I like at night:\n"
        'theme = "mono"  # changed by the console, and that is fine\n'
        "read_only = false # keep it writable\n"
        "# end of the top level\n"
        "\n"
        "[profiles.leeds] # the plant\n"
        "# cluster API:\n"
        'api = "https://leeds.example"  # via VPN\n'
        "# trailing note, no newline after it"
    )
    path = write(tmp_path, original)
    save_theme("isa101", path)
    save_setting("refresh_ms", 250, path)
    save_setting("read_only", True, path)
    expected = (
        original.replace('theme = "mono"', 'theme = "isa101"')
        .replace("read_only = false", "read_only = true")
        .replace("read_only = true # keep it writable\n", "read_only = true # keep it writable\nrefresh_ms = 250\n")
    )
    assert path.read_text() == expected
    config = load_config(path)
    assert (config.theme, config.refresh_ms, config.read_only) == ("isa101", 250, True)


def test_the_package_still_exports_what_callers_import() -> None:
    import console.config as package

    assert set(package.__all__) >= {
        "Config",
        "ConfigError",
        "Profile",
        "SAVABLE_KEYS",
        "config_path",
        "load_config",
        "resolve_profile",
        "save_setting",
        "save_theme",
    }
    assert all(hasattr(package, name) for name in package.__all__)


def test_save_theme_adds_line_when_missing(tmp_path: Path) -> None:
    path = write(tmp_path, '# mine\nrefresh_ms = 200 # fast\n\n[profiles.a]\napi = "https://a"\n')
    save_theme("nord", path)
    text = path.read_text()
    assert text == '# mine\nrefresh_ms = 200 # fast\ntheme = "nord"\n\n[profiles.a]\napi = "https://a"\n'
    assert load_config(path).theme == "nord"
    assert load_config(path).refresh_ms == 200


def test_save_theme_into_file_with_only_tables(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.a]\napi = "https://a"\n')
    save_theme("nord", path)
    config = load_config(path)
    assert config.theme == "nord" and config.profiles["a"].api == "https://a"


def test_save_theme_creates_private_file_and_dirs(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "config.toml"
    save_theme("isa101", path)
    assert load_config(path).theme == "isa101"
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_theme_uses_env_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "c.toml"))
    save_theme("dracula")
    assert tomllib.loads((tmp_path / "c.toml").read_text()) == {"theme": "dracula"}


def test_save_theme_ignores_theme_keys_inside_tables(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "mono"\n[keys]\ntheme = "t"\n')
    save_theme("isa101", path)
    assert path.read_text() == 'theme = "isa101"\n[keys]\ntheme = "t"\n'


def test_save_replaces_multiline_value(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = """\nold\n""" # c\nread_only = false\n')
    save_theme("isa101", path)
    assert path.read_text() == 'theme = "isa101" # c\nread_only = false\n'


def test_save_setting_other_scalars_and_refusals(tmp_path: Path) -> None:
    path = write(tmp_path, "refresh_ms = 100\n")
    save_setting("refresh_ms", 250, path)
    save_setting("read_only", True, path)
    config = load_config(path)
    assert config.refresh_ms == 250 and config.read_only is True
    with pytest.raises(ConfigError):
        save_setting("refresh_ms", 5, path)  # out of range: file untouched
    with pytest.raises(ConfigError):
        save_setting("keys", "x", path)
    assert load_config(path).refresh_ms == 250


def test_save_refuses_broken_file(tmp_path: Path) -> None:
    path = write(tmp_path, "theme = = 1\n")
    with pytest.raises(ConfigError, match="line 1"):
        save_theme("mono", path)
    assert path.read_text() == "theme = = 1\n"


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_save_through_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = write(tmp_path, 'theme = "mono"\n', name="real.toml")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    save_theme("isa101", link)
    assert link.is_symlink()
    assert load_config(real).theme == "isa101"


def test_save_setting_escapes_quotes_backslashes_and_controls(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_setting("default_profile", 'we"ird\\name\x7f\x1b', path)
    assert tomllib.loads(path.read_text())["default_profile"] == 'we"ird\\name\x7f\x1b'
    assert "\x1b" not in path.read_text() and "\x7f" not in path.read_text()
