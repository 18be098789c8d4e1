"""Starting the console: flags, profiles, tokens and themes resolve before the terminal is taken over."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.cli import build_run_parser, main
from console.launch import LaunchError, build_settings


def settings_for(argv: list[str], config: Path, environ: dict[str, str] | None = None, monkeypatch=None):
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(config))
    return build_settings(build_run_parser().parse_args(argv), environ or {})


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_api_flag_and_token_from_the_environment(tmp_path, monkeypatch):
    settings = settings_for(
        ["--api", "https://cluster.example:8443/", "--token-env", "FC_TOKEN"],
        tmp_path / "missing.toml",
        {"FC_TOKEN": "t0ps3cret"},
        monkeypatch,
    )
    (source,) = settings.sources
    assert source.url == "https://cluster.example:8443"
    assert source.token == "t0ps3cret"
    assert "t0ps3cret" not in repr(source)
    assert source.verify is True


def test_missing_token_variable_is_one_clear_line(tmp_path, monkeypatch):
    with pytest.raises(LaunchError, match="FC_TOKEN"):
        settings_for(["--api", "https://x", "--token-env", "FC_TOKEN"], tmp_path / "none.toml", {}, monkeypatch)


def test_profile_from_the_config_file(tmp_path, monkeypatch):
    config = write_config(
        tmp_path / "config.toml",
        """
