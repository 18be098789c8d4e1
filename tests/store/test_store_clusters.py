"""Several clusters in one store (docs/multi-cluster.md): ids qualified at the source boundary stay distinct across
clusters, a cluster's own agents still merge with it by id, a cluster that is down is stale alone, the ``cluster:``
filter term, and the qualifier's way out (a command's path and body carry the server's own ids)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.api.models import Event, EventType, Snapshot
from console.screens.dashboard_facts import stale_machine_ids
from console.sources.cluster_ids import Qualifier
from console.store import SourceState, Store
from console.store.clusters import cluster_of, is_cluster_name, qualify, unqualify
from console.store.query import parse
from tests.store import factories as f

LIVE, STALE = SourceState.LIVE, SourceState.STALE


def cluster_snapshot(seq: int = 10, state: str = "idle") -> Snapshot:
    """What any simulated cluster says: the same ids in every cluster (N-1, M-1, J-1, A-1)."""
    return f.snapshot(
        seq,
        nodes=[f.node("N-1"), f.node("N-2")],
        machines=[f.machine("M-1", "N-1", state=state), f.machine("M-2", "N-2")],
        jobs=[f.job("J-1", machine_id="M-1", node_id="N-1", status="assigned")],
        alerts=[f.alert("A-1", source_id="M-1"), f.alert("A-C", kind="cluster", source_id="C-1")],
        quality_=[f.quality("node", "N-1"), f.quality("cluster", "C-1")],
    )


def two_clusters() -> Store:
    store = Store()
    for name, state in (("leeds", "idle"), ("york", "fault")):
        store.register_source(name, kind="cluster")
        store.apply_snapshot(name, Qualifier(name).snapshot(cluster_snapshot(state=state)))
        store.set_source_state(name, LIVE)
    store.take_changes()
    return store


def test_colliding_ids_of_two_clusters_are_two_objects() -> None:
    store = two_clusters()
    assert set(store.machines) == {"leeds/M-1", "leeds/M-2", "york/M-1", "york/M-2"}
    assert set(store.nodes) == {"leeds/N-1", "leeds/N-2", "york/N-1", "york/N-2"}
    assert store.machines["leeds/M-1"].state == "idle"
    assert store.machines["york/M-1"].state == "fault"
    assert store.machines["york/M-1"].node_id == "york/N-1"
    assert store.jobs["york/J-1"].machine_id == "york/M-1"
    assert store.alerts["york/A-1"].source.id == "york/M-1"
    assert {m.id for m in store.machines_by_node("york/N-1")} == {"york/M-1"}
    assert store.owner("machines", "york/M-1") == "york"
    assert store.command_source("machine", "york/M-1") == "york"
    assert store.command_source("node", "leeds/N-2") == "leeds"
    assert ("cluster", "york/C-1") in store.quality
    assert store.cluster is not None and store.cluster.name == "2 clusters"


def test_one_cluster_keeps_its_own_cluster_object() -> None:
    store = Store()
    store.register_source("cluster", kind="cluster")
    store.apply_snapshot("cluster", cluster_snapshot())
    assert store.cluster is not None and store.cluster.name == "Test cluster"
    assert set(store.machines) == {"M-1", "M-2"}


def test_events_of_one_cluster_touch_only_its_objects() -> None:
    store = two_clusters()
    q = Qualifier("york")
    moved = f.machine("M-1", "N-1", state="running")
    store.apply_events("york", [q.parse("11", EventType.MACHINE_UPDATED, moved.model_dump_json())])
    store.apply_events(
        "york", [q.parse("12", EventType.MACHINE_TELEMETRY, f.telemetry("M-1", nozzle_c=210.0).model_dump_json())]
    )
    assert store.machines["york/M-1"].state == "running"
    assert store.machines["leeds/M-1"].state == "idle"
    assert store.machine_telemetry("york/M-1")["nozzle_c"] == 210.0
    assert store.machine_telemetry("leeds/M-1")["nozzle_c"] == 20.0


def test_a_clusters_own_agent_still_merges_with_it_by_id() -> None:
    store = two_clusters()
    agent = f.snapshot(500, nodes=[f.node("N-1")], machines=[f.machine("M-1", "N-1", state="paused")], instance_id="a")
    store.register_source("york:agent-1", kind="agent")
    store.apply_snapshot("york:agent-1", Qualifier("york").snapshot(agent))
    store.set_source_state("york:agent-1", LIVE)
    assert "york/M-1" in store.machines and len(store.machines) == 4  # the same machine, not a fifth one
    assert store.node_source("york/N-1") == "york"  # the cluster API while it is live
    store.set_source_state("york", STALE)
    assert store.node_source("york/N-1") == "york:agent-1"
    assert store.machines["york/M-1"].state == "paused"
    assert store.node_source("leeds/N-1") == "leeds"


def test_a_cluster_that_is_down_is_stale_alone() -> None:
    store = two_clusters()
    assert stale_machine_ids(store) == set()
    store.set_source_state("york", STALE, reason="connection refused")
    assert stale_machine_ids(store) == {"york/M-1", "york/M-2"}
    assert store.machines["leeds/M-1"].state == "idle"  # nothing of leeds moved
    store.set_source_state("york", LIVE)
    assert stale_machine_ids(store) == set()


def test_the_cluster_filter_term() -> None:
    store = two_clusters()
    query = parse("cluster:york")
    assert not query.errors
    assert {m.id for m in store.machines.values() if query.matches_machine(m)} == {"york/M-1", "york/M-2"}
    assert {j.id for j in store.jobs.values() if query.matches_job(j)} == {"york/J-1"}
    assert {a.id for a in store.alerts.values() if query.matches_alert(a)} == {"york/A-1", "york/A-C"}
    assert {n.id for n in store.nodes.values() if query.matches_node(n)} == {"york/N-1", "york/N-2"}
    prefix = parse("cluster:le state:idle")
    assert {m.id for m in store.machines.values() if prefix.matches_machine(m)} == {"leeds/M-1", "leeds/M-2"}
    negated = parse("-cluster:leeds")
    assert {m.id for m in store.machines.values() if negated.matches_machine(m)} == {"york/M-1", "york/M-2"}
    assert not parse("cluster:york").matches_machine(f.machine("M-1"))  # one cluster: nothing is qualified


def test_the_way_out_carries_the_servers_own_ids() -> None:
    q = Qualifier("york")
    assert q.path("/v1/machines/york%2FM-1/pause") == "/v1/machines/M-1/pause"
    assert q.path("/v1/jobs/york%2FJ%2F7/reroute") == "/v1/jobs/J%2F7/reroute"
    assert q.path("/v1/machines/leeds%2FM-1/pause") == "/v1/machines/leeds%2FM-1/pause"  # not ours: a 404 there
    assert q.body({"machine_id": "york/M-2", "reason": "r"}) == {"machine_id": "M-2", "reason": "r"}
    assert q.body({"node_id": "york/N-2"}) == {"node_id": "N-2"}
    body = {"reason": "x"}
    assert q.body(body) is body


def test_qualified_events_keep_seq_and_type_and_leave_others_alone() -> None:
    q = Qualifier("york")
    item = q.parse("7", EventType.JOB_REMOVED, '{"id": "J-1"}')
    assert isinstance(item, Event) and item.seq == 7 and item.data.id == "york/J-1"
    reset = q.parse("8", "reset", '{"seq": 3, "instance_id": "x"}')
    assert not isinstance(reset, Event)
    bad = q.parse("9", EventType.MACHINE_UPDATED, "{not json")
    assert not isinstance(bad, Event)


names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True)


@given(names, st.text(max_size=40))
def test_qualify_round_trips_for_any_server_id(name: str, server_id: str) -> None:
    assert is_cluster_name(name)
    qualified = qualify(name, server_id)
    assert cluster_of(qualified) == name
    assert unqualify(name, qualified) == server_id


@given(st.text(max_size=40))
def test_cluster_names_are_short_and_plain(text: str) -> None:
    if is_cluster_name(text):
        assert 1 <= len(text) <= 16 and "/" not in text and text.isascii() and text == text.lower()


@given(names, st.text(min_size=1, max_size=40), st.sampled_from(["machine.pause", "job.reroute", "alert.ack"]))
def test_a_commands_path_carries_the_servers_own_id_whatever_it_holds(name: str, server_id: str, action: str) -> None:
    from console.api.commands import command_path

    assert Qualifier(name).path(command_path(action, qualify(name, server_id))) == command_path(action, server_id)


async def test_one_cluster_parses_as_before() -> None:
    """No qualifier, no extra step per event: the source's parse is the plain SSE parse."""
    from console.api.client import ClusterClient
    from console.api.sse import parse_sse
    from console.sources.cluster import ClusterSource

    client = ClusterClient("http://127.0.0.1:9")
    try:
        source = ClusterSource("cluster", client, Store())
        assert source._parse is parse_sse and source.qualifier is None
        several = ClusterSource("york", client, Store(), qualifier=Qualifier("york"))
        assert several._parse is not parse_sse
    finally:
        await client.aclose()
