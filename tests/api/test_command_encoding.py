"""One encoding of commands: every action's body validated against its contract model on the way out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.api.command_bodies import CommandResult
from console.api.commands import ACTIONS, ROUTES, InvalidCommandBody, command_path, encode_body
from console.command_service import PATHS, Command, CommandService, allowed_actions


def test_the_one_table_has_every_contract_command_and_the_service_reads_it() -> None:
    assert set(PATHS) == ACTIONS == set(ROUTES)
    assert allowed_actions("supervisor", False) == ACTIONS
    assert command_path("alert.shelve", "A/1?x") == "/v1/alerts/A%2F1%3Fx/shelve"


@pytest.mark.parametrize(
    ("action", "body", "wire"),
    [
        ("machine.pause", {"mode": "after_job", "reason": None}, {"mode": "after_job"}),
        ("machine.pause", {}, {"mode": "now"}),
        ("job.reroute", {"auto": True, "reason": "r"}, {"auto": True, "reason": "r", "restart": False}),
        ("job.reroute", {"machine_id": "M-2", "auto": False}, {"machine_id": "M-2", "restart": False}),
        (
            "alert.shelve",
            {"until": datetime(2026, 12, 2, 4, 0, tzinfo=UTC), "note": "n"},
            {"until": "2026-12-02T04:00:00Z", "note": "n"},
        ),
        ("alert.ack", {"note": None}, {}),
    ],
)
def test_bodies_are_written_one_way(action: str, body: dict[str, Any], wire: dict[str, Any]) -> None:
    assert encode_body(action, body) == wire


@pytest.mark.parametrize(
    ("action", "body", "where"),
    [
        ("machine.pause", {"mode": "soon"}, "mode"),
        ("machine.resume", {"reasn": "typo"}, "reasn"),
        ("job.reroute", {}, "body"),
        ("job.reroute", {"machine_id": "M-1", "node_id": "N-1"}, "body"),
        ("alert.shelve", {"until": "tomorrow"}, "until"),
        ("alert.shelve", {"until": "2026-12-02T04:00:00"}, "until"),  # no offset: the contract says UTC
        ("job.cancel", {"reason": 5}, "reason"),
    ],
)
def test_a_body_that_does_not_fit_its_model_never_leaves(action: str, body: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidCommandBody, match=rf"^{action}: {where}"):
        encode_body(action, body)


async def test_the_service_refuses_an_invalid_body_and_sends_nothing() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    class Client:
        async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
            sent.append((path, body))
            return CommandResult(command_id="c", status="accepted")

    service = CommandService(lambda command: ("cluster", Client()), role=lambda: "operator")
    bad = await service.run(Command("machine.pause", "M-1", {"mode": "whenever"}))
    assert bad.outcome == "failed" and bad.detail.startswith("not sent: machine.pause: mode") and sent == []
    good = await service.run(Command("machine.pause", "M-1", {"mode": "now", "reason": None}))
    assert good.ok and sent == [("/v1/machines/M-1/pause", {"mode": "now"})]
