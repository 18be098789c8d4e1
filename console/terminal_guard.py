"""A dropped terminal, SIGHUP or SIGTERM always ends the console within seconds (issue 10).

Why this exists: Textual's ``LinuxDriver`` sends every write through a thread (``WriterThread``) and a queue of 30
writes; ``LinuxDriver.write`` and ``WriterThread.stop`` call ``Queue.put`` without a timeout. When the terminal goes
away (tmux kills the session, sshd closes the pty) the writer's ``write``/``flush`` raises ``EIO`` and the thread
dies; when the terminal stops reading (a stalled SSH link) the writer blocks in ``os.write``. Either way the next 30
frames fill the queue and the main thread blocks for ever in ``Queue.put``, in a repaint or in ``LinuxDriver.close``
on the way out. ``loop.add_signal_handler`` only writes a byte to the loop's wakeup fd, and the loop, stuck in
``put``, never reads it: SIGHUP and SIGTERM were ignored, and only SIGKILL ended the process.

What the guard does:

* ``console.terminal_driver.GuardedLinuxDriver`` (the app's ``driver_class``): the writer thread writes through
  ``console.terminal_output.GuardedOutput``, which turns ``EIO``/``EPIPE``/``EBADF`` into "terminal gone" and
  discards everything after it, so the thread never dies; the driver's ``write`` waits in slices and gives up once
  the terminal is gone or the exit has stalled, and ``close`` waits a bounded time.
* A monitor thread polls the tty for ``POLLHUP``, the kernel's word that the terminal is gone (reads then return
  EOF), so a hangup ends the console even when no SIGHUP reaches it.
* SIGHUP and SIGTERM handlers installed with ``signal.signal``: Python runs them in the main thread even while it
  waits on a lock or the loop is busy. They only set flags and write a byte to a pipe (no lock, so they cannot
  deadlock with the code they interrupt); the guard's own thread wakes, asks the app to exit through
  ``loop.call_soon_threadsafe`` and arms the watchdog.
* The watchdog: once the exit has begun, the guard's thread waits ``grace_s`` (3 s) and then ends the process with
  ``os._exit``, after letting an audit-log write in progress finish (the log writes each record with ``os.write``, so
  everything written is in the file). Before the app is up (``console.launch`` installs the guard first thing) there
  is nothing to shut down cleanly and starting takes seconds, so it ends the process at once. The tty's own calls
  (the hangup poll, the last-resort restore of a live terminal) are in ``console.terminal_tty``.
* :meth:`TerminalGuard.finish`: when ``app.run()`` returns from such an exit, stop the embedded demo (its port is
  released), wait for the audit log and ``os._exit``: interpreter shutdown would flush stdio to a dead or stalled
  terminal, and by then the watchdog, a daemon thread, can no longer run.

Exit status after a signal or a hangup: 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP or a hangup
seen on the tty).
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.terminal_tty import fileno_of, restore_terminal, tty_hung_up

if TYPE_CHECKING:
    from textual.app import App

    from console.terminal_driver import GuardedLinuxDriver

__all__ = ["GRACE_S", "TerminalGuard", "guard_app", "guard_for", "release_guard"]

GRACE_S = 3.0
"""From the signal (or hangup) to ``os._exit`` at the latest: the clean exit usually takes well under a second."""
PUT_SLICE_S = 0.25
"""The driver's ``Queue.put`` waits in slices this long, looking between them whether to give up."""
EXIT_PUT_TIMEOUT_S = 0.5
"""Once the exit has begun, a write waits at most this long for room in the queue; then output is dropped."""
CLOSE_TIMEOUT_S = 2.0
"""How long ``close`` waits for the writer thread to write what is queued (a slow but live terminal)."""
AUDIT_LOCK_TIMEOUT_S = 1.0
"""How long the final exit waits for an audit-log write in progress."""

