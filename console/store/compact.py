"""Making stored objects small: one shared "fields set" per model shape, and interned repeated strings.

Why: pydantic keeps, per instance, a ``set`` of the field names that were given (``__pydantic_fields_set__``); for a
20-field model that set is ~1-2 KB, more than the object's values. At 20,000 machines and 100,000 jobs those sets
alone were ~250 MB. Objects of one model that came with the same fields have equal sets, so the store gives them
one shared, immutable set (:class:`SharedFieldsSet`) when they enter it (:func:`compact`).

This is safe because of the store's rule: **objects in the tables are never changed in place** (every change stores
a new object; see ``console.store.store``). The shared set makes a breach loud: setting an attribute on a stored
model raises ``TypeError`` (pydantic records the name in the fields set, and the shared set refuses changes; note
pydantic has already written the value by then, so this is a bug detector, not a guard). ``model_copy(update=...)``
and ``copy.copy`` still work: copying a :class:`SharedFieldsSet` gives an ordinary ``set`` for the copy to own.

Machines, jobs, quality records and SPC series are not ``BaseModel``s but lean records (``console.api.lean``:
slotted, frozen, without a fields set). Machines and jobs share their repeated values (interned strings, a job's size
and design) as they are validated (``console.api.shared_values`` says why then); compacting one here does it again
for a record made by ``model_copy`` (which validates nothing), written with ``object.__setattr__`` before the store
lets anyone see it.

Strings that repeat across thousands of objects (node ids, states, kinds, statuses, materials, processes, regions)
are interned with :func:`sys.intern`, so each distinct value is kept once. Only field values are replaced, by equal
strings, before the object is visible to anyone: nothing observable changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

from pydantic import BaseModel

from console.api.lean import LeanModel
from console.api.models import Alert, Design, Job, Machine, Node, Quality, SourceRef
from console.api.shared_values import intern_list, intern_slots, share, share_weak

__all__ = ["SharedFieldsSet", "compact", "compact_shared", "release_free_memory", "share_fields"]

_intern = sys.intern


def _refuse(self: Any, *args: Any) -> Any:
    raise TypeError("a stored object is never changed in place: store a model_copy(update=...) instead")


class SharedFieldsSet(set[str]):
    """A model's fields set shared by every stored instance of the same shape: read-only; copies are plain sets.

    A ``set`` subclass (pydantic-core wants a ``set`` when dumping with ``exclude_unset``) whose mutators raise.
    """

    __slots__ = ()

    add = discard = remove = pop = clear = update = _refuse
    intersection_update = difference_update = symmetric_difference_update = _refuse
    __ior__ = __iand__ = __isub__ = __ixor__ = _refuse

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (set, (list(self),))


_SHAPES: dict[tuple[type[BaseModel], frozenset[str]], SharedFieldsSet] = {}
_ALL_FIELDS: dict[type[BaseModel], SharedFieldsSet] = {}
_OBJECT_SETATTR = object.__setattr__


def share_fields(obj: BaseModel) -> None:
    """Give ``obj`` the shared fields set of its shape (at most one set per model and set of given fields)."""
    fields_set = obj.__pydantic_fields_set__
    if type(fields_set) is SharedFieldsSet:
        return
    cls = type(obj)
    everything = _ALL_FIELDS.get(cls)
    if everything is None:
        everything = _ALL_FIELDS[cls] = SharedFieldsSet(cls.model_fields)
    if len(fields_set) == len(everything):  # a fields set is a subset of the fields: same size, same set
        shared = everything
    else:
        key = (cls, frozenset(fields_set))
        known = _SHAPES.get(key)
        if known is None:
            known = _SHAPES[key] = SharedFieldsSet(fields_set)
        shared = known
    _OBJECT_SETATTR(obj, "__pydantic_fields_set__", shared)


def _intern_fields(obj: BaseModel, names: tuple[str, ...]) -> None:
    values = obj.__dict__
    for name in names:
        value = values[name]
        if type(value) is str:
            values[name] = _intern(value)


_NODE_STRINGS = ("id", "state", "city")
_ALERT_STRINGS = ("priority", "state", "code")
_QUALITY_STRINGS = ("scope", "id")
_MACHINE_STRINGS = ("node_id", "kind", "model", "state")
_JOB_STRINGS = ("id", "order_id", "process", "material", "status", "node_id", "machine_id", "customer_region", "part")


def _machine(machine: Machine) -> None:
    # The hot one (every machine.updated): only the strings that repeat across thousands of machines (a snapshot's
    # machines shared their times, floats and envelope as they were parsed: ``Machine.share_values``).
    intern_slots(machine, _MACHINE_STRINGS)
    intern_list(machine.materials)
    intern_list(machine.processes)


def _job(job: Job) -> None:
    # Strings, size and design (a snapshot's jobs shared these and their times as they were parsed).
    intern_slots(job, _JOB_STRINGS)
    _OBJECT_SETATTR(job, "size_mm", share(job.size_mm))
    design = job.design
    if type(design) is Design:
        _OBJECT_SETATTR(job, "design", share_weak((design.file, design.sha256), design))


def _node(node: Node) -> None:
    share_fields(node)
    _intern_fields(node, _NODE_STRINGS)


def _alert(alert: Alert) -> None:
    share_fields(alert)
    _intern_fields(alert, _ALERT_STRINGS)
    source: SourceRef = alert.source
    share_fields(source)
    _intern_fields(source, ("kind", "id"))


def _quality(quality: Quality) -> None:
    # A lean record, as are its SPC series (``console.api.lean``): no fields set to share.
    intern_slots(quality, _QUALITY_STRINGS)
    quality.share_values()


_COMPACTORS: dict[type[BaseModel | LeanModel], Any] = {
    Machine: _machine,
    Job: _job,
    Node: _node,
    Alert: _alert,
    Quality: _quality,
}


def compact(obj: Any) -> None:
    """Shrink a model the store is about to keep, in place (before anyone else sees it). Other types: untouched.

    Only the shared fields set and equal (interned) strings change, so the object's values, equality, dumps and
    copies are as before; setting an attribute on it afterwards raises (see the module docstring).
    """
    compactor = _COMPACTORS.get(type(obj))
    if compactor is not None:
        compactor(obj)


def _quality_ids(quality: Quality) -> None:
    intern_slots(quality, _QUALITY_STRINGS)


_SHARED_COMPACTORS: dict[type[BaseModel | LeanModel], Any] = {
    Node: _node,
    Alert: _alert,
    Quality: _quality_ids,
}


def compact_shared(obj: Any) -> None:
    """:func:`compact` for a record whose values were shared as its snapshot was parsed
    (``Snapshot.values_shared``): machines and jobs need nothing more, quality records their ids interned."""
    compactor = _SHARED_COMPACTORS.get(type(obj))
    if compactor is not None:
        compactor(obj)


def _malloc_trim() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_TRIM = _malloc_trim() if sys.platform.startswith("linux") else None


def release_free_memory() -> None:
    """Hand memory freed by a big snapshot back to the OS (glibc's ``malloc_trim``; a no-op elsewhere).

    Parsing a big snapshot allocates far more than the store keeps (pydantic's per-object fields sets, replaced by
    shared ones here, and the parser's own buffers); glibc keeps freed blocks for reuse, so without this the
    console's resident memory stays at the parse's peak (e.g. 515 MB instead of 283 MB at 20,000 machines and
    100,000 jobs). It takes ~20 ms, so the store calls it only after a big snapshot.
    """
    if _TRIM is not None:
        _TRIM(0)
