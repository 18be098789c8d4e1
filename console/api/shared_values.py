"""Equal values shared as records are parsed: interned strings, one tuple per size, one design per file and hash.

Why while a snapshot is parsed and not after: the store used to do this once a whole snapshot was parsed
(``console.store.compact``). By then the duplicates (a job's ``size_mm`` tuple and its three floats, its machine and
node ids, its design) were spread over the whole 56 MB parse, and freeing them left ~27 MB of small holes in
CPython's allocator pools that the console's resident memory kept (``sys._debugmallocstats()``: 270,000 free 64-byte
and 300,000 free 32-byte blocks after 100,000 jobs; see docs/performance.md §6). A record that shares its values from
its own ``__post_init__`` (pydantic calls it once the record's fields are validated) frees each duplicate at once,
and the next record's values reuse those very blocks: no holes. Nothing observable changes: only values are
replaced, by equal ones, before anyone holds the record; the record's type and its validation rules are the same.

Only while a snapshot is parsed (:func:`sharing`, which ``Snapshot.model_validate_json`` enters, on the parsing
thread only): a record parsed alone (an event) is one allocation among few, and the store shares its values as it
keeps it (``console.store.compact``), while everyone else who builds records (the simulator: ~40 % slower with the
work in every ``__post_init__``) pays nothing but the check.

Floats and times too: a float object is 24 bytes (plus the list's 8-byte slot), and at 100,000 machines the quality
records alone carry ~6.3 M of them (SPC values and limits, OEE figures) of which ~50,000 are distinct (measurements
have a resolution; the simulator's 100,000-machine snapshot: 4.65 M SPC values, 31,397 distinct), ~150 MB as
separate objects. A machine's ``state_since`` and ``last_seen`` and a job's ``created_at`` repeat too (the same
100,000-machine snapshot: 644, 405 and 383 distinct values), where a job's ``due_at`` and ``eta`` do not (so they are
left alone). Zeros are shared by sign (``-0.0 == 0.0``, so a plain cache would change a zero's sign), and a time
only with a time of the same offset (the key is the time and its offset).

The caches are bounded (values, times: cleared when full) or weak (designs), so a long-running console does not keep
values no record uses.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from math import copysign
from typing import Any, TypeVar

__all__ = [
    "SHARING",
    "intern_list",
    "intern_slots",
    "share",
    "share_float_dict",
    "share_float_slots",
    "share_floats",
    "share_time_slots",
    "share_weak",
    "sharing",
]

_intern = sys.intern
_SET = object.__setattr__
_F = TypeVar("_F", bound=tuple[float, ...])
_W = TypeVar("_W")


class _Sharing(threading.local):
    on = False
    """Whether records parsed on this thread share their values now (see the module docstring)."""


SHARING = _Sharing()


@contextmanager
def sharing() -> Iterator[None]:
    """Records validated on this thread meanwhile share their values (see the module docstring)."""
    before = SHARING.on
    SHARING.on = True
    try:
        yield
    finally:
        SHARING.on = before


_LIMIT = 65_536
_SHARED: dict[Any, Any] = {}
"""One object per distinct small immutable value (tuples of floats: a part's size repeats across its jobs)."""

_FLOATS: dict[float, float] = {}
"""One object per distinct non-zero float value (see the module docstring)."""
_FLOAT_LIMIT = 262_144

_TIMES: dict[tuple[datetime, timedelta | None], datetime] = {}
"""One object per distinct time and offset."""
_TIME_LIMIT = 65_536

_WEAK: weakref.WeakValueDictionary[Any, Any] = weakref.WeakValueDictionary()
"""One record per key among live records (a job's design: many jobs make the same part); weak, so a design no
record uses any more is freed."""


def intern_slots(obj: object, names: tuple[str, ...]) -> None:
    """Intern the string fields ``names`` of a frozen record (written with ``object.__setattr__``)."""
    for name in names:
        value = getattr(obj, name)
        if type(value) is str:
            _SET(obj, name, _intern(value))


def intern_list(values: list[str]) -> None:
    """Intern the strings of a list the record owns (a machine's materials and processes), in place."""
    for i, value in enumerate(values):
        if type(value) is str:
            values[i] = _intern(value)


def share(value: _F) -> _F:
    """The shared object equal to ``value`` (a hashable, immutable tuple of floats), ``value`` itself the first time.

    A tuple holding a zero is not shared: ``-0.0 == 0.0``, and sharing would change the sign a dump writes.
    """
    if 0.0 in value:
        return value
    known = _SHARED.get(value)
    if known is not None:
        return known  # type: ignore[no-any-return]
    if len(_SHARED) >= _LIMIT:
        _SHARED.clear()
    _SHARED[value] = value
    return value


def share_weak(key: Any, record: _W) -> _W:
    """The live record known under ``key``, or ``record`` (weakly referenceable), which becomes the known one."""
    known = _WEAK.get(key)
    if known is not None:
        return known  # type: ignore[no-any-return]
    _WEAK[key] = record
    return record


_ZERO = 0.0
_NEGATIVE_ZERO = -0.0
_FLOAT_ONLY = frozenset((float,))


def _float(value: float) -> float:
    if type(value) is not float:  # an int stays an int
        return value
    if value == 0.0:  # zeros are common (scrap, progress): shared too, each sign its own
        return _ZERO if copysign(1.0, value) > 0 else _NEGATIVE_ZERO
    known = _FLOATS.get(value)
    if known is not None:
        return known
    if len(_FLOATS) >= _FLOAT_LIMIT:
        _FLOATS.clear()
    _FLOATS[value] = value
    return value


def share_floats(values: list[float]) -> None:
    """Replace the floats of a list the record owns (SPC values) by the shared equal ones, in place.

    The usual list (floats, no zero) in one C-speed pass, ``dict.setdefault`` mapped over it (a Python loop over
    the 4.65 M SPC values of a 100,000-machine snapshot cost ~5 s of CPU); a list with a zero (whose sign a shared
    zero could change) or anything but floats value by value."""
    if 0.0 not in values and len(_FLOATS) < _FLOAT_LIMIT and set(map(type, values)) <= _FLOAT_ONLY:
        values[:] = map(_FLOATS.setdefault, values, values)
        return
    known = _FLOATS.get
    for i, value in enumerate(values):
        shared = known(value) if value != 0.0 else None
        if shared is None:
            shared = _float(value)
        if shared is not value:
            values[i] = shared


def share_float_dict(values: dict[str, float]) -> None:
    """The same for the values of a dict the record owns (a machine's telemetry), in place."""
    for name, value in values.items():
        shared = _float(value)
        if shared is not value:
            values[name] = shared


def share_float_slots(obj: object, names: tuple[str, ...]) -> None:
    """The same for float fields of a frozen record (written with ``object.__setattr__``); ``None`` stays."""
    for name in names:
        value = getattr(obj, name)
        if type(value) is float:
            shared = _float(value)
            if shared is not value:
                _SET(obj, name, shared)


def share_time_slots(obj: object, names: tuple[str, ...]) -> None:
    """Replace the time fields ``names`` of a frozen record by the shared equal time with the same offset."""
    for name in names:
        value = getattr(obj, name)
        if type(value) is not datetime:
            continue
        key = (value, value.utcoffset())
        known = _TIMES.get(key)
        if known is None:
            if len(_TIMES) >= _TIME_LIMIT:
                _TIMES.clear()
            _TIMES[key] = value
        elif known is not value:
            _SET(obj, name, known)
