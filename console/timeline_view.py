"""One subject's timeline: everything the console knows happened to a machine, a node or a job, on one time axis.

Pure (no Textual, no I/O): it reads the store and what the caller fetched, and merges five sources into
:class:`Entry` rows, newest first, on the server's clock:

* the store's per-subject history (:mod:`console.store.timeline`): state changes, draining, and a job's placement,
  reroutes, start, pause, resume, end (completed, failed, cancelled) and scrap; a job's ``created_at`` as its first
  entry; a node's timeline also takes its machines' state changes;
* the alert journal (:mod:`console.store.journal`): every transition of the alerts about the subject (a node's: about
  it or its machines), with who acknowledged or shelved and the note;
* the server's audit trail (``store.audit``, plus a page the caller fetched): the commands on the subject (a
  machine's: also on the jobs it ran; a node's: also on its machines; a job's: also on the machines it was on,
  while it was there), with who, the reason and the outcome;
* this console's local audit log (records the caller read off the UI thread): commands that never reached the
  server's trail (refused on the way, failed, or sent with no outcome recorded);
* the connection log of the sources that serve the subject (``SourceStatus.log``): each gap, from the moment the
  source stopped being live to the moment it was live again, with its length.

Limits: the store's history starts when the console started listening (nothing before its first snapshot), keeps
500 entries a subject and 100,000 in all; the journal 50,000 rows; ``store.audit`` the last 500 entries (the fetched
page reaches further back); the connection log the last 200 lines of each source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.api.models import AuditEntry, Job
from console.formatting import duration
from console.store.journal import JournalRow
from console.store.status import LogLine
from console.store.store import Store
from console.store.timeline import TimelineEntry

__all__ = [
    "Entry",
    "Gap",
    "Placement",
    "audit_entry",
    "connection_gaps",
    "gap_entries",
    "journal_entry",
    "local_entry",
    "local_records_left",
    "parse_time",
    "placements",
    "serving_sources",
    "subject_entries",
]

Ref = tuple[str, str]

KINDS = ("state", "job", "alert", "command", "connection")
"""What an entry is about, as the Kind column says it."""

_STATE_TONE = {"fault": "fault", "blocked": "blocked", "paused": "paused", "offline": "offline", "degraded": "high"}
_JOB_TONE = {"failed": "fault", "scrapped": "high", "cancelled": "paused", "paused": "paused"}
_PRIORITY_TONE = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a timeline. ``ref`` is where ``enter`` goes (a machine, a job, a node or an alert); ``tone`` how
    the row reads (``fault``, ``critical``, ``high``, ``paused`` ... or ``""``)."""

    at: datetime
    kind: str
    summary: str
    who: str | None = None
    ref: Ref | None = None
    tone: str = ""
    key: str = ""


