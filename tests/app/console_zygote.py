"""A zygote for the terminal-drop tries: one process imports the console once, then forks a console per try.

Why: ``test_terminal_drop`` starts the real console 36 times; each start spent about 0.6 s of CPU importing Textual,
FastAPI, uvicorn and the console before running a line of it, a tenth of the whole suite's CPU on a 2-core machine.
A fork of a process that has imported them starts where ``python -m console`` would be after its imports; from there
each child runs exactly what ``console.cli.main`` runs (the guard, the demo, the app) on its own pty, in a session of
its own, with its own environment and working directory, as the exec'd child did.

Run as ``python -m tests.app.console_zygote``; it reads one JSON request a line on stdin and writes one JSON line a
reply on stdout: ``{"pid": N}`` once a child holds its terminal, ``{"exit": N, "status": S}`` when a child ends (the
zygote reaps its children, so only it can ``waitpid`` them). :class:`Zygote` is the test's side.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


# --- the zygote's side -----------------------------------------------------------------------------------------


def _preload() -> None:
    """Everything ``python -m console --demo`` imports (and builds once a process) on its way to the first frame."""
    import textual.app  # noqa: F401
    import uvicorn  # noqa: F401

    import console.app
    import console.cli
    import console.demo.embedded
    import console.demo.server
    import console.launch
    import console.terminal_driver
    import console.terminal_guard  # noqa: F401
    from console.demo.server import _shared_api
    from console.sources.registry import ENTRY_POINT_GROUP, _installed_entry_points

    # Built once a process by the console too (on its way to the first frame); each fork would otherwise build them
    # again: the demo's FastAPI routes (~40 ms of CPU) and the read of the installed plugins (~15 ms).
    _shared_api("cluster API")
    _installed_entry_points(ENTRY_POINT_GROUP)


def _reply(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())  # one write under PIPE_BUF: replies never interleave


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            time.sleep(0.02)
            continue
        _reply({"exit": pid, "status": status})


def _child(request: dict[str, Any], ready_w: int) -> None:
    """In the forked child: take the pty as ``_spawn`` did before exec, then run the console as ``cli.main``."""
    os.setsid()
    fd = os.open(request["tty"], os.O_RDWR | os.O_NOCTTY)
    if request["controlling"]:
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    os.write(ready_w, b"k")
    os.closerange(3, 4096)
    os.chdir(request["home"])
    os.environ.clear()
    os.environ.update(request["env"])
    import faulthandler

    faulthandler.register(signal.SIGUSR2, file=open(request["stacks"], "w"), all_threads=True)  # noqa: SIM115
    from console.cli import main

    sys.exit(main(request["argv"]))


def serve() -> None:
    _preload()
    threading.Thread(target=_reap, daemon=True).start()
    _reply({"ready": True})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            try:
                _child(request, ready_w)
            except SystemExit:
                raise  # the console's exit: out of this loop and the interpreter ends as `python -m console` does
            except BaseException:
                import traceback

                traceback.print_exc()
            os._exit(127)  # never go on with the zygote's loop in a child
        os.close(ready_w)
        os.read(ready_r, 1)  # the child holds the pty: the test may close its own end of it
        os.close(ready_r)
        _reply({"pid": pid})


# --- the test's side -------------------------------------------------------------------------------------------


class Zygote:
    """Starts the zygote and forks consoles from it; thread-safe (the tries run a few at a time)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.app.console_zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        self._lock = threading.Lock()
        self._pids: queue.Queue[int] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60):
            raise RuntimeError("the console zygote did not start")

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            if "ready" in message:
                self._ready.set()
            elif "pid" in message:
                self._pids.put(message["pid"])
            else:
                self._exits[message["exit"]] = message["status"]

    def spawn(self, *, tty: str, controlling: bool, home: Path, env: dict[str, str], argv: list[str]) -> int:
        """A console on the pty named ``tty``; returns its pid once it holds the pty."""
        request = {
            "tty": tty,
            "controlling": controlling,
            "home": str(home),
            "env": env,
            "argv": argv,
            "stacks": str(home / "stacks.txt"),
        }
        with self._lock:
            assert self._process.stdin is not None
            self._process.stdin.write((json.dumps(request) + "\n").encode())
            self._process.stdin.flush()
            return self._pids.get(timeout=30)

    def status(self, pid: int) -> int | None:
        """The child's wait status once it has ended, else ``None``."""
        return self._exits.get(pid)

    def wait(self, pid: int, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while (status := self._exits.get(pid)) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return status

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


if __name__ == "__main__":
    serve()
