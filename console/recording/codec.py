"""Turning records into compressed batches and back (checkpoints: :mod:`console.recording.checkpoint`).

A batch is written as six columns of lines, so that like sits with like and zstd finds it:

* ``idx``: one JSON line per record (kind, source, server time, ``seq``, and per events record one letter per event:
  ``T`` telemetry, ``M`` machine, ``J`` job ... see :data:`CODES`);
* ``tid``, ``tat``, ``tkey``, ``tval``: the telemetry events (nine in ten events of a busy cluster): the machine, the
  time, the value names (only when they differ from that machine's last ones in the segment) and the values, each
  as its change from that machine's last one, exactly (:mod:`console.recording.numbers`);
* ``obj``: every other object as the contract's JSON, one per line (pydantic's own serialiser).

Each column of a segment is one zstd stream, flushed at the end of every batch: a batch is small, but it is
compressed against everything before it in its segment (an object's previous version, its neighbours' lines). The
``obj`` stream is primed with the segment's checkpoint (a raw-content zstd dictionary), so even the first update of
an object in a segment is compressed against its version in the checkpoint. The price: a batch can only be read
after the batches before it in its segment, which is how a seek reads anyway (the checkpoint, then what follows).

Decoding validates everything it builds with the contract models, and anything that does not read back (a truncated
or damaged file) raises :class:`~console.recording.format.RecordingError` with one line saying where.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import zstandard
from pydantic import ValidationError
from pydantic_core import to_json

from console.api.models import EVENT_MODELS, AuditEntry, Event, EventType, MachineTelemetry, Snapshot
from console.api.sse import MalformedEvent
from console.recording.format import (
    AUDIT,
    EVENTS,
    MALFORMED,
    OUTCOME,
    SNAPSHOT,
    STATE,
    Record,
    RecordingError,
    StateChange,
)
from console.recording.numbers import Slots, decode_values, encode_values

__all__ = ["CODES", "LEVEL", "SegmentDecoder", "SegmentEncoder", "dumps", "json_bytes", "loads", "to_bytes"]

COLUMNS = ("idx", "tid", "tat", "tkey", "tval", "obj")
_HEADER = struct.Struct("<6I")
LEVEL = 6
"""zstd level of the batch streams: 8 % fewer bytes than 3 for ~0.5 µs an event more (on the 20,000-machine stream)."""
WINDOW_LOG = 23
"""8 MiB of history per stream: a busy cluster's previous version of an object is within it."""
PRIME_MAX = 8 * 1024 * 1024
"""A checkpoint larger than this does not prime its segment (building the dictionary would cost more than it saves)."""

CODES: dict[str, str] = {
    EventType.MACHINE_TELEMETRY: "T",
    EventType.MACHINE_UPDATED: "M",
    EventType.JOB_UPDATED: "J",
    EventType.JOB_REMOVED: "R",
    EventType.NODE_UPDATED: "N",
    EventType.ALERT_RAISED: "A",
    EventType.ALERT_UPDATED: "U",
    EventType.QUALITY_UPDATED: "Q",
    EventType.CLUSTER_UPDATED: "C",
    EventType.AUDIT_APPENDED: "D",
}
"""One letter per event type; any other type is ``?`` and its line in ``obj`` is ``[type, data]``."""
TYPES = {code: event_type for event_type, code in CODES.items()}
TELEMETRY = "T"
OTHER = "?"


_REPLACED = "\ufffd".encode()


def _encode(model: Any) -> tuple[bytes, bool]:
    """A model as the wire's JSON, and whether Python's ``json`` wrote it instead. A string pydantic cannot write as
    UTF-8 (a lone surrogate, which no JSON from the wire holds but a model accepts) makes it fail, or, in a dict's
    key, silently become U+FFFD: then Python's ``json`` writes the model, escaping it (``\\ud800``), and only
    Python's ``json`` reads that back exactly (pydantic's parser refuses a lone surrogate)."""
    serializer = getattr(type(model), "__pydantic_serializer__", None)
    try:
        data: bytes = serializer.to_json(model) if serializer is not None else to_json(model)
    except Exception:
        return _python_json(model), True
    if _REPLACED in data:
        return _python_json(model), True
    return data, False


