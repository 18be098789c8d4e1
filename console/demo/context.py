"""What every route of one demo server shares: the simulation, its view and feed, streams, tokens, idempotency."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from console.api.models import Problem
from console.demo.auth import TokenTable
from console.demo.feed import EventFeed
from console.demo.idempotency import IdempotencyStore
from console.demo.problems import PROBLEM_MEDIA_TYPE
from console.demo.sse import StreamHub
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
    return Response(content=model.model_dump_json(), status_code=status, media_type="application/json")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries saying that these statuses answer a problem document."""
    return {
        status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": "problem details (RFC 9457)"}
        for status in statuses
    }
