"""The Sparkplug B payload: the protobuf ``Payload`` message, decoded and built with the ``protobuf`` package.

Why a schema built here instead of a generated ``_pb2`` module: generated code is tied to the ``protoc`` that made
it (a newer runtime refuses an older gencode after a while), and the console needs only the ``Payload`` message.
The schema below is written from the Sparkplug B 3.0 specification's field numbers and built once at import into a
private descriptor pool, so the messages are parsed by protobuf's C implementation (upb) without a build step.
Nested messages the console never reads (``DataSet``, ``Template``, ``MetaData``, property set lists, extensions)
are declared as ``bytes``: the wire format of a nested message is a length-delimited field, so they parse as opaque
bytes and cost nothing.

Everything read here came from the network. :func:`decode` raises :class:`PayloadError` for anything protobuf cannot
parse or that is too big; :func:`metric_value` raises :class:`MetricError` for a metric whose value does not fit
its datatype, an unknown datatype, a NaN or an infinity, or a string over :data:`MAX_STRING`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

__all__ = [
    "BOOLEAN",
    "DOUBLE",
    "INT64",
    "MAX_STRING",
    "NUMERIC",
    "STRING",
    "UINT64",
    "Metric",
    "MetricError",
    "Payload",
    "PayloadError",
    "build_metric",
    "build_payload",
    "decode",
    "metric_properties",
    "metric_value",
    "now_ms",
    "text_of",
]

# --- datatypes (Sparkplug B 3.0, section 6.4.16) ---------------------------------------------------------------------

INT8, INT16, INT32, INT64 = 1, 2, 3, 4
UINT8, UINT16, UINT32, UINT64 = 5, 6, 7, 8
FLOAT, DOUBLE, BOOLEAN, STRING, DATETIME, TEXT, UUID = 9, 10, 11, 12, 13, 14, 15
DATASET, BYTES, FILE, TEMPLATE, PROPERTYSET, PROPERTYSETLIST = 16, 17, 18, 19, 20, 21
LAST_KNOWN = 34
"""Int8Array (22) to DateTimeArray (34) are known types the console does not read; above this is unknown."""

NUMERIC = frozenset({INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, UINT64, FLOAT, DOUBLE})
TEXTUAL = frozenset({STRING, TEXT, UUID})
_SIGNED_BITS = {INT8: 8, INT16: 16, INT32: 32, INT64: 64}
_INT_FIELD = {INT8, INT16, INT32, UINT8, UINT16, UINT32}
_LONG_FIELD = {INT64, UINT64, DATETIME}

MAX_STRING = 4096
"""A string metric longer than this (in characters) is malformed: no machine state or job id is that long."""


class PayloadError(ValueError):
    """A payload that is not a Sparkplug B ``Payload`` (bad protobuf, too big)."""


class MetricError(ValueError):
    """A metric that cannot be used: unknown datatype, a value that does not fit it, NaN, a huge string."""


# --- the schema -------------------------------------------------------------------------------------------------------

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_TYPES = {
    "uint64": _F.TYPE_UINT64,
    "uint32": _F.TYPE_UINT32,
    "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "float": _F.TYPE_FLOAT,
    "double": _F.TYPE_DOUBLE,
}
_PACKAGE = "factory_console.sparkplug_b"

# (name, number, type or message name, repeated, oneof)
_MESSAGES: dict[str, list[tuple[str, int, str, bool, str | None]]] = {
    "Payload": [
        ("timestamp", 1, "uint64", False, None),
        ("metrics", 2, ".Metric", True, None),
        ("seq", 3, "uint64", False, None),
        ("uuid", 4, "string", False, None),
        ("body", 5, "bytes", False, None),
    ],
    "Metric": [
        ("name", 1, "string", False, None),
        ("alias", 2, "uint64", False, None),
        ("timestamp", 3, "uint64", False, None),
        ("datatype", 4, "uint32", False, None),
        ("is_historical", 5, "bool", False, None),
        ("is_transient", 6, "bool", False, None),
        ("is_null", 7, "bool", False, None),
        ("metadata", 8, "bytes", False, None),
        ("properties", 9, ".PropertySet", False, None),
        ("int_value", 10, "uint32", False, "value"),
        ("long_value", 11, "uint64", False, "value"),
        ("float_value", 12, "float", False, "value"),
        ("double_value", 13, "double", False, "value"),
        ("boolean_value", 14, "bool", False, "value"),
        ("string_value", 15, "string", False, "value"),
        ("bytes_value", 16, "bytes", False, "value"),
        ("dataset_value", 17, "bytes", False, "value"),
        ("template_value", 18, "bytes", False, "value"),
        ("extension_value", 19, "bytes", False, "value"),
    ],
    "PropertySet": [
        ("keys", 1, "string", True, None),
        ("values", 2, ".PropertyValue", True, None),
    ],
    "PropertyValue": [
        ("type", 1, "uint32", False, None),
        ("is_null", 2, "bool", False, None),
        ("int_value", 3, "uint32", False, "value"),
        ("long_value", 4, "uint64", False, "value"),
        ("float_value", 5, "float", False, "value"),
        ("double_value", 6, "double", False, "value"),
        ("boolean_value", 7, "bool", False, "value"),
        ("string_value", 8, "string", False, "value"),
        ("propertyset_value", 9, "bytes", False, "value"),
        ("propertysets_value", 10, "bytes", False, "value"),
        ("extension_value", 11, "bytes", False, "value"),
    ],
}


def _build() -> dict[str, Any]:
    file = descriptor_pb2.FileDescriptorProto(name="factory_console/sparkplug_b.proto", package=_PACKAGE)
    file.syntax = "proto2"
    for message_name, fields in _MESSAGES.items():
        message = file.message_type.add(name=message_name)
        oneofs: dict[str, int] = {}
        for name, number, kind, repeated, oneof in fields:
            field = message.field.add(name=name, number=number, label=_REPEATED if repeated else _OPTIONAL)
            if kind.startswith("."):
                field.type = _F.TYPE_MESSAGE
                field.type_name = f".{_PACKAGE}{kind}"
            else:
                field.type = _TYPES[kind]
            if oneof is not None:
                if oneof not in oneofs:
                    oneofs[oneof] = len(message.oneof_decl)
                    message.oneof_decl.add(name=oneof)
                field.oneof_index = oneofs[oneof]
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")) for name in _MESSAGES
    }


_CLASSES = _build()
Payload: Any = _CLASSES["Payload"]
"""The ``Payload`` message class (protobuf, dynamic: typed ``Any``)."""
Metric: Any = _CLASSES["Metric"]
_PropertyValue: Any = _CLASSES["PropertyValue"]


# --- reading ---------------------------------------------------------------------------------------------------------


def decode(data: bytes | bytearray, max_bytes: int) -> Any:
    """A received payload as a ``Payload`` message; raises :class:`PayloadError` when it is not one."""
    if len(data) > max_bytes:
        raise PayloadError(f"payload of {len(data)} bytes is over the limit of {max_bytes}")
    try:
        return Payload.FromString(bytes(data))
    except (DecodeError, RuntimeError, ValueError) as error:
        raise PayloadError(f"not a Sparkplug B payload: {type(error).__name__}") from None


def text_of(value: str | bytes) -> str:
    """A protobuf string field as ``str``: protobuf hands back ``bytes`` when the wire held invalid UTF-8."""
    if isinstance(value, str):
        return value
    return value.decode("utf-8", errors="replace")


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def metric_value(metric: Any, datatype: int) -> bool | int | float | str | None:
    """The value of ``metric`` read as ``datatype`` (from its BIRTH when a DATA metric omits it).

    Integers, floats, booleans and strings are returned; ``None`` for a null metric or a known type the console does
    not read (bytes, files, data sets, templates, arrays). Raises :class:`MetricError` for an unknown datatype, a
    value field that does not match it, NaN or infinity, or a string over :data:`MAX_STRING`.
    """
    if datatype <= 0 or datatype > LAST_KNOWN:
        raise MetricError(f"unknown datatype {datatype}")
    if metric.is_null:
        return None
    field = metric.WhichOneof("value")
    if field is None:
        return None
    if datatype in (DOUBLE, FLOAT):
        if field == "double_value":
            number: float = metric.double_value
        elif field == "float_value":
            number = metric.float_value
        else:
            raise MetricError(f"datatype {datatype} carries {field}")
        if not math.isfinite(number):
            raise MetricError("not a finite number")
        return number
    if datatype in _INT_FIELD or datatype in _LONG_FIELD:
        if field == "int_value":
            raw: int = metric.int_value
        elif field == "long_value":
            raw = metric.long_value
        else:
            raise MetricError(f"datatype {datatype} carries {field}")
        bits = _SIGNED_BITS.get(datatype)
        return _signed(raw, bits) if bits is not None else raw
    if datatype == BOOLEAN:
        if field != "boolean_value":
            raise MetricError(f"datatype {datatype} carries {field}")
        return bool(metric.boolean_value)
    if datatype in TEXTUAL:
        if field != "string_value":
            raise MetricError(f"datatype {datatype} carries {field}")
        text = text_of(metric.string_value)
        if len(text) > MAX_STRING:
            raise MetricError(f"a string of {len(text)} characters")
        return text
    return None  # bytes, file, data set, template, property sets, arrays: known, not read


def metric_properties(metric: Any) -> dict[str, bool | int | float | str]:
    """A metric's property set (``engUnit``, ``readOnly`` ...) as a plain dict; odd entries are left out."""
    if not metric.HasField("properties"):
        return {}
    properties = metric.properties
    found: dict[str, bool | int | float | str] = {}
    for key, value in zip(properties.keys, properties.values, strict=False):
        field = value.WhichOneof("value")
        if field in (None, "propertyset_value", "propertysets_value", "extension_value") or value.is_null:
            continue
        item = getattr(value, field)
        if isinstance(item, bytes):
            item = text_of(item)
        if isinstance(item, str):
            item = item[:64]
        elif isinstance(item, float) and not math.isfinite(item):
            continue
        found[text_of(key)[:64]] = item
    return found


