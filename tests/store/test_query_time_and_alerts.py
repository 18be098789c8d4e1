"""The filter answers what the screen shows: jobs' ``at-risk`` and ``overdue`` on the server's clock (never this
machine's), alert ``state:`` in the words the list shows, and alert ``node:`` through the alert's machine or job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.api.models import FINISHED_JOB_STATUSES, Alert, Job
from console.rules import job_overdue
from console.store.query import Term, alert_node_id, alert_state_words, job_at_risk, parse
from console.store.query.fields import ALERT_STATE_WORDS
from tests.store.test_query import NOW, alert, job, machine, node

STATUSES = ["queued", "assigned", "running", "paused", "failed", "completed", "cancelled"]
MINUTES = st.integers(min_value=-10_000, max_value=10_000)


def job_at(due_in: int, eta_in: int | None, status: str) -> Job:
    """A job due ``due_in`` minutes after NOW, expected ``eta_in`` minutes after NOW (``None``: no ETA)."""
    eta = None if eta_in is None else NOW + timedelta(minutes=eta_in)
    return job(due_at=NOW + timedelta(minutes=due_in), eta=eta, status=status)


# --- jobs: overdue and at-risk on the server's clock ----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(due_in=MINUTES, eta_in=st.none() | MINUTES, status=st.sampled_from(STATUSES))
def test_overdue_matches_exactly_the_overdue_rule(due_in: int, eta_in: int | None, status: str) -> None:
    """``overdue`` is the rule the screens use (``console.rules.job_overdue``), ``-overdue`` and ``overdue:no`` its
    complement, and an overdue job is always at risk."""
    j = job_at(due_in, eta_in, status)
    late = job_overdue(j, NOW)
    assert late == (status not in FINISHED_JOB_STATUSES and due_in < 0)
    for text in ("overdue", "OVERDUE", "overdue:yes", "overdue:true"):
        assert parse(text).matches_job(j, now=NOW) is late, text
    for text in ("-overdue", "overdue:no", "-overdue:yes"):
        assert parse(text).matches_job(j, now=NOW) is (not late), text
    assert parse("-overdue:no").matches_job(j, now=NOW) is late
    if late:
        assert parse("at-risk").matches_job(j, now=NOW)


@settings(max_examples=200, deadline=None)
@given(due_in=MINUTES, eta_in=st.none() | MINUTES, status=st.sampled_from(STATUSES), years=st.integers(-30, 30))
def test_time_terms_read_the_bound_clock_never_the_wall_clock(
    due_in: int, eta_in: int | None, status: str, years: int
) -> None:
    """The same job against the same server time gives the same answer whatever year this machine thinks it is: the
    query reads the clock it is bound to (the screens bind the server's)."""
    server_now = NOW + timedelta(days=365 * years)
    j = job_at(due_in + 365 * 24 * 60 * years, None if eta_in is None else eta_in + 365 * 24 * 60 * years, status)
    for text in ("at-risk", "overdue", "-at-risk", "overdue:no"):
        bound = parse(text).with_clock(lambda: server_now)
        assert bound.matches_job(j) == parse(text).matches_job(j, now=server_now), text
    assert parse("overdue").with_clock(lambda: server_now).matches_job(j) is job_overdue(j, server_now)
    assert parse("at-risk").with_clock(lambda: server_now).matches_job(j) is job_at_risk(j, server_now)


def test_a_demo_running_on_its_own_date_is_not_all_at_risk() -> None:
    """The issue's case: the simulation's date is years behind this machine's; its jobs due later that day are not
    overdue, and only those whose ETA is past their due time are at risk."""
    sim_now = datetime(2020, 3, 1, 12, 0, tzinfo=UTC)
    on_time = job(due_at=sim_now + timedelta(hours=3), eta=sim_now + timedelta(hours=1), status="running")
    late = job(due_at=sim_now + timedelta(hours=3), eta=sim_now + timedelta(hours=5), status="running")
    past = job(due_at=sim_now - timedelta(minutes=5), eta=None, status="queued")
    at_risk = parse("at-risk").with_clock(lambda: sim_now)
    overdue = parse("overdue").with_clock(lambda: sim_now)
    assert [at_risk.matches_job(j) for j in (on_time, late, past)] == [False, True, True]
    assert [overdue.matches_job(j) for j in (on_time, late, past)] == [False, False, True]


def test_no_wall_clock_default_and_an_unknown_time() -> None:
    j = job(due_at=NOW - timedelta(hours=1), eta=None, status="queued")
    with pytest.raises(ValueError, match="server's time"):
        parse("overdue").matches_job(j)
    assert parse("state:queued").matches_job(j)  # a query that needs no time needs no clock
    unknown = parse("overdue").with_clock(lambda: None)  # the server's time is not known yet
    assert not unknown.matches_job(j)
    assert parse("at-risk").with_clock(lambda: None).matches_job(job(eta=NOW + timedelta(hours=9)))


def test_with_clock_keeps_the_query() -> None:
    q = parse("overdue -node:leeds")
    bound = q.with_clock(lambda: NOW)
    assert bound == q and str(bound) == "overdue -node:leeds" and bound.terms == q.terms
    assert hash(bound) == hash(q)


@pytest.mark.parametrize(
    ("text", "terms", "normal"),
    [
        ("overdue", (Term("overdue", "yes"),), "overdue"),
        ("-overdue", (Term("overdue", "yes", True),), "-overdue"),
        ("overdue:NO", (Term("overdue", "no"),), "overdue:no"),
        ("-overdue:yes", (Term("overdue", "yes", True),), "-overdue"),
        ('"overdue"', (Term(None, "overdue"),), '"overdue"'),
    ],
)
def test_overdue_parses_like_at_risk(text: str, terms: tuple[Term, ...], normal: str) -> None:
    q = parse(text)
    assert q.terms == terms and not q.errors
    assert str(q) == normal and parse(str(q)).terms == terms


def test_overdue_takes_only_yes_or_no() -> None:
    q = parse("overdue:late")
    assert q.errors == ("overdue: takes yes or no",) and q.is_empty
    assert parse("overdue").warnings("alert") == ["overdue: does not apply to alerts (ignored)"]


# --- alerts: state in the words the list shows ---------------------------------------------------------------------


def cases(text: str) -> st.SearchStrategy[str]:
    """``text`` with each letter in either case."""
    return st.tuples(*(st.sampled_from(sorted({c.lower(), c.upper()})) for c in text)).map("".join)


@st.composite
def shown_word_prefix(draw: st.DrawFn) -> tuple[str, str]:
    """An alert state, and a non-empty prefix of the word the list shows for it (or of a ``-`` part), any case."""
    state = draw(st.sampled_from(sorted(ALERT_STATE_WORDS)))
    word = draw(st.sampled_from([ALERT_STATE_WORDS[state], *ALERT_STATE_WORDS[state].split("-")]))
    prefix = word[: draw(st.integers(min_value=1, max_value=len(word)))]
    return state, draw(cases(prefix))


@settings(max_examples=300, deadline=None)
@given(shown_word_prefix())
def test_state_takes_any_prefix_of_the_word_shown(case: tuple[str, str]) -> None:
    state, typed = case
    a = alert(state=state)
    assert parse(f"state:{typed}").matches_alert(a), (state, typed)
    assert not parse(f"-state:{typed}").matches_alert(a)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(ALERT_STATE_WORDS)), st.sampled_from(sorted(ALERT_STATE_WORDS)))
def test_a_whole_shown_word_finds_only_the_states_that_show_it(shown: str, other: str) -> None:
    """``state:<what a row shows>`` finds that row's state, and another state only if its own words contain it as
    a word (``UNACK`` is part of ``CLR-UNACK``: both are unacknowledged)."""
    word = ALERT_STATE_WORDS[shown]
    found = parse(f"state:{word.upper()}").matches_alert(alert(state=other))
    assert found == (other == shown or any(w.startswith(word) for w in alert_state_words(other)))


def test_unack_finds_every_unacknowledged_alert_and_acked_does_not() -> None:
    states = {s: alert(state=s) for s in ALERT_STATE_WORDS}

    def found(text: str) -> set[str]:
        q = parse(text)
        assert not q.errors
        return {s for s, a in states.items() if q.matches_alert(a)}

    assert found("state:unack") == found("state:UNACK") == {"active_unacked", "cleared_unacked"}
    assert found("state:clr-unack") == found("state:CLR") == found("state:cleared") == {"cleared_unacked"}
    assert found("state:acked") == {"active_acked"}
    assert found("state:active") == {"active_unacked", "active_acked"}
    assert found("state:active_unacked") == {"active_unacked"}
    assert found("-state:unack") == {"active_acked", "shelved", "resolved"}
    assert found("state:bogus") == set()


# --- alerts: node through the machine or job -----------------------------------------------------------------------

YORK = node("N-YORK", "York", "York")


def york_alerts() -> list[Alert]:
    return [
        alert(id="A-1", source={"kind": "machine", "id": "M-Y1"}),
        alert(id="A-2", source={"kind": "job", "id": "J-Y1"}),
        alert(id="A-3", source={"kind": "node", "id": "N-YORK"}),
    ]


def test_alert_node_id_follows_machine_or_job() -> None:
    machines = {"M-Y1": machine(id="M-Y1", node_id="N-YORK")}
    jobs = {"J-Y1": job(id="J-Y1", node_id="N-YORK"), "J-B": job(id="J-B", node_id=None)}
    assert [alert_node_id(a, machines, jobs) for a in york_alerts()] == ["N-YORK"] * 3
    assert alert_node_id(alert(source={"kind": "machine", "id": "M-GONE"}), machines, jobs) is None
    assert alert_node_id(alert(source={"kind": "job", "id": "J-B"}), machines, jobs) is None  # backlog: no node
    assert alert_node_id(alert(source={"kind": "cluster", "id": "c1"}), machines, jobs) is None


@settings(max_examples=200, deadline=None)
@given(
    which=st.sampled_from(["id", "name", "city"]),
    start=st.integers(0, 5),
    length=st.integers(1, 6),
    upper=st.booleans(),
)
def test_node_finds_york_alerts_by_part_of_id_name_or_city(which: str, start: int, length: int, upper: bool) -> None:
    york = node("N-YORK", "York Works", "York")
    leeds = node()
    machines = {"M-Y1": machine(id="M-Y1", node_id="N-YORK")}
    jobs = {"J-Y1": job(id="J-Y1", node_id="N-YORK")}
    nodes = {"N-YORK": york, "N-LEEDS": leeds}
    text = getattr(york, which)
    typed = text[start : start + length] or text
    typed = typed.upper() if upper else typed.lower()
    q = parse(f'node:"{typed}"')
    for a in york_alerts():
        node_id = alert_node_id(a, machines, jobs)
        assert q.matches_alert(a, nodes.get(node_id) if node_id else None), (a.source, typed)
    other = alert(source={"kind": "machine", "id": "M-L1"})
    if typed.casefold() not in " ".join((leeds.id, leeds.name, leeds.city)).casefold():
        assert not q.matches_alert(other, leeds)
