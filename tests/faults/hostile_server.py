"""A small, programmable, deliberately misbehaving server of the Factory Cluster API v1, for fault-injection tests.

Why raw asyncio TCP and not FastAPI: the faults we must prove the console survives live *below* HTTP frameworks: a
chunk whose header promises more bytes than ever come, an event cut in the middle, a TCP reset (``SO_LINGER 0``), a
server that accepts and then says nothing, a command applied whose answer is never written. A framework would
"helpfully" finish those responses for us.

What it serves (every answer carries ``Connection: close``, so each request is its own connection and a fault on one
never leaks into the next):

* ``GET /v1/whoami`` and ``GET /v1/snapshot``: from :attr:`HostileServer.tables`, a small valid cluster built with the
  contract models (tests may put anything in it, hostile strings included). The snapshot's ``seq`` is the last one
  published, and the tables follow every valid event published, like a real server's would.
* ``GET /v1/events``: a chunked SSE stream run by a *script* (a list of actions, one script per connection, in
  order; once they are used up, :class:`Tail`). :class:`Replay` sends the kept history after the client's
  ``Last-Event-ID`` (or ``after``); the other actions inject faults. A ``Last-Event-ID`` ahead of the history (a
  restarted server) gets a ``reset`` event, as the contract says.
* ``POST`` commands: applied at most once per ``Idempotency-Key`` (:attr:`applications` counts them per key), with a
  switch (:meth:`drop_next_answers`) to apply a command and then lose its answer in one of several ways.
* Canned failures for any path (:meth:`fail`): a status (500, 502, 503, 429...) with or without ``Retry-After``, a
  slow answer, a reset, a non-JSON body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from console.api.models import (
    Alert,
    Cluster,
    Design,
    Job,
    Machine,
    Node,
    Quality,
    SourceRef,
)

__all__ = [
    "T0",
    "Close",
    "CutMidEvent",
    "HostileServer",
    "Pause",
    "Raw",
    "Replay",
    "Reply",
    "Reset",
    "Send",
    "Silence",
    "Tail",
    "base_tables",
    "frame",
]

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MAX_HEADER_BYTES = 64 * 1024


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def frame(seq: int | None, type_: str, data: Any, *, ensure_ascii: bool = False) -> bytes:
    """One SSE frame. ``data`` is a model, a JSON-able value, or a ``str`` sent verbatim (for broken JSON)."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=ensure_ascii, allow_nan=True)
    head = "" if seq is None else f"id: {seq}\n"
    body = "".join(f"data: {line}\n" for line in text.split("\n"))
    return f"{head}event: {type_}\n{body}\n".encode()


# --- the starting cluster ---------------------------------------------------------------------------------------


def _machine(mid: str, node_id: str, **kw: Any) -> Machine:
    fields: dict[str, Any] = dict(
        id=mid,
        node_id=node_id,
        name=f"printer {mid}",
        kind="fdm_printer",
        model="P1",
        state="idle",
        state_since=T0,
        materials=["PLA"],
        processes=["fdm"],
        envelope_mm=(200, 200, 200),
        telemetry={"nozzle_c": 20.0},
        last_seen=T0,
    )
    return Machine(**(fields | kw))


def _job(jid: str, machine_id: str | None, node_id: str | None, **kw: Any) -> Job:
    fields: dict[str, Any] = dict(
        id=jid,
        order_id="O-1",
        part="bracket",
        design=Design(file="b.stl", sha256="0" * 64),
        process="fdm",
        material="PLA",
        size_mm=(10, 10, 10),
        quantity=1,
        done_qty=0,
        scrap_qty=0,
        priority=3,
        due_at=T0 + timedelta(hours=2),
        status="queued" if machine_id is None else "assigned",
        node_id=node_id,
        machine_id=machine_id,
        queue_position=None if machine_id is None else 0,
        progress=0.0,
        created_at=T0,
        customer_region="eu-west",
    )
    return Job(**(fields | kw))


