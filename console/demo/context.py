"""What every route of one demo server shares: the simulation, its view and feed, streams, tokens, idempotency."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from console.demo.auth import TokenTable
from console.demo.event_stream import StreamHub
from console.demo.feed import EventFeed
from console.demo.idempotency import IdempotencyStore
from console.demo.problems import PROBLEM_MEDIA_TYPE
from console.demo.text import model_json
from console.demo.views import View


@dataclass
class ServerContext:
    sim: Any
    feed: EventFeed
    tokens: TokenTable
    keepalive_s: float = 15.0
    hub: StreamHub = field(default_factory=StreamHub)
    idempotency: IdempotencyStore = field(default_factory=IdempotencyStore)

    @property
    def view(self) -> View:
        return self.feed.view


def json_response(model: BaseModel, status: int = 200) -> Response:
    """A model as the JSON body of a response, serialised once by pydantic (no FastAPI re-validation)."""
    return Response(content=model_json(model), status_code=status, media_type="application/json")


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `code` names the problem for programs (see docs/contract-notes.md)",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "minLength": 1},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
"""The problem document every error answers (``console.api.models.Problem`` is the client's lenient reading of
it; the server promises more: ``type``, ``title``, ``status`` and ``code`` are always there)."""

PROBLEM_DESCRIPTIONS = {
    400: "bad request (problem details): a request that is not valid HTTP (`bad_request`), a missing or over-long "
    "Idempotency-Key, a cursor of another form (`invalid_cursor`)",
    401: "missing or unknown bearer token (problem details)",
    403: "the caller's role may not do this (problem details)",
    404: "no such object (problem details)",
    409: "the command cannot be applied now (problem details with a `code`)",
    413: "the request body is larger than the server accepts (problem details, `body_too_large`)",
    422: "the request is not valid (problem details: `validation_error`, `invalid_text`, `text_too_long`, ...)",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries saying that these statuses answer a problem document."""
    return {
        status: {
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
            "description": PROBLEM_DESCRIPTIONS.get(status, "problem details (RFC 9457)"),
        }
        for status in statuses
    }
