"""OPC UA as a source adapter: machines of an OPC UA server (OPC 40001-1 Machinery where present) in the console.

OPC UA is not the contract, so this package *makes* the contract, as the OctoPrint adapter does: it browses, subscribes,
translates data changes and Alarms & Conditions events into contract objects and events numbered by its own ``seq``,
and feeds them to the store (a snapshot, then ``apply_events``). One module per job (``docs/opcua.md``):

* :mod:`.mapping`: pure tables (machine states, severities, alert states, units) and the checks on untrusted values;
* :mod:`.model`: the plain data a browse yields (no asyncua);
* :mod:`.browse`: finding the machines (the Machinery ``Machines`` folder, configured node ids, or a simple browse);
* :mod:`.alarms`: the event filter and reading condition events;
* :mod:`.translation` and :mod:`.conditions`: inputs to contract events with the source's own ``seq``;
* :mod:`.connection`: one asyncua session (connect, subscribe, acknowledge, notice loss);
* :mod:`.commands`: ``alert.ack`` as the condition's ``Acknowledge``;
* :mod:`.spec`: ``--opcua [NAME=]URL`` and the profile's ``opcua`` tables (no asyncua: the launcher imports it);
* :mod:`.source`: :class:`OpcUaSource`, the adapter the registry builds.

Importing this package does not import asyncua; :class:`OpcUaSource` (and the stack) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.sources.opcua.spec import OpcUaOptions, ResolvedServer, parse_item, resolve_servers

if TYPE_CHECKING:
    from console.sources.opcua.source import OpcUaSource

__all__ = ["OpcUaOptions", "OpcUaSource", "ResolvedServer", "parse_item", "resolve_servers"]


def __getattr__(name: str) -> Any:
    if name == "OpcUaSource":
        from console.sources.opcua.source import OpcUaSource

        return OpcUaSource
    raise AttributeError(name)