def _alert(aid: str, machine_id: str, **kw: Any) -> Alert:
    fields: dict[str, Any] = dict(
        id=aid,
        priority="high",
        state="active_unacked",
        source=SourceRef(kind="machine", id=machine_id),
        code="E-HOT",
        message=f"{machine_id} nozzle over temperature",
        raised_at=T0,
        updated_at=T0,
    )
    return Alert(**(fields | kw))


def _quality(scope: str, qid: str) -> Quality:
    return Quality(
        scope=scope,
        id=qid,
        window_h=24,
        oee=0.5,
        availability=0.8,
        performance=0.8,
        quality_rate=0.78125,
        first_pass_yield=0.9,
        scrap_rate=0.1,
        good_count=90,
        scrap_count=10,
    )


def base_tables(nodes: int = 2, machines_per_node: int = 3) -> dict[str, dict[Any, dict[str, Any]]]:
    """A small valid cluster as JSON-ready tables keyed by id (quality by ``"scope/id"``)."""
    tables: dict[str, dict[Any, dict[str, Any]]] = {k: {} for k in ("nodes", "machines", "jobs", "alerts", "quality")}
    for n in range(1, nodes + 1):
        nid = f"N-{n}"
        node = Node(
            id=nid,
            name=f"node {n}",
            city="Lyon",
            lat=45.7,
            lon=4.8,
            state="online",
            last_seen=T0,
            machine_count=machines_per_node,
        )
        tables["nodes"][nid] = node.model_dump(mode="json")
        for m in range(1, machines_per_node + 1):
            mid = f"M-{n}{m:02d}"
            tables["machines"][mid] = _machine(mid, nid).model_dump(mode="json")
            jid = f"J-{n}{m:02d}"
            tables["jobs"][jid] = _job(jid, mid, nid).model_dump(mode="json")
        tables["alerts"][f"A-{n}"] = _alert(f"A-{n}", f"M-{n}01").model_dump(mode="json")
        tables["quality"][f"node/{nid}"] = _quality("node", nid).model_dump(mode="json")
    tables["jobs"]["J-BACKLOG"] = _job("J-BACKLOG", None, None).model_dump(mode="json")
    tables["quality"]["cluster/C-1"] = _quality("cluster", "C-1").model_dump(mode="json")
    return tables


# --- stream actions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """Send kept events after the client's resume point (``count`` of them, or all); advances the position."""

    count: int | None = None


@dataclass(frozen=True)
class Send:
    """Send one frame that is not part of the history (a one-off, e.g. a repeated ``seq``)."""

    data: bytes


@dataclass(frozen=True)
class Raw:
    """Write raw bytes as one chunk (may be anything: half a line, garbage, a comment)."""

    data: bytes


@dataclass(frozen=True)
class CutMidEvent:
    """Write the first ``fraction`` of the next history event, then end the connection ``how``.

    ``close``: a FIN after a well-formed chunk (the HTTP body is cut); ``clean``: the chunked body ends properly (a
    server that stops in the middle of an event); ``half_chunk``: the chunk header promises the whole event but only
    part comes, then a FIN; ``reset``: a TCP reset.
    """

    how: str = "close"
    fraction: float = 0.5


@dataclass(frozen=True)
class Pause:
    """Say nothing for ``seconds`` (no keep-alive)."""

    seconds: float


@dataclass(frozen=True)
class Silence:
    """Say nothing until the client gives up (its silence timeout) or the server stops."""


@dataclass(frozen=True)
class Close:
    """End the response properly (the last chunk) and close: the server ended the stream."""


@dataclass(frozen=True)
class Reset:
    """Abort the connection with a TCP reset."""


@dataclass(frozen=True)
class Tail:
    """Send whatever is published from now on, with keep-alive comments, until the client leaves (the default)."""


Action = Replay | Send | Raw | CutMidEvent | Pause | Silence | Close | Reset | Tail


