"""The recording's SQLite file: created private (0600, in a 0700 folder), locked for one writer, read by any number.

Why SQLite: one file that is always consistent (a console killed mid-write leaves every committed batch readable),
indexed by time, readable while it is being written (WAL: ``replay --last`` on the ring a live console is recording),
and pruned in place (rows older than the retention are deleted and their pages reused).

Writers take an advisory ``flock`` on the file besides SQLite's own locks: two consoles recording into one file
would interleave two stories, so the second is told the file is in use and records nothing. Every failure is turned
into one line (:class:`~console.recording.format.RecordingUnavailable` for a writer,
:class:`~console.recording.format.RecordingError` for a reader).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from console.recording.format import (
    FORMAT,
    SCHEMA,
    VERSION,
    RecordingError,
    RecordingUnavailable,
)

__all__ = ["ReadConnection", "WriteConnection", "describe_error"]

BUSY_TIMEOUT_MS = 2_000


def describe_error(error: BaseException) -> str:
    """Why a file operation failed, as an operator reads it."""
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return "no space left on the device"
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return "permission denied (read-only file or folder)"
        return error.strerror or str(error)
    text = str(error).strip() or type(error).__name__
    if "disk is full" in text or "SQLITE_FULL" in text:
        return "no space left on the device"
    if "readonly" in text or "read-only" in text:
        return "permission denied (read-only file or folder)"
    if "locked" in text or "busy" in text:
        return "the file is locked by another program"
    return text.splitlines()[0][:200]


class WriteConnection:
    """The writer's connection (one thread: the recorder's writer thread after :meth:`open`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    def open(self, *, app_version: str = "", started_wall: float | None = None) -> None:
        """Create (or continue) the file and take the writer's lock; raises ``RecordingUnavailable``."""
        path = self.path
        try:
            _private_folder(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise RecordingUnavailable(f"cannot record to {path}: {describe_error(error)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RecordingUnavailable(f"cannot record to {path}: in use by another console") from None
        self._lock_fd = fd
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None)
            self._db = db
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the first table; pruned pages go back
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(SCHEMA)
            existing = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if existing and (existing.get("format") != FORMAT or existing.get("version") != str(VERSION)):
                raise RecordingUnavailable(f"cannot record to {path}: it holds something else (not this format)")
            if not existing:
                started = time.time() if started_wall is None else started_wall
                rows = [("format", FORMAT), ("version", str(VERSION)), ("app", app_version), ("started", str(started))]
                db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)
            for suffix in ("-wal", "-shm"):  # SQLite makes them like the database; be sure of it
                with contextlib.suppress(OSError):
                    os.chmod(f"{path}{suffix}", 0o600)
        except RecordingUnavailable:
            self.close()
            raise
        except (sqlite3.Error, OSError) as error:
            self.close()
            raise RecordingUnavailable(f"cannot record to {path}: {describe_error(error)}") from None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RecordingUnavailable(f"recording to {self.path} is closed")
        return self._db

    def next_batch_id(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM batches").fetchone()
        return int(row[0])

    def last_time(self) -> float | None:
        row = self.db.execute(
            "SELECT MAX(t) FROM (SELECT MAX(t1) AS t FROM batches UNION SELECT MAX(t) FROM checkpoints)"
        )
        value = row.fetchone()[0]
        return None if value is None else float(value)

    def write(
        self,
        batches: list[tuple[int, int, float, float, float, int, int, bytes]],
        checkpoint: tuple[float, float, int, bool, int, bytes] | None,
        marks: list[tuple[float, int, str, str]],
    ) -> int | None:
        """Write batches (``id, segment, t0, t1, wall, records, events, data``), then a checkpoint (``t, wall,
        first_batch, after_gap, raw_bytes, data``), and marks, in one transaction; the checkpoint's id."""
        db = self.db
        checkpoint_id: int | None = None
        db.execute("BEGIN IMMEDIATE")
        try:
            if batches:
                db.executemany("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batches)
            if marks:
                db.executemany("INSERT INTO marks (t, batch, kind, label) VALUES (?, ?, ?, ?)", marks)
            if checkpoint is not None:
                columns = "t, wall, first_batch, after_gap, raw_bytes, data"
                cursor = db.execute(f"INSERT INTO checkpoints ({columns}) VALUES (?, ?, ?, ?, ?, ?)", checkpoint)
                checkpoint_id = cursor.lastrowid
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        return checkpoint_id

    def prune(self, before_wall: float) -> int:
        """Delete what is older than ``before_wall`` (wall time), keeping the newest checkpoint before it so that
        what remains still starts at a checkpoint; returns the batches deleted."""
        db = self.db
        row = db.execute(
            "SELECT id, first_batch, t FROM checkpoints WHERE wall <= ? ORDER BY id DESC LIMIT 1", (before_wall,)
        ).fetchone()
        if row is None:
            return 0
        checkpoint_id, first_batch, _t = row
        db.execute("BEGIN IMMEDIATE")
        try:
            deleted = db.execute("DELETE FROM batches WHERE id < ?", (first_batch,)).rowcount
            db.execute("DELETE FROM checkpoints WHERE id < ?", (checkpoint_id,))
            db.execute("DELETE FROM marks WHERE batch < ?", (first_batch,))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        if deleted:
            db.execute("PRAGMA incremental_vacuum")
        return int(deleted)

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None


def _private_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) if missing; one this made is 0700."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)


class ReadConnection:
    """A reader's connection: checks that the file is a recording of a format this console reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise RecordingError(f"{path}: no such file")
        if not path.is_file():
            raise RecordingError(f"{path}: not a file")
        try:
            with path.open("rb") as handle:
                head = handle.read(16)
        except OSError as error:
            raise RecordingError(f"{path}: cannot read: {describe_error(error)}") from None
        if not head.startswith(b"SQLite format 3"):
            raise RecordingError(f"{path}: not a recording (not an SQLite file)")
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as error:
            raise RecordingError(f"{path}: not a readable recording ({describe_error(error)})") from None
        if meta.get("format") != FORMAT:
            raise RecordingError(f"{path}: not a factory-console recording")
        if meta.get("version") != str(VERSION):
            raise RecordingError(
                f"{path}: a recording of format version {meta.get('version')!s:.10}; this console reads {VERSION}"
            )
        self.meta = meta

    def query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as error:
            raise RecordingError(f"{self.path}: cannot read ({describe_error(error)})") from None

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
