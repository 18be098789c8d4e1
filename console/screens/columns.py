"""What each list screen shows: its columns and how one object becomes one row (cells in column order, a style).

Why apart from the rules (``console.rules``): the order and the meaning of rows are domain facts; the words,
widths and glyphs of a table are presentation, and change with the screens.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from console.api.models import FINISHED_JOB_STATUSES, Alert, Job, Machine, Node, Quality
from console.formatting import age, clock, duration, percent, until
from console.rules import (
    MACHINE_STATE_RANK,
    UNACKED,
    EtaView,
    cpk_status,
    job_at_risk,
    job_eta,
    job_lateness,
    rule_words,
    worst_cpk,
)
from console.store.clusters import SEP, cluster_of
from console.store.query import Sourced
from widgets.charset import pick
from widgets.data_grid import Column, DataGrid, RowData
from widgets.glyphs import alert_priority_look, job_status_look, kind_abbr, machine_state_look, node_state_look
from widgets.safe_text import clean

if TYPE_CHECKING:
    from console.settings import SourceSpec

RISK_WIDTH = 10
"""``LATE 3h12m`` whole."""

JOB_COLUMNS = [
    Column("id", "Job", width=8),
    Column("status", "Status", width=11),
    # Machine and node before the part: the part takes what is left (the last flex column absorbs the rest), so
    # the fixed columns, Risk among them, stay whole at 80 columns.
    # Too narrow for all (60 columns): Done, then Node, then P, then Part go, so Due, ETA and Risk stay whole.
    Column("machine", "Machine", min_width=8),
    Column("node", "Node", min_width=9, drop=3),
    Column("part", "Part", min_width=6, flex=3, drop=1),
    Column("priority", "P", width=1, align="right", drop=2),  # 1..5 (the contract)
    Column("due", "Due", width=5),
    Column("eta", "ETA", width=5),
    Column("risk", "Risk", width=RISK_WIDTH),
    Column("progress", "Done", width=4, align="right", drop=4),
]


QUEUE_COLUMNS = [
    Column("id", "Job", width=8),
    Column("status", "Status", width=11),
    Column("part", "Part", min_width=8),
    Column("priority", "P", width=2, align="right"),
    Column("eta", "ETA", width=5),
    Column("risk", "Risk", width=RISK_WIDTH),
]


def eta_text(view: EtaView) -> str:
    """An ETA cell: ``12:32``, ``late`` (the ETA passed, the job is not done), ``?`` (cannot be met: its machine or
    the job is stopped) or ``--:--`` (none). Never a time before now."""
    if view.kind == "time":
        return clock(view.at)
    return {"late": "late", "unknown": "?"}.get(view.kind, "--:--")


def risk_text(job: Job, now: datetime | None) -> str:
    """``LATE 14m`` (overdue, and by how much), ``AT RISK`` (ETA past due) or nothing."""
    late = job_lateness(job, now)
    if late is not None:
        seconds = late.total_seconds()
        # ``LATE 3h12m``; from 10 h on the minutes no longer matter and would not fit (``LATE 10h``, ``LATE 2d4h``)
        return f"LATE {int(seconds // 3600)}h" if 36_000 <= seconds < 172_800 else f"LATE {duration(seconds)}"
    return "AT RISK" if job_at_risk(job, now) else ""


def job_row(
    job: Job,
    nodes: Mapping[str, Node],
    machines: Mapping[str, Machine],
    *,
    queue: bool = False,
    now: datetime | None = None,
) -> RowData:
    """One job as a row. ``now`` is the server's clock (overdue, and an ETA already past, are judged on it)."""
    look = job_status_look(job.status)
    risk = risk_text(job, now)
    machine = machines.get(job.machine_id) if job.machine_id else None
    eta = eta_text(job_eta(job, now, machine))
    style = "row-high" if risk else ("row-muted" if job.status in FINISHED_JOB_STATUSES else _job_style(job.status))
    if queue:
        cells = [
            clean(job.id, 30),
            look.label,
            clean(job.part, 60),
            str(job.priority),
            eta,
            risk,
        ]
        return RowData(job.id, cells, style, {"job": job})
    node = nodes.get(job.node_id) if job.node_id else None
    cells = [
        clean(job.id, 30),
        look.label,
        # Ids and cities: short and distinct, where names repeat the node's city.
        clean(job.machine_id or "-", 40),
        clean(node.city if node and node.city else (node.name if node else (job.node_id or "backlog")), 40),
        clean(job.part, 60),
        str(job.priority),
        clock(job.due_at),
        eta,
        risk,
        percent(job.progress),
    ]
    return RowData(job.id, cells, style, {"job": job})


def _job_style(status: str) -> str:
    return {"paused": "row-paused", "failed": "row-fault"}.get(status, "")


