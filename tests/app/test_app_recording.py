"""The console records what it receives from the real simulator, and a recording it cannot make is one toast while
the console goes on live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console.recording.format import EVENTS, SNAPSHOT, STATE
from console.recording.reader import RecordingReader
from console.recording.ring import RecordingSpec
from tests.app.conftest import settle, wait_for, wait_ready


async def test_a_live_run_is_recorded_and_reads_back(make_app: Any, tmp_path: Path) -> None:
    app = make_app()
    app.settings.recording = RecordingSpec(file=tmp_path / "run.sqlite")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        assert app.session.recorder is not None
        for _ in range(3):
            app.test_server.advance(60)
            await settle(pilot)
        seq = app.store.sources["cluster"].seq
        await pilot.press("q")
    reader = RecordingReader(tmp_path / "run.sqlite")
    records = []
    for row in reader.checkpoints:
        segment = reader.open_segment(row)
        while (batch := segment.next_batch()) is not None:
            records += batch
    kinds = [r.kind for r in records if r.source_id == "cluster"]
    assert STATE in kinds and SNAPSHOT in kinds and EVENTS in kinds
    last = max(e.seq for r in records if r.kind == EVENTS for e in r.payload)
    assert last == seq, "every event the console took is in the file, up to the last one"


async def test_a_recording_it_cannot_make_is_one_toast_and_the_console_goes_on(make_app: Any, tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    app = make_app()
    app.settings.recording = RecordingSpec(file=tmp_path / "blocked" / "run.sqlite")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_ready(pilot)
        toasts = [str(n.message) for n in app._notifications]
        assert any(
            t.startswith("cannot record to ") and t.endswith("the console goes on without recording") for t in toasts
        )
        app.test_server.advance(30)
        before = app.store.sources["cluster"].seq
        app.test_server.advance(30)
        await wait_for(pilot, lambda: (app.store.sources["cluster"].seq or 0) > (before or 0), what="events")
        assert app.store.sources["cluster"].state == "live"
