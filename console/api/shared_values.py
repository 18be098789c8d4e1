"""Equal values shared as records are parsed: interned strings, one tuple per size, one design per file and hash.

Why at parse time and not later: the store used to do this once a whole snapshot was parsed (``console.store.compact``).
By then the duplicates (a job's ``size_mm`` tuple and its three floats, its machine and node ids, its design) were
spread over the whole 56 MB parse, and freeing them left ~27 MB of small holes in CPython's allocator pools that the
console's resident memory kept (``sys._debugmallocstats()``: 270,000 free 64-byte and 300,000 free 32-byte blocks
after 100,000 jobs; see docs/performance.md §6). A record that shares its values from its own ``__post_init__``
(pydantic calls it once the record's fields are validated) frees each duplicate at once, and the next record's
values reuse those very blocks: no holes. Nothing observable changes: only values are replaced, by equal ones,
before anyone holds the record; the record's type and its validation rules are the same.

The caches are bounded (sizes) or weak (designs), so a long-running console does not keep values no record uses.
"""

from __future__ import annotations

import sys
import weakref
from typing import Any, TypeVar

__all__ = ["intern_list", "intern_slots", "share", "share_weak"]

_intern = sys.intern
_SET = object.__setattr__
_F = TypeVar("_F", bound=tuple[float, ...])
_W = TypeVar("_W")

_LIMIT = 65_536
_SHARED: dict[Any, Any] = {}
"""One object per distinct small immutable value (tuples of floats: a part's size repeats across its jobs)."""

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
