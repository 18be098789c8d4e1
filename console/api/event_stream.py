"""The event stream of a cluster API: ``GET /v1/events`` read as raw SSE messages or as stream items.

Split out of ``console.api.client`` because reading a long-lived stream has rules of its own that the one-shot reads
and commands do not: resume with ``Last-Event-ID``, a silence timeout (no byte for that long means the stream is
dead), a body inflated piece by piece (``console.api.body.decoded_chunks``) and cut into events by the
:class:`~console.api.sse.SseFramer` with a cap per event, and an end that is always an exception, never silence.
:class:`EventStreamClient` adds these to the plumbing of :class:`~console.api.transport.ApiTransport`;
:class:`~console.api.client.ClusterClient` is built on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import httpx

from console.api.body import decoded_chunks
from console.api.errors import ConnectionFailed, ProtocolError, StreamLost
from console.api.sse import SseFramer, SseMessage, StreamItem, excerpt, parse_sse
from console.api.transport import NOT_SENT, ApiTransport, why

__all__ = ["DEFAULT_SILENCE_TIMEOUT", "EventStreamClient"]

DEFAULT_SILENCE_TIMEOUT = 45.0
"""The contract: no byte for 45 s (keep-alive comments count) means the stream is dead."""


class EventStreamClient(ApiTransport):
    """The event stream of one cluster API (or node agent), on the plumbing of :class:`ApiTransport`."""

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
        except NOT_SENT as error:
            raise ConnectionFailed(f"cannot connect to {self.display_url}: {why(error)}") from None
        except httpx.ReadTimeout:
            raise StreamLost(f"no byte from {self.display_url} for {silence_timeout:g} s") from None
        except httpx.TransportError as error:
            raise StreamLost(f"event stream broke: {why(error)}") from None
        raise StreamLost("the server ended the event stream")
