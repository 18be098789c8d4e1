"""Which console commands an OPC UA server can carry, and the carrier that sends them.

Of the console's commands only acknowledging an alert has an OPC UA counterpart the console can rely on: the
condition's ``Acknowledge(EventId, Comment)`` method (``AcknowledgeableConditionType``), with the operator's note as
the comment. Machine pause/resume, jobs, reroutes and shelving have no standard method in OPC 40001-1, so they are not
in :data:`SUPPORTED_ACTIONS` and the console does not offer them for these machines. A condition that is not
acknowledgeable never shows as unacknowledged (``docs/opcua.md``), so Acknowledge is not offered for it either.

A command changes nothing in the store: the server's next event for the condition (``AckedState`` true, the comment)
is what shows it acknowledged, through the source's own event stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from asyncua.ua.uaerrors import UaStatusCodeError

from console.api.command_bodies import CommandResult
from console.api.errors import AnswerLost, ApiError, Conflict, ConnectionFailed, Forbidden, NotFound, Unprocessable
from console.api.models import Problem
from console.sources.idempotent import IdempotentCarrier
from console.sources.opcua.mapping import clean_text

if TYPE_CHECKING:
    from console.sources.opcua.connection import Connection
    from console.sources.opcua.translation import Translator

__all__ = ["SUPPORTED_ACTIONS", "OpcUaCommands", "not_found", "not_supported"]

SUPPORTED_ACTIONS: frozenset[str] = frozenset({"alert.ack"})
"""Console actions an OPC UA server's machines and alerts support; the console hides every other action for them."""

_DENIED = ("BadUserAccessDenied", "BadSecurityModeInsufficient")
_ALREADY = ("BadConditionBranchAlreadyAcked", "BadConditionAlreadyAcked")


def not_supported(detail: str) -> Unprocessable:
    return Unprocessable(422, Problem(title="Unprocessable Content", status=422, detail=detail, code="not_supported"))


def not_found(detail: str) -> NotFound:
    return NotFound(404, Problem(title="Not Found", status=404, detail=detail, code="not_found"))


def _conflict(detail: str, code: str) -> Conflict:
    return Conflict(409, Problem(title="Conflict", status=409, detail=detail, code=code))


class OpcUaCommands(IdempotentCarrier):
    """Carries ``alert.ack`` to the condition's server; answers each idempotency key once (``IdempotentCarrier``).

    ``command`` raises ``Unprocessable`` for anything but ``/v1/alerts/{id}/ack``, ``NotFound`` for an alert that is
    not an open alert of this server, ``Conflict`` when the server refuses (already acknowledged, an outdated
    event), ``Forbidden`` when the user may not, ``ConnectionFailed`` when it was not sent and ``AnswerLost`` when
    it was sent and not answered."""

    def __init__(self, translator: Translator, connection: Callable[[], Connection | None], *, server: str) -> None:
        super().__init__()
        self._translator = translator
        self._connection = connection
        self._server = server

    async def _command(self, path: str, body: dict[str, Any]) -> CommandResult:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["v1", "alerts"] or parts[3] != "ack":
            raise not_supported(f"an OPC UA server cannot carry {path}")
        return await self._ack(unquote(parts[2]), body.get("note"))

    async def _ack(self, alert_id: str, note: Any) -> CommandResult:
        conditions = self._translator.conditions
        condition_id = conditions.condition_of(alert_id)
        if condition_id is None:
            raise not_found(f"alert {alert_id} is not an open alert of OPC UA server {self._server}")
        if not conditions.acknowledgeable(condition_id):
            raise not_supported("this condition cannot be acknowledged on its server")
        event_id = conditions.event_id(condition_id)
        connection = self._connection()
        if connection is None or event_id is None:
            raise ConnectionFailed(f"not connected to OPC UA server {self._server}; the acknowledgement was not sent")
        comment = clean_text(note) if note else None
        conditions.ack_sending(condition_id, comment)
        try:
            await connection.acknowledge(condition_id, event_id, comment)
        except UaStatusCodeError as error:
            conditions.ack_failed(condition_id)
            raise _refused(error) from None
        except ConnectionError:
            conditions.ack_failed(condition_id)
            raise ConnectionFailed(
                f"not connected to OPC UA server {self._server}; the acknowledgement was not sent"
            ) from None
        except (TimeoutError, OSError) as error:
            raise AnswerLost(
                f"Acknowledge on OPC UA server {self._server}: no answer ({type(error).__name__}); it may or may not "
                "have taken effect"
            ) from None
        return CommandResult(command_id=f"opcua-{uuid.uuid4()}", status="applied", audit_id=None)


def _refused(error: UaStatusCodeError) -> ApiError:
    name = type(error).__name__
    if name in _DENIED:
        return Forbidden(403, Problem(title="Forbidden", status=403, detail=f"the server refused: {name}"))
    if name in _ALREADY:
        return _conflict("the condition is already acknowledged on the server", "already_acked")
    if name == "BadEventIdUnknown":
        return _conflict("the condition changed meanwhile; look again and acknowledge its latest state", "stale_event")
    return _conflict(f"the server refused the acknowledgement: {name}", "opcua_refused")
