"""Paged lists: ``?limit=N&cursor=C -> {"items": [...], "next_cursor": "..." | null}``.

The cursor is opaque to clients: base64url of ``{"k": <last key>}``. Lists are ordered by a key that grows along the
list (an id for objects, a position for the audit log), and the next page holds the items whose key comes after the
cursor's. So a page is stable when objects appear or vanish between requests (no item skipped or repeated because an
offset shifted), which an offset cursor would not be.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from console.demo.problems import CODE_INVALID_CURSOR, ApiProblem

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
"""What a cursor looks like (base64url without padding); the OpenAPI document says so."""
MAX_CURSOR_LENGTH = 400
"""Longer than any cursor of ours (an id or a position, base64url-encoded)."""


def encode_cursor(key: str | int) -> str:
    raw = json.dumps({"k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | int:
    """The key inside a cursor; a 400 problem ``invalid_cursor`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)["k"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ApiProblem(400, "the cursor is not valid", code=CODE_INVALID_CURSOR) from None
    if not isinstance(key, str | int) or isinstance(key, bool):
        raise ApiProblem(400, "the cursor is not valid", code=CODE_INVALID_CURSOR)
    return key


def paginate(items: Sequence[T], key: Callable[[T], Any], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` (already sorted by ``key``, ascending) after ``cursor``, and the next cursor."""
    start = 0
    if cursor:
        after = decode_cursor(cursor)
        try:
            start = next((i for i, item in enumerate(items) if key(item) > after), len(items))
        except TypeError:  # a cursor of another list (a str key against int keys)
            raise ApiProblem(400, "the cursor is not valid for this list", code=CODE_INVALID_CURSOR) from None
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, (encode_cursor(key(page[-1])) if more and page else None)
