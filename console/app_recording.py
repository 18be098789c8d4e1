"""The app's side of recording and replay: starting the recorder, and the replay's keys.

:class:`RecordingKeys` is mixed into ``FactoryConsoleApp`` (its methods need the running app: toasts, dialogs, the
loop). Recording starts when the app mounts, before the sources; if it cannot (or stops later: no space left, the
file gone), one toast says why and the console goes on without it.

The replay's keys are app-level bindings (:data:`REPLAY_BINDINGS`). They exist only while the session replays a
recording (``Session.playback``: the app's ``check_action`` hides them otherwise). Some share a key with a command
(``p`` pauses a machine, ``n`` drains a node, ``S`` unshelves): a replay is read-only, so those commands are absent
from every screen and the key falls through to the replay's binding. ``ctrl+a``, ``ctrl+d`` and ``ctrl+k`` stay free
(terminals and tmux take them).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType

from console.formatting import clock_s

if TYPE_CHECKING:
    from console.recording.playback import Playback

__all__ = ["REPLAY_ACTIONS", "REPLAY_BINDINGS", "RecordingKeys", "run_replay_key"]

REPLAY_BINDINGS: list[BindingType] = [
    Binding("p", "replay('play')", "Play/pause", id="replay.play"),
    Binding("plus", "replay('faster')", "Faster", key_display="+", id="replay.faster"),
    Binding("minus", "replay('slower')", "Slower", key_display="-", id="replay.slower"),
    Binding("left_square_bracket", "replay('back')", "Back 10s", key_display="[", id="replay.back"),
    Binding("right_square_bracket", "replay('forward')", "On 10s", key_display="]", id="replay.forward"),
    Binding("S", "replay('seek')", "Seek", id="replay.seek"),
    Binding("n", "replay('next')", "Next alert/change", id="replay.next"),
]
REPLAY_ACTIONS = frozenset({"replay"})


def run_replay_key(app: Any, playback: Playback, what: str) -> None:
    """Do what a replay key asks, and say so in a short toast where the header alone would not.

    A seek, a step or a jump to the next mark is drawn at once (``flush_changes``), not after the ``refresh_ms``
    the app waits live to gather a burst of events: it is one move the operator waits on, nothing else is coming
    (it was a third of the 300 ms a seek may take to its first correct frame)."""
    if what == "play":
        playback.toggle()
        if playback.at_end and not playback.playing:
            app.notify("End of the recording: seek back (S, [) to replay", timeout=3)
    elif what == "faster":
        playback.faster()
        app.notify(f"Replay at {playback.speed}x", timeout=1.5)
    elif what == "slower":
        playback.slower()
        app.notify(f"Replay at {playback.speed}x", timeout=1.5)
    elif what in ("back", "forward"):
        playback.step(-1 if what == "back" else 1)
        app.flush_changes()
    elif what == "seek":
        from console.screens.replay_seek import SeekDialog

        def chosen(when: Any) -> None:
            if when is not None:
                playback.seek(when)
                app.flush_changes()

        app.push_screen(SeekDialog(playback), chosen)
    elif what == "next":
        mark = playback.next_mark()
        app.flush_changes()
        if mark is None:
            app.notify("No alert or state change after this point", timeout=3)
        else:
            app.notify(f"{clock_s(playback.position)} {mark.label}", title="Replay", timeout=5)


class RecordingKeys:
    """The app's recording and replay methods (mixed into ``FactoryConsoleApp``)."""

    def start_recording(self: Any) -> None:
        """Start recording as the settings say; a problem is one toast, now or whenever recording stops."""
        loop = asyncio.get_running_loop()

        def stopped_later(message: str) -> None:  # from the writer thread
            loop.call_soon_threadsafe(self.recording_stopped, message)

        problem = self.session.start_recording(stopped_later)
        if problem:
            self.recording_stopped(problem)

    def recording_stopped(self: Any, message: str) -> None:
        self.notify(message, title="Recording", severity="warning", timeout=10)

    def action_replay(self: Any, what: str) -> None:
        playback = self.session.playback
        if playback is not None:
            run_replay_key(self, playback, what)
