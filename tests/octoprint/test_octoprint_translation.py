"""The translation (OctoPrint's answers to contract events) and the one way its events reach the store.

Two promises are checked here: every event the source makes carries its own next ``seq`` (1, 2, 3 ... with no gap,
across polls, failures and snapshots), and a command's effect reaches the store only as an event of the next poll
(the command itself writes nothing), so the store shows what the printer did, not what was asked of it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.api.errors import ConnectionFailed, NotFound
from console.api.models import Event, EventType, Snapshot
from console.sources.octoprint import OctoPrintSource
from console.sources.octoprint.translation import Translator
from console.store import Store
from tests.octoprint import fixtures
from tests.octoprint.fake_octoprint import FakeOctoPrint

MID = "OP-mk3"
SID = "octoprint:mk3"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
        self.mono = 0.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


class RecordingStore(Store):
    """A store that keeps every write a source makes: events taken, snapshots, single events."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[Event] = []
        self.snapshots: list[int] = []
        self.single: list[Event] = []

    def apply_events(self, source_id: str, items: list[Any], start: int = 0) -> int:
        end = super().apply_events(source_id, items, start)
        self.taken.extend(items[start:end])
        return end

    def apply_event(self, source_id: str, event: Event) -> Any:
        self.single.append(event)
        return super().apply_event(source_id, event)

    def apply_snapshot(self, source_id: str, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot.seq)
        super().apply_snapshot(source_id, snapshot)

    def writes(self) -> tuple[int, int, int]:
        return len(self.taken), len(self.snapshots), len(self.single)


def seqs(events: list[Event]) -> list[int]:
    return [event.seq for event in events]


# --- the translator alone ------------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def translator(clock: Clock) -> Translator:
    return Translator(name="mk3", machine_id=MID, node_id="octoprint", clock=clock, monotonic=clock.monotonic)


def test_seq_counts_up_by_one_across_every_kind_of_input(translator: Translator, clock: Clock) -> None:
    made: list[Event] = []
    answers = [
        (fixtures.printer("Operational"), fixtures.JOB_NONE),
        (fixtures.printer("Printing"), fixtures.job("Printing", completion=10.0)),
        (fixtures.printer("Paused"), fixtures.job("Paused", completion=11.0)),
        (fixtures.printer("Printing"), fixtures.job("Printing", completion=50.0)),
        (fixtures.printer("Error"), fixtures.job("Error: MINTEMP", completion=None)),
        (None, fixtures.job("Offline after error", completion=None)),
        (fixtures.printer("Operational"), fixtures.JOB_NONE),
        (fixtures.printer("Printing"), fixtures.job("Printing", path="b.gcode", completion=1.0)),
        (fixtures.printer("Operational"), fixtures.job("Operational", path="b.gcode", completion=100.0)),
    ]
    for printer, job in answers:
        clock.advance(2)
        made += translator.answer(printer, job)
        clock.advance(1)
        made += translator.poll_failed("OctoPrint unreachable: test")
    assert len(made) > 20
    assert seqs(made) == list(range(1, len(made) + 1))
    assert translator.seq == len(made)
    types = {event.type for event in made}
    assert {EventType.MACHINE_UPDATED, EventType.MACHINE_TELEMETRY, EventType.JOB_UPDATED} <= types
    assert {EventType.JOB_REMOVED, EventType.ALERT_RAISED, EventType.ALERT_UPDATED} <= types


def test_the_same_answer_twice_makes_no_event_and_uses_no_seq(translator: Translator, clock: Clock) -> None:
    first = translator.answer(fixtures.printer("Printing"), fixtures.job("Printing"))
    assert first and seqs(first) == list(range(1, len(first) + 1))
    assert translator.answer(fixtures.printer("Printing"), fixtures.job("Printing")) == []
    assert translator.seq == len(first)
    clock.mono += 20  # past the heartbeat (same wall time, so the ETA stays): one machine.updated, the next seq
    [beat] = translator.answer(fixtures.printer("Printing"), fixtures.job("Printing"))
    assert (beat.seq, beat.type) == (len(first) + 1, EventType.MACHINE_UPDATED)


