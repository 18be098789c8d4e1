"""Finding the machines on an OPC UA server: the OPC 40001-1 (Machinery) model where present, else a fallback.

1. **Machinery**: the namespace ``http://opcfoundation.org/UA/Machinery/`` is in the server's namespace array and
   ``Objects`` has its ``Machines`` folder. Each object in it is a machine: its ``DisplayName`` is the name,
   ``Identification`` gives Manufacturer, Model, SerialNumber and ProductInstanceUri, and
   ``MachineryBuildingBlocks`` holds ``MachineryItemState`` and ``MachineryOperationMode``, state machines whose
   ``CurrentState`` (and its ``Id``) is watched. The ``Id`` is mapped back to the BrowseName of the state it points at
   (the states are components of the state machine's type), so a localized ``CurrentState`` text does not matter.
2. **Configured**: the node ids listed under ``machines`` in the config, each walked the same way.
3. **Simple browse**: the objects under ``Objects`` (and a DI ``DeviceSet``) that have a state: a Machinery state
   machine or a text variable named ``State``, ``MachineState``, ``Status``, ``OperatingState`` or ``CurrentState``.

Under each machine, numeric variables (up to :data:`MAX_VARIABLES`, three levels deep, not in ``Identification``,
the building blocks or a condition) become telemetry named by :func:`~.mapping.telemetry_name` from their
BrowseName and ``EngineeringUnits``. The result is plain data (:class:`MachineModel`, node ids as strings) that the
translation uses without asyncua.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError

from console.sources.opcua.mapping import clean_text, slug, snake, telemetry_name
from console.sources.opcua.model import MachineModel, Plant, Watched

__all__ = [
    "DI_URI",
    "MACHINERY_URI",
    "MAX_MACHINES",
    "MAX_VARIABLES",
    "browse_plant",
]

MACHINERY_URI = "http://opcfoundation.org/UA/Machinery/"
DI_URI = "http://opcfoundation.org/UA/DI/"
MAX_MACHINES = 500
"""At most this many machines from one server (a hostile or huge address space must not stall the console)."""
MAX_VARIABLES = 64
"""At most this many telemetry variables per machine."""
MAX_DEPTH = 3

STATE_VARIABLES = frozenset({"State", "MachineState", "Status", "OperatingState", "CurrentState"})
SKIPPED = frozenset({"Identification", "MachineryBuildingBlocks", "MachineryItemState", "MachineryOperationMode"})
_NUMERIC = frozenset({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 26, 27, 28, 50, 290})
"""ns=0 DataTypes that are numbers: SByte .. Double, Number, Integer, UInteger, Decimal, Duration."""
_TEXT = frozenset({12, 21})
"""String, LocalizedText."""


async def browse_plant(client: Client, *, configured: Sequence[str] = ()) -> Plant:
    """Browse the server for machines (see the module docstring)."""
    namespaces = [str(uri) for uri in await client.get_namespace_array()]
    walker = _Walker(client)
    machines_folder = None
    if MACHINERY_URI in namespaces:
        index = namespaces.index(MACHINERY_URI)
        machines_folder = await walker.child(client.nodes.objects, "Machines", index)
    if configured:
        candidates = [(client.get_node(node_id), None) for node_id in configured]
        found_by = "configured"
    elif machines_folder is not None:
        candidates = [(client.get_node(d.NodeId), d) for d in await walker.children(machines_folder, _OBJECT)]
        found_by = "machinery"
    else:
        candidates = await walker.plain_candidates(namespaces)
        found_by = "browse"
    plant = Plant([], found_by)
    keys: set[str] = set()
    for node, description in candidates[:MAX_MACHINES]:
        machine = await walker.machine(node, description)
        if machine is None or (found_by == "browse" and not machine.watch_state()):
            continue
        machine.key = _unique(machine.key, keys)
        for node_id, item in list(machine.watch.items()):
            machine.watch[node_id] = Watched(machine.key, item.role, item.name)
        plant.machines.append(machine.model)
        plant.owners.update(dict.fromkeys(machine.owned, machine.key))
        plant.owners[machine.model.node_id] = machine.key
    return plant


_OBJECT = ua.NodeClass.Object
_VARIABLE = ua.NodeClass.Variable


def _unique(key: str, taken: set[str]) -> str:
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}-{n}", n + 1
    taken.add(candidate)
    return candidate


class _Found:
    """A machine being browsed."""

    def __init__(self, model: MachineModel) -> None:
        self.model = model
        self.owned: set[str] = set()

    @property
    def key(self) -> str:
        return self.model.key

    @key.setter
    def key(self, value: str) -> None:
        self.model.key = value

    @property
    def watch(self) -> dict[str, Watched]:
        return self.model.watch

    def watch_state(self) -> bool:
        return any(w.role in ("item_state", "item_state_id", "state_text") for w in self.model.watch.values())


class _Walker:
    """Browsing helpers over one client (type definitions' states are cached)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._type_states: dict[str, dict[str, str]] = {}

    async def children(self, node: Node, mask: ua.NodeClass = ua.NodeClass.Unspecified) -> list[Any]:
        return list(await node.get_children_descriptions(nodeclassmask=mask))

    async def child(self, node: Node, name: str, ns: int | None = None) -> Node | None:
        for d in await self.children(node):
            if d.BrowseName.Name == name and (ns is None or d.BrowseName.NamespaceIndex == ns):
                return self.client.get_node(d.NodeId)
        return None

    async def plain_candidates(self, namespaces: list[str]) -> list[tuple[Node, Any]]:
        """Objects under ``Objects`` (not the server's own, ns 0) and under a DI ``DeviceSet``."""
        found: list[tuple[Node, Any]] = []
        for d in await self.children(self.client.nodes.objects, _OBJECT):
            if d.NodeId.NamespaceIndex == 0:
                continue
            if d.BrowseName.Name == "DeviceSet":
                devices = self.client.get_node(d.NodeId)
                found.extend((self.client.get_node(c.NodeId), c) for c in await self.children(devices, _OBJECT))
                continue
            found.append((self.client.get_node(d.NodeId), d))
        return found

    async def machine(self, node: Node, description: Any) -> _Found | None:
        """Walk one machine object; ``None`` when it cannot be read (a configured id that does not exist)."""
        try:
            display = description.DisplayName if description is not None else await node.read_display_name()
            browse = description.BrowseName if description is not None else await node.read_browse_name()
            kids = await self.children(node)
        except UaError:
            return None
        name = clean_text(display, 64) or clean_text(browse.Name, 64) or "machine"
        found = _Found(MachineModel(slug(clean_text(browse.Name, 64) or name), node.nodeid.to_string(), name))
        telemetry: list[tuple[Node, str, str]] = []
        for d in kids:
            await self._component(found, d, telemetry, depth=1, parent="")
        await self._telemetry(found, telemetry)
        return found

    async def _component(
        self, found: _Found, d: Any, telemetry: list[tuple[Node, str, str]], *, depth: int, parent: str
    ) -> None:
        name = str(d.BrowseName.Name)
        node = self.client.get_node(d.NodeId)
        found.owned.add(d.NodeId.to_string())
        if d.NodeClass == _OBJECT:
            if name == "Identification":
                await self._identification(found.model, node)
            elif name == "MachineryBuildingBlocks":
                for block in await self.children(node, _OBJECT):
                    if block.BrowseName.Name in ("MachineryItemState", "MachineryOperationMode"):
                        await self._state_machine(found, block)
            elif name in ("MachineryItemState", "MachineryOperationMode"):
                await self._state_machine(found, d)
            elif depth < MAX_DEPTH:
                kids = await self.children(node)
                if any(k.BrowseName.Name == "ConditionName" for k in kids):
                    return  # an alarm's condition object: its fields are not telemetry
                for k in kids:
                    await self._component(found, k, telemetry, depth=depth + 1, parent=name)
        elif d.NodeClass == _VARIABLE and len(telemetry) < MAX_VARIABLES * 2:
            telemetry.append((node, name, parent))

    async def _identification(self, model: MachineModel, node: Node) -> None:
        props = [d for d in await self.children(node, _VARIABLE)]
        wanted = {"Manufacturer": "manufacturer", "Model": "model", "SerialNumber": "serial"}
        wanted["ProductInstanceUri"] = "product_uri"
        picked = [d for d in props if d.BrowseName.Name in wanted]
        if not picked:
            return
        values = await self.client.read_attributes([self.client.get_node(d.NodeId) for d in picked])
        for d, value in zip(picked, values, strict=True):
            if value.StatusCode is not None and not value.StatusCode.is_good():
                continue
            raw = value.Value.Value if value.Value is not None else None
            setattr(model, wanted[d.BrowseName.Name], clean_text(raw, 80))

    async def _state_machine(self, found: _Found, d: Any) -> None:
        """``CurrentState`` and its ``Id`` of a ``MachineryItemState`` or ``MachineryOperationMode`` object."""
        role = "item_state" if d.BrowseName.Name == "MachineryItemState" else "mode"
        machine = self.client.get_node(d.NodeId)
        found.owned.add(d.NodeId.to_string())
        current = await self.child(machine, "CurrentState")
        if current is None:
            return
        found.model.machinery = found.model.machinery or role == "item_state"
        found.watch[current.nodeid.to_string()] = Watched(found.key, role)
        ident = await self.child(current, "Id")
        if ident is not None:
            found.watch[ident.nodeid.to_string()] = Watched(found.key, f"{role}_id")
        type_id = d.TypeDefinition if isinstance(d.TypeDefinition, ua.NodeId) else None
        if type_id is not None and not type_id.is_null():
            found.model.state_names.update(await self._states_of(type_id))

    async def _states_of(self, type_id: ua.NodeId) -> dict[str, str]:
        key = type_id.to_string()
        if key not in self._type_states:
            states: dict[str, str] = {}
            try:
                for d in await self.children(self.client.get_node(type_id), _OBJECT):
                    states[d.NodeId.to_string()] = str(d.BrowseName.Name)
            except UaError:
                pass
            self._type_states[key] = states
        return self._type_states[key]

    async def _telemetry(self, found: _Found, candidates: list[tuple[Node, str, str]]) -> None:
        """Numeric variables become telemetry (with their unit), a text variable named like a state the state."""
        if not candidates:
            return
        types = await self.client.read_attributes([n for n, _, _ in candidates], AttributeIds.DataType)
        names: set[str] = set()
        numeric: list[tuple[Node, str, str]] = []
        for (node, name, parent), dtype in zip(candidates, types, strict=True):
            type_id = dtype.Value.Value if dtype.Value is not None else None
            if not isinstance(type_id, ua.NodeId) or type_id.NamespaceIndex != 0:
                continue
            ident = type_id.Identifier
            if ident in _TEXT and name in STATE_VARIABLES and not found.model.machinery:
                found.watch[node.nodeid.to_string()] = Watched(found.key, "state_text")
            elif ident in _NUMERIC and len(numeric) < MAX_VARIABLES:
                numeric.append((node, name, parent))
        for node, name, parent, unit in zip(*_unzip(numeric), await self._units(n for n, _, _ in numeric), strict=True):
            telemetry = telemetry_name(clean_text(name, 60), unit)
            if telemetry in names:
                telemetry = telemetry_name(f"{snake(clean_text(parent, 30))}_{clean_text(name, 60)}", unit)
            if telemetry in names:
                continue
            names.add(telemetry)
            found.watch[node.nodeid.to_string()] = Watched(found.key, "telemetry", telemetry)

    async def _units(self, nodes: Iterable[Node]) -> list[str | None]:
        """Each variable's ``EngineeringUnits`` display name (``None`` when it has none)."""
        units: list[str | None] = []
        for node in nodes:
            unit: str | None = None
            prop = await self.child(node, "EngineeringUnits")
            if prop is not None:
                try:
                    value = await prop.read_value()
                except UaError:
                    value = None
                display = getattr(value, "DisplayName", None)
                unit = clean_text(display, 16) or None
            units.append(unit)
        return units


def _unzip(rows: list[tuple[Node, str, str]]) -> tuple[list[Node], list[str], list[str]]:
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