_GUARD_ATTR = "_factory_console_terminal_guard"
SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class TerminalGuard:
    """Ends the process within :data:`GRACE_S` of SIGHUP, SIGTERM or a dead terminal; see the module's docstring.

    One per app (:func:`guard_for`). ``audit_log``: anything with a ``_lock`` (``console.audit_log.AuditLog``), waited
    for before the process ends. ``cleanups``: called by :meth:`finish` (the embedded demo's ``stop``).
    """

    def __init__(self, *, grace_s: float = GRACE_S, audit_log: Any = None) -> None:
        self.grace_s = grace_s
        self.audit_log = audit_log
        self.cleanups: list[Callable[[], object]] = []
        self.terminal_gone = False
        """The terminal is gone (hangup, EIO): output is discarded from now on."""
        self.output_stalled = False
        """The exit has begun and the terminal takes no more output: it is dropped from now on."""
        self.exit_code: int | None = None
        """Set when the exit has begun (by a signal or a hangup); ``None`` while the console runs normally."""
        self.reason = ""
        self.exit_started: float | None = None
        self.driver: GuardedLinuxDriver | None = None
        self.owned_by_app = False
        """Made by :func:`guard_app` (no launch set it up): :func:`release_guard` closes it with the app."""
        self._app: App[Any] | None = None
        self._loop: Any = None
        self._exit_requested = False
        self._lock = threading.Lock()  # never taken in a signal handler
        self._previous: dict[int, Any] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="factory-console-terminal-guard", daemon=True)
        self._thread.start()
        self._input_fd = fileno_of(sys.__stdin__)
        self._monitor: threading.Thread | None = None

    # --- setting up -----------------------------------------------------------------------------------------

    def attach(self, app: App[Any]) -> None:
        """Guard ``app``: its terminal driver becomes :class:`GuardedLinuxDriver` (when it would be Textual's Linux
        driver), and a signal or hangup asks it to exit. Call before ``app.run()``."""
        setattr(app, _GUARD_ATTR, self)
        self._app = app
        if self.audit_log is None:
            self.audit_log = getattr(app, "audit_log", None)
        from textual.drivers.linux_driver import LinuxDriver

        if app.driver_class is LinuxDriver:
            from console.terminal_driver import GuardedLinuxDriver

            app.driver_class = GuardedLinuxDriver

    def install_signal_handlers(self) -> bool:
        """SIGHUP and SIGTERM go to the guard (main thread only; elsewhere returns False). Idempotent."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in SIGNALS:
            current = signal.getsignal(sig)
            if current == self._on_signal:
                continue
            try:
                self._previous[sig] = signal.signal(sig, self._on_signal)
            except (ValueError, OSError):
                return False
        return True

    def watch_terminal(self) -> None:
        """Start the thread that notices a hangup of the tty (``POLLHUP``) even when no SIGHUP arrives."""
        fd = self._input_fd
        if self._monitor is not None or fd is None or not os.isatty(fd):
            return
        self._monitor = threading.Thread(
            target=self._watch, args=(fd,), name="factory-console-hangup-monitor", daemon=True
        )
        self._monitor.start()

    def app_mounted(self, app: App[Any], loop: Any) -> None:
        """The app runs in ``loop`` now (called from its ``on_mount``): an exit asked for before goes to it now."""
        with self._lock:
            self._app = app
            self._loop = loop
            pending = self.exit_code is not None and not self._exit_requested
        if pending:
            self._request_app_exit()

    def close(self) -> None:
        """The console ended normally: put the old signal handlers back and stop the guard's threads."""
        if self._closed:
            return
        self._closed = True
        if threading.current_thread() is threading.main_thread():
            for sig, previous in self._previous.items():
                with contextlib.suppress(ValueError, OSError, TypeError):
                    signal.signal(sig, previous)
        self._previous.clear()
        self._wake()

    # --- the exit begins --------------------------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: Any) -> None:
        """SIGHUP/SIGTERM, in the main thread. Sets flags and writes one byte: nothing here takes a lock."""
        if signum == signal.SIGHUP and tty_hung_up(self._input_fd):
            self.terminal_gone = True
        self.begin_exit(128 + signum, signal.Signals(signum).name)

    def terminal_lost(self, reason: str) -> None:
        """The terminal is gone (any thread, lock-free): drop all output and end the console."""
        self.terminal_gone = True
        self.begin_exit(128 + signal.SIGHUP, reason)

    def begin_exit(self, code: int, reason: str) -> None:
        """Start the exit (any thread, signal handlers included; lock-free): the guard's thread asks the app to quit
        and ends the process after :attr:`grace_s` if it has not ended by then. Later calls change nothing."""
        if self.exit_code is None:
            self.reason = reason
            self.exit_started = time.monotonic()
            self.exit_code = code
        self._wake()

    @property
    def exiting(self) -> bool:
        return self.exit_code is not None

    @property
    def discarding(self) -> bool:
        """Output is thrown away: the terminal is gone, or it takes nothing more while we exit."""
        return self.terminal_gone or self.output_stalled

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe is already awake; a closed one has nobody to wake
            os.write(self._wake_w, b"!")

    # --- the guard's threads ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while self.exit_code is None:
            try:
                os.read(self._wake_r, 64)
            except OSError:
                return
            if self._closed and self.exit_code is None:
                return
        if self._loop is None:  # the app is not up yet: nothing to shut down cleanly, and starting up takes long
            self._hard_exit(forced=True)
        if self.terminal_gone:
            self.drain_writer()
        self._request_app_exit()
        assert self.exit_started is not None
        deadline = self.exit_started + self.grace_s
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
            if self.terminal_gone:
                self.drain_writer()
        self._hard_exit(forced=True)

    def _watch(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, 0)
        while not self._closed and not self.terminal_gone:
            try:
                events = poller.poll(500)
            except OSError:
                return
            for _fd, event in events:
                if event & (select.POLLHUP | select.POLLERR):
                    self.terminal_lost("the terminal hung up")
                    return
                if event & select.POLLNVAL:  # the fd was closed under us: nothing left to watch
                    return

    def _request_app_exit(self) -> None:
        with self._lock:
            loop, app = self._loop, self._app
            if loop is None or app is None or self._exit_requested:
                return
            self._exit_requested = True
        code = self.exit_code if self.exit_code is not None else 1
        with contextlib.suppress(RuntimeError):  # the loop has already closed: app.run() is returning anyway
            loop.call_soon_threadsafe(lambda: app.exit(return_code=code))

    def drain_writer(self) -> None:
        """Empty the writer thread's queue, so nothing waits for room in it (the terminal is gone)."""
        driver = self.driver
        writer = getattr(driver, "_writer_thread", None) if driver is not None else None
        pending = getattr(writer, "_queue", None)
        if not isinstance(pending, queue.Queue):
            return
        with contextlib.suppress(queue.Empty):
            while True:
                if pending.get_nowait() is None:  # the stop marker: keep it, the writer must still end
                    with contextlib.suppress(queue.Full):
                        pending.put_nowait(None)
                    return

    # --- the end ----------------------------------------------------------------------------------------------

    def finish(self) -> None:
        """After ``app.run()`` returned: when a signal or a hangup ended it, run the cleanups (the watchdog still
        bounds them), wait for the audit log and end the process now. Returns only when the console ended normally."""
        if self.exit_code is None:
            self.close()
            return
        for cleanup in self.cleanups:
            with contextlib.suppress(Exception):
                cleanup()
        self._hard_exit(forced=False)

    def _hard_exit(self, *, forced: bool) -> None:
        lock = getattr(self.audit_log, "_lock", None)
        if lock is not None:
            with contextlib.suppress(Exception):
                lock.acquire(timeout=AUDIT_LOCK_TIMEOUT_S)  # kept: no write starts after this
        if forced and not self.terminal_gone:
            restore_terminal(self.driver, self._input_fd, self.reason)
        os._exit(self.exit_code if self.exit_code is not None else 1)


