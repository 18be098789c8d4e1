"""Any event, snapshot or checkpoint the contract models accept reads back from a recording as it was: hostile text
(controls, lone surrogates, markup), floats to +/-1.7e308, times at the ends of the calendar and in any offset."""

from __future__ import annotations

import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.api.models import AuditEntry, Event, JobRemoved, MachineTelemetry, Snapshot
from console.api.sse import MalformedEvent
from console.recording.checkpoint import compress_checkpoint, decode_checkpoint, encode_checkpoint
from console.recording.codec import SegmentDecoder, SegmentEncoder
from console.recording.format import EVENTS, MALFORMED, SNAPSHOT, STATE, Record, StateChange
from console.recording.numbers import decode_values, encode_values
from tests.faults.hostile_strategies import aware_times, finite, hostile_text, ids, snapshots

BUDGET = settings(
    max_examples=2_000 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 120,
    derandomize=os.environ.get("HYPOTHESIS_PROFILE") != "deep",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

telemetries = st.builds(
    lambda machine_id, at, values: MachineTelemetry.model_validate(
        {"machine_id": machine_id, "at": at, "values": values}
    ),
    ids,
    aware_times,
    st.dictionaries(hostile_text, finite, max_size=4),
)
audit_entries = st.builds(
    lambda id_, at, text, outcome: AuditEntry.model_validate(
        {
            "id": id_,
            "at": at,
            "operator": text,
            "action": text,
            "target": {"kind": "machine", "id": id_},
            "reason": text,
            "idempotency_key": None,
            "outcome": outcome,
            "detail": None,
        }
    ),
    ids,
    aware_times,
    hostile_text,
    st.sampled_from(["applied", "rejected"]) | hostile_text,
)


def _events(
    snapshot: Snapshot, telemetry: list[MachineTelemetry], audit: list[AuditEntry], removed: str
) -> list[Event]:
    payloads: list[tuple[str, object]] = [("cluster.updated", snapshot.cluster)]
    payloads += [("node.updated", n) for n in snapshot.nodes]
    payloads += [("machine.updated", m) for m in snapshot.machines]
    payloads += [("machine.telemetry", t) for t in telemetry]
    payloads += [("job.updated", j) for j in snapshot.jobs]
    payloads += [("job.removed", JobRemoved(id=removed))]
    payloads += [("alert.raised", a) for a in snapshot.alerts[:1]] + [("alert.updated", a) for a in snapshot.alerts[1:]]
    payloads += [("quality.updated", q) for q in snapshot.quality]
    payloads += [("audit.appended", a) for a in audit]
    payloads += [("machine.telemetry", t) for t in telemetry]  # the same machines again: names known by then
    return [Event(seq, type_, data) for seq, (type_, data) in enumerate(payloads, snapshot.seq + 1)]


@BUDGET
@given(
    snapshot=snapshots(size=2),
    telemetry=st.lists(telemetries, max_size=4),
    audit=st.lists(audit_entries, max_size=2),
    source_id=hostile_text,
    removed=ids,
    reason=st.none() | hostile_text,
    primed=st.booleans(),
)
def test_any_record_the_models_accept_reads_back(
    snapshot: Snapshot,
    telemetry: list[MachineTelemetry],
    audit: list[AuditEntry],
    source_id: str,
    removed: str,
    reason: str | None,
    primed: bool,
) -> None:
    events = _events(snapshot, telemetry, audit, removed)
    records = [
        Record(STATE, source_id, 1.0, None, StateChange("cluster", "connecting", reason)),
        Record(SNAPSHOT, source_id, 2.0, snapshot.seq, snapshot),
        Record(EVENTS, source_id, 3.0, events[0].seq, events[: len(events) // 2]),
    ]
    later = [
        Record(EVENTS, source_id, 4.0, events[len(events) // 2].seq, events[len(events) // 2 :]),
        Record(MALFORMED, source_id, 5.0, 99, MalformedEvent(99, reason or "x", reason or "", reason or "")),
    ]
    prime = b'{"t":0}' if primed else None
    encoder, decoder = SegmentEncoder(prime), SegmentDecoder(prime)
    first, _ = encoder.encode(records)
    second, count = encoder.encode(later)
    assert count == len(events) - len(events) // 2
    assert decoder.decode(first) == records
    assert decoder.decode(second) == later


@BUDGET
@given(snapshot=snapshots(size=2), audit=st.lists(audit_entries, max_size=3), source_id=hostile_text)
def test_any_state_reads_back_from_a_checkpoint(snapshot: Snapshot, audit: list[AuditEntry], source_id: str) -> None:
    parts = {
        "seq": snapshot.seq,
        "cluster": snapshot.cluster,
        "nodes": snapshot.nodes,
        "machines": snapshot.machines,
        "jobs": snapshot.jobs,
        "alerts": snapshot.alerts,
        "quality": snapshot.quality,
    }
    sources = [
        {
            "id": source_id,
            "kind": "cluster",
            "state": "live",
            "reason": source_id,
            "seq": snapshot.seq,
            "snapshot": parts,
        },
        {"id": "agent-1", "kind": "agent", "state": "stale", "reason": None, "seq": None, "snapshot": None},
    ]
    raw = encode_checkpoint(12.5, sources, audit)
    checkpoint, back = decode_checkpoint(compress_checkpoint(raw))
    assert back == raw
    assert checkpoint.t == 12.5 and checkpoint.audit == audit
    first, second = checkpoint.sources
    assert (first.source_id, first.kind, first.state, first.reason, first.seq) == (
        source_id,
        "cluster",
        "live",
        source_id,
        snapshot.seq,
    )
    assert first.snapshot == snapshot
    assert (second.source_id, second.snapshot, second.seq) == ("agent-1", None, None)


NUMBERS = [0.0, -0.0, 0.1, 0.28, 0.3, 254.9, 255.0, 1e15, 1e16, -1e-7, 5e-324]


@BUDGET
@given(
    rows=st.lists(
        st.lists(
            st.one_of(finite, st.sampled_from([0.0, -0.0, 0.1, 0.28, 0.3, 254.9, 1e15, -1e-7])), min_size=3, max_size=3
        ),
        min_size=1,
        max_size=30,
    )
)
def test_telemetry_values_read_back_bit_for_bit(rows: list[list[float]]) -> None:
    names = ["a", "b", "c"]
    mine: list[list[int] | None] = [None, None, None]
    theirs: list[list[int] | None] = [None, None, None]
    for row in rows:
        line = encode_values(mine, dict(zip(names, row, strict=True)))
        back = decode_values(theirs, names, line.encode())
        assert [struct.pack("<d", v) for v in back.values()] == [struct.pack("<d", v) for v in row]
    assert mine == theirs
