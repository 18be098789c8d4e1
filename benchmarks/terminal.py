"""Run the console in a real pseudo-terminal and watch what it writes, as an SSH link would carry it.

Why a pty and not ``run_test``: the live, idle, start and bytes benchmarks measure the console as an operator runs it
(the real Textual Linux driver, the real output encoding, a separate process whose CPU can be read from ``/proc``).

:class:`PtyProcess` starts a command on a pty of a given size and a reader thread that timestamps every chunk the
process writes. :class:`Screen` is a deliberately small terminal emulator, enough for Textual's output: printable
text, cursor positioning (``CSI row;col H``), SGR colours (``CSI ... m``) and synchronized-output frame markers
(``CSI ? 2026 h/l``). It keeps, per cell, the character and its background colour, so a benchmark can tell when a
frame shows the effect of a key (a cursor highlight moved) without knowing the widget's internals.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.harness import cpu_seconds, rss_bytes

__all__ = ["KEYS", "PtyProcess", "Screen"]

KEYS = {"down": b"\x1b[B", "up": b"\x1b[A", "right": b"\x1b[C", "left": b"\x1b[D", "ctrl+q": b"\x11"}
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_ANSWER = b"\x1b[?2026;2$y"
FRAME_END = b"\x1b[?2026l"
"""Textual ends each frame's synchronized update with this: a frame is complete on screen after it."""
_FRAME_END_RE = re.compile(re.escape(FRAME_END))


@dataclass(slots=True)
class Chunk:
    at: float
    offset: int  # offset of this chunk's first byte in the whole output
    data: bytes


