"""A compact, wrapping strip of node cards: pick a node (or "All nodes") to scope the rest of the screen.

Each card: the node's name, its state (glyph and word), its machines by state (``▶ 14 ■ 2 ✖ 1``) and its active alert
count. The strip wraps to as many lines as it needs (``height: auto``), up to its ``max-height``: when the cards do not
fit in that many lines (80 columns, six nodes), they become shorter rather than fall off the screen, in steps: the
node's short name (its first word) and its state as a glyph; then only the counts that need attention (paused,
blocked, fault, maintenance, offline) and alerts. With several clusters (``docs/multi-cluster.md``) the nodes are
grouped by cluster, each group after a label card with the cluster's name (``north:``), short names are told apart
within a cluster only, and when even the shortest cards do not fit, one card per cluster sums its nodes' counts (the
faults are still there, by cluster). The last resort (60 columns): the quiet nodes (online, nothing to attend, no
alert) fold into one ``+N ok`` card, the selected one excepted. Every node that needs attention stays on screen:
where the faults are is what an operator must see. Its height never shrinks while the width stays the same (a count
that comes and goes must not make the grid below jump). Left/right (or h/l) and clicks move the selection and post
:class:`NodeStrip.Selected` (``None`` for "All nodes").
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.css.scalar import Unit
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget

from console.api.models import Node
from console.store.clusters import SEP, cluster_of
from widgets._styles import part_styles
from widgets.charset import ascii_only
from widgets.glyphs import machine_state_look, node_state_look
from widgets.safe_text import clean

__all__ = ["COUNTED_STATES", "NodeStrip"]

COUNTED_STATES: tuple[str, ...] = ("running", "idle", "paused", "blocked", "fault", "maintenance", "offline")
"""The machine states counted on a card, in this order; a zero count is left out (running is always shown)."""
ATTENTION_STATES: frozenset[str] = frozenset({"paused", "blocked", "fault", "maintenance", "offline"})
"""The counts the shortest cards keep."""
LEVELS = 4
"""Full cards, short cards, attention-only cards, and those without the glyph of a node that is simply online."""


@dataclass(frozen=True, slots=True)
class _Card:
    node_id: str | None
    parts: tuple[tuple[str, str], ...]  # (text, style key)
    width: int
    label: bool = False
    """A cluster's name before its nodes: not a node, never selected."""
    quiet: bool = False
    """Online, no machine needing attention, no alert: the last resort folds it into ``+N ok``."""