ALERT_COLUMNS = [
    Column("priority", "Priority", width=10),
    Column("state", "State", width=9),
    Column("source", "Source", min_width=14, flex=2),
    Column("code", "Code", min_width=8),
    Column("message", "Message", min_width=12, flex=3),
    Column("count", "#", width=3, align="right"),
    Column("age", "Age", width=6, align="right"),
]


ALERT_STATE_WORD = {
    "active_unacked": "UNACK",
    "active_acked": "acked",
    "cleared_unacked": "CLR-UNACK",
    "shelved": "shelved",
    "resolved": "resolved",
}


def source_name(alert: Sourced, machines: Mapping[str, Machine], nodes: Mapping[str, Node]) -> str | None:
    """The name of what raised the alert, when it is a machine or a node the store knows (else ``None``)."""
    kind, ident = alert.source.kind, alert.source.id
    found = machines.get(ident) if kind == "machine" else nodes.get(ident) if kind == "node" else None
    return found.name if found is not None and found.name != ident else None


def source_text(alert: Sourced, name: str | None) -> str:
    """``M-LDS-02 Leeds Bambu Lab X1E #2``: the id (what tells alike names apart) and the name; ``kind:id`` for a
    source the console cannot name."""
    ident = clean(alert.source.id, 30)
    if name:
        return f"{ident} {clean(name, 60)}"
    return f"{clean(alert.source.kind, 10)}:{ident}"


def alert_row(alert: Alert, now: datetime | None, *, compact: bool = False, name: str | None = None) -> RowData:
    """One alert; ``name`` is its source's name (:func:`source_name`), shown beside the id."""
    look = alert_priority_look(alert.priority)
    state = ALERT_STATE_WORD.get(alert.state, clean(alert.state, 20))
    acked = alert.state not in UNACKED
    style = "row-muted" if acked or alert.state == "shelved" else f"row-{look.style}"
    source = source_text(alert, name)
    if compact:
        cells = [look.label, state, source, clean(alert.message, 200), age(alert.raised_at, now)]
    else:
        cells = [
            look.label,
            state,
            source,
            clean(alert.code, 40),
            clean(alert.message, 200),
            str(alert.count),
            age(alert.raised_at, now),
        ]
    return RowData(alert.id, cells, style, {"alert": alert})


COMPACT_ALERT_COLUMNS = [
    Column("priority", "Priority", width=10),
    Column("state", "State", width=9),
    Column("source", "Source", min_width=8),
    Column("message", "Message", min_width=10, flex=2),
    Column("age", "Age", width=6, align="right"),
]


SHELVED_COLUMNS = [
    Column("priority", "Priority", width=10),
    Column("source", "Source", min_width=14, flex=2),
    Column("code", "Code", min_width=8),
    Column("message", "Message", min_width=12, flex=3),
    Column("until", "Until", width=8),
]


def shelved_row(alert: Alert, now: datetime | None, *, name: str | None = None) -> RowData:
    look = alert_priority_look(alert.priority)
    cells = [
        look.label,
        source_text(alert, name),
        clean(alert.code, 40),
        clean(alert.message, 200),
        until(alert.shelved_until, now) if alert.shelved_until else "-",
    ]
    return RowData(alert.id, cells, "row-muted", {"alert": alert})


NODE_COLUMNS = [
    Column("name", "Node", min_width=10),
    Column("city", "City", min_width=8, drop=1),
    Column("location", "Lat, lon", width=16, drop=2),
    Column("state", "State", width=11),
    Column("machines", "Machines by state", min_width=18, flex=2),
    Column("queue", "Queue", width=6, align="right"),
    Column("alerts", "Alerts", width=6, align="right"),
    Column("source", "Source", min_width=8),
    Column("seen", "Seen", width=7, align="right"),
]


def counts_text(counts: Mapping[str, int]) -> str:
    """``▶12 ◼3 ✖1``: machines by state, abnormal ones first, with glyphs (never colour alone)."""
    parts = []
    for state in sorted(counts, key=lambda s: MACHINE_STATE_RANK.get(s, -1)):
        if counts[state]:
            look = machine_state_look(state)
            parts.append(f"{look.glyph}{counts[state]} {look.word}")
    return " ".join(parts) or "-"


def node_row(
    node: Node,
    counts: Mapping[str, int],
    queue_depth: int,
    alerts: int,
    source: str,
    now: datetime | None,
) -> RowData:
    look = node_state_look(node.state)
    cells = [
        clean(node.name, 40),
        clean(node.city, 30),
        f"{node.lat:7.3f},{node.lon:8.3f}",
        look.label,
        counts_text(counts),
        str(queue_depth),
        str(alerts),
        clean(source, 20),
        age(node.last_seen, now),
    ]
    style = {"offline": "row-offline", "degraded": "row-high", "paused": "row-paused"}.get(node.state, "")
    return RowData(node.id, cells, style, {"node": node})


