"""The shift handover (``console.handover``, pure) at fixed times: ``since`` as the operator types it and from the
config's shift starts, what went wrong in the span (and not before it), what was done and by whom, what is still
open, the ISA-18.2 figures, the caps, and the Markdown export made inert."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from console.api.models import Event, Snapshot
from console.handover import (
    MAX_ITEMS,
    Handover,
    build_handover,
    handover_markdown,
    isa_lines,
    parse_since,
    shift_began,
)
from console.store import Store
from console.store.status import LogLine
from tests.store import factories as f

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


# --- since ----------------------------------------------------------------------------------------------------------


def test_shift_began_is_the_latest_start_at_or_before_now() -> None:
    starts = [time(6, 0), time(14, 0), time(22, 0)]
    assert shift_began(NOW, starts) == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert shift_began(NOW.replace(hour=3), starts) == datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # 3 a.m.
    assert shift_began(NOW.replace(hour=6, minute=0), [time(6, 0)]) == NOW.replace(hour=6, minute=0)
    assert shift_began(NOW, []) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("06:00", datetime(2026, 11, 25, 6, 0, tzinfo=UTC)),
        ("9:15", datetime(2026, 11, 24, 9, 15, tzinfo=UTC)),  # later today than now: yesterday's
        ("-8h", NOW - timedelta(hours=8)),
        ("8h", NOW - timedelta(hours=8)),
        ("-90m", NOW - timedelta(minutes=90)),
        (" 2d ", NOW - timedelta(days=2)),
        ("-1.5h", NOW - timedelta(minutes=90)),
        ("shift", datetime(2026, 11, 24, 22, 0, tzinfo=UTC)),
        ("2026-11-25T05:00", datetime(2026, 11, 25, 5, 0, tzinfo=UTC)),
        ("2026-11-25T07:00+01:00", datetime(2026, 11, 25, 6, 0, tzinfo=UTC)),
        ("2026-11-25t04:00z", datetime(2026, 11, 25, 4, 0, tzinfo=UTC)),
    ],
)
def test_since_as_typed(typed: str, expected: datetime) -> None:
    assert parse_since(typed, NOW, [time(22, 0)]) == expected


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "type a time"),
        ("25:00", "not a time of day"),
        ("yesterday", "not a time"),
        ("-400d", "at most a year"),
        ("2026-11-26T00:00", "in the future"),
        ("\x1b]0;T\x07", "not a time"),
    ],
)
def test_since_refused_with_one_line_saying_why(typed: str, why: str) -> None:
    found = parse_since(typed, NOW)
    assert isinstance(found, str) and why in found and "\n" not in found
    assert parse_since("shift", NOW) == "no shift_start in the config file"


# --- the handover ---------------------------------------------------------------------------------------------------


def at(hh: int, mm: int) -> datetime:
    return NOW.replace(hour=hh, minute=mm)


def at_five(seq: int, **tables: object) -> Snapshot:
    """A snapshot taken at 05:00 on the server's clock (when the console started listening)."""
    snapshot = f.snapshot(seq, **tables)  # type: ignore[arg-type]
    return snapshot.model_copy(update={"cluster": f.cluster(seq, server_time=at(5, 0))})


def shift_store() -> Store:
    """A night: an alert before the shift, a fault and an alert in it, a job scrapping then failing, a node offline,
    a connection gap, commands by bob (server) and carol (failed on the way), and what is left open at 08:30."""
    store = Store()
    clock = [at(5, 0)]
    store.clock = lambda: clock[0]
    store.apply_snapshot(
        "cluster",
        at_five(
            1,
            nodes=[f.node("N-1", last_seen=at(5, 0)), f.node("N-2", last_seen=at(5, 0))],
            machines=[
                f.machine("M-1", "N-1", state="running", job_id="J-1", last_seen=at(5, 0)),
                f.machine("M-2", "N-1", state="blocked", state_reason="bed not clear", state_since=at(4, 0)),
                f.machine("M-3", "N-1", state="fault", fault_code="E1", state_since=at(4, 50)),
            ],
            jobs=[
                f.job("J-1", machine_id="M-1", node_id="N-1", status="running", quantity=10, due_at=at(12, 0)),
                f.job("J-2", status="queued", due_at=at(7, 0)),
                f.job("J-3", status="queued", due_at=at(11, 0), eta=at(11, 30)),
            ],
        ),
    )
    seq = [1]

    def send(type_: str, data: object, when: datetime) -> None:
        clock[0] = when
        seq[0] += 1
        store.apply_event("cluster", Event(seq[0], type_, data))

    send("alert.raised", f.alert("A-0", code="old_one", raised_at=at(5, 30), updated_at=at(5, 30)), at(5, 30))
    send("alert.raised", f.alert("A-1", priority="critical", code="spindle_overload", message="M-1: overload",
                                 raised_at=at(6, 40), updated_at=at(6, 40)), at(6, 40))  # fmt: skip
    send("machine.updated", f.machine("M-1", "N-1", state="fault", fault_code="E7", state_since=at(6, 40),
                                      job_id="J-1", last_seen=at(6, 40)), at(6, 40))  # fmt: skip
    send("job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="running", quantity=10, scrap_qty=2,
                              due_at=at(12, 0)), at(6, 41))  # fmt: skip
    send("job.updated", f.job("J-1", machine_id="M-1", node_id="N-1", status="failed", quantity=10, scrap_qty=6,
                              due_at=at(12, 0)), at(7, 10))  # fmt: skip
    send("node.updated", f.node("N-2", state="offline", last_seen=at(7, 20)), at(7, 20))
    send("audit.appended", f.audit("AU-1", at=at(6, 50), operator="bob", action="alert.ack",
                                   target={"kind": "alert", "id": "A-1"}, reason="on it", idempotency_key="k-1"),
         at(6, 50))  # fmt: skip
    send("audit.appended", f.audit("AU-0", at=at(5, 45), operator="bob", reason="before the shift"), at(5, 45))
    status = store.sources["cluster"]
    status.log.clear()
    status.log.extend(
        [
            LogLine(at(5, 0), "live: streaming"),
            LogLine(at(7, 0), "reconnecting: read timed out"),
            LogLine(at(7, 3), "live: again"),
        ]
    )
    return store


