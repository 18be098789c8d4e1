"""A cluster API's first answers, fetched with the standard library in threads while the console imports (issue 15).

Why: from the process start to the first machines on screen (0.6 s at 120 machines, issue 15), about 0.35 s goes to
importing Textual, the contract's models and httpx and to building the app, all on one thread; only then did the
cluster source send its first request, so the round trips and the server's work came after all of it. Started as
soon as the settings are known, ``GET /v1/cluster``, ``/v1/whoami`` and ``/v1/nodes`` (the source's first reads, the
nodes for the preview's question "is the cluster big?") and then ``GET /v1/snapshot`` travel while the imports run:
the server works in its own process, and a thread waiting on a socket does not hold the GIL. The source then reads
them through ``console.api.prefetched``, as if they had just come over the network.

What keeps it the same as the source's own reads:

* the same requests (path, query, headers, token) on the same URL; only a ``200`` is kept, any other answer is asked
  again by the source and handled as always (a ``401`` says so in the same words);
* the snapshot is asked for after the cluster's answer, so its ``seq`` is never older than the one the source opens
  the stream after (it would resync), and it is served only if that cluster answer was: the pair is consistent;
* each answer is served once, and not after :data:`MAX_AGE_S`: a reconnect reads the network;
* the snapshot only for a cluster below the preview's size (``console.sources.cluster_preview``): a big one's
  snapshot would cost this process seconds of work while it imports; its first reads still come early;
* a body over the response cap is not kept (the source's own read then refuses it, in its words).

Only for plain ``http://`` without a proxy in the environment: TLS verification stays the httpx client's own (its CA
bundle, ``--ca-file``, ``--insecure``), and a proxy is httpx's to use; those starts read the network as before.
This module imports nothing outside the standard library (it runs before httpx, pydantic or Textual are loaded).
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import zlib
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["MAX_AGE_S", "Answer", "StartPrefetch", "TimedOut", "prefetch_for"]

ACCEPT_ENCODING = "gzip, deflate"
"""As ``console.api.body.ACCEPT_ENCODING`` (a test holds them equal): the body is kept as sent and inflated, capped,
by the client's own reader."""
PAGE_LIMIT = 500
"""As ``console.api.transport.PAGE_LIMIT``: the first page of ``/v1/nodes`` is asked for as the client asks."""
PREVIEW_MIN_MACHINES = 2_000
"""As ``console.sources.cluster_preview.PREVIEW_MIN_MACHINES``: from this size the source previews before the
snapshot, so the snapshot is not fetched here."""
MAX_AGE_S = 30.0
"""An answer older than this is not served (the source reads the network): only a start's first reads use them."""
TIMEOUT_S = 10.0
"""The client's own timeout (``ApiTransport``)."""
SNAPSHOT_READ_TIMEOUT_S = 120.0
"""As ``console.api.client.SNAPSHOT_READ_TIMEOUT_S``: how long the snapshot's read waits (a test holds them equal)."""
PROXY_VARIABLES = frozenset({"http_proxy", "all_proxy"})
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})
"""Headers about the connection, not the body (the body here is whole, its chunks already joined)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A ``200`` answer as it came: its headers (content coding included) and its raw body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    at: float
    """``time.monotonic()`` when it came."""


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The read timed out (after :data:`TIMEOUT_S`, the client's own timeout): the source's read fails the same way
    instead of waiting as long again. ``timed_out`` says where: ``"connect"`` (nothing was sent) or ``"read"``."""

    timed_out: str


