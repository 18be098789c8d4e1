"""``ServedState``: what one server has said, folded: the objects its events described, at its feed's ``seq``.

The contract's snapshot is "everything at one consistent ``seq``": a client that applies ``GET /v1/snapshot`` and
then every event after it must end equal to a fresh snapshot. Serving reads from the simulation's live state cannot
promise that (a live read computes progress, heartbeats and sliding windows *now*, with no event for each change),
so each feed keeps this materialised view of its own stream instead: seeded from a full dump of its view when the
feed starts (that dump is the state at ``seq`` 0), then changed only by the events the feed numbers, with the same
semantics as the console's store (``console.store.Store``):

* ``node.updated``, ``machine.updated``, ``job.updated``, ``quality.updated``: replace the object;
* ``machine.telemetry``: merge the values into the machine's ``telemetry`` (nothing else changes, ``last_seen``
  neither; telemetry for an unknown machine is ignored);
* ``job.removed``: drop the job; ``alert.raised`` / ``alert.updated``: replace, or drop once ``resolved``;
* ``cluster.updated`` and ``audit.appended``: not part of the tables (the cluster object is built per read).

Each object's JSON is kept beside it (the event's own ``data`` when an event set it, else serialised once on the
first read), so a snapshot of 20,000 machines is a join of ready bytes instead of 20,000 model builds and dumps.

Telemetry is the exception that matters at scale: 5,000 ``machine.telemetry`` events a second would invalidate every
machine's JSON within seconds, and copying the model per event costs more than the rest of the fold. So
:class:`MachineTable` keeps the merged telemetry beside the model (no copy per event) and each machine's JSON as two
halves around its ``telemetry`` value: a machine whose telemetry moved is re-serialised as
``head + json.dumps(telemetry) + tail`` (a few microseconds) instead of a whole model dump.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from console.api.models import EventType
from console.demo.text import model_json

RESOLVED = "resolved"

TABLES = ("nodes", "machines", "jobs", "alerts", "quality")


class Table:
    """One table: id -> model, and id -> its JSON bytes (filled lazily, dropped when the model changes)."""

    __slots__ = ("_json", "models")

    def __init__(self) -> None:
        self.models: dict[Any, Any] = {}
        self._json: dict[Any, bytes] = {}

    def put(self, key: Any, model: Any, data: bytes | None = None) -> None:
        self.models[key] = model
        if data is None:
            self._json.pop(key, None)
        else:
            self._json[key] = data

    def drop(self, key: Any) -> None:
        self.models.pop(key, None)
        self._json.pop(key, None)

    def get(self, key: Any) -> Any | None:
        return self.models.get(key)

    def json_of(self, key: Any) -> bytes:
        data = self._json.get(key)
        if data is None:
            data = self._json[key] = model_json(self.models[key])
        return data

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, key: Any) -> bool:
        return key in self.models

    def values(self) -> Iterable[Any]:
        """The models as last put (a :class:`MachineTable` leaves later telemetry out: filter on them, serve
        :meth:`json_of`)."""
        return self.models.values()


TELEMETRY_KEY = b'"telemetry":'
EMPTY_TELEMETRY = TELEMETRY_KEY + b"{}"


def split_around_telemetry(model: Any) -> tuple[bytes, bytes] | None:
    """A machine's JSON without its telemetry value: ``(head, tail)`` such that ``head + <telemetry JSON> + tail`` is
    the machine with that telemetry. ``None`` when the marker is not found exactly once (then dump whole)."""
    data = model.model_copy(update={"telemetry": {}}).model_dump_json().encode()
    at = data.find(EMPTY_TELEMETRY)
    if at < 0 or data.find(EMPTY_TELEMETRY, at + 1) >= 0:
        return None
    return data[: at + len(TELEMETRY_KEY)], data[at + len(EMPTY_TELEMETRY) :]


class MachineTable(Table):
    """Machines, with telemetry merged beside the model (see the module docstring).

    ``models`` holds each machine as its last ``machine.updated`` (or the seed) said; ``_telemetry`` the merged
    telemetry since then, when any came. :meth:`get` answers the merged machine; :meth:`json_of` its JSON.
    """

    __slots__ = ("_halves", "_telemetry")

    def __init__(self) -> None:
        super().__init__()
        self._telemetry: dict[Any, dict[str, float]] = {}
        self._halves: dict[Any, tuple[bytes, bytes] | None] = {}

    def put(self, key: Any, model: Any, data: bytes | None = None) -> None:
        super().put(key, model, data)
        self._telemetry.pop(key, None)
        self._halves.pop(key, None)

    def drop(self, key: Any) -> None:
        super().drop(key)
        self._telemetry.pop(key, None)
        self._halves.pop(key, None)

    def merge_telemetry(self, key: Any, values: dict[str, float]) -> bool:
        """Merge ``values`` into the machine's telemetry; False (nothing done) for an unknown machine."""
        model = self.models.get(key)
        if model is None:
            return False
        current = self._telemetry.get(key)
        self._telemetry[key] = {**(model.telemetry if current is None else current), **values}
        self._json.pop(key, None)
        return True

    def get(self, key: Any) -> Any | None:
        model = self.models.get(key)
        telemetry = self._telemetry.get(key)
        if model is None or telemetry is None:
            return model
        return model.model_copy(update={"telemetry": telemetry})

    def json_of(self, key: Any) -> bytes:
        data = self._json.get(key)
        if data is not None:
            return data
        telemetry = self._telemetry.get(key)
        if telemetry is None:
            data = model_json(self.models[key])
        else:
            if key in self._halves:
                halves = self._halves[key]
            else:
                halves = self._halves[key] = split_around_telemetry(self.models[key])
            if halves is None:
                data = model_json(self.get(key))
            else:
                data = halves[0] + json.dumps(telemetry, separators=(",", ":")).encode() + halves[1]
        self._json[key] = data
        return data


