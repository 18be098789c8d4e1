"""``create_app``: the FastAPI app that serves the Factory Cluster API v1 contract from a simulation.

One app serves one view: the whole cluster (``feed`` built without a node) or one node as a node agent (a feed for
that node). Several apps can share one simulation in one event loop (a cluster API plus node agents), each with its
own feed, ``seq`` and ``instance_id``.

The app must run on the same event loop thread that ticks the simulation: handlers are ``async`` and read the
simulation without awaiting, so a read never sees a half-applied tick (see ``console.demo.runner``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any, cast

from fastapi import FastAPI, Header, Query, Request
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from console import __version__
from console.api.models import WhoAmI
from console.demo.auth import AuthMiddleware, TokenTable, principal_of
from console.demo.command_routes import command_router
from console.demo.context import ServerContext, json_response, problem_responses
from console.demo.event_stream import event_stream
from console.demo.feed import EventFeed
from console.demo.limits import RequestGuard
from console.demo.problems import install_problem_handlers
from console.demo.read_routes import read_router

GZIP_MINIMUM_SIZE = 1000
"""Bodies smaller than this are not worth compressing. ``text/event-stream`` is never compressed (Starlette excludes
it by default, so a stream is not buffered in the compressor)."""

GZIP_LEVEL = 1
"""Fast compression: a 20,000-machine snapshot (~43 MB of JSON) takes ~0.3 s at level 1 and ~7 MB on the wire;
Starlette's default (9) takes several seconds for a few percent less."""


MAX_SEQ = 2**63 - 1
MIN_SEQ = -(2**63)
"""The ``after`` a client may send (a signed 64-bit integer; below 0 or above the current seq gets ``reset``)."""
LAST_EVENT_ID_PATTERN = r"^(?:-?[0-9]{1,19})?$"
"""``Last-Event-ID``: a seq in decimal (up to 19 digits: any 64-bit seq), or blank (as if not sent). HTTP strips the
spaces around a header value; anything else (``+5``, ``5_000``, ``soon``) is 422 ``validation_error``."""


_STREAM_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "the event stream"}
}


def create_app(
    sim: Any,
    feed: EventFeed | None = None,
    tokens: Iterable[str | tuple[str, str, str]] | TokenTable = (),
    node_id: str | None = None,
    *,
    keepalive_s: float = 15.0,
    history: int = 10_000,
) -> ServedApp:
    """The app serving ``sim`` through ``feed`` (made here when not given: for ``node_id``, or the whole cluster).

    ``tokens`` are ``NAME:ROLE:SECRET`` strings (or parsed triples); none means no auth. ``keepalive_s`` is how long
    an idle event stream waits before sending a ``: ka`` comment. The context (feed, streams, idempotency store) is
    on ``app.state.ctx``.
    """
    if feed is None:
        feed = EventFeed(sim, node_id=node_id, history=history)
    elif node_id is not None and feed.node_id != node_id:
        raise ValueError(f"the feed serves node {feed.node_id!r}, not {node_id!r}")
    table = tokens if isinstance(tokens, TokenTable) else TokenTable(tokens)
    ctx = ServerContext(sim=sim, feed=feed, tokens=table, keepalive_s=keepalive_s)
    what = f"node agent of {feed.node_id}" if feed.node_id else "cluster API"
    return ServedApp(_shared_api(what), ctx)


class ServedApp:
    """One server's ASGI app: the FastAPI app shared by every server of its kind of view, run with this server's
    context (:class:`ServerContext`, also on ``state.ctx``).

    Why shared: building the routes is FastAPI's dearest step (it reads every handler's signature and makes pydantic
    fields of it), about 40 ms of CPU a server, the same work for every server of a process: the demo with its node
    agents, and each of the test suite's several hundred servers. The routes read their context through
    :data:`_CONTEXT`, which this sets for the request it serves; nothing else of a server lives in the shared app."""

    def __init__(self, api: FastAPI, ctx: ServerContext) -> None:
        self.api = api
        self.state = SimpleNamespace(ctx=ctx)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _CONTEXT.set(self.state.ctx)
        try:
            await self.api(scope, receive, send)
        finally:
            _CONTEXT.reset(token)


_CONTEXT: ContextVar[ServerContext] = ContextVar("factory_demo_server_context")
"""The context of the server whose request is being served (a request's tasks inherit it)."""


class _CurrentContext:
    """Stands for the context of the request being served, wherever the routes were given a context."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_CONTEXT.get(), name)


def _current_tokens() -> TokenTable:
    return _CONTEXT.get().tokens


_SHARED_APIS: dict[str, FastAPI] = {}
_SHARED_LOCK = threading.Lock()


def _shared_api(what: str) -> FastAPI:
    """The FastAPI app for servers described as ``what`` (its OpenAPI summary), built on first use."""
    with _SHARED_LOCK:
        api = _SHARED_APIS.get(what)
        if api is None:
            api = _SHARED_APIS[what] = _build_api(what)
        return api


def _build_api(what: str) -> FastAPI:
    ctx = cast(ServerContext, _CurrentContext())
    app = FastAPI(
        title="Factory Cluster API",
        version="1",
        summary=f"Simulated {what} (factory-console {__version__} demo server)",
        docs_url=None,
        redoc_url=None,
        # Any request may be answered these, before a route runs: 400 by the HTTP layer when it is not valid HTTP
        # (console.demo.protocol), 401 by the auth middleware when the server has tokens.
        responses=problem_responses(400, 401),
    )
    install_problem_handlers(app)
    app.include_router(read_router(ctx))
    app.include_router(command_router(ctx))
    _add_misc_routes(app, ctx)
    # Added innermost first. Compression sees the final response; auth answers 401 before any route runs (and before
    # a byte of the body is read); the guard then limits the body and checks its text (console.demo.limits).
    app.add_middleware(RequestGuard)
    app.add_middleware(AuthMiddleware, tokens=_current_tokens)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    return app


def _add_misc_routes(app: FastAPI, ctx: ServerContext) -> None:
    @app.get("/v1/whoami", response_model=WhoAmI, tags=["reading"], responses=problem_responses(401))
    async def whoami(request: Request) -> Response:
        principal = principal_of(request)
        return json_response(WhoAmI(operator=principal.operator, role=principal.role))

    @app.get(
        "/v1/events",
        tags=["events"],
        response_class=StreamingResponse,
        responses=_STREAM_ANSWER | problem_responses(401, 422),
    )
    async def events(
        after: int | None = Query(
            None,
            ge=MIN_SEQ,
            le=MAX_SEQ,
            description="resume after this seq (Last-Event-ID wins when both are sent); a negative one gets reset",
        ),
        last_event_id: str = Header(
            "",  # not None: the document says a string (FastAPI would add null, which a header cannot carry)
            alias="Last-Event-ID",
            pattern=LAST_EVENT_ID_PATTERN,
            description="resume after this seq, as `after`; blank is as if not sent",
        ),
    ) -> StreamingResponse:
        start = after
        if last_event_id:
            start = int(last_event_id)  # the pattern admits only digits; a seq never issued gets reset
        return StreamingResponse(
            event_stream(ctx.feed, ctx.hub, start, keepalive_s=ctx.keepalive_s),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
