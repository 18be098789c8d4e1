"""The start's prefetch (issue 15): a cluster API's first reads sent with the standard library while the console
imports, then served once each to the cluster source's client as the network would have answered them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

import console.start_prefetch as start_prefetch
from console.api.client import ClusterClient
from console.api.errors import StreamLost, Unauthorized
from console.api.prefetched import EVENTS_AFTER_SNAPSHOT_S, PrefetchedTransport, prefetched_transport
from console.start_prefetch import StartPrefetch, prefetch_for

CAP = 64 * 1024 * 1024


class Counting(httpx.AsyncBaseTransport):
    """The real transport, counting what reached it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def settled(prefetch: StartPrefetch) -> StartPrefetch:
    """Wait until every read has its answer (or none), so a test does not depend on how fast they came."""
    for future in list(prefetch._futures.values()):
        future.result(30)
    return prefetch


def client_on(prefetch: StartPrefetch, url: str, token: str | None = None) -> tuple[ClusterClient, Counting]:
    transport = prefetched_transport(prefetch, url, True)
    counting = Counting(transport.inner)
    transport.inner = counting
    return ClusterClient(url, token=token, transport=transport), counting


def test_the_first_reads_are_served_once_from_the_prefetch_and_equal_the_network(live_server: Any) -> None:
    server = live_server()
    prefetch = settled(prefetch_for(server.url, None, CAP) or pytest.fail("no prefetch for a plain http:// URL"))

    async def go() -> None:
        client, counting = client_on(prefetch, server.url)
        plain = ClusterClient(server.url)
        async with client, plain:
            got = (await client.cluster(), await client.whoami(), await client.nodes(), await client.snapshot())
            assert counting.paths == [], "all four answered from the prefetch"
            assert isinstance(client._http._transport, PrefetchedTransport)
            assert client._http._transport.served == 4
            assert got == (await plain.cluster(), await plain.whoami(), await plain.nodes(), await plain.snapshot())
            await client.cluster()
            assert counting.paths == ["/v1/cluster"], "once each: the next read goes to the server"

    asyncio.run(go())


def test_the_snapshot_is_served_only_with_the_cluster_answer_it_followed(live_server: Any) -> None:
    server = live_server()
    prefetch = settled(prefetch_for(server.url, None, CAP) or pytest.fail("no prefetch"))
    assert prefetch.take(prefetch.snapshot) is None, "without the cluster answer it could be older than the stream"