class PtyProcess:
    """A process on a pseudo-terminal of ``size`` (columns, rows), its output recorded with timestamps."""

    def __init__(self, argv: Sequence[str], size: tuple[int, int] = (160, 48), env: dict[str, str] | None = None):
        self.columns, self.rows = size
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.columns, 0, 0))
        child_env = {**os.environ, **(env or {})}
        child_env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", "COLUMNS": "", "LINES": ""})
        child_env.pop("COLUMNS")
        child_env.pop("LINES")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=child_env, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.pid = self.proc.pid
        self.chunks: list[Chunk] = []
        self._chunk_ends: list[int] = []
        self.buffer = bytearray()
        self._lock = threading.Condition()
        self._closed = False
        self._answered_sync = False
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            now = time.perf_counter()
            with self._lock:
                if not data:
                    self._closed = True
                    self._lock.notify_all()
                    return
                self.chunks.append(Chunk(now, len(self.buffer), data))
                self.buffer += data
                self._chunk_ends.append(len(self.buffer))
                self._lock.notify_all()
            if not self._answered_sync and SYNC_QUERY in data:
                # Answer like a modern terminal: synchronized output is supported (mode 2026, "reset").
                # Textual then brackets every frame with CSI ? 2026 h/l, which marks where frames end.
                self._answered_sync = True
                with contextlib.suppress(OSError):
                    os.write(self.master, SYNC_ANSWER)

    # --- input -----------------------------------------------------------------------------------------------------

    def send(self, data: bytes) -> float:
        """Write input bytes (a key) to the terminal; returns when they were written."""
        os.write(self.master, data)
        return time.perf_counter()

    def press(self, key: str) -> float:
        return self.send(KEYS[key])

    # --- output ----------------------------------------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return len(self.buffer)

    def wait_for(self, pattern: re.Pattern[bytes], start: int = 0, timeout: float = 10.0) -> tuple[float, int] | None:
        """Wait for ``pattern`` in the output after byte ``start``; returns (time of the chunk that completed it,
        end offset of the match), or ``None`` on timeout or when the process closed the terminal."""
        deadline = time.perf_counter() + timeout
        with self._lock:
            while True:
                match = pattern.search(self.buffer, start)
                if match is not None:
                    end = match.end()
                    return self.chunks[bisect.bisect_left(self._chunk_ends, end)].at, end
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or self._closed:
                    return None
                self._lock.wait(min(remaining, 0.05))

    def wait_frame(self, start: int, timeout: float) -> tuple[float, int] | None:
        """The next frame end after byte ``start``: (when it arrived, its end offset), or ``None`` on timeout."""
        return self.wait_for(_FRAME_END_RE, start, timeout)

    def bytes_since(self, offset: int) -> bytes:
        with self._lock:
            return bytes(self.buffer[offset:])

    def bytes_in(self, t0: float, t1: float) -> int:
        """Bytes written between two ``time.perf_counter()`` instants."""
        with self._lock:
            return sum(len(c.data) for c in self.chunks if t0 <= c.at < t1)

    def frames_after(self, offset: int) -> list[tuple[float, int]]:
        """(time, end offset) of every frame end marker after ``offset``."""
        out: list[tuple[float, int]] = []
        with self._lock:
            for chunk in self.chunks:
                if chunk.offset + len(chunk.data) <= offset:
                    continue
                pos = chunk.data.find(FRAME_END)
                while pos != -1:
                    end = chunk.offset + pos + len(FRAME_END)
                    if end > offset:
                        out.append((chunk.at, end))
                    pos = chunk.data.find(FRAME_END, pos + 1)
        return out

    # --- the process -----------------------------------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float = 5.0) -> None:
        """End the console: SIGTERM to its process group (the app quits cleanly on it), SIGKILL if it lingers."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(timeout=2)

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_CSI = re.compile(
    rb"\x1b\[([0-9;?<>=]*)([ -/]*)([@-~])|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
)


class Screen:
    """A minimal terminal emulator for Textual's output: characters and background colours per cell."""

    def __init__(self, columns: int, rows: int) -> None:
        self.columns, self.rows = columns, rows
        self.chars = [[" "] * columns for _ in range(rows)]
        self.bg = [[""] * columns for _ in range(rows)]
        self.x = self.y = 0
        self._bg = ""
        self._pending = b""

    def feed(self, data: bytes) -> None:
        data = self._pending + data
        self._pending = b""
        pos = 0
        n = len(data)
        while pos < n:
            esc = data.find(b"\x1b", pos)
            text_end = n if esc == -1 else esc
            if text_end > pos:
                self._text(data[pos:text_end])
            if esc == -1:
                return
            match = _CSI.match(data, esc)
            if match is None:
                if n - esc < 64:  # an escape sequence cut by the read: keep it for the next chunk
                    self._pending = data[esc:]
                    return
                pos = esc + 1
                continue
            if match.group(3) is not None:
                self._csi(match.group(1), match.group(3))
            pos = match.end()

    def _text(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace")
        for ch in text:
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self.y = min(self.y + 1, self.rows - 1)
            elif ch >= " ":
                if 0 <= self.y < self.rows and 0 <= self.x < self.columns:
                    self.chars[self.y][self.x] = ch
                    self.bg[self.y][self.x] = self._bg
                self.x += 1

    def _csi(self, params: bytes, final: bytes) -> None:
        if final == b"H":
            parts = [int(p) if p.isdigit() else 1 for p in params.split(b";")] if params else [1, 1]
            self.y = max(0, min(self.rows - 1, parts[0] - 1))
            self.x = max(0, min(self.columns - 1, (parts[1] if len(parts) > 1 else 1) - 1))
        elif final == b"m":
            self._sgr(params)
        elif final == b"J" and params in (b"2", b"3"):
            self.chars = [[" "] * self.columns for _ in range(self.rows)]
            self.bg = [[""] * self.columns for _ in range(self.rows)]

    def _sgr(self, params: bytes) -> None:
        codes = params.split(b";") if params else [b"0"]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code in (b"0", b"") or code == b"49":
                self._bg = ""
            elif code == b"48" and i + 1 < len(codes):
                if codes[i + 1] == b"2" and i + 4 < len(codes):
                    self._bg = "#" + "".join(f"{int(c):02x}" for c in codes[i + 2 : i + 5])
                    i += 4
                elif codes[i + 1] == b"5" and i + 2 < len(codes):
                    self._bg = f"c{int(codes[i + 2])}"
                    i += 2
            elif code.isdigit() and (40 <= int(code) <= 47 or 100 <= int(code) <= 107):
                self._bg = f"c{int(code)}"
            elif code in (b"38",) and i + 1 < len(codes):
                i += 4 if codes[i + 1] == b"2" else 2
            i += 1

    def text(self) -> list[str]:
        return ["".join(row) for row in self.chars]

    def find(self, pattern: str) -> tuple[int, int] | None:
        """(row, column) of the first occurrence of ``pattern`` on screen."""
        for y, line in enumerate(self.text()):
            x = line.find(pattern)
            if x != -1:
                return y, x
        return None