class ServedState:
    """The folded tables of one feed (see the module docstring)."""

    def __init__(self) -> None:
        self.nodes = Table()
        self.machines = MachineTable()
        self.jobs = Table()
        self.alerts = Table()
        self.quality = Table()
        self._apply: dict[str, Callable[[Any, bytes | None], None]] = {
            EventType.NODE_UPDATED: lambda p, d: self.nodes.put(p.id, p, d),
            EventType.MACHINE_UPDATED: lambda p, d: self.machines.put(p.id, p, d),
            EventType.MACHINE_TELEMETRY: self._on_telemetry,
            EventType.JOB_UPDATED: lambda p, d: self.jobs.put(p.id, p, d),
            EventType.JOB_REMOVED: lambda p, d: self.jobs.drop(p.id),
            EventType.ALERT_RAISED: self._on_alert,
            EventType.ALERT_UPDATED: self._on_alert,
            EventType.QUALITY_UPDATED: lambda p, d: self.quality.put((p.scope, p.id), p, d),
        }

    @classmethod
    def seeded(cls, view: Any) -> ServedState:
        """The state of ``view`` now (a full dump: the feed's state at ``seq`` 0)."""
        state = cls()
        for n in view.nodes():
            state.nodes.put(n.id, n)
        for m in view.machines():
            state.machines.put(m.id, m)
        for j in view.jobs():
            state.jobs.put(j.id, j)
        for a in view.alerts():
            if a.state != RESOLVED:
                state.alerts.put(a.id, a)
        for q in view.quality():
            state.quality.put((q.scope, q.id), q)
        return state

    def apply(self, type_: str, payload: Any, data: bytes | None = None) -> None:
        """Fold one event (``data``: the payload's JSON, when it is the whole object). Unknown types change nothing."""
        handler = self._apply.get(type_)
        if handler is not None:
            handler(payload, data)

    def _on_telemetry(self, payload: Any, data: bytes | None) -> None:
        # Merged beside the model (never into it: the model may be shared with the event history and other feeds).
        self.machines.merge_telemetry(payload.machine_id, payload.values)

    def _on_alert(self, payload: Any, data: bytes | None) -> None:
        if payload.state == RESOLVED:
            self.alerts.drop(payload.id)
        else:
            self.alerts.put(payload.id, payload, data)
