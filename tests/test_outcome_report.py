"""The words an operator reads after a command, without booting the app."""

from __future__ import annotations

from console.command_service import Command, CommandOutcome
from console.outcome_report import MAX_BULK_LINES, outcome_toast

KINDS = {"cluster": "cluster", "agent-2": "agent", "agent-1": "agent"}


def kind_of(name: str) -> str:
    return KINDS.get(name, "")


def pause(target: str) -> Command:
    return Command("machine.pause", target)


def test_one_applied_command_is_a_short_information_toast():
    toast = outcome_toast([CommandOutcome(pause("m-1"), "applied", source="cluster")], "Pause m-1", kind_of)
    assert toast is not None
    assert (toast.message, toast.title, toast.severity) == ("Pause m-1: applied", "Command", "information")


def test_a_rejection_names_outcome_code_and_detail_and_stays_longer():
    outcome = CommandOutcome(pause("m-1"), "rejected", "machine is idle", code="invalid_state", source="cluster")
    toast = outcome_toast([outcome], "Pause m-1", kind_of)
    assert toast is not None
    assert toast.message == "Pause m-1: rejected [invalid_state]: machine is idle"
    assert toast.severity == "error" and toast.timeout > 4


def test_commands_a_node_agent_carried_say_so():
    outcomes = [
        CommandOutcome(pause("m-1"), "applied", source="agent-2"),
        CommandOutcome(pause("m-2"), "applied", source="agent-1"),
        CommandOutcome(pause("m-3"), "applied", source="cluster"),
    ]
    toast = outcome_toast(outcomes, "Pause 3", kind_of)
    assert toast is not None
    assert toast.message == "Pause 3 (via agent-1, agent-2): 3 applied"
    assert toast.title == "Bulk command" and toast.severity == "information"


def test_a_partial_failure_never_looks_fine_and_lists_what_failed():
    outcomes = [CommandOutcome(pause(f"m-{i}"), "applied") for i in range(3)]
    outcomes += [CommandOutcome(pause(f"bad-{i}"), "failed", "timeout") for i in range(20)]
    toast = outcome_toast(outcomes, "Pause 23", kind_of)
    assert toast is not None
    lines = toast.message.splitlines()
    assert lines[0] == "Pause 23: 3 applied, 20 failed"
    assert lines[1] == "bad-0: failed timeout"
    assert len(lines) == MAX_BULK_LINES and toast.severity == "error"


def test_presses_joined_to_one_on_its_way_report_nothing_of_their_own():
    joined = CommandOutcome(pause("m-1"), "applied", joined=True)
    assert outcome_toast([joined], "Pause m-1", kind_of) is None
    toast = outcome_toast([joined, CommandOutcome(pause("m-2"), "applied")], "Pause 2", kind_of)
    assert toast is not None
    assert toast.message == "Pause 2 (1 already on their way, not sent again): applied"