def test_an_acknowledgement_is_an_input_of_the_next_translation(translator: Translator) -> None:
    translator.answer(fixtures.printer("Error"), fixtures.JOB_NONE)
    alert = translator.alert
    assert alert is not None and alert.state == "active_unacked"
    seq = translator.seq
    translator.acknowledge(alert.id, "looked at it")
    assert translator.pending and translator.alert is alert and translator.seq == seq  # nothing made yet
    [event] = translator.answer(fixtures.printer("Error"), fixtures.JOB_NONE)
    assert (event.seq, event.type, event.data.state, event.data.ack_note) == (
        seq + 1,
        EventType.ALERT_UPDATED,
        "active_acked",
        "looked at it",
    )
    assert not translator.pending
    with pytest.raises(NotFound):
        translator.acknowledge("OP-mk3-ERR-other", None)


def test_an_acknowledgement_goes_out_even_when_the_poll_fails(translator: Translator) -> None:
    translator.answer(fixtures.printer("Error"), fixtures.JOB_NONE)
    assert translator.alert is not None
    translator.acknowledge(translator.alert.id, None)
    [event] = translator.poll_failed(None)  # no answer, not yet shown offline: only the console's own change
    assert event.type == EventType.ALERT_UPDATED and event.data.state == "active_acked"


def test_a_cancel_sent_makes_the_next_end_a_cancel(translator: Translator) -> None:
    translator.answer(fixtures.printer("Printing"), fixtures.job("Printing", completion=99.9))
    translator.cancel_sent()
    assert translator.job is not None and translator.job.status == "running"  # no effect until OctoPrint says so
    events = translator.answer(fixtures.printer("Operational"), fixtures.job("Operational", completion=100.0))
    [job] = [e.data for e in events if e.type == EventType.JOB_UPDATED]
    assert job.status == "cancelled"


# --- the source: commands come back through its event stream -------------------------------------------------------


@pytest.fixture
async def wired(clock: Clock) -> AsyncIterator[tuple[OctoPrintSource, RecordingStore, FakeOctoPrint]]:
    fake, store = FakeOctoPrint(), RecordingStore()
    async with fake.client() as http:
        yield OctoPrintSource(SID, "mk3", "http://p", "KEY", store, http_client=http, clock=clock), store, fake


async def test_every_write_of_the_source_is_a_snapshot_or_its_next_events(
    wired: tuple[OctoPrintSource, RecordingStore, FakeOctoPrint],
) -> None:
    source, store, fake = wired
    await source.poll_once()
    fake.set("Printing", fixtures.job("Printing"))
    await source.poll_once()
    fake.set("Paused", fixtures.job("Paused"))
    await source.poll_once()
    assert store.snapshots == [0] and store.single == []
    assert seqs(store.taken) == list(range(1, source.translator.seq + 1))
    assert store.sources[SID].seq == source.translator.seq

    # The store forgets the source: it gets a snapshot at the translation's seq, then the stream goes on from it.
    held, taken = source.translator.seq, len(store.taken)
    store.forget_source(SID)
    fake.set("Printing", fixtures.job("Printing", completion=60.0))
    await source.poll_once()
    assert store.snapshots == [0, held]
    assert seqs(store.taken[taken:]) == list(range(held + 1, source.translator.seq + 1))
    before = source.translator.seq
    fake.set("Paused", fixtures.job("Paused", completion=61.0))
    await source.poll_once()
    assert seqs(store.taken)[-1] == source.translator.seq > before
    assert store.machines[MID].state == "paused"


async def test_a_pause_shows_only_when_the_printer_has_paused(
    wired: tuple[OctoPrintSource, RecordingStore, FakeOctoPrint],
) -> None:
    source, store, fake = wired
    fake.set("Printing", fixtures.job("Printing"))
    await source.poll_once()
    job_id = store.machines[MID].job_id or ""
    writes, seq = store.writes(), store.sources[SID].seq

    await source.command(f"/v1/jobs/{job_id}/pause", {}, "k1")
    assert fake.job_commands == [{"command": "pause", "action": "pause"}]
    assert store.writes() == writes and store.sources[SID].seq == seq  # the command wrote nothing
    assert store.jobs[job_id].status == "running"

    # OctoPrint has not paused yet: the next poll says so, and the store keeps showing a running print.
    await source.poll_once()
    assert store.jobs[job_id].status == "running" and store.machines[MID].state == "running"

    # Now it has: the pause arrives as this source's next events.
    taken, seq = len(store.taken), source.translator.seq
    fake.set("Paused", fixtures.job("Paused"))
    await source.poll_once()
    new = store.taken[taken:]
    assert seqs(new) == list(range(seq + 1, source.translator.seq + 1)) and new
    job_events = [e.data for e in new if e.type == EventType.JOB_UPDATED]
    assert [j.status for j in job_events] == ["paused"]
    assert store.jobs[job_id].status == "paused" and store.machines[MID].state == "paused"


