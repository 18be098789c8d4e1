"""The tiles' alert badges count the active alerts per machine without sorting them first (issue 15): the same counts
as over the sorted list, shelved alerts and alerts about other objects left out."""

from __future__ import annotations

from typing import Any

from console.screens.dashboard_facts import alert_counts
from console.store.views import active_alerts
from tests.store.factories import alert


def test_alert_counts_are_the_sorted_lists_counts() -> None:
    alerts = [
        alert("A-1", source_id="M-1"),
        alert("A-2", source_id="M-1", priority="critical"),
        alert("A-3", source_id="M-2", state="active_acked"),
        alert("A-4", source_id="M-2", state="shelved"),
        alert("A-5", kind="node", source_id="N-1"),
        alert("A-6", kind="job", source_id="J-1"),
    ]

    class Holder:
        pass

    store: Any = Holder()
    store.alerts = {a.id: a for a in alerts}
    store.active_alerts = lambda: active_alerts(store)
    expected: dict[str, int] = {}
    for a in store.active_alerts():
        if a.source.kind == "machine":
            expected[a.source.id] = expected.get(a.source.id, 0) + 1
    assert alert_counts(store) == expected == {"M-1": 2, "M-2": 1}
