"""How a :class:`~console.status_report.StatusReport` is written out: the stable JSON document and the compact text
``factory-console status`` prints. Split from ``console.status_report`` (which works the figures out of a snapshot)
so each module has one job; both import no Textual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from console.rules import MACHINE_STATE_RANK
from console.status_report import (
    EXIT_UNREACHABLE,
    FORMAT,
    MACHINE_STATES,
    NODE_STATE_RANK,
    NODE_STATES,
    PRIORITIES,
    StatusReport,
    clean,
)

__all__ = ["error_json", "render_json", "render_text"]

TEXT_CRITICAL_LINES = 10
"""The text lists at most this many critical alerts (the JSON lists all of them)."""
TEXT_UNKNOWN_STATES = 5
"""The text shows at most this many states the console does not know on one line (the JSON has all of them)."""
TEXT_WORD = 24
"""A server's word (an unknown state or priority) is cut to this many characters in the text."""
TEXT_MESSAGE = 100
"""An alert's message is cut to this many characters in the text."""


def render_json(report: StatusReport, source: str | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict with stable keys (``docs/status-command.md``); ``source`` is the URL read
    (without secrets)."""
    alerts = report.alerts
    oee = report.oee
    return {
        "format": FORMAT,
        "status": report.status,
        "exit_code": report.exit_code,
        "source": source,
        "cluster": {
            "id": report.cluster.id,
            "name": report.cluster.name,
            "region": report.cluster.region,
            "server_time": report.cluster.server_time,
            "seq": report.cluster.seq,
            "instance_id": report.cluster.instance_id,
        },
        "nodes": {"total": report.nodes.total, "by_state": dict(report.nodes.by_state)},
        "machines": {"total": report.machines.total, "by_state": dict(report.machines.by_state)},
        "alerts": {
            "active": alerts.active,
            "by_priority": dict(alerts.by_priority),
            "shelved": alerts.shelved,
            "other": alerts.other,
            "critical": [
                {
                    "id": a.id,
                    "priority": a.priority,
                    "state": a.state,
                    "source": {"kind": a.source_kind, "id": a.source_id},
                    "code": a.code,
                    "message": a.message,
                    "raised_at": a.raised_at,
                    "count": a.count,
                }
                for a in alerts.critical
            ],
        },
        "jobs": {
            "total": report.jobs.total,
            "open": report.jobs.open,
            "overdue": report.jobs.overdue,
            "at_risk": report.jobs.at_risk,
        },
        "oee": None
        if oee is None
        else {
            "scope": "cluster",
            "id": oee.id,
            "window_h": oee.window_h,
            "oee": oee.oee,
            "availability": oee.availability,
            "performance": oee.performance,
            "quality_rate": oee.quality_rate,
            "first_pass_yield": oee.first_pass_yield,
            "scrap_rate": oee.scrap_rate,
            "good_count": oee.good_count,
            "scrap_count": oee.scrap_count,
        },
    }


def error_json(message: str, source: str | None = None) -> dict[str, Any]:
    """What ``status --json`` prints when it has no report (exit code 3): the same ``format``, ``status``
    ``unknown`` and the one-line ``error`` (cleaned)."""
    return {
        "format": FORMAT,
        "status": "unknown",
        "exit_code": EXIT_UNREACHABLE,
        "source": source,
        "error": clean(message),
    }


# --- text -----------------------------------------------------------------------------------------------------------

_LABEL = 9
_TOTAL = 6


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _word(text: str) -> str:
    return clean(text, TEXT_WORD)


def _states(by_state: Mapping[str, int], rank: Mapping[str, int], known: Sequence[str]) -> str:
    """The non-zero states, worst first; the server's unknown states after them (at most a few)."""
    shown = sorted((name for name in known if by_state.get(name)), key=lambda name: rank.get(name, len(rank)))
    parts = [f"{name} {by_state[name]}" for name in shown]
    unknown = [(name, n) for name, n in by_state.items() if name not in known and n]
    parts += [f"{_word(name)} {n}" for name, n in unknown[:TEXT_UNKNOWN_STATES]]
    if len(unknown) > TEXT_UNKNOWN_STATES:
        parts.append(f"(+{len(unknown) - TEXT_UNKNOWN_STATES} other states)")
    return "  ".join(parts) if parts else "-"


def _row(label: str, total: str, rest: str) -> str:
    return f"{label:<{_LABEL}}{total:>{_TOTAL}}  {rest}".rstrip()


def render_text(report: StatusReport, source: str | None = None) -> str:
    """The report as a few lines of plain text (no colour, no escape sequence), ending with a newline.

    The first line is the verdict (``OK`` or ``CRITICAL``), as a monitor's one-line status; then the cluster, one
    row each for nodes, machines, alerts, jobs and OEE, and the critical alerts (at most
    :data:`TEXT_CRITICAL_LINES`).
    """
    alerts = report.alerts
    critical = len(alerts.critical)
    if critical:
        verdict = f"CRITICAL: {critical} critical alert{'s' if critical != 1 else ''} active"
    else:
        verdict = "OK: no critical alert active"
    cluster = report.cluster
    lines = [f"factory-console status: {verdict}"]
    lines.append(_row("cluster", "", f"{cluster.name} ({cluster.id}), {cluster.region}"))
    read = f"{cluster.server_time or '-'} (server time), seq {cluster.seq}"
    if source:
        read += f", from {clean(source)}"
    lines.append(_row("read", "", read))
    lines.append(_row("nodes", str(report.nodes.total), _states(report.nodes.by_state, NODE_STATE_RANK, NODE_STATES)))
    lines.append(
        _row(
            "machines",
            str(report.machines.total),
            _states(report.machines.by_state, MACHINE_STATE_RANK, MACHINE_STATES),
        )
    )
    priorities = [f"{p} {alerts.by_priority.get(p, 0)}" for p in PRIORITIES]
    priorities += [f"{_word(p)} {n}" for p, n in alerts.by_priority.items() if p not in PRIORITIES and n]
    extra = [f"shelved {alerts.shelved}"] if alerts.shelved else []
    extra += [f"other states {alerts.other}"] if alerts.other else []
    lines.append(_row("alerts", str(alerts.active), "  ".join(["active:", *priorities, *extra])))
    jobs = report.jobs
    lines.append(_row("jobs", str(jobs.total), f"open {jobs.open}  overdue {jobs.overdue}  at risk {jobs.at_risk}"))
    oee = report.oee
    if oee is None:
        lines.append(_row("OEE", "-", "no cluster-scope quality in the snapshot"))
    else:
        lines.append(
            _row(
                "OEE",
                _pct(oee.oee),
                f"availability {_pct(oee.availability)}  performance {_pct(oee.performance)}  "
                f"quality {_pct(oee.quality_rate)}  (last {oee.window_h:g} h)",
            )
        )
    if critical:
        lines.append("critical alerts:")
        for a in alerts.critical[:TEXT_CRITICAL_LINES]:
            message = clean(a.message, TEXT_MESSAGE)
            lines.append(
                f"  {clean(a.id, 20)}  {_word(a.state)}  {_word(a.source_kind)} {clean(a.source_id, 40)}  "
                f"{_word(a.code)}  {message}".rstrip()
            )
        if critical > TEXT_CRITICAL_LINES:
            lines.append(f"  ... and {critical - TEXT_CRITICAL_LINES} more (--json lists all)")
    return "\n".join(lines) + "\n"
