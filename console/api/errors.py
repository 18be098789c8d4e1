"""What can go wrong talking to a cluster API, as typed exceptions.

Callers branch on the *kind* of failure, not on strings: a 409 ``incompatible_material`` is shown to the operator, a
:class:`ConnectionFailed` says "the command was never sent", an :class:`AnswerLost` says "it may or may not have
happened; check the audit log". Problem details come from the server and are untrusted: they are kept as data
(``.problem``) and never formatted as markup. No exception here ever carries a token or request headers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from console.api.models import Problem

__all__ = [
    "AnswerLost",
    "ApiError",
    "ClientError",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "NotFound",
    "ProtocolError",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "StreamLost",
    "Unauthorized",
    "Unprocessable",
    "error_for_status",
    "parse_retry_after",
    "problem_from_body",
]

_EXCERPT = 200


class ClientError(Exception):
    """Base of every error the client raises."""


class ConnectionFailed(ClientError):
    """The request could not be sent at all (DNS, refused, TLS, connect timeout): nothing happened on the server."""


class AnswerLost(ClientError):
    """The request was sent but no answer came back, even after retrying with the same idempotency key.

    The command may or may not have taken effect.
    """

    def __init__(self, message: str, *, idempotency_key: str | None = None) -> None:
        super().__init__(message)
        self.idempotency_key = idempotency_key


class StreamLost(ClientError):
    """The event stream broke, ended, or stayed silent too long; the source reconnects."""


class ProtocolError(ClientError):
    """The server answered with something that is not the contract (not JSON, or an invalid object)."""


class ApiError(ClientError):
    """The server answered with an error status and (usually) an RFC 9457 problem."""

    def __init__(self, status: int, problem: Problem, *, retry_after: float | None = None) -> None:
        self.status = status
        self.problem = problem
        self.retry_after = retry_after
        text = f"{status} {problem.title}" if problem.title else str(status)
        if problem.code:
            text += f" [{problem.code}]"
        if problem.detail:
            text += f": {problem.detail}"
        super().__init__(text)

    @property
    def code(self) -> str | None:
        return self.problem.code

    @property
    def title(self) -> str:
        return self.problem.title

    @property
    def detail(self) -> str | None:
        return self.problem.detail


class Unauthorized(ApiError):
    """401: missing or unknown token."""


class Forbidden(ApiError):
    """403: the token's role may not do this."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409: the command cannot be done in the current state; ``code`` says why (e.g. ``incompatible_material``)."""


class Unprocessable(ApiError):
    """422: the request body was refused."""


class RateLimited(ApiError):
    """429: slow down; ``retry_after`` seconds if the server said."""


class ServiceUnavailable(ApiError):
    """503: try later; ``retry_after`` seconds if the server said."""


class ServerError(ApiError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    429: RateLimited,
    503: ServiceUnavailable,
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; ``None`` when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delta)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def problem_from_body(status: int, body: Any) -> Problem:
    """A problem from an error answer's parsed JSON (or raw text): a non-problem body still becomes a Problem."""
    if isinstance(body, dict):
        try:
            problem = Problem.model_validate(body)
        except ValidationError:
            problem = None
        if problem is not None:
            updates: dict[str, Any] = {}
            if not problem.title:
                updates["title"] = _phrase(status)
            if problem.status is None:
                updates["status"] = status
            return problem.model_copy(update=updates) if updates else problem
    detail: str | None = None
    if isinstance(body, str) and body.strip():
        text = body.strip().replace("\r", " ").replace("\n", " ")
        detail = text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"
    return Problem(title=_phrase(status), status=status, detail=detail)


def error_for_status(status: int, problem: Problem, retry_after: float | None = None) -> ApiError:
    """The typed exception for an error status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError
    return cls(status, problem, retry_after=retry_after)
