"""An OPC UA server's machines in the merged view: on a node of their own, or on a node a cluster API serves (the
config's ``node``), where they are shown beside the cluster's machines and their alerts are carried by the server."""

from __future__ import annotations

from console.api.models import EventType
from console.sources.opcua.model import MachineModel, Plant, Watched
from console.sources.opcua.source import OpcUaSource
from console.sources.opcua.spec import OpcUaOptions
from console.store import SourceState, Store
from tests.store import factories as f


def fed(store: Store, node: str | None) -> OpcUaSource:
    source = OpcUaSource("opcua:hall", "hall", "opc.tcp://127.0.0.1:1", store, options=OpcUaOptions(node=node))
    press = MachineModel("Press-1", "ns=4;i=1", "Press-1", machinery=True)
    press.watch = {"s": Watched("Press-1", "item_state")}
    source.translator.set_plant(Plant([press], "machinery", {"ns=4;i=1": "Press-1"}))
    source._resnapshot()
    source._feed(source.translator.data("s", "Executing"))
    condition = {
        "EventId": b"1",
        "SourceNode": "ns=4;i=1",
        "Severity": 900,
        "ConditionName": "Jam",
        "Retain": True,
        "ActiveState/Id": True,
        "AckedState/Id": False,
        "ConditionId": "ns=4;i=9",
    }
    events = source.translator.event(condition)
    assert [e.type for e in events] == [EventType.ALERT_RAISED]
    source._feed(events)
    store.set_source_state("opcua:hall", SourceState.LIVE)
    return source


def test_machines_on_a_node_of_their_own() -> None:
    store = Store()
    fed(store, None)
    assert store.nodes["opcua-hall"].name == "OPC UA hall"
    assert [m.state for m in store.machines_by_node("opcua-hall")] == ["running"]


def test_machines_on_a_node_the_cluster_serves() -> None:
    store = Store()
    store.register_source("c", kind="cluster")
    store.apply_snapshot("c", f.snapshot(5, nodes=[f.node("N-1")], machines=[f.machine("M-1", "N-1")]))
    store.set_source_state("c", SourceState.LIVE)
    fed(store, "N-1")
    assert {m.id for m in store.machines_by_node("N-1")} == {"M-1", "UA-hall-Press-1"}
    assert "opcua-hall" not in store.nodes and store.nodes["N-1"] == f.node("N-1")
    (alert,) = [a for a in store.alerts.values() if a.code == "jam"]
    assert alert.priority == "critical"
    assert store.command_source("alert", alert.id) == "opcua:hall"
    assert store.command_source("machine", "M-1") == "c"
