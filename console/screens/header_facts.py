"""What the status header says, worked out from the store and the app's state: one view per source (agents summed,
since there is one per node), the event rate, which kind of source serves the nodes, and the badges.

Apart from :class:`~console.screens.base.ConsoleScreen` so that the screen keeps to its job (filter, sort, marks, the
refresh protocol) and this stays a few plain functions over the store. The LOADING badge says how much of a big
cluster is shown while its first snapshot still arrives (``loading_badge``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.formatting import duration
from console.screens.header import SourceView, replay_badge
from console.store.preview import loading
from widgets.charset import pick

if TYPE_CHECKING:
    from console.screens.host import ConsoleHost
    from console.store.store import Store

__all__ = ["header_badges", "loading_badge", "nodes_served", "source_views"]


def source_views(store: Store, now: float) -> tuple[list[SourceView], float]:
    """The header's source views and the events per second over all sources (``now``: ``time.monotonic()``)."""
    views: list[SourceView] = []
    rate = 0.0
    agents_live = agents_total = 0
    for source_id, status in store.sources.items():
        rate += status.events_per_second(now)
        if status.kind == "agent":
            # Agents are many (one per node): count the live ones, name only those that are not.
            agents_total += 1
            if status.state == "live":
                agents_live += 1
                continue
        views.append(
            SourceView(
                source_id=source_id,
                state=str(status.state),
                reason=status.reason,
                retry_in_s=status.retry_in(now),
                silent_for_s=status.seconds_since_event(now),
            )
        )
    if agents_total:
        all_live = agents_live == agents_total
        views.append(
            SourceView(
                source_id=f"agents ● {agents_live}/{agents_total} live",
                state="summary" if all_live else "summary-warn",
            )
        )
        views.append(SourceView(source_id=nodes_served(store, now), state="summary"))
    return views, rate


def nodes_served(store: Store, now: float) -> str:
    """Which kind of source serves the nodes, and the oldest data among them: ``nodes: agent 6 (≤3s)``."""
    served: dict[str, int] = {}
    oldest = 0.0
    for node_id in store.nodes:
        source_id = store.node_source(node_id)
        status = store.sources.get(source_id) if source_id else None
        kind = status.kind if status else "?"
        served[kind] = served.get(kind, 0) + 1
        silent = status.seconds_since_event(now) if status else None
        if silent is not None:
            oldest = max(oldest, silent)
    parts = " ".join(f"{kind} {count}" for kind, count in sorted(served.items()))
    return f"nodes: {parts} ({pick('≤', '<=')}{duration(oldest)})"


def loading_badge(store: Store) -> str | None:
    """``LOADING 1,000 of 20,000 machines`` while a source shows a preview of a big cluster, its snapshot still on the
    way (``console.store.preview``): what is on screen is a part, and the header says how big a part, so no count on
    screen passes for the whole. ``None`` when nothing is loading."""
    marks = loading(store)
    if not marks:
        return None
    shown = sum(mark.machines_shown for mark in marks.values())
    totals = [mark.machines_total for mark in marks.values()]
    if any(total is None for total in totals):
        return f"LOADING {shown:,} machines so far"
    return f"LOADING {shown:,} of {sum(t for t in totals if t is not None):,} machines"


def header_badges(app: ConsoleHost) -> list[str]:
    """LOADING (a preview is shown), REPLAY (a replay is read-only by nature: it says so), FROZEN, READ-ONLY,
    INSECURE, DEMO."""
    playback = app.session.playback
    badges: list[str] = [] if playback is None else [replay_badge(playback)]
    loading_now = loading_badge(app.store)
    if loading_now is not None:
        badges.insert(0, loading_now)
    if app.frozen:
        badges.append("FROZEN")
    if app.read_only and playback is None:
        badges.append("READ-ONLY")
    if app.settings.insecure:
        badges.append("INSECURE")
    if app.settings.demo:
        badges.append("DEMO")
    return badges
