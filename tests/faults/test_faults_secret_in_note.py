"""A token pasted into a note never reaches the local audit log (the app registers every source's token as a secret).

Before, ``AuditLog.add_secret`` was never called: a bearer token pasted into an ack note was logged verbatim.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console.audit_log import AuditLog
from console.server_clock import ServerClock
from console.settings import Settings, SourceSpec
from tests.faults.console_harness import SIZE, ConsoleUnderTest, switch_to, until, until_live_at

TOKEN = "fc_tok_9f8e7d6c5b4a"


async def test_a_pasted_token_is_redacted_in_the_local_audit_log(hostile: Any, tmp_path: Path) -> None:
    server = await hostile()
    settings = Settings(
        sources=[SourceSpec("cluster", "cluster", server.url, token=TOKEN)],
        save_theme=False,
        refresh_ms=30,
        panel_interval_s=0.0,
    )
    log_path = tmp_path / "audit.jsonl"
    app = ConsoleUnderTest(
        settings,
        audit_log=AuditLog(log_path),
        server_clock=ServerClock(extrapolate=False),
        install_signal_handlers=False,
    )
    async with app.run_test(size=SIZE) as pilot:
        await until_live_at(pilot, server.next_seq() - 1)
        await switch_to(pilot, "3", "alerts")
        await pilot.press("a")
        await until(pilot, lambda: type(app.screen).__name__ == "NoteDialog", "the note dialog")
        await pilot.press(*f"oops {TOKEN} pasted")
        await pilot.press("enter")
        await until(pilot, lambda: any(k for p, k in server.command_keys if p.endswith("/ack")), "the ack")
        await until(pilot, lambda: log_path.exists() and "outcome" in log_path.read_text(), "the outcome record")
    text = log_path.read_text()
    assert "alert.ack" in text
    assert TOKEN not in text
    assert "oops" in text and "pasted" in text  # the rest of the note is kept
