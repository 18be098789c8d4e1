"""The console's own audit log: one JSON line per command attempt and one per outcome.

Why a local log when the server keeps an audit trail too: the server records only what reached it. A command that
failed on the way (network down, 401, timeout) or was refused locally leaves no trace there, and the operator's
shift report still needs it. Two records per command, ``phase: "attempt"`` before sending and ``phase: "outcome"``
after, so a crash between the two shows as an attempt without an outcome.

The file is JSON lines (``audit.jsonl``) under the platform's user log dir, or ``$FACTORY_CONSOLE_LOG_DIR``, rotated
by size (5 MB x 5 files by default) and created with mode 0600. Writing never raises: a console that cannot write its
log keeps working and reports the problem in :attr:`AuditLog.last_error` (and the ``logging`` module).

Secrets never reach the file: keys named like token, authorization, secret, password, api key, cookie or credential
are dropped at any depth; ``Bearer ...`` and ``token=...`` patterns and any value registered with
:meth:`AuditLog.add_secret` are replaced by ``[redacted]`` in every string, at any depth, in the keys of nested
mappings too (the app registers every source's token, so a token pasted into a reason or echoed in a server's detail
is not written).

The file is inert in a terminal: ``cat audit.jsonl`` or ``tail -f`` must not run what a server put in a ``detail``.
JSON already escapes C0 controls (ESC among them); DEL, the C1 controls (``0x9b`` is CSI, ``0x9d`` OSC), bidi
embeddings, overrides and isolates, the invisible marks and the line/paragraph separators are written as ``\\uXXXX``
escapes too (the text reads back the same), and lone surrogates, which cannot be written as UTF-8, become U+FFFD.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

__all__ = ["LOG_DIR_ENV", "RECORD_FIELDS", "AuditLog", "default_audit_path", "redact"]

log = logging.getLogger(__name__)

LOG_DIR_ENV = "FACTORY_CONSOLE_LOG_DIR"
APP_NAME = "factory-console"

RECORD_FIELDS = (
    "at",
    "operator",
    "role",
    "source",
    "action",
    "target",
    "reason",
    "idempotency_key",
    "phase",
    "outcome",
    "status",
    "code",
    "detail",
    "command_id",
    "audit_id",
)
"""Every record has these keys, in this order (``null`` where not known); extra keys follow."""

_CONTEXT_FIELDS = ("operator", "role", "source", "action", "target", "reason")
"""What an outcome record copies from its attempt when the caller does not repeat it."""

SECRET_KEY = re.compile(r"token|authori[sz]ation|secret|passw(or)?d|passphrase|api[-_ ]?key|cookie|credential", re.I)
_BEARER = re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+", re.I)
_ASSIGNED = re.compile(
    r"\b(authorization|token|access_token|password|passwd|secret|api[-_]?key)(\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|\S+)",
    re.I,
)
REDACTED = "[redacted]"
_SURROGATES = re.compile("[\ud800-\udfff]")
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
"""Characters JSON leaves raw that a terminal acts on or that hide or reorder text: DEL, C1, soft hyphen, bidi marks,
embeddings, overrides and isolates, zero-width characters, line/paragraph separators, BOM, annotation controls."""
MAX_TEXT = 2000
"""Longer strings (a server's detail, a reason) are cut: the log is for reading, not for dumps."""

_PENDING_LIMIT = 1000


def default_audit_path() -> Path:
    """``$FACTORY_CONSOLE_LOG_DIR/audit.jsonl``, else the platform's user log dir."""
    override = os.environ.get(LOG_DIR_ENV)
    base = Path(override).expanduser() if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    return base / "audit.jsonl"


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``value`` that is safe to write: secret-named keys dropped, secret-looking text replaced."""
    secrets = tuple(s for s in secrets if s)
    return _redact(value, secrets, depth=0)


def _redact(value: Any, secrets: tuple[str, ...], depth: int) -> Any:
    if depth > 8:
        return REDACTED
    if isinstance(value, str):
        text = value
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        text = _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        text = _SURROGATES.sub("\ufffd", text)  # after the secrets: a token from os.environ may hold surrogates
        return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and Infinity are not JSON
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        # The record's own field names (depth 0) are the code's; deeper keys can be anyone's text.
        return {
            (str(k) if depth == 0 else _redact(str(k), secrets, depth + 1)): _redact(v, secrets, depth + 1)
            for k, v in value.items()
            if not SECRET_KEY.search(str(k))
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v, secrets, depth + 1) for v in value]
    if hasattr(value, "model_dump"):  # a pydantic model, e.g. SourceRef
        return _redact(value.model_dump(mode="json"), secrets, depth + 1)
    return _redact(str(value), secrets, depth + 1)


def _line(safe: Mapping[str, Any]) -> bytes:
    """One JSON line, valid UTF-8, with nothing a terminal would act on (see the module's docstring)."""
    text = json.dumps(safe, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # These characters can only be inside JSON strings, where ``\\uXXXX`` means the same character.
    text = _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return (text + "\n").encode("utf-8")


def _target(target: Any) -> dict[str, Any] | None:
    """``{"kind", "id"}`` from a mapping, a ``SourceRef``-like object or a ``(kind, id)`` pair."""
    if target is None:
        return None
    if isinstance(target, Mapping):
        return {"kind": target.get("kind"), "id": target.get("id")}
    if isinstance(target, tuple | list) and len(target) == 2:
        return {"kind": target[0], "id": target[1]}
    if hasattr(target, "kind") and hasattr(target, "id"):
        return {"kind": target.kind, "id": target.id}
    return {"kind": None, "id": str(target)}


def _utc_stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class AuditLog:
    """Append-only JSON-lines log of command attempts and outcomes, rotated by size. Safe across threads.

    ``path`` is the log file (default :func:`default_audit_path`). Rotation keeps ``backup_count`` older files
    named ``audit.jsonl.1`` (newest) ... ``audit.jsonl.<backup_count>`` (oldest).
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_bytes: int = 5 * 1024 * 1024,
        backup_count: int = 5,
        secrets: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = default_audit_path() if path is None else Path(path)
        self.max_bytes = max_bytes
        self.backup_count = max(0, backup_count)
        self.last_error: str | None = None
        """Why the last write failed (``None`` after a good write): for the status bar."""
        self._secrets: set[str] = {s for s in secrets if s}
        self._clock = clock or (lambda: datetime.now(UTC))
        self.server_clock: Callable[[], datetime | None] | None = None
        """The server's time, as the console estimates it (set by the session): each record keeps it as
        ``server_at`` beside ``at`` (this machine's clock), so an incident is read on the clock the screens use."""
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def add_secret(self, value: str | None) -> None:
        """Register a value (a token) that must never be written, even inside a server's message."""
        if value and len(value) >= 4:
            with self._lock:
                self._secrets.add(value)

    # --- writing ----------------------------------------------------------------------------------------------------

    def attempt(
        self,
        *,
        operator: str | None = None,
        role: str | None = None,
        source: str | None = None,
        action: str,
        target: Any = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
        **extra: Any,
    ) -> None:
        """Record that a command is about to be sent. Extra keyword fields (e.g. ``body``) are kept, redacted."""
        record = {
            "operator": operator,
            "role": role,
            "source": source,
            "action": action,
            "target": _target(target),
            "reason": reason,
            "idempotency_key": idempotency_key,
            "phase": "attempt",
            "outcome": None,
        }
        if idempotency_key:
            with self._lock:
                self._pending[idempotency_key] = {k: record[k] for k in _CONTEXT_FIELDS}
                while len(self._pending) > _PENDING_LIMIT:
                    self._pending.popitem(last=False)
        self._write(record, extra)

    def outcome(
        self,
        *,
        outcome: str,
        operator: str | None = None,
        role: str | None = None,
        source: str | None = None,
        action: str | None = None,
        target: Any = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        command_id: str | None = None,
        audit_id: str | None = None,
        **extra: Any,
    ) -> None:
        """Record what became of a command: ``applied``, ``rejected``, ``failed`` (or ``not_attempted``).

        Context the caller leaves out (operator, role, source, action, target, reason) is copied from the attempt
        with the same ``idempotency_key``.
        """
        given = {
            "operator": operator,
            "role": role,
            "source": source,
            "action": action,
            "target": _target(target),
            "reason": reason,
        }
        if idempotency_key:
            with self._lock:
                remembered = self._pending.pop(idempotency_key, None) or {}
            for key, value in remembered.items():
                if given[key] is None:
                    given[key] = value
        record = {
            **given,
            "idempotency_key": idempotency_key,
            "phase": "outcome",
            "outcome": outcome,
            "status": status,
            "code": code,
            "detail": detail,
            "command_id": command_id,
            "audit_id": audit_id,
        }
        self._write(record, extra)

    def _write(self, fields: dict[str, Any], extra: Mapping[str, Any]) -> None:
        record: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
        record.update(fields)
        record["at"] = _utc_stamp(self._clock())
        server_at = None
        if self.server_clock is not None:
            with contextlib.suppress(Exception):  # a record is written whatever the server's clock says
                server_at = self.server_clock()
        if server_at is not None:
            with contextlib.suppress(ValueError, OverflowError):
                record["server_at"] = _utc_stamp(server_at)
        for key, value in extra.items():
            if key not in record:
                record[key] = value
        with self._lock:
            try:
                line = _line(_redact(record, tuple(sorted(self._secrets, key=len, reverse=True)), depth=0))
            except Exception as exc:  # a value whose str() raises, say: writing never raises
                self.last_error = f"audit log {self.path}: cannot write a record: {exc.__class__.__name__}"
                log.warning("cannot write the audit log: %s", self.last_error)
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._rotate_if_needed(len(line))
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    view = memoryview(line)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
                self.last_error = None
            except OSError as exc:
                self.last_error = f"audit log {self.path}: {exc.strerror or exc}"
                log.warning("cannot write the audit log: %s", self.last_error)

    def _rotate_if_needed(self, incoming: int) -> None:
        if self.max_bytes <= 0:
            return
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0 or size + incoming <= self.max_bytes:
            return
        if self.backup_count == 0:
            self.path.unlink(missing_ok=True)
            return
        for index in range(self.backup_count - 1, 0, -1):
            older = self._backup(index)
            if older.exists():
                os.replace(older, self._backup(index + 1))
        os.replace(self.path, self._backup(1))

    def _backup(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    # --- reading ----------------------------------------------------------------------------------------------------

    def recent(self, n: int = 100) -> list[dict[str, Any]]:
        """The last ``n`` records, oldest first, read from the end of the log and its rotated files.

        Lines that are not valid JSON objects (a torn write) are skipped.
        """
        if n <= 0:
            return []
        newest_first: list[dict[str, Any]] = []
        with self._lock:
            for path in [self.path, *(self._backup(i) for i in range(1, self.backup_count + 1))]:
                try:
                    for line in _reverse_lines(path):
                        try:
                            record = json.loads(line)
                        except ValueError:
                            continue
                        if isinstance(record, dict):
                            newest_first.append(record)
                            if len(newest_first) >= n:
                                return newest_first[::-1]
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    log.warning("cannot read the audit log %s: %s", path, exc)
        return newest_first[::-1]


_BLOCK = 64 * 1024


def _reverse_lines(path: Path) -> Iterator[bytes]:
    """The file's non-empty lines, last first, reading blocks from the end (the log can be megabytes)."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        rest = b""
        while position > 0:
            step = min(_BLOCK, position)
            position -= step
            handle.seek(position)
            lines = (handle.read(step) + rest).split(b"\n")
            rest = lines[0]
            for line in reversed(lines[1:]):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest
