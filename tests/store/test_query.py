"""Tests for console.store.query: the `/` filter language over machines, jobs, alerts and nodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.api.models import Alert, Job, Machine, Node
from console.store.query import FIELDS, Query, Term, job_at_risk, parse

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def node(id_: str = "N-LEEDS", name: str = "Leeds", city: str = "Leeds", state: str = "online") -> Node:
    return Node(
        id=id_, name=name, city=city, lat=53.8, lon=-1.5, state=state, last_seen=NOW, machine_count=3, agent_url=None
    )


def machine(**kw: Any) -> Machine:
    base: dict[str, Any] = {
        "id": "M-07",
        "node_id": "N-LEEDS",
        "name": "Prusa Seven",
        "kind": "fdm_printer",
        "model": "Prusa MK4",
        "state": "running",
        "state_since": NOW,
        "job_id": "J-1042",
        "materials": ["PLA", "PETG"],
        "processes": ["fdm"],
        "envelope_mm": (250, 210, 220),
        "last_seen": NOW,
    }
    base.update(kw)
    return Machine(**base)


def job(**kw: Any) -> Job:
    base: dict[str, Any] = {
        "id": "J-1042",
        "order_id": "O-77",
        "part": "Bracket left",
        "design": {"file": "bracket.3mf", "sha256": "0" * 64},
        "process": "fdm",
        "material": "PETG",
        "size_mm": (10, 10, 10),
        "quantity": 4,
        "done_qty": 1,
        "scrap_qty": 0,
        "priority": 2,
        "due_at": NOW + timedelta(hours=4),
        "status": "running",
        "node_id": "N-LEEDS",
        "machine_id": "M-07",
        "progress": 0.3,
        "eta": NOW + timedelta(hours=1),
        "created_at": NOW - timedelta(hours=1),
        "customer_region": "Yorkshire",
    }
    base.update(kw)
    return Job(**base)


def alert(**kw: Any) -> Alert:
    base: dict[str, Any] = {
        "id": "A-1",
        "priority": "high",
        "state": "active_unacked",
        "source": {"kind": "machine", "id": "M-07"},
        "code": "filament_runout",
        "message": "Filament ran out on Prusa Seven",
        "raised_at": NOW,
        "updated_at": NOW,
    }
    base.update(kw)
    return Alert(**base)


LEEDS = node()
YORK = node("N-NY", "New York Works", "New York")


def m_ok(text: str, m: Machine | None = None, n: Node | None = LEEDS) -> bool:
    q = parse(text)
    assert not q.errors, q.errors
    return q.matches_machine(m or machine(), n)


# --- basics ---------------------------------------------------------------------------------------------------------


def test_empty_query_matches_everything() -> None:
    q = parse("   ")
    assert q.is_empty and str(q) == "" and not q.errors
    assert q.matches_machine(machine(), None)
    assert q.matches_job(job())
    assert q.matches_alert(alert())
    assert q.matches_node(LEEDS)


def test_free_text_on_names_and_ids_case_insensitive() -> None:
    assert m_ok("prusa")
    assert m_ok("m-07")
    assert m_ok("SEVEN")
    assert not m_ok("mk4")  # the model is not a name: use model:
    assert m_ok("prusa seven")  # each word must match
    assert not m_ok("prusa eight")
    assert m_ok('"prusa seven"')
    assert not m_ok('"seven prusa"')


def test_free_text_per_kind() -> None:
    assert parse("bracket").matches_job(job())
    assert parse("o-77").matches_job(job())
    assert parse("runout").matches_alert(alert())
    assert parse("ran out").matches_alert(alert())
    assert parse("m-07").matches_alert(alert())
    assert parse("leeds").matches_node(LEEDS)
    assert not parse("york").matches_node(LEEDS)


# --- machine fields -------------------------------------------------------------------------------------------------


def test_machine_state_is_exact() -> None:
    assert m_ok("state:running")
    assert m_ok("state:RUNNING")
    assert not m_ok("state:run")
    assert m_ok("status:running")  # a synonym on machines


def test_machine_kind_prefix() -> None:
    assert m_ok("kind:fdm")
    assert m_ok("kind:printer")
    assert m_ok("kind:fdm_printer")
    assert not m_ok("kind:cnc")
    mill, lathe = machine(kind="cnc_mill"), machine(kind="cnc_lathe")
    assert m_ok("kind:cnc", mill) and m_ok("kind:cnc", lathe)
    assert m_ok("kind:mill", mill) and not m_ok("kind:mill", lathe)


def test_machine_node_matches_id_name_or_city() -> None:
    assert m_ok("node:leeds")
    assert m_ok("node:n-leeds")
    assert m_ok("node:lee")
    assert not m_ok("node:york")
    assert m_ok("node:leeds", n=None)  # without the node, its id is still there
    ny = machine(node_id="N-NY")
    assert m_ok('node:"new york"', ny, YORK)
    assert m_ok("node:works", ny, YORK)
    assert not m_ok('node:"new york"', ny, None)


def test_machine_other_fields() -> None:
    assert m_ok("material:pla")
    assert m_ok("material:petg")
    assert m_ok("material:pet")
    assert not m_ok("material:abs")
    assert m_ok("process:fdm")
    assert not m_ok("process:milling")
    assert m_ok("model:mk4")
    assert m_ok("job:j-1042")
    assert not m_ok("job:j-1", machine(job_id=None))
    assert m_ok("id:m-0")
    assert m_ok("name:seven")
    assert not m_ok("name:m-07")


# --- combinations ---------------------------------------------------------------------------------------------------


def test_different_fields_and_together() -> None:
    assert m_ok("state:running node:leeds")
    assert not m_ok("state:running node:york")
    assert not m_ok("state:idle node:leeds")


def test_same_field_repeated_ors() -> None:
    fault, blocked, idle = machine(state="fault"), machine(state="blocked"), machine(state="idle")
    q = parse("state:fault state:blocked")
    assert q.matches_machine(fault) and q.matches_machine(blocked) and not q.matches_machine(idle)
    q = parse("state:fault status:blocked")  # synonyms are one field
    assert q.matches_machine(blocked) and q.matches_machine(fault)


def test_negation() -> None:
    idle, running = machine(state="idle"), machine()
    assert not m_ok("-state:idle", idle)
    assert m_ok("-state:idle", running)
    q = parse("-state:idle -state:running")
    assert not q.matches_machine(idle) and not q.matches_machine(running)
    assert q.matches_machine(machine(state="fault"))
    assert not m_ok("-prusa")
    assert m_ok("-ultimaker")
    assert m_ok('-"prusa eight"')
    assert not m_ok("state:running -node:leeds")


def test_positive_and_negative_of_same_field() -> None:
    q = parse("kind:cnc -kind:lathe")
    assert q.matches_machine(machine(kind="cnc_mill"))
    assert not q.matches_machine(machine(kind="cnc_lathe"))
    assert not q.matches_machine(machine())


def test_quotes_and_escapes() -> None:
    q = parse(r'name:"a \"b\" c"')
    assert q.terms == (Term("name", 'a "b" c'),)
    assert q.matches_machine(machine(name='Machine a "b" c'))
    q = parse('"a:b"')  # a quoted colon is text, not a field
    assert q.terms == (Term(None, "a:b"),)
    q = parse('node:"new york" state:idle')
    assert q.terms == (Term("node", "new york"), Term("state", "idle"))


def test_unclosed_quote_is_reported_and_kept() -> None:
    q = parse('node:"new york')
    assert q.terms == (Term("node", "new york"),)
    assert q.errors == ("a quote is not closed",)


# --- unknown and misplaced fields -----------------------------------------------------------------------------------


def test_unknown_field_is_searched_as_text_with_a_message() -> None:
    q = parse("colour:red")
    assert q.terms == (Term(None, "colour:red"),)
    assert q.errors and "colour" in q.errors[0]
    assert not q.matches_machine(machine())
    assert q.matches_machine(machine(name="Laser colour:red"))


def test_field_that_does_not_apply_is_ignored_and_warned() -> None:
    q = parse("priority:1 state:running")
    assert q.matches_machine(machine())
    assert q.ignored_fields("machine") == ["priority"]
    assert q.warnings("machine") == ["priority: does not apply to machines (ignored)"]
    assert q.ignored_fields("job") == []
    assert parse("city:leeds").ignored_fields("job") == ["city"]


def test_empty_value_and_bad_values_are_dropped_with_messages() -> None:
    q = parse("state: prusa")
    assert q.terms == (Term(None, "prusa"),)
    assert q.errors == ("state: needs a value",)
    assert parse("priority:urgent").errors
    assert parse("priority:urgent").is_empty
    assert parse("risk:maybe").errors


def test_lone_dash_and_colon_text() -> None:
    assert parse(" - ").is_empty
    q = parse(":foo")
    assert q.terms == (Term(None, ":foo"),) and not q.errors


# --- jobs -----------------------------------------------------------------------------------------------------------


def test_job_fields() -> None:
    j = job()

    def ok(text: str, row: Job = j, n: Node | None = LEEDS) -> bool:
        q = parse(text)
        assert not q.errors, q.errors
        return q.matches_job(row, n, now=NOW)

    assert ok("status:running") and ok("state:running") and not ok("status:queued")
    assert ok("node:leeds") and ok("node:n-leeds", n=None) and not ok("node:york")
    assert not ok("node:leeds", job(node_id=None), None)
    assert ok("machine:m-07") and not ok("machine:m-08") and not ok("machine:m", job(machine_id=None))
    assert ok("material:petg") and not ok("material:pla")
    assert ok("process:fdm")
    assert ok("order:o-77") and not ok("order:o-78")
    assert ok("part:bracket") and ok('part:"bracket left"')
    assert ok("region:york")
    assert ok("id:j-1042")


def test_job_priority_comparisons() -> None:
    def ok(text: str, priority: int) -> bool:
        return parse(text).matches_job(job(priority=priority), now=NOW)

    assert ok("priority:2", 2) and not ok("priority:2", 1)
    assert ok("priority:=2", 2)
    assert ok("priority:<=2", 1) and ok("priority:<=2", 2) and not ok("priority:<=2", 3)
    assert ok("priority:<2", 1) and not ok("priority:<2", 2)
    assert ok("priority:>3", 4) and not ok("priority:>3", 3)
    assert ok("priority:>=3", 3) and not ok("priority:>=3", 2)
    assert ok("priority:1 priority:5", 5) and not ok("priority:1 priority:5", 3)
    assert ok("-priority:5", 4) and not ok("-priority:5", 5)


def test_job_at_risk() -> None:
    late_eta = job(eta=NOW + timedelta(hours=6))
    overdue = job(due_at=NOW - timedelta(minutes=1), eta=None, status="queued")
    fine = job()
    done = job(status="completed", due_at=NOW - timedelta(hours=1))
    assert job_at_risk(late_eta, NOW) and job_at_risk(overdue, NOW)
    assert not job_at_risk(fine, NOW) and not job_at_risk(done, NOW)
    for text in ("at-risk", "risk:yes", "AT-RISK", "at-risk:true"):
        q = parse(text)
        assert not q.errors
        assert q.matches_job(late_eta, now=NOW) and q.matches_job(overdue, now=NOW)
        assert not q.matches_job(fine, now=NOW) and not q.matches_job(done, now=NOW)
    for text in ("-at-risk", "risk:no"):
        q = parse(text)
        assert q.matches_job(fine, now=NOW) and not q.matches_job(late_eta, now=NOW)
    with pytest.raises(ValueError, match="server's time"):
        parse("at-risk").matches_job(overdue)  # no wall-clock default: now is passed or a clock is bound
    assert parse('"at-risk"').terms == (Term(None, "at-risk"),)  # quoted: plain text


# --- alerts and nodes -----------------------------------------------------------------------------------------------


def test_alert_fields() -> None:
    a = alert()
    assert parse("priority:high").matches_alert(a)
    assert parse("priority:hi").matches_alert(a)
    assert not parse("priority:critical").matches_alert(a)
    assert parse("priority:<=high").matches_alert(a)
    assert parse("priority:<=high").matches_alert(alert(priority="critical"))
    assert not parse("priority:<=high").matches_alert(alert(priority="medium"))
    assert parse("priority:2").matches_alert(a)
    assert parse("priority:>low").matches_alert(alert(priority="emergency-x"))  # unknown levels sort last
    assert parse("state:active_unacked").matches_alert(a)
    assert parse("state:active").matches_alert(alert(state="active_acked"))
    assert not parse("state:active").matches_alert(alert(state="cleared_unacked"))
    assert parse("code:runout").matches_alert(a)
    assert parse("source:m-07").matches_alert(a) and not parse("source:m-08").matches_alert(a)
    assert parse("kind:machine").matches_alert(a) and parse("kind:mach").matches_alert(a)
    assert not parse("kind:node").matches_alert(a)
    assert parse("machine:m-07").matches_alert(a)
    assert not parse("machine:n-leeds").matches_alert(alert(source={"kind": "node", "id": "N-LEEDS"}))
    assert parse("id:a-1").matches_alert(a)


def test_alert_node_uses_given_node_or_node_source() -> None:
    a = alert()
    assert not parse("node:leeds").matches_alert(a)
    assert parse("node:leeds").matches_alert(a, LEEDS)
    assert parse("node:leeds").matches_alert(alert(source={"kind": "node", "id": "N-LEEDS"}))


def test_node_fields() -> None:
    assert parse("state:online").matches_node(LEEDS)
    assert not parse("state:offline").matches_node(LEEDS)
    assert parse('city:"new york"').matches_node(YORK)
    assert parse("name:works").matches_node(YORK)
    assert parse("node:n-ny").matches_node(YORK)
    assert parse("id:leeds").matches_node(LEEDS)
    assert parse("-state:online").matches_node(node(state="offline"))


def test_fields_table_lists_every_kind() -> None:
    assert set(FIELDS) == {"machine", "job", "alert", "node", "history"}
    assert "risk" in FIELDS["job"] and "city" in FIELDS["node"]
    assert set(FIELDS["alert"]) < set(FIELDS["history"])  # a history row takes every alert field, and its own


# --- normalised form ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("  State:Fault   NODE:leeds ", "state:Fault node:leeds"),
        ('node:"new york"  -prusa', 'node:"new york" -prusa'),
        ("risk:yes -risk:true risk:no", "at-risk -at-risk risk:no"),
        ('"a:b" "-x" "at-risk"', '"a:b" "-x" "at-risk"'),
        ('name:"" x', "x"),
        ("priority:<=2", "priority:<=2"),
    ],
)
def test_str_is_normalised(text: str, normal: str) -> None:
    assert str(parse(text)) == normal


def test_query_is_hashable_and_comparable() -> None:
    assert parse("state:fault") == parse("state:fault")
    assert hash(parse("a b")) == hash(parse("a  b"))
    assert isinstance(parse("x"), Query)


# --- hostile input --------------------------------------------------------------------------------------------------

FIELD_WORDS = st.sampled_from(
    ["state", "kind", "node", "priority", "risk", "at-risk", "overdue", "-", ":", '"', "\\", " ", "<="]
)
QUERY_TEXT = st.one_of(st.text(), st.lists(st.one_of(FIELD_WORDS, st.text(max_size=5))).map("".join))


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXT)
def test_parse_never_raises_and_matching_never_raises(text: str) -> None:
    q = parse(text)
    assert isinstance(q.errors, tuple)
    q.matches_machine(machine(), LEEDS)
    q.matches_machine(machine(), None)
    q.matches_job(job(), None, now=NOW)
    q.matches_alert(alert())
    q.matches_node(LEEDS)
    for kind in FIELDS:
        q.warnings(kind)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXT)
def test_normalised_form_round_trips(text: str) -> None:
    q = parse(text)
    again = parse(str(q))
    assert again.terms == q.terms
    assert str(again) == str(q)


def test_parse_refuses_non_text_gently() -> None:
    q = parse(None)  # type: ignore[arg-type]
    assert q.is_empty and q.errors


def test_help_names_every_field() -> None:
    from console.store.query import HELP

    for names in FIELDS.values():
        for name in names:
            assert name in HELP or name == "risk"
