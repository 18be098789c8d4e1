"""The alert journal: a row per transition, from the simulator's own alert lifecycle as the store ingests it; no
duplicates when a snapshot is applied again or a second source reports the same alert; bounded; never crashed by
any alert the models accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.api.models import Alert, Event
from console.demo.sim.alerts import AlertBook
from console.store import Store
from console.store.journal import TRANSITIONS, AlertJournal, JournalRow
from tests.store import factories as f


class Feed:
    """The simulator's alert book feeding a store the way a source does: numbered events, in order."""

    def __init__(self, store: Store | None = None, source: str = "c") -> None:
        self.store = store or Store()
        self.source = source
        self.seq = 10
        self.book = AlertBook(self._emit, lambda: True)
        self.store.apply_snapshot(source, f.snapshot(self.seq))

    def _emit(self, event_type: str, alert: Alert) -> None:
        self.seq += 1
        self.store.apply_event(self.source, Event(self.seq, event_type, alert))

    def audit(self, action: str, alert_id: str, operator: str) -> None:
        self.seq += 1
        entry = f.audit(f"AU-{self.seq}", action=action, target={"kind": "alert", "id": alert_id}, operator=operator)
        self.store.apply_event(self.source, Event(self.seq, "audit.appended", entry))


def story(journal: AlertJournal, alert_id: str) -> list[tuple[str, str | None, str | None]]:
    return [(row.transition, row.who, row.note) for row in journal.rows_of(alert_id)]


def test_raise_ack_with_a_note_then_clear_resolves_and_the_alert_stays_findable() -> None:
    feed = Feed()
    book, journal = feed.book, feed.store.journal
    a = book.raise_(f.at(0), "machine", "M-1", "nozzle_clog", "high", "nozzle clog")
    book.ack(f.at(60), a, "alice", "cleaning the nozzle")
    book.clear(f.at(120), "machine", "M-1", "nozzle_clog")
    assert story(journal, a) == [
        ("raised", None, None),
        ("acked", "alice", "cleaning the nozzle"),
        ("resolved", None, None),
    ]
    assert [row.at for row in journal.rows_of(a)] == [f.at(0), f.at(60), f.at(120)]
    assert a not in feed.store.alerts  # the table holds unresolved alerts only
    last = journal.last_alert(a)
    assert last is not None
    assert (last.state, last.acked_by, last.ack_note) == ("resolved", "alice", "cleaning the nozzle")
    assert not journal.is_alive(a)
    row = journal.rows_of(a)[1]
    assert (row.source.kind, row.source.id, row.code, row.priority, row.server, row.count) == (
        "machine",
        "M-1",
        "nozzle_clog",
        "high",
        "c",
        1,
    )


def test_clear_re_raise_repeat_shelve_unshelve_and_who_shelved_from_the_audit_trail() -> None:
    feed = Feed()
    book, journal = feed.book, feed.store.journal
    a = book.raise_(f.at(0), "machine", "M-1", "door_open", "medium", "door open")
    book.clear(f.at(10), "machine", "M-1", "door_open")
    book.raise_(f.at(20), "machine", "M-1", "door_open", "medium", "door open again")
    book.raise_(f.at(30), "machine", "M-1", "door_open", "medium", "door open, third time")
    book.shelve(f.at(40), a, f.at(3640), "sensor swap at 10:00")
    feed.audit("alert.shelve", a, "bob")  # the simulator appends the audit entry after the alert's update
    book.shelve_expired(f.at(3640), a, f.at(3640))
    assert story(journal, a) == [
        ("raised", None, None),
        ("cleared", None, None),
        ("re-raised", None, None),
        ("count", None, "2 -> 3"),
        ("shelved", "bob", "sensor swap at 10:00"),
        ("unshelved", None, "the shelve ran out"),
    ]
    shelved = journal.rows_of(a)[4]
    assert shelved.until == f.at(3640) and shelved.state == "shelved"
    assert [row.count for row in journal.rows_of(a)] == [1, 1, 2, 3, 3, 3]


def test_an_audit_entry_before_its_transition_still_names_who() -> None:
    feed = Feed()
    a = feed.book.raise_(f.at(0), "machine", "M-1", "x", "low", "x")
    feed.audit("alert.unshelve", a, "carol")  # another server may announce the command first
    feed.book.shelve(f.at(5), a, f.at(600), "")
    feed.book.unshelve(f.at(9), a)
    assert story(feed.store.journal, a)[-1] == ("unshelved", "carol", None)