@dataclass
class Reply:
    """A canned answer for a path: ``status`` with ``headers`` and ``body``, after ``delay`` s; or a ``drop``."""

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    drop: str | None = None
    """``reset`` (TCP reset), ``close`` (FIN without an answer), ``half`` (half the headers, then FIN)."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class HostileServer:
    """See the module docstring. Runs on the caller's loop: ``await server.start()`` ... ``await server.stop()``."""

    def __init__(
        self,
        *,
        tables: dict[str, dict[Any, dict[str, Any]]] | None = None,
        base_seq: int = 100,
        keepalive_s: float = 0.2,
        instance_id: str = "inst-1",
        ssl_context: Any = None,
    ) -> None:
        self.tables = tables if tables is not None else base_tables()
        self.cluster: dict[str, Any] = Cluster(
            id="C-1", name="Hostile cluster", region="eu", server_time=T0, seq=base_seq, instance_id=instance_id
        ).model_dump(mode="json")
        self.base_seq = base_seq
        self.seq = base_seq
        self.history: list[tuple[int | None, bytes]] = []
        self.keepalive_s = keepalive_s
        self.ssl_context = ssl_context
        self.scripts: deque[list[Action]] = deque()
        self.replies: dict[str, deque[Reply]] = {}
        self.whoami: dict[str, Any] = {"operator": "alice", "role": "supervisor"}
        self.snapshot_queue: deque[bytes] = deque()
        """One-shot snapshot bodies served before the live one (see :meth:`freeze_snapshot`)."""
        # What happened, for assertions.
        self.requests: list[Request] = []
        self.resume_points: list[str | None] = []
        self.snapshots_served = 0
        self.streams_opened = 0
        self.applications: Counter[str] = Counter()
        self.command_keys: list[tuple[str, str | None]] = []
        self._answers: dict[str, bytes] = {}
        self._drop_answers: deque[str] = deque()
        self._published = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> HostileServer:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", port or self.port, ssl=self.ssl_context, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and cut every open connection (a killed server: its clients see resets)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()
        async with self._published:
            self._published.notify_all()

    async def restart(self, *, keep_history: bool, new_seq: int | None = None) -> None:
        """Kill and start again on the same port. Without history: a new instance, ``seq`` restarts at ``new_seq``."""
        await self.stop()
        await asyncio.sleep(0.05)
        if not keep_history:
            self.history.clear()
            self.seq = self.base_seq = self.base_seq if new_seq is None else new_seq
            self.cluster = {**self.cluster, "instance_id": f"inst-{uuid.uuid4().hex[:8]}", "seq": self.seq}
        await self.start(self.port)

    # --- scripting --------------------------------------------------------------------------------------------------

    def script(self, *connections: list[Action]) -> None:
        """Queue one script per future ``/v1/events`` connection, in order."""
        self.scripts.extend(connections)

    def fail(self, path: str, *replies: Reply) -> None:
        """Queue canned answers for ``path`` (exact path, e.g. ``/v1/snapshot``), used before the real ones."""
        self.replies.setdefault(path, deque()).extend(replies)

    def drop_next_answers(self, *modes: str) -> None:
        """The next commands are applied, then their answers lost: ``close``, ``reset``, ``half`` or ``slow:<s>``."""
        self._drop_answers.extend(modes)

    def publish(self, type_: str, data: Any, *, ensure_ascii: bool = False) -> int:
        """Issue the next ``seq`` with a valid event and apply it to the tables (as a real server would)."""
        self.seq += 1
        payload = data.model_dump(mode="json") if hasattr(data, "model_dump") else data
        self._apply(type_, payload)
        self.history.append((self.seq, frame(self.seq, type_, payload, ensure_ascii=ensure_ascii)))
        self._wake()
        return self.seq

    def publish_raw(self, raw: bytes, *, seq: int | None = None, advance: bool = True) -> int | None:
        """Put a raw frame in the history; ``advance`` issues the next ``seq`` for it (the frame should carry it)."""
        if advance:
            self.seq += 1
            seq = self.seq
        self.history.append((seq, raw))
        self._wake()
        return seq

    def freeze_snapshot(self) -> None:
        """Serve the tables as they are now to the next snapshot request, whatever is published meanwhile.

        So a test can publish events *before* the console connects and still have them come on the stream (as events
        that happened between the console's snapshot and its stream request).
        """
        self.snapshot_queue.append(json.dumps(self.snapshot_json(), ensure_ascii=False).encode())

    def next_seq(self) -> int:
        return self.seq + 1

    def _wake(self) -> None:
        async def notify() -> None:
            async with self._published:
                self._published.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(notify())

    def _apply(self, type_: str, payload: Any) -> None:
        tables = self.tables
        if type_ == "machine.updated":
            tables["machines"][payload["id"]] = payload
        elif type_ == "node.updated":
            tables["nodes"][payload["id"]] = payload
        elif type_ == "job.updated":
            tables["jobs"][payload["id"]] = payload
        elif type_ == "job.removed":
            tables["jobs"].pop(payload["id"], None)
        elif type_ in ("alert.raised", "alert.updated"):
            if payload["state"] == "resolved":
                tables["alerts"].pop(payload["id"], None)
            else:
                tables["alerts"][payload["id"]] = payload
        elif type_ == "quality.updated":
            tables["quality"][f"{payload['scope']}/{payload['id']}"] = payload
        elif type_ == "cluster.updated":
            self.cluster = payload
        elif type_ == "machine.telemetry":
            machine = tables["machines"].get(payload["machine_id"])
            if machine is not None:
                machine["telemetry"] = {**machine["telemetry"], **payload["values"]}

    def snapshot_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "cluster": {**self.cluster, "seq": self.seq},
            **{name: list(rows.values()) for name, rows in self.tables.items()},
        }

    # --- HTTP -------------------------------------------------------------------------------------------------------

    async def _read_request(self, reader: asyncio.StreamReader) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return None
        if len(head) > MAX_HEADER_BYTES:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        path, _, query_text = target.partition("?")
        query = dict(part.split("=", 1) for part in query_text.split("&") if "=" in part)
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        return Request(method, path, query, headers, body)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            request = await self._read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            queued = self.replies.get(request.path)
            if queued:
                await self._canned(writer, queued.popleft())
                return
            if request.method == "GET" and request.path == "/v1/events":
                await self._events(request, reader, writer)
            elif request.method == "GET" and request.path == "/v1/whoami":
                await self._json(writer, 200, json.dumps(self.whoami).encode())
            elif request.method == "GET" and request.path == "/v1/snapshot":
                self.snapshots_served += 1
                if self.snapshot_queue:
                    body = self.snapshot_queue.popleft()
                else:
                    body = json.dumps(self.snapshot_json(), ensure_ascii=False).encode()
                await self._json(writer, 200, body)
            elif request.method == "POST":
                await self._command(request, writer)
            else:
                problem = {"type": "about:blank", "title": "Not Found", "status": 404}
                await self._json(writer, 404, json.dumps(problem).encode(), "application/problem+json")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:  # the test's loop is closing: a connection handler has nothing to clean up
            pass
        finally:
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> None:
        writer.write(
            self._head(status, {"Content-Type": content_type, "Content-Length": str(len(body)), **(extra or {})})
        )
        writer.write(body)
        await writer.drain()

    @staticmethod
    def _head(status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} X", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _canned(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop == "reset":
            _reset(writer)
            return
        if reply.drop == "close":
            return
        if reply.drop == "half":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: appl")
            await writer.drain()
            return
        body = reply.body
        content_type = reply.headers.pop("Content-Type", "application/problem+json")
        if body is None:
            body = json.dumps({"type": "about:blank", "title": "Canned failure", "status": reply.status}).encode()
        await self._json(writer, reply.status, body, content_type, reply.headers)

    async def _command(self, request: Request, writer: asyncio.StreamWriter) -> None:
        key = request.headers.get("idempotency-key")
        self.command_keys.append((request.path, key))
        if key is None:
            problem = {"title": "Bad Request", "status": 400, "detail": "Idempotency-Key required"}
            await self._json(writer, 400, json.dumps(problem).encode(), "application/problem+json")
            return
        answer = self._answers.get(key)
        if answer is None:
            self.applications[key] += 1
            answer = json.dumps(
                {"command_id": f"cmd-{len(self._answers) + 1}", "status": "applied", "audit_id": f"AU-{key[:8]}"}
            ).encode()
            self._answers[key] = answer
        if self._drop_answers:
            mode = self._drop_answers.popleft()
            if mode.startswith("slow:"):
                await asyncio.sleep(float(mode.partition(":")[2]))
            else:
                await self._canned(writer, Reply(drop=mode))
                return
        await self._json(writer, 200, answer)

    # --- the event stream -------------------------------------------------------------------------------------------

    def _start_index(self, after: int | None) -> int:
        if after is None:
            return len(self.history)
        for index, (seq, _) in enumerate(self.history):
            if seq is not None and seq > after:
                return index
        return len(self.history)

    async def _events(self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw_after = request.headers.get("last-event-id") or request.query.get("after")
        self.resume_points.append(raw_after)
        self.streams_opened += 1
        script = self.scripts.popleft() if self.scripts else [Tail()]
        writer.write(self._head(200, {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}))
        await writer.drain()
        after = int(raw_after) if raw_after and raw_after.isdigit() else None
        if after is not None and not self.base_seq <= after <= self.seq:
            reset = frame(None, "reset", {"seq": self.seq, "instance_id": self.cluster["instance_id"]})
            writer.write(_chunk(reset))
            await writer.drain()
            script = [Tail()]
            position = len(self.history)
        else:
            position = self._start_index(after)
        client_gone = asyncio.ensure_future(reader.read(1))
        try:
            for action in script:
                position = await self._act(action, position, writer, client_gone)
                if position < 0:
                    return
        finally:
            client_gone.cancel()

    async def _act(
        self, action: Action, position: int, writer: asyncio.StreamWriter, client_gone: asyncio.Future[bytes]
    ) -> int:
        """Run one action; the new history position, or -1 when the connection is over."""
        if isinstance(action, Replay):
            end = len(self.history) if action.count is None else min(len(self.history), position + action.count)
            data = b"".join(raw for _, raw in self.history[position:end])
            if data:
                writer.write(_chunk(data))
                await writer.drain()
            return end
        if isinstance(action, Send | Raw):
            writer.write(_chunk(action.data))
            await writer.drain()
            return position
        if isinstance(action, CutMidEvent):
            raw = self.history[position][1] if position < len(self.history) else b"id: 999999\nevent: machine.upd"
            part = raw[: max(1, int(len(raw) * action.fraction))]
            if action.how == "half_chunk":
                writer.write(f"{len(raw):x}\r\n".encode() + part)
            else:
                writer.write(_chunk(part))
            if action.how == "clean":
                writer.write(b"0\r\n\r\n")
            await writer.drain()
            if action.how == "reset":
                _reset(writer)
            return -1
        if isinstance(action, Pause):
            await asyncio.sleep(action.seconds)
            return position
        if isinstance(action, Silence):
            await asyncio.wait({client_gone}, timeout=30)
            return -1
        if isinstance(action, Close):
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return -1
        if isinstance(action, Reset):
            _reset(writer)
            return -1
        return await self._tail(position, writer, client_gone)

    async def _tail(self, position: int, writer: asyncio.StreamWriter, client_gone: asyncio.Future[bytes]) -> int:
        while not client_gone.done() and self._server is not None:
            if position < len(self.history):
                data = b"".join(raw for _, raw in self.history[position:])
                position = len(self.history)
                writer.write(_chunk(data))
            else:
                async with self._published:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._published.wait(), self.keepalive_s)
                if position >= len(self.history):
                    writer.write(_chunk(b": ka\n\n"))
            await writer.drain()
        return -1
