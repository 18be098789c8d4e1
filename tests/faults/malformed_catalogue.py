"""The catalogues of broken events: a valid payload of each event type, and the ways to break one.

Split out of ``test_faults_malformed`` because two suites draw on them: the source and store level
(``test_faults_malformed``, every case) and the whole console (``test_faults_console_malformed``, one case of each
catalogue). Variants are generated from the contract models: every required field of every event type removed, wrong
types, out-of-range numbers, NaN and infinities, bad JSON, bad ids.
"""

from __future__ import annotations

import json
from typing import Any

from console.api.models import (
    AuditEntry,
    Cluster,
    Job,
    JobRemoved,
    Machine,
    MachineTelemetry,
    Node,
    Quality,
)
from tests.faults.hostile_server import HostileServer

SAMPLE_AUDIT = {
    "id": "AU-1",
    "at": "2026-11-25T12:00:00Z",
    "operator": "alice",
    "action": "machine.pause",
    "target": {"kind": "machine", "id": "M-101"},
    "outcome": "applied",
}


def samples(server: HostileServer) -> dict[str, tuple[str, dict[str, Any], type]]:
    """A valid payload of each event type (from the server's own tables), with its model."""
    t = server.tables
    return {
        "machine": ("machine.updated", dict(t["machines"]["M-101"]), Machine),
        "node": ("node.updated", dict(t["nodes"]["N-1"]), Node),
        "job": ("job.updated", dict(t["jobs"]["J-101"]), Job),
        "alert": ("alert.raised", dict(t["alerts"]["A-1"]), type(None)),
        "quality": ("quality.updated", dict(t["quality"]["node/N-1"]), Quality),
        "telemetry": (
            "machine.telemetry",
            {"machine_id": "M-101", "at": "2026-11-25T12:00:00Z", "values": {"nozzle_c": 1.0}},
            MachineTelemetry,
        ),
        "job_removed": ("job.removed", {"id": "J-101"}, JobRemoved),
        "cluster": ("cluster.updated", dict(server.cluster), Cluster),
        "audit": ("audit.appended", dict(SAMPLE_AUDIT), AuditEntry),
    }


def required_fields(model: type) -> list[str]:
    return [name for name, info in model.model_fields.items() if info.is_required()]


MODELS: dict[str, type] = {
    "machine": Machine,
    "node": Node,
    "job": Job,
    "quality": Quality,
    "telemetry": MachineTelemetry,
    "job_removed": JobRemoved,
    "cluster": Cluster,
    "audit": AuditEntry,
}
ALERT_REQUIRED = ["id", "priority", "state", "source", "code", "message", "raised_at", "updated_at"]

# (sample, how to break it): a function of the payload returning the broken payload (or a raw str).
MISSING = [(kind, field) for kind, model in MODELS.items() for field in required_fields(model)] + [
    ("alert", field) for field in ALERT_REQUIRED
]

WRONG_VALUES: dict[str, tuple[str, str, Any]] = {
    # id: (sample, field, value)
    "machine-name-number": ("machine", "name", 5),
    "machine-name-object": ("machine", "name", {"a": 1}),
    "machine-state-null": ("machine", "state", None),
    "machine-state-list": ("machine", "state", ["running"]),
    "machine-progress-string": ("machine", "progress", "half"),
    "machine-progress-negative": ("machine", "progress", -0.1),
    "machine-progress-above-one": ("machine", "progress", 1.5),
    "machine-envelope-two-values": ("machine", "envelope_mm", [1, 2]),
    "machine-envelope-negative": ("machine", "envelope_mm", [-1, 2, 3]),
    "machine-envelope-string": ("machine", "envelope_mm", "big"),
    "machine-telemetry-string-value": ("machine", "telemetry", {"nozzle_c": "hot"}),
    "machine-telemetry-list": ("machine", "telemetry", [1, 2]),
    "machine-materials-string": ("machine", "materials", "PLA"),
    "machine-last-seen-garbage": ("machine", "last_seen", "yesterday"),
    "machine-state-since-naive": ("machine", "state_since", "2026-11-25T12:00:00"),
    "machine-state-since-year-10000": ("machine", "state_since", "10000-01-01T00:00:00Z"),
    "machine-state-since-month-13": ("machine", "state_since", "2026-13-01T00:00:00Z"),
    "job-priority-zero": ("job", "priority", 0),
    "job-priority-nine": ("job", "priority", 9),
    "job-quantity-zero": ("job", "quantity", 0),
    "job-done-negative": ("job", "done_qty", -1),
    "job-progress-negative": ("job", "progress", -0.5),
    "job-design-string": ("job", "design", "b.stl"),
    "job-due-naive": ("job", "due_at", "2026-11-25 12:00"),
    "node-lat-string": ("node", "lat", "north"),
    "node-machine-count-negative": ("node", "machine_count", -3),
    "alert-count-zero": ("alert", "count", 0),
    "alert-source-string": ("alert", "source", "M-101"),
    "alert-raised-garbage": ("alert", "raised_at", "soon"),
    "quality-oee-above-one": ("quality", "oee", 1.2),
    "quality-scrap-negative": ("quality", "scrap_rate", -0.01),
    "quality-window-zero": ("quality", "window_h", 0),
    "telemetry-values-string": ("telemetry", "values", "hot"),
    "telemetry-value-null": ("telemetry", "values", {"nozzle_c": None}),
    "cluster-seq-string": ("cluster", "seq", "many"),
    "audit-target-missing-id": ("audit", "target", {"kind": "machine"}),
}

