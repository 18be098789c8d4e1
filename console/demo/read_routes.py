"""The read endpoints of the contract (``GET /v1/...``), served from one feed's folded state.

The tables (nodes, machines, jobs, alerts, quality) come from ``feed.state`` (:mod:`console.demo.state`): exactly
what the feed's events said up to its ``seq``, with each object's JSON ready, so a snapshot equals the fold of the
stream and a 20,000-machine snapshot is mostly a join of bytes. Audit and reroute candidates are read from the
simulation (they are not in the snapshot).

Every handler is ``async`` and awaits nothing while it reads: it runs on the loop thread between two ticks, so what
it reads is one consistent state (the snapshot's ``seq`` matches its objects exactly). The awaits come after the
read: a big snapshot's gathered parts are joined and gzip-compressed in a worker thread a piece at a time (zlib
releases the GIL) and streamed, so the loop goes on ticking and answering meanwhile and the first byte leaves at once
(:func:`snapshot_pieces`), instead of Starlette's middleware compressing the whole body on the loop.
"""

from __future__ import annotations

import asyncio
import operator
import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from console.api.models import (
    Alert,
    AuditEntry,
    Cluster,
    Job,
    Machine,
    Node,
    Page,
    Quality,
    RerouteCandidate,
    RerouteCandidates,
    Snapshot,
)
from console.demo.context import ServerContext, json_response, problem_responses
from console.demo.paging import (
    DEFAULT_LIMIT,
    ID_CURSOR_PATTERN,
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    POSITION_CURSOR_PATTERN,
    paginate,
)
from console.demo.problems import CODE_NOT_FOUND, CODE_VALIDATION, ApiProblem
from console.demo.state import ServedState, Table
from console.demo.text import model_json

T = TypeVar("T")

THREAD_GZIP_MIN_BYTES = 256 * 1024
"""Snapshots at least this big are compressed in a worker thread (smaller ones are left to the gzip middleware)."""
THREAD_GZIP_LEVEL = 1
"""As the middleware's level (``console.demo.server.GZIP_LEVEL``): fast, ~5x smaller for this JSON."""
STREAM_PIECE_BYTES = 1 << 20
"""A big snapshot is joined, compressed and sent this much at a time (:func:`snapshot_pieces`)."""

LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size")
CURSOR = Query(
    None,
    description="the previous page's next_cursor; opaque, but any cursor of this form is a position in the list "
    "(`s` and base64url); one of another form is 400 invalid_cursor",
    pattern=ID_CURSOR_PATTERN,
    max_length=MAX_CURSOR_LENGTH,
)
"""The cursor of a list ordered by id (console.demo.paging)."""
POSITION_CURSOR = Query(
    None,
    description="the previous page's next_cursor; opaque, but any cursor of this form is a position in the list "
    "(`i` and an integer); one of another form is 400 invalid_cursor",
    pattern=POSITION_CURSOR_PATTERN,
    max_length=MAX_CURSOR_LENGTH,
)
"""The cursor of the audit log (ordered by position, newest first)."""


def _values(raw: str | None) -> set[str] | None:
    """A filter value: ``running`` or several as ``running,paused``; ``None`` when absent."""
    if raw is None or not raw.strip():
        return None
    return {v.strip() for v in raw.split(",") if v.strip()}


def _page(
    items: Sequence[T],
    limit: int,
    cursor: str | None,
    key: Callable[[T], Any] | None = None,
    dump: Callable[[T], bytes] | None = None,
) -> Response:
    key = key or operator.attrgetter("id")
    dump = dump or model_json
    ordered = sorted(items, key=key)
    page, next_cursor = paginate(ordered, key, limit, cursor)
    body = b'{"items":[' + b",".join(dump(item) for item in page) + b'],"next_cursor":'
    body += (b'"' + next_cursor.encode() + b'"' if next_cursor else b"null") + b"}"
    return Response(content=body, media_type="application/json")


def _json(data: bytes) -> Response:
    return Response(content=data, media_type="application/json")


def _rows(table: Table, keep: Callable[[Any], bool] | None = None) -> list[Any]:
    return [m for m in table.values() if keep is None or keep(m)]


def _audit_key(entry: AuditEntry) -> int:
    digits = re.search(r"(\d+)$", entry.id)
    return -int(digits.group(1)) if digits else 0


def _found(obj: Any, kind: str, object_id: str) -> Response:
    if obj is None:
        raise ApiProblem(404, f"no {kind} {object_id}", code=CODE_NOT_FOUND)
    return json_response(obj)


