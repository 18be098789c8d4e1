"""What the mixed floor's edge node takes from the broker (``SparkplugSite.orders``): a DCMD writing a declared
``Command/<verb>`` true (by name or alias), an NCMD rebirth request, and nothing else; garbage asks nothing and
never raises (anyone on the broker may publish to its command topics)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.demo.floor.sparkplug_site import EDGE, GROUP, NS, SparkplugSite
from console.sources.sparkplug import payload as spb

SITE = SparkplugSite(1)  # never started: orders() needs no broker
DCMD = f"{NS}/{GROUP}/DCMD/{EDGE}"
NCMD = f"{NS}/{GROUP}/NCMD/{EDGE}"


def command(*metrics: object) -> bytes:
    return spb.build_payload(metrics)


def test_a_declared_command_written_true_is_an_order() -> None:
    pause = command(spb.build_metric("Command/Pause", True, spb.BOOLEAN))
    assert SITE.orders(f"{DCMD}/Mill-3", pause) == [("Mill-3", "Pause")]
    alias = SITE.aliases["Printer-1"]["Command/Resume"]
    assert SITE.orders(f"{DCMD}/Printer-1", command(spb.build_metric(None, 1, spb.INT32, alias=alias))) == [
        ("Printer-1", "Resume")
    ]
    assert SITE.orders(f"{NCMD}", command(spb.build_metric("Node Control/Rebirth", True, spb.BOOLEAN))) == [
        (None, "Rebirth")
    ]


def test_anything_else_asks_nothing() -> None:
    pause = command(spb.build_metric("Command/Pause", True, spb.BOOLEAN))
    assert SITE.orders(f"{DCMD}/Laser-4", pause) == [], "the laser declared no commands"
    assert SITE.orders(f"{DCMD}/Mill-9", pause) == [], "no such device"
    assert SITE.orders(f"{NS}/other/DCMD/{EDGE}/Mill-3", pause) == [], "another group"
    assert SITE.orders(f"{DCMD}/Mill-3", command(spb.build_metric("Command/Pause", False, spb.BOOLEAN))) == []
    assert SITE.orders(f"{DCMD}/Mill-3", command(spb.build_metric("Command/Explode", True, spb.BOOLEAN))) == []
    assert SITE.orders(f"{DCMD}/Mill-3", pause + b"\x00" * (64 * 1024)) == [], "too big"


TOPICS = st.one_of(
    st.sampled_from([f"{DCMD}/Mill-3", f"{DCMD}/Printer-2", f"{DCMD}/Laser-4", NCMD, f"{NS}/{GROUP}/DDATA/{EDGE}"]),
    st.text(max_size=80),
)


def raw_metric(name: str | None, alias: int | None, field: str, value: object, datatype: int) -> object:
    """A metric whose value field and datatype need not agree (as a hostile publisher's need not)."""
    metric = spb.build_metric(name, None, spb.BOOLEAN, alias=alias)
    metric.ClearField("is_null")
    setattr(metric, field, value)
    metric.datatype = datatype
    return metric


VALUES = st.one_of(
    st.tuples(st.just("boolean_value"), st.booleans()),
    st.tuples(st.just("int_value"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("long_value"), st.integers(0, 2**64 - 1)),
    st.tuples(st.just("double_value"), st.floats()),
    st.tuples(st.just("string_value"), st.text(max_size=20)),
)
METRICS = st.builds(
    lambda name, alias, value, datatype: raw_metric(name, alias, value[0], value[1], datatype),
    st.one_of(st.none(), st.sampled_from(["Command/Pause", "Command/Cancel", "Node Control/Rebirth"]), st.text()),
    st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    VALUES,
    st.sampled_from([spb.BOOLEAN, spb.INT32, spb.INT64, spb.STRING, spb.DOUBLE, 0, 99]),
)
PAYLOADS = st.one_of(st.binary(max_size=300), st.lists(METRICS, max_size=5).map(lambda ms: command(*ms)))


@settings(max_examples=300, deadline=None)
@given(TOPICS, PAYLOADS)
def test_garbage_never_raises_and_orders_only_what_was_declared(topic: str, data: bytes) -> None:
    for device_id, verb in SITE.orders(topic, data):
        if device_id is None:
            assert verb == "Rebirth"
        else:
            assert verb in SITE.devices[device_id].spec.commands