# --- building (commands, and the edge nodes of the tests and benchmarks) ---------------------------------------------


def now_ms() -> int:
    """The current UTC time in milliseconds since the epoch (Sparkplug's timestamps)."""
    return int(time.time() * 1000)


def build_metric(
    name: str | None,
    value: bool | int | float | str | None,
    datatype: int,
    *,
    alias: int | None = None,
    timestamp: int | None = None,
    properties: Mapping[str, bool | int | float | str] | None = None,
) -> Any:
    """One ``Metric``: named (a BIRTH, a command) or by alias (DATA), its value in the field its datatype uses."""
    metric = Metric()
    if name is not None:
        metric.name = name
    if alias is not None:
        metric.alias = alias
    metric.datatype = datatype
    if timestamp is not None:
        metric.timestamp = timestamp
    if value is None:
        metric.is_null = True
    elif datatype == DOUBLE:
        metric.double_value = float(value)
    elif datatype == FLOAT:
        metric.float_value = float(value)
    elif datatype in _INT_FIELD:
        metric.int_value = int(value) & 0xFFFFFFFF
    elif datatype in _LONG_FIELD:
        metric.long_value = int(value) & 0xFFFFFFFFFFFFFFFF
    elif datatype == BOOLEAN:
        metric.boolean_value = bool(value)
    else:
        metric.string_value = str(value)
    for key, item in (properties or {}).items():
        metric.properties.keys.append(key)
        metric.properties.values.append(_property_value(item))
    return metric


def _property_value(item: bool | int | float | str) -> Any:
    value = _PropertyValue()
    if isinstance(item, bool):
        value.type, value.boolean_value = BOOLEAN, item
    elif isinstance(item, int):
        value.type, value.long_value = INT64, item & 0xFFFFFFFFFFFFFFFF
    elif isinstance(item, float):
        value.type, value.double_value = DOUBLE, item
    else:
        value.type, value.string_value = STRING, item
    return value


def build_payload(metrics: Iterable[Any], *, seq: int | None = None, timestamp: int | None = None) -> bytes:
    """A serialized ``Payload`` of ``metrics`` (``seq`` is left out for commands and NDEATH, as they carry none)."""
    payload = Payload()
    payload.timestamp = now_ms() if timestamp is None else timestamp
    if seq is not None:
        payload.seq = seq
    payload.metrics.extend(metrics)
    data: bytes = payload.SerializeToString()
    return data
