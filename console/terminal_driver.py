"""Textual's Linux driver, made unable to wait for ever on the terminal (issue 10; see ``console.terminal_guard``).

Its own module so that ``console.terminal_guard`` imports no Textual: ``console.launch`` installs the guard first
thing, before the heavy imports, so a terminal that dies while the console starts ends it at once too.
"""

from __future__ import annotations

import contextlib
import queue
import time
from typing import TYPE_CHECKING, Any

from textual.drivers.linux_driver import LinuxDriver

from console.terminal_guard import CLOSE_TIMEOUT_S, EXIT_PUT_TIMEOUT_S, PUT_SLICE_S, guard_for
from console.terminal_input import apply_escape_delay_default, run_input_loop
from console.terminal_output import GuardedOutput

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["GuardedLinuxDriver"]


class GuardedLinuxDriver(LinuxDriver):
    """Textual's Linux driver whose writes and close never wait for ever (see ``console.terminal_guard``)."""

    def __init__(self, app: App[Any], **options: Any) -> None:
        super().__init__(app, **options)
        apply_escape_delay_default()  # a real terminal's escape: 50 ms unless ESCDELAY says (console.terminal_input)
        self._guard = guard_for(app)
        self._guard.driver = self
        if self._file is not None:
            self._file = GuardedOutput(self._file, self._guard)  # type: ignore[assignment]

    def run_input_thread(self) -> None:
        """Textual's input loop, reporting a lone escape when ``ESCDELAY`` is up (``console.terminal_input``)."""
        run_input_loop(self)

    def write(self, data: str) -> None:
        guard = self._guard
        if guard.discarding:
            return
        writer = self._writer_thread
        assert writer is not None, "Driver must be in application mode"
        pending = getattr(writer, "_queue", None)
        if not isinstance(pending, queue.Queue):  # not the Textual this was written against: its own way
            writer.write(data)
            return
        waited = 0.0
        while True:
            try:
                pending.put(data, timeout=PUT_SLICE_S)
                return
            except queue.Full:
                waited += PUT_SLICE_S
                if guard.discarding or not writer.is_alive():
                    return
                if guard.exiting and waited >= EXIT_PUT_TIMEOUT_S:
                    guard.output_stalled = True  # the terminal takes nothing: leave without the rest
                    return

    def close(self) -> None:
        writer = self._writer_thread
        if writer is None:
            return
        pending = getattr(writer, "_queue", None)
        if not isinstance(pending, queue.Queue):
            super().close()
            return
        deadline = time.monotonic() + (0.2 if self._guard.discarding else CLOSE_TIMEOUT_S)
        while writer.is_alive():
            try:
                pending.put(None, timeout=PUT_SLICE_S)
                break
            except queue.Full:
                if time.monotonic() >= deadline or self._guard.discarding:
                    self._guard.output_stalled = True
                    self._guard.drain_writer()
                    with contextlib.suppress(queue.Full):
                        pending.put_nowait(None)
                    break
        writer.join(max(0.0, deadline - time.monotonic()))
