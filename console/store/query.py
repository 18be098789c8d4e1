"""The ``/`` filter language: parse what the operator types, then test machines, jobs, alerts and nodes against it.

Why a language of our own and not a regular expression or Python expression: an operator on a shop floor types
``state:fault node:leeds`` with one hand; the syntax must be short, forgiving and impossible to crash. So
:func:`parse` never raises: anything it does not understand becomes a message in :attr:`Query.errors` (shown under the
filter box) and the rest of the query still works.

Syntax (the same on every screen):

* ``word`` free text: a case-insensitive substring of the row's names and ids (machines: id, name; jobs: id, part,
  order id; alerts: id, code, message, source id; nodes: id, name, city). Several words must all match.
* ``field:value`` a field test. Different fields AND together; the same field repeated ORs
  (``state:fault state:blocked`` is "fault or blocked").
* ``-term`` negation: ``-state:idle`` hides idle machines, ``-test`` hides rows whose names contain "test".
  Several negations of one field each exclude (``-state:idle -state:offline`` hides both).
* ``"..."`` quotes a value with spaces: ``node:"new york"``, ``"bed not"``; ``\\"`` and ``\\\\`` escape inside quotes.
* ``at-risk`` (or ``risk:yes``, ``-at-risk``, ``risk:no``) jobs that will probably miss their due time.
* Values compare case-insensitively. Enumerated fields (machine ``state``, job ``status``, node ``state``) match
  exactly; machine ``kind`` and alert ``kind`` match a prefix of the value or of any ``_`` part of it (``kind:cnc``
  finds ``cnc_mill`` and ``cnc_lathe``, ``kind:printer`` every printer); alert ``state`` matches a prefix
  (``state:active`` finds ``active_acked`` and ``active_unacked``). The other fields match a substring.
* ``priority:`` compares: ``priority:1``, ``priority:<=2``, ``priority:>3`` (jobs: 1 is the highest). It also takes
  an alert level or its prefix (``priority:crit``), read as a number: critical=1, high=2, medium=3, low=4 (an unknown
  alert level is 5). So on alerts ``priority:<=high`` means critical or high, and ``priority:1`` means critical.
* ``status`` and ``state`` are synonyms on machines and jobs.

Unknown fields: ``foo:bar`` with an unknown ``foo`` is searched as the free text ``foo:bar`` (a name may contain a
colon) and a message says so. A known field that does not apply to a kind of row (``status:`` on the machines screen)
is ignored for that kind; :meth:`Query.warnings` names such fields so the screen can say so.

Speed: each query compiles once per kind into a list of small closures; a row test is a few string operations.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from console.api.models import (
    ALERT_PRIORITY_RANK,
    FINISHED_JOB_STATUSES,
    Alert,
    Job,
    Machine,
    Node,
    utc_now,
)

__all__ = ["FIELDS", "HELP", "Kind", "Query", "Term", "job_at_risk", "parse"]

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

_ALIASES = {"at-risk": "risk", "atrisk": "risk"}
_KNOWN = frozenset(name for names in FIELDS.values() for name in names) | frozenset(_ALIASES)
_YES = frozenset({"yes", "y", "true", "1", "on"})
_NO = frozenset({"no", "n", "false", "0", "off"})
_MAX_MESSAGE_TEXT = 40


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a query: free text (``field is None``) or ``field:value``, maybe negated.

    ``value`` is kept as typed (for display); matching folds case.
    """

    field: str | None
    value: str
    negated: bool = False

    def __str__(self) -> str:
        sign = "-" if self.negated else ""
        if self.field is None:
            return sign + _quote(self.value, free_text=True)
        if self.field == "risk":
            return f"{sign}at-risk" if self.value == "yes" else f"{sign}risk:no"
        return f"{sign}{self.field}:{_quote(self.value, free_text=False)}"


Predicate = Callable[[Any, Any, Any], bool]
"""A compiled test: ``(row, node or None, context) -> bool``; ``context`` is "now" for job risk, else unused."""


