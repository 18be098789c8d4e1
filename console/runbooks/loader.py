"""Finding the runbook for an alert code: the site's folder first (``runbooks_dir``), then the one built in.

An alert's ``code`` is a server's string, so it is never trusted as a file name. Only a code that reads, in ASCII
lower case, as ``[a-z0-9_.-]{1,64}`` and does not start with a dot names a file (``<code>.md``, directly in the
folder): no ``/``, no ``\\``, no NUL, no drive letter, nothing a path could climb out of the folder with. Any other
code gets a runbook saying it names none, never an exception.

Reading is careful because the screen waits on it: a file that is not a regular file (a FIFO would block the reader
for ever, a device would never end) is refused without being read; at most :data:`MAX_RUNBOOK_BYTES` are read and the
rest is cut with a note; bytes that are not UTF-8 are shown as replacement characters; a file that cannot be read
says why, and the built-in runbook of the code is shown under that note when there is one.

What was read is cached per loader (:func:`loader_for` keeps one per folder for the process): an operator who opens
the same runbook twice at 3 a.m. does not wait on a network share twice. :meth:`RunbookLoader.forget` drops a code
(the runbook screen's reload). No Textual here (an import-linter contract).
"""

from __future__ import annotations

import functools
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

__all__ = [
    "BUILTIN",
    "CACHE_SIZE",
    "MAX_CODE_LENGTH",
    "MAX_RUNBOOK_BYTES",
    "Origin",
    "Runbook",
    "RunbookLoader",
    "builtin_codes",
    "loader_for",
    "runbook_name",
]

MAX_RUNBOOK_BYTES = 64 * 1024
"""A runbook is a page an operator reads at a terminal; past 64 KiB it is cut (with a note) rather than read whole."""
MAX_CODE_LENGTH = 64
CACHE_SIZE = 128
"""Runbooks remembered per loader (a server can send any number of distinct codes; each cached one is at most
64 KiB)."""

_NAME = re.compile(r"[a-z0-9_-][a-z0-9_.-]{0,63}")

BUILTIN: Traversable = resources.files("console.runbooks") / "builtin"
"""The runbooks shipped in the package (``console/runbooks/builtin/<code>.md``, in the wheel as package data)."""

Origin = Literal["site", "builtin", "missing", "invalid", "error"]
"""Where a runbook came from: the site's folder, the package, or nowhere (``missing``: no file for a valid code;
``invalid``: the code names no file; ``error``: the site's file could not be read and nothing was built in)."""


@dataclass(frozen=True, slots=True)
class Runbook:
    """A runbook, or the message that stands in for one. ``text`` is Markdown, never shown unparsed or uncleaned
    (``console.runbooks.blocks``, ``widgets.safe_text``); ``code`` is the server's string as given (untrusted)."""

    code: str
    name: str | None
    """The file name's stem the code maps to (``None``: it maps to none)."""
    origin: Origin
    text: str
    path: str | None = None
    """The file read (the site's path, or ``builtin/<name>.md``)."""
    truncated: bool = False
    note: str | None = None
    """One line about a problem on the way (the site's file unreadable, cut, not UTF-8), also inside ``text``."""

    @property
    def found(self) -> bool:
        return self.origin in ("site", "builtin")


def runbook_name(code: object) -> str | None:
    """The file stem ``code`` maps to: the code in ASCII lower case if it is ``[a-z0-9_.-]{1,64}`` and does not
    start with a dot; else ``None``. Never raises, whatever ``code`` is."""
    if not isinstance(code, str) or not code.isascii():  # non-ASCII first: "K" (Kelvin) lower-cases to "k"
        return None
    name = code.lower()
    return name if _NAME.fullmatch(name) else None


def builtin_codes() -> list[str]:
    """The codes that have a built-in runbook, sorted."""
    return sorted(item.name.removesuffix(".md") for item in BUILTIN.iterdir() if item.name.endswith(".md"))