def json_bytes(model: Any) -> bytes:
    """JSON that Python's ``json`` reads back exactly (inside a checkpoint)."""
    return _encode(model)[0]


def _python_json(model: Any) -> bytes:
    dumped = model.model_dump(mode="python") if hasattr(model, "model_dump") else model
    return to_bytes(dumps(dumped))


def dumps(value: Any) -> str:
    """Python's JSON, strings as they are (not escaped: an escaped surrogate pair would read back as one character)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_jsonable)


def to_bytes(text: str) -> bytes:
    """Text to bytes, surrogates included (kept as such: ``surrogatepass``)."""
    return text.encode("utf-8", "surrogatepass")


def loads(raw: bytes) -> Any:
    """JSON written by :func:`dumps` (or pydantic) back to Python values."""
    return json.loads(raw.decode("utf-8", "surrogatepass"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="python")
    return str(value)


def _obj_line(model: Any) -> bytes:
    """An ``obj`` line: the wire's JSON, or ``~`` and Python's JSON (see :func:`_encode`)."""
    data, python = _encode(model)
    return b"~" + data if python else data


def _from_obj_line(model: Any, line: bytes) -> Any:
    if line[:1] == b"~":
        return model.model_validate(loads(line[1:]))
    return model.model_validate_json(line)


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and not text.startswith('"')


def _params() -> zstandard.ZstdCompressionParameters:
    return zstandard.ZstdCompressionParameters.from_level(LEVEL, window_log=WINDOW_LOG)


def _prime(checkpoint_json: bytes | None) -> zstandard.ZstdCompressionDict | None:
    if not checkpoint_json or len(checkpoint_json) > PRIME_MAX:
        return None
    return zstandard.ZstdCompressionDict(checkpoint_json, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


class _Seen:
    """What the encoder keeps of a machine within a segment: its id as written, its value names, their slots."""

    __slots__ = ("keys", "slots", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.keys: tuple[str, ...] | None = None
        self.slots: Slots = []


class SegmentEncoder:
    """The compressor streams of one segment (see the module docstring); :meth:`encode` makes one batch."""

    def __init__(self, checkpoint_json: bytes | None = None) -> None:
        params = _params()
        prime = _prime(checkpoint_json)
        self._streams = {
            name: zstandard.ZstdCompressor(
                compression_params=params, dict_data=prime if name == "obj" else None
            ).compressobj()
            for name in COLUMNS
        }
        self._machines: dict[str, _Seen] = {}
        self._last_at: datetime | None = None
        self._last_at_text = ""

    def encode(self, records: Sequence[Record]) -> tuple[bytes, int]:
        """One batch of ``records`` (in order): the compressed blob and how many events it holds."""
        idx: list[str] = []
        obj: list[bytes] = []
        tel: tuple[list[str], list[str], list[str], list[str]] = ([], [], [], [])
        events = 0
        for record in records:
            kind, t = record.kind, math.floor(record.t * 1000) / 1000  # to the ms, never later than it was
            if kind == EVENTS:
                events += self._events(record, t, idx, obj, tel)
            elif kind == SNAPSHOT:
                idx.append(dumps([kind, record.source_id, t, record.seq]))
                obj.append(_obj_line(record.payload))
            elif kind == STATE:
                change: StateChange = record.payload
                idx.append(dumps([kind, record.source_id, t, record.seq, change.kind, change.state, change.reason]))
            elif kind == MALFORMED:
                item: MalformedEvent = record.payload
                idx.append(dumps([kind, record.source_id, t, item.seq, item.type, item.reason, item.excerpt]))
            elif kind == OUTCOME:
                idx.append(dumps([kind, record.source_id, t, record.seq]))
                obj.append(to_bytes(dumps(record.payload)))
            elif kind == AUDIT:
                entries = list(record.payload)
                idx.append(dumps([kind, record.source_id, t, record.seq, len(entries)]))
                obj.extend(_obj_line(entry) for entry in entries)
        lines: dict[str, bytes] = {
            "idx": to_bytes("\n".join(idx) + "\n") if idx else b"",
            "obj": b"\n".join(obj) + b"\n" if obj else b"",
        }
        for name, column in zip(("tid", "tat", "tkey", "tval"), tel, strict=True):
            lines[name] = to_bytes("\n".join(column) + "\n") if column else b""
        chunks: list[bytes] = []
        for name in COLUMNS:
            data = lines[name]
            if not data:
                chunks.append(b"")
                continue
            stream = self._streams[name]
            chunks.append(stream.compress(data) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
        return _HEADER.pack(*(len(c) for c in chunks)) + b"".join(chunks), events

    def _events(
        self,
        record: Record,
        t: float,
        idx: list[str],
        obj: list[bytes],
        tel: tuple[list[str], list[str], list[str], list[str]],
    ) -> int:
        items: list[Event] = record.payload
        if not items:
            return 0
        tid, tat, tkey, tval = tel
        machines = self._machines
        codes: list[str] = []
        first = expected = items[0].seq
        for event in items:
            if event.seq != expected:  # not the next one: a record of its own from here (never from the store)
                idx.append(dumps([EVENTS, record.source_id, t, first, "".join(codes)]))
                codes, first = [], event.seq
            expected = event.seq + 1
            code = CODES.get(event.type, OTHER)
            data = event.data
            if code == TELEMETRY and type(data) is MachineTelemetry:
                machine_id = data.machine_id
                seen = machines.get(machine_id)
                if seen is None:
                    seen = machines[machine_id] = _Seen(machine_id if _plain(machine_id) else dumps(machine_id))
                tid.append(seen.text)
                at = data.at
                if at != self._last_at or at.tzinfo is not getattr(self._last_at, "tzinfo", None):
                    self._last_at, self._last_at_text = at, at.isoformat()
                tat.append(self._last_at_text)
                values = data.values
                keys = tuple(values)
                if seen.keys != keys:
                    seen.keys, seen.slots = keys, [None] * len(keys)
                    tkey.append(dumps(keys))
                else:
                    tkey.append("")
                tval.append(encode_values(seen.slots, values))
            elif code in (TELEMETRY, OTHER):
                code = OTHER
                obj.append(b"[" + to_bytes(dumps(event.type)) + b"," + _python_json(data) + b"]")
            else:
                obj.append(_obj_line(data))
            codes.append(code)
        idx.append(dumps([EVENTS, record.source_id, t, first, "".join(codes)]))
        return len(items)


class _Column:
    __slots__ = ("lines", "name", "pos")

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.lines = data.split(b"\n")
        self.pos = 0

    def next(self) -> bytes:
        if self.pos >= len(self.lines) - 1:
            raise RecordingError(f"column {self.name} ends early")
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def take(self, count: int) -> list[bytes]:
        start, end = self.pos, self.pos + count
        if end > len(self.lines) - 1:
            raise RecordingError(f"column {self.name} ends early")
        self.pos = end
        return self.lines[start:end]


class SegmentDecoder:
    """The decompressor streams of one segment; :meth:`decode` reads its batches, in order, one at a time."""

    def __init__(self, checkpoint_json: bytes | None = None) -> None:
        prime = _prime(checkpoint_json)
        self._streams = {
            name: zstandard.ZstdDecompressor(
                dict_data=prime if name == "obj" else None, max_window_size=1 << WINDOW_LOG
            ).decompressobj()
            for name in COLUMNS
        }
        self._keys: dict[str, list[str]] = {}
        self._slots: dict[str, Slots] = {}
        self._ids: dict[bytes, str] = {}
        self._times: dict[bytes, datetime] = {}

    def decode(self, blob: bytes, where: str = "batch") -> list[Record]:
        """The records of the next batch of this segment; raises ``RecordingError`` when it does not read back."""
        try:
            lengths = _HEADER.unpack_from(blob)
            columns: dict[str, _Column] = {}
            offset = _HEADER.size
            for name, length in zip(COLUMNS, lengths, strict=True):
                chunk = blob[offset : offset + length]
                if len(chunk) != length:
                    raise RecordingError("truncated")
                offset += length
                columns[name] = _Column(name, self._streams[name].decompress(chunk) if length else b"")
            return self._records(columns)
        except RecordingError as error:
            raise RecordingError(f"{where} does not read back ({error})") from None
        except (zstandard.ZstdError, struct.error, ValueError, TypeError, IndexError, KeyError) as error:
            kind = "invalid data" if isinstance(error, ValidationError) else type(error).__name__
            raise RecordingError(f"{where} does not read back ({kind})") from None

    def _records(self, columns: dict[str, _Column]) -> list[Record]:
        records: list[Record] = []
        idx, obj = columns["idx"], columns["obj"]
        for raw in idx.lines[:-1]:
            line = loads(raw)
            kind, source_id, t, seq = line[0], str(line[1]), float(line[2]), line[3]
            if kind == EVENTS:
                records.append(Record(kind, source_id, t, seq, self._events(int(seq), str(line[4]), columns)))
            elif kind == SNAPSHOT:
                records.append(Record(kind, source_id, t, seq, _from_obj_line(Snapshot, obj.next())))
            elif kind == STATE:
                records.append(Record(kind, source_id, t, seq, StateChange(str(line[4]), str(line[5]), line[6])))
            elif kind == MALFORMED:
                item = MalformedEvent(seq, str(line[4]), str(line[5]), str(line[6]))
                records.append(Record(kind, source_id, t, seq, item))
            elif kind == OUTCOME:
                records.append(Record(kind, source_id, t, seq, loads(obj.next())))
            elif kind == AUDIT:
                entries = [_from_obj_line(AuditEntry, obj.next()) for _ in range(int(line[4]))]
                records.append(Record(kind, source_id, t, seq, entries))
            else:
                raise RecordingError(f"unknown record kind {kind!r}")
        return records

    def _events(self, first: int, codes: str, columns: dict[str, _Column]) -> list[Event]:
        obj = columns["obj"]
        telemetry = iter(self._telemetry(columns, codes.count(TELEMETRY)))
        events: list[Event] = []
        for seq, code in enumerate(codes, first):
            if code == TELEMETRY:
                events.append(Event(seq, EventType.MACHINE_TELEMETRY, next(telemetry)))
            elif code == OTHER:
                event_type, data = loads(obj.next())
                model = EVENT_MODELS.get(event_type)
                events.append(Event(seq, str(event_type), model.model_validate(data) if model else data))
            else:
                event_type = TYPES[code]
                events.append(Event(seq, event_type, _from_obj_line(EVENT_MODELS[event_type], obj.next())))
        return events

    def _telemetry(self, columns: dict[str, _Column], count: int) -> list[MachineTelemetry]:
        """The next ``count`` telemetry payloads, read a column at a time."""
        if not count:
            return []
        ids, ats, names, rows = (columns[name].take(count) for name in ("tid", "tat", "tkey", "tval"))
        keys_of, times, slots_of = self._keys, self._times, self._slots
        validate = MachineTelemetry.__pydantic_validator__.validate_python
        out: list[MachineTelemetry] = []
        known = self._ids
        for raw_id, raw_at, raw_keys, raw_values in zip(ids, ats, names, rows, strict=True):
            machine_id = known.get(raw_id)
            if machine_id is None:
                machine_id = known[raw_id] = loads(raw_id) if raw_id[:1] == b'"' else raw_id.decode()
            at = times.get(raw_at)
            if at is None:
                if len(times) > 4096:
                    times.clear()
                at = times[raw_at] = datetime.fromisoformat(raw_at.decode())
            if raw_keys:
                keys_of[machine_id] = [str(k) for k in loads(raw_keys)]
                slots_of[machine_id] = [None] * len(keys_of[machine_id])
            values = decode_values(slots_of[machine_id], keys_of[machine_id], raw_values)
            out.append(validate({"machine_id": machine_id, "at": at, "values": values}))
        return out
