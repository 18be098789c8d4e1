"""The whole console against the hostile server: hostile text shows literally, inert, and keys still work.

A screenshot (SVG) of the screen where the field is shown must contain the *cleaned* text verbatim (so markup was not
interpreted: the brackets are there, and escapes show as visible placeholders), no hyperlink, and the store must hold
the original string. Then a key press must still be handled (the app did not wedge on the text).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.screens.help import HelpScreen
from console.server_clock import ServerClock
from console.settings import Settings, SourceSpec
from tests.faults.hostile_server import HostileServer
from widgets.safe_text import clean

SIZE = (160, 48)

# (id, table, object id, field, text, mode key that shows it)
CASES = [
    ("machine-name-bold", "machines", "M-101", "name", "[bold red]FIRE[/]", "1"),
    ("machine-name-click", "machines", "M-101", "name", "[@click=app.quit]Q[/]", "1"),
    ("machine-name-csi", "machines", "M-101", "name", "\x1b[31mRED\x1b[0m", "1"),
    ("machine-name-rtl", "machines", "M-101", "name", "\u202eevil\u202c", "1"),
    ("alert-message-link", "alerts", "A-1", "message", "[link=https://evil.example]clk[/link]", "3"),
    ("alert-message-osc52", "alerts", "A-1", "message", "\x1b]52;c;cm0=\x07hi", "3"),
    ("alert-message-osc8", "alerts", "A-1", "message", "\x1b]8;;https://evil.example\x1b\\go", "3"),
    ("alert-code-markup", "alerts", "A-1", "code", "[reverse]E1[/]", "3"),
    ("node-name-markup", "nodes", "N-1", "name", "[blink]Leeds[/]", "5"),
    ("job-part-c1", "jobs", "J-101", "part", "\x9b31mpart\x07", "2"),
]


def screen_text(app: FactoryConsoleApp) -> str:
    svg = app.export_screenshot()
    return html.unescape(svg).replace("\xa0", " ")


async def until_live(pilot: Any) -> None:
    app = pilot.app
    for _ in range(200):
        status = app.store.sources.get("cluster")
        if status is not None and status.state == "live" and app.store.machines:
            break
        await pilot.pause(0.03)
    else:
        raise AssertionError("the console did not go live")
    await pilot.pause(0.15)
    app.flush_changes()
    await pilot.pause()


@pytest.mark.parametrize(("table", "oid", "field", "text", "key"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_hostile_text_on_screen_is_literal(
    hostile: Any, tmp_path: Path, table: str, oid: str, field: str, text: str, key: str
) -> None:
    server: HostileServer = await hostile()
    server.tables[table][oid] = {**server.tables[table][oid], field: text}
    settings = Settings(sources=[SourceSpec("cluster", "cluster", server.url)], save_theme=False, refresh_ms=30)
    app = FactoryConsoleApp(
        settings,
        audit_log=AuditLog(tmp_path / "audit.jsonl"),
        server_clock=ServerClock(extrapolate=False),
        install_signal_handlers=False,
    )
    async with app.run_test(size=SIZE) as pilot:
        await until_live(pilot)
        assert getattr(getattr(app.store, table)[oid], field) == text  # stored intact
        await pilot.press(key)
        await pilot.pause(0.2)
        app.flush_changes()
        await pilot.pause()
        shown = screen_text(app)
        assert clean(text) in shown, f"{clean(text)!r} not on the {type(app.screen).__name__} screen"
        assert "\x1b" not in shown and "\x9b" not in shown
        assert "href=" not in app.export_screenshot()
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)  # keys still work
