"""What ``y`` (copy) puts on the operator's clipboard: a machine's id, a job's details, a timeline entry, an alert.

Pure (no Textual, no Rich): the screens pick what is under the cursor and hand it here; the app sends the text with
Textual's ``copy_to_clipboard`` (OSC 52, which reaches the operator's own clipboard over SSH and through tmux).

Why every line goes through :func:`widgets.text_clean.inert`: OSC 52 carries the text base64-encoded, so nothing in it
can act on *this* terminal, but the clipboard is pasted somewhere next: a shell, a ticket, a chat. A machine name with
an ESC, a newline or a bidi override would then run a command or hide text there. Each line is made inert (controls
shown as ``␛``, ``␊`` ...) and only the line breaks the console puts between its own lines are kept. The whole is cut
to :data:`MAX_COPY_CHARS`: terminals and tmux drop OSC 52 payloads past a limit (xterm's is about 100 kB), and a copy
is read by a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from console.api.models import Alert, Job
from console.formatting import in_utc
from console.timeline_view import Entry
from widgets.text_clean import cut, inert

__all__ = ["MAX_COPY_CHARS", "Copy", "alert_copy", "clipboard_text", "entry_copy", "id_copy", "job_copy", "stamp"]

MAX_COPY_CHARS = 4_000
"""The most characters one copy puts on the clipboard (the rest is cut, ending with ``…``)."""
MAX_FIELD_CHARS = 300
"""The most characters of one server field (a message, a reason): a copy is a few lines, not a dump."""


@dataclass(frozen=True, slots=True)
class Copy:
    """Something to copy: ``text`` for the clipboard, ``what`` for the toast ("job J-1042")."""

    what: str
    text: str


def _field(value: object) -> str:
    return cut(inert(value), MAX_FIELD_CHARS)


def clipboard_text(lines: Iterable[object]) -> str:
    """``lines`` made inert one by one, joined by line breaks, cut to :data:`MAX_COPY_CHARS`."""
    return cut("\n".join(inert(line) for line in lines), MAX_COPY_CHARS)


def stamp(value: datetime | None) -> str:
    """``2026-12-06 08:21:03 UTC``: a time that still means something once pasted into a ticket."""
    if value is None:
        return "unknown time"
    return in_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def id_copy(kind: str, ident: str) -> Copy:
    """An id alone (a machine's, a node's): what an operator pastes into a search or a message."""
    return Copy(f"{_field(kind)} id {_field(ident)}", clipboard_text([_field(ident)]))


def job_copy(job: Job, *, machine_name: str | None = None, node_name: str | None = None) -> Copy:
    """A job in a few lines: id and part, status and where it is, due time, order and priority."""
    if job.machine_id:
        where = f"on {_field(job.machine_id)}" + (f" ({_field(machine_name)})" if machine_name else "")
    else:
        where = "on no machine"
    if job.node_id:
        where += f", node {_field(job.node_id)}" + (f" ({_field(node_name)})" if node_name else "")
    else:
        where += ", in the backlog (no node has taken it)"
    lines = [
        f"Job {_field(job.id)}: {_field(job.part)}",
        f"Status: {_field(job.status)} {where}",
        f"Due: {stamp(job.due_at)}",
        f"Order {_field(job.order_id)}, priority {job.priority}, quantity {job.quantity} "
        f"({job.done_qty} done, {job.scrap_qty} scrapped)",
    ]
    return Copy(f"job {_field(job.id)}", clipboard_text(lines))


def entry_copy(entry: Entry, subject: str) -> Copy:
    """One timeline entry: when, whose timeline (``subject``: "Machine Printer 07 (M-LDS-07)"), what happened, who,
    and what the entry is about when that is another object (the job a machine ran)."""
    line = f"{stamp(entry.at)} {_field(subject)}: [{_field(entry.kind)}] {_field(entry.summary)}"
    if entry.who:
        line += f" (by {_field(entry.who)})"
    if entry.ref:
        line += f" -> {_field(entry.ref[0])} {_field(entry.ref[1])}"
    return Copy("the timeline entry", clipboard_text([line]))


def alert_copy(alert: Alert) -> Copy:
    """An alert: its id, priority, code and source, and its message."""
    lines = [
        f"Alert {_field(alert.id)} {_field(alert.priority)} {_field(alert.code)} "
        f"on {_field(alert.source.kind)} {_field(alert.source.id)} ({_field(alert.state)})",
        f"{_field(alert.message)}",
        f"Raised {stamp(alert.raised_at)}",
    ]
    return Copy(f"alert {_field(alert.id)}", clipboard_text(lines))
