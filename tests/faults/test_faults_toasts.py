"""Server text in toasts reaches the terminal inert (issue: "escape sequences reach the terminal through
notifications").

A problem ``detail`` of ``nope \\x1b]52;c;NDA0\\x1b]0;T404`` once changed the operator's terminal title: toasts were
passed with ``markup=False`` but never through the sanitiser. Every toast now goes through ``App.notify``, which
cleans it; these cases drive the real paths (a refused command, the server audit fetch, reroute candidates) against
the hostile server and check the frame the terminal would receive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.faults.console_harness import running_console, switch_to, until, until_live_at
from tests.faults.hostile_server import Reply
from tests.faults.terminal_bytes import assert_inert, foreign_sequences

OSC = "nope \x1b]52;c;NDA0\x07\x1b]0;T404\x1b\\ \x9b31m [bold red]X[/] [@click=app.quit]q[/]"


def _problem(status: int, detail: str) -> Reply:
    body = json.dumps({"type": "about:blank", "title": "Conflict", "status": status, "detail": detail, "code": detail})
    return Reply(status=status, headers={"Content-Type": "application/problem+json"}, body=body.encode())


def _toasts(app: Any) -> list[str]:
    return [f"{n.title}\n{n.message}" for n in app._notifications]


async def _until_toast(pilot: Any, needle: str) -> str:
    app = pilot.app
    await until(pilot, lambda: any(needle in t for t in _toasts(app)), f"a toast with {needle!r}", 10)
    await pilot.pause()
    return next(t for t in _toasts(app) if needle in t)


async def test_refused_command_detail_is_inert_in_its_toast(hostile: Any, tmp_path: Path) -> None:
    server = await hostile()
    server.fail("/v1/alerts/A-1/ack", _problem(409, OSC))
    async with running_console(server, tmp_path) as pilot:
        await until_live_at(pilot, server.next_seq() - 1)
        await switch_to(pilot, "3", "alerts")
        await pilot.press("a")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "NoteDialog", "the note dialog")
        await pilot.press("enter")
        toast = await _until_toast(pilot, "nope")
        assert not foreign_sequences(toast), toast
        assert "[bold red]X[/]" in toast  # shown literally, not as markup
        assert_inert(pilot.app, "toast of a refused command")


async def test_server_audit_fetch_error_is_inert_in_its_toast(hostile: Any, tmp_path: Path) -> None:
    server = await hostile()
    server.fail("/v1/audit", _problem(500, OSC), _problem(500, OSC), _problem(500, OSC), _problem(500, OSC))
    async with running_console(server, tmp_path) as pilot:
        await until_live_at(pilot, server.next_seq() - 1)
        await switch_to(pilot, "7", "audit")
        await pilot.press("g")
        toast = await _until_toast(pilot, "Server audit")
        assert not foreign_sequences(toast), toast
        assert_inert(pilot.app, "toast of a failed audit fetch")


@pytest.mark.parametrize("text", [OSC, "\x1b[2J\x1b[H", "\x1bP+q544e\x1b\\", "\u202egnp.exe", "\ud800"])
async def test_any_toast_is_cleaned(hostile: Any, tmp_path: Path, text: str) -> None:
    """The one sanitiser sits in ``App.notify``: a title and message from anywhere are cleaned and never markup."""
    server = await hostile()
    async with running_console(server, tmp_path) as pilot:
        await until_live_at(pilot, server.next_seq() - 1)
        pilot.app.notify(text, title=text)
        await pilot.pause()
        for toast in _toasts(pilot.app):
            assert not foreign_sequences(toast), toast
        assert all(not n.markup for n in pilot.app._notifications)
        assert_inert(pilot.app, "a toast of raw server text")
