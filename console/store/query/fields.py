"""The filter language's vocabulary: the fields each kind of row understands, their aliases, and the help text.

Why one place: the parser (is this a known field?), the evaluation (does it apply to this kind of row?), the
warnings under the filter box and the help screen must agree on the same names; a field added here is known to all
of them (its test is in :mod:`console.store.query.evaluate`).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ALIASES", "FIELDS", "HELP", "KNOWN", "NO", "YES", "Kind"]

Kind = Literal["machine", "job", "alert", "node"]

FIELDS: dict[str, tuple[str, ...]] = {
    "machine": ("state", "status", "kind", "node", "material", "process", "model", "job", "id", "name"),
    "job": (
        "status",
        "state",
        "node",
        "machine",
        "material",
        "process",
        "priority",
        "order",
        "part",
        "region",
        "risk",
        "id",
    ),
    "alert": ("priority", "state", "code", "source", "kind", "node", "machine", "id"),
    "node": ("state", "city", "name", "node", "id"),
}
"""The fields each kind of row understands (for the help screen and for warnings)."""

HELP = """\
word            names and ids contain "word" (every word must match)
"two words"     a phrase; quotes also work in values: node:"new york"
field:value     machines: state kind node material process model job id name
                jobs: status node machine material process priority order part region id, at-risk
                alerts: priority state code source kind node machine id
                nodes: state city name id
state:a state:b the same field twice means either (a OR b); different fields must all match
-term           excludes: -state:idle  -kind:cnc  -at-risk  -test
kind:cnc        kind matches a prefix or a word: cnc -> cnc_mill, cnc_lathe; printer -> every printer
priority:<=2    compare with = < <= > >=; alerts take critical high medium low (or a prefix)
at-risk         unfinished jobs that are past due or expected to finish late (risk:no for the others)
"""
"""Plain text for the help screen (no markup)."""

ALIASES = {"at-risk": "risk", "atrisk": "risk"}
"""Other spellings of a field (and ``at-risk`` alone is ``risk:yes``)."""
KNOWN = frozenset(name for names in FIELDS.values() for name in names) | frozenset(ALIASES)
YES = frozenset({"yes", "y", "true", "1", "on"})
NO = frozenset({"no", "n", "false", "0", "off"})
