"""What one OPC UA server said, as contract events numbered by this source's own ``seq``: the source's memory.

Inputs come from the connection (:mod:`.connection`) as plain values: the browsed plant (:meth:`Translator.set_plant`),
a data change of a watched variable (:meth:`Translator.data`), a condition event's fields (:meth:`Translator.event`),
a ConditionRefresh's start and end, and the connection going away (:meth:`Translator.unreachable`). Each returns the
contract events it makes (``machine.updated``, ``machine.telemetry``, ``alert.raised``, ``alert.updated``), the only
way anything this source knows reaches the store, and what the source snapshots after a gap or a reconnect.

A value that cannot be used (wrong type, NaN, an unknown state name, a severity outside 1..1000) changes nothing and is
kept in :attr:`Translator.malformed` for the source to count; the next good value goes on as usual.

No I/O, no asyncua, no store: the clock is passed in, so tests step it by hand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from console.api.models import Alert, Event, EventType, Machine, MachineTelemetry
from console.sources.opcua.conditions import Conditions
from console.sources.opcua.mapping import (
    ITEM_STATES,
    OPERATION_MODES,
    MachineView,
    Malformed,
    clean_text,
    finite,
    machine_view,
    text_state,
)
from console.sources.opcua.model import REFRESH_END, REFRESH_START, MachineModel, Plant, Watched

__all__ = ["Translator"]


class _Machine:
    """One machine's inputs as last received, and the object as last sent."""

    __slots__ = ("item_id", "item_text", "mode_id", "mode_text", "model", "sent", "text_view", "values")

    def __init__(self, model: MachineModel) -> None:
        self.model = model
        self.item_text: str | None = None
        self.item_id: str | None = None
        self.mode_text: str | None = None
        self.mode_id: str | None = None
        self.text_view: MachineView | None = None
        self.values: dict[str, float] = {}
        self.sent: Machine | None = None


