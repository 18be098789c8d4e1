"""The app's side of recording: starting the recorder when the app mounts.

:class:`RecordingKeys` is mixed into ``FactoryConsoleApp`` (its methods need the running app: toasts, the loop).
Recording starts when the app mounts, before the sources; if it cannot (or stops later: no space left, the file
gone), one toast says why and the console goes on without it.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["RecordingKeys"]


class RecordingKeys:
    """The app's recording methods (mixed into ``FactoryConsoleApp``)."""

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
