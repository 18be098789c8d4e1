"""What the on-call operator sees most, pictured (issue 11): Diagnostics, Audit, the node detail, the reroute, shelve
and note dialogs, and the states that must never look normal: a stale source, READ-ONLY, a FROZEN view, an alert flood.

Same ground rules as ``test_app_snapshots.py``: the simulator is seeded on a stepped clock (time passes only when a
test says so), the server clock does not move on its own and receipt times are frozen. On top of that:

* Wall-clock receipt times (the connection log, malformed events, the local audit log) are re-dated on the server's
  clock, in their order, before the screen that shows them opens (:func:`pin_receipt_times`, :func:`pin_local_audit`);
  the server's random instance id in the log reads ``INSTANCE``.
* How long a source has been in its state is pinned to :data:`IN_STATE_S` ago: the screen shows it in minutes, so
  the picture holds for half a minute either side however slow the machine is.
* Events counted after the bootstrap (a command's echo, an injected flood, a stepped server) move the header's
  ``ev/s`` for up to two seconds: :func:`quiet` waits until it reads 0 for good.
* Toasts expire on a wall-clock timer: a test that makes one checks its text, then clears it.
* Keys are sent with ``App.simulate_key`` and each step waits for what the key must bring about (a mode, a dialog, a
  state): ``Pilot.press`` waits for the process to look idle, which with the demo server in the same process takes
  up to two seconds a key. What each key does is covered in ``test_app_keys.py``; here only the pictures matter.

Update after an intended change with ``pytest tests/app/test_app_snapshots_oncall.py --snapshot-update`` and look at
the SVGs in ``tests/app/__snapshots__/test_app_snapshots_oncall/`` before committing them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from textual.widgets import Input

from console.api.models import Alert, Event, SourceRef
from console.store.status import LogLine, MalformedRecord
from tests.app.conftest import settle, wait_for, wait_ready

SIZE = (120, 36)
SMALL = (80, 24)
BOTH = [pytest.param(SIZE, id="120x36"), pytest.param(SMALL, id="80x24")]

IN_STATE_S = 330.0
"""How long each source has been in its state, for the pictures: shown as ``5m`` (anything from 300 s to 359 s)."""

QUIET_S = 2.0
"""The header's rate is that of the last complete second: two seconds without an event and it reads 0 for good."""

INSTANCE_ID = re.compile(r"\b(instance )[0-9a-f]{16,}\b")
"""The server's instance id is a fresh random one at each start (``uuid4().hex``)."""

Step = Callable[[Any], Awaitable[None]]


# --- making a picture stable ------------------------------------------------------------------------------------------


def freeze(app: Any) -> None:
    """No blinking cursors, no animations (on every screen of the stack: dialogs included)."""
    app.animation_level = "none"
    for screen in app.screen_stack:
        for widget in screen.query(Input):
            widget.cursor_blink = False


async def pin_receipt_times(pilot: Any) -> None:
    """Re-date the connection log and the malformed events on the server's clock, one second apart and in their
    order, hide the instance id, and say each source has been in its state for :data:`IN_STATE_S`."""
    app = pilot.app
    now = app.server_clock.now()
    assert now is not None, "the server clock is set once the snapshot is in"
    moment = time.monotonic()
    for status in app.store.sources.values():
        status.state_since = moment - IN_STATE_S
        lines = list(status.log)
        status.log.clear()
        status.log.extend(
            LogLine(now - timedelta(seconds=len(lines) - index), INSTANCE_ID.sub(r"\1INSTANCE", line.message))
            for index, line in enumerate(lines)
        )
        records = list(status.malformed)
        status.malformed.clear()
        status.malformed.extend(
            MalformedRecord(now - timedelta(seconds=len(records) - index), r.seq, r.type, r.reason, r.excerpt)
            for index, r in enumerate(records)
        )


