"""ISA-18.2 alert lifecycle: the AlertBook alone, then through the simulation's commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.api.models import Alert
from console.api.wire import ApiModel
from console.demo.sim import SimCommandError, SimConfig, Simulation, SteppedClock
from console.demo.sim.alerts import AlertBook

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def book() -> tuple[AlertBook, list[tuple[str, Alert]]]:
    events: list[tuple[str, Alert]] = []
    return AlertBook(lambda t, a: events.append((t, a)), lambda: True), events


def _states(events: list[tuple[str, Alert]]) -> list[tuple[str, str]]:
    return [(t, a.state) for t, a in events]


def test_raise_ack_clear_resolves_once_and_leaves(book: tuple[AlertBook, list[tuple[str, Alert]]]) -> None:
    alerts, events = book
    aid = alerts.raise_(T0, "machine", "M-1", "nozzle_clog", "high", "clog")
    alerts.ack(T0, aid, "alice", "on it")
    alerts.clear(T0, "machine", "M-1", "nozzle_clog")
    assert _states(events) == [
        ("alert.raised", "active_unacked"),
        ("alert.updated", "active_acked"),
        ("alert.updated", "resolved"),
    ]
    assert events[1][1].acked_by == "alice" and events[1][1].ack_note == "on it"
    assert alerts.get(aid) is None and alerts.models() == []


def test_clear_then_ack_resolves(book: tuple[AlertBook, list[tuple[str, Alert]]]) -> None:
    alerts, events = book
    aid = alerts.raise_(T0, "node", "N-1", "node_offline", "high", "gone")
    alerts.clear(T0, "node", "N-1", "node_offline")
    assert alerts.get(aid) is not None and alerts.get(aid).state == "cleared_unacked"  # type: ignore[union-attr]
    alerts.ack(T0, aid, "bob", None)
    assert _states(events)[-1] == ("alert.updated", "resolved")
    assert alerts.models() == []


def test_repeat_counts_and_reactivates(book: tuple[AlertBook, list[tuple[str, Alert]]]) -> None:
    alerts, events = book
    aid = alerts.raise_(T0, "machine", "M-1", "e_stop", "high", "stop")
    assert alerts.raise_(T0, "machine", "M-1", "e_stop", "high", "stop") == aid
    alerts.clear(T0, "machine", "M-1", "e_stop")
    again = alerts.raise_(T0, "machine", "M-1", "e_stop", "high", "stop")
    assert again == aid
    last = events[-1][1]
    assert last.count == 3 and last.state == "active_unacked"
    # a different code on the same machine is a different alert
    assert alerts.raise_(T0, "machine", "M-1", "nozzle_clog", "high", "clog") != aid


def test_shelve_hides_until_expiry_and_unshelve(book: tuple[AlertBook, list[tuple[str, Alert]]]) -> None:
    alerts, events = book
    aid = alerts.raise_(T0, "machine", "M-1", "tool_wear", "low", "wear")
    until = T0 + timedelta(hours=1)
    alerts.shelve(T0, aid, until, "known")
    assert events[-1][1].state == "shelved" and events[-1][1].shelved_until == until
    alerts.shelve_expired(T0, aid, until - timedelta(minutes=1))  # a stale expiry does nothing
    assert alerts.get(aid).state == "shelved"  # type: ignore[union-attr]
    alerts.shelve_expired(until, aid, until)
    assert events[-1][1].state == "active_unacked"
    alerts.shelve(until, aid, until + timedelta(hours=1), None)
    alerts.unshelve(until, aid)
    assert events[-1][1].state == "active_unacked"
    with pytest.raises(SimCommandError) as err:
        alerts.unshelve(until, aid)
    assert err.value.status == 409 and err.value.code == "not_shelved"
    with pytest.raises(SimCommandError) as err:
        alerts.shelve(until, aid, until - timedelta(seconds=1), None)
    assert err.value.status == 422


def test_ack_refusals(book: tuple[AlertBook, list[tuple[str, Alert]]]) -> None:
    alerts, _ = book
    aid = alerts.raise_(T0, "machine", "M-1", "e_stop", "high", "stop")
    alerts.ack(T0, aid, "alice", None)
    with pytest.raises(SimCommandError) as err:
        alerts.ack(T0, aid, "bob", None)
    assert (err.value.status, err.value.code) == (409, "already_acked")
    with pytest.raises(SimCommandError) as err:
        alerts.ack(T0, "A-99999", "bob", None)
    assert err.value.status == 404


def test_lifecycle_through_the_simulation() -> None:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=3), clock)
    events: list[tuple[str, ApiModel]] = []
    sim.subscribe(lambda t, p: events.append((t, p)))
    for _ in range(6 * 3600):
        clock.advance(1.0)
        sim.tick()
        if len(sim.alerts()) >= 3:
            break
    alerts = sim.alerts()
    assert len(alerts) >= 3
    first, second, third = alerts[:3]

    sim.execute("alert.ack", first.id, {"note": "seen"}, "alice")
    after = sim.alert(first.id)
    if after is not None:
        assert after.state == "active_acked" and after.acked_by == "alice" and after.ack_note == "seen"
    else:  # it had cleared already: ack resolves it, sent once
        resolved = [p for t, p in events if t == "alert.updated" and isinstance(p, Alert) and p.id == first.id]
        assert resolved[-1].state == "resolved"

    until = sim.now() + timedelta(minutes=30)
    sim.execute("alert.shelve", second.id, {"until": until.isoformat(), "note": "later"}, "alice")
    assert sim.alert(second.id).state == "shelved"  # type: ignore[union-attr]
    sim.execute("alert.unshelve", second.id, {}, "alice")
    assert sim.alert(second.id).state != "shelved"  # type: ignore[union-attr]

    sim.execute("alert.shelve", third.id, {"until": until.isoformat()}, "alice")
    clock.advance(31 * 60)
    sim.tick()
    back = sim.alert(third.id)
    if back is not None:  # it returns at shelved_until (unless it cleared and was acked meanwhile)
        assert back.state != "shelved" and back.shelved_until is None

    with pytest.raises(SimCommandError) as err:
        sim.execute("alert.ack", "A-99999", {}, "alice")
    assert err.value.status == 404
    assert err.value.audit is not None and err.value.audit.outcome == "rejected"
    with pytest.raises(SimCommandError) as err:
        sim.execute("alert.shelve", second.id, {"until": "not a time"}, "alice")
    assert err.value.status == 422


def test_alerts_resolve_over_a_long_run_and_never_list_resolved() -> None:
    """Faults clear by themselves; an operator acks everything every few minutes; resolved alerts go away and come
    as one update."""
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=11), clock)
    events: list[tuple[str, ApiModel]] = []
    sim.subscribe(lambda t, p: events.append((t, p)))
    for minute in range(8 * 60):
        clock.advance(60.0)
        sim.tick()
        if minute % 5:
            continue  # the operator looks every 5 minutes: some alerts clear before they are acked
        for alert in sim.alerts():
            if alert.state in ("active_unacked", "cleared_unacked"):
                # from the alert's node's agent (an alert of a node whose WAN link is down is unreachable from the
                # cluster: target_offline)
                sim.execute("alert.ack", alert.id, {}, "op", local_node=sim.node_of("alert", alert.id))
    alert_events = [p for t, p in events if t in ("alert.raised", "alert.updated") and isinstance(p, Alert)]
    codes = {a.code for a in alert_events}
    assert len(codes) >= 5, codes
    resolved = [a for a in alert_events if a.state == "resolved"]
    assert resolved
    assert len({a.id for a in resolved}) == len(resolved)  # resolved is sent once per alert
    assert all(a.state != "resolved" for a in sim.alerts())
    assert {a.state for a in alert_events} >= {"active_unacked", "active_acked", "cleared_unacked", "resolved"}
