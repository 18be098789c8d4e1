"""A parsed filter: its :class:`Term` s, the messages parsing left, and the row tests screens call.

Why apart from the parser: a :class:`Query` is what screens hold and call per row (``matches_machine`` and the
others), and it is immutable, so one can be shared and compared; it compiles itself lazily, once per kind of row
(:mod:`console.store.query.evaluate`), the first time a row of that kind is tested. ``str()`` of a query or a term
gives the normalised text (one space between terms, canonical field names, quotes only where needed), which parses
back to the same query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from console.api.models import Alert, Job, Machine, Node
from console.store.query.evaluate import Predicate, compile_terms
from console.store.query.fields import FIELDS, FLAGS, PLURAL, Kind

__all__ = ["Clock", "Query", "Term", "quote"]

Clock = Callable[[], datetime | None]
"""What "now" is for ``at-risk`` and ``overdue``: the server's clock on screens (``None``: not known yet)."""

_TIMED = frozenset({"risk", "overdue"})
"""Fields whose answer depends on "now"."""


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
            return sign + quote(self.value, free_text=True)
        if self.field == "risk":
            return f"{sign}at-risk" if self.value == "yes" else f"{sign}risk:no"
        if self.field == "overdue":
            return f"{sign}overdue" if self.value == "yes" else f"{sign}overdue:no"
        return f"{sign}{self.field}:{quote(self.value, free_text=False)}"


@dataclass(frozen=True)
class Query:
    """A parsed filter. Immutable; compiled lazily, once per kind of row.

    ``at-risk`` and ``overdue`` compare a job's times with "now", which is never the machine's wall clock (a
    simulated cluster runs on its own date, a real server's clock may be off from ours): the caller passes ``now``
    to :meth:`matches_job`, or binds a clock once with :meth:`with_clock` (screens bind the server's clock).
    """

    terms: tuple[Term, ...] = ()
    errors: tuple[str, ...] = ()
    clock: Clock | None = field(default=None, compare=False, repr=False)
    """Where "now" comes from when :meth:`matches_job` is not given it."""
    _compiled: dict[str, Predicate] = field(default_factory=dict, compare=False, repr=False)
    _uses_time: bool = field(init=False, compare=False, repr=False)
    """Does a term need "now"? (Worked out once: :meth:`matches_job` runs for every job of a long list.)"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_uses_time", any(term.field in _TIMED for term in self.terms))

    def with_clock(self, clock: Clock) -> Query:
        """The same query, reading "now" from ``clock`` whenever a job test needs it and is not given it."""
        return replace(self, clock=clock)

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
        """Does the job pass? ``node`` is the job's node, if any; ``now`` is for ``at-risk`` and ``overdue``.

        Without ``now`` a query that needs it reads its :attr:`clock`; with neither it raises ``ValueError`` (there
        is no wall-clock default: it was wrong for every cluster whose clock is not ours). A clock that does not know
        the time yet (``None``) makes ``overdue`` false and ``at-risk`` follow the ETA alone.
        """
        if now is None and self._uses_time:
            if self.clock is None:
                raise ValueError("at-risk and overdue need the server's time: pass now= or use with_clock()")
            now = self.clock()
        return self._predicate("job")(job, node, now)

    def matches_alert(self, alert: Alert, node: Node | None = None, source_name: str | None = None) -> bool:
        """Does the alert pass? ``node`` is the node the alert belongs to, for ``node:``: its source if that is a
        node, else the node of its machine or job (:func:`console.store.query.alert_node_id` finds it).
        ``source_name`` is the name of its machine or node, which the lists show beside the id: free text,
        ``source:`` and ``machine:`` find it by either."""
        return self._predicate("alert")(alert, node, source_name)

    def matches_node(self, node: Node) -> bool:
        return self._predicate("node")(node, node, None)

    def matches_history(self, row: Any, node: Node | None = None, source_name: str | None = None) -> bool:
        """Does an alert journal row (``console.store.journal.JournalRow``) pass? The alert fields test the alert as
        it was at that row (``node`` and ``source_name`` as for :meth:`matches_alert`); ``transition:``, ``by:``,
        ``note:`` and ``server:`` test the row itself."""
        return self._predicate("history")(row, node, source_name)

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
        extra = [f"{name}: does not apply to {PLURAL[kind]} (ignored)" for name in self.ignored_fields(kind)]
        return [*self.errors, *extra]

    def _predicate(self, kind: str) -> Predicate:
        predicate = self._compiled.get(kind)
        if predicate is None:
            predicate = compile_terms(self.terms, kind)
            self._compiled[kind] = predicate
        return predicate


def quote(value: str, *, free_text: bool) -> str:
    """``value`` as the parser reads it back: quoted (with ``\\`` escapes) only where it has to be."""
    needs = not value or any(ch.isspace() or ch in '"\\' for ch in value)
    if free_text and not needs:
        needs = ":" in value or value.startswith("-") or value.casefold() in FLAGS
    if not needs:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
