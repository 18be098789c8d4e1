"""Tests for console.config: defaults, validation with file/line/key errors, token safety, and in-place saving."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from console.config import (
    Config,
    ConfigError,
    config_path,
    load_config,
    resolve_profile,
)

SECRET = "s3cr3t-token-value-XYZ"

FULL = textwrap.dedent(
    """\
    # factory-console settings
    theme = "factory-dark"          # default theme
    default_profile = "leeds"
    refresh_ms = 100
    stale_after_s = 30
    read_only = false

    [keys]
    "machine.pause" = "P"
    "app.quit" = "ctrl+q,f10"

    [profiles.leeds]
    api = "https://cluster.example:8443/"
    token_env = "FACTORY_TOKEN"
    agents = [
        "http://10.0.0.5:8701",
        "http://10.0.0.6:8701",
    ]
    ca_file = "/etc/ssl/private-ca.pem"
    insecure = false
    read_only = false

    [profiles.leeds.octoprint]
    prusa-1 = "http://10.0.0.9"

    [profiles.floor]
    agents = ["http://127.0.0.1:8701"]
    read_only = true
    """
)


def write(tmp_path: Path, text: str, mode: int = 0o600, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    os.chmod(path, mode)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"config error: {path}")
    return message


def test_config_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"
    monkeypatch.delenv("FACTORY_CONSOLE_CONFIG")
    assert config_path().name == "config.toml"
    assert "factory-console" in str(config_path())


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.model_dump() == Config().model_dump()
    assert config.theme == "factory-dark"
    assert config.refresh_ms == 100
    assert config.stale_after_s == 30
    assert config.read_only is False
    assert config.profiles == {}
    assert config.keys == {}
    assert config.path == tmp_path / "nope.toml"


def test_missing_file_gives_valid_defaults_and_builds_no_validator(tmp_path: Path) -> None:
    """Issue 15: without a file the defaults are taken as they are (``model_construct``), so the validators are
    never built on that start (fresh interpreter); the defaults pass the schema all the same."""
    import subprocess
    import sys

    config = load_config(tmp_path / "nope.toml")
    assert Config.model_validate(config.model_dump()).model_dump() == config.model_dump()
    assert config.model_fields_set == Config().model_fields_set == set()
    probe = (
        "import sys; from console.config import Config, load_config; "
        "load_config(__import__('pathlib').Path(sys.argv[1])); print(Config.__pydantic_complete__)"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "nope.toml")], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_load_uses_env_path_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "factory-light"\n')
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(path))
    assert load_config().theme == "factory-light"


def test_full_valid_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.default_profile == "leeds"
    assert config.keys == {"machine.pause": "P", "app.quit": "ctrl+q,f10"}
    leeds = resolve_profile(config, None)
    assert leeds.name == "leeds"
    assert leeds.api == "https://cluster.example:8443"  # trailing slash dropped, otherwise as written
    assert leeds.agents == ["http://10.0.0.5:8701", "http://10.0.0.6:8701"]
    assert leeds.ca_file == Path("/etc/ssl/private-ca.pem")
    assert leeds.octoprint == {"prusa-1": "http://10.0.0.9"}
    assert leeds.token({"FACTORY_TOKEN": "abc"}) == "abc"
    assert leeds.token({}) is None
    floor = resolve_profile(config, "floor")
    assert floor.api is None and floor.read_only
    assert config.is_read_only(floor) and not config.is_read_only(leeds)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "a"\nrefresh_ms = 100\nstale_after_s = = 3\n')
    message = error_of(path)
    assert " line 3 " in message
    assert "TOML syntax" in message


def test_wrong_type_deep_in_profile_points_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        theme = "mono"

        [profiles.leeds]
        api = "https://a.example"
        insecure = "yes"
        """,
    )
    message = error_of(path)
    assert " line 5: profiles.leeds.insecure: " in message
    assert "boolean" in message


def test_bad_url_message(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.leeds]\ntoken_env = "T"\n\napi = "cluster.example"\n')
    assert error_of(path).endswith(
        "line 4: profiles.leeds.api: Input should be a valid URL (http:// or https:// and a host)"
    )


