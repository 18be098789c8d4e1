"""An httpx transport that answers a start's first reads from what was fetched while the console imported.

``console.start_prefetch`` sends a cluster API's first reads (``/v1/cluster``, ``/v1/whoami``, the first page of
``/v1/nodes``, ``/v1/snapshot``) in threads before Textual and the models are loaded (issue 15). The cluster
source's client is built on this transport, which hands it those answers, each once, as httpx responses with the
headers and the raw body the server sent (so the client's own reader inflates and caps it as always); every other
request, and any of those the prefetch has nothing for, goes to the real transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

import httpx

from console.api.transport import _verify_arg

__all__ = ["PrefetchedAnswers", "PrefetchedTransport", "prefetched_transport"]


EVENTS_AFTER_SNAPSHOT_S = 0.1
"""The event stream is opened this long after the prefetched snapshot was served (see :class:`PrefetchedTransport`)."""
WAIT_FOR_SNAPSHOT_S = 2.0
"""The longest the event stream waits for a prefetched snapshot that is still on its way."""


class PrefetchedAnswers(Protocol):
    """What :class:`~console.start_prefetch.StartPrefetch` offers: each answer once, by request target; an answer
    has ``status``, ``headers`` and ``body``, or ``timed_out`` (``"connect"`` or ``"read"``)."""

    def take(self, target: str) -> Future[Any] | None: ...

    def snapshot_coming(self) -> bool: ...


class PrefetchedTransport(httpx.AsyncBaseTransport):
    """Serves a ``GET`` the prefetch has an answer for; sends everything else through ``inner``.

    Two things keep the work the first frame does not need after it (issue 15): ``inner`` (httpx's transport, whose
    first use imports httpcore: ~28 ms of CPU) is built at the first request that needs the network, and while the
    prefetched snapshot is still to be served a read for the network (the event stream, which the source opens
    first) waits for it, and every such read waits until :data:`EVENTS_AFTER_SNAPSHOT_S` after it was served, so the
    snapshot is applied and drawn before a connection is set up (the stream resumes from the cluster's ``seq``
    whenever it opens: nothing is lost). Commands (not ``GET``) never wait."""

    def __init__(self, inner: Callable[[], httpx.AsyncBaseTransport], answers: PrefetchedAnswers) -> None:
        self._make_inner = inner
        self._inner: httpx.AsyncBaseTransport | None = None
        self.answers = answers
        self.served = 0
        """How many requests were answered from the prefetch (for tests and diagnostics)."""
        self._snapshot_at: float | None = None
        """When the prefetched snapshot was served (the loop's clock)."""

    @property
    def inner(self) -> httpx.AsyncBaseTransport:
        """The transport to the server, built when first needed."""
        if self._inner is None:
            self._inner = self._make_inner()
        return self._inner

    @inner.setter
    def inner(self, transport: httpx.AsyncBaseTransport) -> None:
        self._inner = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            pending = self.answers.take(request.url.raw_path.decode("ascii"))
            answer = None if pending is None else await asyncio.wrap_future(pending)
            timed_out = getattr(answer, "timed_out", None)
            if timed_out is not None:  # as the server would have timed out this read: fail the same way, once
                error = httpx.ConnectTimeout if timed_out == "connect" else httpx.ReadTimeout
                raise error("timed out", request=request)
            if answer is not None:
                self.served += 1
                if request.url.path.endswith("/v1/snapshot"):
                    self._snapshot_at = asyncio.get_running_loop().time()
                return httpx.Response(
                    answer.status, headers=answer.headers, stream=httpx.ByteStream(answer.body), request=request
                )
            await self._after_snapshot()
        return await self.inner.handle_async_request(request)

    async def _after_snapshot(self) -> None:
        """A read for the network waits for a prefetched snapshot still to be served, and until
        :data:`EVENTS_AFTER_SNAPSHOT_S` after it was (the stream, and reads the first frame sets off, such as the
        app's first read of the server's audit trail)."""
        loop = asyncio.get_running_loop()
        if self.answers.snapshot_coming():
            deadline = loop.time() + WAIT_FOR_SNAPSHOT_S
            # Polled: the answer is in another thread's hands until the loader takes it (2 s at most, 10 ms a turn).
            while self.answers.snapshot_coming() and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            if self._snapshot_at is None:
                self._snapshot_at = loop.time()
        if self._snapshot_at is not None:
            wait = self._snapshot_at + EVENTS_AFTER_SNAPSHOT_S - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def prefetched_transport(answers: PrefetchedAnswers, base_url: str, verify: bool | str) -> PrefetchedTransport:
    """The transport of a cluster client at ``base_url``: the prefetch's answers over the transport httpx would have
    built itself for this ``verify`` (``httpx.AsyncClient`` uses its ``transport`` argument instead of its own)."""
    return PrefetchedTransport(lambda: httpx.AsyncHTTPTransport(verify=_verify_arg(verify, base_url)), answers)
