"""The OPC UA tables and the translation, without a server: states, priorities, alert states, units, hostile values."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.sources.opcua.mapping import (
    MachineView,
    Malformed,
    alert_state,
    clean_text,
    machine_view,
    priority_for,
    telemetry_name,
    text_state,
)
from console.sources.opcua.model import REFRESH_END, REFRESH_START, MachineModel, Plant, Watched
from console.sources.opcua.translation import Translator

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("item", "mode", "expected"),
    [
        ("NotAvailable", "Processing", MachineView("offline", "not available")),
        ("OutOfService", "Maintenance", MachineView("maintenance", "out of service: maintenance")),
        ("OutOfService", "Setup", MachineView("maintenance", "out of service: setup")),
        ("OutOfService", "Processing", MachineView("fault", "out of service", "out_of_service")),
        ("OutOfService", None, MachineView("fault", "out of service", "out_of_service")),
        ("Executing", "Processing", MachineView("running")),
        ("Executing", "Setup", MachineView("running", "setup")),
        ("NotExecuting", "Processing", MachineView("idle")),
        ("NotExecuting", "Maintenance", MachineView("maintenance", "maintenance")),
        ("NotExecuting", "Setup", MachineView("idle", "setup")),
        ("NotExecuting", None, MachineView("idle")),
    ],
)
def test_machinery_states(item: str, mode: str | None, expected: MachineView) -> None:
    assert machine_view(item, mode) == expected


def test_unknown_machinery_values_are_malformed() -> None:
    with pytest.raises(Malformed):
        machine_view("Exploding", "Processing")
    with pytest.raises(Malformed):
        machine_view("Executing", "Party")


def test_state_texts_of_servers_without_the_machinery_model() -> None:
    assert text_state("Running") == MachineView("running", None)
    assert text_state("IDLE") == MachineView("idle", None)
    assert text_state("Error") == MachineView("fault", "Error", "error")
    assert text_state("Out of service").state == "maintenance"
    for bad in ("Dancing", 3, None, b"Running"):
        with pytest.raises(Malformed):
            text_state(bad)


@pytest.mark.parametrize(
    ("severity", "priority"),
    [(1, "low"), (399, "low"), (400, "medium"), (599, "medium"), (600, "high"), (799, "high"), (800, "critical")],
)
def test_severity_to_priority(severity: int, priority: str) -> None:
    assert priority_for(severity) == priority
    assert priority_for(1000) == "critical"


@pytest.mark.parametrize("bad", [0, 1001, -5, True, "800", 800.0, None, math.nan])
def test_bad_severities_are_malformed(bad: Any) -> None:
    with pytest.raises(Malformed):
        priority_for(bad)


@pytest.mark.parametrize(
    ("active", "acked", "retain", "state", "ackable"),
    [
        (True, False, True, "active_unacked", True),
        (True, True, True, "active_acked", True),
        (False, False, True, "cleared_unacked", True),
        (False, True, True, "resolved", True),
        (False, True, False, "resolved", True),
        (True, None, True, "active_acked", False),
        (None, None, True, "active_acked", False),
        (None, None, False, "resolved", False),
    ],
)
def test_alert_states(active: Any, acked: Any, retain: Any, state: str, ackable: bool) -> None:
    view = alert_state(active=active, acked=acked, retain=retain)
    assert (view.state, view.acknowledgeable) == (state, ackable)


def test_shelved_disabled_and_wrong_types() -> None:
    assert alert_state(active=True, acked=False, retain=True, shelved=True).state == "shelved"
    assert alert_state(active=False, acked=True, retain=False, shelved=True).state == "resolved"
    assert alert_state(active=True, acked=False, retain=True, enabled=False).state == "resolved"
    with pytest.raises(Malformed):
        alert_state(active="yes", acked=False, retain=True)


def test_telemetry_names_carry_their_unit() -> None:
    assert telemetry_name("SpindleSpeed", "rpm") == "spindle_speed_rpm"
    assert telemetry_name("OilTemperature", "°C") == "oil_temperature_c"
    assert telemetry_name("Load", "%") == "load_pct"
    assert telemetry_name("Power_kW", "kW") == "power_kw"
    assert telemetry_name("PartsMade", None) == "parts_made"
    assert telemetry_name("Flow", "m³/h") == "flow_m_h"


def test_clean_text_is_plain_short_and_cheap() -> None:
    assert clean_text("a\x1b[31mred\nline") == "a [31mred line"
    huge = "x" * 10_000_000
    assert len(clean_text(huge)) == 200 and clean_text(huge).endswith("…")


# --- the translation ------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def plant() -> Plant:
    press = MachineModel("Press-1", "ns=4;i=1", "Press-1", "Schuler", "MSP 400", machinery=True)
    press.watch = {
        "s": Watched("Press-1", "item_state"),
        "sid": Watched("Press-1", "item_state_id"),
        "m": Watched("Press-1", "mode"),
        "rpm": Watched("Press-1", "telemetry", "spindle_speed_rpm"),
    }
    press.state_names = {"ns=3;i=7": "Executing", "ns=3;i=9": "NotExecuting"}
    plain = MachineModel("Oven", "ns=4;i=9", "Oven")
    plain.watch = {"t": Watched("Oven", "state_text")}
    return Plant([press, plain], "machinery", {"ns=4;i=1": "Press-1", "ns=4;i=2": "Press-1"})


@pytest.fixture
def translator() -> Translator:
    t = Translator(name="plant", node_id="opcua-plant", clock=Clock())
    t.set_plant(plant())
    return t


def test_machines_start_offline_until_their_state_comes(translator: Translator) -> None:
    machines = {m.id: m for m in translator.machines}
    assert machines["UA-plant-Press-1"].state == "offline" and machines["UA-plant-Press-1"].model == "Schuler MSP 400"
    events = translator.data("sid", "ns=3;i=7")
    assert [e.data.state for e in events] == ["running"]
    translator.data("s", "Läuft")  # a localized text: the Id decides
    translator.data("sid", "ns=3;i=9")
    assert {m.id: m for m in translator.machines}["UA-plant-Press-1"].state == "idle"
    assert translator.data("t", "Running")[0].data.state == "running"


def test_hostile_values_change_nothing_and_are_kept_as_malformed(translator: Translator) -> None:
    translator.data("sid", "ns=3;i=7")
    translator.data("rpm", 1000.0)
    seq = translator.seq
    for node, value in (("rpm", math.nan), ("rpm", "fast"), ("rpm", True), ("sid", 42), ("m", 7), ("t", "Dancing")):
        assert translator.data(node, value) == []
    assert translator.seq == seq and len(translator.take_malformed()) == 6
    press = {m.id: m for m in translator.machines}["UA-plant-Press-1"]
    assert press.state == "running" and press.telemetry == {"spindle_speed_rpm": 1000.0}
    assert translator.data("unknown-node", 1) == [] and not translator.take_malformed()


def condition(**fields: Any) -> dict[str, Any]:
    base = {
        "EventId": b"e1",
        "EventType": "i=10637",
        "SourceNode": "ns=4;i=2",
        "SourceName": "Press-1",
        "Time": T0,
        "Message": "Oil hot",
        "Severity": 700,
        "ConditionName": "OilOverTemperature",
        "Retain": True,
        "ActiveState/Id": True,
        "AckedState/Id": False,
        "ConditionId": "ns=4;i=16",
    }
    base.update(fields)
    return base


def test_a_condition_becomes_an_alert_and_moves_on(translator: Translator) -> None:
    (raised,) = translator.event(condition())
    alert = raised.data
    assert (raised.type, alert.priority, alert.state, alert.code) == (
        "alert.raised",
        "high",
        "active_unacked",
        "oil_over_temperature",
    )
    assert (alert.source.kind, alert.source.id) == ("machine", "UA-plant-Press-1")
    conditions = translator.conditions
    assert conditions.condition_of(alert.id) == "ns=4;i=16" and conditions.event_id("ns=4;i=16") == b"e1"
    conditions.ack_sending("ns=4;i=16", "checked")
    (acked,) = translator.event(condition(EventId=b"e2", **{"AckedState/Id": True}, Comment=None))
    assert (acked.data.state, acked.data.acked_by, acked.data.ack_note) == ("active_acked", "console", "checked")
    (shelved,) = translator.event(
        condition(
            EventId=b"e3",
            **{"AckedState/Id": True, "ShelvingState/CurrentState/Id": "i=2932"},
            **{"ShelvingState/UnshelveTime": 60_000.0},
        )
    )
    assert shelved.data.state == "shelved" and shelved.data.shelved_until == T0 + timedelta(minutes=1)
    (resolved,) = translator.event(
        condition(EventId=b"e4", Retain=False, **{"ActiveState/Id": False, "AckedState/Id": True})
    )
    assert resolved.data.state == "resolved" and translator.alerts == []
    assert translator.event(condition(EventId=b"e5", Retain=False, **{"ActiveState/Id": False})) == []


def test_conditions_without_ack_branches_and_bad_fields(translator: Translator) -> None:
    (plain,) = translator.event(condition(ConditionId="ns=4;i=20", **{"AckedState/Id": None, "ActiveState/Id": None}))
    assert plain.data.state == "active_acked" and not translator.conditions.acknowledgeable("ns=4;i=20")
    assert plain.data.source.kind == "machine"
    assert translator.event(condition(ConditionId="ns=4;i=21", BranchId="ns=4;i=99")) == []
    for bad in ({"Severity": 5000}, {"Severity": "high"}, {"EventId": "text"}, {"ActiveState/Id": "on"}):
        assert translator.event(condition(ConditionId="ns=4;i=22", **bad)) == []
    assert len(translator.take_malformed()) == 4
    assert translator.event({"EventType": "i=2041", "ConditionId": None, "Message": "audit"}) == []  # not a condition
    (elsewhere,) = translator.event(condition(ConditionId="ns=4;i=23", SourceNode="ns=9;i=1", SourceName="Boiler"))
    assert (elsewhere.data.source.kind, elsewhere.data.source.id) == ("node", "opcua-plant")


def test_a_refresh_resolves_the_alerts_it_does_not_resend(translator: Translator) -> None:
    translator.event(condition())
    translator.event(condition(ConditionId="ns=4;i=17", ConditionName="DoorOpen"))
    translator.event({"EventType": REFRESH_START, "ConditionId": None})
    translator.event(condition(EventId=b"r1"))
    events = translator.event({"EventType": REFRESH_END, "ConditionId": None})
    assert [(e.type, e.data.code, e.data.state) for e in events] == [("alert.updated", "door_open", "resolved")]
    assert [a.code for a in translator.alerts] == ["oil_over_temperature"]


def test_unreachable_shows_every_machine_offline(translator: Translator) -> None:
    translator.data("sid", "ns=3;i=7")
    events = translator.unreachable("OPC UA server unreachable: ConnectionRefusedError")
    assert {e.data.state for e in events} == {"offline"}
    assert translator.unreachable(None) == []
