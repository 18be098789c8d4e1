"""Checkpoints: the whole state at one moment, as one JSON document compressed with zstd.

A checkpoint holds every source the store knows (its kind, connection state, ``seq``) and, once it has had one, its
replica as a contract ``Snapshot`` (machines with their current telemetry), and the audit trail. A replay that seeks
starts from the nearest one before the target; its JSON also primes its segment's ``obj`` stream
(:mod:`console.recording.codec`). Each object is written by its own serialiser (a big cluster's checkpoint never holds
the GIL for long in one call) and the document is read back with Python's ``json`` and validated by the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import zstandard
from pydantic import ValidationError

from console.api.models import AuditEntry, Snapshot
from console.recording.codec import dumps, json_bytes, loads, to_bytes
from console.recording.format import RecordingError

__all__ = ["Checkpoint", "CheckpointSource", "compress_checkpoint", "decode_checkpoint", "encode_checkpoint"]

LEVEL = 9
"""zstd level of checkpoints: one comes every few minutes, so a harder level is cheap (0.5 s of the writer's time for
the 37 MB of a 20,000-machine cluster, 12 % smaller than level 3)."""


@dataclass(slots=True)
class CheckpointSource:
    """One source in a checkpoint: its status and, once it has had one, its replica as a snapshot."""

    source_id: str
    kind: str
    state: str
    reason: str | None
    seq: int | None
    snapshot: Snapshot | None


@dataclass(slots=True)
class Checkpoint:
    t: float
    sources: list[CheckpointSource]
    audit: list[AuditEntry]


def encode_checkpoint(t: float, sources: Sequence[dict[str, Any]], audit: Sequence[AuditEntry]) -> bytes:
    """The checkpoint's JSON. ``sources``: dicts of ``id, kind, state, reason, seq`` and ``snapshot``, the latter
    ``None`` or a dict of ``seq`` and the contract objects (``cluster``, and lists of ``nodes``, ``machines``, ``jobs``,
    ``alerts``, ``quality``), each written by its own serialiser (so a big one never holds the GIL for long)."""
    parts: list[bytes] = [b'{"t":', to_bytes(dumps(round(t, 3))), b',"sources":[']
    for n, source in enumerate(sources):
        head = {key: source[key] for key in ("id", "kind", "state", "reason", "seq")}
        parts.append((b"," if n else b"") + to_bytes(dumps(head)[:-1]) + b',"snapshot":')
        snapshot = source.get("snapshot")
        if snapshot is None:
            parts.append(b"null}")
            continue
        parts.append(b'{"seq":' + to_bytes(dumps(snapshot["seq"])) + b',"cluster":')
        parts.append(json_bytes(snapshot["cluster"]))
        for table in ("nodes", "machines", "jobs", "alerts", "quality"):
            parts.append(b',"' + table.encode() + b'":[' + b",".join(map(json_bytes, snapshot[table])) + b"]")
        parts.append(b"}}")
    parts.append(b'],"audit":[' + b",".join(map(json_bytes, audit)) + b"]}")
    return b"".join(parts)


def compress_checkpoint(raw: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=LEVEL).compress(raw)


def decode_checkpoint(blob: bytes, where: str = "checkpoint") -> tuple[Checkpoint, bytes]:
    """A stored checkpoint and its JSON (which primes its segment); raises ``RecordingError``."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(blob)
        document = loads(raw)
        sources = [
            CheckpointSource(
                str(s["id"]),
                str(s["kind"]),
                str(s["state"]),
                s["reason"],
                s["seq"],
                None if s["snapshot"] is None else Snapshot.model_validate(s["snapshot"]),
            )
            for s in document["sources"]
        ]
        audit = [AuditEntry.model_validate(a) for a in document["audit"]]
        return Checkpoint(float(document["t"]), sources, audit), raw
    except (zstandard.ZstdError, ValueError, TypeError, KeyError) as error:
        kind = "invalid data" if isinstance(error, ValidationError) else type(error).__name__
        raise RecordingError(f"{where} does not read back ({kind})") from None
