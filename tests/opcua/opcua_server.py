"""A real OPC UA server for the tests: asyncua's ``Server`` on 127.0.0.1, modelled on OPC 40001-1 (Machinery).

asyncua ships no companion-spec nodesets (no ``Opc.Ua.Di.NodeSet2.xml`` or ``Opc.Ua.Machinery.NodeSet2.xml`` in its
package data), so the structure is built by hand with the companion spec's namespace URIs and BrowseNames:

* namespaces ``http://opcfoundation.org/UA/DI/`` and ``http://opcfoundation.org/UA/Machinery/``;
* two state machine types in the Machinery namespace (``MachineryItemState_StateMachineType`` with the states
  NotAvailable, OutOfService, Executing, NotExecuting; ``MachineryOperationModeStateMachineType`` with None,
  Maintenance, Setup, Processing), their states as components, as the nodeset has them;
* ``Objects/Machines`` (Machinery) holding one object per machine, each with ``Identification`` (DI: Manufacturer,
  Model, SerialNumber, ProductInstanceUri), ``MachineryBuildingBlocks`` (DI) with ``MachineryItemState`` and
  ``MachineryOperationMode`` (Machinery; ``CurrentState`` with its ``Id``), and ``Monitoring`` with numeric variables
  carrying ``EngineeringUnits``;
* one alarm, an ``OffNormalAlarmType`` condition on the first machine, whose events the server object emits; the
  condition's ``Acknowledge`` (``AcknowledgeableConditionType``'s method) and ``ConditionRefresh`` are implemented.

:class:`PlantServer` runs in the test's event loop; its methods change the plant as a machine would.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncua import Node, Server, ua
from asyncua.crypto.permission_rules import User, UserRole

DI_URI = "http://opcfoundation.org/UA/DI/"
MACHINERY_URI = "http://opcfoundation.org/UA/Machinery/"
PLANT_URI = "urn:factory-console:test-plant"

ITEM_STATES = ("NotAvailable", "OutOfService", "Executing", "NotExecuting")
OPERATION_MODES = ("None", "Maintenance", "Setup", "Processing")

logging.getLogger("asyncua").setLevel(logging.ERROR)


class _Users:
    """Users by name and password (asyncua's user manager protocol): anyone else is refused."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None, certificate: Any = None
    ) -> User | None:
        if username is not None and self.users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MachineNodes:
    obj: Node
    state: Node
    state_id: Node
    mode: Node
    mode_id: Node
    values: dict[str, Node] = field(default_factory=dict)


@dataclass
class Condition:
    """The alarm as the server holds it (what each of its events carries)."""

    node: Node
    source: Node
    source_name: str
    active: bool = False
    acked: bool = True
    retain: bool = False
    severity: int = 850
    message: str = "Hydraulic oil over temperature"
    comment: str = ""
    shelved: bool = False
    event_id: bytes = b""
    acks: list[str] = field(default_factory=list)


