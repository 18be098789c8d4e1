"""The async HTTP client of the Factory Cluster API v1: reads, commands and the event stream.

One :class:`ClusterClient` per server (the cluster API, or one node agent). It turns answers into contract models
(``console.api.models``) and failures into typed exceptions (``console.api.errors``), so callers never look at status
codes or httpx exceptions.

Commands are where care matters: each one carries a fresh ``Idempotency-Key``; if the request went out but its answer
was lost, it is sent again *with the same key* (the server does it once); if the connection could not even be made it
fails at once with :class:`ConnectionFailed` (nothing is ever queued behind the operator's back).

The token lives only in the httpx client's default headers: it is never logged, put in an exception or a repr.

This module holds the API itself, the reads and the commands. The HTTP plumbing under them (the httpx client,
capped bodies, decoding, paging) is ``console.api.transport``; the event stream is ``console.api.event_stream``.
"""

from __future__ import annotations

import asyncio
import uuid
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from console.api.command_bodies import CommandResult
from console.api.commands import command_path, encode_body
from console.api.errors import AnswerLost, ConnectionFailed, ProtocolError
from console.api.event_stream import EventStreamClient
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
    Snapshot,
    WhoAmI,
)
from console.api.snapshot_chunks import parse_snapshot_chunked
from console.api.sse import excerpt
from console.api.transport import ANSWER_LOST, NOT_SENT, safe_url, why

__all__ = ["ClusterClient", "SnapshotBody"]

_CANDIDATES = TypeAdapter(list[RerouteCandidate])


def _body_json(body: BaseModel | dict[str, Any] | None) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_none=True)
    return body


SNAPSHOT_READ_TIMEOUT_S = 120.0
"""The longest wait for a byte of ``GET /v1/snapshot`` (other reads: the client's ``timeout``, 10 s). A server may
build a big snapshot whole before its first byte: the demo server took 10-22 s at 100,000 machines under load
(docs/performance.md section 9), and the 10 s read timeout failed every attempt, so that console never went live."""

LARGE_BODY = 1 << 20
"""Bodies larger than this (bytes) are parsed off the event loop."""


