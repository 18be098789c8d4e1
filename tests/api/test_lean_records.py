"""Lean records (jobs, designs) keep the contract's rules and the BaseModel methods the project relies on."""

from __future__ import annotations

import dataclasses
import json
import sys
import weakref

import pytest
from pydantic import ValidationError

from console.api.models import Design, Job, Snapshot
from console.store import Store
from tests.store import factories as f


def job_json(**changes: object) -> dict[str, object]:
    data = json.loads(f.job("J-1", machine_id="M-1").model_dump_json())
    data.update(changes)
    return data


def test_a_job_is_a_slotted_record_without_dict_or_fields_set() -> None:
    job = Job.model_validate_json(json.dumps(job_json()))
    assert not hasattr(job, "__dict__")
    assert not hasattr(job, "__pydantic_fields_set__")
    assert sys.getsizeof(job) < 256  # a slot per field; a BaseModel's __dict__ alone is ~460 bytes


def test_unknown_fields_are_ignored_and_nan_and_naive_times_refused() -> None:
    job = Job.model_validate_json(json.dumps(job_json(colour="teal", another={"nested": 1})))
    assert job.id == "J-1"
    with pytest.raises(ValidationError):
        Job.model_validate_json(json.dumps(job_json(progress=1.5)))
    with pytest.raises(ValidationError):
        Job.model_validate_json(json.dumps(job_json(due_at="2026-11-25T12:00:00")))  # no offset
    with pytest.raises(ValidationError):
        Job.model_validate_json(json.dumps(job_json()).replace('"progress": 0.0', '"progress": NaN'))
    bad = job_json()
    del bad["customer_region"]
    with pytest.raises(ValidationError):
        Job.model_validate(bad)


def test_round_trips_through_json_and_python_like_a_model() -> None:
    job = Job.model_validate_json(json.dumps(job_json()))
    assert Job.model_validate_json(job.model_dump_json()) == job
    assert Job.model_validate(job.model_dump()) == job
    dumped = job.model_dump(mode="json")
    assert dumped["due_at"].endswith("Z") or dumped["due_at"].endswith("+00:00")
    assert dumped["design"] == {"file": job.design.file, "sha256": job.design.sha256}
    assert set(job.model_dump(exclude_none=True)) < set(Job.model_fields)  # eta and queue_position are None
    # inside a BaseModel (the snapshot) the same
    snapshot = f.snapshot(0, nodes=[f.node("N-1")], machines=[f.machine("M-1")], jobs=[job])
    assert Snapshot.model_validate_json(snapshot.model_dump_json()).jobs == [job]


def test_frozen_and_model_copy_makes_a_new_record() -> None:
    job = Job.model_validate_json(json.dumps(job_json()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "done"  # type: ignore[misc]
    done = job.model_copy(update={"status": "done", "progress": 1.0})
    assert (done.status, done.progress, job.status) == ("done", 1.0, job.status)
    assert done.id == job.id and done.design is job.design
    assert job.model_copy() == job and job.model_copy() is not job
    with pytest.raises(AttributeError):
        job.model_copy(update={"no_such_field": 1})
    assert hash(job) == hash(job.model_copy())


def test_the_store_shares_designs_and_sizes_and_interns_strings() -> None:
    jobs = [Job.model_validate_json(json.dumps(job_json(id=f"J-{i}", machine_id=f"M-{i}"))) for i in range(3)]
    store = Store()
    store.apply_snapshot("c", f.snapshot(0, nodes=[f.node("N-1")], machines=[f.machine("M-1")], jobs=jobs))
    stored = list(store.jobs.values())
    assert len({id(j.design) for j in stored}) == 1
    assert len({id(j.size_mm) for j in stored}) == 1
    assert len({id(j.status) for j in stored}) == 1
    assert stored == jobs  # equal values: only shared, never changed


def test_designs_can_be_weakly_referenced_and_are_records_too() -> None:
    design = Design(file="a.step", sha256="ab" * 32)
    assert weakref.ref(design)() is design
    assert Design.model_validate_json(design.model_dump_json()) == design
