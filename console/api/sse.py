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
    "DEFAULT_MAX_EVENT_BYTES",
    "EXCERPT_CHARS",
    "OVERSIZED_EVENT",
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
    if event_type.startswith(OVERSIZED_EVENT):  # the framer dropped it (``data`` is why): step over its seq
        return MalformedEvent(seq, event_type[len(OVERSIZED_EVENT) :], data, "")
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


OVERSIZED_EVENT = "\n(oversized)\n"
"""The start of the type of the message :class:`SseFramer` gives in place of an event larger than its cap (the
event's own type follows). It holds line breaks, which a type read from the wire never can, so no server can forge
it; :func:`parse_sse` turns it into a :class:`MalformedEvent` of the event's type."""

DEFAULT_MAX_EVENT_BYTES = 1024 * 1024
"""The largest event :class:`SseFramer` keeps (1 MiB; a telemetry event is a few hundred bytes)."""

_HEAD_BYTES = 4096
"""How much of an oversized event is read for its ``id`` and ``event`` fields (servers write those first)."""


class SseFramer:
    """Splits the raw bytes of an event stream into :data:`SseMessage` tuples, chunk by chunk, in linear time.

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

    Untrusted input, so two bounds. Each chunk is scanned once: the unfinished event is kept as a list of chunks,
    never re-joined or re-searched (a 50 MB line in 64 KiB chunks once cost 52 s of CPU, re-scanning the whole tail
    per chunk). And an event longer than ``max_event_bytes`` is not kept: its bytes are dropped as they come, and a
    message of type :data:`OVERSIZED_EVENT` stands in for it (with the event's ``id``, when it came in the first
    4 KiB), so the source records it as malformed and steps over its ``seq``.
    """

    __slots__ = ("_after_cr", "_dropping", "_ends_lf", "_head", "_last_id", "_pending", "_size", "max_event_bytes")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes <= 0:
            raise ValueError("max_event_bytes must be positive")
        self.max_event_bytes = max_event_bytes
        self._pending: list[bytes] = []  # the unfinished event, as it came (line ends already LF)
        self._size = 0  # its length in bytes
        self._ends_lf = False  # the unfinished event's last byte is a LF (a LF next would end it)
        self._dropping = False  # inside an oversized event: its bytes are discarded up to the next blank line
        self._head = b""  # the first bytes of the oversized event being dropped
        self._last_id = ""
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[SseMessage]:
        """The messages completed by ``chunk`` (in order); the unfinished rest waits for the next chunk."""
        if self._after_cr:  # the last chunk ended in CR: a LF now is the rest of that CRLF, not another line end
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        if b"\r" in chunk:
            self._after_cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._ends_lf and chunk[:1] == b"\n":  # the blank line straddles the seam
            first, after = -1, 1
        else:
            first = chunk.find(b"\n\n")
            if first < 0:
                self._keep(chunk)
                return []
            after = first + 2
        messages: list[SseMessage] = []
        # The unfinished event ends here: the kept part and ``chunk[:first]`` (with ``first`` -1, the kept part's
        # last byte is the LF that began the blank line).
        if self._dropping:
            messages.extend(self._oversized((self._head + chunk[: max(first, 0)])[: _HEAD_BYTES + 1]))
            data = b""
        elif self._size + max(first, -1) > self.max_event_bytes:
            messages.extend(self._oversized((self._head_of_pending() + chunk[: max(first, 0)])[: _HEAD_BYTES + 1]))
            data = b""
        elif first < 0:
            data = b"".join(self._pending)[:-1]
        else:
            data = b"".join(self._pending) + chunk[:first] if self._size else chunk[:first]
        self._pending.clear()
        self._size, self._ends_lf, self._dropping, self._head = 0, False, False, b""
        last = chunk.rfind(b"\n\n", after)
        if last >= 0:  # more whole events in this chunk
            data = data + b"\n\n" + chunk[after:last] if data else chunk[after:last]
            after = last + 2
        if data:
            messages.extend(self._messages(data))
        if after < len(chunk):
            self._keep(chunk[after:])
        return messages

    def _keep(self, part: bytes) -> None:
        """Keep ``part`` of the unfinished event, or drop it once the event is longer than the cap."""
        self._ends_lf = part.endswith(b"\n")
        if self._dropping:
            if len(self._head) <= _HEAD_BYTES:
                self._head += part[: _HEAD_BYTES + 1 - len(self._head)]
            return
        self._pending.append(part)
        self._size += len(part)
        if self._size > self.max_event_bytes:
            self._head = self._head_of_pending()
            self._pending.clear()
            self._size = 0
            self._dropping = True

    def _head_of_pending(self) -> bytes:
        head = b""
        for piece in self._pending:
            head += piece[: _HEAD_BYTES + 1 - len(head)]
            if len(head) > _HEAD_BYTES:
                break
        return head

    def _oversized(self, head: bytes) -> list[SseMessage]:
        """The stand-in for a dropped event: its ``id`` and type from its first bytes, if they were there. None for
        a block of comments alone (an oversized keep-alive is no message, as a small one is none)."""
        whole = len(head) <= _HEAD_BYTES  # callers pass one byte more than they keep: was that all of it?
        event_id: str | None = None
        event, fields = "", False
        lines = head[:_HEAD_BYTES].decode("utf-8", "replace").split("\n")
        for number, line in enumerate(lines, start=1):
            name, _, value = line.partition(":")
            if name not in ("id", "event", "data"):
                continue  # a comment, an empty line, an unknown field (or a long one, cut): no field of a message
            fields = True
            if number == len(lines) and not whole:
                break  # the last line is cut: its value is not all there
            value = value[1:] if value[:1] == " " else value
            if name == "id" and "\0" not in value:
                event_id = value
            elif name == "event":
                event = value
        if not fields:
            return []
        if event_id is None:
            event_id = self._last_id  # as SSE says; the source then sees a repeated seq and records it
        self._last_id = event_id
        limit = self.max_event_bytes
        size = f"{limit // 1024} KiB" if limit >= 1024 and limit % 1024 == 0 else f"{limit} bytes"
        return [(event_id, OVERSIZED_EVENT + excerpt(event or "message", 60), f"event longer than {size}: dropped")]

    def _messages(self, data: bytes) -> list[SseMessage]:
        """The messages of ``data``: whole blocks between blank lines, none of them oversized."""
        if len(data) > self.max_event_bytes:
            blocks = data.split(b"\n\n")
            if any(len(block) > self.max_event_bytes for block in blocks):
                messages: list[SseMessage] = []
                for block in blocks:
                    if len(block) > self.max_event_bytes:
                        messages.extend(self._oversized(block[: _HEAD_BYTES + 1]))
                    else:
                        messages.extend(self._general(block.decode("utf-8", "replace")))
                return messages
        text = data.decode("utf-8", "replace")
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
