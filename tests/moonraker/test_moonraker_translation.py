"""The translation: what Moonraker said, in, contract events numbered by the source's own seq, out (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.api.errors import NotFound
from console.api.models import Event
from console.sources.moonraker.mapping import QueuedFile
from console.sources.moonraker.translation import Translator

MID = "MR-k1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tr(clock: Clock) -> Translator:
    return Translator(name="k1", machine_id=MID, node_id="moonraker", clock=clock, monotonic=clock.monotonic)


def ready(tr: Translator, **objects: Any) -> list[Event]:
    tr.klippy("ready", "Printer is ready")
    base = {
        "print_stats": {
            "state": "standby",
            "filename": "",
            "message": "",
            "print_duration": 0.0,
            "total_duration": 0.0,
        },
        "extruder": {"temperature": 21.0, "target": 0.0},
        "heater_bed": {"temperature": 20.5, "target": 0.0},
        "toolhead": {"axis_minimum": [0, 0, 0, 0], "axis_maximum": [235, 235, 250, 0]},
    }
    base.update(objects)
    assert tr.replace_status(base) == 0
    return tr.flush()


def types(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def printing(tr: Translator, progress: float, *, state: str = "printing", duration: float = 60.0) -> list[Event]:
    tr.status(
        {
            "print_stats": {"state": state, "filename": "parts/bracket.gcode", "print_duration": duration},
            "display_status": {"progress": progress},
        }
    )
    return tr.flush()


def test_seq_counts_every_event_without_gaps(tr: Translator, clock: Clock) -> None:
    events = ready(tr)
    events += printing(tr, 0.1)
    clock.advance(5)
    events += printing(tr, 0.2, duration=65)
    events += printing(tr, 0.2, state="paused", duration=65)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert tr.seq == len(events)
    assert tr.flush() == []  # nothing changed: no event


def test_an_idle_printer(tr: Translator) -> None:
    events = ready(tr)
    assert types(events) == ["machine.telemetry", "machine.updated"]
    machine = tr.machine
    assert (machine.state, machine.model, machine.envelope_mm) == ("idle", "Klipper", (235.0, 235.0, 250.0))
    assert events[0].data.values == {"nozzle_c": 21.0, "nozzle_target_c": 0.0, "bed_c": 20.5, "bed_target_c": 0.0}


def test_a_print_from_start_to_completion(tr: Translator, clock: Clock) -> None:
    ready(tr)
    clock.advance(1)
    events = printing(tr, 0.25, duration=300)
    job = tr.job
    assert job is not None and types(events) == ["job.updated", "machine.updated"]
    assert (job.status, job.part, job.design.file, job.progress) == (
        "running",
        "bracket.gcode",
        "parts/bracket.gcode",
        0.25,
    )
    assert job.eta == clock.now + timedelta(seconds=900)
    assert tr.machine.job_id == job.id and tr.machine.progress == 0.25
    # Progress finer than 0.1 % makes no event; the time left moves only when it moves by more than 30 s.
    assert printing(tr, 0.2501, duration=300) == []
    tr.status({"print_stats": {"state": "complete"}, "display_status": {"progress": 1.0}})
    events = tr.flush()
    done = tr.job
    assert done is not None and (done.status, done.progress, done.done_qty, done.eta) == ("completed", 1.0, 1, None)
    assert (tr.machine.state, tr.machine.state_reason, tr.machine.job_id) == ("idle", "print complete", None)
    # The next print removes the finished one.
    tr.status({"print_stats": {"state": "printing", "filename": "next.gcode", "total_duration": 0.0}})
    events = tr.flush()
    assert types(events)[:2] == ["job.removed", "job.updated"] and events[0].data.id == done.id


@pytest.mark.parametrize(
    ("end", "expected"),
    [({"state": "cancelled"}, "cancelled"), ({"state": "error", "message": "Heater extruder not heating"}, "failed")],
)
def test_how_a_print_ends(tr: Translator, end: dict[str, Any], expected: str) -> None:
    ready(tr)
    printing(tr, 0.5)
    tr.status({"print_stats": end})
    tr.flush()
    assert tr.job is not None and tr.job.status == expected


def test_a_cancel_sent_wins_over_a_reset_print(tr: Translator) -> None:
    ready(tr)
    printing(tr, 0.5)
    tr.cancel_sent()
    tr.status({"print_stats": {"state": "standby"}})
    tr.flush()
    assert tr.job is not None and tr.job.status == "cancelled"


def test_history_corrects_an_end_that_was_missed(tr: Translator) -> None:
    ready(tr)
    printing(tr, 0.5)
    tr.status({"print_stats": {"state": "standby"}})
    tr.flush()
    tr.history_finished({"filename": "parts/bracket.gcode", "status": "klippy_shutdown"})
    events = tr.flush()
    assert tr.job is not None and tr.job.status == "failed" and types(events) == ["job.updated"]
    tr.history_finished({"filename": "other.gcode", "status": "completed"})
    tr.history_finished("not an entry")
    assert tr.flush() == []


def test_moonraker_stopping_is_not_the_end_of_the_print(tr: Translator) -> None:
    """Moonraker closes its history record as ``server_exit`` when it stops; Klipper prints on."""
    ready(tr)
    printing(tr, 0.5)
    tr.history_finished({"filename": "parts/bracket.gcode", "status": "server_exit"})
    tr.history_finished({"filename": "parts/bracket.gcode", "status": "in_progress"})
    assert tr.flush() == [] and tr.job is not None and tr.job.status == "running"


@pytest.mark.parametrize("later_by", [0.4, 0.6, 1.5])
def test_a_print_seen_again_after_a_restart_keeps_its_id(tr: Translator, clock: Clock, later_by: float) -> None:
    """The start is worked out again from ``total_duration`` when Moonraker is back; rounded to a whole second it may
    land a second off the first reading, yet it is the same print (the same job id, no removal)."""
    ready(tr)
    clock.now = clock.now.replace(microsecond=700_000)
    tr.status({"print_stats": {"state": "printing", "filename": "a.gcode", "total_duration": 10.0}})
    tr.flush()
    first = tr.job
    assert first is not None
    tr.klippy_gone(seen=True)  # it looked lost (Klipper gone while Moonraker watched) ...
    tr.flush()
    assert tr.job is not None and tr.job.status == "failed"
    clock.advance(30)  # ... but it prints on: 40 s in, read with a little jitter
    ready(tr, print_stats={"state": "printing", "filename": "a.gcode", "total_duration": 40.0 - later_by + 0.5})
    assert tr.job.id == first.id and tr.job.created_at == first.created_at and tr.job.status == "running"


def test_the_same_file_printed_again_is_a_new_job(tr: Translator, clock: Clock) -> None:
    ready(tr)
    tr.status({"print_stats": {"state": "printing", "filename": "a.gcode", "total_duration": 5.0}})
    tr.flush()
    first = tr.job
    tr.status({"print_stats": {"state": "complete"}})
    tr.flush()
    clock.advance(60)
    tr.status({"print_stats": {"state": "printing", "filename": "a.gcode", "total_duration": 1.0}})
    events = tr.flush()
    assert first is not None and tr.job is not None and tr.job.id != first.id
    assert "job.removed" in types(events)


def test_klipper_away_keeps_a_print_unless_seen_going(tr: Translator) -> None:
    ready(tr)
    printing(tr, 0.5)
    tr.klippy_gone()  # Moonraker just started and has not reached Klipper yet
    tr.flush()
    assert tr.machine.state == "offline" and tr.job is not None and tr.job.status == "running"
    ready(tr, print_stats={"state": "printing", "filename": "parts/bracket.gcode"})
    assert tr.job.status == "running" and tr.machine.state == "running"
    tr.klippy_gone(seen=True)  # notify_klippy_disconnected
    tr.flush()
    assert tr.job.status == "failed"
    assert (tr.machine.state, tr.machine.state_reason) == ("offline", "Klipper disconnected")


def test_a_fault_raises_an_alert_that_clears_and_resolves_once_acknowledged(tr: Translator) -> None:
    ready(tr)
    tr.klippy("shutdown", "MCU 'mcu' shutdown: Timer too close")
    events = tr.flush()
    alert = tr.alert
    assert alert is not None and "alert.raised" in types(events)
    assert (alert.state, alert.code, alert.message) == ("active_unacked", "klipper_shutdown", tr.machine.state_reason)
    tr.acknowledge(alert.id, "called the tech")
    with pytest.raises(NotFound):
        tr.acknowledge("MR-k1-ERR-other", None)
    events = tr.flush()  # the acknowledgement goes out with the next flush, never at once
    assert types(events) == ["alert.updated"] and events[0].data.state == "active_acked"
    tr.klippy_gone(seen=True)
    tr.flush()
    assert tr.alert is not None and tr.alert.state == "active_acked"  # offline says nothing about the fault
    ready(tr)
    assert tr.alert is None  # cleared and acknowledged: resolved


def test_the_queue(tr: Translator, clock: Clock) -> None:
    ready(tr)
    tr.queue([QueuedFile("00A1", "a.gcode", 1_790_000_000.5), QueuedFile("00B2", "dir/b.gcode", None)])
    events = tr.flush()
    jobs = {e.data.id: e.data for e in events if e.type == "job.updated"}
    a, b = jobs[f"{MID}-Q-00A1"], jobs[f"{MID}-Q-00B2"]
    assert (a.status, a.queue_position, a.machine_id, a.part) == ("assigned", 1, MID, "a.gcode")
    assert a.created_at == datetime.fromtimestamp(1_790_000_000, UTC)
    assert (b.queue_position, b.part, b.design.file, b.created_at) == (2, "b.gcode", "dir/b.gcode", clock.now)
    assert tr.jobs.queue_job_id(b.id) == "00B2"
    # The console cancels b; a leaves (loaded by Moonraker): b is cancelled, a removed.
    tr.jobs.queue_cancel_sent("00B2")
    tr.queue([])
    events = tr.flush()
    assert [(e.type, e.data.id) for e in events] == [("job.removed", a.id), ("job.updated", b.id)]
    assert events[1].data.status == "cancelled" and events[1].data.queue_position is None
    assert {j.id for j in tr.jobs.all()} == {b.id}
    tr.queue([QueuedFile("00A1", "a.gcode", None)])
    assert tr.flush()[0].data.queue_position == 1


def test_hostile_status_is_counted_and_skipped(tr: Translator) -> None:
    ready(tr)
    bad = tr.status(
        {
            "extruder": {"temperature": "hot", "target": float("inf")},
            "print_stats": "not an object",
            "heater_bed": {"temperature": True},
            "display_status": {"message": ["not", "text"]},
        }
    )
    assert bad == 5
    assert tr.objects["extruder"]["temperature"] == 21.0  # the last good value stays
    flood = {f"object_{n}": {"x": n} for n in range(200)}
    assert tr.status(flood) > 100  # objects beyond the cap are not kept
    tr.flush()
    assert tr.machine.state == "idle"


def test_unreachable_moonraker_shows_offline_with_the_reason(tr: Translator) -> None:
    ready(tr)
    tr.unreachable(None)  # not long enough to say so: the last state stays
    assert tr.flush() == [] and tr.machine.state == "idle"
    tr.unreachable("Moonraker unreachable: cannot connect: ConnectionRefusedError")
    tr.flush()
    assert (tr.machine.state, tr.machine.state_reason) == (
        "offline",
        "Moonraker unreachable: cannot connect: ConnectionRefusedError",
    )


def test_a_heartbeat_keeps_last_seen_fresh(tr: Translator, clock: Clock) -> None:
    ready(tr)
    clock.advance(10)
    assert tr.flush() == []
    clock.advance(6)
    events = tr.flush()
    assert types(events) == ["machine.updated"] and events[0].data.last_seen == clock.now
