"""Markdown exports (a timeline, a handover): inert Markdown text, and the file it goes to.

Where: ``platformdirs.user_data_dir("factory-console")/exports/`` (``~/.local/share/factory-console/exports`` on
Linux; ``$XDG_DATA_HOME`` moves it), the folder made mode 0700, each file 0600 and never overwritten, named after
what it holds and the server's time: ``timeline-machine-M-LDS-07-20261125T081600Z.md``,
``handover-20261125T060000Z.md``.

Inert: every piece of server text goes through :func:`md`, which first makes it inert in a terminal
(``widgets.text_clean.inert``: controls, escape sequences, bidi and zero-width characters become visible marks; a
newline cannot start a new Markdown block) and then escapes the Markdown characters that would change what the text
shows (emphasis, code, links, images, raw HTML, table cells). A reader who ``cat``\\ s the file or renders it sees the
text as the server sent it, and nothing a server wrote acts on the terminal or the page. No Textual here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import platformdirs

from console.formatting import in_utc
from console.timeline_view import Entry
from widgets.text_clean import cut, inert

__all__ = ["APP_NAME", "export_dir", "export_name", "md", "md_table", "stamp", "timeline_markdown", "write_export"]

APP_NAME = "factory-console"
MAX_CELL = 500
"""Longer server text is cut in an export: a reason or a detail is read, not archived whole."""

_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~])")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def md(text: object, limit: int | None = MAX_CELL) -> str:
    """Server text as inert Markdown: made inert, cut to ``limit``, and the Markdown characters escaped."""
    return _SPECIAL.sub(r"\\\1", cut(inert(text), limit))


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table; the cells must already be :func:`md` text (the headers are the console's own)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return lines


def stamp(at: datetime) -> str:
    """``2026-11-25 08:16:00 UTC``."""
    return in_utc(at).strftime("%Y-%m-%d %H:%M:%S UTC")


def export_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "exports"


def export_name(stem: str, at: datetime) -> str:
    """``<stem>-<server time>.md``, the stem cut down to letters, digits, ``.``, ``_`` and ``-`` (ids are server
    text)."""
    safe = _NAME_UNSAFE.sub("_", stem).strip("._") or "export"
    return f"{safe[:80]}-{in_utc(at).strftime('%Y%m%dT%H%M%SZ')}.md"


def write_export(stem: str, text: str, at: datetime, folder: Path | None = None) -> Path:
    """Write ``text`` to a new file in the export folder (made 0700); the file is 0600 and never overwrites another
    (``-2``, ``-3`` ... when the name is taken). Returns its path; raises ``OSError`` when it cannot."""
    folder = export_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    name = export_name(stem, at)
    data = text.encode("utf-8", "replace")
    for attempt in range(1, 100):
        path = folder / (name if attempt == 1 else name.replace(".md", f"-{attempt}.md"))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return path
    raise FileExistsError(f"{folder}: too many exports named {name}")


def timeline_markdown(
    title: str,
    entries: Sequence[Entry],
    *,
    now: datetime | None,
    cluster: str | None = None,
    operator: str | None = None,
    since: datetime | None = None,
    filtered: str = "",
) -> str:
    """A timeline as a Markdown document: a title, where and when it was exported, and its entries newest first.
    ``title`` is server text too (names): it is made inert here."""
    lines = [f"# Timeline: {md(title, 200)}", ""]
    if cluster:
        lines.append(f"- Cluster: {md(cluster, 200)}")
    if now is not None:
        lines.append(
            f"- Exported at {stamp(now)} (the server's clock)" + (f" by {md(operator, 60)}" if operator else "")
        )
    if since is not None:
        lines.append(f"- The console heard from {stamp(since)} on: nothing before that is known here")
    if filtered:
        lines.append(f"- Only the entries matching the filter `{md(filtered, 200)}`")
    lines.append(f"- {len(entries)} entries, newest first; times in UTC")
    lines.append("")
    rows = (
        [
            in_utc(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            e.kind,
            md(e.summary),
            md(e.who or "", 60),
            md(f"{e.ref[0]} {e.ref[1]}", 100) if e.ref else "",
        ]
        for e in entries
    )
    lines += md_table(["Time (UTC)", "Kind", "What", "Who", "About"], rows)
    return "\n".join(lines) + "\n"