class NodeStrip(Widget, can_focus=True):
    """Node cards with an "All nodes" card first. Data: :meth:`set_nodes`; selection: :attr:`selected`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "previous", "Previous node", show=False, id="node-strip.previous"),
        Binding("right,l", "next", "Next node", show=False, id="node-strip.next"),
        Binding("home", "all", "All nodes", show=False, id="node-strip.all"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "node-strip--card",
        "node-strip--selected",
        "node-strip--name",
        "node-strip--muted",
        "node-strip--alerts",
        "node-strip--state-normal",
        "node-strip--state-fault",
        "node-strip--state-blocked",
        "node-strip--state-paused",
        "node-strip--state-maintenance",
        "node-strip--state-offline",
        "node-strip--state-unknown",
    }

    DEFAULT_CSS = """
    NodeStrip { height: auto; background: $background; color: $state-normal; }
    NodeStrip > .node-strip--card { background: $surface; }
    NodeStrip > .node-strip--selected { background: $block-cursor-blurred-background; text-style: bold; }
    NodeStrip:focus > .node-strip--selected { background: $block-cursor-background; color: $block-cursor-foreground; }
    NodeStrip > .node-strip--name { text-style: bold; }
    NodeStrip > .node-strip--muted { color: $text-muted; }
    NodeStrip > .node-strip--alerts { color: $alarm-high; text-style: $alarm-high-style; }
    NodeStrip > .node-strip--state-normal { color: $state-normal; }
    NodeStrip > .node-strip--state-fault { color: $state-fault; text-style: $state-fault-style; }
    NodeStrip > .node-strip--state-blocked { color: $state-blocked; text-style: $state-blocked-style; }
    NodeStrip > .node-strip--state-paused { color: $state-paused; text-style: $state-paused-style; }
    NodeStrip > .node-strip--state-maintenance { color: $state-maintenance; text-style: $state-maintenance-style; }
    NodeStrip > .node-strip--state-offline { color: $state-offline; text-style: $state-offline-style; }
    NodeStrip > .node-strip--state-unknown { color: $state-unknown; text-style: $state-unknown-style; }
    """

    class Selected(Message):
        """The operator picked a node (``None``: all nodes)."""

        def __init__(self, strip: NodeStrip, node_id: str | None) -> None:
            super().__init__()
            self.strip = strip
            self.node_id = node_id

        @property
        def control(self) -> NodeStrip:
            return self.strip

    def __init__(
        self,
        *,
        clusters: Collection[str] = (),
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clusters = frozenset(clusters)
        """The clusters configured (none with one cluster): only ids qualified with one of these are grouped, never
        a source's own id that holds the separator (a Sparkplug node ``demo/Cell-A``)."""
        self._levels: list[list[_Card]] = [[] for _ in range(LEVELS)]
        self._hits: list[tuple[int, int, int, str | None]] = []  # (line, x0, x1, node_id)
        self._height_mark: tuple[int, int] = (0, 0)  # (width, the most lines shown at it)
        self.selected: str | None = None
        self._made: dict[tuple[object, ...], _Card] = {}
        """The cards of the last build by what they show (see :meth:`_build`)."""
        self._build([], {}, {})

    @property
    def _cards(self) -> list[_Card]:
        return [card for card in self._levels[0] if not card.label]

    def set_nodes(
        self,
        nodes: Sequence[Node],
        machine_counts: Mapping[str, Mapping[str, int]],
        alert_counts: Mapping[str, int],
    ) -> None:
        """Show ``nodes`` (in this order) with their machines by state and active alert counts (by node id).

        Nothing is laid out or drawn again when every card is the same as before (the strip's render wraps and
        styles every card: a few ms at 200 nodes)."""
        before = self._levels
        self._build(nodes, machine_counts, alert_counts)
        if self.selected is not None and self.selected not in {c.node_id for c in self._cards}:
            self.selected = None
            self.post_message(self.Selected(self, None))
        if self._levels != before:
            self.refresh(layout=True)

    def select(self, node_id: str | None, *, notify: bool = True) -> None:
        if node_id == self.selected:
            return
        self.selected = node_id
        self.refresh()
        if notify:
            self.post_message(self.Selected(self, node_id))

    def _build(
        self,
        nodes: Sequence[Node],
        machine_counts: Mapping[str, Mapping[str, int]],
        alert_counts: Mapping[str, int],
    ) -> None:
        total: dict[str, int] = {}
        for counts in machine_counts.values():
            for state, n in counts.items():
                total[state] = total.get(state, 0) + n
        grouped: dict[str, list[Node]] = {}
        for node in nodes:  # by cluster, in the order given within each (one group without several clusters)
            grouped.setdefault(cluster_of(node.id, self.clusters), []).append(node)
        groups = {cluster: grouped[cluster] for cluster in sorted(grouped)}  # the same order whoever spoke first
        short: dict[str, str] = {}
        for group in groups.values():
            short.update(_short_names(group, self.clusters))
        labelled = len(groups) > 1 or "" not in groups
        all_alerts = sum(alert_counts.values())
        made = self._made
        kept: dict[tuple[object, ...], _Card] = {}
        glyphs = ascii_only()

        def node_card(node: Node, level: int) -> _Card:
            """The node's card at ``level``, the last build's when what it shows is the same (the glyph set too).

            Why: every refresh of the dashboard's nodes rebuilt all four levels of every node's card (800 cards at
            200 nodes), on every switch to the dashboard at 20,000 machines among others (issue 15), while the
            counts of most nodes had not moved: 7.1 -> 2.7 ms of CPU a build with a tenth of 200 nodes changed."""
            counts = machine_counts.get(node.id, {})
            name = node.name if level == 0 else short[node.id]
            alerts = alert_counts.get(node.id, 0)
            key = (node.id, name, node.state, tuple(map(counts.get, COUNTED_STATES)), alerts, level, glyphs)
            card = made.get(key)
            if card is None:
                card = self._card(node.id, name, node.state, counts, alerts, level)
            kept[key] = card
            return card

        levels: list[list[_Card]] = []
        for level in range(LEVELS):
            cards = [self._card(None, "All nodes" if level == 0 else "All", None, total, all_alerts, level)]
            for cluster, group in groups.items():
                if labelled:
                    text = f" {clean(cluster or '-', 16)}:"
                    cards.append(_Card(None, ((text, "muted"),), cell_len(text), label=True))
                cards.extend(node_card(node, level) for node in group)
            levels.append(cards)
        self._made = kept
        if labelled:  # the last resort with several clusters: one card per cluster, its nodes' counts summed
            last = [levels[-1][0]]
            for cluster, group in groups.items():
                summed: dict[str, int] = {}
                for node in group:
                    for state, n in machine_counts.get(node.id, {}).items():
                        summed[state] = summed.get(state, 0) + n
                alerts = sum(alert_counts.get(node.id, 0) for node in group)
                card = self._card(None, f"{cluster or '-'}:", None, summed, alerts, LEVELS - 1)
                last.append(_Card(None, card.parts, card.width, label=True))
            levels.append(last)
        self._levels = levels

    @staticmethod
    def _card(
        node_id: str | None, name: str, state: str | None, counts: Mapping[str, int], alerts: int, level: int = 0
    ) -> _Card:
        parts: list[tuple[str, str]] = [(" " + clean(name, 24), "name")]
        if state is not None and (level < 3 or node_state_look(state).style != "normal"):
            look = node_state_look(state)
            parts.append((" ", ""))
            parts.append((look.label if level == 0 else look.glyph, f"state-{look.style}"))
        for machine_state in COUNTED_STATES:
            n = counts.get(machine_state, 0)
            wanted = (n or machine_state == "running") if level < 2 else (n and machine_state in ATTENTION_STATES)
            if wanted:
                look = machine_state_look(machine_state)
                parts.append((" ", ""))
                parts.append((f"{look.glyph}{' ' if level == 0 else ''}{n}", f"state-{look.style}" if n else "muted"))
        if alerts:
            parts.append((" ", ""))
            parts.append((f"!{alerts}", "alerts"))
        parts.append((" ", ""))
        quiet = (
            node_id is not None
            and state is not None
            and node_state_look(state).style == "normal"
            and not alerts
            and not any(counts.get(s, 0) for s in ATTENTION_STATES)
        )
        return _Card(node_id, tuple(parts), sum(cell_len(t) for t, _ in parts), quiet=quiet)

    def _max_lines(self) -> int | None:
        """The ``max-height`` in lines, if the CSS gives one in cells."""
        scalar = self.styles.max_height
        if scalar is None or scalar.unit != Unit.CELLS:
            return None
        return max(1, int(scalar.value))

    def _layout(self, width: int) -> list[list[_Card]]:
        """The fullest cards that fit in the strip's lines (the shortest ones when none fit)."""
        limit = self._max_lines()
        for cards in self._levels:
            lines = self._wrap(cards, width)
            if limit is None or len(lines) <= limit:
                return lines
        folded = self._fold_quiet(self._levels[LEVELS - 1])
        if folded is not None:
            lines = self._wrap(folded, width)
        return lines

    def _fold_quiet(self, cards: Sequence[_Card]) -> list[_Card] | None:
        """``cards`` with the quiet nodes (not the selected one) folded into one ``+N ok`` card at the end."""
        folded = [card for card in cards if not card.quiet or card.node_id == self.selected]
        hidden = len(cards) - len(folded)
        if not hidden:
            return None
        text = f" +{hidden} ok "
        return [*folded, _Card(None, ((text, "muted"),), cell_len(text), label=True)]

    @staticmethod
    def _wrap(cards: Sequence[_Card], width: int) -> list[list[_Card]]:
        lines: list[list[_Card]] = [[]]
        used = 0
        for card in cards:
            if lines[-1] and used + 1 + card.width > width:
                lines.append([])
                used = 0
            used += card.width + (1 if lines[-1] else 0)
            lines[-1].append(card)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        needed = len(self._layout(max(1, width)))
        seen_width, most = self._height_mark
        most = max(needed, most) if seen_width == width else needed
        self._height_mark = (width, most)
        return most

    def render(self) -> Text:
        width = max(1, self.content_region.width)
        styles = part_styles(self, self.COMPONENT_CLASSES, "node-strip--")
        out = Text(no_wrap=True, end="")
        self._hits = []
        for y, line in enumerate(self._layout(width)):
            if y:
                out.append("\n")
            x = 0
            for card in line:
                if x:
                    out.append(" ")
                    x += 1
                if card.label:
                    base = styles["muted"]
                else:
                    base = styles["selected"] if card.node_id == self.selected else styles["card"]
                for text, key in card.parts:
                    out.append(text, base + styles[key] if key else base)
                if not card.label:
                    self._hits.append((y, x, x + card.width, card.node_id))
                x += card.width
        return out

    def _index(self) -> int:
        ids = [c.node_id for c in self._cards]
        return ids.index(self.selected) if self.selected in ids else 0

    def action_previous(self) -> None:
        self.select(self._cards[max(0, self._index() - 1)].node_id)

    def action_next(self) -> None:
        self.select(self._cards[min(len(self._cards) - 1, self._index() + 1)].node_id)

    def action_all(self) -> None:
        self.select(None)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for line, x0, x1, node_id in self._hits:
            if line == offset.y and x0 <= offset.x < x1:
                self.select(node_id)
                return


def _short_names(nodes: Sequence[Node], clusters: Collection[str]) -> dict[str, str]:
    """Each node's first word (``Leeds`` of "Leeds Micro-Factory"), or its id where first words repeat."""
    first = {node.id: (clean(node.name).split() or [clean(node.id)])[0] for node in nodes}
    counts: dict[str, int] = {}
    for word in first.values():
        counts[word] = counts.get(word, 0) + 1

    def own_id(node_id: str) -> str:  # the id without its cluster (the group's label says it)
        return node_id.partition(SEP)[2] if cluster_of(node_id, clusters) else node_id

    return {node_id: word if counts[word] == 1 else clean(own_id(node_id)) for node_id, word in first.items()}
