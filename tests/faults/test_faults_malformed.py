"""Broken events: each is counted and recorded (source, seq, type, reason), the stream goes on, neighbours apply.

Every case publishes two valid events, the broken one, and two more valid ones. The console must end live at the
server's last ``seq`` with every ``seq`` taken once (the broken event's ``seq`` was issued, so it is stepped over, not
treated as a gap), a store equal to a fresh snapshot (the broken event changed nothing), and one malformed record
that says why. Variants are generated from the contract models: every required field of every event type removed,
wrong types, out-of-range numbers, NaN and infinities, bad times, bad JSON, bad ids (the catalogues are in
``malformed_catalogue``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from console.api.sse import EXCERPT_CHARS
from tests.faults.harness import assert_continuous, assert_inert, assert_matches, publish_timeline, running_source
from tests.faults.hostile_server import HostileServer, Send, Tail, frame
from tests.faults.malformed_catalogue import (
    BAD_IDS,
    BAD_JSON,
    MISSING,
    NON_FINITE,
    WRONG_VALUES,
    break_field,
    raw_with,
    samples,
)


async def run_case(
    hostile: Any, make: Any, *, expect_malformed: int = 1, expect_type: str | None = None
) -> tuple[Any, Any]:
    """Publish 2 valid, the broken event (``make(server, seq) -> bytes``), 2 valid; check the store; return records."""
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    bad_seq = server.next_seq()
    server.publish_raw(make(server, bad_seq))
    publish_timeline(server, 2, start=2)
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        run.assert_alive()
        status = run.status
        assert status.malformed_total == expect_malformed, [r.reason for r in status.malformed]
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())
        assert server.snapshots_served == 1 and run.source.resyncs == 0
        record = status.malformed[-1] if status.malformed else None
        if record is not None:
            assert record.seq == bad_seq
            assert record.reason and len(record.excerpt) <= EXCERPT_CHARS
            # What Diagnostics lists (the app-level subset is test_faults_console_malformed): inert once cleaned.
            assert_inert(record.reason)
            assert_inert(record.excerpt)
            if expect_type is not None:
                assert record.type == expect_type
        return run.store, record


@pytest.mark.parametrize(("kind", "field"), MISSING, ids=[f"{k}-without-{f}" for k, f in MISSING])
async def test_missing_required_field(hostile: Any, kind: str, field: str) -> None:
    def make(server: HostileServer, seq: int) -> bytes:
        type_, payload, _ = samples(server)[kind]
        payload.pop(field)
        return frame(seq, type_, payload)

    _, record = await run_case(hostile, make)
    assert field in record.reason or "Field required" in record.reason


@pytest.mark.parametrize("case", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
async def test_wrong_type_or_out_of_range(hostile: Any, case: tuple[str, str, Any]) -> None:
    kind, field, value = case

    def make(server: HostileServer, seq: int) -> bytes:
        type_, payload, _ = samples(server)[kind]
        return frame(seq, type_, break_field(payload, field, value))

    _, record = await run_case(hostile, make)
    assert record.reason.startswith(field) or field in record.reason


@pytest.mark.parametrize("case", NON_FINITE.values(), ids=NON_FINITE.keys())
async def test_nan_and_infinity_are_refused(hostile: Any, case: tuple[str, str, str]) -> None:
    kind, field, literal = case

    def make(server: HostileServer, seq: int) -> bytes:
        type_, payload, _ = samples(server)[kind]
        return frame(seq, type_, raw_with(payload, field, literal))

    await run_case(hostile, make)


@pytest.mark.parametrize("case", BAD_JSON.values(), ids=BAD_JSON.keys())
async def test_bad_json(hostile: Any, case: tuple[str, str]) -> None:
    type_, text = case
    await run_case(hostile, lambda server, seq: frame(seq, type_, text), expect_type=type_)


@pytest.mark.parametrize("bad_id", BAD_IDS.values(), ids=BAD_IDS.keys())
async def test_event_with_a_bad_id_is_recorded_and_skipped(hostile: Any, bad_id: str) -> None:
    """An id that is not a plain non-negative integer: recorded (seq unknown); the next valid seq follows on."""
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    payload = dict(server.tables["machines"]["M-101"], name="never applied")
    raw = f"id: {bad_id}\nevent: machine.updated\ndata: {json.dumps(payload)}\n\n".encode()
    server.publish_raw(raw, advance=False)
    publish_timeline(server, 2, start=2)
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        run.assert_alive()
        assert run.status.malformed_total == 1 and run.status.malformed[-1].seq is None
        assert_inert(run.status.malformed[-1].reason)
        assert_inert(run.status.malformed[-1].excerpt)
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert run.store.machines["M-101"].name != "never applied"
        assert_matches(run.store, server.snapshot_json())


async def test_event_without_an_id_is_recorded(hostile: Any) -> None:
    """No ``id:`` line. SSE carries the previous id over, so this looks like a repeat of the last seq: the console
    must not apply it, and should say so (counted like any malformed event)."""
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    payload = dict(server.tables["machines"]["M-101"], name="never applied")
    server.publish_raw(frame(None, "machine.updated", payload), advance=False)
    publish_timeline(server, 2, start=2)
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.store.machines["M-101"].name != "never applied"
        assert run.status.malformed_total == 1
        assert_continuous(run.store, server.base_seq + 1, server.seq)


async def test_repeated_seq_is_not_applied_twice_and_is_recorded(hostile: Any) -> None:
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    seqs = publish_timeline(server, 3)
    replay = dict(server.tables["machines"]["M-101"], name="replayed with other content")
    server.publish_raw(frame(seqs[1], "machine.updated", replay), advance=False)
    publish_timeline(server, 2, start=3)
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        run.assert_alive()
        assert run.store.machines["M-101"].name != "replayed with other content"
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())
        assert run.status.malformed_total == 1 and run.status.malformed[-1].seq == seqs[1]
        assert "repeat" in run.status.malformed[-1].reason


async def test_seq_out_of_order_resyncs_from_a_snapshot(hostile: Any) -> None:
    """101, 103, 102: 103 is a gap (something was skipped), so the source takes a fresh snapshot and says so."""
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    base = server.base_seq
    machine = server.tables["machines"]["M-101"]
    server.publish("machine.updated", dict(machine, name="first"))
    third = frame(base + 3, "machine.updated", dict(machine, name="third"))
    second = frame(base + 2, "machine.updated", dict(machine, name="second"))
    server.publish_raw(third, advance=False)
    server.publish_raw(second, advance=False)
    server.seq = base + 3
    server.tables["machines"]["M-101"] = dict(machine, name="third")
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        run.assert_alive()
        assert run.source.resyncs >= 1
        assert any("gap" in line.message for line in run.status.log)
        assert run.store.machines["M-101"].name == "third"
        assert_matches(run.store, server.snapshot_json())


async def test_the_stream_goes_on_after_many_bad_events(hostile: Any) -> None:
    """A burst of 60 broken events (more than the 50 records kept): all counted, the latest kept, the rest applied."""
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    for i in range(60):
        publish_timeline(server, 1, start=i)
        seq = server.next_seq()
        server.publish_raw(frame(seq, "node.updated", {"id": f"N-{i}"}))
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.status.malformed_total == 60 and len(run.status.malformed) == 50
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())


# --- things that are NOT malformed ----------------------------------------------------------------------------------

UNKNOWN_ENUMS: dict[str, tuple[str, str, Any]] = {
    "machine-state": ("machine", "state", "quantum_tunnelling"),
    "machine-kind": ("machine", "kind", "bioprinter"),
    "node-state": ("node", "state", "on_fire"),
    "job-status": ("job", "status", "teleported"),
    "alert-priority": ("alert", "priority", "apocalyptic"),
    "alert-state": ("alert", "state", "acked_by_robot"),
    "alert-source-kind": ("alert", "source", {"kind": "satellite", "id": "SAT-1"}),
    "quality-scope": ("quality", "scope", "line"),
    "audit-outcome": ("audit", "outcome", "deferred"),
    "machine-state-empty-string": ("machine", "state", ""),
}


def stored(store: Any, kind: str, payload: dict[str, Any]) -> Any:
    if kind == "machine":
        return store.machines[payload["id"]]
    if kind == "node":
        return store.nodes[payload["id"]]
    if kind == "job":
        return store.jobs[payload["id"]]
    if kind == "alert":
        return store.alerts[payload["id"]]
    if kind == "quality":
        return store.quality[(payload["scope"], payload["id"])]
    if kind == "audit":
        return store.audit[-1]
    raise AssertionError(kind)


@pytest.mark.parametrize("case", UNKNOWN_ENUMS.values(), ids=UNKNOWN_ENUMS.keys())
async def test_unknown_enum_values_are_kept_as_they_are(hostile: Any, case: tuple[str, str, Any]) -> None:
    kind, field, value = case
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    type_, payload, _ = samples(server)[kind]
    payload = break_field(payload, field, value)
    server.publish(type_, payload)
    publish_timeline(server, 2, start=5)  # events that do not touch the object under test
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.status.malformed_total == 0
        obj = stored(run.store, kind, payload)
        got = getattr(obj, field)
        assert (got.model_dump() if hasattr(got, "model_dump") else got) == value
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        if kind != "audit":
            assert_matches(run.store, server.snapshot_json())


UNKNOWN_TYPES = ["machine.exploded", "node.teleported", "", "x" * 10_000, "machine.updated.v2", "RESET"]


@pytest.mark.parametrize("type_", UNKNOWN_TYPES, ids=["dotted", "node", "empty", "10k-chars", "versioned", "upper"])
async def test_unknown_event_type_is_ignored_and_its_seq_counts(hostile: Any, type_: str) -> None:
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    seq = server.next_seq()
    server.publish_raw(frame(seq, type_, {"whatever": [1, 2, {"deep": None}]}))
    publish_timeline(server, 2, start=2)
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.status.malformed_total == 0
        assert run.status.ignored_total >= 1
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())


ODD_BUT_VALID: dict[str, tuple[str, str, Any]] = {
    "time-far-in-the-future": ("machine", "state_since", "9999-12-31T23:59:59Z"),
    "time-far-in-the-past": ("machine", "last_seen", "0001-01-01T00:00:00Z"),
    "time-with-offset": ("machine", "state_since", "2026-11-25T14:00:00+02:00"),
    "time-with-fraction": ("alert", "raised_at", "2026-11-25T12:00:00.123456Z"),
    "huge-telemetry-number": ("machine", "telemetry", {"nozzle_c": 1e300}),
    "negative-telemetry": ("machine", "telemetry", {"nozzle_c": -273.15}),
    "many-telemetry-names": ("machine", "telemetry", {f"sensor_{i}": float(i) for i in range(2000)}),
    "unknown-extra-field": ("machine", "x_future_field", {"nested": [1, 2, 3]}),
    "nine-hundred-kilobyte-unknown-field": ("node", "x_blob", "B" * 900_000),  # under the 1 MiB event cap
    "node-of-unknown-node": ("machine", "node_id", "N-NOWHERE"),
    "integer-for-float": ("node", "lat", 45),
}


@pytest.mark.parametrize("case", ODD_BUT_VALID.values(), ids=ODD_BUT_VALID.keys())
async def test_odd_but_valid_events_are_applied(hostile: Any, case: tuple[str, str, Any]) -> None:
    kind, field, value = case
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    type_, payload, _ = samples(server)[kind]
    server.publish(type_, break_field(payload, field, value))
    publish_timeline(server, 2, start=2)
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.status.malformed_total == 0, [r.reason for r in run.status.malformed]
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())


EVENTS_ABOUT_NOTHING = {
    "telemetry-for-unknown-machine": (
        "machine.telemetry",
        {"machine_id": "M-NOPE", "at": "2026-11-25T12:00:00Z", "values": {"x": 1.0}},
    ),
    "job-removed-unknown": ("job.removed", {"id": "J-NOPE"}),
}


@pytest.mark.parametrize("case", EVENTS_ABOUT_NOTHING.values(), ids=EVENTS_ABOUT_NOTHING.keys())
async def test_events_about_unknown_objects_change_nothing(hostile: Any, case: tuple[str, dict[str, Any]]) -> None:
    type_, payload = case
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    server.publish(type_, payload)
    publish_timeline(server, 2, start=2)
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.status.malformed_total == 0
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())


async def test_malformed_reset_is_recorded(hostile: Any) -> None:
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 3)
    server.script([Send(frame(None, "reset", {"seq": "soon"})), Tail()])
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.status.malformed_total == 1 and run.status.malformed[-1].type == "reset"
        assert_continuous(run.store, server.base_seq + 1, server.seq)