def pin_local_audit(app: Any) -> None:
    """The local audit log stamps each record with the wall clock: re-date them on the server's clock, in order."""
    now = app.server_clock.now()
    path = app.audit_log.path
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for index, record in enumerate(records):
        record["at"] = (now - timedelta(seconds=len(records) - index)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


async def quiet(pilot: Any) -> None:
    """The header reads ``0 ev/s`` for good, then repaint.

    Once every event is in the store (``settle``) no more come (the server's clock only steps when a test says so),
    so instead of waiting :data:`QUIET_S` for the last counted second to pass, each source's rate is moved that far
    into the past: what the header would show two seconds later, now."""
    await settle(pilot)
    now = time.monotonic()
    for status in pilot.app.store.sources.values():
        if status.last_event_monotonic is not None:
            status.last_event_monotonic = min(status.last_event_monotonic, now - QUIET_S)
            status._bucket = min(status._bucket, int(now - QUIET_S))
            status._last_rate = status._bucket_count = 0
    for screen in pilot.app.screen_stack:  # the header repaints on its 1 s timer: do not wait for it
        if hasattr(screen, "update_status"):
            screen.update_status()
    await pilot.pause()


def toast_texts(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


def scene(*steps: Step, ready: Step = wait_ready) -> Step:
    """A ``run_before``: wait until the console is ``ready``, run the ``steps`` in order, settle and freeze."""

    async def run_before(pilot: Any) -> None:
        pilot.app.animation_level = "none"
        await ready(pilot)
        for step in steps:
            await step(pilot)
        await settle(pilot)
        freeze(pilot.app)
        await pilot.pause()

    return run_before


# --- steps ------------------------------------------------------------------------------------------------------------


def key(name: str, until: Callable[[Any], bool], what: str) -> Step:
    """Press ``name`` and wait until ``until(app)`` holds."""

    async def press(pilot: Any) -> None:
        pilot.app.simulate_key(name)
        await wait_for(pilot, lambda: until(pilot.app), what=what)
        await settle(pilot)

    return press


def to_mode(name: str, mode: str) -> Step:
    """A screen key (1-7): wait until that screen is up and has drawn what the store holds."""

    def shown(app: Any) -> bool:
        screen = app.screen
        return app.current_mode == mode and getattr(screen, "ready", False) and not screen.needs_rebuild

    return key(name, shown, f"the {mode} screen")


def opens(name: str, kind: type) -> Step:
    """A key that opens a screen or dialog of type ``kind``."""
    return key(name, lambda app: isinstance(app.screen, kind), f"{kind.__name__} to open")


def type_into(text: str) -> Step:
    """What the operator typed into the focused input (set at once; the keys themselves are not what is pictured)."""

    async def typed(pilot: Any) -> None:
        field = pilot.app.focused
        assert isinstance(field, Input), f"an input has the focus, not {field!r}"
        field.value = text
        field.cursor_position = len(text)
        await pilot.pause()

    return typed


def first_machine(app: Any, state: str) -> Any:
    return next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == state)


def cursor_on(state: str) -> Step:
    """Put the dashboard grid's cursor on the first machine (by id) in ``state``."""

    async def move(pilot: Any) -> None:
        from widgets.machine_grid import MachineGrid

        grid = pilot.app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        assert grid.move_cursor_to(first_machine(pilot.app, state).id)
        await pilot.pause()

    return move


# --- Diagnostics (6) --------------------------------------------------------------------------------------------------


def test_diagnostics(snap_compare, make_app) -> None:
    """Key 6 on a healthy console: the cluster source live, how it got there, one malformed event refused (shown
    inert: the ESC reads ␛)."""
    from console.api.sse import MalformedEvent

    async def one_malformed(pilot: Any) -> None:
        excerpt = '{"id": "M-LDS-01", "state": \x1b[31m'
        event = MalformedEvent(seq=None, type="machine.updated", reason="invalid JSON", excerpt=excerpt)
        pilot.app.store.record_malformed("cluster", event)
        await settle(pilot)

    steps = (one_malformed, pin_receipt_times, to_mode("6", "diagnostics"))
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=scene(*steps))


