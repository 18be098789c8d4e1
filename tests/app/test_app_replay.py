"""Record a short run of the console against the real simulator, then replay it: the same console, read-only, with
the REPLAY badge; seeking shows what the live console showed at that moment, with the server clock (every "ago") at
the replayed time; the replay's keys are in the footer and the command keys are not. And the replay header, pictured.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from textual.widgets import Input

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.demo.sim import SimConfig
from console.recording.recorder import Recorder
from console.recording.ring import RecordingSpec
from console.screens.header import StatusHeader
from console.screens.replay_seek import SeekDialog
from console.server_clock import ServerClock
from console.settings import Settings, SourceSpec
from console.store.store import Store
from tests.app.conftest import settle, wait_for, wait_ready
from tests.recording.sim_feed import SimFeed, connect, run, state_of


def replay_app(path: Path, tmp_path: Path) -> FactoryConsoleApp:
    settings = Settings(
        sources=[SourceSpec("replay", "replay", str(path))],
        read_only=True,
        save_theme=False,
        refresh_ms=30,
        panel_interval_s=0.0,
    )
    return FactoryConsoleApp(settings, audit_log=AuditLog(tmp_path / "audit.jsonl"), install_signal_handlers=False)


def header_text(app: Any) -> str:
    app.screen.update_status()
    text: str = app.screen.query_one(StatusHeader)._last.plain
    return text


def visible_text(app: Any) -> str:
    """Every line the terminal shows (the dialog over the screen)."""
    lines: list[str] = [strip.text for strip in app.screen._compositor.render_strips()]
    return "\n".join(lines)


def shown_words(app: Any) -> str:
    """The words on the terminal, one space apart (a wrapped line reads on; the dialog's border left out)."""
    return " ".join(visible_text(app).replace("█", " ").split())


def footer_actions(app: Any) -> set[str]:
    return {a.binding.description for a in app.screen.active_bindings.values() if a.binding.show}


async def test_a_recorded_run_replays_and_a_seek_shows_what_was_shown_then(make_app: Any, tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    app = make_app()
    app.session.server_clock = ServerClock()  # moves on its own between server times: records are apart in time
    app.settings.recording = RecordingSpec(file=path)
    moments: list[tuple[Any, dict[str, Any]]] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        for _ in range(4):
            app.test_server.advance(45)
            await settle(pilot)
            moments.append((app.server_clock.now(), state_of(app.store)))
        await pilot.press("q")

    replay = replay_app(path, tmp_path)
    async with replay.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_for(pilot, lambda: bool(replay.store.machines), what="the replay to show the cluster")
        playback = replay.session.playback
        assert playback is not None and playback.playing and playback.speed == 1
        assert "REPLAY " + playback.position.strftime("%H:%M:%S") + " ▶ 1x" in header_text(replay)
        assert "READ-ONLY" not in header_text(replay), "REPLAY says it"
        await pilot.press("p")
        assert not playback.playing
        assert "Play/pause" in footer_actions(replay) and "Pause/Resume" not in footer_actions(replay)
        assert not replay.can("machine.pause"), "a replay sends nothing"

        when, shown = moments[1]
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(replay.screen, SeekDialog), what="the seek dialog")
        replay.screen.query_one(Input).value = when.isoformat()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(replay.screen, SeekDialog), what="the dialog to close")
        assert playback.position == when
        assert replay.server_clock.now() == when, "every age is measured at the replayed time"
        assert state_of(replay.store) == shown
        await settle(pilot)
        assert "REPLAY " + when.strftime("%H:%M:%S") + " ‖ paused" in header_text(replay)

        await pilot.press("left_square_bracket")
        assert (when - playback.position).total_seconds() == 10
        await pilot.press("right_square_bracket")
        assert playback.position == when and state_of(replay.store) == shown

        later, shown_later = moments[3]
        playback.seek(later)
        assert state_of(replay.store) == shown_later
        playback.seek(when)  # back: rebuilt from the checkpoint before it
        assert state_of(replay.store) == shown

        before = len(replay._notifications)
        await pilot.press("n")
        await wait_for(pilot, lambda: len(replay._notifications) > before, what="the next moment's toast")
        assert playback.position > when or str(list(replay._notifications)[-1].message).startswith("No alert")


# --- the replay header, pictured --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated_recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Ten minutes of the demo's 120-machine cluster, recorded on the simulation's own clock (the same every run)."""
    path = tmp_path_factory.mktemp("replay-picture") / "demo.sqlite"
    feed = SimFeed(SimConfig(seed=7))
    store = Store()
    recorder = Recorder(RecordingSpec(file=path), store, feed.now, monotonic=lambda: 0.0, wall=lambda: 0.0)
    recorder.start()
    connect(store, feed)
    run(store, feed, 600, step=5.0)
    recorder.stop()
    yield path


