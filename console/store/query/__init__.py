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
* ``at-risk`` (or ``risk:yes``, ``-at-risk``, ``risk:no``) jobs that will probably miss their due time: unfinished,
  and overdue or expected (ETA) to finish after it; ``at-risk -overdue`` are those not late yet.
* ``overdue`` (or ``overdue:yes``, ``-overdue``, ``overdue:no``) unfinished jobs whose due time has passed.
  Both compare with the server's time, never this machine's clock (a simulated cluster runs on its own date): the
  caller passes ``now`` or binds a clock (:meth:`Query.with_clock`; screens bind the server's clock).
* Values compare case-insensitively. Enumerated fields (machine ``state``, job ``status``, node ``state``) match
  exactly; machine ``kind`` and alert ``kind`` match a prefix of the value or of any ``_`` part of it (``kind:cnc``
  finds ``cnc_mill`` and ``cnc_lathe``, ``kind:printer`` every printer). Alert ``state`` takes what the list shows as
  well as the contract's value: a prefix of the value, of its ``_`` parts, of the word shown (``UNACK``, ``acked``,
  ``CLR-UNACK``) or of its ``-`` parts. So ``state:unack`` finds ``UNACK`` and ``CLR-UNACK`` (every unacknowledged
  alert), ``state:clr`` and ``state:cleared`` the cleared ones, ``state:active`` ``active_acked`` and
  ``active_unacked``. The other fields match a substring.
* Alert ``node:`` is the node the alert belongs to: its source node, or the node of its machine or job
  (:func:`alert_node_id`), by id, name or city (``node:york``, ``node:N-YORK``).
* ``priority:`` compares: ``priority:1``, ``priority:<=2``, ``priority:>3`` (jobs: 1 is the highest). It also takes
  an alert level or its prefix (``priority:crit``), read as a number: critical=1, high=2, medium=3, low=4 (an unknown
  alert level is 5). So on alerts ``priority:<=high`` means critical or high, and ``priority:1`` means critical.
* ``status`` and ``state`` are synonyms on machines and jobs.
* The alert history (rows of ``console.store.journal``) takes the alert fields, tested on the alert as it was at
  that row, and its own: ``transition:`` (a prefix: ``transition:ack``), ``by:`` (who acked or shelved), ``note:``
  and ``server:`` (the source it came from), substrings; free text also finds who and the note.

Unknown fields: ``foo:bar`` with an unknown ``foo`` is searched as the free text ``foo:bar`` (a name may contain a
colon) and a message says so. A known field that does not apply to a kind of row (``status:`` on the machines screen)
is ignored for that kind; :meth:`Query.warnings` names such fields so the screen can say so.

Speed: each query compiles once per kind into a list of small closures; a row test is a few string operations.

The package, one job per module: :mod:`.fields` (the vocabulary: which fields each kind of row has, and the help
text), :mod:`.parser` (text to terms, never raising), :mod:`.terms` (the parsed :class:`Query` and its
:class:`Term`, with the normalised text form), :mod:`.evaluate` (terms to one compiled predicate per kind of row).
"""

from console.store.query.evaluate import Predicate, Sourced, alert_node_id, alert_state_words, job_at_risk
from console.store.query.fields import FIELDS, HELP, Kind, placeholder
from console.store.query.parser import parse
from console.store.query.terms import Clock, Query, Term

__all__ = [
    "FIELDS",
    "HELP",
    "Clock",
    "Kind",
    "Predicate",
    "Query",
    "Sourced",
    "Term",
    "alert_node_id",
    "alert_state_words",
    "job_at_risk",
    "parse",
    "placeholder",
]