class Translator:
    """One server's machines and alerts as last sent, and the events that move them on."""

    def __init__(
        self,
        *,
        name: str,
        node_id: str,
        kind: str = "machine",
        clock: Callable[[], datetime],
    ) -> None:
        self.name = name
        self.node_id = node_id
        self.kind = kind
        self._clock = clock
        self._seq = 0
        self._out: list[Event] = []
        self._machines: dict[str, _Machine] = {}
        self._watch: dict[str, Watched] = {}
        self._owners: dict[str, str] = {}
        self._offline_reason: str | None = "connecting to the OPC UA server"
        self.malformed: list[tuple[str, str]] = []
        """``(what, why)`` of each value that could not be used since the source last took them."""
        self.conditions = Conditions(self)

    # --- what was sent --------------------------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event made (0 before any)."""
        return self._seq

    @property
    def machines(self) -> list[Machine]:
        """The machines as last sent, with their telemetry as it is now (what a snapshot carries)."""
        return [
            m.sent.model_copy(update={"telemetry": dict(m.values)})
            for m in self._machines.values()
            if m.sent is not None
        ]

    @property
    def alerts(self) -> list[Alert]:
        return self.conditions.open_alerts()

    def machine_id(self, key: str) -> str:
        """The console id of machine ``key`` of this server: ``UA-<server name>-<machine>``."""
        return f"UA-{self.name}-{key}"

    def now(self) -> datetime:
        return self._clock()

    # --- inputs ---------------------------------------------------------------------------------------------------

    def set_plant(self, plant: Plant) -> list[Event]:
        """A (re)browse found these machines: keep what is known of those still there, forget the others (the source
        snapshots after this, so a machine that went is gone from the store too)."""
        known = self._machines
        self._machines = {}
        for model in plant.machines:
            machine = known.get(model.key) or _Machine(model)
            machine.model = model
            self._machines[model.key] = machine
        self._watch = {node_id: w for m in plant.machines for node_id, w in m.watch.items()}
        self._owners = dict(plant.owners)
        self._offline_reason = None
        for machine in self._machines.values():
            with contextlib.suppress(Malformed):  # kept as last sent; its next good value moves it on
                self._update(machine)
        return self.take()

    def data(self, node_id: str, value: Any, *, good: bool = True) -> list[Event]:
        """A data change of a watched variable (``good`` is its status); unknown node ids are ignored."""
        watched = self._watch.get(node_id)
        machine = self._machines.get(watched.machine) if watched is not None else None
        if watched is None or machine is None:
            return []
        saved = (machine.item_text, machine.item_id, machine.mode_text, machine.mode_id, machine.text_view)
        try:
            self._data(machine, watched, value if good else None)
        except Malformed as error:  # the value changes nothing: the machine keeps what it had
            machine.item_text, machine.item_id, machine.mode_text, machine.mode_id, machine.text_view = saved
            self.malformed.append((f"{watched.role} of {machine.model.name}", str(error)))
        return self.take()

    def event(self, fields: dict[str, Any]) -> list[Event]:
        """An event of the ``Server`` object (see :mod:`.alarms`): conditions become alerts, a ConditionRefresh's start
        and end bracket a refresh, anything else is dropped."""
        event_type = fields.get("EventType")
        if event_type == REFRESH_START:
            self.conditions.refresh_started()
        elif event_type == REFRESH_END:
            self.conditions.refresh_ended()
        elif fields.get("ConditionId") is not None:
            try:
                self.conditions.event(fields)
            except Malformed as error:
                self.malformed.append(("condition event", str(error)))
        return self.take()

    def unreachable(self, reason: str | None) -> list[Event]:
        """The server cannot be reached: every machine ``offline`` with ``reason`` (``None``: not yet, keep them)."""
        if reason is not None:
            self._offline_reason = reason
            for machine in self._machines.values():
                self._update(machine)
        return self.take()

    def take_malformed(self) -> list[tuple[str, str]]:
        out, self.malformed = self.malformed, []
        return out

    # --- the machines ---------------------------------------------------------------------------------------------

    def _data(self, machine: _Machine, watched: Watched, value: Any) -> None:
        role = watched.role
        if role == "telemetry":
            if value is None:
                return  # a bad status: no reading (not a reading of zero)
            number = finite(value)
            if machine.values.get(watched.name) != number:
                machine.values[watched.name] = number
                self.emit(
                    EventType.MACHINE_TELEMETRY,
                    MachineTelemetry(
                        machine_id=self.machine_id(machine.model.key), at=self._clock(), values={watched.name: number}
                    ),
                )
            return
        if role in ("item_state", "mode"):
            text = _state_text(value)
            if role == "item_state":
                machine.item_text = text
            else:
                machine.mode_text = text
        elif role in ("item_state_id", "mode_id"):
            if value is not None and not isinstance(value, str):
                raise Malformed("a state id that is not a node id")
            if role == "item_state_id":
                machine.item_id = value
            else:
                machine.mode_id = value
        elif role == "state_text":
            machine.text_view = text_state(value) if value is not None else None
        self._update(machine)

    def _view(self, machine: _Machine) -> MachineView:
        if self._offline_reason is not None:
            return MachineView("offline", self._offline_reason)
        if not machine.model.machinery:
            if machine.text_view is None:
                return MachineView("offline", "no state value from the server")
            return machine.text_view
        names = machine.model.state_names
        item = _pick(names.get(machine.item_id or ""), machine.item_text, ITEM_STATES, "MachineryItemState")
        mode = _pick(names.get(machine.mode_id or ""), machine.mode_text, OPERATION_MODES, "MachineryOperationMode")
        if item is None and machine.item_text is None and machine.item_id is None:
            return MachineView("offline", "no state value from the server")
        return machine_view(item, mode)

    def _update(self, machine: _Machine) -> None:
        """Send ``machine.updated`` when anything but the telemetry and ``last_seen`` changed."""
        try:
            view = self._view(machine)
        except Malformed:
            if machine.sent is not None:
                raise
            view = MachineView("offline", "unknown state on the server")
        model, now, old = machine.model, self._clock(), machine.sent
        since = old.state_since if old is not None and old.state == view.state else now
        make = f"{model.manufacturer} {model.model}".strip() or "OPC UA"
        new = Machine(
            id=self.machine_id(model.key),
            node_id=self.node_id,
            name=model.name,
            kind=self.kind,
            model=make,
            state=view.state,
            state_since=since,
            envelope_mm=(0.0, 0.0, 0.0),
            telemetry=dict(machine.values),
            state_reason=view.reason,
            fault_code=view.fault_code,
            last_seen=now,
        )
        ignore = {"telemetry", "last_seen"}
        if old is not None and new.model_dump(exclude=ignore) == old.model_dump(exclude=ignore):
            machine.sent = old.model_copy(update={"telemetry": dict(machine.values)})
            return
        machine.sent = new
        self.emit(EventType.MACHINE_UPDATED, new)

    def machine_of_source(self, source_node: Any, source_name: Any) -> str | None:
        """The console id of the machine an alarm is about (its ``SourceNode`` or ``SourceName``), if any."""
        key = self._owners.get(source_node) if isinstance(source_node, str) else None
        if key is None and isinstance(source_name, str):
            name = clean_text(source_name, 64)
            key = next((k for k, m in self._machines.items() if m.model.name == name), None)
        return self.machine_id(key) if key is not None and key in self._machines else None

    # --- the events -----------------------------------------------------------------------------------------------

    def emit(self, type_: str, data: Any) -> None:
        self._seq += 1
        self._out.append(Event(self._seq, type_, data))

    def take(self) -> list[Event]:
        out, self._out = self._out, []
        return out


def _state_text(value: Any) -> str | None:
    """A ``CurrentState`` value (LocalizedText or string) as text; ``None`` for no value."""
    if value is None:
        return None
    text = getattr(value, "Text", value)
    if text is not None and not isinstance(text, str):
        raise Malformed("a state that is not text")
    return clean_text(text, 60) or None


def _pick(by_id: str | None, text: str | None, known: frozenset[str], what: str) -> str | None:
    """The current state's name: the BrowseName its ``Id`` points at, else the ``CurrentState`` text if it is a known
    name; ``None`` when the server has neither; raises :class:`Malformed` when what it has is not a known state."""
    if by_id in known:
        return by_id
    if text in known:
        return text
    if by_id is None and text is None:
        return None
    raise Malformed(f"unknown {what}")
