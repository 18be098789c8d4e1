"""A fetched page of the server's audit trail goes into the store (console.store.audit_page): once per entry, in time
order, bounded; the alert journal learns who shelved an alert before the console started; the taps (the recorder)
hear the page; a recording carries it through the codec back into a replayed store."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.api.models import SourceRef
from console.recording.codec import SegmentDecoder, SegmentEncoder
from console.recording.format import AUDIT, Record
from console.store import Store
from console.store.audit_page import MAX_PAGE
from tests.store import factories as f


def shelved_before_we_started() -> tuple[Store, str]:
    """A store whose first snapshot holds an alert shelved before the console started (nobody known)."""
    store = Store()
    alert = f.alert("A-14", state="shelved", shelved_until=f.at(7200), updated_at=f.at(-600), raised_at=f.at(-900))
    store.apply_snapshot("cluster", f.snapshot(10, alerts=[alert]))
    return store, alert.id


def shelve_entry(alert_id: str, operator: str, seconds: float, id: str = "AU-7") -> Any:
    return f.audit(
        id, at=f.at(seconds), operator=operator, action="alert.shelve", target=SourceRef(kind="alert", id=alert_id)
    )


def test_a_fetched_page_tells_the_journal_who_shelved_before_the_console_started() -> None:
    store, alert_id = shelved_before_we_started()
    rows = [row for row in store.journal.rows_of(alert_id) if row.transition == "shelved"]
    assert rows and rows[-1].who is None
    store.take_changes()
    assert store.merge_audit("cluster", [shelve_entry(alert_id, "omar.b", -600)]) == 1
    assert [row.who for row in store.journal.rows_of(alert_id) if row.transition == "shelved"][-1] == "omar.b"
    assert store.take_changes().audit == {"AU-7"}
    assert [e.id for e in store.audit] == ["AU-7"]


def test_entries_are_kept_once_in_time_order_and_bounded() -> None:
    store = Store(audit_limit=5)
    heard = f.audit("AU-heard", at=f.at(100))
    store.apply_snapshot("cluster", f.snapshot(1))
    store.apply_event("cluster", f.ev(2, "audit.appended", heard))
    page = [f.audit(f"AU-{n}", at=f.at(n * 10)) for n in range(8)]
    assert store.merge_audit("cluster", [*page, page[0], heard]) == 8
    assert [e.id for e in store.audit] == ["AU-4", "AU-5", "AU-6", "AU-7", "AU-heard"]  # the newest five, by time


def test_a_hostile_page_is_cut() -> None:
    store = Store(audit_limit=100_000)
    page = [f.audit(f"AU-{n}", at=f.at(n)) for n in range(MAX_PAGE + 500)]
    assert store.merge_audit("cluster", page) == MAX_PAGE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(-10_000, 10_000)), max_size=40), st.integers(1, 12))
def test_any_pages_leave_a_bounded_trail_in_time_order_each_id_once(entries: list[tuple[int, int]], limit: int) -> None:
    store = Store(audit_limit=limit)
    page = [f.audit(f"AU-{n}", at=f.at(s)) for n, s in entries]
    store.merge_audit("cluster", page[: len(page) // 2])
    store.merge_audit("cluster", page[len(page) // 2 :])
    trail = list(store.audit)
    assert len(trail) <= limit
    assert len({e.id for e in trail}) == len(trail)
    assert [e.at for e in trail] == sorted(e.at for e in trail)


def test_the_taps_hear_a_page_and_a_recording_carries_it_back() -> None:
    store, alert_id = shelved_before_we_started()
    heard: list[tuple[str, list[Any]]] = []

    class Tap:
        def snapshot(self, source_id: str, snapshot: Any) -> None: ...
        def events(self, source_id: str, items: list[Any], start: int, end: int) -> None: ...
        def source_state(self, source_id: str, state: str, reason: str | None) -> None: ...
        def malformed(self, source_id: str, item: Any) -> None: ...
        def audit_page(self, source_id: str, entries: list[Any]) -> None:
            heard.append((source_id, entries))

    store.add_tap(Tap())
    page = [shelve_entry(alert_id, "omar.b", -600), f.audit("AU-8", at=f.at(5), reason="[bold]x\x1b[31m")]
    store.merge_audit("cluster", page)
    store.merge_audit("cluster", page)  # nothing new: nothing to record
    assert [(s, [e.id for e in es]) for s, es in heard] == [("cluster", ["AU-7", "AU-8"])]

    blob, _events = SegmentEncoder().encode([Record(AUDIT, "cluster", 1_000.0, 10, heard[0][1])])
    (record,) = SegmentDecoder().decode(blob)
    assert record.kind == AUDIT and record.payload == page
    replayed, _ = shelved_before_we_started()
    replayed.merge_audit(record.source_id, record.payload)
    assert [row.who for row in replayed.journal.rows_of(alert_id) if row.transition == "shelved"][-1] == "omar.b"
    assert replayed.audit[-1].reason == "[bold]x\x1b[31m"  # kept as it came; screens make it inert


def test_a_replay_seek_keeps_who_did_what_from_the_checkpoints_trail() -> None:
    store, alert_id = shelved_before_we_started()
    entry = shelve_entry(alert_id, "omar.b", -600)
    store.clear(audit=[entry])  # a seek: forget everything, keep the checkpoint's trail
    alert = f.alert(alert_id, state="shelved", shelved_until=f.at(7200), updated_at=f.at(-600), raised_at=f.at(-900))
    store.apply_snapshot("cluster", f.snapshot(10, alerts=[alert]))
    assert [row.who for row in store.journal.rows_of(alert_id) if row.transition == "shelved"][-1] == "omar.b"
