"""Benchmark 1, ingest: SSE bytes off the wire -> validated models -> applied to the store, on one core.

The measured path is ``ClusterSource._stream`` itself (console/sources/cluster.py), run on a real source and store:
:meth:`ClusterClient.event_batches` (httpx reading the response body, :class:`console.api.sse.SseFramer` splitting
each chunk into raw ``(id, event, data)`` messages), then per read of the stream :func:`console.api.sse.parse_sse` on
each message (validation into a contract model by the model's pydantic-core validator) and :meth:`Store.apply_events`
on the batch (runs of plain next events in one call; anything else goes through the source's per-item checks), with
the source's own ``asyncio.sleep(0)`` every 256 events. Only the socket is replaced: the response body comes from an
in-memory byte buffer through ``httpx.MockTransport`` in 64 KiB chunks (what a busy loopback read returns), so the
figure is the console's CPU cost per event, not the network's.

The payloads are the simulator's own (``machine.telemetry`` and ``machine.updated`` of a 2,000-machine cluster),
framed by the demo server's :func:`console.demo.feed.sse_frame`, so the bytes are what the wire carries.

Beside it, in the same run and on the same payloads: the parse-only limit (``model_validate_json`` alone, a loop over
ready-made strings; the target's reference), the model's pydantic-core validator alone (``model_validate_json``
without its Python wrapper: what ``parse_sse`` calls), ``parse_sse`` alone (validation + item building, no wire
decoding), the framer alone (``SseFramer.feed`` over the chunks), wire decoding alone (``event_batches``: httpx +
framer, no validation), and the per-event generator :meth:`ClusterClient.events` into the store (built on the same
batches; the source took this route before it applied batches; kept for comparison), to show where the time goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.harness import Target, print_table, print_targets, write_result
from console.api.client import ClusterClient
from console.api.errors import StreamLost
from console.api.models import EVENT_MODELS, Event, Snapshot
from console.api.sse import SseFramer, parse_sse
from console.api.wire import dump_json
from console.demo.feed import sse_frame
from console.sources.cluster import ClusterSource
from console.store.changes import ApplyOutcome
from console.store.store import Store

NAME = "ingest"
SOURCE = "bench"
CHUNK = 64 * 1024
TELEMETRY = "machine.telemetry"
MACHINE = "machine.updated"


@dataclass(slots=True)
class Payloads:
    snapshot: Snapshot
    telemetry: list[str]
    machines: list[str]


def build_payloads(n_telemetry: int, n_machine: int, nodes: int = 20, machines_per_node: int = 100) -> Payloads:
    """Real simulator payloads: telemetry events as emitted, and machine objects as the sim holds them over time."""
    from console.demo.runner import make_simulation
    from console.demo.sim import SimConfig
    from console.demo.sim.clock import DEFAULT_START, SteppedClock
    from console.demo.views import View

    clock = SteppedClock(DEFAULT_START)
    # telemetry_hz counts per wall second at the default speed 20: 20 Hz is one event per machine per sim second.
    sim = make_simulation(SimConfig(nodes=nodes, machines_per_node=machines_per_node, telemetry_hz=20.0), clock)
    view = View(sim)
    snapshot = Snapshot(
        seq=0,
        cluster=view.cluster(0, "bench"),
        nodes=view.nodes(),
        machines=view.machines(),
        jobs=view.jobs(),
        alerts=view.alerts(),
        quality=view.quality(),
    )
    telemetry: list[str] = []
    machine_json: list[str] = []

    def on_event(type_: str, payload: Any) -> None:
        if type_ == TELEMETRY and len(telemetry) < n_telemetry:
            telemetry.append(dump_json(payload))
        elif type_ == MACHINE and len(machine_json) < n_machine:
            machine_json.append(dump_json(payload))

    sim.subscribe(on_event)
    while len(telemetry) < n_telemetry or len(machine_json) < n_machine:
        clock.advance(5.0)
        sim.tick()
        if len(machine_json) < n_machine:  # the sim's own machine.updated are too few: add whole-cluster states
            machine_json.extend(dump_json(m) for m in sim.machines()[: n_machine - len(machine_json)])
    return Payloads(snapshot, telemetry[:n_telemetry], machine_json[:n_machine])


def frames(type_: str, payloads: list[str], first_seq: int = 1) -> bytes:
    """The SSE bytes of these payloads, numbered from ``first_seq``, as the demo server writes them."""
    return b"".join(sse_frame(type_, data, seq) for seq, data in enumerate(payloads, first_seq))


def _transport(body: bytes) -> httpx.MockTransport:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), CHUNK):
            yield body[start : start + CHUNK]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())

    return httpx.MockTransport(handler)


def fresh_store(snapshot: Snapshot) -> Store:
    store = Store()
    store.apply_snapshot(SOURCE, snapshot)
    store.take_changes()
    return store


async def full_path(body: bytes, store: Store, expected: int) -> float:
    """Seconds for the source's own loop (``ClusterSource._stream``) to stream ``body`` into the store; checks that
    every event was applied. Only the socket is replaced (``httpx.MockTransport``)."""
    client = ClusterClient("http://bench.invalid", transport=_transport(body))
    source = ClusterSource(SOURCE, client, store)
    status = store.sources[SOURCE]
    before = status.events_total
    start = time.perf_counter()
    with contextlib.suppress(StreamLost):  # the buffer ended: the client reports that as a lost stream
        await source._stream()
    elapsed = time.perf_counter() - start
    await client.aclose()
    applied = status.events_total - before - status.ignored_total
    if applied != expected:
        raise RuntimeError(f"ingest applied {applied} of {expected} events")
    return elapsed


async def events_path(body: bytes, store: Store, expected: int) -> float:
    """Seconds through the per-event generator :meth:`ClusterClient.events` (same batches, one async hop per event)."""
    applied = 0
    client = ClusterClient("http://bench.invalid", transport=_transport(body))
    start = time.perf_counter()
    try:
        async for item in client.events(after=0):
            if type(item) is Event and store.apply_event(SOURCE, item) is ApplyOutcome.APPLIED:
                applied += 1
    except StreamLost:
        pass
    elapsed = time.perf_counter() - start
    await client.aclose()
    if applied != expected:
        raise RuntimeError(f"events() path applied {applied} of {expected} events")
    return elapsed


async def wire_only(body: bytes, expected: int) -> float:
    """Seconds for ``event_batches`` (httpx + SseFramer) to turn ``body`` into raw messages (no validation)."""
    count = 0
    client = ClusterClient("http://bench.invalid", transport=_transport(body))
    start = time.perf_counter()
    try:
        async for batch in client.event_batches(after=0):
            count += len(batch)
    except StreamLost:
        pass
    elapsed = time.perf_counter() - start
    await client.aclose()
    if count != expected:
        raise RuntimeError(f"wire decoding saw {count} of {expected} events")
    return elapsed


def framer_only(body: bytes, expected: int) -> float:
    """Seconds for ``SseFramer.feed`` alone over the body in 64 KiB chunks (no httpx, no validation)."""
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    feed = SseFramer().feed
    count = 0
    start = time.perf_counter()
    for chunk in chunks:
        count += len(feed(chunk))
    elapsed = time.perf_counter() - start
    if count != expected:
        raise RuntimeError(f"framer saw {count} of {expected} events")
    return elapsed


def parse_only(type_: str, payloads: list[str]) -> float:
    """Seconds for ``model_validate_json`` alone over the payloads: the limit of any ingest path."""
    validate = EVENT_MODELS[type_].model_validate_json
    start = time.perf_counter()
    for data in payloads:
        validate(data)
    return time.perf_counter() - start


def validator_only(type_: str, payloads: list[str]) -> float:
    """Seconds for the model's pydantic-core validator alone (``model_validate_json`` minus its Python wrapper)."""
    validate = EVENT_MODELS[type_].__pydantic_validator__.validate_json
    start = time.perf_counter()
    for data in payloads:
        validate(data)
    return time.perf_counter() - start