@dataclass(frozen=True)
class Query:
    """A parsed filter. Immutable; compiled lazily, once per kind of row."""

    terms: tuple[Term, ...] = ()
    errors: tuple[str, ...] = ()
    _compiled: dict[str, Predicate] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_empty(self) -> bool:
        """True when the query filters nothing (so a screen can skip the test altogether)."""
        return not self.terms

    def __str__(self) -> str:
        """The normalised form: one space between terms, canonical field names, quotes only where needed."""
        return " ".join(str(term) for term in self.terms)

    def matches_machine(self, machine: Machine, node: Node | None = None) -> bool:
        """Does the machine pass? ``node`` is the machine's node, for ``node:`` tests on its name and city."""
        return self._predicate("machine")(machine, node, None)

    def matches_job(self, job: Job, node: Node | None = None, now: datetime | None = None) -> bool:
        """Does the job pass? ``node`` is the job's node, if any; ``now`` is for ``at-risk`` (default: the clock)."""
        if now is None and self._uses_risk:
            now = utc_now()
        return self._predicate("job")(job, node, now)

    def matches_alert(self, alert: Alert, node: Node | None = None) -> bool:
        """Does the alert pass? ``node`` (optional) is the node the alert's source belongs to, for ``node:``."""
        return self._predicate("alert")(alert, node, None)

    def matches_node(self, node: Node) -> bool:
        return self._predicate("node")(node, node, None)

    def ignored_fields(self, kind: Kind) -> list[str]:
        """Fields of this query that do not apply to ``kind`` and are therefore ignored for it."""
        names = FIELDS[kind]
        seen: list[str] = []
        for term in self.terms:
            if term.field is not None and term.field not in names and term.field not in seen:
                seen.append(term.field)
        return seen

    def warnings(self, kind: Kind) -> list[str]:
        """Everything to show under the filter box for a screen of ``kind``: parse errors, then ignored fields."""
        plural = {"machine": "machines", "job": "jobs", "alert": "alerts", "node": "nodes"}[kind]
        extra = [f"{name}: does not apply to {plural} (ignored)" for name in self.ignored_fields(kind)]
        return [*self.errors, *extra]

    @property
    def _uses_risk(self) -> bool:
        return any(term.field == "risk" for term in self.terms)

    def _predicate(self, kind: str) -> Predicate:
        predicate = self._compiled.get(kind)
        if predicate is None:
            predicate = _compile(self.terms, kind)
            self._compiled[kind] = predicate
        return predicate


# --- parsing --------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Token:
    text: str
    negated: bool
    colon: int | None  # index in ``text`` of the first colon outside quotes, before any quote
    quoted: bool


def parse(text: str) -> Query:
    """Parse a filter. Never raises: problems become messages in ``Query.errors``."""
    if not isinstance(text, str):
        return Query(errors=("the filter is not text",))
    tokens, errors = _tokenize(text)
    terms: list[Term] = []
    for token in tokens:
        term = _term(token, errors)
        if term is not None:
            terms.append(term)
    return Query(tuple(terms), tuple(errors))


def _tokenize(text: str) -> tuple[list[_Token], list[str]]:
    tokens: list[_Token] = []
    errors: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        negated = text[i] == "-"
        if negated:
            i += 1
        buf: list[str] = []
        colon: int | None = None
        quoted = False
        while i < n and not text[i].isspace():
            ch = text[i]
            if ch == '"':
                quoted = True
                i += 1
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    buf.append(text[i])
                    i += 1
                if i >= n:
                    errors.append("a quote is not closed")
                i += 1
                continue
            if ch == ":" and colon is None and not quoted:
                colon = len(buf)
            buf.append(ch)
            i += 1
        if not buf and not quoted:
            continue  # a lone "-"
        tokens.append(_Token("".join(buf), negated, colon, quoted))
    return tokens, errors


def _term(token: _Token, errors: list[str]) -> Term | None:
    text = token.text
    if token.colon is None or token.colon == 0:
        if not token.quoted and text.casefold() in _ALIASES:
            return Term("risk", "yes", token.negated)
        return Term(None, text, token.negated) if text else None
    name = text[: token.colon].casefold()
    value = text[token.colon + 1 :]
    name = _ALIASES.get(name, name)
    if name not in _KNOWN:
        errors.append(f'unknown field "{_clip(name)}:", searched as text')
        return Term(None, text, token.negated)
    if not value:
        errors.append(f"{name}: needs a value")
        return None
    if name == "risk":
        folded = value.casefold()
        if folded in _YES:
            return Term("risk", "yes", token.negated)
        if folded in _NO:
            return Term("risk", "no", token.negated)
        errors.append("risk: takes yes or no")
        return None
    if name == "priority" and _priority_bound(value) is None:
        errors.append("priority: takes a number (1..5, <=2, >3) or critical, high, medium, low")
        return None
    return Term(name, value, token.negated)