def test_a_snapshot_applied_again_after_a_reconnect_adds_no_row() -> None:
    store = Store()
    acked_before = f.alert("A-2", state="active_acked", acked_by="alice", ack_note="seen", updated_at=f.at(9))
    alerts = [f.alert("A-1"), acked_before]
    store.apply_snapshot("c", f.snapshot(10, alerts=alerts))
    first = [(row.id, row.transition, row.who) for row in store.journal]
    assert first == [("A-1", "raised", None), ("A-2", "raised", None), ("A-2", "acked", "alice")]
    store.apply_snapshot("c", f.snapshot(10, alerts=alerts))
    store.apply_snapshot("c", f.snapshot(25, alerts=[a.model_copy() for a in alerts]))  # equal, not the same objects
    assert len(store.journal) == 3
    # an event then the snapshot that already contains it: one row, not two
    acked = f.alert("A-1", state="active_acked", acked_by="bob", updated_at=f.at(30))
    store.apply_event("c", Event(26, "alert.updated", acked))
    store.apply_snapshot("c", f.snapshot(26, alerts=[acked, alerts[1]]))
    assert [row.transition for row in store.journal.rows_of("A-1")] == ["raised", "acked"]


def test_an_alert_missing_from_a_new_snapshot_is_gone_once() -> None:
    store = Store()
    store.apply_snapshot("c", f.snapshot(10, alerts=[f.alert("A-1"), f.alert("A-2")]))
    store.apply_snapshot("c", f.snapshot(20, alerts=[f.alert("A-2")]))
    store.apply_snapshot("c", f.snapshot(30, alerts=[f.alert("A-2")]))
    assert [row.transition for row in store.journal.rows_of("A-1")] == ["raised", "gone"]
    gone = store.journal.rows_of("A-1")[-1]
    assert gone.server == "c" and gone.at == f.T0  # the snapshot's server time
    last = store.journal.last_alert("A-1")
    assert last is not None and last.id == "A-1" and not store.journal.is_alive("A-1")
    # resolved while we watched: never "gone" after it
    store.apply_event("c", Event(31, "alert.updated", f.alert("A-2", state="resolved", updated_at=f.at(5))))
    store.apply_snapshot("c", f.snapshot(40))
    assert [row.transition for row in store.journal.rows_of("A-2")] == ["raised", "resolved"]


def test_an_alert_first_seen_acked_shelved_or_cleared_gets_its_story_so_far() -> None:
    store = Store()
    store.apply_snapshot(
        "c",
        f.snapshot(
            10,
            alerts=[
                f.alert("A-1", state="shelved", shelved_until=f.at(600), updated_at=f.at(5)),
                f.alert("A-2", state="cleared_unacked", updated_at=f.at(6)),
                f.alert("A-3", state="robot_dancing", updated_at=f.at(7)),
            ],
        ),
    )
    rows = [(row.id, row.transition, row.state, row.note) for row in store.journal]
    assert rows == [  # in the order it happened: all three raised at T0, then each went on
        ("A-1", "raised", "active_unacked", None),
        ("A-2", "raised", "active_unacked", None),
        ("A-3", "raised", "active_unacked", None),
        ("A-1", "shelved", "shelved", None),
        ("A-2", "cleared", "cleared_unacked", None),
        ("A-3", "changed", "robot_dancing", "robot_dancing"),
    ]
    assert [row.n for row in store.journal] == [1, 2, 3, 4, 5, 6]


def test_a_snapshots_story_so_far_is_in_time_order_so_newest_first_reads_right() -> None:
    """An alert raised at 07:34 and acked at 07:58 beside one raised at 07:40: the ack is the newest row."""
    store = Store()
    store.apply_snapshot(
        "c",
        f.snapshot(
            10,
            alerts=[
                f.alert("A-1", state="active_acked", acked_by="omar", raised_at=f.at(0), updated_at=f.at(24 * 60)),
                f.alert("A-2", raised_at=f.at(6 * 60), updated_at=f.at(6 * 60)),
            ],
        ),
    )
    rows = [(row.n, row.id, row.transition) for row in store.journal]
    assert rows == [(1, "A-1", "raised"), (2, "A-2", "raised"), (3, "A-1", "acked")]


def test_two_sources_reporting_one_alert_make_one_row_per_transition() -> None:
    store = Store()
    store.register_source("c", kind="cluster")
    store.register_source("a1", kind="agent")
    store.apply_snapshot("c", f.snapshot(10, alerts=[f.alert("A-1")]))
    store.apply_snapshot("a1", f.snapshot(500, alerts=[f.alert("A-1")], instance_id="agent"))
    acked = f.alert("A-1", state="active_acked", acked_by="alice", updated_at=f.at(60))
    store.apply_event("c", Event(11, "alert.updated", acked))
    store.apply_event("a1", Event(501, "alert.updated", acked))
    # a lagging source's older copy changes nothing
    store.apply_event("a1", Event(502, "alert.updated", f.alert("A-1", updated_at=f.at(30))))
    # the agent's new snapshot lacks it but the cluster still holds it: not gone
    store.apply_snapshot("a1", f.snapshot(600, instance_id="agent"))
    assert [(row.transition, row.server) for row in store.journal] == [("raised", "c"), ("acked", "c")]


