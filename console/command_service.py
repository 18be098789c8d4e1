"""The command service: the one road from a key press to the server.

Screens describe what the operator asked for as a :class:`Command`; the service checks the role, writes the attempt
to the local audit log, sends it with a fresh idempotency key (the client retries a lost answer with the same key),
and writes the outcome. It never changes the store: the effect of a command arrives on the event stream like any
other change, so the screen shows what the server did, not what we hoped it would do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from console.api.command_bodies import CommandResult
from console.api.commands import ROUTES, InvalidCommandBody, command_path, encode_body
from console.api.errors import ApiError, ClientError
from console.api.models import Role

PATHS: dict[str, tuple[str, str]] = {action: (route.collection, route.verb) for action, route in ROUTES.items()}
"""Each action's collection and verb (``POST /v1/{collection}/{id}/{verb}``), from the one route table."""

SUPERVISOR_ONLY = frozenset({"node.pause", "node.resume"})
"""Actions the contract gives to supervisors alone."""

BULK_LIMIT_FOR_OPERATORS = 10
"""An operator may act on at most this many items at once; a larger bulk action needs a supervisor."""

Outcome = Literal["applied", "rejected", "failed", "not_attempted"]


class CommandClient(Protocol):
    """What the service needs of a client: send one command with a given idempotency key."""

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult: ...


class AuditSink(Protocol):
    """The local audit log (``console.audit_log.AuditLog``)."""

    # Properties, so a method with keyword parameters of its own (as ``AuditLog``'s) is one.
    @property
    def attempt(self) -> Callable[..., None]: ...

    @property
    def outcome(self) -> Callable[..., None]: ...


@dataclass(frozen=True)
class Command:
    """One command on one target, as the operator asked for it."""

    action: str
    target_id: str
    body: dict[str, Any] = field(default_factory=dict)
    node_id: str | None = None
    """The node the target belongs to: it picks the source (cluster API, or the node's agent when that is down)."""

    @property
    def target_kind(self) -> str:
        return self.action.split(".", 1)[0]

    @property
    def path(self) -> str:
        return command_path(self.action, self.target_id)

    def encoded_body(self) -> dict[str, Any]:
        """The body as it goes on the wire, validated (raises ``InvalidCommandBody``; see ``console.api.commands``)."""
        return encode_body(self.action, self.body)

    @property
    def reason(self) -> str | None:
        return self.body.get("reason") or self.body.get("note")


@dataclass(frozen=True)
class CommandOutcome:
    """What became of one command: applied, rejected by the server, failed on the way, or never sent."""

    command: Command
    outcome: Outcome
    detail: str = ""
    code: str | None = None
    status: int | None = None
    audit_id: str | None = None
    command_id: str | None = None
    source: str | None = None
    joined: bool = False
    """This press repeated an intent already in flight: it sent nothing and shares the first press's outcome (the
    first press reports it; a joined one must not report it again)."""

    @property
    def ok(self) -> bool:
        return self.outcome == "applied"


class PermissionDenied(Exception):
    """The operator's role (or read-only mode) does not allow this action; nothing was sent."""


def allowed_actions(role: str | None, read_only: bool) -> frozenset[str]:
    """The actions a role may take: viewer none; operator machines, jobs and alerts; supervisor also nodes."""
    if read_only or role is None:
        return frozenset()
    if role == Role.SUPERVISOR:
        return frozenset(PATHS)
    if role == Role.OPERATOR:
        return frozenset(PATHS) - SUPERVISOR_ONLY
    return frozenset()


_ROLE_ORDER = (Role.VIEWER, Role.OPERATOR, Role.SUPERVISOR)


def role_rank(role: str | None) -> int:
    """viewer 0 < operator 1 < supervisor 2; a role this console does not know (or none) ranks below all."""
    return _ROLE_ORDER.index(role) if role in _ROLE_ORDER else -1


def cap_role(role: str | None, cap: str | None) -> str | None:
    """``role``, but never above ``cap`` (viewer < operator < supervisor); a role this console does not know is left
    as it is (it allows no action anyway)."""
    if cap is None or role not in _ROLE_ORDER or cap not in _ROLE_ORDER:
        return role
    return cap if _ROLE_ORDER.index(role) > _ROLE_ORDER.index(cap) else role


def bulk_allowed(role: str | None, count: int) -> bool:
    """Bulk actions over more than ten items are for supervisors."""
    return count <= BULK_LIMIT_FOR_OPERATORS or role == Role.SUPERVISOR


RouteFn = Callable[[Command], "tuple[str, CommandClient] | None"]
"""Picks the source that should carry a command: ``(source_id, client)``, or ``None`` when no source is connected."""


