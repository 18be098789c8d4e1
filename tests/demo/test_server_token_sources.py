"""Where the demo server's tokens come from: a private file, the environment, or (with a warning) the command line.

A secret on the command line is visible to every user of the machine (``ps``), so ``--token`` warns; a token file that
group or others can read is refused like ssh refuses a private key; no error ever quotes a secret that did not come
from the command line.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from console.cli import _demo_server_tokens, build_demo_server_parser, demo_server_main
from console.demo.auth import TOKENS_ENV, read_token_file, tokens_from_text

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def args(*argv: str) -> argparse.Namespace:
    return build_demo_server_parser().parse_args(list(argv))


def token_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "tokens"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_a_private_token_file_gives_its_tokens(tmp_path: Path) -> None:
    path = token_file(tmp_path, "# who may do what\nalice:operator:s3cret:with:colons\n\nbob:viewer:hunter2\n")
    assert read_token_file(path) == [("alice", "operator", "s3cret:with:colons"), ("bob", "viewer", "hunter2")]
    assert _demo_server_tokens(args("--token-file", str(path)), {}) == read_token_file(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o666, 0o620])
def test_a_token_file_others_can_reach_is_refused(tmp_path: Path, mode: int) -> None:
    path = token_file(tmp_path, "alice:operator:s3cret\n", mode)
    with pytest.raises(ValueError, match=rf"accessible by group or others \(mode {mode:04o}\); run chmod 600"):
        read_token_file(path)


def test_errors_name_the_line_never_the_secret(tmp_path: Path) -> None:
    path = token_file(tmp_path, "alice:operator:good\nbob-s3cret-without-colons\n")
    with pytest.raises(ValueError) as error:
        read_token_file(path)
    assert "line 2" in str(error.value) and "s3cret" not in str(error.value)
    with pytest.raises(ValueError) as error:
        tokens_from_text("a:operator:x,carol:janitor:topsecret", separators=",\n")
    assert "entry 2" in str(error.value) and "topsecret" not in str(error.value)


def test_missing_and_non_utf8_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the token file"):
        read_token_file(tmp_path / "absent")
    path = tmp_path / "latin1"
    path.write_bytes(b"alice:operator:caf\xe9\n")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="not UTF-8"):
        read_token_file(path)


def test_the_environment_gives_tokens_separated_by_commas_or_newlines() -> None:
    env = {TOKENS_ENV: "alice:operator:one, bob:supervisor:two\ncarol:viewer:three"}
    assert _demo_server_tokens(args(), env) == [
        ("alice", "operator", "one"),
        ("bob", "supervisor", "two"),
        ("carol", "viewer", "three"),
    ]


def test_all_sources_add_up_and_a_repeated_secret_is_an_error(tmp_path: Path) -> None:
    path = token_file(tmp_path, "alice:operator:one\n")
    tokens = _demo_server_tokens(
        args("--token-file", str(path), "--token", "c:viewer:three"), {TOKENS_ENV: "b:viewer:two"}
    )
    assert [name for name, _, _ in tokens] == ["alice", "b", "c"]
    with pytest.raises(ValueError):
        _demo_server_tokens(args("--token-file", str(path)), {TOKENS_ENV: "bob:viewer:one"})


def test_token_on_the_command_line_warns(capsys: pytest.CaptureFixture[str]) -> None:
    assert _demo_server_tokens(args("--token", "alice:operator:s3cret"), {}) == [("alice", "operator", "s3cret")]
    err = capsys.readouterr().err
    assert "warning" in err and "--token-file" in err and TOKENS_ENV in err and "s3cret" not in err


def test_demo_server_stops_with_exit_2_on_a_readable_token_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = token_file(tmp_path, "alice:operator:s3cret\n", 0o644)
    assert demo_server_main(["--token-file", str(path), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chmod 600" in err and "s3cret" not in err
