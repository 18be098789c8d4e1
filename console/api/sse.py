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

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from console.api.models import EVENT_MODELS, Event, EventType, ResetData

__all__ = [
    "EXCERPT_CHARS",
    "MalformedEvent",
    "Reset",
    "SseFramer",
    "SseMessage",
    "StreamItem",
    "excerpt",
    "parse_seq",
    "parse_sse",
]

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


def parse_seq(raw: str) -> int | None:
    """An SSE ``id`` as a ``seq``, or ``None`` when it is not plain decimal digits."""
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


_VALIDATORS: dict[str, Callable[[str], Any]] = {
    str(event_type): model.__pydantic_validator__.validate_json
    for event_type, model in EVENT_MODELS.items()
    if event_type != EventType.RESET
}
"""The pydantic-core validator of each event type's model: what ``model_validate_json`` calls after its Python
wrapper (~0.3 µs an event, a quarter of a telemetry payload's validation)."""


def parse_sse(event_id: str, event_type: str, data: str) -> StreamItem:
    """Decode one SSE message (its ``id``, ``event`` and ``data`` fields) into a stream item; never raises.

    The usual message (a known type, an id of at most 18 ASCII digits) takes the short path: the id straight to
    ``int``, the payload to its model's validator. Anything else takes :func:`_parse_sse_general`.
    """
    validate = _VALIDATORS.get(event_type)
    if validate is not None and len(event_id) <= 18 and event_id.isdigit() and event_id.isascii():
        try:
            return Event(int(event_id), event_type, validate(data))
        except ValidationError as error:
            return MalformedEvent(int(event_id), event_type, _validation_reason(error), excerpt(data))
    return _parse_sse_general(event_id, event_type, data)


def _parse_sse_general(event_id: str, event_type: str, data: str) -> StreamItem:
    seq = parse_seq(event_id)
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


_USUAL = re.compile(r"\n\nid: ([^\n\0]*)\nevent: ([^\n]+)\ndata: ([^\n]*)(?=\n\n)")
"""A message as the contract's servers write it (``id``, ``event``, one ``data`` line), a whole block between blank
lines (the chunk's blocks are searched with a blank line added before and after them).

When every block of a chunk matches (as many matches as blank lines), ``findall`` yields the messages directly; the
general reader gives the same tuples for these blocks, so any other chunk simply takes the general path."""

SseMessage = tuple[str, str, str]
"""One SSE message before validation: its ``id`` (the last one given, as SSE says), its ``event`` type and ``data``."""


class SseFramer:
    """Splits the raw bytes of an event stream into :data:`SseMessage` tuples, chunk by chunk.

    Why not httpx-sse: its line decoder and per-line dispatch cost about 2 µs an event, more than validating a
    telemetry payload. Here a chunk is split on blank lines as bytes, decoded once, and each message's few lines are
    read in one pass. The rules are the SSE ones (and httpx-sse's): lines end in LF, CRLF or CR (after a CR that ends
    a chunk, a LF starting the next one is the rest of that CRLF); ``:`` starts a comment; ``field: value`` loses one
    space after the colon; ``data`` lines join with LF; an ``id`` with NUL is ignored; the ``id`` persists to later
    messages that carry none; the type defaults to ``message``; bytes are UTF-8 (invalid ones replaced); an
    unfinished message at the end of the stream is dropped.

    One deliberate difference from httpx-sse: a block of comments alone (a keep-alive) is no message. httpx-sse,
    once an ``id`` was seen, dispatched a data-less ``message`` with the previous id at every keep-alive, which the
    source then had to record as a repeated ``seq``. A block with an ``id``, ``event`` or ``data`` field is a message.
    """

    __slots__ = ("_after_cr", "_last_id", "_tail")

    def __init__(self) -> None:
        self._tail = b""
        self._last_id = ""
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[SseMessage]:
        """The messages completed by ``chunk`` (in order); the unfinished rest waits for the next chunk."""
        if self._after_cr:  # the last chunk ended in CR: a LF now is the rest of that CRLF, not another line end
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        data = self._tail + chunk if self._tail else chunk
        if b"\r" in data:
            self._after_cr = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = data.rfind(b"\n\n")
        if end < 0:
            self._tail = data
            return []
        self._tail = data[end + 2 :]
        text = data[:end].decode("utf-8", "replace")
        usual = _USUAL.findall("\n\n" + text + "\n\n")
        if len(usual) == text.count("\n\n") + 1:  # every block has the usual shape: the regex did all the work
            self._last_id = usual[-1][0]
            return usual
        return self._general(text)

    def _general(self, text: str) -> list[SseMessage]:
        messages: list[SseMessage] = []
        append = messages.append
        last_id = self._last_id
        for block in text.split("\n\n"):
            if not block or (block[0] == ":" and "\n" not in block):
                continue  # an empty block or a keep-alive comment
            lines = block.split("\n")
            event = ""
            data_lines: list[str] | None = None
            seen = False
            for line in lines:
                if not line or line[0] == ":":
                    continue
                name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
                if name == "data":
                    seen = True
                    if data_lines is None:
                        data_lines = [value]
                    else:
                        data_lines.append(value)
                elif name == "event":
                    seen = True
                    event = value
                elif name == "id":
                    seen = True
                    if "\0" not in value:
                        last_id = value
            if seen:
                if data_lines is None:
                    text = ""
                elif len(data_lines) == 1:
                    text = data_lines[0]
                else:
                    text = "\n".join(data_lines)
                append((last_id, event or "message", text))
        self._last_id = last_id
        return messages