# --- a stale source ---------------------------------------------------------------------------------------------------

STALE_AFTER_S = 1.5
"""The silence watch checks every ``STALE_AFTER_S / 4`` s, so it finds 1.5-1.9 s of silence and says "2 s" (up to
2.5 s, i.e. a second of loop lag, still reads "2 s")."""


def stale_app(make_app: Callable[..., Any]) -> Any:
    """A console whose cluster stream opens and then says nothing: stale after :data:`STALE_AFTER_S`, by the real
    silence watch (the server's keep-alives are ten minutes apart, so nothing wakes the stream during the test)."""
    app = make_app(keepalive_s=600.0)
    app.settings.stale_after_s = STALE_AFTER_S
    return app


async def loaded_then_stale(pilot: Any) -> None:
    """Loaded (machines and whoami in), then stale. Not ``wait_ready``: on a slow machine the source may already be
    stale when it first looks, and it would wait for a live that never comes back."""
    app = pilot.app
    await wait_for(pilot, lambda: bool(app.store.machines and app.store.whoami), what="the snapshot")
    await wait_for(pilot, lambda: app.store.source_state("cluster") == "stale", what="the source to go stale")
    await settle(pilot)


@pytest.mark.parametrize("size", BOTH)
def test_stale_source_dashboard(snap_compare, make_app, size: tuple[int, int]) -> None:
    """The dashboard with its only source stale: the header says so, every machine and panel is marked stale."""
    assert snap_compare(stale_app(make_app), terminal_size=size, run_before=scene(ready=loaded_then_stale))


def test_stale_source_diagnostics(snap_compare, make_app) -> None:
    """Key 6 with the source stale: its state, why, and the log line of the change."""
    steps = (pin_receipt_times, to_mode("6", "diagnostics"))
    assert snap_compare(stale_app(make_app), terminal_size=SIZE, run_before=scene(*steps, ready=loaded_then_stale))


# --- Audit (7) --------------------------------------------------------------------------------------------------------


def test_audit(snap_compare, make_app) -> None:
    """Key 7 after this console paused a machine and acknowledged an alert (with a note): both in the server's trail
    and in the local log (attempt and outcome of each)."""
    from console.screens.audit import AuditScreen
    from console.screens.modals import ConfirmAction, NoteDialog

    paused = acked = None

    async def remember(pilot: Any) -> None:
        nonlocal paused, acked
        paused = first_machine(pilot.app, "running").id
        acked = first_machine(pilot.app, "fault").id

    def is_paused(app: Any) -> bool:
        return app.store.machines[paused].state == "paused"

    def is_acked(app: Any) -> bool:
        alerts = app.store.alerts_for("machine", acked)
        return bool(alerts) and all(a.state != "active_unacked" for a in alerts)

    async def both_recorded(pilot: Any) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: len(app.store.audit) >= 2, what="both server audit entries")
        await wait_for(pilot, lambda: len(app.audit_log.recent(10)) >= 4, what="both local outcomes")
        app.clear_notifications()  # "...: applied" toasts; the picture's local log shows both outcomes
        pin_local_audit(app)

    def fetched(app: Any) -> bool:
        return isinstance(app.screen, AuditScreen) and bool(app.screen.fetched)

    steps = (
        remember,
        cursor_on("running"),
        opens("p", ConfirmAction),
        type_into("audit me"),
        key("enter", is_paused, "the pause"),
        cursor_on("fault"),
        opens("a", NoteDialog),
        type_into("seen, maintenance called"),
        key("enter", is_acked, "the acknowledgement"),
        both_recorded,
        key("7", fetched, "the server audit page"),
        quiet,
    )
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=scene(*steps))


# --- node detail (5, enter) -------------------------------------------------------------------------------------------


def test_node_detail(snap_compare, make_app) -> None:
    """Nodes, then enter on the first: where the node's data comes from, how old it is, its active alerts."""
    from console.screens.node_detail import NodeDetailScreen

    steps = (to_mode("5", "nodes"), opens("enter", NodeDetailScreen))
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=scene(*steps))