class CommandService:
    """Sends commands for the app: role checks, idempotency keys, the local audit log, per-item bulk outcomes."""

    def __init__(
        self,
        route: RouteFn,
        audit: AuditSink | None = None,
        *,
        operator: Callable[[], str | None] = lambda: None,
        role: Callable[[], str | None] = lambda: None,
        read_only: bool = False,
        is_connected: Callable[[str], bool] = lambda source_id: True,
    ) -> None:
        self._route = route
        self._audit = audit
        self._operator = operator
        self._role = role
        self.read_only = read_only
        self._is_connected = is_connected
        self.in_flight = 0
        self._pending: dict[tuple[str, str], asyncio.Future[CommandOutcome]] = {}
        """Intents on their way, by (action, target): a second press of the same intent joins the first."""

    # --- permissions ------------------------------------------------------------------------------------------------

    def allowed(self) -> frozenset[str]:
        """The actions the current operator may take (empty when read-only or a viewer)."""
        return allowed_actions(self._role(), self.read_only)

    def can(self, action: str, count: int = 1) -> bool:
        return action in self.allowed() and (count <= 1 or bulk_allowed(self._role(), count))

    # --- sending ----------------------------------------------------------------------------------------------------

    async def run(self, command: Command) -> CommandOutcome:
        """Send one command and return its outcome; never raises for server or network trouble."""
        if not self.can(command.action):
            raise PermissionDenied(f"your role may not {command.action.replace('.', ' ')}")
        return await self._send(command)

    async def run_bulk(self, commands: Sequence[Command]) -> list[CommandOutcome]:
        """Send several commands one by one and report each: a partial failure never looks like success.

        When the connection is lost part way, the rest are reported as not attempted rather than piling up failures.
        """
        if not commands:
            return []
        actions = {c.action for c in commands}
        if not all(self.can(a) for a in actions):
            raise PermissionDenied("your role may not take this action")
        if not bulk_allowed(self._role(), len(commands)):
            raise PermissionDenied(f"bulk actions over {BULK_LIMIT_FOR_OPERATORS} items need a supervisor")
        outcomes: list[CommandOutcome] = []
        stop_reason: str | None = None
        for command in commands:
            if stop_reason is not None:
                outcomes.append(CommandOutcome(command, "not_attempted", detail=stop_reason))
                continue
            outcome = await self._send(command)
            outcomes.append(outcome)
            if outcome.outcome == "failed":
                stop_reason = f"not sent: an earlier command failed ({outcome.detail})"
        return outcomes

    def is_pending(self, action: str, target_id: str) -> bool:
        """Is this intent (the same action on the same target) already on its way to the server?"""
        return (action, target_id) in self._pending

    async def _send(self, command: Command) -> CommandOutcome:
        """Send one command, once per intent: while an action on a target is in flight, pressing it again (a second
        Enter at 3 a.m., a bulk list that names the target twice) sends nothing and waits for the first answer. One
        operator intent, one idempotency key, one outcome."""
        intent = (command.action, command.target_id)
        pending = self._pending.get(intent)
        if pending is not None:
            first = await asyncio.shield(pending)
            return dataclasses.replace(first, command=command, joined=True)
        future: asyncio.Future[CommandOutcome] = asyncio.get_running_loop().create_future()
        self._pending[intent] = future
        try:
            outcome = await self._send_once(command)
        except BaseException as error:
            future.set_result(CommandOutcome(command, "failed", detail=f"not sent: {error or type(error).__name__}"))
            raise
        else:
            future.set_result(outcome)
            return outcome
        finally:
            del self._pending[intent]

    async def _send_once(self, command: Command) -> CommandOutcome:
        routed = self._route(command)
        if routed is None:
            outcome = CommandOutcome(command, "failed", detail="no connected source serves this target")
            self._log_outcome(outcome, key=None)
            return outcome
        source_id, client = routed
        try:
            payload = command.encoded_body()
        except InvalidCommandBody as error:  # a console bug or an impossible input: refuse here, say why
            outcome = CommandOutcome(command, "failed", detail=f"not sent: {error}", source=source_id)
            self._log_outcome(outcome, key=None)
            return outcome
        key = str(uuid.uuid4())
        self._log_attempt(command, source_id, key)
        if not self._is_connected(source_id):
            outcome = CommandOutcome(
                command, "failed", detail=f"not sent: {source_id} is not connected", source=source_id
            )
            self._log_outcome(outcome, key=key)
            return outcome
        self.in_flight += 1
        try:
            result = await client.command(command.path, payload, idempotency_key=key)
        except ApiError as error:
            outcome = CommandOutcome(
                command,
                "rejected",
                detail=error.detail or error.title or str(error),
                code=error.code,
                status=error.status,
                source=source_id,
            )
        except ClientError as error:
            outcome = CommandOutcome(command, "failed", detail=str(error), source=source_id)
        except asyncio.CancelledError:
            outcome = CommandOutcome(command, "failed", detail="cancelled", source=source_id)
            self._log_outcome(outcome, key=key)
            raise
        else:
            outcome = CommandOutcome(
                command,
                "applied",
                detail=result.status,
                audit_id=result.audit_id,
                command_id=result.command_id,
                source=source_id,
            )
        finally:
            self.in_flight -= 1
        self._log_outcome(outcome, key=key)
        return outcome

    # --- the local audit log ----------------------------------------------------------------------------------------

    def _log_attempt(self, command: Command, source_id: str, key: str) -> None:
        if self._audit is None:
            return
        self._audit.attempt(
            operator=self._operator(),
            role=self._role(),
            source=source_id,
            action=command.action,
            target={"kind": command.target_kind, "id": command.target_id},
            reason=command.reason,
            idempotency_key=key,
        )

    def _log_outcome(self, outcome: CommandOutcome, key: str | None) -> None:
        if self._audit is None:
            return
        command = outcome.command
        self._audit.outcome(
            operator=self._operator(),
            role=self._role(),
            source=outcome.source,
            action=command.action,
            target={"kind": command.target_kind, "id": command.target_id},
            reason=command.reason,
            idempotency_key=key,
            outcome=outcome.outcome,
            status=outcome.status,
            code=outcome.code,
            detail=outcome.detail,
            command_id=outcome.command_id,
            audit_id=outcome.audit_id,
        )


def summarize(outcomes: Iterable[CommandOutcome]) -> str:
    """One line for a bulk result: ``3 applied, 1 rejected, 2 not attempted``."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    order = ("applied", "rejected", "failed", "not_attempted")
    return ", ".join(f"{counts[k]} {k.replace('_', ' ')}" for k in order if counts.get(k))