class StartPrefetch:
    """The first reads of one cluster API, started in threads; :meth:`take` hands each out once."""

    def __init__(self, base_url: str, token: str | None, *, max_body_bytes: int) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or ""
        self.port = parts.port or 80
        self.base_path = parts.path.rstrip("/")
        self.max_body_bytes = max_body_bytes
        self._headers = {
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
            "User-Agent": "factory-console",
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self.cluster = self._target("/v1/cluster")
        self.whoami = self._target("/v1/whoami")
        self.nodes = self._target(f"/v1/nodes?limit={PAGE_LIMIT}")
        self.snapshot = self._target("/v1/snapshot")
        self._futures: dict[str, Future[Answer | TimedOut | None]] = {
            target: Future() for target in (self.cluster, self.whoami, self.nodes, self.snapshot)
        }
        self._served: set[str] = set()
        self._lock = threading.Lock()

    def _target(self, path: str) -> str:
        return f"{self.base_path}{path}"

    def start(self) -> StartPrefetch:
        """Send the reads (three threads; the snapshot follows the cluster's answer in its thread)."""
        for target, then in ((self.cluster, self._snapshot_after), (self.whoami, None), (self.nodes, None)):
            thread = threading.Thread(target=self._run, args=(target, then), name="start-prefetch", daemon=True)
            thread.start()
        return self

    def take(self, target: str) -> Future[Answer | TimedOut | None] | None:
        """The answer to ``GET target`` (path and query, as sent), at most once; ``None``: read the network.

        The future may still be running (the source then waits for it rather than asking twice); its result is
        ``None`` when there is nothing to serve (not a ``200``, too big, too old, a failure), a :class:`TimedOut`
        when the server did not answer in time (the source's read then times out too, not after a second wait)."""
        with self._lock:
            future = self._futures.pop(target, None)
            if future is None or (target == self.snapshot and self.cluster not in self._served):
                return None  # the snapshot only with the cluster answer it was asked for after
            self._served.add(target)
        if not future.done():
            return future
        answer = future.result()
        if isinstance(answer, Answer) and time.monotonic() - answer.at > MAX_AGE_S:
            return None
        return None if answer is None else future

    def snapshot_coming(self) -> bool:
        """Is the snapshot's answer on its way or in, and not yet taken? (The event stream waits for it.)"""
        with self._lock:
            future = self._futures.get(self.snapshot)
        return future is not None and (not future.done() or isinstance(future.result(), Answer))

    def _run(self, target: str, then: object) -> None:
        future = self._futures[target]
        answer = self._get_or_none(target)
        future.set_result(answer)
        if isinstance(answer, Answer) and callable(then):
            then()
        elif callable(then):
            self._futures[self.snapshot].set_result(None)

    def _get_or_none(self, target: str) -> Answer | TimedOut | None:
        try:
            return self._get(target)
        except _Timeout as timeout:
            return TimedOut(timeout.where)
        except Exception:  # any other failure: the source asks again and reports it in its own words
            return None

    def _snapshot_after(self) -> None:
        """The snapshot, once the cluster has answered, if the nodes say the cluster is small."""
        snapshot = self._futures[self.snapshot]
        try:
            nodes = self._futures[self.nodes].result(TIMEOUT_S)
            small = isinstance(nodes, Answer) and _machines_below(nodes, PREVIEW_MIN_MACHINES, self.max_body_bytes)
            snapshot.set_result(self._get_or_none(self.snapshot) if small else None)
        except Exception:
            if not snapshot.done():
                snapshot.set_result(None)

    def _get(self, target: str) -> Answer | None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        try:
            try:
                connection.connect()
            except TimeoutError:
                raise _Timeout("connect") from None
            if target == self.snapshot and connection.sock is not None:
                connection.sock.settimeout(max(TIMEOUT_S, SNAPSHOT_READ_TIMEOUT_S))
            try:
                return self._answer(connection, target)
            except TimeoutError:
                raise _Timeout("read") from None
        finally:
            connection.close()

    def _answer(self, connection: http.client.HTTPConnection, target: str) -> Answer | None:
        connection.request("GET", target, headers=self._headers)
        response = connection.getresponse()
        if response.status != 200:
            return None
        body = response.read(self.max_body_bytes + 1)
        if len(body) > self.max_body_bytes:
            return None
        headers = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
        return Answer(response.status, headers, body, time.monotonic())


class _Timeout(Exception):
    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def _machines_below(answer: Answer, limit: int, max_bytes: int) -> bool:
    """Does a first page of ``/v1/nodes`` count fewer than ``limit`` machines in all? (Inflated here if compressed,
    at most ``max_bytes``; anything unexpected says no.)"""
    coding = next((value.strip().lower() for name, value in answer.headers if name.lower() == "content-encoding"), "")
    body = answer.body
    if coding in ("gzip", "deflate"):
        inflater = zlib.decompressobj(31 if coding == "gzip" else 15)
        body = inflater.decompress(body, max_bytes)
        if inflater.unconsumed_tail:
            return False
    elif coding not in ("", "identity"):
        return False
    page = json.loads(body)
    if not isinstance(page, dict) or page.get("next_cursor"):
        return False  # more nodes than a page: not a small cluster
    return sum(int(node.get("machine_count") or 0) for node in page.get("items", [])) < limit


def prefetch_for(
    url: str, token: str | None, max_body_bytes: int, environ: dict[str, str] | None = None
) -> StartPrefetch | None:
    """A started :class:`StartPrefetch` for a cluster API at ``url``, or ``None`` where it does not apply (not plain
    ``http://``, credentials in the URL, or a proxy in the environment)."""
    env = os.environ if environ is None else environ
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or not parts.hostname or parts.username or parts.password:
        return None
    if parts.query or parts.fragment or any(name.lower() in PROXY_VARIABLES and value for name, value in env.items()):
        return None
    return StartPrefetch(url, token, max_body_bytes=max_body_bytes).start()