async def test_an_ack_comes_back_as_the_next_polls_event(
    wired: tuple[OctoPrintSource, RecordingStore, FakeOctoPrint],
) -> None:
    source, store, fake = wired
    fake.set("Error", fixtures.JOB_NONE)
    await source.poll_once()
    [alert] = store.alerts_for("machine", MID)
    writes, seq = store.writes(), store.sources[SID].seq or 0

    await source.command(f"/v1/alerts/{alert.id}/ack", {"note": "on it"})
    assert store.writes() == writes and store.alerts[alert.id].state == "active_unacked"

    await source.poll_once()
    [event] = store.taken[writes[0] :]
    assert (event.seq, event.type) == (seq + 1, EventType.ALERT_UPDATED)
    assert (store.alerts[alert.id].state, store.alerts[alert.id].ack_note) == ("active_acked", "on it")


async def test_the_loop_brings_an_ack_in_within_a_second(clock: Clock) -> None:
    fake, store = FakeOctoPrint(), RecordingStore()
    fake.set("Error", fixtures.JOB_NONE)
    async with fake.client() as http:
        source = OctoPrintSource(SID, "mk3", "http://p", "KEY", store, http_client=http, poll_interval=60.0)
        task = asyncio.create_task(source.run())
        try:
            for _ in range(200):
                await asyncio.sleep(0.01)
                if store.alerts_for("machine", MID):
                    break
            [alert] = store.alerts_for("machine", MID)
            await source.command(f"/v1/alerts/{alert.id}/ack", {})
            for _ in range(300):  # the next poll, brought forward from sixty seconds to one
                await asyncio.sleep(0.01)
                if store.alerts[alert.id].state == "active_acked":
                    break
            assert store.alerts[alert.id].state == "active_acked"
            assert fake.requests.count(("GET", "/api/printer")) == 2
        finally:
            source.stop()
            await asyncio.wait_for(task, 5)
        # The source has ended: an acknowledgement would never be translated, so it is refused, not lost.
        with pytest.raises(ConnectionFailed):
            await source.command(f"/v1/alerts/{alert.id}/ack", {})
    assert store.single == [] and seqs(store.taken) == list(range(1, len(store.taken) + 1))


class Longest(random.Random):
    """Backoff jitter that always draws the longest wait."""

    def uniform(self, a: float, b: float) -> float:
        return b


async def test_an_ack_during_a_long_backoff_is_not_held_back_by_it() -> None:
    fake, store = FakeOctoPrint(), RecordingStore()
    fake.set("Error", fixtures.JOB_NONE)
    async with fake.client() as http:
        source = OctoPrintSource(
            SID, "mk3", "http://p", "KEY", store, http_client=http, backoff_base=60.0, backoff_max=60.0, rng=Longest()
        )
        task = asyncio.create_task(source.run())
        try:
            for _ in range(200):
                await asyncio.sleep(0.01)
                if store.alerts_for("machine", MID):
                    break
            [alert] = store.alerts_for("machine", MID)
            fake.down = True
            for _ in range(300):
                await asyncio.sleep(0.01)
                if store.source_state(SID) == "reconnecting":
                    break
            assert store.source_state(SID) == "reconnecting"  # and the next try is a minute away
            await source.command(f"/v1/alerts/{alert.id}/ack", {})
            for _ in range(300):
                await asyncio.sleep(0.01)
                if store.alerts[alert.id].state == "active_acked":
                    break
            assert store.alerts[alert.id].state == "active_acked"
        finally:
            source.stop()
            await asyncio.wait_for(task, 5)
