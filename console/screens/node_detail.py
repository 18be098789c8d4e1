"""Node detail (enter on a node): where its data comes from, how old it is, and where the sources disagree.

A node can be served by the cluster API and by its own agent on the shop floor. The console shows the cluster's view
while it is live and fails over to the agent when it is not; when both are live and disagree, the newest
``last_seen`` wins, and this screen says so object by object, so an operator can see which version is on screen.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Label, Static

from console.api.models import Alert
from console.copy_text import id_copy
from console.formatting import age, duration
from console.rules import sort_alerts
from console.screens.base import ConsoleScreen
from console.screens.columns import COMPACT_ALERT_COLUMNS, alert_row, counts_text, source_name
from console.screens.copying import COPY_BINDING, copy_out
from console.screens.flows import ActionFlows
from console.store.changes import ChangeSet
from widgets.charset import fold, pick
from widgets.data_grid import Column, DataGrid, RowData
from widgets.glyphs import node_state_look
from widgets.safe_text import clean

SOURCE_COLUMNS = [
    Column("source", "Source", min_width=10),
    Column("kind", "Kind", width=8),
    Column("state", "State", width=13),
    Column("serving", "Shown", width=7),
    Column("age", "Last event", width=10, align="right"),
    Column("seen", "Node last seen", width=14, align="right"),
]

DISAGREEMENT_COLUMNS = [
    Column("what", "Object", min_width=14),
    Column("fields", "Fields that differ", min_width=16, flex=2),
    Column("times", "last_seen per source (newest is shown)", min_width=20, flex=3),
]


class NodeDetailScreen(ConsoleScreen):
    SCREEN_TITLE = "Node"
    FILTERABLE = False

    DEFAULT_CSS = """
    NodeDetailScreen #facts { height: auto; padding: 0 1; }
    NodeDetailScreen Label.title { color: $text-muted; text-style: bold; padding: 0 1; }
    NodeDetailScreen #sources { height: auto; max-height: 8; }
    NodeDetailScreen #disagreements { height: 1fr; }
    NodeDetailScreen #node-alerts { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="node-detail.back"),
        Binding("g", "show_machines", "Its machines", id="node-detail.machines"),
        Binding("n", "node", "Drain/Resume node", id="node.pause"),
        Binding(
            "T",
            "timeline",
            "Timeline",
            tooltip="Timeline: what happened to the node and its machines",
            id="timeline.open",
        ),
        COPY_BINDING,
        Binding("tab", "focus_next", "Next", show=False, id="node-detail.next"),
    ]

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id

    def compose_body(self) -> ComposeResult:
        yield Static(id="facts")
        yield Label("Sources serving this node", classes="title")
        yield DataGrid(SOURCE_COLUMNS, id="sources", empty_message="No source has this node")
        yield Label("Disagreements between live sources", classes="title", id="disagreements-title")
        yield DataGrid(DISAGREEMENT_COLUMNS, id="disagreements", empty_message="None: the live sources agree")
        yield Label("Active alerts", classes="title")
        yield DataGrid(COMPACT_ALERT_COLUMNS, id="node-alerts", empty_message="No active alerts")

    def on_mount(self) -> None:
        super().on_mount()
        self.rebuild()
        self.query_one("#sources", DataGrid).focus()

    def apply_changes(self, changes: ChangeSet) -> None:
        if self.needs_rebuild or changes.structure or changes.nodes or changes.sources or changes.alerts:
            self.rebuild()

    def rebuild(self) -> None:
        super().rebuild()
        store = self.store
        node = store.nodes.get(self.node_id)
        now = self.console.server_clock.now()
        facts = self.query_one("#facts", Static)
        if node is None:
            facts.update(Content(f"{clean(self.node_id, 40)}: not known (removed, or not loaded yet)"))
        else:
            look = node_state_look(node.state)
            machines = store.machines_by_node(node.id)
            facts.update(
                Content(
                    fold(  # ASCII mode: its own marks in ASCII
                        "\n".join(
                            [
                                f"{clean(node.name, 60)} ({clean(node.id, 40)}) · {clean(node.city, 40)} "
                                f"· {node.lat:.3f}, {node.lon:.3f}",
                                f"State: {look.label} · last seen {age(node.last_seen, now)} ago · "
                                f"{len(machines)} machines: {counts_text(store.counts_by_state(node.id))}",
                                f"Shown from: {clean(store.node_source(node.id) or '-', 30)}"
                                + (f" · agent {clean(node.agent_url, 80)}" if node.agent_url else ""),
                            ]
                        )
                    )
                )
            )
        rows = []
        for entry in store.node_sources(self.node_id):
            rows.append(
                RowData(
                    entry.source_id,
                    [
                        clean(entry.source_id, 30),
                        clean(entry.kind, 10),
                        clean(entry.state, 16),
                        pick("● shown", "* shown") if entry.chosen else "",
                        duration(entry.age_s) if entry.age_s is not None else "-",
                        age(entry.last_seen, now) if entry.last_seen else "-",
                    ],
                    "" if entry.state == "live" else "row-high",
                )
            )
        self.query_one("#sources", DataGrid).set_rows(rows)
        disagreements = store.disagreements(self.node_id)
        self.query_one("#disagreements-title", Label).update(
            f"Disagreements between live sources ({len(disagreements)}): the newest last_seen is shown"
        )
        drows = []
        for index, item in enumerate(disagreements):
            stamps = sorted(item.by_source.items(), key=lambda kv: (kv[1] is None, kv[1]), reverse=True)
            times = ", ".join(f"{clean(s, 20)} {age(t, now) if t else '-'}" for s, t in stamps)
            drows.append(
                RowData(
                    str(index),
                    [
                        f"{clean(item.kind, 10)} {clean(item.id, 40)}",
                        ", ".join(clean(f, 30) for f in item.fields),
                        times,
                    ],
                    "row-medium",
                )
            )
        self.query_one("#disagreements", DataGrid).set_rows(drows)
        alerts = [a for a in store.active_alerts() if self._alert_node(a) == self.node_id]
        self.query_one("#node-alerts", DataGrid).set_rows(
            [
                alert_row(a, now, compact=True, name=source_name(a, store.machines, store.nodes))
                for a in sort_alerts(alerts)
            ]
        )

    def _alert_node(self, alert: Alert) -> str | None:
        store = self.store
        if alert.source.kind == "node":
            return alert.source.id
        if alert.source.kind == "machine" and (m := store.machines.get(alert.source.id)) is not None:
            return m.node_id
        if alert.source.kind == "job" and (j := store.jobs.get(alert.source.id)) is not None:
            return j.node_id
        return None

    def update_status(self) -> None:
        super().update_status()
        if self.is_mounted and self.app.screen_stack and self.app.screen is self:
            self.rebuild()  # ages move every second; the screen is small

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        return {"node": ("node.pause", "node.resume")}

    def current_target(self) -> tuple[str, str | None]:
        return ("node", self.node_id)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_node(self) -> None:
        ActionFlows(self.console).drain_or_resume_node(self.node_id)

    def action_timeline(self) -> None:
        from console.screens.timeline import open_timeline

        open_timeline(self, "node", self.node_id)

    def action_copy(self) -> None:
        """``y``: the node's id."""
        copy_out(self, id_copy("node", self.node_id))

    def action_show_machines(self) -> None:
        from console.screens.alerts import jump_to_source

        self.app.pop_screen()
        jump_to_source(self.app.screen, "node", self.node_id)
