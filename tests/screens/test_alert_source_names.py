"""Alert sources, queue headers and toasts show the id and the name (issue 12: "Leeds Bambu La..." three times is three
machines nobody can tell apart), and the filter finds an alert by what its Source column shows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.screens.columns import alert_row, shelved_row, source_name, source_text
from console.screens.flow_names import alert_names, job_names, machine_names
from console.store.query import parse
from tests.store.test_query import NOW, alert, job, machine, node

MACHINES = {"M-07": machine(id="M-07", name="Leeds Bambu Lab X1E #2")}
NODES = {"N-LEEDS": node()}


def test_an_alerts_source_shows_its_id_then_its_name() -> None:
    a = alert()
    name = source_name(a, MACHINES, NODES)
    assert name == "Leeds Bambu Lab X1E #2"
    assert alert_row(a, NOW, name=name).cells[2] == "M-07 Leeds Bambu Lab X1E #2"
    assert alert_row(a, NOW, compact=True, name=name).cells[2] == "M-07 Leeds Bambu Lab X1E #2"
    assert shelved_row(a, NOW, name=name).cells[1] == "M-07 Leeds Bambu Lab X1E #2"
    on_node = alert(source={"kind": "node", "id": "N-LEEDS"})
    assert source_text(on_node, source_name(on_node, MACHINES, NODES)) == "N-LEEDS Leeds"


def test_a_source_the_console_cannot_name_keeps_its_kind() -> None:
    unknown = alert(source={"kind": "machine", "id": "M-99"})
    assert source_name(unknown, MACHINES, NODES) is None
    assert source_text(unknown, None) == "machine:M-99"
    cluster = alert(source={"kind": "cluster", "id": "north"})
    assert source_text(cluster, source_name(cluster, MACHINES, NODES)) == "cluster:north"


def test_the_filter_finds_an_alert_by_its_sources_name() -> None:
    a = alert(message="door open")
    name = source_name(a, MACHINES, NODES)
    for text in ("bambu", "source:bambu", "machine:x1e", "source:M-07", '"#2"'):
        assert parse(text).matches_alert(a, NODES["N-LEEDS"], name), text
        assert not parse(text).matches_alert(alert(source={"kind": "machine", "id": "M-99"}, message="x")), text


def test_toasts_name_one_target_by_id_and_name_and_count_several() -> None:
    m = MACHINES["M-07"]
    assert machine_names([m]) == "M-07 Leeds Bambu Lab X1E #2"
    assert machine_names([m, machine(id="M-08")]) == "2 machines"
    assert job_names([job(id="J-1042", part="bracket")]) == "J-1042 (bracket)"
    assert alert_names([alert(id="A-77")], MACHINES, NODES) == "A-77 on M-07 Leeds Bambu Lab X1E #2"
    assert alert_names([alert(), alert(id="A-2")], MACHINES, NODES) == "2 alerts"


@given(st.text(max_size=80), st.text(max_size=80))
def test_any_name_is_shown_as_inert_text(ident: str, name: str) -> None:
    """Whatever a server calls its machine, the cell holds no escape sequence or control character."""
    a = alert(source={"kind": "machine", "id": ident or "x"})
    text = source_text(a, name or None)
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text)