class PlantServer:
    """The plant: machines, their states and values, and one alarm. See the module docstring."""

    MACHINES = (
        ("Press-1", "Schuler", "MSP 400", "SN-1001", "Executing", "Processing"),
        ("Mill-2", "DMG Mori", "DMU 50", "SN-2002", "NotExecuting", "Processing"),
        ("Lathe-3", "Okuma", "LB3000", "SN-3003", "OutOfService", "Maintenance"),
    )

    def __init__(
        self, port: int | None = None, *, secure: tuple[Path, Path] | None = None, users: dict[str, str] | None = None
    ) -> None:
        self.secure = secure
        """The server's certificate (DER) and private key (PEM): only Basic256Sha256 SignAndEncrypt is offered."""
        self.users = users
        """User names and passwords: only user name identity tokens are accepted."""
        self.port = port or free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}/plant/"
        self.server: Server | None = None
        self.machines: dict[str, MachineNodes] = {}
        self.condition: Condition | None = None
        self._states: dict[str, dict[str, ua.NodeId]] = {}
        self._alarm_gen: Any = None
        self._refresh_gens: tuple[Any, Any] | None = None
        self.refreshes = 0

    # --- life ---------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        server = Server(user_manager=_Users(self.users) if self.users is not None else None)
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("factory-console test plant")
        if self.secure is not None:
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
            await server.load_certificate(str(self.secure[0]))
            await server.load_private_key(str(self.secure[1]))
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        if self.users is not None:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        self.server = server
        await self._build(server)
        await server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def restart(self) -> None:
        """Stop and start afresh on the same port: a new address space, sessions and subscriptions gone."""
        await self.stop()
        self.machines.clear()
        await self.start()

    # --- the model ----------------------------------------------------------------------------------------------

    async def _build(self, server: Server) -> None:
        di = await server.register_namespace(DI_URI)
        mach = await server.register_namespace(MACHINERY_URI)
        plant = await server.register_namespace(PLANT_URI)
        types = server.get_node(ua.ObjectIds.BaseObjectType)
        fsm = server.get_node(ua.ObjectIds.FiniteStateMachineType)
        item_type = await fsm.add_object_type(mach, "MachineryItemState_StateMachineType")
        mode_type = await fsm.add_object_type(mach, "MachineryOperationModeStateMachineType")
        del types
        self._states = {"item": {}, "mode": {}}
        for key, type_node, names in (("item", item_type, ITEM_STATES), ("mode", mode_type, OPERATION_MODES)):
            for name in names:
                state = await type_node.add_object(mach, name, ua.ObjectIds.StateType)
                self._states[key][name] = state.nodeid
        objects = server.nodes.objects
        folder = await objects.add_folder(mach, "Machines")
        for name, maker, model, serial, item_state, mode in self.MACHINES:
            self.machines[name] = await self._machine(
                folder, (di, mach, plant), name, maker, model, serial, (item_state, mode), item_type, mode_type
            )
        await self._alarm(server, plant)

    async def _machine(
        self,
        folder: Node,
        ns: tuple[int, int, int],
        name: str,
        maker: str,
        model: str,
        serial: str,
        states: tuple[str, str],
        item_type: Node,
        mode_type: Node,
    ) -> MachineNodes:
        di, mach, plant = ns
        obj = await folder.add_object(plant, name)
        ident = await obj.add_object(di, "Identification")
        await ident.add_property(di, "Manufacturer", ua.LocalizedText(maker))
        await ident.add_property(di, "Model", ua.LocalizedText(model))
        await ident.add_property(di, "SerialNumber", serial)
        await ident.add_property(di, "ProductInstanceUri", f"urn:plant:{serial}")
        blocks = await obj.add_folder(di, "MachineryBuildingBlocks")
        item = await blocks.add_object(mach, "MachineryItemState", item_type.nodeid)
        mode_obj = await blocks.add_object(mach, "MachineryOperationMode", mode_type.nodeid)
        state, state_id = await self._current_state(item, plant, self._states["item"], states[0])
        mode, mode_id = await self._current_state(mode_obj, plant, self._states["mode"], states[1])
        monitoring = await obj.add_object(mach, "Monitoring")
        values = {}
        for var, unit, value in (("SpindleSpeed", "rpm", 1200.0), ("OilTemperature", "°C", 41.5)):
            node = await monitoring.add_variable(plant, var, value, ua.VariantType.Double)
            eu = ua.EUInformation(NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact")
            eu.DisplayName = ua.LocalizedText(unit)
            eu.Description = ua.LocalizedText(unit)
            await node.add_property(ua.NodeId(f"{name}.{var}.EU", plant), ua.QualifiedName("EngineeringUnits", 0), eu)
            values[var] = node
        counter = await monitoring.add_variable(plant, "PartsMade", 7, ua.VariantType.UInt32)
        values["PartsMade"] = counter
        label = await obj.add_variable(plant, "Note", "hello", ua.VariantType.String)
        values["Note"] = label
        return MachineNodes(obj, state, state_id, mode, mode_id, values)

    async def _current_state(
        self, machine: Node, plant: int, states: dict[str, ua.NodeId], initial: str
    ) -> tuple[Node, Node]:
        """``CurrentState`` (LocalizedText) and its ``Id`` (NodeId) under a state machine object (asyncua instantiated
        the FiniteStateMachineType's mandatory ``CurrentState`` and ``Id`` already)."""
        current = await machine.get_child(["0:CurrentState"])
        ident = await current.get_child(["0:Id"])
        await current.write_value(ua.LocalizedText(initial))
        await ident.write_value(states[initial])
        return current, ident

    async def _alarm(self, server: Server, plant: int) -> None:
        press = self.machines["Press-1"].obj
        cond_node = await press.add_object(plant, "OilOverTemperature")
        self.condition = Condition(cond_node, press, "Press-1")
        gen = await server.get_event_generator(ua.ObjectIds.OffNormalAlarmType, ua.ObjectIds.Server)
        self._alarm_gen = gen
        start = await server.get_event_generator(ua.ObjectIds.RefreshStartEventType, ua.ObjectIds.Server)
        end = await server.get_event_generator(ua.ObjectIds.RefreshEndEventType, ua.ObjectIds.Server)
        self._refresh_gens = (start, end)
        server.link_method(server.get_node(ua.ObjectIds.AcknowledgeableConditionType_Acknowledge), self._acknowledge)
        server.link_method(server.get_node(ua.ObjectIds.ConditionType_ConditionRefresh), self._refresh)

    # --- changing the plant ---------------------------------------------------------------------------------------

    async def set_state(self, machine: str, item_state: str | None = None, mode: str | None = None) -> None:
        nodes = self.machines[machine]
        text, node_id = ua.VariantType.LocalizedText, ua.VariantType.NodeId
        unknown = ua.NodeId(999999, 0)
        if item_state is not None:
            await self._force(nodes.state, ua.Variant(ua.LocalizedText(item_state), text))
            await self._force(nodes.state_id, ua.Variant(self._states["item"].get(item_state, unknown), node_id))
        if mode is not None:
            await self._force(nodes.mode, ua.Variant(ua.LocalizedText(mode), text))
            await self._force(nodes.mode_id, ua.Variant(self._states["mode"].get(mode, unknown), node_id))

    async def write_raw(self, machine: str, var: str, variant: ua.Variant) -> None:
        """Write any variant, of any type, past the server's type check: a misbehaving device. (asyncua checks a
        value against the current one's type, or a null one's DataType when that is a built-in type: so the DataType
        becomes ``Number`` and the value null first.)"""
        nodes = self.machines[machine]
        await self._force(nodes.values.get(var) or {"state": nodes.state, "mode": nodes.mode}[var], variant)

    async def _force(self, node: Node, variant: ua.Variant) -> None:
        server = self.server
        assert server is not None
        number = ua.DataValue(ua.Variant(ua.NodeId(ua.ObjectIds.Number), ua.VariantType.NodeId))
        await server.write_attribute_value(node.nodeid, number, ua.AttributeIds.DataType)
        bad = ua.DataValue(ua.Variant(None), StatusCode=ua.StatusCode(ua.StatusCodes.BadWaitingForInitialData))
        await server.write_attribute_value(node.nodeid, bad)
        await server.write_attribute_value(node.nodeid, ua.DataValue(variant))

    async def raise_alarm(self, severity: int = 850, message: str | None = None) -> None:
        cond = self._cond()
        cond.active, cond.acked, cond.retain, cond.severity = True, False, True, severity
        cond.comment = ""
        if message is not None:
            cond.message = message
        await self._fire()

    async def acknowledge_here(self, comment: str = "at the machine") -> None:
        """Acknowledged at the machine's own panel (not through the console)."""
        cond = self._cond()
        cond.acked, cond.comment, cond.retain = True, comment, cond.active
        await self._fire()

    async def clear_alarm(self) -> None:
        cond = self._cond()
        cond.active = False
        cond.retain = not cond.acked
        await self._fire()

    def _cond(self) -> Condition:
        assert self.condition is not None
        return self.condition

    async def _fire(self, subscription_id: int | None = None) -> None:
        cond = self._cond()
        event = self._alarm_gen.event
        event.NodeId = cond.node.nodeid
        event.SourceNode = cond.source.nodeid
        event.SourceName = cond.source_name
        event.ConditionName = "OilOverTemperature"
        event.Severity = cond.severity
        event.Retain = cond.retain
        event.add_property("EnabledState/Id", True, ua.VariantType.Boolean)
        event.add_property("ActiveState/Id", cond.active, ua.VariantType.Boolean)
        event.add_property("AckedState/Id", cond.acked, ua.VariantType.Boolean)
        event.add_property("Comment", ua.LocalizedText(cond.comment), ua.VariantType.LocalizedText)
        shelving = "OneShotShelved" if cond.shelved else "Unshelved"
        event.add_property("ShelvingState/CurrentState", ua.LocalizedText(shelving), ua.VariantType.LocalizedText)
        await self._alarm_gen.trigger(message=cond.message, subscription_id=subscription_id)
        cond.event_id = bytes(event.EventId.Value if isinstance(event.EventId, ua.Variant) else event.EventId)

    async def _acknowledge(self, parent: ua.NodeId, event_id: Any, comment: Any) -> ua.StatusCode | list[Any]:
        cond = self._cond()
        if parent != cond.node.nodeid:
            return ua.StatusCode(ua.StatusCodes.BadNodeIdUnknown)
        given = event_id.Value if isinstance(event_id, ua.Variant) else event_id
        if given != cond.event_id:
            return ua.StatusCode(ua.StatusCodes.BadEventIdUnknown)
        if cond.acked:
            return ua.StatusCode(ua.StatusCodes.BadConditionBranchAlreadyAcked)
        text = comment.Value if isinstance(comment, ua.Variant) else comment
        cond.comment = text.Text if isinstance(text, ua.LocalizedText) else str(text or "")
        cond.acks.append(cond.comment)
        cond.acked = True
        cond.retain = cond.active
        await self._fire()
        return []

    async def _refresh(self, parent: ua.NodeId, subscription_id: Any) -> list[Any]:
        self.refreshes += 1
        sub = int(subscription_id.Value if isinstance(subscription_id, ua.Variant) else subscription_id)
        assert self._refresh_gens is not None
        start, end = self._refresh_gens
        await start.trigger(subscription_id=sub)
        if self._cond().retain:
            await self._fire(subscription_id=sub)
        await end.trigger(subscription_id=sub)
        return []


class SimpleServer:
    """A server without the Machinery model: objects with a ``State`` or ``Status`` text and numeric values, and one
    object without a state (not a machine)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}"
        self.server: Server | None = None
        self.nodes: dict[str, Node] = {}

    async def start(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        ns = await server.register_namespace("urn:factory-console:simple-line")
        objects = server.nodes.objects
        oven = await objects.add_object(ua.NodeId("Oven-1", ns), ua.QualifiedName("Oven-1", ns))
        self.nodes["oven"] = await oven.add_variable(ua.NodeId("Oven-1.State", ns), "State", "Running")
        temp = await oven.add_variable(ns, "Temperature", 180.0, ua.VariantType.Double)
        eu = ua.EUInformation(DisplayName=ua.LocalizedText("°C"))
        await temp.add_property(ua.NodeId("Oven-1.EU", ns), ua.QualifiedName("EngineeringUnits", 0), eu)
        robot = await objects.add_object(ua.NodeId("Robot-2", ns), ua.QualifiedName("Robot-2", ns))
        self.nodes["robot"] = await robot.add_variable(ua.NodeId("Robot-2.Status", ns), "Status", "Idle")
        docs = await objects.add_object(ns, "Documentation")
        await docs.add_variable(ns, "Pages", 12, ua.VariantType.Int32)
        self.server = server
        await server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
