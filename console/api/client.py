"""The async HTTP client of the Factory Cluster API v1: reads, commands and the event stream.

One :class:`ClusterClient` per server (the cluster API, or one node agent). It turns answers into contract models
(``console.api.models``) and failures into typed exceptions (``console.api.errors``), so callers never look at status
codes or httpx exceptions.

Commands are where care matters: each one carries a fresh ``Idempotency-Key``; if the request went out but its answer
was lost, it is sent again *with the same key* (the server does it once); if the connection could not even be made it
fails at once with :class:`ConnectionFailed` (nothing is ever queued behind the operator's back).

The token lives only in the httpx client's default headers: it is never logged, put in an exception or a repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from console.api.body import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_RESPONSE_BYTES,
    decoded_chunks,
    read_capped,
)
from console.api.command_bodies import CommandResult
from console.api.commands import command_path, encode_body
from console.api.errors import (
    AnswerLost,
    ConnectionFailed,
    ProtocolError,
    StreamLost,
    error_for_status,
    parse_retry_after,
    problem_from_body,
)
from console.api.lean import LeanModel
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
from console.api.sse import DEFAULT_MAX_EVENT_BYTES, SseFramer, SseMessage, StreamItem, excerpt, parse_sse

__all__ = ["DEFAULT_SILENCE_TIMEOUT", "ClusterClient", "safe_url"]

M = TypeVar("M", bound=BaseModel | LeanModel)

DEFAULT_SILENCE_TIMEOUT = 45.0
"""The contract: no byte for 45 s (keep-alive comments count) means the stream is dead."""

PAGE_LIMIT = 500

# Raised before the request could reach the server: nothing happened there.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Raised after (part of) the request went out: the server may have acted, so a retry must reuse the key.
_ANSWER_LOST = (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError, httpx.WriteTimeout)

_CANDIDATES = TypeAdapter(list[RerouteCandidate])


def safe_url(url: str) -> str:
    """A URL fit for logs and screens: without user-info (``user:secret@``), query or fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _verify_arg(verify: bool | str) -> bool | ssl.SSLContext:
    # httpx 0.28 deprecates a CA-bundle path for `verify`; build the context ourselves.
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def _body_json(body: BaseModel | dict[str, Any] | None) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_none=True)
    return body


LARGE_BODY = 1 << 20
"""Bodies larger than this (bytes) are parsed off the event loop."""


