"""One clock everywhere: what the console stamps is on the server's clock; the local audit shows both where they
differ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.audit_log import AuditLog
from console.screens.audit import local_times
from console.server_clock import ServerClock
from console.session import Session
from console.settings import Settings

SERVER = datetime(2031, 3, 4, 8, 0, tzinfo=UTC)
WALL = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def session(tmp_path: Path) -> Session:
    clock = ServerClock(extrapolate=False)
    clock.reset(SERVER)
    return Session(Settings(), audit_log=AuditLog(tmp_path / "a.jsonl", clock=lambda: WALL), server_clock=clock)


def test_the_store_stamps_on_the_servers_clock(tmp_path: Path) -> None:
    s = session(tmp_path)
    s.store.register_source("cluster")
    s.store.log_source("cluster", "connected")
    assert s.store.sources["cluster"].log[-1].at == SERVER


def test_the_local_audit_keeps_both_clocks_and_shows_both_where_they_differ(tmp_path: Path) -> None:
    s = session(tmp_path)
    s.audit_log.attempt(action="machine.pause", target={"kind": "machine", "id": "M-1"}, reason="check")
    record = s.audit_log.recent(1)[0]
    assert record["at"].startswith("2026-12-05T09:30") and record["server_at"].startswith("2031-03-04T08:00")
    assert local_times(record) == ("2031-03-04 08:00:00", "12-05 09:30:00")
    near = dict(record, at=(SERVER + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    assert local_times(near) == ("2031-03-04 08:00:00", "")  # the same minute: one time is enough
    assert local_times({"at": "2026-12-05T09:30:00.000Z"}) == ("2026-12-05T09:30:00.000Z", "")  # before any server


def test_lines_logged_between_the_first_snapshot_and_the_first_repaint_are_on_the_servers_clock(tmp_path: Path) -> None:
    """The connection log's "snapshot" and "live" lines are written before the app's first repaint moves the clock:
    they must be stamped with the snapshot's server time, not this machine's (the demo's server lives on its own date).
    """
    from tests.store.factories import T0, snapshot

    s = Session(Settings(), audit_log=AuditLog(tmp_path / "a.jsonl"), server_clock=ServerClock(extrapolate=False))
    s.store.register_source("cluster")
    s.store.apply_snapshot("cluster", snapshot(5))
    s.store.log_source("cluster", "live: streaming after seq 5")
    assert s.store.sources["cluster"].log[-1].at == T0


def test_a_replay_shows_the_local_audit_records_written_by_the_replayed_moment() -> None:
    """In a replay, the Audit screen's local log stops at the replayed time (it showed what came after, too)."""
    from console.screens.audit import recorded_by

    moment = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)
    assert recorded_by({"server_at": "2026-12-06T08:29:59Z", "at": "2026-12-07T01:00:00Z"}, moment)  # server's clock
    assert not recorded_by({"server_at": "2026-12-06T08:30:01Z"}, moment)
    assert recorded_by({"at": "2026-12-06T08:00:00+00:00"}, moment)  # no server time: this machine's
    assert not recorded_by({"at": "not a time"}, moment)
    assert not recorded_by({}, moment)
