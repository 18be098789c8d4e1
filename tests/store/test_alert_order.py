"""The alerts' order (``alert_sort_key``) with its memo of timestamps is the order the rule states: priority, then
unacknowledged first, then newest, then id; equal instants at different offsets are equally new, and the order
holds across the memo's clearing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from console.api.models import ALERT_PRIORITY_RANK, Alert
from console.store import views
from console.store.views import active_alerts, alert_sort_key, unordered_active_alerts
from tests.store.factories import alert

STATES = ["active_unacked", "cleared_unacked", "active_acked"]


def reference_key(a: Alert) -> tuple[Any, ...]:
    """The rule, computed afresh every time."""
    return (ALERT_PRIORITY_RANK[a.priority], STATES.index(a.state), -a.raised_at.timestamp(), a.id)


def random_alerts(rng: random.Random, n: int) -> list[Alert]:
    base = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        at = base + timedelta(seconds=rng.randrange(600))
        if rng.random() < 0.3:  # the same instant written at another offset
            at = at.astimezone(timezone(timedelta(hours=rng.choice([-5, 1, 9]))))
        out.append(
            alert(
                f"A-{rng.randrange(10_000):05d}-{i}",
                priority=rng.choice(list(ALERT_PRIORITY_RANK)),
                state=rng.choice(STATES),
                raised_at=at,
                updated_at=at,
            )
        )
    return out


def test_the_memo_keeps_the_rules_order(monkeypatch: Any) -> None:
    rng = random.Random(15)
    monkeypatch.setattr(views, "_NEG_TIMESTAMPS_LIMIT", 50)  # cleared several times on the way
    for _ in range(20):
        alerts = random_alerts(rng, 120)
        assert sorted(alerts, key=alert_sort_key) == sorted(alerts, key=reference_key)
        assert len(views._NEG_TIMESTAMPS) <= 50


def test_equal_instants_at_other_offsets_are_equally_new() -> None:
    utc = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    east = utc.astimezone(timezone(timedelta(hours=9)))
    a, b = alert("A-2", raised_at=utc, updated_at=utc), alert("A-1", raised_at=east, updated_at=east)
    assert alert_sort_key(a)[2] == alert_sort_key(b)[2]
    assert sorted([a, b], key=alert_sort_key) == [b, a]  # then by id


def test_active_alerts_leaves_shelved_out_and_sorts() -> None:
    rng = random.Random(3)
    alerts = random_alerts(rng, 40)
    shelved = alert("A-shelved", state="shelved")

    class Holder:
        pass

    store: Any = Holder()
    store.alerts = {a.id: a for a in [*alerts, shelved]}
    assert active_alerts(store) == sorted(alerts, key=reference_key)


def test_the_unordered_view_holds_the_same_alerts() -> None:
    """``unordered_active_alerts`` (for counting) is ``active_alerts`` without the sort, shelved ones as asked."""
    rng = random.Random(5)
    alerts = [*random_alerts(rng, 60), alert("A-shelved-1", state="shelved"), alert("A-shelved-2", state="shelved")]

    class Holder:
        pass

    store: Any = Holder()
    store.alerts = {a.id: a for a in alerts}
    for shelved in (False, True):
        unordered = list(unordered_active_alerts(store, include_shelved=shelved))
        assert sorted(unordered, key=reference_key_or_shelved) == active_alerts(store, include_shelved=shelved)


def reference_key_or_shelved(a: Alert) -> tuple[Any, ...]:
    rank = STATES.index(a.state) if a.state in STATES else len(STATES)
    return (ALERT_PRIORITY_RANK[a.priority], rank, -a.raised_at.timestamp(), a.id)