def why(error: BaseException) -> str:
    """The cause of a transport error in a few words: its type and the OS or TLS message (which carries no secret),
    so an operator can tell a DNS failure from a refused connection from a certificate problem."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {excerpt(text, 120)}" if text else type(error).__name__


class ClusterClient:
    """Async client of one cluster API (or node agent). Use as ``async with ClusterClient(url) as client:``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        command_retries: int = 3,
        retry_backoff: float = 0.2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": "factory-console"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.command_retries = command_retries
        self.retry_backoff = retry_backoff
        self.max_response_bytes = max_response_bytes
        """A decoded body longer than this is refused (:class:`~console.api.body.ResponseTooLarge`), not read."""
        self.max_event_bytes = max_event_bytes
        """An event longer than this is dropped unread and recorded as malformed (:class:`SseFramer`)."""
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            verify=_verify_arg(verify),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ClusterClient({safe_url(self.base_url)!r})"

    @property
    def display_url(self) -> str:
        """The server's URL without secrets, for status lines and logs."""
        return safe_url(self.base_url)

    async def __aenter__(self) -> ClusterClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- plumbing ---------------------------------------------------------------------------------------------------

    async def _read_body(self, response: httpx.Response, what: str) -> None:
        """Read a streamed ``response``'s body, capped (see ``console.api.body``), as httpx's ``aread`` would."""
        response._content = await read_capped(response, what, self.max_response_bytes)  # what aread() sets

    def _raise_for_answer(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = response.text
        problem = problem_from_body(response.status_code, body)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise error_for_status(response.status_code, problem, retry_after)

    def _decode(self, response: httpx.Response, model: type[M] | TypeAdapter[Any]) -> Any:
        self._raise_for_answer(response)
        what = f"{response.request.method} {response.request.url.path}"
        try:
            if isinstance(model, TypeAdapter):
                return model.validate_json(response.content)
            return model.model_validate_json(response.content)
        except ValidationError as error:
            raise ProtocolError(
                f"{what}: invalid answer ({error.error_count()} error(s)): {excerpt(response.text)}"
            ) from None

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            async with self._http.stream("GET", path, params=query) as response:
                await self._read_body(response, f"GET {path}")
                return response
        except _NOT_SENT as error:
            raise ConnectionFailed(f"cannot connect to {self.display_url}: {why(error)}") from None
        except httpx.TransportError as error:
            raise StreamLost(f"GET {path}: connection lost ({why(error)})") from None

    async def _read(self, path: str, model: type[M], **params: Any) -> M:
        result: M = self._decode(await self._get(path, params), model)
        return result

    async def _pages(self, path: str, model: type[M], params: dict[str, Any]) -> AsyncIterator[Page[M]]:
        cursor: str | None = None
        page_model = Page[model]  # type: ignore[valid-type]
        seen: set[str] = set()
        while True:
            page = self._decode(await self._get(path, {**params, "limit": PAGE_LIMIT, "cursor": cursor}), page_model)
            yield page
            cursor = page.next_cursor
            if not cursor:
                return
            if cursor in seen:  # a server that loops its cursors would otherwise hang us
                raise ProtocolError(f"GET {path}: the server repeated a page cursor")
            seen.add(cursor)

    async def _all(self, path: str, model: type[M], **params: Any) -> list[M]:
        items: list[M] = []
        async for page in self._pages(path, model, params):
            items.extend(page.items)
        return items

    async def probe(self, wait_s: float = 2.0) -> bool:
        """Is the server back? One small ``GET /v1/cluster``, waiting at most ``wait_s``: ``True`` for any answer but
        a 5xx or a 429 (a 401 is an answer: the reconnect that follows reports it). Never raises, reads no more than
        the status line and headers; for the wait between reconnects, which it may cut short."""
        try:
            async with self._http.stream("GET", "/v1/cluster", timeout=wait_s) as response:
                return response.status_code < 500 and response.status_code != 429
        except (httpx.HTTPError, OSError, ValueError):
            return False

    # --- reads ------------------------------------------------------------------------------------------------------

    async def whoami(self) -> WhoAmI:
        return await self._read("/v1/whoami", WhoAmI)

    async def cluster(self) -> Cluster:
        return await self._read("/v1/cluster", Cluster)

    async def snapshot(self) -> Snapshot:
        """The whole cluster at one ``seq``. A big one (tens of MB at 100,000 machines) is parsed in a thread so the
        event loop, and with it the console's keys and screen, keeps going meanwhile."""
        response = await self._get("/v1/snapshot")
        if len(response.content) < LARGE_BODY:
            snapshot: Snapshot = self._decode(response, Snapshot)
        else:
            snapshot = await asyncio.to_thread(self._decode, response, Snapshot)
        return snapshot

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

    # --- the event stream -------------------------------------------------------------------------------------------

    async def events(
        self,
        after: int | None = None,
        *,
        silence_timeout: float = DEFAULT_SILENCE_TIMEOUT,
        on_open: Callable[[], None] | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Stream events after ``after`` (resume with ``Last-Event-ID``). Ends by raising, never silently.

        Yields an ``Event`` per event (``data`` is ``None`` for a type the console does not know: its ``seq`` still
        counts), a ``Reset`` when the server cannot resume, and a ``MalformedEvent`` for an event that cannot be used
        (the stream goes on). ``on_open`` is called once the server has accepted the stream. Raises
        :class:`ConnectionFailed`, an :class:`ApiError`, :class:`ProtocolError`, or :class:`StreamLost` when the stream
        breaks, ends, or stays silent for ``silence_timeout`` seconds.
        """
        batches = self.event_batches(after, silence_timeout=silence_timeout, on_open=on_open)
        async with contextlib.aclosing(batches) as stream:
            async for batch in stream:
                for message in batch:
                    yield parse_sse(*message)

    async def event_batches(
        self,
        after: int | None = None,
        *,
        silence_timeout: float = DEFAULT_SILENCE_TIMEOUT,
        on_open: Callable[[], None] | None = None,
    ) -> AsyncGenerator[list[SseMessage], None]:
        """The event stream as raw messages, one list per chunk read from the network (see :meth:`events`); the list
        is empty for a chunk that completes no event (a keep-alive), so the caller can tell a quiet stream from a dead
        one.

        Not validated: each message is ``(id, event, data)`` for :func:`console.api.sse.parse_sse`. For the source,
        which applies a batch without an async hop per event, and buffers raw messages while it bootstraps (a raw
        message is a fraction of the memory of its model, and one the snapshot covers is never parsed). Raises as
        :meth:`events` does.
        """
        headers: dict[str, str] = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        params: dict[str, Any] = {}
        if after is not None:
            headers["Last-Event-ID"] = str(after)
            params["after"] = after
        timeout = httpx.Timeout(self.timeout, read=silence_timeout)
        try:
            async with self._http.stream(
                "GET", "/v1/events", headers=headers, params=params, timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    await self._read_body(response, "GET /v1/events")
                    self._raise_for_answer(response)
                content_type = response.headers.get("content-type", "").partition(";")[0].strip()
                if response.status_code != 200 or content_type != "text/event-stream":
                    raise ProtocolError(
                        f"GET /v1/events: expected an event stream, got {response.status_code} "
                        f"{excerpt(content_type, 60)!r}"
                    )
                if on_open is not None:
                    on_open()
                framer = SseFramer(self.max_event_bytes)
                feed = framer.feed
                async for chunk in decoded_chunks(response, "GET /v1/events"):
                    yield feed(chunk)  # empty for a keep-alive: the caller still learns the server is there
        except _NOT_SENT as error:
            raise ConnectionFailed(f"cannot connect to {self.display_url}: {why(error)}") from None
        except httpx.ReadTimeout:
            raise StreamLost(f"no byte from {self.display_url} for {silence_timeout:g} s") from None
        except httpx.TransportError as error:
            raise StreamLost(f"event stream broke: {why(error)}") from None
        raise StreamLost("the server ended the event stream")

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
            except _NOT_SENT as error:
                if not sent:
                    raise ConnectionFailed(
                        f"cannot connect to {self.display_url}: {why(error)}; the command was not sent"
                    ) from None
                last_error = type(error).__name__
                continue
            except _ANSWER_LOST as error:
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


def _seg(value: str) -> str:
    """One URL path segment: ids are strings, so a ``/`` or ``?`` in one must not change the path."""
    return quote(value, safe="")
