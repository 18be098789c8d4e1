"""The HTTP plumbing under :class:`~console.api.client.ClusterClient`: one httpx client, and answers turned into
contract models or typed exceptions.

Split out of ``console.api.client`` so the client's own module reads as the API (the reads and the commands) and the
event stream (``console.api.event_stream``) shares the same plumbing without repeating it. :class:`ApiTransport` owns
the httpx client and its headers (the token lives only there: it is never logged, put in an exception or a repr),
reads capped bodies (``console.api.body``), decodes them into models, follows paged lists, and maps transport
failures to :class:`ConnectionFailed` (nothing was sent) or :class:`StreamLost` (the connection broke).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from console.api.body import ACCEPT_ENCODING, DEFAULT_MAX_RESPONSE_BYTES, read_capped
from console.api.errors import (
    ConnectionFailed,
    ProtocolError,
    StreamLost,
    error_for_status,
    parse_retry_after,
    problem_from_body,
)
from console.api.lean import LeanModel
from console.api.models import Page
from console.api.sse import DEFAULT_MAX_EVENT_BYTES, excerpt

__all__ = ["ANSWER_LOST", "NOT_SENT", "PAGE_LIMIT", "ApiTransport", "safe_url", "why"]

M = TypeVar("M", bound=BaseModel | LeanModel)

PAGE_LIMIT = 500

# Raised before the request could reach the server: nothing happened there.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Raised after (part of) the request went out: the server may have acted, so a retry must reuse the key.
ANSWER_LOST = (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError, httpx.WriteTimeout)


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


def _verify_arg(verify: bool | str, base_url: str) -> bool | ssl.SSLContext:
    """What httpx is given as ``verify``.

    A plain ``http://`` server never sees TLS from this client (every request is a path under its base URL, and
    redirects are not followed), so it gets a bare context that trusts no certificate at all: a TLS connection, were
    there ever one, would fail closed. Why not the default: building it loads the system's CA bundle, 15-50 ms of
    CPU at every start (measured: 27-56 ms on this 2-core machine under load), on the path to the first frame.
    """
    if urlsplit(base_url).scheme.lower() == "http":
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # httpx 0.28 deprecates a CA-bundle path for `verify`; build the context ourselves.
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def why(error: BaseException) -> str:
    """The cause of a transport error in a few words: its type and the OS or TLS message (which carries no secret),
    so an operator can tell a DNS failure from a refused connection from a certificate problem."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {excerpt(text, 120)}" if text else type(error).__name__


class ApiTransport:
    """The httpx client of one cluster API (or node agent) and the plumbing every request goes through; the base of
    :class:`~console.api.client.ClusterClient`."""

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
            verify=_verify_arg(verify, self.base_url),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    @property
    def display_url(self) -> str:
        """The server's URL without secrets, for status lines and logs."""
        return safe_url(self.base_url)

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

    async def _get(
        self, path: str, params: dict[str, Any] | None = None, *, read_timeout: float | None = None
    ) -> httpx.Response:
        """``GET path``, its body read (capped). ``read_timeout``: the longest wait for a byte, when not the client's
        ``timeout`` (a big snapshot's server may build it for longer before its first byte)."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {}
        if read_timeout is not None:
            extra["timeout"] = httpx.Timeout(self.timeout, read=read_timeout)
        try:
            async with self._http.stream("GET", path, params=query, **extra) as response:
                await self._read_body(response, f"GET {path}")
                return response
        except NOT_SENT as error:
            raise ConnectionFailed(f"cannot connect to {self.display_url}: {why(error)}") from None
        except httpx.TransportError as error:
            raise StreamLost(f"GET {path}: connection lost ({why(error)})") from None

    async def _read(self, path: str, model: type[M], **params: Any) -> M:
        result: M = self._decode(await self._get(path, params), model)
        return result

    async def _page(self, path: str, model: type[M], limit: int, params: dict[str, Any]) -> Page[M]:
        """One page of a paged list, the first unless ``params`` carries a ``cursor``; never more than ``limit``
        items, whatever the server sent (a page is read to show a part quickly, so its cost must stay bounded)."""
        page: Page[M] = self._decode(await self._get(path, {**params, "limit": limit}), Page[model])  # type: ignore[valid-type]
        if len(page.items) > limit:
            del page.items[limit:]
        return page

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
