"""What the list screens say about their filter, proven without a terminal: the alerts filter takes every word the
state column shows, each list's filter box offers its own kind's fields, and an empty filtered list says that the
filter matched nothing (never "No active alerts" while alerts exist)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.app import FactoryConsoleApp
from console.screens.alerts import AlertsScreen, cleared_unacked
from console.screens.base import ConsoleScreen
from console.screens.columns import ALERT_STATE_WORD, alert_row
from console.screens.list_screen import ListScreen
from console.store.query import FIELDS, parse
from console.store.query.fields import EXAMPLES
from tests.store.test_query import NOW, alert

MAIN_SCREENS: list[type[ConsoleScreen]] = list(FactoryConsoleApp.MODES.values())
LIST_SCREENS: list[type[ListScreen]] = [s for s in MAIN_SCREENS if issubclass(s, ListScreen)]


@st.composite
def shown_state_word(draw: st.DrawFn) -> tuple[str, str]:
    """An alert state and what an operator types after reading its row: a non-empty prefix of the state column's
    word (or of one of its ``-`` parts), in any case."""
    state = draw(st.sampled_from(sorted(ALERT_STATE_WORD)))
    shown = alert_row(alert(state=state), NOW).cells[1]
    word = draw(st.sampled_from([shown, *shown.split("-")]))
    prefix = word[: draw(st.integers(min_value=1, max_value=len(word)))]
    typed = "".join(draw(st.sampled_from([c.lower(), c.upper()])) for c in prefix)
    return state, typed


@settings(max_examples=300, deadline=None)
@given(shown_state_word())
def test_the_alerts_filter_accepts_every_word_the_state_column_shows(case: tuple[str, str]) -> None:
    state, typed = case
    q = parse(f"state:{typed}")
    assert not q.errors
    assert q.matches_alert(alert(state=state)), (state, typed)


def test_state_unack_finds_the_rows_showing_unack_and_clr_unack() -> None:
    shown = {state: alert_row(alert(state=state), NOW).cells[1] for state in ALERT_STATE_WORD}
    q = parse("state:unack")
    assert {shown[s] for s in ALERT_STATE_WORD if q.matches_alert(alert(state=s))} == {"UNACK", "CLR-UNACK"}


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_each_kinds_example_filter_parses_clean_for_that_kind(kind: str) -> None:
    q = parse(EXAMPLES[kind])
    assert q.warnings(kind) == []  # type: ignore[arg-type]
    assert all(term.field in FIELDS[kind] for term in q.terms)


def test_each_list_screen_offers_its_own_kinds_fields() -> None:
    kinds = {screen.__name__: screen.filter_kind() for screen in MAIN_SCREENS if screen.FILTERABLE}
    assert kinds["DashboardScreen"] == "machine"
    assert kinds["JobsScreen"] == "job"
    assert kinds["AlertsScreen"] == "alert"
    assert kinds["NodesScreen"] == "node"
    assert kinds["QualityScreen"] is None and kinds["AuditScreen"] is None  # free text only
    placeholder = AlertsScreen.filter_placeholder()
    for field in ("priority:", "state:unack", "node:york", "code:"):
        assert field in placeholder
    assert "kind:cnc" not in placeholder and "material:" not in placeholder
    for screen in MAIN_SCREENS:
        kind = screen.filter_kind()
        if kind is not None:
            text = screen.filter_placeholder()
            offered = [word.split(":")[0].lstrip("-") for word in text.split() if ":" in word]
            assert offered and all(name in FIELDS[kind] for name in offered), (screen.__name__, text)


@pytest.mark.parametrize("screen", LIST_SCREENS, ids=lambda s: s.__name__)
def test_a_filtered_empty_list_says_the_filter_matched_nothing(screen: type[ListScreen]) -> None:
    filtered = screen.empty_message(True)
    assert filtered.startswith("No ") and filtered.endswith(" match the filter")
    assert "active" not in filtered and "yet" not in filtered
    assert screen.empty_message(False) == screen.EMPTY


def test_alerts_say_no_active_alerts_only_when_unfiltered() -> None:
    assert AlertsScreen.empty_message(False) == "No active alerts"
    assert AlertsScreen.empty_message(True) == "No alerts match the filter"


def test_ack_all_cleared_picks_only_cleared_unacknowledged_alerts() -> None:
    alerts = [
        alert(id=f"A-{state}", state=state, raised_at=NOW - timedelta(minutes=i))
        for i, state in enumerate(ALERT_STATE_WORD)
    ]
    assert cleared_unacked([*alerts, None]) == ["A-cleared_unacked"]
    assert cleared_unacked([]) == []