def test_a_big_cluster_gets_its_first_reads_but_no_snapshot(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = live_server()  # 18 machines: "big" from 10 here
    monkeypatch.setattr(start_prefetch, "PREVIEW_MIN_MACHINES", 10)
    prefetch = settled(prefetch_for(server.url, None, CAP) or pytest.fail("no prefetch"))
    assert prefetch.take(prefetch.cluster) is not None
    assert prefetch.take(prefetch.nodes) is not None
    assert prefetch.take(prefetch.snapshot) is None, "a big cluster previews first: its snapshot is the source's"


def test_an_answer_other_than_200_is_asked_again_and_reported_as_ever(live_server: Any) -> None:
    server = live_server(tokens=["alice:operator:s3cret"])
    prefetch = settled(prefetch_for(server.url, "wrong", CAP) or pytest.fail("no prefetch"))

    async def go() -> None:
        client, counting = client_on(prefetch, server.url, token="wrong")
        async with client:
            with pytest.raises(Unauthorized):
                await client.cluster()
        assert counting.paths == ["/v1/cluster"]

    asyncio.run(go())


def test_an_old_answer_is_not_served(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = live_server()
    prefetch = settled(prefetch_for(server.url, None, CAP) or pytest.fail("no prefetch"))
    monkeypatch.setattr(start_prefetch, "MAX_AGE_S", -1.0)
    assert prefetch.take(prefetch.cluster) is None


def test_a_body_over_the_cap_is_not_kept(live_server: Any) -> None:
    server = live_server()
    prefetch = settled(prefetch_for(server.url, None, 100) or pytest.fail("no prefetch"))
    assert prefetch.take(prefetch.cluster) is None, "the client's own read refuses it, in its words"


@pytest.mark.parametrize(
    ("url", "environ"),
    [
        ("https://cluster.example:8443", {}),
        ("http://user:secret@cluster.example", {}),
        ("http://cluster.example/?x=1", {}),
        ("http://cluster.example", {"HTTP_PROXY": "http://proxy:3128"}),
        ("http://cluster.example", {"all_proxy": "socks5://proxy:1080"}),
        ("http://cluster.example:99999", {}),
    ],
)
def test_where_it_does_not_apply(url: str, environ: dict[str, str]) -> None:
    assert prefetch_for(url, None, CAP, environ) is None


def test_a_base_path_is_kept_in_every_read() -> None:
    prefetch = StartPrefetch("http://cluster.example/factory/", "t", max_body_bytes=CAP)
    assert (prefetch.cluster, prefetch.nodes) == ("/factory/v1/cluster", "/factory/v1/nodes?limit=500")


def test_it_asks_as_the_client_asks() -> None:
    from console.api.body import ACCEPT_ENCODING
    from console.api.client import SNAPSHOT_READ_TIMEOUT_S
    from console.api.transport import PAGE_LIMIT
    from console.sources.cluster_preview import PREVIEW_MIN_MACHINES

    assert start_prefetch.SNAPSHOT_READ_TIMEOUT_S == SNAPSHOT_READ_TIMEOUT_S
    assert start_prefetch.ACCEPT_ENCODING == ACCEPT_ENCODING
    assert start_prefetch.PAGE_LIMIT == PAGE_LIMIT
    assert start_prefetch.PREVIEW_MIN_MACHINES == PREVIEW_MIN_MACHINES


START_PATH = """
import json, sys
from console.cli import build_run_parser
from console.launch import build_settings, start_prefetches
settings = build_settings(build_run_parser().parse_args(["--api", sys.argv[1]]), {})
started = start_prefetches(settings, {})
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"textual", "httpx", "rich"})
print(json.dumps({"started": started, "answers": settings.sources[0].start_answers is not None, "loaded": loaded}))
"""


def test_the_launch_sends_them_before_textual_or_httpx_is_imported(live_server: Any, tmp_path: Any) -> None:
    """Run in a fresh interpreter: what is in ``sys.modules`` when the reads go out."""
    server = live_server()
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", START_PATH, server.url], capture_output=True, text=True, check=True, env=env, timeout=60
    )
    assert json.loads(out.stdout) == {"started": 1, "answers": True, "loaded": []}


def test_the_source_boots_from_the_prefetch(live_server: Any) -> None:
    """The whole bootstrap through the cluster adapter: the store gets the server's snapshot, the four first reads
    from the prefetch, and the stream from the server, opened only after the snapshot's head start (httpx's own
    transport built only then)."""
    from console.server_clock import ServerClock
    from console.settings import Settings, SourceSpec
    from console.sources.adapter import AdapterContext
    from console.sources.cluster_adapter import ClusterAdapter
    from console.store.store import Store

    server = live_server()
    prefetch = settled(prefetch_for(server.url, None, CAP) or pytest.fail("no prefetch"))
    store = Store()
    spec = SourceSpec("cluster", "cluster", server.url, start_answers=prefetch)
    context = AdapterContext(store, Settings(sources=[spec]), ServerClock(), lambda kind: 1)

    async def go() -> None:
        adapter = ClusterAdapter.from_spec(spec, context)
        transport = adapter.client._http._transport
        assert isinstance(transport, PrefetchedTransport) and transport._inner is None, "httpcore not loaded yet"
        reached: list[tuple[str, float]] = []
        loop = asyncio.get_running_loop()

        class Stamped(Counting):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                reached.append((request.url.path, loop.time()))
                return await super().handle_async_request(request)

        transport.inner = Stamped(prefetched_transport(prefetch, server.url, True).inner)
        task = asyncio.create_task(adapter.run())
        for _ in range(600):
            if store.machines and store.sources["cluster"].state == "live" and reached:
                break
            await asyncio.sleep(0.05)
        adapter.stop()
        await asyncio.gather(task, return_exceptions=True)
        assert transport.served == 4
        assert transport._snapshot_at is not None
        assert reached and reached[0][0] == "/v1/events", "the stream is the first read for the server"
        head_start = transport._snapshot_at + EVENTS_AFTER_SNAPSHOT_S
        assert reached[0][1] >= head_start, "opened after the snapshot's head start"
        await adapter.aclose()

    asyncio.run(go())
    snapshot = httpx.get(f"{server.url}/v1/snapshot").json()
    assert set(store.machines) == {m["id"] for m in snapshot["machines"]}


def test_a_read_that_timed_out_fails_as_a_timeout_not_after_a_second_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that accepts and never answers: the prefetch's read times out (the client's own timeout), and the
    source's read fails as its own would have, with no second wait on the network."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setattr(start_prefetch, "TIMEOUT_S", 0.2)
    try:
        prefetch = settled(prefetch_for(url, None, CAP) or pytest.fail("no prefetch"))

        async def go() -> None:
            client, counting = client_on(prefetch, url)
            async with client:
                with pytest.raises(StreamLost, match="ReadTimeout"):
                    await client.cluster()
            assert counting.paths == [], "not asked again"

        asyncio.run(go())
    finally:
        listener.close()
