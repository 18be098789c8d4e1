"""Connection faults through the whole console: it reconnects, ends live at the server's last ``seq``, says so.

Drawn from the store-level catalogues (``test_faults_connection``), where every stream fault and every HTTP status
on every request, with and without ``Retry-After``, is proven at the source level (nothing lost or twice, the store
equal to a fresh snapshot, the trouble in the log). Here the whole console boots for a representative subset: one
stream fault of each kind (cut mid-event, half chunk, reset, server end, garbage, silence with the source's silence
timeout lowered to 0.5 s), and each status once, on the snapshot and on the event stream, with and without
``Retry-After``. The header must name the trouble while it lasts (``reconnecting`` in the state history) and say
``live`` after; the keys must still work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.faults.console_harness import (
    assert_responsive,
    header_line,
    running_console,
    status,
    until,
    until_live_at,
)
from tests.faults.harness import publish_timeline
from tests.faults.hostile_server import HostileServer, Reply, Silence
from tests.faults.test_faults_connection import PATHS, RETRY_AFTER, STATUSES, STREAM_FAULTS

EVENTS = 12

APP_STREAM_FAULTS = [
    "cut-mid-event-fin-50pct",
    "half-written-chunk",
    "tcp-reset-mid-event",
    "server-ends-stream-at-once",
    "silence",
    "garbage-bytes-then-reset",
]
assert set(APP_STREAM_FAULTS) <= set(STREAM_FAULTS)


def reconnected(app: Any) -> bool:
    return any("reconnect" in line.message or "retry in" in line.message for line in status(app).log)


@pytest.mark.parametrize("script", [STREAM_FAULTS[name] for name in APP_STREAM_FAULTS], ids=APP_STREAM_FAULTS)
async def test_stream_fault_console_recovers(hostile: Any, tmp_path: Path, script: list[Any]) -> None:
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, EVENTS)
    server.script(script)
    silent = any(isinstance(action, Silence) for action in script) or "pause" in repr(script).lower()
    async with running_console(server, tmp_path, silence_timeout=0.5 if silent else None) as pilot:
        app = pilot.app
        await until_live_at(pilot, server.seq, timeout=10)
        assert server.resume_points[0] == str(server.base_seq) and len(server.resume_points) >= 2
        assert server.snapshots_served == 1
        assert reconnected(app), [line.message for line in status(app).log]
        more = publish_timeline(server, 2, start=EVENTS)
        await until_live_at(pilot, more[-1])
        app.flush_changes()
        await pilot.pause()
        assert "live" in header_line(app)
        await assert_responsive(pilot)


# Each status once; the snapshot and the stream each with and without Retry-After.
HTTP = [
    (500, None, "/v1/snapshot"),
    (502, RETRY_AFTER, "/v1/events"),
    (503, RETRY_AFTER, "/v1/snapshot"),
    (429, None, "/v1/events"),
]
assert {code for code, _, _ in HTTP} == set(STATUSES) and {path for _, _, path in HTTP} <= set(PATHS)


@pytest.mark.parametrize(
    ("code", "retry_after", "path"),
    HTTP,
    ids=[f"{s}-{'retry-after' if r else 'no-retry-after'}-{p.rsplit('/', 1)[1]}" for s, r, p in HTTP],
)
async def test_http_error_console_backs_off_and_recovers(
    hostile: Any, tmp_path: Path, code: int, retry_after: float | None, path: str
) -> None:
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, EVENTS)
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    server.fail(path, Reply(code, headers))
    async with running_console(server, tmp_path) as pilot:
        app = pilot.app
        await until(pilot, lambda: status(app).state == "reconnecting" or status(app).seq == server.seq, "a retry")
        await until_live_at(pilot, server.seq, timeout=10)
        assert any(str(code) in line.message for line in status(app).log), [m.message for m in status(app).log]
        app.flush_changes()
        await pilot.pause()
        assert "live" in header_line(app)
        await assert_responsive(pilot)
