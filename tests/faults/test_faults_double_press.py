"""One operator intent, one idempotency key, one outcome: pressing the same action again while the first is in flight
sends nothing more (issue: "a re-pressed command is sent twice").

The hostile server applies the first ack and then holds its answer for a while; the operator presses ``a``, Enter
again meanwhile. The server counts the POSTs it received (``command_keys``): exactly one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.faults.console_harness import running_console, switch_to, until, until_live_at

ACK_PATH = "/v1/alerts/A-1/ack"


def _posts(server: Any) -> list[tuple[str, str | None]]:
    return [entry for entry in server.command_keys if entry[0] == ACK_PATH]


async def test_second_press_while_in_flight_sends_nothing(hostile: Any, tmp_path: Path) -> None:
    server = await hostile()
    server.drop_next_answers("slow:1.5")
    async with running_console(server, tmp_path) as pilot:
        app = pilot.app
        await until_live_at(pilot, server.next_seq() - 1)
        await switch_to(pilot, "3", "alerts")
        await pilot.press("a")
        await until(pilot, lambda: type(app.screen).__name__ == "NoteDialog", "the note dialog")
        await pilot.press("enter")
        await until(pilot, lambda: len(_posts(server)) == 1, "the first ack to reach the server")
        assert app.commands_service.is_pending("alert.ack", "A-1")
        await pilot.press("a")
        await until(pilot, lambda: type(app.screen).__name__ == "NoteDialog", "the note dialog again")
        await pilot.press("enter")
        await until(pilot, lambda: not app.commands_service.is_pending("alert.ack", "A-1"), "the first answer", 10)
        await pilot.pause(0.2)
        posts = _posts(server)
        assert len(posts) == 1, f"the intent was sent {len(posts)} times: {posts}"
        messages = [n.message for n in app._notifications]
        assert any("already on its way" in m for m in messages), messages
        assert sum(1 for m in messages if m.endswith(": applied")) == 1, messages
        records = (tmp_path / "audit.jsonl").read_text().splitlines()
        assert sum(1 for line in records if '"attempt"' in line and "alert.ack" in line) == 1, records


async def test_after_the_answer_a_new_press_is_a_new_intent(hostile: Any, tmp_path: Path) -> None:
    """The guard covers the flight only: once the answer is in, the next press is sent (and the server decides)."""
    server = await hostile()
    async with running_console(server, tmp_path) as pilot:
        app = pilot.app
        await until_live_at(pilot, server.next_seq() - 1)
        await switch_to(pilot, "3", "alerts")
        for presses in (1, 2):
            await pilot.press("a")
            await until(pilot, lambda: type(app.screen).__name__ == "NoteDialog", "the note dialog")
            await pilot.press("enter")
            await until(pilot, lambda n=presses: len(_posts(server)) == n, f"POST number {presses}")
            await until(pilot, lambda: not app.commands_service.is_pending("alert.ack", "A-1"), "the answer")
        keys = [key for _, key in _posts(server)]
        assert len(set(keys)) == 2, keys
