"""Unicode scalar text: what the server accepts in a request and what it can always publish.

JSON may escape a lone UTF-16 surrogate (``"\\ud800"``); Python's ``json`` decodes it into a ``str`` that cannot be
encoded as UTF-8, so it must never reach the simulation, an audit entry or the event stream (one such string made
every later ``GET /v1/audit`` fail). :func:`invalid_text_at` finds the first such string in parsed JSON (keys too);
:func:`scrub` replaces lone surrogates with U+FFFD; :func:`model_json` serialises a model, falling back to a
scrubbed copy, so one bad string never breaks a read or the feed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

REPLACEMENT = "\ufffd"


def is_scalar_text(value: str) -> bool:
    """Whether ``value`` is made of Unicode scalar values only (no lone surrogate): encodable as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in parsed JSON (keys and values) with a path to it (``body.reason``, ``body.items[2]``).
    Iterative: a deeply nested body cannot exhaust the stack."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            yield item, path
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if isinstance(key, str) and is_scalar_text(key) else f"{path}.<key>"
                if isinstance(key, str):
                    yield key, child_path
                stack.append((child, child_path))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))


def invalid_text_at(value: Any, where: str = "body") -> str | None:
    """The path of the first string in ``value`` that is not scalar text, or ``None`` when all are."""
    return next((path for text, path in _strings(value, where) if not is_scalar_text(text)), None)


def longest_text(value: Any, where: str = "body") -> tuple[int, str] | None:
    """The length (in characters) and path of the longest string in ``value``; ``None`` when it has none."""
    best: tuple[int, str] | None = None
    for text, path in _strings(value, where):
        if best is None or len(text) > best[0]:
            best = (len(text), path)
    return best


def scrub_text(value: str) -> str:
    """``value`` with every lone surrogate replaced by U+FFFD (a well-formed surrogate pair becomes its character)."""
    if is_scalar_text(value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def scrub(value: Any) -> Any:
    """A copy of plain JSON data (dicts, lists, strings...) with every string made scalar text."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def model_json(model: Any) -> bytes:
    """``model`` as UTF-8 JSON; a model holding text that is not scalar is serialised with that text scrubbed."""
    try:
        text: str = model.model_dump_json()
        return text.encode()
    except (ValueError, UnicodeError):  # pydantic's PydanticSerializationError is a ValueError
        log.warning("%s holds text that is not valid Unicode; sent with U+FFFD in its place", type(model).__name__)
        return json.dumps(scrub(model.model_dump(mode="json")), separators=(",", ":"), ensure_ascii=False).encode()


def scrubbed_model(model: Any) -> Any:
    """``model`` itself when it serialises, else a copy whose text is scrubbed (validated again by its class)."""
    try:
        model.model_dump_json()
    except (ValueError, UnicodeError):
        return type(model).model_validate(scrub(model.model_dump(mode="json")))
    return model