# --- the dialogs ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", BOTH)
def test_reroute_dialog(snap_compare, make_app, size: tuple[int, int]) -> None:
    """``r`` on a running machine: the server's candidates best first, and the restart warning for a running job.

    At 80x24 this pictures a known fault: the dialog does not fit and does not scroll, so the restart box is cut in
    half and the reason field and the buttons are off the bottom (``overflow-y: auto`` on the dialog's ``Vertical``
    would let it scroll to them). Update the picture when that is fixed.
    """
    from console.screens.reroute import RerouteDialog

    steps = (cursor_on("running"), opens("r", RerouteDialog))
    assert snap_compare(make_app(), terminal_size=size, run_before=scene(*steps))


def test_shelve_dialog(snap_compare, make_app) -> None:
    """``s`` on the top alert of the Alerts screen: for how long (1 hour chosen), and a note."""
    from console.screens.modals import ShelveDialog

    steps = (to_mode("3", "alerts"), opens("s", ShelveDialog), type_into("sensor swap at 10:00"))
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=scene(*steps))


def test_note_dialog(snap_compare, make_app) -> None:
    """``a`` on the top alert of the Alerts screen: the acknowledge dialog with its note."""
    from console.screens.modals import NoteDialog

    steps = (to_mode("3", "alerts"), opens("a", NoteDialog), type_into("seen, maintenance called"))
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=scene(*steps))


# --- READ-ONLY, FROZEN ------------------------------------------------------------------------------------------------


def test_read_only_dashboard(snap_compare, make_app) -> None:
    """``--read-only`` at 80x24: the READ-ONLY badge stays when the header drops what does not fit, and the footer
    offers no action keys (no p, c, n, r, x, a, s)."""
    assert snap_compare(make_app(read_only=True), terminal_size=SMALL, run_before=scene())


def test_frozen_dashboard(snap_compare, make_app) -> None:
    """``f``, then two minutes of the cluster: the FROZEN badge; the header follows the server (08:17), the grid and
    the panels stay as they were when frozen (the 08:15 dashboard)."""

    async def two_minutes_pass(pilot: Any) -> None:
        app = pilot.app
        assert "View frozen: data keeps flowing" in toast_texts(app)
        server = app.test_server
        server.advance(120)
        target = server.call(lambda: server.feed.seq)
        status = app.store.sources["cluster"]
        await wait_for(pilot, lambda: (status.seq or 0) >= target, what="the stream to catch up")
        app.clear_notifications()
        await quiet(pilot)

    steps = (key("f", lambda app: app.frozen, "the freeze"), two_minutes_pass)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=scene(*steps))


# --- alert flood ------------------------------------------------------------------------------------------------------


def test_alert_flood(snap_compare, make_app) -> None:
    """Fourteen alerts in nine minutes (compressed air lost at one node), on top of the cluster's own: the ALERT
    FLOOD banner on the Alerts screen."""

    async def flood(pilot: Any) -> None:
        store = pilot.app.store
        now = pilot.app.server_clock.now()
        node_id = sorted(store.nodes)[-1]
        machines = sorted(store.machines_by_node(node_id), key=lambda m: m.id)[:14]
        seq = store.sources["cluster"].seq
        priorities = ["critical", "high", "high", "medium"]
        for index, machine in enumerate(machines):
            raised = now - timedelta(seconds=40 * index)
            alert = Alert(
                id=f"A-9{index:04d}",
                priority=priorities[index % len(priorities)],
                state="active_unacked",
                source=SourceRef(kind="machine", id=machine.id),
                code="air_pressure_low",
                message=f"{machine.id}: compressed air pressure low (3.1 bar)",
                raised_at=raised,
                updated_at=raised,
            )
            store.apply_event("cluster", Event(seq + 1 + index, "alert.raised", alert))

    steps = (flood, to_mode("3", "alerts"), quiet)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=scene(*steps))