def _stored(table: Table, object_id: str, kind: str) -> Response:
    if object_id not in table:
        raise ApiProblem(404, f"no {kind} {object_id}", code=CODE_NOT_FOUND)
    return _json(table.json_of(object_id))


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip`` or ``*`` without ``q=0``)."""
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip().rstrip("0").rstrip(".") in ("", "0"))
    return False


async def snapshot_response(ctx: ServerContext, accept_encoding: str) -> Response:
    """``GET /v1/snapshot``: its objects' JSON gathered on the loop (one consistent ``seq``); a big one is then joined
    and compressed off the loop piece by piece and streamed (see :func:`snapshot_pieces` for why)."""
    sections, tail = snapshot_sections(ctx)
    size = len(tail) + sum(len(head) + sum(map(len, items)) + len(items) for head, items in sections)
    if size < THREAD_GZIP_MIN_BYTES:
        return _json(_join(sections, tail))
    compress = accepts_gzip(accept_encoding)
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"} if compress else {}
    return StreamingResponse(_streamed(sections, tail, compress), media_type="application/json", headers=headers)


Sections = list[tuple[bytes, list[bytes]]]
"""A snapshot's body as ``(head, items)`` pairs and a tail: ``head`` then the items joined by commas, in turn."""


def snapshot_sections(ctx: ServerContext) -> tuple[Sections, bytes]:
    """The snapshot's parts at the feed's ``seq``: each object's JSON (ready bytes, see :mod:`console.demo.state`),
    read on the loop thread without awaiting, so they are one consistent state; joining them can wait."""
    feed, view = ctx.feed, ctx.view
    state: ServedState = feed.state
    cluster = view.cluster(feed.seq, feed.instance_id)
    head = b'{"seq":' + str(feed.seq).encode() + b',"cluster":' + cluster.model_dump_json().encode() + b',"nodes":['
    sections: Sections = [(head, [model_json(view.present_node(n)) for n in state.nodes.values()])]
    for name in ("machines", "jobs", "alerts", "quality"):
        table: Table = getattr(state, name)
        sections.append((b'],"' + name.encode() + b'":[', [table.json_of(k) for k in table.models]))
    return sections, b"]}"


def _join(sections: Sections, tail: bytes) -> bytes:
    return b"".join([part for head, items in sections for part in (head, b",".join(items))] + [tail])


def snapshot_json(ctx: ServerContext) -> bytes:
    """The body of ``GET /v1/snapshot``: the feed's folded state at its ``seq``, joined from each object's JSON."""
    return _join(*snapshot_sections(ctx))


def snapshot_pieces(sections: Sections, tail: bytes, piece_bytes: int = STREAM_PIECE_BYTES) -> Iterator[bytes]:
    """The body in pieces of about ``piece_bytes`` (a piece ends after the object that reaches it).

    Why pieces (issue 15): a 100,000-machine snapshot is ~190 MB of JSON. Joined whole and compressed whole, its
    first byte left the server after 10-22 s under load (more than the console's 10 s read timeout then) and the
    server held the body twice over (~230 MB, joined and compressed). In pieces, the first one goes out at once and
    each costs ~1 MB."""
    piece: list[bytes] = []
    size = 0
    for head, items in sections:
        piece.append(head)
        size += len(head)
        first = True
        for item in items:
            if not first:
                piece.append(b",")
            first = False
            piece.append(item)
            size += len(item) + 1
            if size >= piece_bytes:
                yield b"".join(piece)
                piece, size = [], 0
    piece.append(tail)
    yield b"".join(piece)


