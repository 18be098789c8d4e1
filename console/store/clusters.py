"""Several clusters in one console: how a cluster is named and how its objects' ids are kept apart.

Two clusters both have a ``N-01`` and an ``M-001`` (ids are only unique within one server). The console keeps them
apart by *qualifying* every id of a cluster at the source boundary when more than one cluster is configured:
``N-01`` of the cluster named ``leeds`` becomes ``leeds/N-01`` in the store, in every table, index, filter and
screen, and a command going out has it unqualified again (``console.sources.cluster_ids``). The store's merge by id
then keeps working unchanged: a cluster API and its own node agents qualify with the same name and still describe the
same node, while ``leeds/N-01`` and ``york/N-01`` are two nodes. With one cluster nothing is qualified, so the
one-cluster console is exactly what it was (and its ingest path pays nothing). Why not key the store by
``(cluster, id)``: every table, index, widget and the filter would change, and the hot path would build a tuple per
event; a prefix costs one string per object only where there are several clusters. docs/multi-cluster.md.

Pure functions and constants, no state: the sources, the filter language and the screens share them.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = [
    "SEP",
    "SEVERAL_ID",
    "cluster_of",
    "is_cluster_name",
    "name_from_url",
    "qualify",
    "unique_names",
    "unqualify",
]

SEP = "/"
"""Between a cluster's name and an id: ``leeds/N-01``. A name never holds it, so the first one splits."""

SEVERAL_ID = "clusters"
"""The id of the cluster object shown when several clusters are configured (a synthetic "3 clusters"): no quality or
alert is about it, and a screen can tell it from a real cluster."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,15}")


def is_cluster_name(name: str) -> bool:
    """A cluster's name: 1 to 16 of ``a-z 0-9 _ -`` (lower case, starting with a letter or digit). Short because
    it is shown before every id; plain so it is safe in a header, a filter term and a log line."""
    return _NAME.fullmatch(name) is not None


def qualify(cluster: str, object_id: str) -> str:
    """``leeds``, ``N-01`` -> ``leeds/N-01``."""
    return f"{cluster}{SEP}{object_id}"


def unqualify(cluster: str, object_id: str) -> str:
    """The id the cluster itself uses: ``leeds/N-01`` -> ``N-01``; an id of another cluster (or none) is returned as
    it is, so a wrong route reaches the server as an id it does not know (a 404), never as another object."""
    prefix = cluster + SEP
    return object_id[len(prefix) :] if object_id.startswith(prefix) else object_id


def cluster_of(object_id: str, names: Collection[str] | None = None) -> str:
    """The cluster an id belongs to (``leeds/N-01`` -> ``leeds``); ``""`` for an id that is not qualified (one
    cluster, or a source outside any cluster such as a printer).

    ``names``: the clusters configured. Give them wherever the answer is shown: ids of other sources may hold the
    separator too (a Sparkplug node ``demo/Cell-A``, an OPC UA server's ``press/line-1``), and only the configured
    names tell a qualified id from one of those. Without them the id's shape alone decides (enough where the answer
    is then looked up among the configured clusters anyway, as the command routing does)."""
    head, sep, _ = object_id.partition(SEP)
    if not sep:
        return ""
    if names is not None:
        return head if head in names else ""
    return head if is_cluster_name(head) else ""


def name_from_url(url: str) -> str:
    """A short name for a cluster given only by its URL: the host's first label (``leeds`` for
    ``https://leeds.example.com:8443``; an IP address or ``localhost`` gives ``host-port``), folded to a name."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "cluster").lower()
    label = host if host.replace(".", "").isdigit() or ":" in host else host.split(".")[0]
    if label in ("localhost", host) and parts.port is not None:
        label = f"{label}-{parts.port}"
    return _folded(label)


def unique_names(wanted: list[str]) -> list[str]:
    """The names as given, made unique in order (a second ``leeds`` becomes ``leeds-2``) and valid."""
    taken: set[str] = set()
    out: list[str] = []
    for name in wanted:
        base = _folded(name)
        candidate, n = base, 2
        while candidate in taken:
            suffix = f"-{n}"
            candidate = base[: 16 - len(suffix)] + suffix
            n += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _folded(text: str) -> str:
    """Any text as a cluster name: lower case, other characters as ``-``, at most 16 (``cluster`` if nothing is
    left)."""
    folded = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:16]
    return folded if is_cluster_name(folded) else "cluster"