def test_bad_agent_url_points_at_list_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.p]\nagents = [\n  "http://ok",\n  "ftp://no",\n]\n')
    message = error_of(path)
    assert "line 2: profiles.p.agents[1]:" in message


def test_unknown_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.leeds]\napi = "https://a"\ninsecrue = true\n')
    message = error_of(path)
    assert "line 3: profiles.leeds.insecrue: unknown key" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert "line 2: colour: unknown key" in error_of(write(tmp_path, 'theme = "mono"\ncolour = "red"\n'))


def test_quoted_and_dotted_keys_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, '[keys]\n"machine.pause" = "P"\n"app.quit" = 5\n')
    assert 'line 3: keys."app.quit":' in error_of(path)
    path = write(tmp_path, 'profiles.x.api = "https://a"\nprofiles.x."read_only" = 1\n', name="b.toml")
    assert "line 2: profiles.x.read_only:" in error_of(path)


def test_out_of_range_refresh(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "refresh_ms = 10\n"))
    assert "line 1: refresh_ms:" in message and "50" in message


def test_profile_without_source(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, 'theme = "mono"\n[profiles.empty]\ninsecure = true\n'))
    assert "line 2: profiles.empty:" in message and "api" in message


def test_several_errors_report_the_first_in_file_order(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, 'bogus = 1\nrefresh_ms = "x"\nread_only = 3\n'))
    assert "line 1: bogus:" in message
    assert "(and 2 more)" in message


def test_token_env_must_be_a_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, f'[profiles.p]\napi = "https://a"\ntoken_env = "Bearer {SECRET}"\n'))
    assert "line 3: profiles.p.token_env:" in message
    assert SECRET not in message


def test_unknown_profile_lists_known_names(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    with pytest.raises(ConfigError) as info:
        resolve_profile(config, "york")
    assert "'york'" in str(info.value) and "floor, leeds" in str(info.value)


def test_default_profile_must_exist(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, 'default_profile = "nope"\n[profiles.a]\napi = "https://a"\n'))
    assert "line 1: default_profile:" in message and "known profiles: a" in message


def test_single_profile_is_chosen_without_a_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[profiles.only]\napi = "https://a"\n'))
    assert resolve_profile(config).name == "only"
    with pytest.raises(ConfigError):
        resolve_profile(Config())


@pytest.mark.skipif(os.name == "nt", reason="POSIX mode bits")
def test_token_in_group_readable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.p]\napi = "https://a"\ntoken = "{SECRET}"\n', mode=0o644)
    message = error_of(path)
    assert f"chmod 600 {path}" in message
    assert "line 3: profiles.p.token:" in message
    assert SECRET not in message


@pytest.mark.skipif(os.name == "nt", reason="POSIX mode bits")
def test_token_in_private_file_is_accepted_and_hidden(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.p]\napi = "https://a"\ntoken = "{SECRET}"\n', mode=0o600)
    config = load_config(path)
    profile = resolve_profile(config, "p")
    assert profile.token({}) == SECRET
    assert profile.token({"X": "y"}) == SECRET
    for text in (str(config), repr(config), str(profile), repr(profile), config.model_dump_json()):
        assert SECRET not in text


def test_env_token_wins_over_file_token(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.p]\napi = "https://a"\ntoken_env = "T"\ntoken = "{SECRET}"\n')
    profile = resolve_profile(load_config(path), "p")
    assert profile.token({"T": "from-env"}) == "from-env"
    assert profile.token({"T": ""}) == SECRET


def test_token_never_in_validation_errors(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.p]\napi = "https://a"\ntoken = ["{SECRET}"]\n')
    assert SECRET not in error_of(path)
    path = write(tmp_path, f'[profiles.p]\napi = "{SECRET}"\n', name="b.toml")
    assert SECRET not in error_of(path)


def test_verify_setting(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[profiles.a]\napi = "https://a"\ninsecure = true\n[profiles.b]\napi = "https://b"\n')
    )
    assert config.profiles["a"].verify() is False
    assert config.profiles["b"].verify() is True
    missing = load_config(
        write(tmp_path, f'[profiles.c]\napi = "https://c"\nca_file = "{tmp_path}/none.pem"\n', name="c.toml")
    )
    with pytest.raises(ConfigError, match="ca_file"):
        missing.profiles["c"].verify()


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'theme = "a"\ntheme2 = "\xff"\n')
    assert "line 2" in error_of(path)


