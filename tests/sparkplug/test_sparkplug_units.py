"""The Sparkplug parts alone, without a broker: the payload against the specification's wire format, topics, the
metric mapping, and the host's rules (seq, reorder timeout, bdSeq, aliases, hostile values) on a stepped clock."""

from __future__ import annotations

import contextlib
import math
import struct
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.sources.sparkplug import payload as spb
from console.sources.sparkplug.host import Host
from console.sources.sparkplug.mapping import MetricMapping, state_of, telemetry_name
from console.sources.sparkplug.topics import Topic, command_topic, parse_topic, state_topic, subscriptions
from console.sources.sparkplug.translation import Translator
from tests.sparkplug.edge import device_metrics

# --- the payload ------------------------------------------------------------------------------------------------


def test_the_payload_is_the_specification_s_wire_format() -> None:
    # Payload{timestamp=1 (1, varint), metrics=[Metric{name="a" (1), alias=5 (2), datatype=10 (4),
    # double_value=1.5 (13, fixed64)}] (2), seq=3 (3, varint)}, written out by hand.
    metric = b"\x0a\x01a" + b"\x10\x05" + b"\x20\x0a" + bytes([13 << 3 | 1]) + struct.pack("<d", 1.5)
    wire = b"\x08\x01" + b"\x12" + bytes([len(metric)]) + metric + b"\x18\x03"
    decoded = spb.decode(wire, 1024)
    (read,) = decoded.metrics
    assert (decoded.timestamp, decoded.seq, read.name, read.alias, read.datatype) == (1, 3, "a", 5, 10)
    assert spb.metric_value(read, spb.DOUBLE) == 1.5
    built = spb.build_payload([spb.build_metric("a", 1.5, spb.DOUBLE, alias=5)], seq=3, timestamp=1)
    assert built == wire


def test_values_are_read_as_their_datatype_says() -> None:
    def value(v: object, datatype: int) -> object:
        return spb.metric_value(spb.build_metric("m", v, datatype), datatype)  # type: ignore[arg-type]

    assert value(-1, spb.INT8) == -1 and value(-300, spb.INT16) == -300 and value(-5, spb.INT32) == -5
    assert value(-(2**40), spb.INT64) == -(2**40) and value(2**63, spb.UINT64) == 2**63
    assert value(200, spb.UINT8) == 200 and value(True, spb.BOOLEAN) is True
    assert value("Running", spb.STRING) == "Running" and value(2.5, spb.FLOAT) == 2.5
    assert value(None, spb.DOUBLE) is None  # is_null
    assert spb.metric_value(spb.build_metric("b", b"x", spb.BYTES), spb.BYTES) is None  # type: ignore[arg-type]
    # An Int8 written as a 32-bit two's complement (-1 as 0xFFFFFFFF) and as 8 bits (0xFF) both read -1.
    metric = spb.build_metric("m", 0, spb.INT8)
    metric.int_value = 0xFF
    assert spb.metric_value(metric, spb.INT8) == -1


@pytest.mark.parametrize(
    ("value", "datatype", "read_as", "says"),
    [
        (math.nan, spb.DOUBLE, spb.DOUBLE, "finite"),
        (math.inf, spb.FLOAT, spb.FLOAT, "finite"),
        ("x" * (spb.MAX_STRING + 1), spb.STRING, spb.STRING, "a string of"),
        (1.0, spb.DOUBLE, 99, "unknown datatype"),
        (1.0, spb.DOUBLE, 0, "unknown datatype"),
        ("text", spb.STRING, spb.DOUBLE, "carries string_value"),
        (3, spb.INT32, spb.BOOLEAN, "carries int_value"),
    ],
)
def test_values_that_do_not_fit_are_refused(value, datatype, read_as, says) -> None:
    with pytest.raises(spb.MetricError, match=says):
        spb.metric_value(spb.build_metric("m", value, datatype), read_as)


