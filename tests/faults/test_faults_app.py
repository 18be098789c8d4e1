"""The whole console against the hostile server: hostile text in the snapshot shows literally, inert, keys still work.

A screenshot (SVG) of the screen where the field is shown must contain the *cleaned* text verbatim (so markup was not
interpreted: the brackets are there, and escapes show as visible placeholders), no hyperlink, and the store must hold
the original string. Then a key press must still be handled (``?`` opens help: the app did not wedge on the text).

The text is in the first snapshot here (the first paint); ``test_faults_console_text`` sends it as a live event (the
incremental repaint). One case per main screen, each of another kind of hostile text: every hostile string in every
field is drawn through the same row and tile code in ``test_faults_text_rows`` (no app needed to prove that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.screens.help import HelpScreen
from console.server_clock import ServerClock
from console.settings import Settings, SourceSpec
from tests.faults.console_harness import screen_text, switch_to, until, until_live_at
from tests.faults.hostile_server import HostileServer
from widgets.safe_text import clean

SIZE = (160, 48)

# (id, table, object id, field, text, mode key that shows it, mode name)
CASES = [
    ("machine-name-click", "machines", "M-101", "name", "[@click=app.quit]Q[/]", "1", "dashboard"),
    ("alert-message-osc8", "alerts", "A-1", "message", "\x1b]8;;https://evil.example\x1b\\go", "3", "alerts"),
    ("node-name-markup", "nodes", "N-1", "name", "[blink]Leeds[/]", "5", "nodes"),
    ("job-part-c1", "jobs", "J-101", "part", "\x9b31mpart\x07", "2", "jobs"),
]


@pytest.mark.parametrize(
    ("table", "oid", "field", "text", "key", "mode"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_hostile_text_on_screen_is_literal(
    hostile: Any, tmp_path: Path, table: str, oid: str, field: str, text: str, key: str, mode: str
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
        await until_live_at(pilot, server.seq)
        assert getattr(getattr(app.store, table)[oid], field) == text  # stored intact
        await switch_to(pilot, key, mode)  # the screen's key (a no-op on the dashboard), then paint what is stored
        svg, shown = screen_text(app)
        assert clean(text) in shown, f"{clean(text)!r} not on the {type(app.screen).__name__} screen"
        assert "\x1b" not in shown and "\x9b" not in shown
        assert "href=" not in svg
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help to open on '?'", 3)  # keys still work
