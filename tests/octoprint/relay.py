"""Helpers of the live OctoPrint tests: a TCP relay the push socket goes through (to refuse and drop it), and an HTTP
client that counts the source's REST requests (to show nothing is polled while the socket is up)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import httpx

from tests.octoprint.octoprint_server import free_port

__all__ = ["CountingClient", "Relay"]


class Relay:
    """A TCP relay on a port of its own to OctoPrint's: the socket goes through it, REST does not. ``stop()`` closes
    it and every connection through it (the socket drops, new ones are refused); ``start()`` opens it again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


class CountingClient:
    """An HTTP client that counts the source's requests by method and path."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.http = httpx.AsyncClient(timeout=5.0, event_hooks={"request": [self._count]})

    async def _count(self, request: httpx.Request) -> None:
        self.counts[f"{request.method} {request.url.path}"] += 1

    @property
    def polls(self) -> int:
        return self.counts["GET /api/printer"] + self.counts["GET /api/job"]