def test_the_journal_keeps_its_last_rows_and_counts_the_dropped() -> None:
    store = Store(journal_limit=10)
    feed = Feed(store)
    for i in range(8):
        alert_id = feed.book.raise_(f.at(i * 10), "machine", f"M-{i}", "e", "low", "x")
        feed.book.ack(f.at(i * 10 + 1), alert_id, "alice", None)
        feed.book.clear(f.at(i * 10 + 2), "machine", f"M-{i}", "e")
    journal = store.journal
    assert len(journal) == 10 and journal.dropped == 14 and journal.total == 24
    assert [row.n for row in journal] == list(range(15, 25))
    assert journal.row(15) is journal.rows[0] and journal.row(14) is None and journal.row(25) is None
    assert journal.last_alert("A-00001") is None  # resolved, and none of its rows is left
    assert journal.last_alert("A-00008") is not None


def test_a_live_alert_stays_known_after_its_rows_are_dropped() -> None:
    store = Store(journal_limit=3)
    store.apply_snapshot("c", f.snapshot(10, alerts=[f.alert("A-1")]))
    for i in range(5):
        store.apply_event("c", Event(11 + i, "alert.raised", f.alert(f"B-{i}")))
    assert store.journal.rows_of("A-1") == [] and store.journal.is_alive("A-1")
    store.apply_snapshot("c", f.snapshot(20, alerts=[f.alert("A-1")]))  # A-1 unchanged: not "raised" again
    assert [(row.id, row.transition) for row in store.journal] == [("B-2", "gone"), ("B-3", "gone"), ("B-4", "gone")]


# --- any alerts at all ------------------------------------------------------------------------------------------------

STATES = ["active_unacked", "active_acked", "cleared_unacked", "shelved", "resolved"]
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5))])
TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES)
ANY_TEXT = st.text(max_size=12)


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    """Any alert the model accepts: known and unknown states and priorities, any text, any times (a few ids, so the
    same alert comes back changed)."""
    fields: dict[str, Any] = {
        "id": draw(st.sampled_from(["A-1", "A-2", "A-3", "A-4"]) | ANY_TEXT),
        "state": draw(st.sampled_from(STATES) | ANY_TEXT),
        "priority": draw(st.sampled_from(["critical", "high", "medium", "low"]) | ANY_TEXT),
        "count": draw(st.integers(min_value=1, max_value=2**40)),
        "updated_at": draw(st.sampled_from([f.at(s) for s in range(0, 100, 10)]) | TIMES),
        "raised_at": draw(TIMES),
        "acked_by": draw(st.none() | st.sampled_from(["alice", "bob"]) | ANY_TEXT),
        "ack_note": draw(st.none() | ANY_TEXT),
        "shelved_until": draw(st.none() | TIMES),
        "code": draw(st.sampled_from(["E1", "E2"]) | ANY_TEXT),
        "message": draw(ANY_TEXT),
    }
    kind = draw(st.sampled_from(["machine", "node", "job", "cluster"]) | ANY_TEXT)
    return f.alert(kind=kind, source_id=draw(ANY_TEXT), **fields)


step = st.one_of(
    st.tuples(st.just("event"), alerts()),
    st.tuples(st.just("snapshot"), st.lists(alerts(), max_size=4)),
    st.tuples(st.just("audit"), st.sampled_from(["A-1", "A-2", "A-5"])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=40), st.integers(min_value=1, max_value=12))
def test_any_alerts_never_crash_the_journal_nor_grow_it_past_its_cap(steps: list[Any], cap: int) -> None:
    store = Store(journal_limit=cap)
    store.apply_snapshot("c", f.snapshot(0))
    for seq, (kind, payload) in enumerate(steps, start=1):
        if kind == "event":
            store.apply_event("c", Event(seq, "alert.updated", payload))
        elif kind == "snapshot":
            unique = list({a.id: a for a in payload}.values())
            store.apply_snapshot("c", f.snapshot(seq, alerts=unique))
        else:
            target = {"kind": "alert", "id": payload}
            entry = f.audit(f"AU-{seq}", action="alert.shelve", target=target)
            store.apply_event("c", Event(seq, "audit.appended", entry))
        journal = store.journal
        assert len(journal) <= cap
        assert journal.total == len(journal) + journal.dropped
        numbers = [row.n for row in journal]
        assert numbers == list(range(journal.first_n, journal.total + 1))
        assert all(isinstance(row, JournalRow) and row.transition in TRANSITIONS for row in journal)


def test_journal_cost_per_alert_event_is_small() -> None:
    """Not a benchmark (see docs/alert-journal.md for the measured figure): a generous ceiling that catches an
    accidental O(rows) step in the per-event path."""
    import time

    journal = AlertJournal(capacity=1000)
    base = f.alert("A-0")
    updates = [
        base.model_copy(update={"id": f"A-{i % 500}", "count": 1 + i // 500, "updated_at": f.at(i)})
        for i in range(20_000)
    ]
    start = time.perf_counter()
    for alert in updates:
        journal.observe("c", alert)
    per_event = (time.perf_counter() - start) / len(updates)
    assert per_event < 50e-6, f"{per_event * 1e6:.1f} us per event"
    assert len(journal) == 1000 and journal.dropped == 19_000
    assert timedelta(0) <= journal.rows[-1].at - journal.rows[0].at