def guard_for(app: App[Any]) -> TerminalGuard:
    """The app's guard (made and attached when it has none)."""
    guard = getattr(app, _GUARD_ATTR, None)
    if isinstance(guard, TerminalGuard):
        return guard
    guard = TerminalGuard(audit_log=getattr(app, "audit_log", None))
    guard.attach(app)
    return guard


def guard_app(app: App[Any], loop: Any) -> TerminalGuard:
    """From the app's ``on_mount`` (main thread, in ``loop``): the signal handlers, the hangup monitor, and the loop
    an exit request goes to. ``console.launch`` has usually done the first two before ``app.run()``; when it has not
    (the app run some other way), the guard is the app's own and :func:`release_guard` puts the handlers back."""
    owned = not isinstance(getattr(app, _GUARD_ATTR, None), TerminalGuard)
    guard = guard_for(app)
    guard.owned_by_app = guard.owned_by_app or owned
    guard.install_signal_handlers()
    guard.watch_terminal()
    guard.app_mounted(app, loop)
    return guard


def release_guard(app: App[Any]) -> None:
    """From the app's ``on_unmount``: a guard the app made for itself ends with it (the old signal handlers come
    back). An exit already under way stays guarded: its watchdog still ends the process in time."""
    guard = getattr(app, _GUARD_ATTR, None)
    if isinstance(guard, TerminalGuard) and guard.owned_by_app:
        guard.close()
