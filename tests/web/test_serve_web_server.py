"""serve-web over loopback, without a browser: the login, what needs a session, and that a login token is never in a
URL, a page, a header but the cookie's, the server's log, or the command line or environment of a console."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import httpx

from tests.web.conftest import TOKENS, ServedWeb

SECRETS = [token.encode() for token in TOKENS.values()]


def login(served: ServedWeb, token: str) -> httpx.Response:
    return httpx.post(f"{served.url}/login", data={"token": token}, follow_redirects=False, timeout=10)


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def read_proc(pid: int, name: str) -> bytes:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes()
    except OSError:
        return b""


Processes = list[tuple[bytes, bytes]]


async def console_processes(served: ServedWeb, cookie: str, origin: str | None) -> tuple[int, Processes]:
    """Open the console websocket with a session cookie and ``Origin``; the status, and the argv and environment of
    each process under the server once a console is up."""
    headers = {"Cookie": f"factory_console_session={cookie}"}
    if origin:
        headers["Origin"] = origin
    async with aiohttp.ClientSession() as client:
        try:
            url = f"{served.url.replace('http', 'ws')}/ws?width=100&height=30"
            websocket = await client.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as error:
            return error.status, []
        async with websocket:
            for _ in range(400):  # the console's first bytes: it is up (a deadline, not a measurement)
                message = await websocket.receive(timeout=30)
                if message.type == aiohttp.WSMsgType.BINARY and len(message.data) > 100:
                    break
            procs = [(read_proc(p, "cmdline"), read_proc(p, "environ")) for p in descendants(served.process.pid)]
            return 101, procs


def test_the_login_sets_only_a_session_cookie_and_the_token_leaks_nowhere(serve_web):
    served = serve_web()
    first = httpx.get(served.url + "/", follow_redirects=False, timeout=10)
    assert first.status_code == 303 and first.headers["location"] == "/login"
    page = httpx.get(served.url + "/login", timeout=10)
    assert page.status_code == 200 and 'type="password"' in page.text
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"

    refused = login(served, "not-a-token")
    assert refused.status_code == 401 and "not known" in refused.text and "not-a-token" not in refused.text
    assert "set-cookie" not in refused.headers

    answer = login(served, TOKENS["operator"])
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie_header = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=Strict" in cookie_header
    cookie = answer.cookies["factory_console_session"]
    assert TOKENS["operator"] not in cookie_header and TOKENS["operator"] not in str(answer.url)

    index = httpx.get(served.url + "/", cookies={"factory_console_session": cookie}, timeout=10)
    assert index.status_code == 200 and "data-session-websocket-url" in index.text
    assert "ws://127.0.0.1" in index.text and "--api" not in index.text  # no command line in the page
    assert all(token not in index.text for token in TOKENS.values())
    assert "googleapis" not in index.text and "default-src 'self'" in index.headers["content-security-policy"]

    status, procs = asyncio.run(console_processes(served, cookie, origin=served.url))
    assert status == 101
    argvs = [argv for argv, _ in procs if b"-m\0console\0--api" in argv]
    assert argvs and all(b"--max-role\0operator" in argv for argv in argvs)
    for argv, environ in procs:
        assert not any(secret in argv or secret in environ for secret in SECRETS)
        assert b"FACTORY_WEB_TOKENS" not in environ

    served.process.terminate()
    served.process.wait(timeout=20)
    log = served.log()
    assert "login: alice (operator)" in log and "login refused" in log
    assert all(token not in log for token in TOKENS.values())
    assert "not-a-token" not in log


def test_the_console_websocket_needs_a_session_and_this_origin(serve_web):
    served = serve_web()
    assert asyncio.run(console_processes(served, "forged-session-id", origin=served.url))[0] == 401
    cookie = login(served, TOKENS["viewer"]).cookies["factory_console_session"]
    assert asyncio.run(console_processes(served, cookie, origin="http://evil.example"))[0] == 403
    status, procs = asyncio.run(console_processes(served, cookie, origin=None))
    assert status == 101
    assert any(argv.endswith(b"--read-only\0--max-role\0viewer\0") for argv, _ in procs)


def test_on_loopback_with_no_tokens_every_browser_is_read_only(serve_web):
    served = serve_web(tokens=False)
    assert httpx.get(served.url + "/", timeout=10).status_code == 200  # no login
    assert httpx.get(served.url + "/login", follow_redirects=False, timeout=10).status_code == 303
    status, procs = asyncio.run(console_processes(served, "", origin=served.url))
    assert status == 101 and any(argv.endswith(b"--read-only\0--max-role\0viewer\0") for argv, _ in procs)


async def stop_the_server_during_a_session(served: ServedWeb) -> tuple[list[int], int]:
    """Open a console, then SIGTERM the server while the browser is still there: the console's pids, the exit code."""
    async with aiohttp.ClientSession() as client:
        url = f"{served.url.replace('http', 'ws')}/ws?width=100&height=30"
        async with client.ws_connect(url, headers={"Origin": served.url}) as websocket:
            for _ in range(400):
                message = await websocket.receive(timeout=30)
                if message.type == aiohttp.WSMsgType.BINARY and len(message.data) > 100:
                    break
            consoles = descendants(served.process.pid)
            served.process.terminate()
            code = await asyncio.to_thread(served.process.wait, 30)
            return consoles, code


def test_sigterm_closes_the_sessions_and_their_consoles_end(serve_web):
    served = serve_web(tokens=False)
    consoles, code = asyncio.run(stop_the_server_during_a_session(served))
    assert consoles and code == 0
    assert not [pid for pid in consoles if (Path("/proc") / str(pid)).exists()]  # waited for, none left running
    assert "Traceback" not in served.log()


def test_behind_a_proxy_the_public_url_makes_the_urls_the_origin_and_a_secure_cookie(serve_web):
    served = serve_web(extra=("--public-url", "https://console.example/fc"))
    first = httpx.get(served.url + "/", follow_redirects=False, timeout=10)
    assert first.headers["location"] == "/fc/login"  # the proxy serves us under /fc
    answer = login(served, TOKENS["viewer"])
    assert answer.headers["location"] == "/fc/"
    assert "Secure" in answer.headers["set-cookie"]
    cookie = answer.cookies["factory_console_session"]
    index = httpx.get(served.url + "/", cookies={"factory_console_session": cookie}, timeout=10)
    assert "wss://console.example/fc/ws" in index.text and "https://console.example/fc/static/" in index.text
    assert asyncio.run(console_processes(served, cookie, origin=served.url))[0] == 403  # not the public origin
    assert asyncio.run(console_processes(served, cookie, origin="https://console.example"))[0] == 101
