"""The soak test (``make soak``; not in the default suite): a long run against the simulator with the stream cut often.

``SOAK_SECONDS`` (default 1800) of a sped-up simulated cluster, the console reading it through a proxy that, every
``SOAK_CUT_EVERY`` seconds (default 20) at a random moment, cuts the stream: in the middle of whatever bytes are
passing (FIN or TCP reset, so usually mid-event), or server-side between events (``DemoServer.drop_streams``). At the
end the simulated clock is frozen, the console catches up, and its tables must equal a fresh ``/v1/snapshot`` at the
same ``seq``; every ``seq`` must have been taken once; and the memory held by the client side (store, source, client,
httpx) must not grow after warm-up beyond a bound (tracemalloc, filtered to those files; RSS is reported too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import struct
import time
import tracemalloc
from datetime import datetime

import pytest

from console.api.client import ClusterClient
from console.demo.embedded import start_demo
from console.demo.sim.clock import DEFAULT_START, WallClock
from tests.demo_server import test_config
from tests.faults.harness import Recorder, check_invariants, running_source, wait_for

pytestmark = pytest.mark.soak

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "1800"))
CUT_EVERY = float(os.environ.get("SOAK_CUT_EVERY", "20"))
MEMORY_BOUND = int(os.environ.get("SOAK_MEMORY_BOUND_MB", "16")) * 1024 * 1024
CLIENT_FILES = ("*console/store/*", "*console/api/*", "*console/sources/*", "*httpx*", "*httpcore*", "*h11*")


class FreezableClock(WallClock):
    """A sped-up wall clock that can be stopped, so the end of the run has a stable ``seq`` to compare at."""

    def __init__(self, start: datetime, speed: float) -> None:
        super().__init__(start, speed)
        self.frozen: datetime | None = None

    def now(self) -> datetime:
        return self.frozen if self.frozen is not None else super().now()

    def freeze(self) -> None:
        self.frozen = super().now()


class CuttingProxy:
    """A TCP proxy that can cut every open connection at a random point of the bytes passing through."""

    def __init__(self, upstream_port: int, rng: random.Random) -> None:
        self.upstream_port = upstream_port
        self.rng = rng
        self.port = 0
        self.cuts = 0
        self._pending_cut = False
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._clients):
            writer.transport.abort()

    def cut_soon(self) -> None:
        """The next bytes from the server to any client are cut part-way and the connection ended."""
        self._pending_cut = True

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._clients.add(writer)

        async def upstream() -> None:
            with contextlib.suppress(Exception):
                while data := await reader.read(65536):
                    up_writer.write(data)
                    await up_writer.drain()

        task = asyncio.create_task(upstream())
        try:
            while data := await up_reader.read(65536):
                if self._pending_cut and len(data) > 1:
                    self._pending_cut = False
                    self.cuts += 1
                    writer.write(data[: self.rng.randrange(1, len(data))])
                    await writer.drain()
                    if self.rng.random() < 0.5:
                        sock = writer.get_extra_info("socket")
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            task.cancel()
            self._clients.discard(writer)
            up_writer.transport.abort()
            writer.transport.abort()


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def client_memory() -> int:
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, p) for p in CLIENT_FILES])
    return sum(stat.size for stat in snapshot.statistics("filename"))


async def test_soak_with_stream_cuts() -> None:
    rng = random.Random(int(os.environ.get("SOAK_SEED", "7")))
    config = test_config(seed=7, speed=30.0, telemetry_hz=4.0)
    clock = FreezableClock(config.start or DEFAULT_START, speed=30.0)
    server = start_demo(config, clock=clock, tick_interval=0.1)
    proxy = CuttingProxy(int(server.url.rsplit(":", 1)[1]), rng)
    await proxy.start()
    tracemalloc.start(1)
    store = Recorder()
    samples: list[tuple[float, int, int]] = []
    server_cuts = 0
    try:
        async with running_source(f"http://127.0.0.1:{proxy.port}", store=store, timeout=10) as run:
            await run.until_state("live", timeout=30)
            started = time.monotonic()
            warm_until = started + max(10.0, SOAK_SECONDS * 0.25)
            baseline: int | None = None
            next_cut = started + rng.uniform(0.3, 1.0) * CUT_EVERY
            next_sample = started
            while (now := time.monotonic()) < started + SOAK_SECONDS:
                if now >= next_cut:
                    if (proxy.cuts + server_cuts) % 3 != 2:  # two cuts mid-bytes, then one server-side, ...
                        proxy.cut_soon()
                    else:
                        server_cuts += await asyncio.to_thread(server.drop_streams)
                    next_cut = now + rng.uniform(0.3, 1.0) * CUT_EVERY
                if now >= next_sample:
                    if baseline is None and now >= warm_until:
                        baseline = client_memory()
                    samples.append((now - started, client_memory(), rss_bytes()))
                    next_sample = now + max(2.0, SOAK_SECONDS / 60)
                run.assert_alive()
                await asyncio.sleep(0.2)
            clock.freeze()
            await asyncio.sleep(0.5)  # a last tick up to the frozen time
            final_seq = await asyncio.to_thread(server.call, lambda: server.feed.seq)
            await wait_for(
                lambda: run.status.seq == final_seq and run.status.state == "live", 60, f"catch up to {final_seq}"
            )
            final_memory = client_memory()
            async with ClusterClient(server.url) as fresh_client:
                snapshot = await fresh_client.snapshot()
            assert snapshot.seq == final_seq
            fresh = Recorder()
            fresh.apply_snapshot("c", snapshot)
            ours, theirs = store.tables_as_json(), fresh.tables_as_json()
            for name in ("nodes", "machines", "jobs", "alerts", "quality"):
                assert ours[name] == theirs[name], f"table {name} differs from a fresh snapshot"
            check_invariants(store)
            taken = store.taken
            assert len(taken) == len(set(taken)), "an event was applied twice"
            if run.source.resyncs == 0:
                first = store.snapshot_seqs[0]
                assert taken == list(range(first + 1, final_seq + 1)), "an event was lost"
            print(
                f"\nsoak: {SOAK_SECONDS:.0f}s, {len(taken)} events, proxy cuts {proxy.cuts}, server cuts "
                f"{server_cuts}, resyncs {run.source.resyncs}, malformed {run.status.malformed_total}, "
                f"client memory baseline {baseline} final {final_memory}, RSS {[s[2] // 2**20 for s in samples]} MB"
            )
            assert proxy.cuts + server_cuts >= max(1, int(SOAK_SECONDS / CUT_EVERY) - 1)
            assert run.status.malformed_total == 0  # a cut event is never half-applied
            assert baseline is not None
            assert final_memory - baseline < MEMORY_BOUND, f"client memory grew {final_memory - baseline} bytes"
    finally:
        tracemalloc.stop()
        await proxy.stop()
        await asyncio.to_thread(server.stop)