@dataclass(frozen=True, slots=True)
class Gap:
    """A source not live from ``start`` to ``end`` (``None``: not back yet)."""

    source_id: str
    start: datetime
    end: datetime | None
    reason: str

    def length(self, now: datetime | None) -> float | None:
        end = self.end or now
        return None if end is None else max(0.0, (end - self.start).total_seconds())


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a job was: a machine (or only a node), from ``since`` (``None``: before the console listened)."""

    machine_id: str | None
    node_id: str | None
    since: datetime | None
    why: str


# --- connection gaps ----------------------------------------------------------------------------------------------

_STATE_LINE = re.compile(r"^(connecting|live|reconnecting|stale|failed|stopped)(?::\s*(.*))?$", re.S)
_RETRY = re.compile(r"\s*\(retry in [0-9.]+ s\)$")


def connection_gaps(source_id: str, log: Iterable[LogLine]) -> list[Gap]:
    """The gaps in a source's connection log, oldest first: from the first line that leaves ``live`` to the next
    ``live`` line. The start before the first ``live`` is not a gap (the console was starting)."""
    gaps: list[Gap] = []
    live_once = False
    start: LogLine | None = None
    reason = ""
    for line in log:
        match = _STATE_LINE.match(line.message)
        if match is None:
            continue
        state = match.group(1)
        if state == "live":
            if start is not None:
                gaps.append(Gap(source_id, start.at, line.at, reason))
                start = None
            live_once = True
        elif live_once and start is None:
            start, reason = line, _RETRY.sub("", match.group(2) or state)
    if start is not None:
        gaps.append(Gap(source_id, start.at, None, reason))
    return gaps


def gap_entries(gap: Gap, now: datetime | None) -> list[Entry]:
    """A gap as two entries: lost (with why) and back (with how long it lasted), or one while it lasts."""
    lost = Entry(gap.start, "connection", f"{gap.source_id}: connection lost: {gap.reason}", tone="offline")
    length = gap.length(now)
    if gap.end is None:
        words = f"{gap.source_id}: not back yet" + (f" ({duration(length)} so far)" if length is not None else "")
        return [lost, Entry(now or gap.start, "connection", words, tone="offline")]
    back = Entry(gap.end, "connection", f"{gap.source_id}: reconnected after a gap of {duration(length or 0)}")
    return [lost, back]


def serving_sources(store: Store, kind: str, subject_id: str) -> list[str]:
    """The sources that serve a subject: the one it is shown from and every source holding its node (else every
    cluster source: a job that went, say)."""
    table = {"machine": "machines", "job": "jobs", "node": "nodes"}.get(kind)
    found: dict[str, None] = {}
    owner = store.owner(table, subject_id) if table else None
    if owner:
        found[owner] = None
    node_id = _node_of(store, kind, subject_id)
    if node_id is not None:
        for entry in store.node_sources(node_id):
            found.setdefault(entry.source_id, None)
    if not found:
        found.update((s, None) for s, status in store.sources.items() if status.kind == "cluster")
    return list(found)


def _node_of(store: Store, kind: str, subject_id: str) -> str | None:
    if kind == "node":
        return subject_id
    if kind == "machine":
        machine = store.machines.get(subject_id)
        return machine.node_id if machine else None
    job = store.jobs.get(subject_id)
    return job.node_id if job else None


# --- the other sources, one entry each ----------------------------------------------------------------------------


def store_entry(entry: TimelineEntry) -> Entry:
    kind = "state" if entry.event in ("state", "draining") else "job"
    tone = _STATE_TONE.get(entry.value or "", "") if kind == "state" else _JOB_TONE.get(entry.event, "")
    ref = entry.ref
    if entry.subject[0] == "machine" and kind == "state":
        ref = entry.subject  # a node's timeline shows its machines' states: enter goes to the machine
    return Entry(entry.at, kind, entry.summary, entry.who, ref, tone)


def journal_entry(row: JournalRow) -> Entry:
    text = f"{row.transition} {row.priority} {row.code}: {row.message}"
    if row.note:
        text += f" ({row.note})"
    tone = _PRIORITY_TONE.get(row.priority, "") if row.transition in ("raised", "re-raised") else ""
    return Entry(row.at, "alert", text, row.who, ("alert", row.id), tone)


def _command(action: str, kind: str, ident: str, subject: Ref | None) -> str:
    """``machine.pause`` on the subject itself, else ``job.reroute job J-1042``."""
    return action if (kind, ident) == subject else f"{action} {kind} {ident}"


def audit_entry(entry: AuditEntry, subject: Ref | None = None) -> Entry:
    """A server audit entry (``subject``: the timeline's own, not named again)."""
    text = f"{_command(entry.action, entry.target.kind, entry.target.id, subject)}: {entry.outcome}"
    if entry.reason:
        text += f", reason: {entry.reason}"
    if entry.detail and entry.outcome != "applied":
        text += f" ({entry.detail})"
    ref = (entry.target.kind, entry.target.id)
    return Entry(entry.at, "command", text, entry.operator, ref, "" if entry.outcome == "applied" else "high")


def local_entry(record: Mapping[str, Any], subject: Ref | None = None) -> Entry | None:
    """A local audit record as an entry (``None``: no time on it)."""
    at = parse_time(record.get("server_at")) or parse_time(record.get("at"))
    if at is None:
        return None
    target = record.get("target")
    if not isinstance(target, Mapping):
        target = {}
    kind, ident = str(target.get("kind") or "?"), str(target.get("id") or "?")
    action = str(record.get("action") or "?")
    command = _command(action, kind, ident, subject)
    if record.get("phase") == "attempt":
        text = f"{command}: sent from this console, no outcome recorded"
    else:
        text = f"{command}: {record.get('outcome') or '?'} (this console)"
    if record.get("reason"):
        text += f", reason: {record['reason']}"
    detail = record.get("detail")
    if detail and record.get("outcome") != "applied":
        text += f" ({detail})"
    who = record.get("operator")
    return Entry(at, "command", text, str(who) if who else None, (kind, ident), "high")


def local_records_left(records: Sequence[Mapping[str, Any]], audit_keys: set[str]) -> list[Mapping[str, Any]]:
    """The local records worth showing beside the server's trail: outcomes whose command is not in it, and
    attempts that never got an outcome (a crash, or the console closed first)."""
    outcomes = {r.get("idempotency_key") for r in records if r.get("phase") == "outcome"}
    left = []
    for record in records:
        key = record.get("idempotency_key")
        if key and key in audit_keys:
            continue
        if record.get("phase") == "attempt" and key in outcomes:
            continue
        left.append(record)
    return left


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- one subject --------------------------------------------------------------------------------------------------


def subject_entries(
    store: Store,
    kind: str,
    subject_id: str,
    *,
    now: datetime | None,
    local: Sequence[Mapping[str, Any]] = (),
    fetched: Iterable[AuditEntry] = (),
) -> list[Entry]:
    """Every entry of one subject, newest first (see the module docstring)."""
    history = store.timeline.entries((kind, subject_id))
    entries = [store_entry(e) for e in history]
    targets: set[Ref] = {(kind, subject_id)}
    alert_sources: set[Ref] = {(kind, subject_id)}
    if kind == "job":
        job = store.jobs.get(subject_id)
        if job is not None:
            entries.append(_created(job))
    elif kind == "machine":
        targets |= {("job", j) for j in store.jobs_by_machine_index.get(subject_id)}
        targets |= {e.ref for e in history if e.ref is not None and e.ref[0] == "job"}
    elif kind == "node":
        for machine_id in store.machines_by_node_index.get(subject_id):
            targets.add(("machine", machine_id))
            alert_sources.add(("machine", machine_id))
            entries += [store_entry(e) for e in store.timeline.entries(("machine", machine_id)) if e.event == "state"]
    entries += [journal_entry(r) for r in store.journal.rows if (r.source.kind, r.source.id) in alert_sources]
    audit = {e.id: e for e in fetched}
    audit.update((e.id, e) for e in store.audit)
    mine = [e for e in audit.values() if (e.target.kind, e.target.id) in targets]
    entries += [audit_entry(e, (kind, subject_id)) for e in mine]
    if kind == "job":  # a pause of its machine paused it: who and why belong on the job's timeline too
        spans = _machine_spans(store.jobs.get(subject_id), history)
        entries += [
            audit_entry(e)
            for e in audit.values()
            if e.target.kind == "machine" and _on_machine(spans, e.target.id, e.at)
        ]
    keys = {e.idempotency_key for e in audit.values() if e.idempotency_key}
    for record in local_records_left([r for r in local if _target(r) in targets], keys):
        entry = local_entry(record, (kind, subject_id))
        if entry is not None:
            entries.append(entry)
    for source_id in serving_sources(store, kind, subject_id):
        status = store.sources.get(source_id)
        if status is not None:
            for gap in connection_gaps(source_id, status.log):
                entries += gap_entries(gap, now)
    return newest_first(entries)


_TIE_RANK = {"connection": 0, "command": 1}
"""At the same instant a lost connection comes first, then a command, then what it brought about."""


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """Sorted newest first, each with a key of its own. At one instant a command sorts before what it brought about
    (shown below it, newest first), otherwise the order they were gathered in."""
    ordered = sorted(
        enumerate(entries), key=lambda pair: (pair[1].at, _TIE_RANK.get(pair[1].kind, 2), pair[0]), reverse=True
    )
    out = []
    for index, (_, entry) in enumerate(ordered):
        out.append(Entry(entry.at, entry.kind, entry.summary, entry.who, entry.ref, entry.tone, str(index)))
    return out


def _machine_spans(
    job: Job | None, history: Sequence[TimelineEntry]
) -> list[tuple[str, datetime | None, datetime | None]]:
    """The machines a job was on, each from when to when (``None``: open, before the console listened or still
    there); never before the job was created."""
    places = placements(job, history)
    spans: list[tuple[str, datetime | None, datetime | None]] = []
    known: datetime | None = job.created_at if job is not None else None
    for index, place in enumerate(places):
        start = place.since or known
        known = place.since or known
        end = next((later.since for later in places[index + 1 :] if later.since is not None), None)
        if place.machine_id is not None:
            spans.append((place.machine_id, start, end))
    return spans


def _on_machine(spans: list[tuple[str, datetime | None, datetime | None]], machine_id: str, at: datetime) -> bool:
    return any(
        machine == machine_id and (start is None or at >= start) and (end is None or at < end)
        for machine, start, end in spans
    )


def _created(job: Job) -> Entry:
    return Entry(job.created_at, "job", f"created: {job.quantity} x {job.part} (order {job.order_id})")


def _target(record: Mapping[str, Any]) -> Ref | None:
    target = record.get("target")
    if not isinstance(target, Mapping):
        return None
    return (str(target.get("kind")), str(target.get("id")))


# --- where a job ran ----------------------------------------------------------------------------------------------


def placements(job: Job | None, history: Sequence[TimelineEntry]) -> list[Placement]:
    """Where a job was, oldest first: from its history (placed, rerouted, taken off the machine) and where it is now.
    A place the console saw the job leave but not arrive at is given without a time (``since`` is ``None``)."""
    found: list[Placement] = []
    for entry in history:
        if entry.event not in ("assigned", "rerouted", "unassigned"):
            continue
        if not found and entry.was is not None:  # where it was before the console saw it move
            machine, node = _split(entry.was, None)
            found.append(Placement(machine, node, None, "first seen there"))
        if entry.event == "unassigned":
            found.append(Placement(None, None, entry.at, "back to the backlog"))
        elif entry.ref is not None:
            machine, node = _split(entry.ref, entry.value)
            found.append(Placement(machine, node, entry.at, entry.event))
    if job is None or not (job.machine_id or job.node_id):
        return found
    if not found:
        return [Placement(job.machine_id, job.node_id, None, "since first seen")]
    last = found[-1]
    if last.machine_id != job.machine_id or (job.machine_id is None and last.node_id != job.node_id):
        found.append(Placement(job.machine_id, job.node_id, None, "now (the move itself was not seen)"))
    return found


def _split(ref: Ref, node_id: str | None) -> tuple[str | None, str | None]:
    return (ref[1], node_id) if ref[0] == "machine" else (None, ref[1])
