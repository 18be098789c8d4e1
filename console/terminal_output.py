"""The file Textual's writer thread writes to under the terminal guard: it never raises and never waits for ever.

Split out of ``console.terminal_guard`` because it is the writer thread's side of the guard: the guard decides when
the console ends, this file turns a dead terminal (``EIO``, ``EPIPE``, ``EBADF``...) into "terminal gone" for the
guard and discards output from then on. ``console.terminal_driver.GuardedLinuxDriver`` wraps its file in it. No
Textual here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.terminal_guard import TerminalGuard

__all__ = ["GuardedOutput"]

_GONE_ERRNOS = frozenset({errno.EIO, errno.EPIPE, errno.EBADF, errno.ENXIO, errno.ENODEV})


class GuardedOutput:
    """The file the writer thread writes to: straight to the fd with ``os.write``, never raising.

    ``EIO``, ``EPIPE`` and the like mean the terminal is gone: the guard is told and output is discarded from then
    on, so the writer thread stays alive and keeps emptying its queue. It bypasses ``sys.__stderr__``'s buffer and
    lock: a writer blocked on a stalled terminal does not hold the lock every other write to stderr needs.
    """

    def __init__(self, file: IO[str], guard: TerminalGuard) -> None:
        self._file = file
        self._guard = guard
        self._fd = file.fileno()
        self._encoding = getattr(file, "encoding", None) or "utf-8"
        self._pending: list[bytes] = []
        self._size = 0
        with contextlib.suppress(Exception):
            file.flush()  # whatever was printed before the app started goes first

    def write(self, text: str) -> int:
        if self._guard.discarding:
            return len(text)
        data = text.encode(self._encoding, "replace")
        self._pending.append(data)
        self._size += len(data)
        if self._size >= 64 * 1024:
            self.flush()
        return len(text)

    def flush(self) -> None:
        data = b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        view = memoryview(data)
        while view and not self._guard.discarding:
            try:
                view = view[os.write(self._fd, view) :]
            except BlockingIOError:  # someone made the shared fd non-blocking: wait for room, or for the exit
                with contextlib.suppress(OSError, ValueError):
                    select.select([], [self._fd], [], 0.1)
            except OSError as error:
                if error.errno in _GONE_ERRNOS:
                    self._guard.terminal_lost(f"the terminal is gone ({errno.errorcode.get(error.errno, error)})")
                return
            except ValueError:
                self._guard.terminal_lost("the terminal's file is closed")
                return

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)
