"""Where recordings go: a chosen file (``--record FILE``), or the ring in the user data dir, pruned by age.

The ring is a folder (``platformdirs.user_data_dir("factory-console")/recordings``, or
``$FACTORY_CONSOLE_RECORDINGS_DIR``) with one file per console run, ``ring-<UTC start>-<pid>.sqlite``: several
consoles (operators over SSH on one host) never write to one file. Within its own file a console deletes what is
older than the retention as it goes; files of earlier runs are deleted once nothing in them is that young (their
last write is older). ``replay --last HOURS`` opens the newest.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

__all__ = [
    "RECORDINGS_DIR_ENV",
    "RING_GLOB",
    "RecordingSpec",
    "newest_ring_file",
    "prune_ring_folder",
    "ring_dir",
    "ring_file_name",
]

APP_NAME = "factory-console"
RECORDINGS_DIR_ENV = "FACTORY_CONSOLE_RECORDINGS_DIR"
RING_GLOB = "ring-*.sqlite"


@dataclass(frozen=True)
class RecordingSpec:
    """What to record to and how: ``file`` (a chosen file, kept whole) or ``ring_dir`` (a new file in the ring,
    pruned to ``retention_h`` hours)."""

    file: Path | None = None
    ring_dir: Path | None = None
    retention_h: float = 24.0
    """Hours kept in the ring (0: everything; a chosen file keeps everything)."""
    checkpoint_s: float = 300.0
    """A full checkpoint at least this often (wall seconds) while anything is received."""
    checkpoint_events: int = 20_000
    """... or after this many events (a seek replays about this many at most, on a small cluster)."""
    checkpoint_share: float = 4.0
    """... once the batches since the last checkpoint weigh this many times it (checkpoints stay under a fifth of a
    recording: ~5 MB each for 20,000 machines); 0: on time and count alone."""
    queue_events: int = 100_000
    """Events waiting for the writer beyond this are dropped from the recording (never from the console)."""

    def __post_init__(self) -> None:
        if (self.file is None) == (self.ring_dir is None):
            raise ValueError("RecordingSpec needs a file or a ring_dir (one of them)")

    @property
    def retention_s(self) -> float | None:
        """Seconds kept, or ``None`` for everything (a chosen file, or a retention of 0)."""
        if self.file is not None or self.retention_h <= 0:
            return None
        return self.retention_h * 3600.0


def ring_dir(environ: dict[str, str] | None = None) -> Path:
    """``$FACTORY_CONSOLE_RECORDINGS_DIR``, else ``<user data dir>/recordings``."""
    env = os.environ if environ is None else environ
    override = env.get(RECORDINGS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "recordings"


def ring_file_name(now: datetime | None = None, pid: int | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"ring-{moment}-{os.getpid() if pid is None else pid}.sqlite"


def _last_write(path: Path) -> float:
    times = [path.stat().st_mtime]
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(OSError):
            times.append(Path(f"{path}{suffix}").stat().st_mtime)
    return max(times)


def _in_use(path: Path) -> bool:
    """A console is recording into it (it holds the writer's lock)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def prune_ring_folder(folder: Path, retention_s: float, *, keep: Path | None = None, now: float | None = None) -> int:
    """Delete the ring files whose last write is older than ``retention_s`` (never ``keep``, never one a console is
    writing); returns how many went. Errors are skipped: pruning must never stop the console."""
    cutoff = (time.time() if now is None else now) - retention_s
    removed = 0
    with contextlib.suppress(OSError):
        kept = None if keep is None else keep.resolve()
        for path in folder.glob(RING_GLOB):
            try:
                if kept is not None and path.resolve() == kept:
                    continue
                if _last_write(path) >= cutoff or _in_use(path):
                    continue
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        Path(f"{path}{suffix}").unlink()
                removed += 1
            except OSError:
                continue
    return removed


def newest_ring_file(folder: Path) -> Path | None:
    """The ring file written last, or ``None`` when the ring is empty."""
    try:
        files = [(_last_write(path), path) for path in folder.glob(RING_GLOB)]
    except OSError:
        return None
    return max(files)[1] if files else None
