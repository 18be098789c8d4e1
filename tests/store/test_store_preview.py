"""A preview (``console.store.preview``): shown at once, marked as loading, replaced by the snapshot, never a
replacement for one."""

from __future__ import annotations

from console.store import Store
from console.store.preview import Loading, Preview, loading
from tests.store.factories import alert, cluster, ev, job, machine, node, snapshot


def _preview(*machine_ids: str, total: int | None = 4, alerts: tuple[str, ...] = ()) -> Preview:
    return Preview(
        cluster=cluster(seq=5),
        nodes=[node("N-1", machine_count=4)],
        machines=[machine(m) for m in machine_ids],
        alerts=[alert(a) for a in alerts],
        machines_total=total,
        alerts_complete=True,
    )


def test_a_preview_is_shown_and_marked_as_loading_without_a_seq() -> None:
    store = Store()
    store.register_source("cluster")
    assert store.apply_preview("cluster", _preview("M-1", "M-2", alerts=("A-1",)))
    assert set(store.machines) == {"M-1", "M-2"} and set(store.nodes) == {"N-1"} and set(store.alerts) == {"A-1"}
    assert store.cluster is not None and store.cluster.seq == 5
    assert loading(store) == {"cluster": Loading(2, 4, True)}
    status = store.sources["cluster"]
    assert status.seq is None and status.instance_id is None and status.snapshots_total == 0
    changes = store.take_changes()
    assert changes.machines == {"M-1", "M-2"} and "cluster" in changes.sources and changes.structure
    assert len(store.journal.rows) == 0  # the journal hears of alerts from the snapshot


def test_no_event_is_applied_against_a_preview() -> None:
    store = Store()
    store.register_source("cluster")
    store.apply_preview("cluster", _preview("M-1"))
    assert str(store.apply_event("cluster", ev(6, "machine.updated", machine("M-1", state="fault")))) == "gap"
    assert store.machines["M-1"].state == "idle"


def test_the_snapshot_replaces_the_preview_and_reports_only_what_differs() -> None:
    store = Store()
    store.register_source("cluster")
    store.apply_preview("cluster", _preview("M-1", "M-2", "M-9", alerts=("A-1",)))
    store.take_changes()
    full = snapshot(
        7,
        nodes=[node("N-1", machine_count=4)],
        machines=[machine("M-1"), machine("M-2", state="fault"), machine("M-3"), machine("M-4")],
        jobs=[job("J-1")],
    )
    store.apply_snapshot("cluster", full)
    store.end_preview("cluster")
    assert set(store.machines) == {"M-1", "M-2", "M-3", "M-4"}  # M-9 (gone meanwhile) went with the preview
    assert set(store.alerts) == set() and set(store.jobs) == {"J-1"}
    changes = store.take_changes()
    assert "M-1" not in changes.machines  # equal to what the preview showed
    assert {"M-2", "M-3", "M-4", "M-9"} <= changes.machines
    assert loading(store) == {} and store.sources["cluster"].seq == 7


def test_a_source_that_has_a_snapshot_keeps_it_on_a_resync() -> None:
    store = Store()
    store.register_source("cluster")
    store.apply_snapshot("cluster", snapshot(3, nodes=[node()], machines=[machine("M-1"), machine("M-2")]))
    assert not store.apply_preview("cluster", _preview("M-1"))
    assert set(store.machines) == {"M-1", "M-2"} and loading(store) == {}


def test_a_second_preview_replaces_the_first() -> None:
    store = Store()
    store.register_source("cluster")
    store.apply_preview("cluster", _preview("M-1", "M-2"))
    store.apply_preview("cluster", _preview("M-2", "M-3", total=None))
    assert set(store.machines) == {"M-2", "M-3"}
    assert loading(store)["cluster"] == Loading(2, None, True)


def test_with_several_sources_a_live_one_keeps_winning_over_a_preview() -> None:
    store = Store()
    store.register_source("agent:N-1", kind="agent")
    store.register_source("cluster")
    store.apply_snapshot("agent:N-1", snapshot(1, nodes=[node()], machines=[machine("M-1", state="running")]))
    store.set_source_state("agent:N-1", "live")
    store.apply_preview("cluster", _preview("M-1", "M-2"))
    assert store.machines["M-1"].state == "running"  # the live agent's, not the (not yet live) preview's
    assert "M-2" not in store.machines  # the node is served by its live agent, as with a snapshot not yet live
    assert store.owner("machines", "M-1") == "agent:N-1"
    assert loading(store) == {"cluster": Loading(2, 4, True)}


def test_a_forgotten_source_shows_no_preview() -> None:
    store = Store()
    store.register_source("cluster")
    store.apply_preview("cluster", _preview("M-1"))
    store.forget_source("cluster")
    assert loading(store) == {} and store.machines == {}
