"""The filter language's vocabulary: the fields each kind of row understands, their aliases, and the help text.

Why one place: the parser (is this a known field?), the evaluation (does it apply to this kind of row?), the
warnings under the filter box and the help screen must agree on the same names; a field added here is known to all
of them (its test is in :mod:`console.store.query.evaluate`).
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ALERT_STATE_WORDS",
    "ALIASES",
    "EXAMPLES",
    "FIELDS",
    "FLAGS",
    "HELP",
    "KNOWN",
    "NO",
    "PLURAL",
    "YES",
    "YES_NO",
    "Kind",
    "placeholder",
]

Kind = Literal["machine", "job", "alert", "node", "history"]

FIELDS: dict[str, tuple[str, ...]] = {
    "machine": ("state", "status", "kind", "node", "material", "process", "model", "job", "id", "name", "cluster"),
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
        "overdue",
        "id",
        "cluster",
    ),
    "alert": ("priority", "state", "code", "source", "kind", "node", "machine", "id", "cluster"),
    "node": ("state", "city", "name", "node", "id", "cluster"),
    "history": (
        "transition",
        "by",
        "note",
        "server",
        "priority",
        "state",
        "code",
        "source",
        "kind",
        "node",
        "machine",
        "id",
        "cluster",
    ),
}
"""The fields each kind of row understands (for the help screen and for warnings)."""

HELP = """\
word            names and ids contain "word" (every word must match)
"two words"     a phrase; quotes also work in values: node:"new york"
field:value     machines: state kind node material process model job id name
                jobs: status node machine material process priority order part region id, at-risk overdue
                alerts: priority state code source kind node machine id
                nodes: state city name id
                alert history: transition by note server, and the alerts' fields
state:a state:b the same field twice means either (a OR b); different fields must all match
-term           excludes: -state:idle  -kind:cnc  -at-risk  -overdue  -test
kind:cnc        kind matches a prefix or a word: cnc -> cnc_mill, cnc_lathe; printer -> every printer
priority:<=2    compare with = < <= > >=; alerts take critical high medium low (or a prefix)
state:unack     alerts: the words the list shows (unack = UNACK and CLR-UNACK, acked, clr-unack) or the
                states (active, cleared, active_unacked ...), any prefix of a word
node:york       alerts: the node of the alert's source, machine or job (its id, name or city)
source:bambu    alerts: the id or the name of the machine or node that raised it (as the Source column shows)
at-risk         unfinished jobs that will miss their due time: overdue, or their ETA is after it (risk:no: the
                others; at-risk -overdue: not late yet). On the server's clock, never this computer's
overdue         unfinished jobs whose due time has passed on the server's clock (overdue:no: the others)
transition:ack  alert history: raised re-raised count acked shelved unshelved cleared resolved gone (a prefix)
by:alice        alert history: who acked, shelved or unshelved (note: the note's words; server: which source)
cluster:leeds   with several clusters: rows of that cluster (a prefix of its name), on every list
"""
"""Plain text for the help screen (no markup)."""

ALIASES = {"at-risk": "risk", "atrisk": "risk"}
"""Other spellings of a field name (``at-risk:no`` is ``risk:no``)."""
FLAGS = {"at-risk": "risk", "atrisk": "risk", "overdue": "overdue"}
"""Words that alone mean ``field:yes`` (``at-risk`` is ``risk:yes``, ``-overdue`` is ``-overdue:yes``)."""
YES_NO = frozenset({"risk", "overdue"})
"""The fields that take only yes or no."""
KNOWN = frozenset(name for names in FIELDS.values() for name in names) | frozenset(ALIASES)
YES = frozenset({"yes", "y", "true", "1", "on"})
NO = frozenset({"no", "n", "false", "0", "off"})

ALERT_STATE_WORDS: dict[str, str] = {
    "active_unacked": "unack",
    "active_acked": "acked",
    "cleared_unacked": "clr-unack",
    "shelved": "shelved",
    "resolved": "resolved",
}
"""The word the alert lists show for each alert state (``console.screens.columns.ALERT_STATE_WORD``, folded; a test
keeps the two in step), so ``state:`` takes what the operator reads as well as the contract's value."""

PLURAL: dict[str, str] = {
    "machine": "machines",
    "job": "jobs",
    "alert": "alerts",
    "node": "nodes",
    "history": "history rows",
}

EXAMPLES: dict[str, str] = {
    "machine": "state:fault kind:cnc node:leeds material:petg",
    "job": "at-risk overdue status:queued node:leeds priority:<=2",
    "alert": "priority:high state:unack node:york code:...",
    "node": "state:offline city:york name:...",
    "history": "transition:acked by:alice priority:high node:york",
}
"""What the filter box offers on a screen of each kind (a test proves each parses clean for its kind)."""


def placeholder(kind: str | None) -> str:
    """The filter box's placeholder on a screen whose rows are ``kind`` (``None``: free text only)."""
    example = EXAMPLES.get(kind or "")
    if example is None:
        return "text: words in the names and ids  (escape clears)"
    return f"text, {example}  (escape clears)"