def test_what_protobuf_cannot_parse_or_is_too_big_is_a_payload_error() -> None:
    with pytest.raises(spb.PayloadError, match="not a Sparkplug B payload"):
        spb.decode(b"\xff\xff\xff\xff\xff", 1024)
    with pytest.raises(spb.PayloadError, match="over the limit"):
        spb.decode(b"\x08\x01" * 600, 1024)
    # Invalid UTF-8 in a name is kept as text with replacement characters, never raised.
    metric = spb.build_metric("x", 1.0, spb.DOUBLE).SerializeToString().replace(b"\x0a\x01x", b"\x0a\x02\xff\xfe")
    wire = b"\x12" + bytes([len(metric)]) + metric
    (read,) = spb.decode(wire, 1024).metrics
    assert spb.text_of(read.name) == "\ufffd\ufffd"


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_bytes_decode_or_raise_a_payload_error(data: bytes) -> None:
    try:
        decoded = spb.decode(data, 1 << 20)
    except spb.PayloadError:
        return
    for metric in decoded.metrics:
        spb.text_of(metric.name)
        spb.metric_properties(metric)
        with contextlib.suppress(spb.MetricError):
            spb.metric_value(metric, int(metric.datatype))


# --- topics and the mapping ----------------------------------------------------------------------------------------


def test_topics() -> None:
    assert parse_topic("spBv1.0/G/DDATA/E/D") == Topic("G", "DDATA", "E", "D")
    assert parse_topic("spBv1.0/G/NBIRTH/E") == Topic("G", "NBIRTH", "E")
    assert parse_topic("spBv1.0/STATE/host-1") == Topic("", "STATE", "host-1")
    for bad in ("spBv1.0/G/DDATA/E", "spBv1.0/G/NDATA/E/D", "spBv1.0/G/NOPE/E", "spAv1.0/G/NDATA/E", "spBv1.0"):
        assert parse_topic(bad) is None
    assert parse_topic("spBv1.0/G/NDATA/E\x1b[2J") is None
    assert parse_topic("spBv1.0/G/DDATA/E/\u202emill") is None  # a bidi override
    assert parse_topic("spBv1.0/G/DDATA/E/\x9bmill") is None  # a C1 control
    assert state_topic("h") == "spBv1.0/STATE/h"
    assert command_topic("G", "E") == "spBv1.0/G/NCMD/E" and command_topic("G", "E", "D") == "spBv1.0/G/DCMD/E/D"
    assert subscriptions(()) == ["spBv1.0/#"] and subscriptions(("A", "B")) == ["spBv1.0/A/#", "spBv1.0/B/#"]


def test_the_default_mapping() -> None:
    mapping = MetricMapping()
    assert mapping.role("State", spb.STRING, {}).what == "state"
    assert mapping.role("Progress", spb.DOUBLE, {}).what == "progress"
    assert mapping.role("Job/Id", spb.STRING, {}).what == "job_id"
    assert mapping.role("Command/Pause", spb.BOOLEAN, {}).verb == "pause"
    assert mapping.role("Command/Pause", spb.BOOLEAN, {"readOnly": True}).what == "ignore"
    assert mapping.role("Command/Pause", spb.STRING, {}).what == "ignore"
    assert mapping.role("Temperature/Nozzle", spb.FLOAT, {"engUnit": "°C"}).telemetry == "temperature_nozzle_c"
    assert mapping.role("Spindle/RPM", spb.INT32, {"engUnit": "rpm"}).telemetry == "spindle_rpm"
    assert mapping.role("Laser Power", spb.DOUBLE, {"engUnit": "%"}).telemetry == "laser_power_pct"
    assert mapping.role("Node Control/Rebirth", spb.BOOLEAN, {}).what == "ignore"
    assert mapping.role("Properties/Serial", spb.INT64, {}).what == "ignore"
    assert mapping.role("Door Open", spb.BOOLEAN, {}).what == "ignore"  # numeric only
    assert telemetry_name("Feed", "mm/min") == "feed_mm_min" and telemetry_name("Power_kW", "kW") == "power_kw"
    assert mapping.progress_of(50) == 0.5 and mapping.progress_of(250) == 1.0 and mapping.progress_of(-3) == 0.0
    assert (
        state_of("EXECUTE", {}) == "running" and state_of("Held", {}) == "paused" and state_of("Alarm", {}) == "fault"
    )
    assert state_of(3, {"3": "running"}) == "running" and state_of(3.0, {"3": "running"}) == "running"
    assert state_of("Warming up\x1b[2J", {}) == "Warming up [2J"  # an unknown state is kept, plain
    assert state_of(True, {}) is None


