"""What the operator is told after commands: one toast's text, title, severity and how long it stays.

Pure and Textual-free, so the wording of every outcome (applied, refused, partly failed, carried by a node agent,
joined to a press already on its way) is tested without an app; :meth:`FactoryConsoleApp.report_outcomes` only shows
what this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from console.command_service import CommandOutcome, summarize
from widgets.safe_text import clean

__all__ = ["MAX_BULK_LINES", "OutcomeToast", "outcome_toast"]

MAX_BULK_LINES = 12
"""A bulk toast lists at most this many lines (the summary and the first failures); the audit log has the rest."""

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True, slots=True)
class OutcomeToast:
    message: str
    title: str
    severity: Severity
    timeout: float


def carried_by(outcomes: list[CommandOutcome], kind_of: Callable[[str], str]) -> str:
    """`` (via agent-2)`` when a node agent, not the cluster API, carried the commands (the cluster API is down or
    does not serve the node): the operator knows where the command went."""
    agents = sorted({o.source for o in outcomes if o.source and kind_of(o.source) == "agent"})
    return f" (via {', '.join(clean(a, 30) for a in agents)})" if agents else ""


def outcome_toast(outcomes: list[CommandOutcome], what: str, kind_of: Callable[[str], str]) -> OutcomeToast | None:
    """The toast for these outcomes, item by item for bulk actions (a partial failure never looks fine); ``None``
    when every outcome joined a press already on its way (that first press reports it). ``kind_of`` names the kind
    of a source (``"agent"``, ``"cluster"``...)."""
    joined = sum(1 for o in outcomes if o.joined)
    outcomes = [o for o in outcomes if not o.joined]
    if not outcomes:
        return None
    if joined:
        what = f"{what} ({joined} already on their way, not sent again)"
    what += carried_by(outcomes, kind_of)
    if len(outcomes) == 1:
        outcome = outcomes[0]
        if outcome.ok:
            return OutcomeToast(f"{what}: applied", "Command", "information", 4)
        code = f" [{outcome.code}]" if outcome.code else ""
        message = f"{what}: {outcome.outcome.replace('_', ' ')}{code}: {outcome.detail}"
        return OutcomeToast(message, "Command", "error", 10)
    lines = [f"{what}: {summarize(outcomes)}"]
    lines += [f"{o.command.target_id}: {o.outcome.replace('_', ' ')} {o.detail}" for o in outcomes if not o.ok]
    failed = any(not o.ok for o in outcomes)
    return OutcomeToast(
        "\n".join(lines[:MAX_BULK_LINES]), "Bulk command", "error" if failed else "information", 12 if failed else 5
    )