LOCAL = [
    {"phase": "outcome", "idempotency_key": "k-1", "action": "alert.ack", "outcome": "applied",
     "target": {"kind": "alert", "id": "A-1"}, "server_at": "2026-11-25T06:50:00.000Z"},
    {"phase": "outcome", "idempotency_key": "k-2", "action": "machine.ready", "outcome": "failed", "operator": "carol",
     "reason": "bed cleared", "detail": "timed out", "target": {"kind": "machine", "id": "M-2"},
     "server_at": "2026-11-25T08:00:00.000Z"},
]  # fmt: skip


def texts(handover: Handover, part: str) -> dict[str, list[str]]:
    sections = {"wrong": handover.went_wrong, "done": handover.done, "open": handover.still_open}[part]
    return {s.title.split(" (")[0]: [i.text for i in s.items] for s in sections}


def test_what_went_wrong_what_was_done_and_what_is_open() -> None:
    store = shift_store()
    handover = build_handover(store, since=at(6, 0), now=NOW, local=LOCAL)
    assert (handover.since, handover.now, handover.heard_from) == (at(6, 0), NOW, at(5, 0))
    wrong = texts(handover, "wrong")
    assert wrong["Alerts raised"] == ["critical spindle_overload on machine M-1 (M-1): M-1: overload"]  # not A-0
    assert wrong["Faults"] == ["machine M-1 (M-1): running → fault [E7]", "node N-2 (N-2): online → offline"]
    earlier = build_handover(store, since=at(4, 0), now=NOW)  # M-3 faulted before the console listened, in the span
    assert texts(earlier, "wrong")["Faults"][0] == "machine M-3 (M-3): fault when first seen [E1]"
    assert wrong["Jobs failed or scrapped parts"] == [
        "job J-1: scrapped 2 (scrap 2, done 0)",
        "job J-1: scrapped 4 (scrap 6, done 0)",
        "job J-1: failed: 0/10 done, 6 scrapped",
    ]
    assert wrong["Connection gaps"] == ["cluster: connection lost (read timed out); back at 07:03 after 3m"]
    done = handover.done[0]
    assert [(i.text, i.who) for i in done.items] == [
        ("alert.ack alert A-1: applied, reason: on it", "bob"),  # the local record of it: not twice
        ("machine.ready machine M-2: failed (this console), reason: bed cleared (timed out)", "carol"),
    ]
    still = texts(handover, "open")
    assert still["Active alerts"] == [
        "critical spindle_overload on machine M-1 (M-1): M-1: overload · NOT ACKNOWLEDGED · raised 1h50m ago",
        "high old_one on machine M-1 (M-1): hot · NOT ACKNOWLEDGED · raised 3h00m ago",
    ]
    assert still["Machines not running normally"] == [
        "machine M-1 (M-1): fault for 1h50m [E7]",
        "machine M-3 (M-3): fault for 3h40m [E1]",
        "machine M-2 (M-2): blocked for 4h30m: bed not clear",
    ]
    assert still["Jobs overdue or at risk"] == [
        "job J-2 bracket: LATE 1h30m (due 07:00)",
        "job J-3 bracket: AT RISK, ETA 11:30 after due 11:00",
    ]
    assert still["Shelved alerts"] == []
    figures = handover.figures
    assert figures is not None and figures.raised == 1 and figures.window == timedelta(hours=2, minutes=30)
    assert isa_lines(figures)[0].startswith("Alarms annunciated: 1 (")
    mix = next(line for line in isa_lines(figures) if line.startswith("Priority mix"))
    assert mix.endswith("too few alarms to judge")
    assert isa_lines(figures)[-2:] == [
        "Most frequent codes: spindle_overload 1",
        "Repeats (one code on one source, more than once): none",
    ]