# Numbers JSON cannot carry but Python's json writes anyway (NaN, Infinity): refused everywhere.
NON_FINITE: dict[str, tuple[str, str, str]] = {
    "machine-progress-nan": ("machine", "progress", "NaN"),
    "machine-progress-infinity": ("machine", "progress", "Infinity"),
    "machine-telemetry-nan": ("machine", "telemetry", '{"nozzle_c": NaN}'),
    "machine-telemetry-minus-infinity": ("machine", "telemetry", '{"nozzle_c": -Infinity}'),
    "node-lat-nan": ("node", "lat", "NaN"),
    "telemetry-values-infinity": ("telemetry", "values", '{"nozzle_c": Infinity}'),
    "quality-oee-nan": ("quality", "oee", "NaN"),
    "job-size-nan": ("job", "size_mm", "[1, NaN, 3]"),
    "machine-progress-1e400": ("machine", "progress", "1e400"),
    "node-lat-1e400": ("node", "lat", "1e400"),
}

BAD_JSON: dict[str, tuple[str, str]] = {
    "truncated": ("machine.updated", '{"id": "M-101", "node_id": "N-1", "na'),
    "not-an-object": ("machine.updated", "[1, 2, 3]"),
    "null": ("node.updated", "null"),
    "number": ("job.updated", "42"),
    "empty": ("machine.updated", ""),
    "single-quotes": ("node.updated", "{'id': 'N-1'}"),
    "trailing-garbage": ("job.removed", '{"id": "J-101"} xyz'),
    "two-objects": ("job.removed", '{"id": "J-101"}{"id": "J-102"}'),
    "html": ("machine.updated", "<html><body>502 Bad Gateway</body></html>"),
    "deep-nesting": ("machine.updated", "[" * 20000 + "]" * 20000),
    "five-megabytes-of-garbage": ("machine.updated", "{" + "x" * 5_000_000),
    "multi-line-broken": ("node.updated", '{"id":\n"N-1",\n'),
    "bom-prefixed": ("job.removed", '\ufeff{"id": "J-101"}'),
    "lone-surrogate-escape": ("job.removed", '{"id": "\\ud800"}'),
    "control-char-raw-in-string": ("job.removed", '{"id": "J\x01-101"}'),
}


def break_field(payload: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    return {**payload, field: value}


def raw_with(payload: dict[str, Any], field: str, literal: str) -> str:
    """The payload as JSON with one field's value replaced by a raw JSON literal (NaN, Infinity, 1e400)."""
    marker = "__RAW_LITERAL__"
    text = json.dumps({**payload, field: marker})
    return text.replace(json.dumps(marker), literal)


BAD_IDS = {
    "letters": "abc",
    "negative": "-5",
    "decimal": "1.5",
    "plus-sign": "+5",
    "leading-space": " 5",
    "underscore": "1_000",
    "arabic-indic-digits": "١٢٣",
    "huge": "9" * 5000,
}
