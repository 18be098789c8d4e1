"""Turning one Server-Sent Event of ``GET /v1/events`` into a stream item.

Kept apart from the HTTP client and free of httpx so that the store (which must not import httpx) can name the item
types, and so the decoding rules can be tested without a network. The rules:

* a known event type with a valid payload and an integer ``id`` becomes an :class:`~console.api.models.Event`;
* ``reset`` becomes a :class:`Reset`;
* an unknown type becomes an ``Event`` whose ``data`` is ``None``: the console ignores it, but its ``seq`` was issued,
  so the store must still see it, or the next event would look like a gap and force a needless resync;
* anything else (bad JSON, a payload that fails validation, a missing or non-integer ``id``) becomes a
  :class:`MalformedEvent`, which the source records and steps over. One bad event never ends the stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from console.api.models import EVENT_MODELS, Event, EventType, ResetData

__all__ = ["EXCERPT_CHARS", "MalformedEvent", "Reset", "StreamItem", "excerpt", "parse_sse"]

EXCERPT_CHARS = 200
"""How much of an untrusted payload a malformed-event report keeps (for the diagnostics view)."""


@dataclass(slots=True, frozen=True)
class Reset:
    """The server cannot resume from the asked ``seq``: fetch a fresh snapshot. ``seq`` is the server's current one."""

    seq: int
    instance_id: str


@dataclass(slots=True, frozen=True)
class MalformedEvent:
    """An event that could not be used. Its text is untrusted data: show it escaped, never as markup."""

    seq: int | None
    type: str
    reason: str
    excerpt: str


StreamItem = Event | Reset | MalformedEvent


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A bounded, single-line excerpt of untrusted text."""
    flat = text.replace("\r", " ").replace("\n", " ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _parse_seq(raw: str) -> int | None:
    # int() accepts "+5", " 5", "5_000": the contract's ids are plain decimal digits, so check first.
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    try:
        return int(raw)
    except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits): not a seq we can use
        return None


def _validation_reason(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[:1]
    if not first:
        return "invalid payload"
    where = ".".join(str(part) for part in first[0].get("loc", ())) or "payload"
    return f"{where}: {first[0].get('msg', 'invalid')} ({error.error_count()} error(s))"


def parse_sse(event_id: str, event_type: str, data: str) -> StreamItem:
    """Decode one SSE message (its ``id``, ``event`` and ``data`` fields) into a stream item; never raises."""
    seq = _parse_seq(event_id)
    if event_type == EventType.RESET:
        try:
            reset = ResetData.model_validate_json(data)
        except ValidationError as error:
            return MalformedEvent(seq, event_type, _validation_reason(error), excerpt(data))
        return Reset(reset.seq, reset.instance_id)
    if seq is None:
        return MalformedEvent(
            None, event_type, f"event id is not a non-negative integer: {excerpt(event_id, 40)!r}", excerpt(data)
        )
    model = EVENT_MODELS.get(event_type)
    if model is None:
        return Event(seq, event_type, None)
    try:
        return Event(seq, event_type, model.model_validate_json(data))
    except ValidationError as error:
        return MalformedEvent(seq, event_type, _validation_reason(error), excerpt(data))
