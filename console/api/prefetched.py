"""An httpx transport that answers a start's first reads from what was fetched while the console imported.

``console.start_prefetch`` sends a cluster API's first reads (``/v1/cluster``, ``/v1/whoami``, the first page of
``/v1/nodes``, ``/v1/snapshot``) in threads before Textual and the models are loaded (issue 15). The cluster
source's client is built on this transport, which hands it those answers, each once, as httpx responses with the
headers and the raw body the server sent (so the client's own reader inflates and caps it as always); every other
request, and any of those the prefetch has nothing for, goes to the real transport.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any, Protocol

import httpx

from console.api.transport import _verify_arg

__all__ = ["PrefetchedAnswers", "PrefetchedTransport", "prefetched_transport"]


class PrefetchedAnswers(Protocol):
    """What :class:`~console.start_prefetch.StartPrefetch` offers: each answer once, by request target; an answer
    has ``status``, ``headers`` and ``body``, or ``timed_out`` (``"connect"`` or ``"read"``)."""

    def take(self, target: str) -> Future[Any] | None: ...


class PrefetchedTransport(httpx.AsyncBaseTransport):
    """Serves a ``GET`` the prefetch has an answer for; sends everything else through ``inner``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, answers: PrefetchedAnswers) -> None:
        self.inner = inner
        self.answers = answers
        self.served = 0
        """How many requests were answered from the prefetch (for tests and diagnostics)."""

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
                return httpx.Response(
                    answer.status, headers=answer.headers, stream=httpx.ByteStream(answer.body), request=request
                )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def prefetched_transport(answers: PrefetchedAnswers, base_url: str, verify: bool | str) -> PrefetchedTransport:
    """The transport of a cluster client at ``base_url``: the prefetch's answers over the transport httpx would have
    built itself for this ``verify`` (``httpx.AsyncClient`` uses its ``transport`` argument instead of its own)."""
    return PrefetchedTransport(httpx.AsyncHTTPTransport(verify=_verify_arg(verify, base_url)), answers)