@pytest.mark.parametrize("char", ["\\u009b", "\\u001b", "\\u202e", "\\u2066", "\\u0085", "\\u007f"])
def test_an_error_never_prints_a_control_or_bidi_character_from_a_key_name(tmp_path: Path, char: str) -> None:
    path = write(tmp_path, f'"{char}31mX" = 1\n[keys]\n"a{char}" = 2\n')  # TOML escapes: the keys hold the raw chars
    message = error_of(path)
    assert "line 1" in message and "unknown key" in message
    assert all(ch.isprintable() for ch in message), ascii(message)
    assert all(not (0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069) for ch in message)
    assert char in message  # shown as an inert escape


def test_runbooks_dir_is_optional_expanded_and_taken_from_the_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_config(tmp_path / "nope.toml").runbooks_dir is None
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert load_config(write(tmp_path, 'runbooks_dir = "~/runbooks"\n')).runbooks_dir == tmp_path / "home" / "runbooks"
    assert load_config(write(tmp_path, 'runbooks_dir = "/srv/runbooks"\n')).runbooks_dir == Path("/srv/runbooks")
    # Relative: from the config file's folder, not from wherever the console was started.
    assert load_config(write(tmp_path, 'runbooks_dir = "runbooks"\n')).runbooks_dir == tmp_path / "runbooks"


@pytest.mark.parametrize(
    ("value", "message"),
    [('""', "should not be empty"), ("42", "should be a path"), ('"a\\u0000b"', "NUL"), ("[]", "should be a path")],
)
def test_a_bad_runbooks_dir_is_one_line_naming_it(tmp_path: Path, value: str, message: str) -> None:
    error = error_of(write(tmp_path, f'theme = "mono"\nrunbooks_dir = {value}\n'))
    assert "line 2: runbooks_dir:" in error and message in error


def test_runbooks_dir_reaches_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.cli import build_run_parser
    from console.launch import build_settings

    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(write(tmp_path, 'runbooks_dir = "site-runbooks"\n')))
    settings = build_settings(build_run_parser().parse_args(["--demo"]), {})
    assert settings.runbooks_dir == tmp_path / "site-runbooks"
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "none.toml"))
    assert build_settings(build_run_parser().parse_args(["--demo"]), {}).runbooks_dir is None


def test_shift_start_is_optional_a_time_or_a_list_of_them(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.toml").shift_start is None
    assert load_config(write(tmp_path, 'shift_start = "06:00"\n')).shift_start == ["06:00"]
    starts = load_config(write(tmp_path, 'shift_start = ["06:00", " 14:00", "22:00"]\n')).shift_start
    assert starts == ["06:00", "14:00", "22:00"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"6am"', "HH:MM in UTC"),
        ('"24:00"', "HH:MM in UTC"),
        ('"06:60"', "HH:MM in UTC"),
        ("600", 'like "06:00", or a list'),
        ("[]", 'like "06:00", or a list'),
        ('["06:00", 14]', 'like "06:00", or a list'),
        ('"\\u001b[31m06:00"', "HH:MM in UTC"),
    ],
)
def test_a_bad_shift_start_is_one_line_naming_it(tmp_path: Path, value: str, message: str) -> None:
    error = error_of(write(tmp_path, f'theme = "mono"\nshift_start = {value}\n'))
    assert "line 2: shift_start:" in error and message in error
    assert "\x1b" not in error


def test_shift_start_reaches_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import time

    from console.cli import build_run_parser
    from console.launch import build_settings

    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(write(tmp_path, 'shift_start = ["22:00", "06:00"]\n')))
    settings = build_settings(build_run_parser().parse_args(["--demo"]), {})
    assert settings.shift_start == (time(22, 0), time(6, 0))
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "none.toml"))
    assert build_settings(build_run_parser().parse_args(["--demo"]), {}).shift_start == ()