class ClusterClient(EventStreamClient):
    """Async client of one cluster API (or node agent). Use as ``async with ClusterClient(url) as client:``."""

    def __repr__(self) -> str:
        return f"ClusterClient({safe_url(self.base_url)!r})"

    async def __aenter__(self) -> ClusterClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- reads ------------------------------------------------------------------------------------------------------

    async def whoami(self) -> WhoAmI:
        return await self._read("/v1/whoami", WhoAmI)

    async def cluster(self) -> Cluster:
        return await self._read("/v1/cluster", Cluster)

    async def snapshot(self) -> Snapshot:
        """The whole cluster at one ``seq``: :meth:`snapshot_body`, then :meth:`parse_snapshot`."""
        return await self.parse_snapshot(await self.snapshot_body())

    async def snapshot_body(self) -> SnapshotBody:
        """``GET /v1/snapshot``, read (capped) but not parsed: a source may read other things while it comes and
        choose when to parse it (``console.sources.cluster_preview``). A problem answer raises as any read does."""
        response = await self._get("/v1/snapshot", read_timeout=max(self.timeout, SNAPSHOT_READ_TIMEOUT_S))
        self._raise_for_answer(response)
        return SnapshotBody(response)

    async def parse_snapshot(self, body: SnapshotBody) -> Snapshot:
        """The snapshot in ``body``. A big one (tens of MB at 100,000 machines) is parsed in a thread so the event
        loop, and with it the console's keys and screen, keeps going meanwhile."""
        if body.size < LARGE_BODY:
            snapshot: Snapshot = self._decode(body.response, Snapshot)
        else:
            snapshot = await asyncio.to_thread(self._decode_big_snapshot, body.response)
        return snapshot

    def _decode_big_snapshot(self, response: httpx.Response) -> Snapshot:
        """As ``_decode(response, Snapshot)``, parsed in chunks (``console.api.snapshot_chunks``: at 100,000
        machines a peak of ~510 MB instead of ~1,170, and the GIL let go between chunks)."""
        self._raise_for_answer(response)
        try:
            return parse_snapshot_chunked(response.content)
        except ValidationError as error:
            raise ProtocolError(
                f"GET /v1/snapshot: invalid answer ({error.error_count()} error(s)): {excerpt(response.text)}"
            ) from None

    async def nodes(self) -> list[Node]:
        return await self._all("/v1/nodes", Node)

    async def machines(self, *, node_id: str | None = None, state: str | None = None) -> list[Machine]:
        return await self._all("/v1/machines", Machine, node_id=node_id, state=state)

    async def jobs(
        self, *, status: str | None = None, node_id: str | None = None, machine_id: str | None = None
    ) -> list[Job]:
        return await self._all("/v1/jobs", Job, status=status, node_id=node_id, machine_id=machine_id)

    async def alerts(self, *, state: str | None = None) -> list[Alert]:
        return await self._all("/v1/alerts", Alert, state=state)

    async def machines_page(self, limit: int, *, state: str | None = None) -> Page[Machine]:
        """The first page of ``GET /v1/machines`` (ordered by id), at most ``limit`` machines."""
        return await self._page("/v1/machines", Machine, limit, {"state": state})

    async def alerts_page(self, limit: int, *, cursor: str | None = None) -> Page[Alert]:
        """One page of ``GET /v1/alerts`` (the first, or the one after ``cursor``), at most ``limit`` alerts."""
        return await self._page("/v1/alerts", Alert, limit, {"cursor": cursor})

    async def node(self, node_id: str) -> Node:
        return await self._read(f"/v1/nodes/{_seg(node_id)}", Node)

    async def machine(self, machine_id: str) -> Machine:
        return await self._read(f"/v1/machines/{_seg(machine_id)}", Machine)

    async def job(self, job_id: str) -> Job:
        return await self._read(f"/v1/jobs/{_seg(job_id)}", Job)

    async def alert(self, alert_id: str) -> Alert:
        return await self._read(f"/v1/alerts/{_seg(alert_id)}", Alert)

    async def quality(self, scope: str, id: str | None = None) -> Quality:
        return await self._read("/v1/quality", Quality, scope=scope, id=id)

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        response = await self._get(f"/v1/jobs/{_seg(job_id)}/reroute-candidates")
        result: list[RerouteCandidate] = self._decode(response, _CANDIDATES)
        return result

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        response = await self._get("/v1/audit", {"cursor": cursor, "limit": limit})
        result: Page[AuditEntry] = self._decode(response, Page[AuditEntry])
        return result

    # --- commands ---------------------------------------------------------------------------------------------------

    async def command(
        self, path: str, body: BaseModel | dict[str, Any] | None = None, idempotency_key: str | None = None
    ) -> CommandResult:
        """POST one command with an ``Idempotency-Key``; retry with the same key if only the answer was lost."""
        key = idempotency_key or str(uuid.uuid4())
        payload = _body_json(body)
        attempts = max(1, self.command_retries + 1)
        sent = False
        last_error = ""
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.retry_backoff * (2 ** (attempt - 1)))
            try:
                async with self._http.stream("POST", path, json=payload, headers={"Idempotency-Key": key}) as response:
                    await self._read_body(response, f"POST {path}")
            except NOT_SENT as error:
                if not sent:
                    raise ConnectionFailed(
                        f"cannot connect to {self.display_url}: {why(error)}; the command was not sent"
                    ) from None
                last_error = type(error).__name__
                continue
            except ANSWER_LOST as error:
                sent = True
                last_error = type(error).__name__
                continue
            result: CommandResult = self._decode(response, CommandResult)
            return result
        raise AnswerLost(
            f"POST {path}: sent, but no answer after {attempts} attempt(s) ({last_error}); it may or may not have "
            "taken effect",
            idempotency_key=key,
        )

    async def send_command(
        self,
        action: str,
        target_id: str,
        body: dict[str, Any] | BaseModel | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """One contract command by action name (``"machine.pause"``...), its body validated against the contract's
        model and encoded one way (``console.api.commands``); raises ``InvalidCommandBody`` before sending."""
        return await self.command(command_path(action, target_id), encode_body(action, body), idempotency_key)


class SnapshotBody:
    """A snapshot's answer, read but not parsed yet (:meth:`ClusterClient.snapshot_body`)."""

    __slots__ = ("response",)

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    @property
    def size(self) -> int:
        """Its length in bytes, decoded."""
        return len(self.response.content)


def _seg(value: str) -> str:
    """One URL path segment: ids are strings, so a ``/`` or ``?`` in one must not change the path."""
    return quote(value, safe="")
