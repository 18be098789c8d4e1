"""serve-web's rules without a server: when it refuses to start, sessions, what a session's console is given."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.cli import main
from console.command_service import allowed_actions, cap_role
from console.serve_web import (
    WEB_TOKENS_ENV,
    child_environment,
    console_argv,
    is_loopback,
    load_tokens,
    refusal,
    split_argv,
)
from console.tokens import TokenTable
from console.web_auth import LOGIN_PAGE, Sessions, cookie_attributes, login_page


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "console.example", "", "127.0.0.1.example"])
def test_beyond_loopback_without_tokens_is_refused(host):
    assert not is_loopback(host)
    assert refusal(host, 8000, login_required=False) is not None
    assert refusal(host, 8000, login_required=True) is None


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"])
def test_loopback_without_tokens_is_allowed(host):
    assert is_loopback(host)
    assert refusal(host, 8000, login_required=False) is None


def test_the_refusal_is_one_line_and_exit_2(capsys, monkeypatch):
    monkeypatch.delenv(WEB_TOKENS_ENV, raising=False)
    assert main(["serve-web", "--host", "0.0.0.0", "--", "--demo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("factory-console serve-web: refusing to serve 0.0.0.0:8000 beyond loopback without a login")


def test_a_token_file_others_can_read_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(WEB_TOKENS_ENV, raising=False)
    tokens = tmp_path / "web-tokens.txt"
    tokens.write_text("alice:operator:s3cret-alice\n")
    tokens.chmod(0o644)
    assert main(["serve-web", "--host", "0.0.0.0", "--token-file", str(tokens), "--", "--demo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chmod 600" in err
    assert "s3cret-alice" not in err


def test_a_bad_console_after_the_dashes_is_one_line_before_serving(capsys, monkeypatch):
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    assert main(["serve-web", "--", "--api", "http://127.0.0.1:9", "--token-env", "NO_SUCH_TOKEN_VAR"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NO_SUCH_TOKEN_VAR" in err


def test_tokens_come_from_the_file_and_the_environment(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("# who\nalice:operator:aaaa1\n")
    path.chmod(0o600)
    tokens = load_tokens(str(path), {WEB_TOKENS_ENV: "vic:viewer:vvvv2, sue:supervisor:ssss3"})
    assert [(name, role) for name, role, _ in tokens] == [
        ("alice", "operator"),
        ("vic", "viewer"),
        ("sue", "supervisor"),
    ]
    with pytest.raises(ValueError, match="entry 1") as caught:
        load_tokens(None, {WEB_TOKENS_ENV: "vic:admin:vvvv2"})
    assert "vvvv2" not in str(caught.value)


def test_split_argv():
    assert split_argv(["--port", "9", "--", "--demo", "--", "x"]) == (["--port", "9"], ["--demo", "--", "x"])
    assert split_argv(["--port", "9"]) == (["--port", "9"], [])


def test_a_session_console_gets_its_role_as_a_flag_and_never_a_token():
    viewer = console_argv(["--api", "http://x"], "viewer", python="py")
    operator = console_argv(["--api", "http://x"], "operator", python="py")
    supervisor = console_argv(["--api", "http://x"], "supervisor", python="py")
    assert viewer == ["py", "-m", "console", "--api", "http://x", "--read-only", "--max-role", "viewer"]
    assert operator == ["py", "-m", "console", "--api", "http://x", "--max-role", "operator"]
    assert supervisor == ["py", "-m", "console", "--api", "http://x"]
    with pytest.raises(ValueError):
        console_argv([], "admin")


def test_the_child_environment_has_no_login_tokens():
    env = child_environment({WEB_TOKENS_ENV: "a:viewer:secret", "FACTORY_TOKEN": "upstream", "PATH": "/bin"})
    assert env == {"FACTORY_TOKEN": "upstream", "PATH": "/bin"}


def test_cap_role_never_raises_a_role():
    assert cap_role("supervisor", "operator") == "operator"
    assert cap_role("operator", "operator") == "operator"
    assert cap_role("viewer", "operator") == "viewer"
    assert cap_role("supervisor", None) == "supervisor"
    assert cap_role("auditor", "operator") == "auditor"  # unknown: allows nothing anyway
    assert not allowed_actions(cap_role("auditor", "operator"), read_only=False)
    assert allowed_actions(cap_role("supervisor", "operator"), False) == allowed_actions("operator", False)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_log_in_expire_and_log_out():
    clock = Clock()
    sessions = Sessions(TokenTable([("alice", "operator", "s3cret-alice")]), ttl_s=60, clock=clock)
    assert sessions.login_required
    assert sessions.login("wrong") is None
    assert sessions.login("") is None
    session_id, session = sessions.login(" s3cret-alice ")
    assert (session.operator, session.role) == ("alice", "operator")
    assert "s3cret" not in session_id and len(session_id) >= 40
    assert sessions.get(session_id) == session
    assert sessions.get(None) is None and sessions.get("nope") is None
    clock.now += 61
    assert sessions.get(session_id) is None
    other, _ = sessions.login("s3cret-alice")
    sessions.logout(other)
    assert sessions.get(other) is None


def test_sessions_are_capped_oldest_first():
    sessions = Sessions(TokenTable([("a", "viewer", "aaaa")]), max_sessions=3)
    ids = [sessions.login("aaaa")[0] for _ in range(5)]
    assert [sessions.get(i) is not None for i in ids] == [False, False, True, True, True]


def test_with_no_tokens_every_browser_is_the_local_role():
    sessions = Sessions(TokenTable(), open_role="viewer")
    assert not sessions.login_required
    assert sessions.get(None).role == "viewer"
    assert sessions.login("anything") is None
    with pytest.raises(ValueError):
        Sessions(TokenTable(), open_role="admin")


def test_the_cookie_is_httponly_strict_and_secure_behind_tls():
    assert cookie_attributes(secure=True) | {"max_age": 0} == {
        "httponly": True,
        "samesite": "Strict",
        "secure": True,
        "path": "/",
        "max_age": 0,
    }
    assert cookie_attributes(secure=False)["secure"] is False


@given(st.text(max_size=200))
def test_the_login_page_never_carries_request_text(key):
    page = login_page(key)
    assert page in {login_page(""), login_page("failed"), login_page("expired")}
    assert page.startswith(LOGIN_PAGE[:50])


@given(st.text(min_size=1, max_size=5000))
def test_any_typed_token_but_the_known_one_is_refused(typed):
    sessions = Sessions(TokenTable([("alice", "operator", "the-one-s3cret")]))
    found = sessions.login(typed)
    assert (found is not None) == (typed.strip() == "the-one-s3cret")


def test_max_role_reaches_the_settings(tmp_path, monkeypatch):
    from console.cli import build_run_parser
    from console.launch import build_settings

    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "none.toml"))
    args = build_run_parser().parse_args(["--api", "http://127.0.0.1:9", "--max-role", "operator"])
    assert build_settings(args, {}).max_role == "operator"
    assert build_settings(build_run_parser().parse_args(["--api", "http://127.0.0.1:9"]), {}).max_role is None


def test_a_port_in_use_is_one_line_and_exit_2(capsys, monkeypatch, tmp_path):
    import socket

    monkeypatch.delenv(WEB_TOKENS_ENV, raising=False)
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "none.toml"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve-web", "--port", str(port), "--", "--api", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"factory-console serve-web: cannot listen on 127.0.0.1:{port}: Address already in use"