def parse_sse_only(type_: str, payloads: list[str]) -> float:
    ids = [str(i) for i in range(1, len(payloads) + 1)]
    start = time.perf_counter()
    for event_id, data in zip(ids, payloads, strict=True):
        parse_sse(event_id, type_, data)
    return time.perf_counter() - start


def _best_and_median(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        gc.collect()
        times.append(fn())
    return min(times), statistics.median(times)


def measure_type(type_: str, payloads: Payloads, repeats: int) -> dict[str, Any]:
    data = payloads.telemetry if type_ == TELEMETRY else payloads.machines
    n = len(data)
    body = frames(type_, data)
    results: dict[str, Any] = {"events": n, "wire_bytes": len(body), "mean_event_bytes": round(len(body) / n, 1)}
    stages: dict[str, tuple[float, float]] = {
        "parse_only": _best_and_median(lambda: parse_only(type_, data), repeats),
        "validator_only": _best_and_median(lambda: validator_only(type_, data), repeats),
        "parse_sse": _best_and_median(lambda: parse_sse_only(type_, data), repeats),
        "framer": _best_and_median(lambda: framer_only(body, n), repeats),
        "wire_decode": _best_and_median(lambda: asyncio.run(wire_only(body, n)), repeats),
        "events_path": _best_and_median(
            lambda: asyncio.run(events_path(body, fresh_store(payloads.snapshot), n)), repeats
        ),
        "full_path": _best_and_median(lambda: asyncio.run(full_path(body, fresh_store(payloads.snapshot), n)), repeats),
    }
    for stage, (best, median) in stages.items():
        results[stage] = {
            "events_per_s_median": n / median,
            "events_per_s_best": n / best,
            "us_per_event": median / n * 1e6,
        }
    results["full_over_validator_only"] = (  # for information: the target is judged against model_validate_json
        results["full_path"]["events_per_s_median"] / results["validator_only"]["events_per_s_median"]
    )
    results["full_over_parse_only"] = (
        results["full_path"]["events_per_s_median"] / results["parse_only"]["events_per_s_median"]
    )
    return results


def measure(
    n_telemetry: int, n_machine: int, repeats: int, nodes: int = 20, machines_per_node: int = 100
) -> dict[str, Any]:
    payloads = build_payloads(n_telemetry, n_machine, nodes, machines_per_node)
    per_type = {type_: measure_type(type_, payloads, repeats) for type_ in (TELEMETRY, MACHINE)}
    tele, mach = per_type[TELEMETRY], per_type[MACHINE]
    targets = [
        Target("telemetry events/s, wire to store", 100_000, tele["full_path"]["events_per_s_median"], "ev/s", True),
        Target("machine.updated/s, wire to store", 50_000, mach["full_path"]["events_per_s_median"], "ev/s", True),
        Target("telemetry: share of parse-only limit", 25, tele["full_over_parse_only"] * 100, "%", True),
        Target("machine.updated: share of parse-only limit", 25, mach["full_over_parse_only"] * 100, "%", True),
    ]
    return {
        "method": (
            "ClusterClient.event_batches() (httpx + SseFramer) over httpx.MockTransport streaming an in-memory SSE "
            "buffer in 64 KiB chunks, each message through parse_sse and Store.apply_event with asyncio.sleep(0) "
            "every 256 events, as ClusterSource._stream does (store preloaded with the snapshot); one process, one "
            "thread; "
            f"median of {repeats} runs (best also given)"
        ),
        "cluster": {"nodes": nodes, "machines": nodes * machines_per_node},
        "results": per_type,
        "targets": targets,
    }


def report(result: dict[str, Any]) -> None:
    rows = []
    for type_, r in result["results"].items():
        for stage, label in (
            ("parse_only", "model_validate_json only (limit)"),
            ("validator_only", "pydantic-core validator only"),
            ("parse_sse", "parse_sse only"),
            ("framer", "SseFramer.feed only"),
            ("wire_decode", "event_batches only (httpx + framer)"),
            ("events_path", "events() per-event generator -> store"),
            ("full_path", "event_batches -> parse_sse -> store (source path)"),
        ):
            s = r[stage]
            rows.append([type_, label, s["events_per_s_median"], s["events_per_s_best"], round(s["us_per_event"], 2)])
    print_table(
        f"ingest ({result['cluster']['machines']:,} machines; one core)",
        ["event", "stage", "events/s (median)", "events/s (best)", "µs/event"],
        rows,
    )
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    result = measure(
        n_telemetry=30_000 if quick else 200_000, n_machine=15_000 if quick else 100_000, repeats=3 if quick else 5
    )
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
