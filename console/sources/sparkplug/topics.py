"""The Sparkplug B topic namespace: ``spBv1.0/<group>/<type>/<edge node>[/<device>]`` and ``spBv1.0/STATE/<host>``.

Pure string work, no I/O. A topic the console cannot read as Sparkplug (another namespace, a wrong number of
levels, an unknown message type) parses to ``None``: the host counts it as malformed and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEVICE_TYPES",
    "ID_RE",
    "NAMESPACE",
    "NODE_TYPES",
    "Topic",
    "command_topic",
    "parse_topic",
    "state_topic",
    "subscriptions",
]

NAMESPACE = "spBv1.0"
NODE_TYPES = frozenset({"NBIRTH", "NDEATH", "NDATA", "NCMD"})
DEVICE_TYPES = frozenset({"DBIRTH", "DDEATH", "DDATA", "DCMD"})

ID_RE = re.compile(r"^[^/+#\x00-\x1f\x7f]{1,128}$")
"""A group, edge node, device or host id: no MQTT level separator or wildcard, no control character, and short
(the console's limit; the specification allows any UTF-8 but ``/``, ``+`` and ``#``)."""


@dataclass(frozen=True, slots=True)
class Topic:
    """One parsed Sparkplug topic. ``device`` is ``None`` for node messages; ``kind`` is ``STATE`` for a host's
    state, whose ``edge`` is then the host id and ``group`` empty."""

    group: str
    kind: str
    edge: str
    device: str | None = None


def parse_topic(topic: str) -> Topic | None:
    """``spBv1.0/G/DDATA/E/D`` as ``Topic("G", "DDATA", "E", "D")``; ``None`` for anything else."""
    if not topic.isprintable():
        return None  # control or format characters (a bidi override ...) never become a name on the console
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != NAMESPACE:
        return None
    if parts[1] == "STATE":
        return Topic("", "STATE", parts[2]) if len(parts) == 3 and ID_RE.match(parts[2]) else None
    if len(parts) == 4 and parts[2] in NODE_TYPES:
        group, kind, edge = parts[1], parts[2], parts[3]
        device = None
    elif len(parts) == 5 and parts[2] in DEVICE_TYPES:
        group, kind, edge, device = parts[1], parts[2], parts[3], parts[4]
        if not ID_RE.match(device):
            return None
    else:
        return None
    if not ID_RE.match(group) or not ID_RE.match(edge):
        return None
    return Topic(group, kind, edge, device)


def state_topic(host_id: str) -> str:
    """Where a Sparkplug 3.0 host application publishes its birth and death: ``spBv1.0/STATE/<host_id>``."""
    return f"{NAMESPACE}/STATE/{host_id}"


def command_topic(group: str, edge: str, device: str | None = None) -> str:
    """``NCMD`` to an edge node, ``DCMD`` to one of its devices."""
    if device is None:
        return f"{NAMESPACE}/{group}/NCMD/{edge}"
    return f"{NAMESPACE}/{group}/DCMD/{edge}/{device}"


def subscriptions(groups: tuple[str, ...]) -> list[str]:
    """The topic filters of the groups to follow (every group: ``spBv1.0/#``)."""
    if not groups:
        return [f"{NAMESPACE}/#"]
    return [f"{NAMESPACE}/{group}/#" for group in groups]