def test_replay_header(snap_compare: Any, simulated_recording: Path, tmp_path: Path) -> None:
    app = replay_app(simulated_recording, tmp_path)

    async def run_before(pilot: Any) -> None:
        app.animation_level = "none"
        await wait_for(pilot, lambda: bool(app.store.machines), what="the replay to show the cluster")
        playback: Any = app.session.playback  # the replay's (play, seek, faster: more than Session's Protocol)
        playback.play(False)
        playback.seek(playback.start.replace(minute=5, second=30))
        playback.faster()
        await settle(pilot)
        now = time.monotonic()
        for status in app.store.sources.values():  # the header's rate: what it reads two seconds later, now
            status.last_event_monotonic = now - 10
            status._bucket, status._last_rate, status._bucket_count = int(now - 10), 0, 0
        cast(Any, app.screen).update_status()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_seek_dialog_picture(snap_compare: Any, simulated_recording: Path, tmp_path: Path) -> None:
    """The seek dialog as an operator sees it: the recorded span, what may be typed, and a refusal in words."""
    app = replay_app(simulated_recording, tmp_path)

    async def run_before(pilot: Any) -> None:
        app.animation_level = "none"
        await wait_for(pilot, lambda: bool(app.store.machines), what="the replay to show the cluster")
        playback: Any = app.session.playback
        playback.play(False)
        playback.seek(playback.start.replace(minute=5, second=30))
        await settle(pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SeekDialog), what="the seek dialog")
        app.screen.query_one(Input).value = "half past"
        await pilot.press("enter")  # refused: not a time
        await pilot.pause()
        now = time.monotonic()
        for status in app.store.sources.values():  # the header's rate: what it reads two seconds later, now
            status.last_event_monotonic = now - 10
            status._bucket, status._last_rate, status._bucket_count = int(now - 10), 0, 0
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


# --- the seek dialog says what can be reached ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_seek_dialog_shows_the_recorded_span_and_why_a_text_is_no_time(
    simulated_recording: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    # The hint and the error were one-line labels as wide as their text in a 64-column box: at any terminal size
    # the recorded span ("recorded from ... to ...", what an operator needs to pick a time) was cut off unseen.
    app = replay_app(simulated_recording, tmp_path)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: bool(app.store.machines), what="the replay to show the cluster")
        playback: Any = app.session.playback  # the replay's (play, seek, faster: more than Session's Protocol)
        playback.play(False)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SeekDialog), what="the seek dialog")
        await settle(pilot)
        span = f"recorded from {playback.start:%H:%M:%S} to {playback.end:%H:%M:%S} UTC"
        assert span in shown_words(app)
        app.screen.query_one(Input).value = "xyz"
        await pilot.press("enter")
        await settle(pilot)
        shown = shown_words(app)
        assert "not a time: 'xyz'" in shown and shown.count("+1h30m, -90s") == 2, "the hint and the error, whole"
        assert isinstance(app.screen, SeekDialog), "the dialog stays open"


# --- a move is drawn at once ---------------------------------------------------------------------------------------


async def test_a_seek_a_step_and_next_are_drawn_at_once_not_after_the_refresh_wait(
    simulated_recording: Path, tmp_path: Path
) -> None:
    # Live, the app gathers a burst of events for refresh_ms before it repaints. A seek, a step or a jump is one
    # move the operator waits on: it waited the same refresh_ms (100 ms of the 300 ms a seek may take to its first
    # correct frame) for nothing else to come.
    app = replay_app(simulated_recording, tmp_path)
    app.settings.refresh_ms = 60_000
    flushes: list[str] = []
    flush = app.flush_changes

    def counted() -> None:
        flushes.append(app.screen.__class__.__name__)
        flush()

    app.flush_changes = counted  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: bool(app.store.machines), what="the replay to show the cluster")
        playback: Any = app.session.playback
        playback.play(False)
        flushes.clear()
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SeekDialog), what="the seek dialog")
        app.screen.query_one(Input).value = (playback.start.replace(minute=5)).strftime("%H:%M:%S")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(flushes), timeout=5, what="the seek drawn")
        assert flushes == ["DashboardScreen"], "drawn on the screen under the dialog, once"
        for key in ("left_square_bracket", "right_square_bracket", "n"):
            flushes.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda: bool(flushes), timeout=5, what=f"{key} drawn")
