"""What the terminal guard asks of the tty itself: is it hung up, and, when the process must end without a clean
exit, put it back as it was.

Split out of ``console.terminal_guard`` so the guard reads as the decisions (when to exit, how long to wait) and this
module as the system calls behind them: a ``poll`` for ``POLLHUP`` without waiting, and the watchdog's best-effort,
never-blocking restore (terminal modes, the alternate screen, one line saying why). No Textual here either:
``console.launch`` imports the guard before the heavy imports.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.terminal_driver import GuardedLinuxDriver

__all__ = ["RESET_SEQUENCE", "fileno_of", "restore_terminal", "tty_hung_up"]

RESET_SEQUENCE = (
    "\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l\x1b[?2004l\x1b[?7h"
)
"""What ``LinuxDriver.stop_application_mode`` writes, for the watchdog's best-effort restore of a live terminal."""


def tty_hung_up(fd: int | None) -> bool:
    """Whether the kernel says this terminal is gone (``POLLHUP``/``POLLERR`` without waiting)."""
    if fd is None:
        return False
    poller = select.poll()
    try:
        poller.register(fd, 0)  # with no events asked for, only POLLHUP, POLLERR and POLLNVAL are reported
        return any(event & (select.POLLHUP | select.POLLERR) for _fd, event in poller.poll(0))
    except (OSError, ValueError):
        return True


def fileno_of(stream: Any) -> int | None:
    """A stream's file descriptor, or ``None`` when it has none (closed, replaced, not a file)."""
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


def restore_terminal(driver: GuardedLinuxDriver | None, fd: int | None, reason: str) -> None:
    """Best effort, never blocking: terminal modes back, the alternate screen left, one line saying why."""
    attrs = getattr(driver, "attrs_before", None)
    if fd is not None and attrs is not None:
        with contextlib.suppress(termios.error, OSError, ValueError):
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
    out = fileno_of(sys.__stderr__)
    if out is None or not os.isatty(out):
        return
    reset = RESET_SEQUENCE if driver is not None else ""  # before the driver started there is nothing to undo
    message = f"{reset}\r\nfactory-console: {reason}: stopped without a clean exit\r\n"
    with contextlib.suppress(OSError):
        # A new open file description of the same tty, non-blocking: a stalled terminal gets nothing (EAGAIN)
        # instead of hanging us; the shared description's flags are not touched.
        nb = os.open(f"/proc/self/fd/{out}", os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            os.write(nb, message.encode("utf-8", "replace"))
        finally:
            os.close(nb)