# --- the host's rules ------------------------------------------------------------------------------------------------


class Steps:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def host(**options: object) -> tuple[Host, Steps]:
    steps = Steps()
    clock = lambda: datetime(2026, 12, 1, tzinfo=UTC)  # noqa: E731
    translator = Translator(clock=clock, monotonic=steps)
    return Host(translator, host_id="h", monotonic=steps, **options), steps  # type: ignore[arg-type]


def nbirth(h: Host, bd_seq: int = 0, edge: str = "E") -> None:
    metrics = [spb.build_metric("bdSeq", bd_seq, spb.INT64), spb.build_metric("Node Control/Rebirth", False, 11)]
    h.handle(f"spBv1.0/G/NBIRTH/{edge}", spb.build_payload(metrics, seq=0))


def dbirth(h: Host, seq: int, device: str = "D", edge: str = "E") -> None:
    metrics = [
        spb.build_metric(n, v, t, alias=100 + i, properties=p) for i, (n, t, v, p) in enumerate(device_metrics())
    ]
    h.handle(f"spBv1.0/G/DBIRTH/{edge}/{device}", spb.build_payload(metrics, seq=seq))


def ddata(h: Host, seq: int, temperature: float, device: str = "D") -> None:
    alias = 100 + [m[0] for m in device_metrics()].index("Temperature")
    metric = spb.build_metric(None, temperature, spb.DOUBLE, alias=alias)
    h.handle(f"spBv1.0/G/DDATA/E/{device}", spb.build_payload([metric], seq=seq))


def test_a_gap_asks_for_one_rebirth_and_not_again_within_the_interval() -> None:
    h, steps = host(rebirth_interval=5.0)
    nbirth(h)
    dbirth(h, 1)
    ddata(h, 2, 40.0)
    assert not h.rebirths and not h.malformed
    ddata(h, 4, 41.0)
    ddata(h, 7, 42.0)
    assert [node.edge for node in h.rebirths] == ["E"]
    assert [bad.reason for bad in h.malformed] == ["seq 4, expected 3", "seq 7, expected 5"]
    assert h.device("G/E/D").telemetry["temperature_c"] == 42.0  # type: ignore[union-attr]  # data still read
    steps.now = 6.0
    ddata(h, 9, 43.0)
    assert len(h.rebirths) == 2


def test_a_reorder_timeout_waits_for_the_missing_message() -> None:
    h, steps = host(reorder_timeout=1.0)
    nbirth(h)
    dbirth(h, 1)
    ddata(h, 3, 40.0)  # 2 is late
    ddata(h, 2, 39.0)  # ... and arrives in time
    ddata(h, 4, 41.0)
    steps.now = 2.0
    h.tick()
    assert not h.rebirths
    ddata(h, 6, 42.0)  # 5 is lost
    steps.now = 2.5
    h.tick()
    assert not h.rebirths
    steps.now = 3.5
    h.tick()
    assert len(h.rebirths) == 1


def test_seq_wraps_after_255() -> None:
    h, _ = host()
    nbirth(h)
    dbirth(h, 1)
    for seq in range(2, 300):
        ddata(h, seq % 256, float(seq))
    assert not h.malformed and not h.rebirths