async def _streamed(sections: Sections, tail: bytes, compress: bool) -> AsyncIterator[bytes]:
    """:func:`snapshot_pieces`, each joined (and gzip-compressed, when asked) in a worker thread: zlib releases the
    GIL, so the loop goes on ticking and answering while ~190 MB are compressed."""
    pieces = snapshot_pieces(sections, tail)
    compressor = zlib.compressobj(THREAD_GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if compress else None

    def step() -> tuple[bytes, bool]:
        """The next bytes to send, and whether they are the last."""
        piece = next(pieces, None)
        if piece is None:
            return (b"" if compressor is None else compressor.flush()), True
        return (piece if compressor is None else compressor.compress(piece)), False

    done = False
    while not done:
        out, done = await asyncio.to_thread(step)
        if out:
            yield out


def read_router(ctx: ServerContext) -> APIRouter:
    router = APIRouter(prefix="/v1", responses=problem_responses(401, 404, 422))

    @router.get("/cluster", response_model=Cluster, tags=["reading"])
    async def get_cluster() -> Response:
        return json_response(ctx.view.cluster(ctx.feed.seq, ctx.feed.instance_id))

    @router.get("/snapshot", response_model=Snapshot, tags=["reading"])
    async def get_snapshot(request: Request) -> Response:
        return await snapshot_response(ctx, request.headers.get("accept-encoding", ""))

    @router.get("/nodes", response_model=Page[Node], tags=["reading"], responses=problem_responses(400))
    async def list_nodes(limit: int = LIMIT, cursor: str | None = CURSOR) -> Response:
        nodes = [ctx.view.present_node(n) for n in ctx.feed.state.nodes.values()]
        return _page(nodes, limit, cursor)

    @router.get("/nodes/{node_id}", response_model=Node, tags=["reading"])
    async def get_node(node_id: str) -> Response:
        node = ctx.feed.state.nodes.get(node_id)
        return _found(ctx.view.present_node(node) if node is not None else None, "node", node_id)

    @router.get("/machines", response_model=Page[Machine], tags=["reading"], responses=problem_responses(400))
    async def list_machines(
        node_id: str | None = Query(None),
        state: str | None = Query(None, description="one state, or several separated by commas"),
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
    ) -> Response:
        states = _values(state)
        table = ctx.feed.state.machines
        items = _rows(
            table, lambda m: (node_id is None or m.node_id == node_id) and (states is None or m.state in states)
        )
        return _page(items, limit, cursor, dump=lambda m: table.json_of(m.id))

    @router.get("/machines/{machine_id}", response_model=Machine, tags=["reading"])
    async def get_machine(machine_id: str) -> Response:
        return _stored(ctx.feed.state.machines, machine_id, "machine")

    @router.get("/jobs", response_model=Page[Job], tags=["reading"], responses=problem_responses(400))
    async def list_jobs(
        status: str | None = Query(None, description="one status, or several separated by commas"),
        node_id: str | None = Query(None),
        machine_id: str | None = Query(None),
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
    ) -> Response:
        statuses = _values(status)
        table = ctx.feed.state.jobs
        items = _rows(
            table,
            lambda j: (
                (statuses is None or j.status in statuses)
                and (node_id is None or j.node_id == node_id)
                and (machine_id is None or j.machine_id == machine_id)
            ),
        )
        return _page(items, limit, cursor, dump=lambda j: table.json_of(j.id))

    @router.get("/jobs/{job_id}", response_model=Job, tags=["reading"])
    async def get_job(job_id: str) -> Response:
        return _stored(ctx.feed.state.jobs, job_id, "job")

    @router.get("/jobs/{job_id}/reroute-candidates", response_model=list[RerouteCandidate], tags=["reading"])
    async def get_reroute_candidates(job_id: str) -> Response:
        if ctx.feed.state.jobs.get(job_id) is None:
            raise ApiProblem(404, f"no job {job_id}", code=CODE_NOT_FOUND)
        candidates = ctx.view.reroute_candidates(job_id)
        return Response(content=RerouteCandidates.dump_json(candidates), media_type="application/json")

    @router.get("/alerts", response_model=Page[Alert], tags=["reading"], responses=problem_responses(400))
    async def list_alerts(
        state: str | None = Query(None, description="one state, or several separated by commas"),
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
    ) -> Response:
        states = _values(state)
        table = ctx.feed.state.alerts
        items = _rows(table, lambda a: states is None or a.state in states)
        return _page(items, limit, cursor, dump=lambda a: table.json_of(a.id))

    @router.get("/alerts/{alert_id}", response_model=Alert, tags=["reading"])
    async def get_alert(alert_id: str) -> Response:
        return _stored(ctx.feed.state.alerts, alert_id, "alert")

    @router.get("/quality", response_model=Quality, tags=["reading"])
    async def get_quality(
        scope: Literal["cluster", "node", "machine"] = Query("cluster", description="cluster, node or machine"),
        id: str | None = Query(
            None,
            description="the node or machine id: scope=node and scope=machine need one (else 422 validation_error); "
            "scope=cluster ignores it",
        ),
    ) -> Response:
        if scope != "cluster" and not id:
            raise ApiProblem(422, f"scope={scope} needs an id", code=CODE_VALIDATION)
        if scope == "cluster":
            # The cluster API's cluster record; a node agent's "cluster" is its one node.
            scope, id = ("node", ctx.feed.node_id) if ctx.feed.node_id else ("cluster", None)
        table = ctx.feed.state.quality
        key = next((k for k in table.models if k[0] == "cluster"), None) if id is None else (scope, id)
        if key is None or table.get(key) is None:
            raise ApiProblem(404, f"no {scope} quality {id or 'of the cluster'}", code=CODE_NOT_FOUND)
        return _json(table.json_of(key))

    @router.get("/audit", response_model=Page[AuditEntry], tags=["reading"], responses=problem_responses(400))
    async def list_audit(limit: int = LIMIT, cursor: str | None = POSITION_CURSOR) -> Response:
        # Newest first. The key is the number in the entry's id (``AU-000123``: the simulation numbers entries in
        # order), negated so it grows down the page; stable while old entries are dropped from the log's far end.
        return _page(ctx.view.audit(), limit, cursor, key=_audit_key)

    return router
