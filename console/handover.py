"""The shift handover: what went wrong since a time, what was done about it and by whom, and what is still open.

Pure (no Textual, no I/O): :func:`build_handover` reads the store and what the caller fetched (a page of the server's
audit trail, the newest local audit records), all on the server's clock, and returns :class:`Section` lists that
the handover screen (``console.screens.handover``) shows and :func:`handover_markdown` writes:

* **what went wrong**: alerts raised (the journal's ``raised`` and ``re-raised`` rows), faults (machines going to
  ``fault`` or ``offline``, nodes going ``offline`` or ``degraded``: the store's history), jobs that failed or
  scrapped parts (the history), and the connection gaps of every source (its connection log);
* **what was done**: every operator command in the server's audit trail, with who, the reason and the outcome, and
  the local records of commands that never reached it (refused on the way, failed, no outcome);
* **what is still open**: the active alerts, most urgent first (then the shelved ones, with until when), the
  machines in fault, blocked, offline, maintenance or paused (or draining), the jobs overdue or at risk;
* the **ISA-18.2 figures** over the same span (``console.alarm_metrics``): annunciations and their rate, the
  busiest 10 minutes, floods, chattering, stale alarms, the priority mix against the guideline, the 10 most
  frequent codes, and the repeats (one code on one source, one entry with its count).

``since`` is what the operator asks (:func:`parse_since`: ``HH:MM``, ``-8h``, ``-90m``, ``2d``, an ISO time, or
``shift``), else the last shift start of the config's ``shift_start`` (:func:`shift_began`), else 8 hours back.
Limits are the store's: nothing before the console started listening (said in :attr:`Handover.heard_from`), the
history's and the journal's caps, the last 500 audit entries heard plus the page fetched. Each section lists at most
:data:`MAX_ITEMS` items (the newest) and says how many more there were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from console.alarm_metrics import AlarmFigures, alarm_figures
from console.api.models import Alert, AuditEntry
from console.formatting import age, clock, duration, in_utc, percent
from console.rules import MACHINE_STATE_RANK, job_at_risk, job_lateness, sort_alerts
from console.store.store import Store
from console.timeline_view import Entry, audit_entry, connection_gaps, local_entry, local_records_left

__all__ = [
    "DEFAULT_SPAN",
    "MAX_ITEMS",
    "Handover",
    "Item",
    "Section",
    "build_handover",
    "handover_markdown",
    "isa_lines",
    "parse_since",
    "shift_began",
]

_REPEATS_LISTED = 5
"""Repeats named on the figures' line (most first); the others are counted."""
DEFAULT_SPAN = timedelta(hours=8)
"""How far back a handover looks with no ``since`` and no ``shift_start``."""
MAX_ITEMS = 100

Ref = tuple[str, str]

