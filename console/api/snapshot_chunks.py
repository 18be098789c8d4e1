"""A big snapshot parsed a piece at a time: its machines, jobs and quality records in chunks of about
:data:`CHUNK_BYTES`, the rest (seq, cluster, nodes, alerts) as one small document.

Why (issue 15): ``Snapshot.model_validate_json`` of a 100,000-machine snapshot (~190 MB of JSON) took the console
from ~210 MB to a peak of ~1,170 MB resident: pydantic-core holds its own parse of the whole document while it builds
the records, and the records it builds stay only ~400 MB. It also held the GIL for the whole parse (~9 s of CPU), so
the console's keys and screen stopped meanwhile, although the parse ran in a worker thread. Parsed chunk by chunk,
the parser's working memory is one chunk's, and the GIL is let go between chunks (every ~10 ms at 256 KB).

How a chunk is cut without a JSON scanner in Python (which would cost more than the parse): a cut is tried at a
``},{`` where the brackets counted since the chunk's start balance (``bytes.count``, C speed); the chunk is then
validated as ``[`` + chunk + ``]``, a list of the section's records. That validation is also the proof the cut was
right: a chunk that starts where a record starts and ends anywhere but where a record ends is not a valid JSON array
(a bracket left open, or a string not closed). Where a section's key is is proved the same way: the rest of the body
(the sections' arrays taken out) is validated with ``[1]`` in each array's place, and must fail exactly there and
nowhere else, which only the values of the top-level keys the whole parse would have used can do.

Anything else (brackets inside strings, another layout, a record that does not validate, a key given twice): the
whole body is parsed as before, so the answer, or the error, is exactly what ``Snapshot.model_validate_json`` gives.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from console.api.models import Job, Machine, Quality, Snapshot
from console.api.shared_values import sharing

__all__ = ["CHUNKED_MIN_BYTES", "CHUNK_BYTES", "parse_snapshot_chunked"]

CHUNK_BYTES = 256 * 1024
"""About how much of a section one chunk holds (~500 machines): ~10 ms of parsing, the GIL held meanwhile."""
CHUNKED_MIN_BYTES = 4 * 1024 * 1024
"""Smaller snapshots are parsed whole (a chunk's own costs would be most of it)."""

_SECTIONS: tuple[tuple[str, TypeAdapter[Any]], ...] = (
    ("machines", TypeAdapter(list[Machine])),
    ("jobs", TypeAdapter(list[Job])),
    ("quality", TypeAdapter(list[Quality])),
)
_KEY_BEFORE = frozenset(b"{, \t\r\n")


class _Whole(Exception):
    """Internal: this body is parsed whole (see the module docstring)."""


def parse_snapshot_chunked(body: bytes) -> Snapshot:
    """The snapshot in ``body``, equal to ``Snapshot.model_validate_json(body)`` (which raises the same errors),
    parsed in chunks when it is big and laid out as usual (see the module docstring)."""
    if len(body) >= CHUNKED_MIN_BYTES:
        try:
            return _chunked(body)
        except _Whole:
            pass
    return Snapshot.model_validate_json(body)


def _balance(body: bytes, start: int, end: int) -> int:
    """Opening brackets less closing ones in ``body[start:end]`` (strings not told apart: the validation is)."""
    return (
        body.count(b"{", start, end)
        - body.count(b"}", start, end)
        + body.count(b"[", start, end)
        - body.count(b"]", start, end)
    )


def _chunked(body: bytes) -> Snapshot:
    spans: list[tuple[str, int, int, list[Any]]] = []
    with sharing():
        at, depth = 0, 0
        for name, start in _section_starts(body):
            if start < at:
                raise _Whole
            depth += _balance(body, at, start)
            if depth != 2:  # the array is not (by the count) a value of the top-level object
                raise _Whole
            items, end = _items(body, start, dict(_SECTIONS)[name])
            spans.append((name, start, end, items))
            at = end  # the closing ']' is counted with the next stretch, so the depth there is still 2
        if not spans:
            raise _Whole
        _check_keys(body, spans)
        head = Snapshot.model_validate_json(_skeleton(body, spans, b""))
    return head.model_copy(update={name: items for name, _, _, items in spans})


def _section_starts(body: bytes) -> list[tuple[str, int]]:
    """The sections found, in the body's order: each name and the index after its array's ``[``."""
    found: list[tuple[str, int]] = []
    for name, _ in _SECTIONS:
        key = b'"' + name.encode() + b'":'
        at = body.find(key)
        if at <= 0 or body[at - 1] not in _KEY_BEFORE:
            continue
        start = at + len(key)
        while start < len(body) and body[start] in b" \t\r\n":
            start += 1
        if body[start : start + 1] != b"[":
            continue
        found.append((name, start + 1))
    return sorted(found, key=lambda pair: pair[1])


def _items(body: bytes, start: int, adapter: TypeAdapter[Any]) -> tuple[list[Any], int]:
    """The records of the array whose ``[`` is just before ``start``, and the index of its ``]``."""
    items: list[Any] = []
    first = start
    while first < len(body) and body[first] in b" \t\r\n":
        first += 1
    if body[first : first + 1] == b"]":
        return items, first
    at = start
    while True:
        end, last = _cut(body, at, at + CHUNK_BYTES)
        try:
            items.extend(adapter.validate_json(b"[" + body[at:end] + b"]"))
        except ValidationError:
            if last:
                raise _Whole from None
            # The count cannot see the array close and the next one open (``],"jobs":[``): the section may end
            # before this cut, at the first ']' that leaves a bracket more closed than opened.
            end, last = _close(body, at, end), True
            try:
                items.extend(adapter.validate_json(b"[" + body[at:end] + b"]"))
            except ValidationError:
                raise _Whole from None
        if last:
            return items, end
        at = end + 1  # past the comma


def _cut(body: bytes, start: int, target: int) -> tuple[int, bool]:
    """Where the chunk from ``start`` (a record's start) ends: at a ``}`` closing a record at or after ``target``
    (``(index after it, False)``), or at the array's ``]`` (``(its index, True)``), by the brackets' count."""
    pos = min(max(start, target), len(body))
    balance = _balance(body, start, pos)
    while True:
        at = body.find(b"},{", pos)
        if at >= 0:
            after = balance + _balance(body, pos, at + 1)
            if after == 0:
                return at + 1, False
            if after > 0:
                balance, pos = after, at + 1
                continue
        return _close(body, start, len(body) if at < 0 else at + 1), True  # the array ends before ``at``


def _close(body: bytes, start: int, limit: int) -> int:
    """The index of the ``]`` closing the array whose records start at ``start``, before ``limit``, by the count."""
    pos, balance = start, 0
    close = body.find(b"]", pos, limit)
    while close >= 0:
        balance += _balance(body, pos, close + 1)
        if balance == -1:
            return close
        if balance < -1:
            break
        pos = close + 1
        close = body.find(b"]", pos, limit)
    raise _Whole


def _skeleton(body: bytes, spans: list[tuple[str, int, int, list[Any]]], filler: bytes) -> bytes:
    """``body`` with each section's array holding ``filler`` instead of its records."""
    parts: list[bytes] = []
    at = 0
    for _, start, end, _ in spans:
        parts += [body[at:start], filler]
        at = end
    parts.append(body[at:])
    return b"".join(parts)


def _check_keys(body: bytes, spans: list[tuple[str, int, int, list[Any]]]) -> None:
    """The arrays taken out are the values the whole parse would use: with ``[1]`` in their places, the rest of the
    body fails validation exactly at each one's first item, and nowhere else (see the module docstring)."""
    try:
        Snapshot.model_validate_json(_skeleton(body, spans, b"1"))
    except ValidationError as error:
        where = sorted(tuple(e["loc"][:2]) for e in error.errors())
        if where == sorted((name, 0) for name, _, _, _ in spans):
            return
    raise _Whole