class _NotAFile(OSError):
    pass


def _read_capped(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the regular file at ``path`` (one more than allowed says it is longer).

    Opened without blocking (a FIFO opens at once and is then refused), never following into anything but a regular
    file. Raises ``OSError`` (``FileNotFoundError`` when it is not there)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise _NotAFile(0, "not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _reason(error: BaseException) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(error, _NotAFile):
        return "it is not a regular file"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return type(error).__name__


def _decode(data: bytes, limit: int, where: str) -> tuple[str, bool, str | None]:
    """The text of a file's first bytes: (text, cut, note)."""
    notes: list[str] = []
    cut = len(data) > limit
    if cut:
        data = data[:limit]
        newline = data.rfind(b"\n")
        if newline >= limit - 4096:
            data = data[: newline + 1]  # cut at a line's end, not inside a word or a UTF-8 sequence
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        notes.append(f"{where} is not valid UTF-8: the bytes that are not are shown as \ufffd.")
    text = text.removeprefix("\ufeff")
    if cut:
        notes.append(f"{where} is longer than {limit // 1024} KB: the rest is cut. Make it shorter.")
    return text, cut, " ".join(notes) or None


def _with_note(text: str, note: str | None) -> str:
    if note is None:
        return text
    return f"{text.rstrip()}\n\n---\n\n> Note: {_escape(note)}\n"


def _escape(text: str) -> str:
    """Loader-written text (a path, a code) as literal Markdown: its marks are escaped, not read."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~>-])", r"\\\1", text)


class RunbookLoader:
    """Finds and caches runbooks for one site folder (``None``: the built-in runbooks only). Thread-safe: the
    runbook screen reads in a worker thread."""

    def __init__(
        self, runbooks_dir: Path | None, *, builtin: Traversable = BUILTIN, limit: int = MAX_RUNBOOK_BYTES
    ) -> None:
        self.runbooks_dir = runbooks_dir
        self.builtin = builtin
        self.limit = limit
        self._cache: OrderedDict[str, Runbook] = OrderedDict()
        self._lock = threading.Lock()
        self.reads = 0
        """Files read so far (a test's way to see the cache work)."""

    # --- the cache ----------------------------------------------------------------------------------------------

    def cached(self, code: object) -> Runbook | None:
        """The runbook of ``code`` if it needs no reading (cached, or a code that names no file), else ``None``."""
        name = runbook_name(code)
        if name is None:
            return self._invalid(code)
        with self._lock:
            found = self._cache.get(name)
            if found is not None:
                self._cache.move_to_end(name)
        return None if found is None else self._for_code(found, code)

    def cached_first(self, codes: Sequence[object]) -> Runbook | None:
        """:meth:`find_first` if it needs no reading, else ``None``."""
        results: list[Runbook] = []
        for code in codes:
            runbook = self.cached(code)
            if runbook is None:
                return None
            if runbook.found:
                return runbook
            results.append(runbook)
        return results[0] if results else self._invalid("")

    def forget(self, codes: Sequence[object] = ()) -> None:
        """Drop ``codes`` from the cache (all of it when none are given): the next look reads the files again."""
        with self._lock:
            if not codes:
                self._cache.clear()
            for code in codes:
                name = runbook_name(code)
                if name is not None:
                    self._cache.pop(name, None)

    # --- finding ------------------------------------------------------------------------------------------------

    def find(self, code: object) -> Runbook:
        """The runbook for ``code``: the site's ``<code>.md``, else the built-in one, else a runbook that says there
        is none and where to add it. Reads at most once per code (then the cache answers). Never raises."""
        cached = self.cached(code)
        if cached is not None:
            return cached
        name = runbook_name(code)
        assert name is not None  # cached() answers every code that names no file
        runbook = self._load(name)
        with self._lock:
            self._cache[name] = runbook
            self._cache.move_to_end(name)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return self._for_code(runbook, code)

    def find_first(self, codes: Sequence[object]) -> Runbook:
        """The runbook of the first of ``codes`` that has one (a machine's fault code, then its alert's code); when
        none has, what the first one's lookup says."""
        first: Runbook | None = None
        for code in codes:
            runbook = self.find(code)
            if runbook.found:
                return runbook
            first = first or runbook
        return first or self._invalid("")

    def _for_code(self, runbook: Runbook, code: object) -> Runbook:
        """The cached runbook (keyed by the lower-case name) as the runbook of ``code`` as it was given."""
        if not isinstance(code, str) or runbook.code == code:
            return runbook
        from dataclasses import replace

        return replace(runbook, code=code)

    def _invalid(self, code: object) -> Runbook:
        shown = code if isinstance(code, str) else repr(code)
        what = f"the code {_escape(_short(shown))}" if shown else "an empty code"
        text = (
            "# No runbook\n\n"
            f"No runbook for {what}: it is not a runbook name. A runbook name is 1 to {MAX_CODE_LENGTH} "
            "characters of a-z, 0-9, `_`, `.` and `-` (not starting with `.`).\n"
        )
        return Runbook(code=shown, name=None, origin="invalid", text=text)

    def _load(self, name: str) -> Runbook:
        site_note: str | None = None
        folder = self.runbooks_dir
        if folder is not None:
            path = folder / f"{name}.md"
            try:
                data = _read_capped(path, self.limit)
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as error:
                site_note = f"The site's runbook {path} could not be read: {_reason(error)}."
            else:
                self.reads += 1
                text, cut, note = _decode(data, self.limit, str(path))
                return Runbook(name, name, "site", _with_note(text, note), str(path), cut, note)
        builtin = self._builtin(name)
        if builtin is not None:
            text, cut, note = builtin
            note = " ".join(n for n in (site_note, note) if n) or None
            path_text = f"builtin/{name}.md"
            return Runbook(name, name, "builtin", _with_note(text, note), path_text, cut, note)
        if site_note is not None:
            text = f"# Runbook unreadable\n\n{_escape(site_note)} There is no built-in runbook for `{name}`.\n"
            return Runbook(name, name, "error", text, str(folder / f"{name}.md") if folder else None, note=site_note)
        return Runbook(name, name, "missing", self._missing_text(name))

    def _builtin(self, name: str) -> tuple[str, bool, str | None] | None:
        item = self.builtin / f"{name}.md"
        try:
            if not item.is_file():
                return None
            with item.open("rb") as handle:
                data = handle.read(self.limit + 1)
        except (OSError, ValueError):
            return None
        self.reads += 1
        return _decode(data, self.limit, f"builtin/{name}.md")

    def _missing_text(self, name: str) -> str:
        folder = self.runbooks_dir
        if folder is None:
            where = (
                f"Add `{name}.md` to a folder of runbooks and name that folder as `runbooks_dir` in the "
                "console's config file."
            )
        else:
            shown = _escape(str(folder))
            exists = ""
            try:
                if not folder.is_dir():
                    exists = " (that folder does not exist yet)"
            except (OSError, ValueError):
                exists = " (that folder cannot be read)"
            where = f"Add `{name}.md` to {shown}{exists}."
        return f"# No runbook\n\nNo runbook for code `{name}`. {where}\n"


def _short(text: str) -> str:
    """A server's code for a message: at most 80 characters, anything unprintable (a newline, an ESC) spelled as an
    escape, so it can neither start a line of Markdown nor reach the terminal."""
    text = text if len(text) <= 80 else text[:79] + "…"
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


@functools.lru_cache(maxsize=8)
def loader_for(runbooks_dir: Path | None) -> RunbookLoader:
    """The process's loader for ``runbooks_dir`` (one per folder, so its cache lasts as long as the console)."""
    return RunbookLoader(runbooks_dir)