def test_data_before_any_birth_and_an_unknown_alias_ask_for_a_rebirth() -> None:
    h, steps = host()
    ddata(h, 5, 40.0)
    assert len(h.rebirths) == 1 and h.device("G/E/D") is None
    steps.now = 10.0
    nbirth(h)
    ddata(h, 1, 40.0)  # the device's DBIRTH was not seen
    assert len(h.rebirths) == 2


def test_ndeath_must_carry_the_bdseq_of_the_birth() -> None:
    h, _ = host()
    nbirth(h, bd_seq=3)
    dbirth(h, 1)
    h.handle("spBv1.0/G/NDEATH/E", spb.build_payload([spb.build_metric("bdSeq", 2, spb.INT64)]))
    assert h.nodes[("G", "E")].online
    assert "older session" in h.translator.lines[-1]
    h.handle("spBv1.0/G/NDEATH/E", spb.build_payload([spb.build_metric("bdSeq", 3, spb.INT64)]))
    node = h.nodes[("G", "E")]
    assert not node.online and not node.devices["D"].online
    machine = h.translator.machines["G/E/D"]
    assert machine.state == "offline" and machine.telemetry["temperature_c"] == 41.5  # stale, not gone
    assert h.translator.nodes["G/E"].state == "offline"


def test_births_of_a_hostile_edge_node_are_bounded(monkeypatch) -> None:
    from console.sources.sparkplug import host as host_module

    monkeypatch.setattr(host_module, "MAX_DEVICES", 3)
    h, _ = host()
    nbirth(h)
    for seq, device in enumerate("ABCDE", start=1):
        dbirth(h, seq, device)
    assert len(h.nodes[("G", "E")].devices) == 3
    assert sum("more than 3 devices" in bad.reason for bad in h.malformed) == 2
    too_long = spb.build_metric("x" * 300, 1.0, spb.DOUBLE)
    h.handle("spBv1.0/G/DBIRTH/E/A", spb.build_payload([too_long], seq=6))
    assert "without a usable name" in h.malformed[-1].reason


def test_a_malformed_topic_is_kept_as_plain_text() -> None:
    h, _ = host()
    h.handle("spBv1.0/G/DDATA/E/\x1b]0;owned\x07/x", b"")
    (bad,) = h.malformed
    assert bad.excerpt.isprintable() and "\x1b" not in bad.excerpt


def test_our_own_state_read_back_offline_is_noted() -> None:
    h, _ = host()
    h.handle("spBv1.0/STATE/other", b'{"online": false, "timestamp": 1}')
    assert not h.state_lost
    h.handle("spBv1.0/STATE/h", b"not json")
    assert h.malformed[-1].reason == "not JSON"
    h.handle("spBv1.0/STATE/h", b'{"online": false, "timestamp": 1}')
    assert h.state_lost


def test_the_translation_numbers_its_events_without_gaps() -> None:
    h, _ = host()
    nbirth(h)
    dbirth(h, 1)
    ddata(h, 2, 50.0)
    events = h.translator.take()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    types = [e.type for e in events]
    assert types[:2] == ["node.updated", "job.updated"] and "machine.telemetry" in types
    assert h.translator.seq == len(events)


def test_a_bug_in_handling_one_message_costs_that_message_only(monkeypatch) -> None:
    from console.sources.sparkplug import SparkplugSource
    from console.store import Store

    store = Store()
    source = SparkplugSource("sparkplug", "mqtt://127.0.0.1:1", store, host_id="h")
    nbirth(source.host)
    calls = []

    def broken(topic: str, data: bytes) -> None:
        calls.append(topic)
        raise KeyError("bug")

    monkeypatch.setattr(source.host, "handle", broken)
    source.handle("spBv1.0/G/DDATA/E/D", b"")
    source.flush()
    assert calls and store.sources["sparkplug"].malformed[-1].reason == "internal error: KeyError"
    monkeypatch.undo()
    dbirth(source.host, 1)
    source.flush()
    assert "G/E/D" in store.machines
