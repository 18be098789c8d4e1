"""Terms to row tests: each query compiles, once per kind of row, into one predicate built of small closures.

Why compiled: a filter is tested against every row of a screen (20,000 machines) each time the list is rebuilt, so
the work of reading a term (which field, which comparison, case folding the value) is done once, here, and a row
test is a few string operations. Free text and each field group AND together; the positive values of one field OR;
every negated term excludes. A field that does not apply to the kind of row is skipped (``Query.warnings`` says so).
Values fold case; how each field compares (exact, prefix, word prefix, substring, a ``priority`` bound) is in the
package docstring.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from console.api.models import ALERT_PRIORITY_RANK, FINISHED_JOB_STATUSES, Job, Machine, Node, SourceRef
from console.rules import job_overdue
from console.store.clusters import cluster_of
from console.store.query.fields import ALERT_STATE_WORDS, FIELDS

if TYPE_CHECKING:
    from console.store.query.terms import Term

__all__ = [
    "Predicate",
    "Sourced",
    "alert_node_id",
    "alert_state_words",
    "compile_terms",
    "job_at_risk",
    "priority_bound",
]

Predicate = Callable[[Any, Any, Any], bool]
"""A compiled test: ``(row, node or None, context) -> bool``; ``context`` is "now" for jobs (the server's time, or
``None`` when it is not known yet), else unused."""


_COMPARE = re.compile(r"(<=|>=|<|>|=)?\s*(.*)", re.DOTALL)
_OPS: dict[str, Callable[[int, int], bool]] = {
    "": operator.eq,
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def priority_bound(value: str) -> tuple[Callable[[int, int], bool], int] | None:
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


def job_at_risk(job: Job, now: datetime | None) -> bool:
    """A job that will probably miss its due time: unfinished, and overdue at ``now`` (the server's time; ``None``:
    not known, so only the ETA says) or expected to finish after its due time."""
    if job.status in FINISHED_JOB_STATUSES:
        return False
    if job_overdue(job, now):
        return True
    return job.eta is not None and job.eta > job.due_at


class Sourced(Protocol):
    """Anything about a source: an alert, or a row of the alert journal (``console.store.journal.JournalRow``)."""

    @property
    def source(self) -> SourceRef: ...


def alert_node_id(alert: Sourced, machines: Mapping[str, Machine], jobs: Mapping[str, Job]) -> str | None:
    """The node an alert belongs to: its source if that is a node, else the node of its machine or job (``None``:
    the cluster, or a machine or job this console does not know)."""
    kind, ident = alert.source.kind, alert.source.id
    if kind == "node":
        return ident
    if kind == "machine":
        machine = machines.get(ident)
        return None if machine is None else machine.node_id
    if kind == "job":
        job = jobs.get(ident)
        return None if job is None else job.node_id
    return None


@lru_cache(maxsize=64)
def alert_state_words(state: str) -> tuple[str, ...]:
    """Every word ``state:`` may name a prefix of for an alert in ``state`` (folded): the contract's value and its
    ``_`` parts, and the word the lists show and its ``-`` parts (``cleared_unacked``: cleared, unacked, clr-unack,
    clr, unack)."""
    folded = state.casefold()
    shown = ALERT_STATE_WORDS.get(folded, folded)
    words = [folded, *folded.split("_"), shown, *shown.split("-")]
    return tuple(dict.fromkeys(w for w in words if w))


def compile_terms(terms: Sequence[Term], kind: str) -> Predicate:
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
    if kind == "history":
        return lambda r, node, name: _has(v, r.id, r.code, r.message, r.source.id, name, r.who, r.note, r.transition)
    if kind == "machine":
        return lambda m, node, ctx: _has(v, m.id, m.name)
    if kind == "job":
        return lambda j, node, ctx: _has(v, j.id, j.part, j.order_id)
    if kind == "alert":
        return lambda a, node, name: _has(v, a.id, a.code, a.message, a.source.id, name)
    return lambda n, node, ctx: _has(v, n.id, n.name, n.city)


def _exact(v: str) -> Callable[[str], bool]:
    return lambda actual: actual.casefold() == v


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


def _in_cluster(v: str) -> Predicate:
    """``cluster:`` on any kind of row: the cluster its id is qualified with starts with ``v`` (several clusters;
    ``console.store.clusters``). With one cluster no id is qualified and nothing matches."""
    return lambda row, node, ctx: cluster_of(row.id).startswith(v)


def _field_test(kind: str, name: str, value: str) -> Predicate:
    v = value.casefold()
    name = _canonical(kind, name)
    if name == "cluster":
        return _in_cluster(v)
    if kind == "machine":
        return _machine_test(name, v)
    if kind == "job":
        return _job_test(name, v, value)
    if kind == "alert":
        return _alert_test(name, v, value)
    if kind == "history":
        return _history_test(name, v) or _alert_test(name, v, value)
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
        bound = priority_bound(value)
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
        return lambda j, node, now: job_at_risk(j, now) == wanted
    if name == "overdue":
        wanted = v == "yes"
        return lambda j, node, now: job_overdue(j, now) == wanted
    if name == "id":
        return lambda j, node, ctx: _has(v, j.id)
    return _never  # pragma: no cover


def _alert_test(name: str, v: str, value: str) -> Predicate:
    if name == "priority":
        bound = priority_bound(value)
        if bound is None:  # pragma: no cover
            return _never
        compare, level = bound
        unknown = len(ALERT_PRIORITY_RANK)  # an unknown level sorts after "low"
        return lambda a, node, ctx: compare(ALERT_PRIORITY_RANK.get(a.priority.casefold(), unknown) + 1, level)
    if name == "state":
        return lambda a, node, ctx: any(word.startswith(v) for word in alert_state_words(a.state))
    if name == "code":
        return lambda a, node, ctx: _has(v, a.code)
    if name == "source":
        return lambda a, node, name: _has(v, a.source.id, name)
    if name == "kind":
        kind_ok = _word_prefix(v)
        return lambda a, node, ctx: kind_ok(a.source.kind)
    if name == "node":
        return lambda a, node, ctx: _node_matches(v, a.source.id if a.source.kind == "node" else None, node)
    if name == "machine":
        return lambda a, node, name: a.source.kind == "machine" and _has(v, a.source.id, name)
    if name == "id":
        return lambda a, node, ctx: _has(v, a.id)
    return _never  # pragma: no cover


def _history_test(name: str, v: str) -> Predicate | None:
    """The fields of an alert journal row itself (``None``: an alert field, tested on the row's alert)."""
    if name == "transition":
        return lambda r, node, ctx: r.transition.startswith(v)
    if name == "by":
        return lambda r, node, ctx: _has(v, r.who)
    if name == "note":
        return lambda r, node, ctx: _has(v, r.note)
    if name == "server":
        return lambda r, node, ctx: _has(v, r.server)
    return None


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