_FAULT_STATES = {"machine": ("fault", "offline"), "node": ("offline", "degraded")}
_OPEN_STATES = ("fault", "blocked", "offline", "maintenance", "paused")
_PRIORITY_TONE = {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}
_STATE_WORDS = {
    "active_unacked": "NOT ACKNOWLEDGED",
    "active_acked": "acknowledged",
    "cleared_unacked": "cleared, NOT ACKNOWLEDGED",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a section: when (``None``: a standing condition), what, who, what it is about, how it reads."""

    at: datetime | None
    text: str
    who: str | None = None
    ref: Ref | None = None
    tone: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    items: list[Item]
    empty: str
    more: int = 0
    """Items left out (older ones) beyond :data:`MAX_ITEMS`."""


@dataclass(frozen=True, slots=True)
class Handover:
    since: datetime
    now: datetime
    heard_from: datetime | None
    """When the console started listening: nothing before it is known here."""
    went_wrong: list[Section]
    done: list[Section]
    still_open: list[Section]
    figures: AlarmFigures | None


# --- since ----------------------------------------------------------------------------------------------------------

_SPAN = re.compile(r"^-?\s*(\d+(?:\.\d+)?)\s*([mhd])$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def shift_began(now: datetime, starts: Sequence[time]) -> datetime | None:
    """The latest shift start (UTC clock times) at or before ``now``; ``None`` without any."""
    if not starts:
        return None
    today = in_utc(now)
    candidates = []
    for start in starts:
        at = today.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
        candidates.append(at if at <= today else at - timedelta(days=1))
    return max(candidates)


def parse_since(text: str, now: datetime, starts: Sequence[time] = ()) -> datetime | str:
    """What the operator typed as ``since``: the time, or why it is not one (one line).

    ``HH:MM`` (UTC, the latest such time at or before now), ``-8h`` / ``8h`` / ``-90m`` / ``2d`` (that long ago),
    ``shift`` (the last shift start), or an ISO time (``2026-11-25T06:00``, UTC when it names no zone)."""
    words = text.strip().lower()
    if not words:
        return "type a time (06:00), a span back (-8h, -90m, 2d), shift, or an ISO time"
    if words == "shift":
        began = shift_began(now, starts)
        return began if began is not None else "no shift_start in the config file"
    span = _SPAN.match(words)
    if span is not None:
        amount, unit = float(span.group(1)), span.group(2)
        delta = timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount if unit == "h" else amount * 24)
        if delta > timedelta(days=366):
            return "at most a year back"
        return now - delta
    hhmm = _CLOCK.match(words)
    if hhmm is not None:
        hour, minute = int(hhmm.group(1)), int(hhmm.group(2))
        if hour > 23 or minute > 59:
            return f"{text.strip()[:20]!r} is not a time of day"
        began = shift_began(now, [time(hour, minute)])
        assert began is not None
        return began
    try:
        parsed = datetime.fromisoformat(words.upper().replace("Z", "+00:00"))
    except ValueError:
        return f"{text.strip()[:20]!r}: not a time (06:00), a span back (-8h), shift, or an ISO time"
    parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return parsed if parsed <= now else "that is in the future (on the server's clock)"


# --- building ---------------------------------------------------------------------------------------------------------


def _name(store: Store, kind: str, ident: str) -> str:
    if kind == "machine" and (machine := store.machines.get(ident)) is not None:
        return f"{machine.name} ({ident})"
    if kind == "node" and (node := store.nodes.get(ident)) is not None:
        return f"{node.name} ({ident})"
    return f"{kind} {ident}"


def _section(title: str, items: list[Item], empty: str) -> Section:
    """``items`` in time order (oldest first: the shift's story), at most :data:`MAX_ITEMS` of the newest."""
    items = sorted(items, key=lambda i: i.at or datetime.min.replace(tzinfo=UTC))
    more = max(0, len(items) - MAX_ITEMS)
    return Section(title, items[more:], empty, more)


def _alert_words(store: Store, priority: str, code: str, kind: str, ident: str, message: str) -> str:
    return f"{priority} {code} on {_name(store, kind, ident)}: {message}"


def build_handover(
    store: Store,
    *,
    since: datetime,
    now: datetime,
    local: Sequence[Mapping[str, Any]] = (),
    fetched: Iterable[AuditEntry] = (),
) -> Handover:
    """The handover for ``(since, now]`` on the server's clock (see the module docstring)."""

    def within(at: datetime) -> bool:
        return since < at <= now

    raised = [
        Item(
            r.at,
            _alert_words(store, r.priority, r.code, r.source.kind, r.source.id, r.message)
            + (" (again)" if r.transition == "re-raised" else ""),
            ref=("alert", r.id),
            tone=_PRIORITY_TONE.get(r.priority, ""),
        )
        for r in store.journal.rows
        if r.transition in ("raised", "re-raised") and within(r.at)
    ]
    faults, jobs = [], []
    for entry in store.timeline:
        if not within(entry.at):
            continue
        kind, ident = entry.subject
        if entry.event == "state" and entry.value in _FAULT_STATES.get(kind, ()):
            tone = "fault" if entry.value == "fault" else "offline"
            faults.append(
                Item(entry.at, f"{_name(store, kind, ident)}: {entry.summary}", entry.who, entry.subject, tone)
            )
        elif kind == "job" and entry.event in ("failed", "scrapped"):
            jobs.append(Item(entry.at, f"job {ident}: {entry.summary}", None, entry.subject, "fault"))
    faults += _faults_first_seen(store, {item.ref for item in faults}, within)
    gaps = []
    for source_id, status in store.sources.items():
        for gap in connection_gaps(source_id, status.log):
            end = gap.end or now
            if end > since and gap.start <= now:
                length = duration(gap.length(now) or 0)
                back = f"back at {clock(gap.end)} after {length}" if gap.end else f"not back yet ({length} so far)"
                words = f"{source_id}: connection lost ({gap.reason}); {back}"
                gaps.append(Item(gap.start, words, tone="offline"))
    went_wrong = [
        _section(f"Alerts raised ({len(raised)})", raised, "No alert raised"),
        _section(f"Faults ({len(faults)})", faults, "No machine fault, no node offline"),
        _section(f"Jobs failed or scrapped parts ({len(jobs)})", jobs, "No job failed or scrapped a part"),
        _section(f"Connection gaps ({len(gaps)})", gaps, "No connection lost"),
    ]
    audit = {e.id: e for e in fetched}
    audit.update((e.id, e) for e in store.audit)
    commands = [_item(audit_entry(e)) for e in audit.values() if within(e.at)]
    keys = {e.idempotency_key for e in audit.values() if e.idempotency_key}
    for record in local_records_left(local, keys):
        command = local_entry(record)
        if command is not None and within(command.at):
            commands.append(_item(command))
    done = [_section(f"Operator commands ({len(commands)})", commands, "No command sent")]
    return Handover(
        since=since,
        now=now,
        heard_from=store.journal.since,
        went_wrong=went_wrong,
        done=done,
        still_open=_still_open(store, now),
        figures=alarm_figures(
            store.journal.rows,
            now,
            window=max(now - since, timedelta(minutes=1)),
            alerts=store.journal.alerts(),
            since=store.journal.since,
        ),
    )


def _faults_first_seen(store: Store, seen: set[Ref | None], within: Callable[[datetime], bool]) -> list[Item]:
    """Machines in fault or offline since a time in the span that the console did not see change (it was not
    listening yet): their state as it first saw it."""
    found = []
    for machine in store.machines.values():
        ref = ("machine", machine.id)
        if machine.state not in _FAULT_STATES["machine"] or not within(machine.state_since) or ref in seen:
            continue
        words = f"{_name(store, 'machine', machine.id)}: {machine.state}"
        words += f" [{machine.fault_code}]" if machine.fault_code else ""
        words += f": {machine.state_reason}" if machine.state_reason else ""
        words += " (as the console first saw it)"
        found.append(Item(machine.state_since, words, None, ref, "fault" if machine.state == "fault" else "offline"))
    return found


def _item(entry: Entry) -> Item:
    return Item(entry.at, entry.summary, entry.who, entry.ref, entry.tone)


def _still_open(store: Store, now: datetime) -> list[Section]:
    alerts: list[Alert] = sort_alerts(a for a in store.alerts.values() if a.state != "shelved")
    active = []
    for a in alerts:
        words = _alert_words(store, a.priority, a.code, a.source.kind, a.source.id, a.message)
        words += f" · {_STATE_WORDS.get(a.state, a.state)}" + (f" by {a.acked_by}" if a.acked_by else "")
        words += f" · raised {age(a.raised_at, now)} ago"
        active.append(Item(None, words, a.acked_by, ("alert", a.id), _PRIORITY_TONE.get(a.priority, "")))
    shelved = []
    for a in sort_alerts(a for a in store.alerts.values() if a.state == "shelved"):
        words = _alert_words(store, a.priority, a.code, a.source.kind, a.source.id, a.message)
        words += f" · shelved until {clock(a.shelved_until)}" if a.shelved_until else " · shelved"
        shelved.append(Item(None, words, a.acked_by, ("alert", a.id), "muted"))
    machines = []
    for machine in sorted(store.machines.values(), key=lambda m: (MACHINE_STATE_RANK.get(m.state, 9), m.id)):
        if machine.state not in _OPEN_STATES and not machine.draining:
            continue
        words = f"{machine.name} ({machine.id}): {machine.state} for {age(machine.state_since, now)}"
        words += f" [{machine.fault_code}]" if machine.fault_code else ""
        words += f": {machine.state_reason}" if machine.state_reason else ""
        words += " · draining" if machine.draining else ""
        tone = machine.state if machine.state in ("fault", "blocked", "offline", "paused") else ""
        machines.append(Item(None, words, machine.paused_by, ("machine", machine.id), tone))
    late, risky = [], []
    for job in store.jobs.values():
        lateness = job_lateness(job, now)
        where = f" on {job.machine_id}" if job.machine_id else f" on node {job.node_id}" if job.node_id else ""
        if lateness is not None:
            text = f"job {job.id} {job.part}: LATE {duration(lateness.total_seconds())} (due {clock(job.due_at)})"
            late.append((job.due_at, Item(None, text + where, None, ("job", job.id), "high")))
        elif job_at_risk(job, now):
            text = f"job {job.id} {job.part}: AT RISK, ETA {clock(job.eta)} after due {clock(job.due_at)}"
            risky.append((job.due_at, Item(None, text + where, None, ("job", job.id), "medium")))
    jobs = [item for _, item in sorted(late, key=_first)] + [item for _, item in sorted(risky, key=_first)]
    return [
        _capped(f"Active alerts ({len(active)}), most urgent first", active, "No active alert"),
        _capped(f"Shelved alerts ({len(shelved)})", shelved, "No shelved alert"),
        _capped(f"Machines not running normally ({len(machines)})", machines, "Every machine running or idle"),
        _capped(f"Jobs overdue or at risk ({len(jobs)})", jobs, "No job overdue or at risk"),
    ]


def _first(pair: tuple[datetime, Item]) -> datetime:
    return pair[0]


def _capped(title: str, items: list[Item], empty: str) -> Section:
    return Section(title, items[:MAX_ITEMS], empty, max(0, len(items) - MAX_ITEMS))


# --- ISA-18.2 and Markdown -----------------------------------------------------------------------------------------


def isa_lines(figures: AlarmFigures | None) -> list[str]:
    """The ISA-18.2 figures of the span, in words."""
    if figures is None:
        return ["No alarm figures: the console has not heard the server's time yet"]
    covered = duration(figures.covered.total_seconds())
    if figures.heard != figures.raised:  # some were raised before the console listened (its first snapshot's)
        rate = f"; {figures.heard} in the {covered} the console heard ({figures.per_hour:.1f} an hour"
        rate += ", rough)" if figures.covered < timedelta(minutes=10) else ")"
    elif figures.covered < timedelta(minutes=10):
        rate = f" ({figures.per_hour:.1f} an hour, rough: the console heard only {covered} of it)"
    else:
        rate = f" ({figures.per_hour:.1f} an hour over the {covered} the console heard)"
    top = ", ".join(f"{code} {n}" for code, n in figures.top_codes)
    repeats = [r for r in figures.repeats if r.count > 1]
    repeated = ", ".join(f"{r.code} on {r.source_id} {r.count} times" for r in repeats[:_REPEATS_LISTED])
    if len(repeats) > _REPEATS_LISTED:
        repeated += f", and {len(repeats) - _REPEATS_LISTED} more"
    lines = [
        f"Alarms annunciated: {figures.raised}{rate}; busiest 10 minutes: {figures.peak_10_min}",
        f"Floods (more than 10 in 10 minutes): {len(figures.floods)}"
        + "".join(f"; {clock(f.start)}-{clock(f.end)} ({f.count})" for f in figures.floods[:5]),
        f"Chattering (3 in a minute on one source and code): {len(figures.chattering)}"
        + "".join(f"; {r.code} on {r.source_id} ({r.most_in_window})" for r in figures.chattering[:5]),
        f"Stale (active over 24 h): {len(figures.stale)}",
    ]
    mix = figures.mix
    shares = ", ".join(f"{p} {percent(mix.share(p))}" for p in ("critical", "high", "medium", "low"))
    verdict = mix.within_guideline
    judged = "too few alarms to judge" if verdict is None else "within the guideline" if verdict else "OUTSIDE it"
    lines.append(f"Priority mix: {shares} (guideline: low+medium at least 80 %, critical under 5 %): {judged}")
    lines.append(f"Most frequent codes: {top or 'none'}")
    lines.append(f"Repeats (one code on one source, more than once): {repeated or 'none'}")
    return lines


def handover_markdown(handover: Handover, *, cluster: str | None = None, operator: str | None = None) -> str:
    """The handover as a Markdown document; every piece of server text inert (``console.exports.md``)."""
    from console.exports import md, stamp

    h = handover
    lines = [f"# Handover{': ' + md(cluster, 200) if cluster else ''}", ""]
    lines.append(f"- From {stamp(h.since)} to {stamp(h.now)} (the server's clock)")
    if operator:
        lines.append(f"- Written by {md(operator, 60)}")
    if h.heard_from is not None and h.heard_from > h.since:
        lines.append(f"- The console heard from {stamp(h.heard_from)} on: nothing before that is known here")
    for title, sections in (("What went wrong", h.went_wrong), ("What was done", h.done)):
        lines += ["", f"## {title}"]
        for section in sections:
            lines += _markdown_section(section, md, with_time=True)
    lines += ["", "## What is still open"]
    for section in h.still_open:
        lines += _markdown_section(section, md, with_time=False)
    lines += ["", "## ISA-18.2 alarm figures", ""]
    lines += [f"- {md(line, 1000)}" for line in isa_lines(h.figures)]
    return "\n".join(lines) + "\n"


def _markdown_section(section: Section, md: Any, *, with_time: bool) -> list[str]:
    lines = ["", f"### {md(section.title, 200)}", ""]
    if not section.items:
        return [*lines, f"- {md(section.empty)}"]
    for item in section.items:
        when = f"{in_utc(item.at).strftime('%m-%d %H:%M')} " if with_time and item.at is not None else ""
        who = f" ({md(item.who, 60)})" if item.who and item.who not in item.text else ""
        lines.append(f"- {when}{md(item.text)}{who}")
    if section.more:
        lines.append(f"- … and {section.more} earlier, not listed")
    return lines
