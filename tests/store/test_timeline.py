"""The per-subject timeline (``console.store.timeline``): from the simulator's own events as the store ingests them
(a pause with a reason, a reroute that restarts a running job and scraps its part, a cancel), from hand-built
sequences (placement, node changes, unknown statuses, draining), no entry for what did not change, the bounds, and a
property: any sequence of machines and jobs the models accept never crashes it nor grows it past its caps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.api.models import Event, Job, JobRemoved, Machine, Snapshot
from console.demo.sim import SimConfig, Simulation, SteppedClock
from console.store import Store
from console.store.timeline import JOB_EVENTS, Timeline, TimelineEntry
from tests.faults import hostile_strategies as hs
from tests.store import factories as f


class SimFeed:
    """The simulator feeding a store the way the cluster source does: a snapshot, then its numbered events; the
    store's clock is the simulation's (the server's)."""

    def __init__(self, seed: int = 7, warmup_s: float = 120.0) -> None:
        self.clock = SteppedClock()
        self.sim = Simulation(SimConfig(seed=seed), self.clock)
        self.run(warmup_s)
        self.store = Store()
        self.store.clock = self.sim.now
        self.seq = 100
        self.store.register_source("c")
        self.store.apply_snapshot("c", self.snapshot())
        self.sim.subscribe(self._emit)

    def snapshot(self) -> Snapshot:
        sim = self.sim
        return Snapshot(
            seq=self.seq,
            cluster=f.cluster(self.seq, server_time=sim.now()),
            nodes=sim.nodes(),
            machines=sim.machines(),
            jobs=sim.jobs(),
            alerts=sim.alerts(),
            quality=[],
        )

    def _emit(self, event_type: str, payload: Any) -> None:
        self.seq += 1
        self.store.apply_event("c", Event(self.seq, event_type, payload))

    def run(self, seconds: float, step: float = 10.0) -> None:
        while seconds > 0:
            self.clock.advance(min(step, seconds))
            self.sim.tick()
            seconds -= step

    def running_job(self, avoid: set[str] = frozenset()) -> Job:  # type: ignore[assignment]
        return next(j for j in self.sim.jobs() if j.status == "running" and j.id not in avoid)


def events(store: Store, kind: str, subject_id: str) -> list[str]:
    return [e.event for e in store.timeline.entries((kind, subject_id))]


def last(store: Store, kind: str, subject_id: str) -> TimelineEntry:
    return store.timeline.entries((kind, subject_id))[-1]


# --- from the simulator ---------------------------------------------------------------------------------------------


def test_the_first_snapshot_makes_no_entry_and_a_reapplied_one_adds_nothing() -> None:
    feed = SimFeed()
    assert len(feed.store.timeline) == 0
    feed.store.apply_snapshot("c", feed.snapshot())
    assert len(feed.store.timeline) == 0


def test_a_pause_with_a_reason_then_a_resume() -> None:
    feed = SimFeed()
    job = feed.running_job()
    machine_id = job.machine_id or ""
    feed.sim.execute("machine.pause", machine_id, {"mode": "now", "reason": "bed not clear"}, "alice", "k1")
    store = feed.store
    state = next(e for e in store.timeline.entries(("machine", machine_id)) if e.event == "state")
    assert state.value == "paused" and state.who == "alice" and "running → paused" in state.summary
    assert state.summary == "running → paused: paused by alice: bed not clear"  # the reason names them: once
    assert state.at == store.machines[machine_id].state_since
    assert events(store, "job", job.id) == ["paused"]
    paused = last(store, "job", job.id)
    assert paused.ref == ("machine", machine_id) and paused.value == "paused"
    job_on_machine = [e for e in store.timeline.entries(("machine", machine_id)) if e.ref == ("job", job.id)]
    assert [e.event for e in job_on_machine] == ["paused"]
    feed.run(30)
    feed.sim.execute("machine.resume", machine_id, {"reason": "cleared"}, "alice", "k2")
    assert events(store, "job", job.id) == ["paused", "resumed"]
    states = [e.value for e in store.timeline.entries(("machine", machine_id)) if e.event == "state"]
    assert states == ["paused", "running"]


def test_a_reroute_with_restart_records_where_it_ran_and_the_scrapped_part() -> None:
    feed = SimFeed()
    store = feed.store
    job = feed.running_job()
    old_machine = job.machine_id or ""
    candidates = [c for c in feed.sim.reroute_candidates(job.id) if not c.blockers]
    target = candidates[0]
    feed.sim.execute(
        "job.reroute", job.id, {"machine_id": target.machine_id, "restart": True, "reason": "spindle noise"}, "bob"
    )
    story = store.timeline.entries(("job", job.id))
    kinds = [e.event for e in story]
    assert "rerouted" in kinds and "scrapped" in kinds
    reroute = next(e for e in story if e.event == "rerouted")
    assert reroute.was == ("machine", old_machine) and reroute.ref == ("machine", target.machine_id)
    old_node = store.machines[old_machine].node_id
    if old_node == target.node_id:
        assert reroute.summary == f"rerouted {old_machine} → {target.machine_id} (node {target.node_id})"
    else:
        assert reroute.summary == (
            f"rerouted {old_machine} (node {old_node}) → {target.machine_id} (node {target.node_id})"
        )
    scrapped = next(e for e in story if e.event == "scrapped")
    assert scrapped.summary.startswith("scrapped 1 (scrap ") and scrapped.ref == ("machine", old_machine)
    assert kinds.index("scrapped") < kinds.index("rerouted")  # the part in progress went on the machine it left
    on_old = [e for e in store.timeline.entries(("machine", old_machine)) if e.event == "scrapped"]
    assert [e.ref for e in on_old] == [("job", job.id)]
    away = [e.summary for e in store.timeline.entries(("machine", old_machine)) if e.event == "rerouted"]
    here = [e.summary for e in store.timeline.entries(("machine", target.machine_id)) if e.event == "rerouted"]
    assert away == [f"job {job.id} rerouted away to {target.machine_id} (node {target.node_id})"]
    assert here and here[0].startswith(f"job {job.id} rerouted here from {old_machine}")
    assert not [e for e in store.timeline.entries(("machine", target.machine_id)) if e.event == "scrapped"]
    times = [e.at for e in story]
    assert times == sorted(times)


def test_a_cancel_and_the_jobs_that_finish_on_their_own() -> None:
    feed = SimFeed()
    store = feed.store
    job = feed.running_job()
    feed.sim.execute("job.cancel", job.id, {"reason": "customer withdrew"}, "carol")
    assert events(store, "job", job.id)[-1] == "cancelled"
    on_machine = last(store, "machine", job.machine_id or "")
    assert on_machine.event == "cancelled" and on_machine.ref == ("job", job.id)
    assert on_machine.summary == f"job {job.id} cancelled"
    feed.run(3 * 3600, step=30)
    finished = [e for ring in _all(store.timeline) for e in ring if e.event in ("completed", "failed")]
    assert finished, "three hours of the simulation finish some jobs"
    for entry in finished:
        assert entry.summary.startswith(f"{entry.event}: ") or entry.summary.startswith("job ")
    started = [e for ring in _all(store.timeline) for e in ring if e.event == "started" and e.subject[0] == "job"]
    assert started and all(e.summary.startswith("started on ") for e in started)
    assert {e.event for ring in _all(store.timeline) for e in ring} <= {"state", "draining", *JOB_EVENTS}


def _all(timeline: Timeline) -> list[list[TimelineEntry]]:
    return [timeline.entries(subject) for subject in timeline.subjects()]


# --- by hand --------------------------------------------------------------------------------------------------------


def hand_store(**kw: Any) -> Store:
    store = Store(**kw)
    store.clock = lambda: f.at(500)
    store.apply_snapshot(
        "c",
        f.snapshot(
            1,
            nodes=[f.node("N-1"), f.node("N-2")],
            machines=[f.machine("M-1", "N-1"), f.machine("M-2", "N-2")],
            jobs=[f.job("J-1")],
        ),
    )
    return store


class Seq:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.seq = 1

    def __call__(self, type_: str, data: Any) -> None:
        self.seq += 1
        self.store.apply_event("c", f.ev(self.seq, type_, data))


def test_placement_progress_unknown_status_removal_and_node_state() -> None:
    store = hand_store()
    send = Seq(store)
    send("job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="assigned"))
    send("job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="assigned", progress=0.5))  # not news
    send("job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="quarantined"))
    send("job.updated", f.job("J-1", node_id="N-2", status="queued"))
    send("job.removed", JobRemoved(id="J-1"))
    story = store.timeline.entries(("job", "J-1"))
    assert [(e.event, e.summary) for e in story] == [
        ("assigned", "placed on M-1 (node N-1)"),
        ("status", "assigned → quarantined"),
        ("rerouted", "rerouted M-1 (node N-1) → node N-2"),
    ]
    assert story[2].was == ("machine", "M-1") and story[2].ref == ("node", "N-2")
    assert "J-1" not in store.jobs and len(store.timeline.entries(("job", "J-1"))) == 3  # kept after it went
    send("node.updated", f.node("N-1", state="degraded"))
    send("node.updated", f.node("N-1", state="degraded", last_seen=f.at(600)))  # not news
    assert [(e.event, e.summary, e.value) for e in store.timeline.entries(("node", "N-1"))] == [
        ("state", "online → degraded", "degraded")
    ]
    assert store.timeline.entries(("node", "N-1"))[0].at == f.at(500)  # when heard (after its last_seen)


def test_draining_and_a_fault_with_its_code_and_reason_and_the_recent_events_panel_still_fed() -> None:
    store = hand_store()
    send = Seq(store)
    send("machine.updated", f.machine("M-1", "N-1", draining=True, paused_by="dave", last_seen=f.at(700)))
    entry = last(store, "machine", "M-1")
    assert (entry.event, entry.who, entry.at) == ("draining", "dave", f.at(700))
    fault = f.machine(
        "M-1", "N-1", state="fault", state_since=f.at(800), fault_code="E7", state_reason="jam", draining=True
    )
    send("machine.updated", fault)
    entry = last(store, "machine", "M-1")
    assert (entry.event, entry.value, entry.summary) == ("state", "fault", "idle → fault [E7]: jam")
    assert entry.at == f.at(800)  # its state_since: the server's time of the change
    assert [e.summary for e in store.recent_machine_events("M-1")] == ["idle → fault [E7]: jam"]
    assert store.machines_in_state("fault") == [store.machines["M-1"]]
    held = f.machine("M-1", "N-1", state="paused", paused_by="dave", state_reason="maintenance window", draining=True)
    send("machine.updated", held)
    assert last(store, "machine", "M-1").summary == "fault → paused: maintenance window (by dave)"


def test_the_caps_per_subject_and_in_all() -> None:
    store = hand_store(timeline_per_subject=3, timeline_limit=5)
    send = Seq(store)
    for n in range(6):
        send("job.updated", f.job("J-1", scrap_qty=n + 1))
    assert [e.summary.split(" (")[0] for e in store.timeline.entries(("job", "J-1"))] == ["scrapped 1"] * 3
    assert [e.summary for e in store.timeline.entries(("job", "J-1"))][-1] == "scrapped 1 (scrap 6, done 0)"
    for n in range(5):
        send("job.updated", f.job(f"J-{n + 10}"))  # first seen: no entry
        send("job.updated", f.job(f"J-{n + 10}", status="cancelled"))
    timeline = store.timeline
    assert len(timeline) == 5 and len(list(timeline)) == 5
    assert ("job", "J-1") not in set(timeline.subjects())  # its entries were the oldest: dropped, then forgotten
    assert [(e.subject[1], e.event) for e in timeline] == [(f"J-{n}", "cancelled") for n in range(10, 15)]
    assert timeline.dropped == 3  # the three J-1 entries its own cap had not already dropped


# --- the property ---------------------------------------------------------------------------------------------------

MACHINE_IDS = ["M-1", "M-2"]
JOB_IDS = ["J-1", "J-2"]

updates: st.SearchStrategy[tuple[str, Any]] = st.one_of(
    st.sampled_from(MACHINE_IDS).flatmap(lambda m: hs.machines(m, "N-1").map(lambda x: ("machine.updated", x))),
    st.sampled_from(JOB_IDS).flatmap(lambda j: hs.jobs(j, "M-1", "N-1").map(lambda x: ("job.updated", x))),
    st.sampled_from(JOB_IDS).flatmap(lambda j: hs.jobs(j, "M-2", "N-2").map(lambda x: ("job.updated", x))),
    st.sampled_from(["N-1", "N-2"]).flatmap(lambda n: hs.nodes(n).map(lambda x: ("node.updated", x))),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(updates, max_size=40), hs.aware_times)
def test_any_sequence_the_models_accept_never_crashes_it_nor_grows_it_past_its_caps(
    sequence: list[tuple[str, Machine | Job | Any]], now: datetime
) -> None:
    store = hand_store(timeline_per_subject=4, timeline_limit=9)
    store.clock = _fixed(now)
    send = Seq(store)
    for type_, data in sequence:
        send(type_, data)
        timeline = store.timeline
        kept = list(timeline)
        assert len(kept) == len(timeline) <= 9
        assert all(len(timeline.entries(s)) <= 4 for s in timeline.subjects())
        assert all(timeline.entries(s) for s in timeline.subjects())
        for entry in kept:
            assert isinstance(entry.summary, str) and entry.kept


def _fixed(now: datetime) -> Callable[[], datetime]:
    return lambda: now


def test_clearing_the_store_forgets_the_history_and_a_screen_sees_the_change() -> None:
    """A replay's seek starts the store again (``Store.clear``): the history goes with what was heard."""
    store = hand_store(timeline_per_subject=7, timeline_limit=11)
    Seq(store)("job.updated", f.job("J-1", status="cancelled"))
    version = store.timeline.version
    assert len(store.timeline) == 1
    store.clear()
    assert len(store.timeline) == 0 and store.timeline.version > version
    assert (store.timeline.per_subject, store.timeline.total) == (7, 11)


def test_a_machine_first_seen_in_fault_or_paused_says_since_when_and_a_running_one_adds_nothing() -> None:
    store = Store()
    machines = [
        f.machine("M-1", state="fault", state_since=f.at(-600), fault_code="E-THERM", state_reason="thermal runaway"),
        f.machine("M-2", state="paused", state_since=f.at(-60), paused_by="tom.w", state_reason="first article"),
        f.machine("M-3", state="running"),
        f.machine("M-4", state="idle"),
    ]
    store.apply_snapshot("c", f.snapshot(1, machines=machines))
    fault = last(store, "machine", "M-1")
    assert (fault.at, fault.summary) == (f.at(-600), "fault when first seen [E-THERM]: thermal runaway")
    assert (last(store, "machine", "M-2").who, events(store, "machine", "M-3"), events(store, "machine", "M-4")) == (
        "tom.w",
        [],
        [],
    )
    store.apply_snapshot("c", f.snapshot(2, machines=machines))  # seen again: nothing new
    assert len(store.timeline) == 2


def test_a_job_first_seen_paused_or_failed_says_so_and_a_queued_one_adds_nothing() -> None:
    """The demo's J-10197 was paused (with its machine) before the console started: its timeline said only 'created'."""
    store = Store()
    store.clock = lambda: f.at(30)
    jobs = [
        f.job("J-1", status="paused", machine_id="M-1", node_id="N-1"),
        f.job("J-2", status="failed"),
        f.job("J-3", status="queued"),
    ]
    store.apply_snapshot("c", f.snapshot(1, jobs=jobs))
    assert last(store, "job", "J-1").summary == "paused when first seen on M-1 (node N-1)"
    assert last(store, "job", "J-2").summary == "failed when first seen"
    assert events(store, "job", "J-3") == []
    store.apply_snapshot("c", f.snapshot(2, jobs=jobs))  # seen again: nothing new
    assert len(store.timeline) == 2