QUALITY_COLUMNS = [
    Column("name", "Scope", min_width=12, flex=2),
    Column("oee", "OEE", width=5, align="right"),
    Column("a", "Avail", width=5, align="right"),
    Column("p", "Perf", width=5, align="right"),
    Column("q", "Qual", width=5, align="right"),
    Column("fpy", "FPY", width=5, align="right"),
    Column("scrap", "Scrap", width=5, align="right"),
    Column("cpk", "Cpk", width=5, align="right"),
    Column("spc", "Capability, rules", min_width=8, flex=2),
]


def spc_text(quality: Quality) -> str:
    """The SPC cell: what the worst Cpk earns (``ok``, ``marginal``, ``poor``), then the rules the server reports
    broken, in words: ``poor ⚠ rule 2: 2 of 3 beyond 2 sigma``. ``ok`` only when the figures are."""
    status = cpk_status(worst_cpk(quality))
    word: str = "no Cpk" if status == "unknown" else status
    violations = sorted({v for s in quality.spc for v in s.violations})
    if not violations:
        return word
    if status == "ok":  # capable, but out of control now: not "ok"
        word = "capable"
    return f"{word} {pick('⚠', '!')} " + "; ".join(clean(rule_words(v), 60) for v in violations)


def quality_row(quality: Quality, label: str) -> RowData:
    cpk = worst_cpk(quality)
    status = cpk_status(cpk)
    violations = any(s.violations for s in quality.spc)
    cells = [
        clean(label, 60),
        percent(quality.oee),
        percent(quality.availability),
        percent(quality.performance),
        percent(quality.quality_rate),
        percent(quality.first_pass_yield),
        percent(quality.scrap_rate, 1),
        f"{cpk:.2f}" if cpk is not None else "-",
        spc_text(quality),
    ]
    style = "row-high" if violations or status == "poor" else ("row-medium" if status == "marginal" else "")
    return RowData(f"{quality.scope}:{quality.id}", cells, style, {"quality": quality})


def window_hours(hours: float) -> str:
    """``8 h``, ``0.5 h``, ``24 h``: a quality record's ``window_h``."""
    return f"{hours:g} h" if hours < 1000 else f"{hours / 24:,.0f} d"


def oee_window_text(windows: Iterable[float]) -> str:
    """What the OEE figures cover, from the records' ``window_h``: ``the last 8 h`` (or ``the last 4 h to 8 h``
    when records differ); ``-`` without records."""
    found = sorted(set(windows))
    if not found:
        return "-"
    if len(found) == 1:
        return f"the last {window_hours(found[0])}"
    return f"the last {window_hours(found[0])} to {window_hours(found[-1])}"


def machine_kind_label(machine: Machine) -> str:
    return kind_abbr(machine.kind)


# --- several clusters (docs/multi-cluster.md) ---------------------------------------------------------------------


def cluster_names(sources: Iterable[SourceSpec]) -> list[str]:
    """The clusters configured, in order (empty with one cluster: its ids are not qualified, no column is shown)."""
    return list(dict.fromkeys(s.cluster for s in sources if s.cluster))


def with_cluster(columns: Sequence[Column], names: Sequence[str]) -> list[Column]:
    """``columns`` with a Cluster column first, as wide as the longest name: never dropped, since the ids beside it
    are shown without their cluster (:func:`clustered`)."""
    width = max([len("Cluster"), *(len(n) for n in names)])
    return [Column("cluster", "Cluster", width=min(width, 16)), *columns]


def clustered(row: RowData, names: Collection[str]) -> RowData:
    """A row for a list with a Cluster column: the cluster of its key first, and the cluster taken off the ids in
    its cells (``north/J-1042`` -> ``J-1042``: the column says it once, and an id column stays wide enough). A row
    of a source outside any cluster (a printer) has ``-`` there. ``names``: the clusters configured."""
    cluster = cluster_of(row.key, names)
    if not cluster:
        return RowData(row.key, ["-", *row.cells], row.style, row.extra)
    prefix = cluster + SEP
    cut = len(prefix)
    cells = [cluster, *(c[cut:] if isinstance(c, str) and c.startswith(prefix) else c for c in row.cells)]
    return RowData(row.key, cells, row.style, row.extra)


def show_clusters(grid: DataGrid, sources: Iterable[SourceSpec]) -> frozenset[str]:
    """Give a list the Cluster column when several clusters are configured (then its rows go through
    :func:`clustered`); returns their names (empty: no column). Called on mount, before the first rows."""
    names = cluster_names(sources)
    if names:
        grid.columns = with_cluster(grid.columns, names)
    return frozenset(names)
