"""Paged lists: ``?limit=N&cursor=C -> {"items": [...], "next_cursor": "..." | null}``.

Lists are ordered by a key that grows along the list (an id for objects, a position for the audit log), and the next
page holds the items whose key comes after the cursor's. So a page is stable when objects appear or vanish between
requests (no item skipped or repeated because an offset shifted), which an offset cursor would not be.

The cursor is opaque to clients, but its form is exact, and the OpenAPI document says it (:data:`ID_CURSOR_PATTERN`,
:data:`POSITION_CURSOR_PATTERN`): every string of that form is a position in the list, so the server accepts every
cursor its document allows (one of another list, or made up, is a position too) and refuses, ``400
invalid_cursor``, only what the document does not allow.

* A list keyed by id: ``s`` and the id's UTF-8 in base64url without padding (``sTS0wMDE`` is after ``M-001``).
* A list keyed by an integer (the audit log's position, negated so that it grows down the page): ``i`` and the
  integer in decimal (``i-42``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from console.demo.problems import CODE_INVALID_CURSOR, ApiProblem

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_BASE64URL = r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?"
"""Base64url without padding: any length but 1 more than a multiple of 4 (such a string decodes to no bytes)."""
ID_CURSOR_PATTERN = rf"^(?:s{_BASE64URL})?$"
"""The cursor of a list keyed by id (the empty cursor is the first page)."""
POSITION_CURSOR_PATTERN = r"^(?:i-?[0-9]+)?$"
"""The cursor of a list keyed by an integer position (the empty cursor is the first page)."""
MAX_CURSOR_LENGTH = 400
"""Longer than any cursor of ours (an id of up to 299 bytes of UTF-8, or a position)."""

_ID_CURSOR = re.compile(ID_CURSOR_PATTERN.removesuffix("$") + r"\Z")
_POSITION_CURSOR = re.compile(POSITION_CURSOR_PATTERN.removesuffix("$") + r"\Z")


def _invalid(detail: str = "the cursor is not valid") -> ApiProblem:
    return ApiProblem(400, detail, code=CODE_INVALID_CURSOR)


def encode_cursor(key: str | int) -> str:
    """The cursor after ``key``: ``s`` + base64url of an id, or ``i`` + an integer position."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"i{key}"
    if isinstance(key, str):
        return "s" + base64.urlsafe_b64encode(key.encode("utf-8", "surrogateescape")).decode().rstrip("=")
    raise TypeError(f"a list key is an id or an integer, not {type(key).__name__}")


def decode_cursor(cursor: str) -> str | int:
    """The key inside a cursor (a position: no item need have it); a 400 problem ``invalid_cursor`` when the cursor
    does not have either form.

    An id cursor's bytes need not be UTF-8 (any base64url is a position): bytes that are not become lone surrogates
    (``surrogateescape``), which only ever meet ids in a comparison.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid(f"the cursor is longer than {MAX_CURSOR_LENGTH} characters")
    if cursor and _POSITION_CURSOR.match(cursor):
        return int(cursor[1:])
    if cursor and _ID_CURSOR.match(cursor):
        body = cursor[1:]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):  # pragma: no cover - the pattern admits only what decodes
            raise _invalid() from None
        return raw.decode("utf-8", "surrogateescape")
    raise _invalid()


def paginate(items: Sequence[T], key: Callable[[T], Any], limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` (already sorted by ``key``, ascending) after ``cursor``, and the next cursor.

    A cursor of the other form (an id cursor on a list keyed by position, or the reverse) is ``400 invalid_cursor``;
    the OpenAPI document of each list allows only its own form.
    """
    start = 0
    if cursor:
        after = decode_cursor(cursor)
        try:
            start = next((i for i, item in enumerate(items) if key(item) > after), len(items))
        except TypeError:  # a cursor of the other form (a str key against int keys)
            raise _invalid("the cursor is not valid for this list") from None
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, (encode_cursor(key(page[-1])) if more and page else None)
