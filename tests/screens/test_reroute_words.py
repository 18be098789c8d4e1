"""The reroute dialog's words for where a job is now, without opening it."""

from __future__ import annotations

from console.screens.reroute import job_place
from tests.store.factories import job


def test_a_job_says_where_it_is_in_words():
    assert job_place(job(machine_id="M-7", node_id="N-1")) == "on M-7"
    assert job_place(job(machine_id=None, node_id="N-1")) == "on N-1, no machine yet"
    assert job_place(job(machine_id=None, node_id=None)) == "in the backlog (no node or machine yet)"  # not "on -"
    assert "\x1b" not in job_place(job(machine_id="M-\x1b[2J"))
