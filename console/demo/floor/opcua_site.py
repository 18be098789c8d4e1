"""The mixed floor's OPC UA site: an asyncua server on 127.0.0.1 modelled on OPC 40001-1 (Machinery).

asyncua ships no companion-spec nodesets, so the structure is built by hand with the spec's namespace URIs and
BrowseNames, as the tests' plant is (``tests/opcua/opcua_server.py``, which the console's OPC UA source is tested
against): ``Objects/Machines`` holds three injection moulders, each with ``Identification`` (Manufacturer, Model,
SerialNumber), ``MachineryBuildingBlocks`` with ``MachineryItemState`` and ``MachineryOperationMode`` (their
``CurrentState`` and its ``Id``), and ``Monitoring`` with numeric variables carrying ``EngineeringUnits``.

Every :attr:`OpcUaSite.interval` seconds the moulders move on (seeded): mostly Executing, now and then NotExecuting,
rarely OutOfService in Maintenance; their values follow. One ``OffNormalAlarmType`` condition (mould over
temperature, on ``Moulder-2``) is raised and cleared now and then; the console may acknowledge it (``Acknowledge`` is
implemented, and ``ConditionRefresh``, which a subscribing client calls).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from dataclasses import dataclass, field
from typing import Any

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

__all__ = ["MACHINES", "OpcUaSite"]

DI_URI = "http://opcfoundation.org/UA/DI/"
MACHINERY_URI = "http://opcfoundation.org/UA/Machinery/"
SITE_URI = "urn:factory-console:demo-moulding-cell"

ITEM_STATES = ("NotAvailable", "OutOfService", "Executing", "NotExecuting")
OPERATION_MODES = ("None", "Maintenance", "Setup", "Processing")

MACHINES = (
    ("Moulder-1", "Engel", "victory 120", "SN-41001"),
    ("Moulder-2", "Arburg", "Allrounder 470", "SN-41002"),
    ("Moulder-3", "KraussMaffei", "CX 160", "SN-41003"),
)
ALARM_MACHINE = "Moulder-2"
VALUES = (  # name, unit, idle, working, noise
    ("Power", "kW", 1.5, 11.5, 0.3),  # power_kw: what the console's tile shows first for a moulder
    ("MeltTemperature", "°C", 60.0, 235.0, 2.0),
    ("MouldTemperature", "°C", 25.0, 55.0, 1.0),
    ("CycleTime", "s", 0.0, 32.0, 0.8),
)


def _status(code: int) -> ua.StatusCode:
    return ua.StatusCode(code)  # type: ignore[arg-type]  # asyncua annotates its integer aliases as classes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _Machine:
    state: Node
    state_id: Node
    mode: Node
    mode_id: Node
    values: dict[str, Node] = field(default_factory=dict)
    parts: Node | None = None
    parts_made: int = 0
    item_state: str = "Executing"
    operation_mode: str = "Processing"


@dataclass
class _Alarm:
    node: Node
    source: Node
    active: bool = False
    acked: bool = True
    retain: bool = False
    comment: str = ""
    event_id: bytes = b""
    acks: list[str] = field(default_factory=list)


class OpcUaSite:
    """The moulding cell: :meth:`start`, :meth:`step` (or let :meth:`run` step it), :meth:`stop` (one event loop)."""

    def __init__(self, port: int | None = None, *, seed: int = 11, interval: float = 2.0) -> None:
        self.port = port or free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}/floor/"
        self.interval = interval
        self.rng = random.Random(seed)
        self.server: Server | None = None
        self.machines: dict[str, _Machine] = {}
        self.alarm: _Alarm | None = None
        self._states: dict[str, dict[str, ua.NodeId]] = {}
        self._alarm_gen: Any = None
        self._refresh_gens: tuple[Any, Any] | None = None
        self._alarm_wait = self.rng.randint(8, 20)  # steps until the alarm is raised (or cleared)

    # --- life -----------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        # asyncua's server logs every session and subscription at INFO, and tracebacks of clients that go away at
        # WARNING: the demo's server keeps quiet (the console's own OPC UA client logs under asyncua.client).
        logging.getLogger("asyncua.server").setLevel(logging.ERROR)
        logging.getLogger("asyncua.common").setLevel(logging.ERROR)
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("factory-console demo moulding cell")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.server = server
        await self._build(server)
        await server.start()

    async def stop(self) -> None:
        """Stop the server (idempotent)."""
        server, self.server = self.server, None
        if server is not None:
            await server.stop()

    # --- the model ----------------------------------------------------------------------------------------------

    async def _build(self, server: Server) -> None:
        di = await server.register_namespace(DI_URI)
        mach = await server.register_namespace(MACHINERY_URI)
        site = await server.register_namespace(SITE_URI)
        fsm = server.get_node(ObjectIds.FiniteStateMachineType)
        item_type = await fsm.add_object_type(mach, "MachineryItemState_StateMachineType")
        mode_type = await fsm.add_object_type(mach, "MachineryOperationModeStateMachineType")
        self._states = {"item": {}, "mode": {}}
        for key, type_node, names in (("item", item_type, ITEM_STATES), ("mode", mode_type, OPERATION_MODES)):
            for name in names:
                state = await type_node.add_object(mach, name, ObjectIds.StateType)
                self._states[key][name] = state.nodeid
        folder = await server.nodes.objects.add_folder(mach, "Machines")
        for name, maker, model, serial in MACHINES:
            obj = await folder.add_object(site, name)
            ident = await obj.add_object(di, "Identification")
            await ident.add_property(di, "Manufacturer", ua.LocalizedText(maker))
            await ident.add_property(di, "Model", ua.LocalizedText(model))
            await ident.add_property(di, "SerialNumber", serial)
            blocks = await obj.add_folder(di, "MachineryBuildingBlocks")
            item = await blocks.add_object(mach, "MachineryItemState", item_type.nodeid)
            mode = await blocks.add_object(mach, "MachineryOperationMode", mode_type.nodeid)
            state, state_id = await self._current_state(item)
            mode_text, mode_id = await self._current_state(mode)
            machine = _Machine(state, state_id, mode_text, mode_id)
            monitoring = await obj.add_object(mach, "Monitoring")
            for var, unit, idle, _working, _noise in VALUES:
                node = await monitoring.add_variable(site, var, idle, ua.VariantType.Double)
                eu = ua.EUInformation(NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact")
                eu.DisplayName = ua.LocalizedText(unit)
                eu.Description = ua.LocalizedText(unit)
                eu_name = ua.QualifiedName("EngineeringUnits", 0)
                eu_id = ua.NodeId(f"{name}.{var}.EU", site)  # type: ignore[arg-type]  # annotated as classes
                await node.add_property(eu_id, eu_name, eu)
                machine.values[var] = node
            machine.parts = await monitoring.add_variable(site, "PartsMade", 0, ua.VariantType.UInt32)
            self.machines[name] = machine
            if name == ALARM_MACHINE:
                self.alarm = _Alarm(await obj.add_object(site, "MouldOverTemperature"), obj)
        for machine in self.machines.values():
            item_state = "Executing" if self.rng.random() < 0.8 else "NotExecuting"
            await self.set_state(machine, item_state, "Processing")
            await self._write_values(machine)
        self._alarm_gen = await server.get_event_generator(ObjectIds.OffNormalAlarmType, ObjectIds.Server)
        start = await server.get_event_generator(ObjectIds.RefreshStartEventType, ObjectIds.Server)
        end = await server.get_event_generator(ObjectIds.RefreshEndEventType, ObjectIds.Server)
        self._refresh_gens = (start, end)
        server.link_method(server.get_node(ObjectIds.AcknowledgeableConditionType_Acknowledge), self._acknowledge)
        server.link_method(server.get_node(ObjectIds.ConditionType_ConditionRefresh), self._refresh)

    @staticmethod
    async def _current_state(state_machine: Node) -> tuple[Node, Node]:
        """``CurrentState`` and its ``Id`` (asyncua instantiates the FiniteStateMachineType's mandatory ones)."""
        current = await state_machine.get_child(["0:CurrentState"])
        return current, await current.get_child(["0:Id"])

    # --- the cell moves on --------------------------------------------------------------------------------------

    async def set_state(self, machine: _Machine, item_state: str, mode: str) -> None:
        """Set a machine's ``MachineryItemState`` and ``MachineryOperationMode`` (the text and the state's id)."""
        machine.item_state, machine.operation_mode = item_state, mode
        await machine.state.write_value(ua.LocalizedText(item_state))
        await machine.state_id.write_value(self._states["item"][item_state])
        await machine.mode.write_value(ua.LocalizedText(mode))
        await machine.mode_id.write_value(self._states["mode"][mode])

    async def step(self) -> None:
        """One step of the cell: states (seeded), values, parts, and the alarm's life."""
        for machine in self.machines.values():
            roll = self.rng.random()
            if machine.item_state == "Executing":
                if roll < 0.06:
                    await self.set_state(machine, "NotExecuting", "Processing")
                elif roll < 0.075:
                    await self.set_state(machine, "OutOfService", "Maintenance")
                elif machine.parts is not None:
                    machine.parts_made += 1
                    await machine.parts.write_value(ua.Variant(machine.parts_made, ua.VariantType.UInt32))
            elif roll < (0.3 if machine.item_state == "NotExecuting" else 0.12):
                await self.set_state(machine, "Executing", "Processing")
            await self._write_values(machine)
        self._alarm_wait -= 1
        if self._alarm_wait <= 0 and self.alarm is not None:
            if self.alarm.active:
                await self.clear_alarm()
                self._alarm_wait = self.rng.randint(20, 45)
            else:
                await self.raise_alarm()
                self._alarm_wait = self.rng.randint(10, 25)

    async def run(self) -> None:
        """Step every :attr:`interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            await self.step()

    async def _write_values(self, machine: _Machine) -> None:
        working = machine.item_state == "Executing"
        for var, _unit, idle, busy, noise in VALUES:
            base = busy if working else idle
            value = round(max(0.0, base + self.rng.gauss(0.0, noise)), 1)
            await machine.values[var].write_value(ua.Variant(value, ua.VariantType.Double))

    # --- the alarm ------------------------------------------------------------------------------------------------

    async def raise_alarm(self) -> None:
        alarm = self._alarm()
        alarm.active, alarm.acked, alarm.retain, alarm.comment = True, False, True, ""
        await self._fire()

    async def clear_alarm(self) -> None:
        alarm = self._alarm()
        alarm.active = False
        alarm.retain = not alarm.acked
        await self._fire()

    def _alarm(self) -> _Alarm:
        assert self.alarm is not None
        return self.alarm

    async def _fire(self, subscription_id: int | None = None) -> None:
        alarm = self._alarm()
        event = self._alarm_gen.event
        event.NodeId = alarm.node.nodeid
        event.SourceNode = alarm.source.nodeid
        event.SourceName = ALARM_MACHINE
        event.ConditionName = "MouldOverTemperature"
        event.Severity = 700
        event.Retain = alarm.retain
        event.add_property("EnabledState/Id", True, ua.VariantType.Boolean)
        event.add_property("ActiveState/Id", alarm.active, ua.VariantType.Boolean)
        event.add_property("AckedState/Id", alarm.acked, ua.VariantType.Boolean)
        event.add_property("Comment", ua.LocalizedText(alarm.comment), ua.VariantType.LocalizedText)
        event.add_property("ShelvingState/CurrentState", ua.LocalizedText("Unshelved"), ua.VariantType.LocalizedText)
        await self._alarm_gen.trigger(message="Mould temperature over limit", subscription_id=subscription_id)
        alarm.event_id = bytes(event.EventId.Value if isinstance(event.EventId, ua.Variant) else event.EventId)

    async def _acknowledge(self, parent: ua.NodeId, event_id: Any, comment: Any) -> ua.StatusCode | list[Any]:
        alarm = self._alarm()
        if parent != alarm.node.nodeid:
            return _status(StatusCodes.BadNodeIdUnknown)
        given = event_id.Value if isinstance(event_id, ua.Variant) else event_id
        if given != alarm.event_id:
            return _status(StatusCodes.BadEventIdUnknown)
        if alarm.acked:
            return _status(StatusCodes.BadConditionBranchAlreadyAcked)
        text = comment.Value if isinstance(comment, ua.Variant) else comment
        note = text.Text if isinstance(text, ua.LocalizedText) else text
        alarm.comment = str(note or "")[:200]
        alarm.acks = [*alarm.acks[-19:], alarm.comment]  # the last few, for the tests
        alarm.acked, alarm.retain = True, alarm.active
        await self._fire()
        return []

    async def _refresh(self, parent: ua.NodeId, subscription_id: Any) -> list[Any]:
        sub = int(subscription_id.Value if isinstance(subscription_id, ua.Variant) else subscription_id)
        assert self._refresh_gens is not None
        start, end = self._refresh_gens
        await start.trigger(subscription_id=sub)
        if self._alarm().retain:
            await self._fire(subscription_id=sub)
        await end.trigger(subscription_id=sub)
        return []
