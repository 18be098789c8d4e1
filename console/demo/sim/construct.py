"""Wire models built from the simulation's own records without validating them again.

Why: the simulation makes a contract model for every event it sends (a machine, a job, a quality record, a
telemetry reading) from records it keeps itself, whose values are already of the contract's types and within its
bounds. Validating them again was the largest single cost of the simulation (37 % of a 12-hour run's CPU in
pydantic), which every test embedding a simulator and the demo paid. The server still validates everything a client
sends (command bodies, ``command_checks``); only objects the simulation made from its own state skip it.

What a builder gives is exactly what validation gave: the same class, the same values of the same types (callers
pass floats where the contract says float, fresh containers where validation would have copied one, tuples where
it would have made one), and for a ``BaseModel`` every field marked as set (the projections pass every field). So
the events serialise byte for byte as before; ``tests/demo/test_sim_payloads.py`` validates every payload of a
seeded run again and compares, field by field and type by type.

``pydantic``'s own ``model_construct`` is no help here: it costs more than validating these small models (~6 us
against ~3 for a ``Node``). A builder is generated once per class (as ``dataclasses`` generates ``__init__``): a
lean record's slots are set through their descriptors, a ``BaseModel``'s ``__dict__`` and bookkeeping directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from console.api.lean import LeanModel
from console.api.models import Design, Job, JobRemoved, Machine, MachineTelemetry, Node, Quality, SpcSeries

__all__ = [
    "build_design",
    "build_job",
    "build_job_removed",
    "build_machine",
    "build_node",
    "build_quality",
    "build_spc_series",
    "build_telemetry",
]

_T = TypeVar("_T")


def lean_builder(cls: type[_T]) -> Callable[..., _T]:
    """A function taking every field of lean record ``cls`` by keyword and returning the record, unvalidated."""
    assert issubclass(cls, LeanModel)
    names: tuple[str, ...] = cls._field_names()
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    env.update({f"_set_{name}": cls.__dict__[name].__set__ for name in names})
    body = "".join(f"    _set_{name}(o, {name})\n" for name in names)
    source = f"def build(*, {', '.join(names)}):\n    o = _new(_cls)\n{body}    return o\n"
    exec(source, env)
    build: Callable[..., _T] = env["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build


def api_builder(cls: type[_T]) -> Callable[..., _T]:
    """A function taking every field of ``BaseModel`` ``cls`` by keyword and returning the model, unvalidated, with
    every field set (as validating the same keywords gives)."""
    assert issubclass(cls, BaseModel) and not cls.__private_attributes__
    names = tuple(cls.model_fields)
    env: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls, "_names": frozenset(names)}
    items = ", ".join(f"{name!r}: {name}" for name in names)
    source = (
        f"def build(*, {', '.join(names)}):\n"
        "    o = _new(_cls)\n"
        f"    _set(o, '__dict__', {{{items}}})\n"
        "    _set(o, '__pydantic_fields_set__', set(_names))\n"
        "    _set(o, '__pydantic_extra__', None)\n"
        "    _set(o, '__pydantic_private__', None)\n"
        "    return o\n"
    )
    exec(source, env)
    build: Callable[..., _T] = env["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build


build_design = lean_builder(Design)
build_job = lean_builder(Job)
build_machine = lean_builder(Machine)
build_quality = lean_builder(Quality)
build_spc_series = lean_builder(SpcSeries)
build_node = api_builder(Node)
build_telemetry = api_builder(MachineTelemetry)
build_job_removed = api_builder(JobRemoved)
