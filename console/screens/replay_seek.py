"""The replay's seek dialog (``S``): a time to go to, typed as ``HH:MM[:SS]`` or an offset such as ``-15m``.

It only reads the text (:func:`console.recording.playback.parse_seek`); what it gives back is the time, and the app
asks the replay to go there. A text that is no time says what is expected and the dialog stays open.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from console.formatting import clock_s
from console.key_routing import focus_now
from console.recording.playback import HINT, Playback, SeekError, parse_seek

__all__ = ["SeekDialog"]


class SeekDialog(ModalScreen[datetime | None]):
    """Ask where to go in the recording; dismissed with the time, or ``None`` (escape)."""

    DEFAULT_CSS = """
    SeekDialog { align: center middle; }
    SeekDialog > Vertical {
        width: 64; max-width: 96%; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SeekDialog .title { text-style: bold; width: 1fr; }
    SeekDialog .hint { color: $text-muted; width: 1fr; height: auto; }
    SeekDialog .error { color: $error; width: 1fr; height: auto; }
    SeekDialog Input { margin: 1 0 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="seek.cancel"),
    ]

    def __init__(self, playback: Playback) -> None:
        super().__init__()
        self.playback = playback

    def compose(self) -> ComposeResult:
        playback = self.playback
        span = f"recorded from {clock_s(playback.start)} to {clock_s(playback.end)} UTC"
        with Vertical():
            yield Label(Content(f"Go to a time (now {clock_s(playback.position)} UTC)"), classes="title")
            yield Label(Content(f"{HINT}; {span}"), classes="hint")
            yield Input(placeholder="e.g. 14:05 or -15m", id="when")
            yield Label("", classes="error", id="seek-error")

    def on_mount(self) -> None:
        focus_now(self.query_one("#when", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        playback = self.playback
        try:
            when = parse_seek(event.value, playback.position, playback.start, playback.end)
        except SeekError as error:
            self.query_one("#seek-error", Label).update(Content(str(error)))
            return
        self.dismiss(when)

    def action_cancel(self) -> None:
        self.dismiss(None)