theme = "isa101"
default_profile = "leeds"
refresh_ms = 200
[keys]
"machine.pause" = "P"
[profiles.leeds]
api = "https://leeds.example"
token_env = "LEEDS_TOKEN"
agents = ["http://10.0.0.5:8701"]
read_only = true
""",
    )
    settings = settings_for([], config, {"LEEDS_TOKEN": "abc"}, monkeypatch)
    assert settings.theme == "isa101"
    assert settings.refresh_ms == 200
    assert settings.keymap == {"machine.pause": "P"}
    assert settings.read_only
    assert [(s.kind, s.url, s.token) for s in settings.sources] == [
        ("cluster", "https://leeds.example", "abc"),
        ("agent", "http://10.0.0.5:8701", "abc"),
    ]


def test_bad_config_names_file_line_and_key(tmp_path, monkeypatch):
    config = write_config(tmp_path / "config.toml", 'theme = "isa101"\n[profiles.a]\napi = 42\n')
    with pytest.raises(LaunchError) as error:
        settings_for(["--demo"], config, {}, monkeypatch)
    message = str(error.value)
    assert "\n" not in message
    assert str(config) in message and "line 3" in message and "profiles.a.api" in message


def test_no_color_picks_the_mono_theme(tmp_path, monkeypatch):
    settings = settings_for(["--demo"], tmp_path / "none.toml", {"NO_COLOR": "1"}, monkeypatch)
    assert settings.theme == "mono"


def test_nothing_to_connect_to(tmp_path, monkeypatch):
    with pytest.raises(LaunchError, match="nothing to connect to"):
        settings_for([], tmp_path / "none.toml", {}, monkeypatch)


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert "factory-console" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--demo" in capsys.readouterr().out


def test_config_path_prints_the_file(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "c.toml"))
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "c.toml")


def demo_console_in_pty(
    tmp_path: Path, term: str, *, drop: tuple[str, ...] = ()
) -> tuple[int, subprocess.Popen[bytes]]:
    """A small ``--demo`` console (2 nodes of 4 machines) in a real pty of 120x40 with ``TERM=term`` (no COLORTERM,
    nor the variables in ``drop``), its config, log and recordings under ``tmp_path``: the pty's main end and the
    process (in a session of its own, the pty its controlling terminal)."""
    env = dict(os.environ, TERM=term, COLUMNS="120", LINES="40")
    for name in ("COLORTERM", *drop):
        env.pop(name, None)
    env["FACTORY_CONSOLE_CONFIG"] = str(tmp_path / "config.toml")
    env["FACTORY_CONSOLE_LOG_DIR"] = str(tmp_path / "log")
    env["FACTORY_CONSOLE_RECORDINGS_DIR"] = str(tmp_path / "recordings")  # the ring, not the user's own
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "--demo", "--nodes", "2", "--machines-per-node", "4"],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        env=env,
        start_new_session=True,
    )
    os.close(child_fd)
    return main_fd, process


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if needle in seen:
                return seen
    return seen


def _read_until_exit(fd: int, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """Everything the process writes until it exits (or ``timeout``): the reading side of a live terminal."""
    seen = b""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # EIO: the process has closed the terminal; it is exiting
                break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    return seen


@pytest.mark.parametrize(
    ("sig", "term"),
    [
        (signal.SIGHUP, "xterm-256color"),
        (signal.SIGTERM, "xterm-256color"),
        (signal.SIGHUP, "xterm"),
        (signal.SIGHUP, "linux"),
    ],
    ids=["SIGHUP-256", "SIGTERM-256", "SIGHUP-xterm-16", "SIGHUP-linux-console"],
)
def test_a_dropped_ssh_session_ends_the_process_and_restores_the_terminal(tmp_path, sig, term):
    """SIGHUP (the SSH session went away) or SIGTERM: exit promptly and leave the alternate screen; also in 16-colour
    terminals (`xterm`, the Linux console), where the console runs and reaches live too."""
    main_fd, process = demo_console_in_pty(tmp_path, term)
    try:
        output = _read_until(main_fd, b"live", timeout=30)
        assert b"live" in output, output[-500:]
        process.send_signal(sig)
        # A real terminal keeps reading while the console exits; one that stops reading is a stalled terminal, whose
        # output the console rightly drops (under load the pty's buffer filled and the restore was dropped with it).
        rest = _read_until_exit(main_fd, process, timeout=10)
        assert process.returncode is not None, "the console did not exit"
        rest += _read_until(main_fd, b"\x1b[?1049l", timeout=2)
        assert b"\x1b[?1049l" in output + rest, "the alternate screen was not left"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main_fd)


def test_a_profile_whose_token_variable_is_unset_stops_like_token_env_does(tmp_path, monkeypatch):
    config = write_config(
        tmp_path / "config.toml", '[profiles.leeds]\napi = "https://leeds.example"\ntoken_env = "LEEDS_TOKEN"\n'
    )
    with pytest.raises(LaunchError) as from_profile:
        settings_for(["--profile", "leeds"], config, {}, monkeypatch)
    with pytest.raises(LaunchError) as from_flag:
        settings_for(["--api", "https://x", "--token-env", "LEEDS_TOKEN"], tmp_path / "none.toml", {}, monkeypatch)
    assert str(from_profile.value).startswith(str(from_flag.value))
    assert "profile leeds" in str(from_profile.value) and str(config) in str(from_profile.value)
    with pytest.raises(LaunchError, match=r"LEEDS_TOKEN .* is empty"):
        settings_for(["--profile", "leeds"], config, {"LEEDS_TOKEN": ""}, monkeypatch)
    # the default profile takes the same path
    write_config(config, 'default_profile = "leeds"\n' + config.read_text())
    with pytest.raises(LaunchError, match="LEEDS_TOKEN"):
        settings_for([], config, {}, monkeypatch)


def test_a_token_in_the_file_still_backs_up_an_unset_token_variable(tmp_path, monkeypatch):
    config = write_config(
        tmp_path / "config.toml",
        '[profiles.leeds]\napi = "https://leeds.example"\ntoken_env = "LEEDS_TOKEN"\ntoken = "from-the-file"\n',
    )
    (source,) = settings_for(["--profile", "leeds"], config, {}, monkeypatch).sources
    assert source.token == "from-the-file"
    (source,) = settings_for(["--profile", "leeds"], config, {"LEEDS_TOKEN": "from-env"}, monkeypatch).sources
    assert source.token == "from-env"


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (lazy imports count: they still make a cycle)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_cli_and_launch_import_each_other_one_way_only():
    import console.cli
    import console.launch

    assert "console.launch" in _imported_modules(Path(console.cli.__file__))
    assert not any(
        name == "console.cli" or name.startswith("console.cli.")
        for name in _imported_modules(Path(console.launch.__file__))
    )


def test_sim_config_takes_only_the_flags_given():
    from console.launch import sim_config

    args = build_run_parser().parse_args(["--demo", "--seed", "3", "--nodes", "2"])
    config = sim_config(args)
    assert (config.seed, config.nodes) == (3, 2)
    assert config.speed == type(config)().speed  # not given: the simulation's own default


@pytest.mark.parametrize(
    ("argv", "config_text", "term", "expected"),
    [
        (["--demo"], "", "xterm-256color", False),
        (["--demo"], "", "linux", True),  # the Linux console's font lacks the symbols: ASCII by itself
        (["--demo", "--ascii"], "", "xterm-256color", True),
        (["--demo", "--no-ascii"], "", "linux", False),
        (["--demo"], "ascii = true\n", "xterm-256color", True),
        (["--demo"], "ascii = false\n", "linux", False),
        (["--demo", "--ascii"], "ascii = false\n", "xterm", True),  # the command line wins over the file
    ],
)
def test_ascii_mode_from_flag_config_or_the_linux_console(tmp_path, monkeypatch, argv, config_text, term, expected):
    config = write_config(tmp_path / "c.toml", config_text)
    assert settings_for(argv, config, {"TERM": term}, monkeypatch).ascii is expected


def test_ascii_in_the_config_must_be_a_boolean(tmp_path, monkeypatch):
    config = write_config(tmp_path / "c.toml", 'ascii = "yes"\n')
    with pytest.raises(LaunchError, match="ascii"):
        settings_for(["--demo"], config, {}, monkeypatch)