def test_each_section_keeps_the_newest_items_and_says_how_many_more() -> None:
    store = Store()
    store.clock = lambda: at(6, 0)
    store.apply_snapshot("c", f.snapshot(1))
    for n in range(MAX_ITEMS + 7):
        when = at(6, 1) + timedelta(seconds=n)
        store.apply_event("c", Event(n + 2, "alert.raised", f.alert(f"A-{n}", raised_at=when, updated_at=when)))
    handover = build_handover(store, since=at(6, 0), now=NOW)
    raised = handover.went_wrong[0]
    assert raised.title == f"Alerts raised ({MAX_ITEMS + 7})" and len(raised.items) == MAX_ITEMS
    assert raised.more == 7 and raised.items[0].ref == ("alert", "A-7")  # oldest kept first; the 7 oldest left out
    assert len(handover.still_open[0].items) == MAX_ITEMS and handover.still_open[0].more == 7


def test_the_markdown_is_inert_and_says_what_the_console_could_not_know() -> None:
    store = shift_store()
    hostile = f.alert("A-9", code="x|y", message="[click](http://evil) \x1b]52;c;NDA0\x07 *bold*",
                      raised_at=at(6, 5), updated_at=at(6, 5))  # fmt: skip
    store.apply_event("cluster", Event((store.sources["cluster"].seq or 0) + 1, "alert.raised", hostile))
    text = handover_markdown(
        build_handover(store, since=at(4, 0), now=NOW, local=LOCAL), cluster="North", operator="al"
    )
    lines = text.splitlines()
    assert lines[0] == "# Handover: North"
    assert "- From 2026-11-25 04:00:00 UTC to 2026-11-25 08:30:00 UTC (the server's clock)" in lines
    assert "- The console heard from 2026-11-25 05:00:00 UTC on: nothing before that is known here" in lines
    assert "## What went wrong" in lines and "## What was done" in lines and "## What is still open" in lines
    assert "- 11-25 06:50 alert.ack alert A-1: applied, reason: on it (bob)" in lines
    hostile_line = next(line for line in lines if "x\\|y" in line and line.startswith("- 11-25 06:05"))
    assert "\\[click\\](http://evil) ␛\\]52;c;NDA0␇ \\*bold\\*" in hostile_line
    assert "\x1b" not in text and "\x07" not in text
    assert "### Shelved alerts (0)" in lines and "- No shelved alert" in lines


def test_the_figures_name_the_most_frequent_codes_and_group_repeats_and_average_only_what_was_heard() -> None:
    # ISA-18.2 asks for the most frequent alarms (top 10) beside the rates, and one code repeating on one source is
    # one line with its count, not n lines. The console started listening at 05:00 (the snapshot); A-0 was raised
    # before it (a first sight) and must not be averaged over the time heard.
    store = Store()
    clock = [at(5, 0)]
    store.clock = lambda: clock[0]
    first = f.alert("A-0", code="old_one", raised_at=at(4, 0), updated_at=at(4, 0))
    store.apply_snapshot("c", at_five(1, alerts=[first]))
    seq = 1
    for n, (code, source, when) in enumerate(
        [
            ("nozzle_clog", "M-1", at(6, 0)),
            ("nozzle_clog", "M-1", at(6, 20)),
            ("nozzle_clog", "M-1", at(6, 40)),
            ("nozzle_clog", "M-2", at(7, 0)),
            ("tool_wear", "M-3", at(7, 10)),
            ("tool_wear", "M-3", at(7, 30)),
        ]
    ):
        clock[0] = when
        seq += 1
        alert = f.alert(f"A-{n + 1}", code=code, source_id=source, raised_at=when, updated_at=when)
        store.apply_event("c", Event(seq, "alert.raised", alert))
        seq += 1
        resolved = alert.model_copy(update={"state": "resolved", "updated_at": when + timedelta(minutes=1)})
        store.apply_event("c", Event(seq, "alert.resolved", resolved))
    lines = isa_lines(build_handover(store, since=at(3, 0), now=NOW).figures)
    assert lines[0] == "Alarms annunciated: 7; 6 in the 3h30m the console heard (1.7 an hour); busiest 10 minutes: 1"
    assert "Most frequent codes: nozzle_clog 4, tool_wear 2, old_one 1" in lines
    assert "Repeats (one code on one source, more than once): nozzle_clog on M-1 3 times, tool_wear on M-3 2 times" in (
        lines
    )
    text = handover_markdown(build_handover(store, since=at(3, 0), now=NOW))
    assert "- Most frequent codes: nozzle\\_clog 4, tool\\_wear 2, old\\_one 1" in text.splitlines()
