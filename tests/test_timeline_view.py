"""The timeline view (``console.timeline_view``, pure) and the Markdown exports (``console.exports``), at fixed times:
the connection gaps read from a source's log, one subject's entries from every source merged newest first, where a
job ran, local records beside the server's trail, and exports that are inert, private and never overwritten."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from console.api.models import Alert, Event
from console.exports import export_name, md, timeline_markdown, write_export
from console.store import Store
from console.store.status import LogLine
from console.timeline_view import (
    Entry,
    connection_gaps,
    gap_entries,
    local_entry,
    local_records_left,
    newest_first,
    placements,
    subject_entries,
)
from tests.store import factories as f


def log(*lines: tuple[float, str]) -> list[LogLine]:
    return [LogLine(f.at(s), message) for s, message in lines]


def test_connection_gaps_run_from_leaving_live_to_live_again_and_the_start_is_not_one() -> None:
    lines = log(
        (0, "connecting"),
        (1, "connecting: fetching snapshot"),
        (2, "snapshot at seq 10 (instance abc)"),
        (3, "live: streaming after seq 10"),
        (60, "reconnecting: read timed out (retry in 1.2 s)"),
        (61, "reconnecting: reconnecting after: read timed out"),
        (62, "connecting: fetching snapshot"),
        (63, "resync: server instance changed"),
        (150, "live: streaming after seq 99"),
        (400, "stale: nothing from the server for 45 s (the stream is open but silent)"),
    )
    gaps = connection_gaps("cluster", lines)
    assert [(g.start, g.end, g.reason) for g in gaps] == [
        (f.at(60), f.at(150), "read timed out"),
        (f.at(400), None, "nothing from the server for 45 s (the stream is open but silent)"),
    ]
    closed, open_ = gaps
    assert [e.summary for e in gap_entries(closed, f.at(500))] == [
        "cluster: connection lost: read timed out",
        "cluster: reconnected after a gap of 1m",
    ]
    lost, still = gap_entries(open_, f.at(520))
    assert (lost.at, still.at, still.summary) == (f.at(400), f.at(520), "cluster: not back yet (2m so far)")
    assert connection_gaps("cluster", log((0, "connecting"), (5, "failed: 401 unauthorized"))) == []


def story_store() -> Store:
    """A machine that faulted, a job on it that was paused and scrapped a part, an alert raised and acked, and a
    command on the machine; the cluster source lost its connection for two minutes."""
    store = Store()
    clock = [f.at(0)]
    store.clock = lambda: clock[0]
    store.apply_snapshot(
        "cluster",
        f.snapshot(
            1,
            nodes=[f.node("N-1")],
            machines=[f.machine("M-1", "N-1", state="running", job_id="J-1")],
            jobs=[f.job("J-1", machine_id="M-1", node_id="N-1", status="running", created_at=f.at(-600))],
        ),
    )
    seq = [1]

    def send(type_: str, data: object, at: float) -> None:
        clock[0] = f.at(at)
        seq[0] += 1
        store.apply_event("cluster", Event(seq[0], type_, data))

    alert = f.alert("A-1", source_id="M-1", code="spindle_overload", raised_at=f.at(100), updated_at=f.at(100))
    send("alert.raised", alert, 100)
    fault = f.machine("M-1", "N-1", state="fault", job_id="J-1", state_since=f.at(100), fault_code="E7")
    send("machine.updated", fault, 100)
    send("job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="paused", scrap_qty=1), 101)
    acked: Alert = alert.model_copy(
        update={"state": "active_acked", "acked_by": "alice", "ack_note": "checking", "updated_at": f.at(160)}
    )
    send("alert.updated", acked, 160)
    entry = f.audit("AU-1", at=f.at(200), reason="tool change", idempotency_key="k-1", operator="bob")
    send("audit.appended", entry, 200)
    status = store.sources["cluster"]
    status.log.clear()
    status.log.extend(log((1, "live: streaming"), (300, "reconnecting: connection reset"), (420, "live: again")))
    return store


MACHINE = {"kind": "machine", "id": "M-1"}


def record(phase: str, key: str, action: str, at: str | None = None, **fields: object) -> dict[str, object]:
    """A local audit record as ``AuditLog.recent`` reads it back (``at``: its ``server_at``)."""
    found: dict[str, object] = {"phase": phase, "idempotency_key": key, "action": action, "target": MACHINE}
    if at is not None:
        found["server_at"] = f"2026-11-25T{at}.000Z"
    return found | fields


LOCAL = [
    record("attempt", "k-1", "machine.pause"),
    record("outcome", "k-1", "machine.pause", "12:03:20", outcome="applied"),
    record("attempt", "k-2", "machine.resume", "12:06:00", operator="carol", reason="fixed"),
    record(
        "outcome",
        "k-2",
        "machine.resume",
        "12:06:05",
        outcome="failed",
        operator="carol",
        reason="fixed",
        detail="timed out",
    ),
    record("attempt", "k-3", "machine.ready", "12:07:00"),
    record("outcome", "k-9", "job.cancel", "12:07:30", outcome="rejected", target={"kind": "job", "id": "J-7"}),
]


def test_a_machines_timeline_merges_every_source_newest_first() -> None:
    store = story_store()
    entries = subject_entries(store, "machine", "M-1", now=f.at(500), local=LOCAL)
    assert [(round((e.at - f.at(0)).total_seconds()), e.kind, e.summary, e.who) for e in entries] == [
        (420, "command", "machine.ready: sent from this console, no outcome recorded", None),
        (420, "connection", "cluster: reconnected after a gap of 2m", None),  # back first, then the command
        (365, "command", "machine.resume: failed (this console), reason: fixed (timed out)", "carol"),
        (300, "connection", "cluster: connection lost: connection reset", None),
        (200, "command", "machine.pause: applied, reason: tool change", "bob"),  # its local record: not again
        (160, "alert", "acked high spindle_overload: hot (checking)", "alice"),
        (101, "job", "job J-1 paused", None),
        (101, "job", "job J-1 scrapped 1 (scrap 1, done 0)", None),
        (100, "alert", "raised high spindle_overload: hot", None),
        (100, "state", "running → fault [E7]", None),
    ]
    assert len({e.key for e in entries}) == len(entries)
    oldest = {e.kind: e for e in entries}  # the oldest of each kind
    assert oldest["state"].tone == "fault" and oldest["state"].ref == ("machine", "M-1")
    assert oldest["alert"].ref == ("alert", "A-1") and oldest["alert"].tone == "high"  # raised: loud
    assert oldest["job"].ref == ("job", "J-1") and oldest["job"].tone == "high"  # scrapped
    job = subject_entries(store, "job", "J-1", now=f.at(500))
    assert (job[-1].summary, job[-1].at) == ("created: 1 x bracket (order O-1)", store.jobs["J-1"].created_at)
    assert [e.summary for e in job if e.kind == "job"][:2] == ["paused", "scrapped 1 (scrap 1, done 0)"]
    assert [e.kind for e in job][:2] == ["connection", "connection"]  # its source's gap is on its timeline too
    node = subject_entries(store, "node", "N-1", now=f.at(500))
    assert "running → fault [E7]" in [e.summary for e in node]  # a node's timeline takes its machines' states
    assert "raised high spindle_overload: hot" in [e.summary for e in node]


def test_local_records_beside_the_servers_trail_and_records_that_say_nothing_useful() -> None:
    left = local_records_left(LOCAL, {"k-1"})
    assert [(r["phase"], r["idempotency_key"]) for r in left] == [
        ("outcome", "k-2"),
        ("attempt", "k-3"),
        ("outcome", "k-9"),
    ]
    assert local_entry({"action": "x", "at": "not a time"}) is None
    hostile = local_entry({"action": "\x1b]0;T\x07", "target": "M-1", "at": "2026-11-25T12:00:00Z", "phase": "x"})
    assert hostile is not None and hostile.ref == ("?", "?") and "\x1b" in hostile.summary  # cleaned when shown


def test_at_one_instant_a_command_sorts_below_what_it_brought_about() -> None:
    at = f.at(0)
    entries = newest_first([Entry(at, "state", "paused"), Entry(at, "command", "pause"), Entry(at, "connection", "x")])
    assert [e.summary for e in entries] == ["paused", "pause", "x"]


def test_where_a_job_ran() -> None:
    store = Store()
    store.clock = lambda: f.at(50)
    store.apply_snapshot("c", f.snapshot(1, jobs=[f.job("J-1", machine_id="M-1", node_id="N-1", status="running")]))
    store.apply_event("c", Event(2, "job.updated", f.job("J-1", machine_id="M-2", node_id="N-2", status="queued")))
    store.apply_event("c", Event(3, "job.updated", f.job("J-1", status="queued")))
    store.apply_event("c", Event(4, "job.updated", f.job("J-1", machine_id="M-3", node_id="N-2", status="assigned")))
    ran = placements(store.jobs["J-1"], store.timeline.entries(("job", "J-1")))
    assert [(p.machine_id, p.node_id, p.since, p.why) for p in ran] == [
        ("M-1", None, None, "first seen there"),
        ("M-2", "N-2", f.at(50), "rerouted"),
        (None, None, f.at(50), "back to the backlog"),
        ("M-3", "N-2", f.at(50), "assigned"),
    ]
    quiet = f.job("J-9", machine_id="M-1", node_id="N-1")
    assert [(p.machine_id, p.why) for p in placements(quiet, [])] == [("M-1", "since first seen")]


# --- exports -------------------------------------------------------------------------------------------------------


def test_md_makes_server_text_inert_and_escapes_what_markdown_would_act_on() -> None:
    assert md("a*b_c [x](y) <b>|&~ `c` \\") == "a\\*b\\_c \\[x\\](y) \\<b\\>\\|\\&\\~ \\`c\\` \\\\"
    assert md("\x1b]52;c;NDA0\x07\nnext") == "␛\\]52;c;NDA0␇␊next"
    assert md("x" * 600).endswith("…") and len(md("x" * 600)) == 500
    assert md("M-LDS-07 #1 bracket.stl") == "M-LDS-07 #1 bracket.stl"


def test_export_names_writes_private_files_and_never_overwrites(tmp_path: Path) -> None:
    at = f.at(0)
    assert export_name("timeline-machine-M/../\x1b7", at) == "timeline-machine-M_.._7-20261125T120000Z.md"
    folder = tmp_path / "exports"
    first = write_export("handover", "# one\n", at, folder)
    second = write_export("handover", "# two\n", at, folder)
    assert (first.name, second.name) == ("handover-20261125T120000Z.md", "handover-20261125T120000Z-2.md")
    assert first.read_text() == "# one\n" and second.read_text() == "# two\n"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_timeline_in_markdown() -> None:
    entries = newest_first(
        [
            Entry(f.at(0), "state", "running → fault: [link](http://x) | \x1b[2J", ref=("machine", "M|1")),
            Entry(f.at(60), "command", "machine.pause: applied, reason: *now*", who="al_ice"),
        ]
    )
    text = timeline_markdown(
        "Machine \x1b]0;T\x07 (M-1)", entries, now=f.at(120), cluster="C", operator="bob", since=f.at(-60)
    )
    assert text.splitlines()[0] == "# Timeline: Machine ␛\\]0;T␇ (M-1)"
    assert "- Exported at 2026-11-25 12:02:00 UTC (the server's clock) by bob" in text
    assert "| 2026-11-25 12:01:00 | command | machine.pause: applied, reason: \\*now\\* | al\\_ice |   |" in text
    row = "| 2026-11-25 12:00:00 | state | running → fault: \\[link\\](http://x) \\| ␛\\[2J |   | machine M\\|1 |"
    assert row in text
    assert "\x1b" not in text


@pytest.mark.parametrize("bad", ["\ud800", "\u202e", "\x9b31m"])
def test_no_control_or_bidi_character_reaches_an_export(bad: str) -> None:
    text = timeline_markdown(bad, [Entry(f.at(0), "job", bad, who=bad, ref=(bad, bad))], now=f.at(0))
    assert bad not in text


def test_a_jobs_timeline_has_the_commands_on_the_machine_it_was_on_while_it_was_there() -> None:
    # On the demo, J-10197 was paused by tom.w pausing its machine M-MAN-01 ("first-article check on the new
    # fixture"): the job's timeline said only "created", so who paused the job, and why, was on the machine's.
    store = Store()
    store.clock = lambda: f.at(0)
    store.apply_snapshot(
        "c", f.snapshot(1, jobs=[f.job("J-1", machine_id="M-1", node_id="N-1", status="running", created_at=f.at(-60))])
    )

    def command(seq: int, ident: str, at_s: int, machine: str, reason: str) -> None:
        entry = f.audit(ident, at=f.at(at_s), operator="tom", action="machine.pause", reason=reason,
                        target={"kind": "machine", "id": machine})  # fmt: skip
        store.apply_event("c", Event(seq, "audit.appended", entry))

    command(2, "AU-0", -120, "M-1", "before the job existed")
    command(3, "AU-1", 10, "M-1", "first-article check")
    command(4, "AU-2", 10, "M-9", "another machine")
    store.clock = lambda: f.at(100)
    store.apply_event("c", Event(5, "job.updated", f.job("J-1", machine_id="M-2", node_id="N-2", status="assigned")))
    command(6, "AU-3", 150, "M-1", "after the job left")
    command(7, "AU-4", 160, "M-2", "on its new machine")
    job = subject_entries(store, "job", "J-1", now=f.at(200))
    assert [(e.summary, e.who, e.ref) for e in job if e.kind == "command"] == [
        ("machine.pause machine M-2: applied, reason: on its new machine", "tom", ("machine", "M-2")),
        ("machine.pause machine M-1: applied, reason: first-article check", "tom", ("machine", "M-1")),
    ]