def _clip(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= _MAX_MESSAGE_TEXT else text[: _MAX_MESSAGE_TEXT - 1] + "…"


def _quote(value: str, *, free_text: bool) -> str:
    needs = not value or any(ch.isspace() or ch in '"\\' for ch in value)
    if free_text and not needs:
        needs = ":" in value or value.startswith("-") or value.casefold() in _ALIASES
    if not needs:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_COMPARE = re.compile(r"(<=|>=|<|>|=)?\s*(.*)", re.DOTALL)
_OPS: dict[str, Callable[[int, int], bool]] = {
    "": operator.eq,
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _priority_bound(value: str) -> tuple[Callable[[int, int], bool], int] | None:
    """``priority:`` value -> (comparison, level 1..): a number, or an alert level (or its prefix) as 1..4."""
    match = _COMPARE.fullmatch(value.strip())
    if match is None:  # pragma: no cover - the pattern matches everything
        return None
    op, rest = match.group(1) or "", match.group(2).strip().casefold()
    if rest.isascii() and rest.isdigit() and len(rest) <= 3:
        return _OPS[op], int(rest)
    if rest:
        for level, rank in ALERT_PRIORITY_RANK.items():
            if level.startswith(rest):
                return _OPS[op], rank + 1
    return None


# --- compiling ------------------------------------------------------------------------------------------------------


def job_at_risk(job: Job, now: datetime) -> bool:
    """A job that will probably miss its due time: unfinished, and past due or expected to finish after it."""
    if job.status in FINISHED_JOB_STATUSES:
        return False
    if job.due_at <= now:
        return True
    return job.eta is not None and job.eta > job.due_at


def _compile(terms: Sequence[Term], kind: str) -> Predicate:
    """Build one predicate: free text and each field group AND together; a field's positive values OR."""
    applicable = FIELDS[kind]
    positive: dict[str, list[Predicate]] = {}
    negative: list[Predicate] = []
    for term in terms:
        if term.field is not None and term.field not in applicable:
            continue
        test = _free_text(kind, term.value) if term.field is None else _field_test(kind, term.field, term.value)
        if term.negated:
            negative.append(test)
        elif term.field is None:
            positive[f" text {len(positive)}"] = [test]  # each word must match on its own
        else:
            positive.setdefault(_canonical(kind, term.field), []).append(test)
    groups = [tests[0] if len(tests) == 1 else _any(tests) for tests in positive.values()]
    if not groups and not negative:
        return _always

    def predicate(row: Any, node: Any, ctx: Any) -> bool:
        for test in groups:
            if not test(row, node, ctx):
                return False
        for test in negative:  # noqa: SIM110 - a plain loop: this runs for every row
            if test(row, node, ctx):
                return False
        return True

    return predicate


def _always(row: Any, node: Any, ctx: Any) -> bool:
    return True


def _never(row: Any, node: Any, ctx: Any) -> bool:
    return False


def _any(tests: list[Predicate]) -> Predicate:
    def test(row: Any, node: Any, ctx: Any) -> bool:
        return any(t(row, node, ctx) for t in tests)

    return test


def _canonical(kind: str, name: str) -> str:
    if kind in ("machine", "job") and name in ("state", "status"):
        return "state"
    return name


def _has(needle: str, *haystacks: str | None) -> bool:
    return any(h is not None and needle in h.casefold() for h in haystacks)


def _free_text(kind: str, value: str) -> Predicate:
    v = value.casefold()
    if kind == "machine":
        return lambda m, node, ctx: _has(v, m.id, m.name)
    if kind == "job":
        return lambda j, node, ctx: _has(v, j.id, j.part, j.order_id)
    if kind == "alert":
        return lambda a, node, ctx: _has(v, a.id, a.code, a.message, a.source.id)
    return lambda n, node, ctx: _has(v, n.id, n.name, n.city)


def _exact(v: str) -> Callable[[str], bool]:
    return lambda actual: actual.casefold() == v


def _prefix(v: str) -> Callable[[str], bool]:
    return lambda actual: actual.casefold().startswith(v)


def _word_prefix(v: str) -> Callable[[str], bool]:
    """``cnc`` matches ``cnc_mill``; ``printer`` and ``print`` match ``fdm_printer``."""

    def test(actual: str) -> bool:
        folded = actual.casefold()
        return folded.startswith(v) or any(part.startswith(v) for part in folded.split("_"))

    return test


def _node_matches(v: str, node_id: str | None, node: Node | None) -> bool:
    if node is not None:
        return _has(v, node.id, node.name, node.city)
    return node_id is not None and v in node_id.casefold()


def _field_test(kind: str, name: str, value: str) -> Predicate:
    v = value.casefold()
    name = _canonical(kind, name)
    if kind == "machine":
        return _machine_test(name, v)
    if kind == "job":
        return _job_test(name, v, value)
    if kind == "alert":
        return _alert_test(name, v, value)
    return _node_test(name, v)


def _machine_test(name: str, v: str) -> Predicate:
    if name == "state":
        same = _exact(v)
        return lambda m, node, ctx: same(m.state)
    if name == "kind":
        kind_ok = _word_prefix(v)
        return lambda m, node, ctx: kind_ok(m.kind)
    if name == "node":
        return lambda m, node, ctx: _node_matches(v, m.node_id, node)
    if name == "material":
        return lambda m, node, ctx: any(v in x.casefold() for x in m.materials)
    if name == "process":
        return lambda m, node, ctx: any(v in x.casefold() for x in m.processes)
    if name == "model":
        return lambda m, node, ctx: _has(v, m.model)
    if name == "job":
        return lambda m, node, ctx: _has(v, m.job_id)
    if name == "id":
        return lambda m, node, ctx: _has(v, m.id)
    if name == "name":
        return lambda m, node, ctx: _has(v, m.name)
    return _never  # pragma: no cover - FIELDS lists only the names above


def _job_test(name: str, v: str, value: str) -> Predicate:
    if name == "state":
        same = _exact(v)
        return lambda j, node, ctx: same(j.status)
    if name == "node":
        return lambda j, node, ctx: _node_matches(v, j.node_id, node)
    if name == "machine":
        return lambda j, node, ctx: _has(v, j.machine_id)
    if name == "material":
        return lambda j, node, ctx: _has(v, j.material)
    if name == "process":
        return lambda j, node, ctx: _has(v, j.process)
    if name == "priority":
        bound = _priority_bound(value)
        if bound is None:  # pragma: no cover - parse drops such terms
            return _never
        compare, level = bound
        return lambda j, node, ctx: compare(j.priority, level)
    if name == "order":
        return lambda j, node, ctx: _has(v, j.order_id)
    if name == "part":
        return lambda j, node, ctx: _has(v, j.part)
    if name == "region":
        return lambda j, node, ctx: _has(v, j.customer_region)
    if name == "risk":
        wanted = v == "yes"
        return lambda j, node, now: job_at_risk(j, now if now is not None else utc_now()) == wanted
    if name == "id":
        return lambda j, node, ctx: _has(v, j.id)
    return _never  # pragma: no cover


def _alert_test(name: str, v: str, value: str) -> Predicate:
    if name == "priority":
        bound = _priority_bound(value)
        if bound is None:  # pragma: no cover
            return _never
        compare, level = bound
        unknown = len(ALERT_PRIORITY_RANK)  # an unknown level sorts after "low"
        return lambda a, node, ctx: compare(ALERT_PRIORITY_RANK.get(a.priority.casefold(), unknown) + 1, level)
    if name == "state":
        starts = _prefix(v)
        return lambda a, node, ctx: starts(a.state)
    if name == "code":
        return lambda a, node, ctx: _has(v, a.code)
    if name == "source":
        return lambda a, node, ctx: _has(v, a.source.id)
    if name == "kind":
        kind_ok = _word_prefix(v)
        return lambda a, node, ctx: kind_ok(a.source.kind)
    if name == "node":
        return lambda a, node, ctx: _node_matches(v, a.source.id if a.source.kind == "node" else None, node)
    if name == "machine":
        return lambda a, node, ctx: a.source.kind == "machine" and v in a.source.id.casefold()
    if name == "id":
        return lambda a, node, ctx: _has(v, a.id)
    return _never  # pragma: no cover


def _node_test(name: str, v: str) -> Predicate:
    if name == "state":
        same = _exact(v)
        return lambda n, node, ctx: same(n.state)
    if name == "city":
        return lambda n, node, ctx: _has(v, n.city)
    if name == "name":
        return lambda n, node, ctx: _has(v, n.name)
    if name == "node":
        return lambda n, node, ctx: _has(v, n.id, n.name, n.city)
    if name == "id":
        return lambda n, node, ctx: _has(v, n.id)
    return _never  # pragma: no cover
