"""Alarms & Conditions on the wire: which event fields the console asks for, and reading them back as plain values.

The console subscribes to the events of the ``Server`` object with an ``EventFilter`` of its own (:func:`event_filter`):
a fixed list of select clauses (:data:`FIELDS`) and the ``ConditionId`` (the condition's NodeId, selected as the
``NodeId`` attribute of ``ConditionType``), and no where clause. Why none: servers differ in what where clauses they
evaluate (``OfType`` is exact-type in some), and a non-condition event (audit, system) costs one look here to drop.

:func:`read_event` turns one received event into a dict of plain values keyed by field path (``"AckedState/Id"``),
node ids as strings, for the translation, which judges each value (wrong types are malformed there).
"""

from __future__ import annotations

from typing import Any

from asyncua import ua
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds

__all__ = [
    "ACKNOWLEDGE",
    "CONDITION_REFRESH",
    "CONDITION_TYPE",
    "FIELDS",
    "event_filter",
    "ns0",
    "plain",
    "read_event",
]

FIELDS: tuple[tuple[str, ...], ...] = (
    ("EventId",),
    ("EventType",),
    ("SourceNode",),
    ("SourceName",),
    ("Time",),
    ("Message",),
    ("Severity",),
    ("ConditionName",),
    ("BranchId",),
    ("Retain",),
    ("EnabledState", "Id"),
    ("ActiveState", "Id"),
    ("AckedState", "Id"),
    ("ShelvingState", "CurrentState"),
    ("ShelvingState", "CurrentState", "Id"),
    ("ShelvingState", "UnshelveTime"),
    ("Comment",),
    ("ClientUserId",),
)
"""The event fields selected, as BrowseName paths (all in namespace 0)."""


def ns0(identifier: int) -> ua.NodeId:
    """A standard (namespace 0) node id."""
    return ua.NodeId(ua.Int32(identifier), ua.Int16(0))


_TYPE_OF_FIELD = {
    "ConditionName": ObjectIds.ConditionType,
    "BranchId": ObjectIds.ConditionType,
    "Retain": ObjectIds.ConditionType,
    "EnabledState": ObjectIds.ConditionType,
    "Comment": ObjectIds.ConditionType,
    "ClientUserId": ObjectIds.ConditionType,
    "AckedState": ObjectIds.AcknowledgeableConditionType,
    "ActiveState": ObjectIds.AlarmConditionType,
    "ShelvingState": ObjectIds.AlarmConditionType,
}

CONDITION_TYPE = ns0(ObjectIds.ConditionType)
ACKNOWLEDGE = ns0(ObjectIds.AcknowledgeableConditionType_Acknowledge)
"""``AcknowledgeableConditionType.Acknowledge(EventId, Comment)``, called on the condition's NodeId."""
CONDITION_REFRESH = ns0(ObjectIds.ConditionType_ConditionRefresh)
"""``ConditionType.ConditionRefresh(SubscriptionId)``: the server re-sends every retained condition."""


def event_filter() -> ua.EventFilter:
    """The select clauses of :data:`FIELDS` and the ``ConditionId``, no where clause."""
    evfilter = ua.EventFilter()
    for path in FIELDS:
        operand = ua.SimpleAttributeOperand()
        operand.TypeDefinitionId = ns0(_TYPE_OF_FIELD.get(path[0], ObjectIds.BaseEventType))
        operand.BrowsePath = [ua.QualifiedName(name, 0) for name in path]
        operand.AttributeId = AttributeIds.Value
        evfilter.SelectClauses.append(operand)
    condition_id = ua.SimpleAttributeOperand()
    condition_id.TypeDefinitionId = CONDITION_TYPE
    condition_id.AttributeId = AttributeIds.NodeId
    evfilter.SelectClauses.append(condition_id)
    return evfilter


def plain(value: Any) -> Any:
    """A field's value with node ids as strings (``None`` for a null node id); everything else as received."""
    if isinstance(value, ua.NodeId):
        return None if value.is_null() else value.to_string()
    return value


def read_event(fields: list[Any]) -> dict[str, Any]:
    """One event's fields (variants, in the order of :func:`event_filter`'s clauses) as ``{path: value}``; the
    condition's NodeId is ``"ConditionId"``. Fields the server did not send are ``None``."""
    names = ["/".join(path) for path in FIELDS] + ["ConditionId"]
    out: dict[str, Any] = {}
    for index, name in enumerate(names):
        variant = fields[index] if index < len(fields) else None
        out[name] = plain(getattr(variant, "Value", None))
    return out
