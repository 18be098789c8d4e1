"""What ``y`` puts on the clipboard (``console.copy_text``): the right facts, and nothing a paste could act on.

The clipboard is pasted into a shell, a ticket or a chat next: server text in it must carry no control character, no
escape sequence and no bidi override, and no line break of its own (a newline pasted into a shell runs what came
before it). The console's own line breaks between its lines are the only ones kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from console.copy_text import MAX_COPY_CHARS, alert_copy, clipboard_text, entry_copy, id_copy, job_copy, stamp
from console.timeline_view import Entry
from tests.faults.hostile_strategies import alerts, aware_times, hostile_text, jobs
from tests.store.factories import alert, job

UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")
"""Anything but the console's own line feeds that a terminal, a shell or a text field would act on or hide."""


def assert_inert(text: str, lines: int) -> None:
    assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    assert len(text) <= MAX_COPY_CHARS
    assert text.count("\n") <= lines - 1, "server text added a line of its own"


def test_a_job_copies_its_id_part_status_place_and_due_time() -> None:
    copied = job_copy(
        job("J-1042", part="bracket", status="running", machine_id="M-LDS-07", node_id="N-LDS"),
        machine_name="Printer 07",
        node_name="Leeds",
    )
    assert copied.what == "job J-1042"
    assert copied.text.splitlines() == [
        "Job J-1042: bracket",
        "Status: running on M-LDS-07 (Printer 07), node N-LDS (Leeds)",
        "Due: 2026-11-25 13:00:00 UTC",
        "Order O-1, priority 3, quantity 1 (0 done, 0 scrapped)",
    ]


def test_a_backlog_job_says_where_it_is() -> None:
    assert "on no machine, in the backlog" in job_copy(job()).text


def test_an_alert_copies_its_id_and_text() -> None:
    copied = alert_copy(alert("A-7", code="E-THERM", message="thermal runaway", source_id="M-LDS-07"))
    assert copied.what == "alert A-7"
    assert copied.text.splitlines()[:2] == [
        "Alert A-7 high E-THERM on machine M-LDS-07 (active_unacked)",
        "thermal runaway",
    ]


def test_a_timeline_entry_copies_time_subject_text_and_who() -> None:
    entry = Entry(datetime(2026, 12, 6, 8, 21, 3, tzinfo=UTC), "command", "pause: jam", "alice", ("job", "J-9"))
    copied = entry_copy(entry, "Machine Printer 07 (M-LDS-07)")
    assert copied.text == (
        "2026-12-06 08:21:03 UTC Machine Printer 07 (M-LDS-07): [command] pause: jam (by alice) -> job J-9"
    )


def test_an_id_is_copied_alone() -> None:
    assert id_copy("machine", "M-LDS-07").text == "M-LDS-07"
    assert id_copy("machine", "M-LDS-07").what == "machine id M-LDS-07"


def test_a_newline_or_escape_in_an_id_is_made_visible_not_kept() -> None:
    assert id_copy("machine", "M-1\nrm -rf ~\x1b]52;c;eA==\x07").text == "M-1␊rm -rf ~␛]52;c;eA==␇"


@settings(max_examples=60, deadline=None)
@given(st.lists(hostile_text, max_size=4))
def test_the_clipboard_text_keeps_only_the_consoles_own_line_breaks(lines: list[str]) -> None:
    assert_inert(clipboard_text(lines), max(1, len(lines)))


@settings(max_examples=60, deadline=None)
@given(jobs("J-1", "M-1", "N-1"), hostile_text, hostile_text)
def test_a_hostile_job_copies_inert(hostile_job, machine_name: str, node_name: str) -> None:
    copied = job_copy(hostile_job, machine_name=machine_name, node_name=node_name)
    assert_inert(copied.text, 4)
    assert not UNSAFE.search(copied.what)


@settings(max_examples=60, deadline=None)
@given(alerts("A-1", "M-1"))
def test_a_hostile_alert_copies_inert(hostile_alert) -> None:
    assert_inert(alert_copy(hostile_alert).text, 3)


@settings(max_examples=60, deadline=None)
@given(aware_times, hostile_text, hostile_text, hostile_text | st.none(), hostile_text, hostile_text)
def test_a_hostile_timeline_entry_copies_inert(at, kind, summary, who, ref_id, subject) -> None:
    entry = Entry(at, kind, summary, who, ("machine", ref_id))
    assert_inert(entry_copy(entry, subject).text, 1)


@given(aware_times)
def test_any_time_the_models_accept_is_stamped(at: datetime) -> None:
    assert stamp(at).endswith(" UTC")
