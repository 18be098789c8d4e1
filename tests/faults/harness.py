"""Shared checks of the fault suite: run a ClusterSource against a server and prove what the store ends up with.

Every fault test asks the same questions, so they live here once:

* is the source still running (its task neither done nor crashed)?
* did it take every ``seq`` exactly once, in order (:class:`Recorder.taken`)?
* does the store equal a fresh snapshot of the server (what a console started now would show)?
* are the store's indexes consistent with its tables (nothing corrupted)?
* which states did the source go through, and with what retry delays (:class:`Recorder.states`)?
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.content import Content

from console.api.client import ClusterClient
from console.api.models import Event, Snapshot
from console.api.sse import MalformedEvent
from console.sources.cluster import ClusterSource
from console.store import ApplyOutcome, Store
from widgets.safe_text import clean, content, plain

SOURCE = "c"

# What must never survive widgets.safe_text.clean: C0 (all of it, tab and newline included), DEL, C1, bidi
# embeddings/overrides/isolates/marks, zero-width characters, line/paragraph separators, BOM.
FORBIDDEN = frozenset(
    [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0))]
    + [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)]
    + [chr(c) for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x2028, 0x2029)]
)


class Recorder(Store):
    """A real store that also remembers every ``seq`` it took and every state the source set."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[int] = []
        self.states: list[tuple[str, str | None, float | None]] = []
        """(state, reason, delay until retry in s or None) in order."""
        self.snapshot_seqs: list[int] = []

    def apply_event(self, source_id: str, event: Event) -> ApplyOutcome:
        outcome = super().apply_event(source_id, event)
        if outcome in (ApplyOutcome.APPLIED, ApplyOutcome.IGNORED):
            self.taken.append(event.seq)
        return outcome

    def apply_events(self, source_id: str, items: list[Any], start: int = 0) -> int:
        end = super().apply_events(source_id, items, start)
        self.taken.extend(item.seq for item in items[start:end])
        return end

    def record_malformed(self, source_id: str, item: MalformedEvent) -> ApplyOutcome:
        outcome = super().record_malformed(source_id, item)
        if outcome is ApplyOutcome.IGNORED and item.seq is not None:
            self.taken.append(item.seq)
        return outcome

    def apply_snapshot(self, source_id: str, snapshot: Snapshot) -> None:
        super().apply_snapshot(source_id, snapshot)
        self.snapshot_seqs.append(snapshot.seq)

    def set_source_state(
        self, source_id: str, state: str, reason: str | None = None, retry_at: float | None = None
    ) -> None:
        delay = None if retry_at is None else retry_at - time.monotonic()
        self.states.append((str(state), reason, delay))
        super().set_source_state(source_id, state, reason, retry_at)

    def state_names(self) -> list[str]:
        return [state for state, _, _ in self.states]


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@dataclass
class Running:
    source: ClusterSource
    task: asyncio.Task[None]
    store: Recorder
    client: ClusterClient

    @property
    def status(self) -> Any:
        return self.store.sources[self.source.source_id]

    def assert_alive(self) -> None:
        """The source's loop still runs: it neither ended nor crashed."""
        assert not self.task.done(), f"source task ended: {self.task!r}"

    async def until_seq(self, seq: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await wait_for(lambda: self.status.seq == seq, timeout, f"seq {seq} (at {self.status.seq})")

    async def until_state(self, state: str, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await wait_for(lambda: self.status.state == state, timeout, f"state {state} (is {self.status.state})")

    async def until_live_at(self, seq: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await wait_for(
            lambda: self.status.seq == seq and self.status.state == "live",
            timeout,
            f"live at {seq} (is {self.status.state} at {self.status.seq})",
        )


@contextlib.asynccontextmanager
async def running_source(
    url: str,
    *,
    store: Recorder | None = None,
    source_id: str = SOURCE,
    silence_timeout: float = 1.0,
    timeout: float = 2.0,  # noqa: ASYNC109 - the client's HTTP timeout, not this function's
    stale_after: float = 30.0,
    verify: bool | str = True,
    backoff_base: float = 0.01,
    backoff_max: float = 0.05,
    **client_options: Any,
) -> AsyncIterator[Running]:
    """A ClusterSource on ``url`` with short timeouts and backoff, stopped (and checked) on exit.

    ``client_options`` go to the :class:`ClusterClient` (``max_response_bytes``, ``max_event_bytes``)."""
    store = store if store is not None else Recorder()
    client = ClusterClient(url, timeout=timeout, verify=verify, **client_options)
    source = ClusterSource(
        source_id,
        client,
        store,
        backoff_base=backoff_base,
        backoff_max=backoff_max,
        rng=random.Random(7),
        silence_timeout=silence_timeout,
        stale_after=stale_after,
    )
    task = asyncio.create_task(source.run())
    running = Running(source, task, store, client)
    try:
        yield running
    finally:
        crashed = task.done() and not task.cancelled() and task.exception() is not None
        source.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        await client.aclose()
        assert not crashed, f"the source crashed: {task.exception()!r}"


def assert_continuous(store: Recorder, first: int, last: int) -> None:
    """Every seq in first..last was taken exactly once, in order (nothing lost, nothing twice)."""
    assert store.taken == list(range(first, last + 1)), f"taken {store.taken[:5]}..{store.taken[-5:]}"


def assert_matches(store: Store, snapshot_json: dict[str, Any], source_id: str = SOURCE) -> None:
    """The store holds what a fresh console would after loading this snapshot."""
    fresh = Store()
    fresh.apply_snapshot(source_id, Snapshot.model_validate(snapshot_json))
    ours, theirs = store.tables_as_json(), fresh.tables_as_json()
    for tables in (ours, theirs):  # Cluster.seq is the seq of the snapshot it came in, not a live value
        if tables["cluster"] is not None:
            tables["cluster"].pop("seq")
    for name in ours:
        assert ours[name] == theirs[name], f"table {name} differs"
    assert store.sources[source_id].seq == snapshot_json["seq"]
    check_invariants(store)


def check_invariants(store: Store) -> None:
    """Indexes agree with tables; owners name only existing objects."""
    for mid, m in store.machines.items():
        assert mid in store.machines_by_node_index.get(m.node_id)
        assert mid in store.machines_by_state_index.get(m.state)
        assert mid in store.machines_by_kind_index.get(m.kind)
    for index in (store.machines_by_node_index, store.machines_by_state_index, store.machines_by_kind_index):
        assert sum(index.counts().values()) == len(store.machines)
    for jid, j in store.jobs.items():
        if j.machine_id is not None:
            assert jid in store.jobs_by_machine_index.get(j.machine_id)
    assert sum(store.alerts_by_priority_index.counts().values()) == len(store.alerts)
    for table in ("nodes", "machines", "jobs", "alerts", "quality"):
        assert set(store._owners[table]) == set(getattr(store, table)), table


def assert_inert(value: str) -> None:
    """``clean(value)`` has no control/bidi/zero-width character, and Text/Content built from it carry no markup."""
    cleaned = clean(value)
    bad = sorted({f"U+{ord(ch):04X}" for ch in cleaned if ch in FORBIDDEN})
    assert not bad, f"clean() left {bad}"
    text = plain(value)
    assert isinstance(text, Text)
    assert text.plain == cleaned and not text.spans, text.spans
    assert not Text(cleaned).spans
    made = content(value)
    assert isinstance(made, Content)
    assert made.plain == cleaned and not made.spans, made.spans
    # What a widget gets if it (wrongly) hands the cleaned string to Content.from_text or a Text.append.
    assert not Content(cleaned).spans


def publish_timeline(server: Any, count: int, *, start: int = 0) -> list[int]:
    """Publish ``count`` valid events of every common type (deterministic), returning their seqs."""
    seqs: list[int] = []
    machines = sorted(server.tables["machines"])
    states = ["running", "paused", "blocked", "fault", "idle", "maintenance"]
    for i in range(start, start + count):
        mid = machines[i % len(machines)]
        kind = i % 5
        if kind == 0:
            machine = {**server.tables["machines"][mid], "state": states[i % len(states)], "progress": (i % 10) / 10}
            seqs.append(server.publish("machine.updated", machine))
        elif kind == 1:
            values = {"nozzle_c": 200.0 + i, "bed_c": 60.0 + i % 7}
            seqs.append(
                server.publish("machine.telemetry", {"machine_id": mid, "at": "2026-11-25T12:00:00Z", "values": values})
            )
        elif kind == 2:
            job = {**next(iter(server.tables["jobs"].values())), "progress": (i % 10) / 10, "done_qty": i % 3}
            seqs.append(server.publish("job.updated", job))
        elif kind == 3:
            node = next(iter(server.tables["nodes"].values()))
            seqs.append(server.publish("node.updated", {**node, "state": ["online", "degraded"][i % 2]}))
        else:
            alert = next(iter(server.tables["alerts"].values()))
            seqs.append(server.publish("alert.updated", {**alert, "count": alert["count"] + 1}))
    return seqs
