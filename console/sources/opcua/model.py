"""The plain data a browse yields and the translation reads: machines, what to watch, and a few well-known node ids.

No asyncua here: node ids are strings (``ns=4;i=16``, asyncua's ``NodeId.to_string()``), so the translation and its
tests run without the OPC UA stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["REFRESH_END", "REFRESH_START", "SHELVED_IDS", "MachineModel", "Plant", "Watched"]

REFRESH_START = "i=2787"
"""``RefreshStartEventType``: a ConditionRefresh begins."""
REFRESH_END = "i=2788"
"""``RefreshEndEventType``: a ConditionRefresh has re-sent every retained condition."""
SHELVED_IDS = frozenset({"i=2932", "i=2933"})
"""``ShelvedStateMachineType``'s TimedShelved and OneShotShelved states (the third, Unshelved, is i=2930)."""


@dataclass(frozen=True, slots=True)
class Watched:
    """One monitored variable: which machine, what it is (``item_state``, ``item_state_id``, ``mode``, ``mode_id``,
    ``state_text`` or ``telemetry``) and, for telemetry, its name."""

    machine: str
    role: str
    name: str = ""


@dataclass(slots=True)
class MachineModel:
    """A machine as browsed: its key (part of its console id), name, identification and what to watch."""

    key: str
    node_id: str
    name: str
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    product_uri: str = ""
    machinery: bool = False
    """Modelled by OPC 40001-1 (``MachineryItemState``), not a state text."""
    watch: dict[str, Watched] = field(default_factory=dict)
    """Node id string -> what it is."""
    state_names: dict[str, str] = field(default_factory=dict)
    """A state node's id string -> its BrowseName (``Executing`` ...), to read ``CurrentState/Id``."""


@dataclass(slots=True)
class Plant:
    """What one browse found: the machines, how they were found, and which node ids belong to which machine (an
    alarm's ``SourceNode`` is mapped through it)."""

    machines: list[MachineModel]
    found_by: str
    owners: dict[str, str] = field(default_factory=dict)
