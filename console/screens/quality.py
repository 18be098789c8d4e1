"""Quality (key 4): OEE and its parts, FPY, scrap and Cpk per node and machine; SPC charts; sites side by side.

The line above the list says what window the OEE figures cover (the records' ``window_h``) and what a Cpk earns; the
SPC column says ``ok`` only when the Cpk is capable (``console.rules.cpk_status``) and names broken rules in words.

Consistent quality across sites is the point of a cluster, so the lower half compares one characteristic across every
node at once (``v`` picks the characteristic), beside the SPC chart of the row under the cursor. Both open on what
needs a look: the row's chart on the series its Cpk and rules point at, the comparison on the worst characteristic
anywhere (``console.rules.worst_series``/``worst_characteristic``), not on the first name in the alphabet.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, HorizontalScroll, Vertical
from textual.content import Content
from textual.widgets import Label

from console.api.models import Quality, SpcSeries
from console.rules import QUALITY_SORTS, characteristics, quality_sort_key, worst_characteristic, worst_series
from console.screens.columns import QUALITY_COLUMNS, cluster_names, oee_window_text, quality_row
from console.screens.list_screen import ListScreen
from console.store.changes import ChangeSet
from console.store.clusters import cluster_of
from widgets.data_grid import DataGrid, RowData
from widgets.safe_text import clean
from widgets.spc_chart import SpcChart


class QualityScreen(ListScreen):
    SCREEN_TITLE = "Quality"
    SORTS = QUALITY_SORTS
    COLUMNS = QUALITY_COLUMNS
    EMPTY = "No quality data yet"
    TABLES = frozenset({"quality"})

    DEFAULT_CSS = """
    QualityScreen #window { height: 1; color: $text-muted; padding: 0 1; }
    QualityScreen #list { height: 1fr; }
    QualityScreen #charts { height: 14; }
    QualityScreen #selected-chart { width: 1fr; min-width: 40; }
    QualityScreen #compare-box { width: 2fr; }
    QualityScreen.-narrow #compare-box { display: none; }
    QualityScreen #compare { height: 1fr; }
    QualityScreen #compare > Vertical { width: 44; height: 1fr; }
    QualityScreen Label.title { color: $text-muted; text-style: bold; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "next_characteristic", "Characteristic", id="quality.characteristic"),
        Binding("tab", "focus_next", "Next", show=False, id="quality.next"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def __init__(self) -> None:
        super().__init__()
        self.characteristic: str | None = None
        """The characteristic compared across nodes: at first the worst one anywhere, then the operator's (``v``)."""
        self._characteristic_chosen = False
        """``v`` was pressed: the row's chart shows that characteristic too, not the row's worst series."""
        self._compare_nodes: list[str] = []
        self._compare_cells: list[tuple[Label, SpcChart]] = []

    def compose_above(self) -> ComposeResult:
        yield Label(id="window")

    def compose_below(self) -> ComposeResult:
        with Horizontal(id="charts"):
            yield SpcChart(id="selected-chart")
            with Vertical(id="compare-box"):
                yield Label("Across nodes", id="compare-title", classes="title")
                yield HorizontalScroll(id="compare")

    def _label(self, key: tuple[str, str], names: frozenset[str]) -> str:
        """What a record's row is called: the cluster, ``node Leeds``, or ``  Prusa #3 (M-LDS-03)`` (indented under
        its node's rows)."""
        store = self.store
        scope, ident = key
        cluster = cluster_of(ident, names)
        if scope == "cluster" and cluster:  # one of several clusters (docs/multi-cluster.md)
            return f"cluster {cluster}"
        if scope == "cluster":
            return f"cluster {store.cluster.name if store.cluster else ident}"
        if scope == "node":
            node = store.nodes.get(ident)
            where = f" ({cluster})" if cluster else ""
            return f"node {node.name if node else ident}{where}"
        machine = store.machines.get(ident)
        return f"  {machine.name if machine else ident} ({ident})"

    def _labels(self) -> dict[tuple[str, str], str]:
        names = frozenset(cluster_names(self.console.settings.sources))
        return {key: self._label(key, names) for key in self.store.quality}

    def _ordered(self) -> tuple[list[Quality], dict[tuple[str, str], str]]:
        """The shown quality records in display order: the cluster first, every node, then the machines, each group
        in the chosen order; and every record's label when the order or the filter needed them (else empty: labels
        are then made only for the rows drawn, see :meth:`fill_grid`).

        Why grouped sorts and no labels by default: at 20,000 machines this ran on every switch to the screen, and
        labelling all 20,201 records, sorting them and sorting them again by scope took ~50 ms (issue 15).
        """
        words = self.query_text.lower().split()
        labels = self._labels() if words or self.sort_key == "name" else {}
        groups: dict[str, list[Quality]] = {"cluster": [], "node": [], "machine": []}
        for record in self.store.quality.values():
            groups.get(record.scope, groups["machine"]).append(record)
        if words:
            # Quality rows have no fields of their own: the filter is free text on the scope's name and id.
            for group in groups.values():
                group[:] = [q for q in group if all(w in f"{labels.get(q.key, '')} {q.id}".lower() for w in words)]
        key = quality_sort_key(self.sort_key, labels)
        items: list[Quality] = []
        for group in groups.values():
            # the same order as one stable sort by the key and another by scope: each group keeps the store's order
            # among equals, and reverse=True keeps it too
            group.sort(key=key, reverse=self.sort_reverse)
            items += group
        return items, labels

    def build_rows(self) -> list[RowData]:
        items, _labels = self._ordered()
        labels = self._labels()
        return [quality_row(q, labels.get(q.key, q.id)) for q in items]

    def fill_grid(self, grid: DataGrid) -> None:
        """One record per machine (20,000 at that scale): order them all, but label and format only the rows drawn."""
        items, labels = self._ordered()
        quality = self.store.quality
        names = frozenset(cluster_names(self.console.settings.sources))

        def row_of(key: str) -> RowData | None:
            scope, _, ident = key.partition(":")
            record = quality.get((scope, ident))
            if record is None:
                return None
            return quality_row(record, labels.get(record.key) or self._label(record.key, names))

        grid.set_keys([f"{q.scope}:{q.id}" for q in items], row_of)

    def sort_column(self) -> str | None:
        return {"oee": "oee", "name": "name", "fpy": "fpy", "scrap": "scrap", "cpk": "cpk"}.get(self.sort_key)

    def apply_changes(self, changes: ChangeSet) -> None:
        """Quality moves slowly and the list re-sorts on any change: rebuild at most once per ``panel_interval_s``."""
        if self.needs_rebuild:
            self.rebuild()
        elif changes.quality or "quality" in changes.structure_tables:
            self.soon(self.rebuild)

    def after_rebuild(self) -> None:
        window = oee_window_text(q.window_h for q in self.store.quality.values())
        self.query_one("#window", Label).update(
            Content(f"OEE, FPY, scrap over {window}; Cpk ok >=1.33, marginal >=1, poor <1")
        )
        chars = characteristics(list(self.store.quality.values()))
        if self.characteristic not in chars:
            self.characteristic = worst_characteristic(self.store.quality.values())
            self._characteristic_chosen = False
        self._show_selected()
        self._show_comparison()

    def _series_of(self, quality: Quality | None) -> SpcSeries | None:
        if quality is None or not quality.spc:
            return None
        if self._characteristic_chosen:
            for series in quality.spc:
                if series.characteristic == self.characteristic:
                    return series
        return worst_series(quality)  # the series the row's Cpk and rules point at

    def _show_selected(self) -> None:
        key = self.grid.cursor_key
        quality = None
        if key:
            scope, _, ident = key.partition(":")
            quality = self.store.quality.get((scope, ident))
        self.query_one("#selected-chart", SpcChart).set_series(self._series_of(quality))

    def _show_comparison(self) -> None:
        store = self.store
        title = self.query_one("#compare-title", Label)
        title.update(Content(f"{clean(self.characteristic or '-', 40)} across nodes  (v: next characteristic)"))
        box = self.query_one("#compare", HorizontalScroll)
        nodes = sorted(n for (scope, n) in store.quality if scope == "node")
        if nodes != self._compare_nodes:
            # The cells are kept, not looked up by id: a refresh that comes while the last mount is still under way
            # (switching screens fast) finds them all the same, and a removed cell's id can never clash with a new.
            self._compare_nodes = nodes
            box.remove_children()
            self._compare_cells = [(Label(classes="title"), SpcChart()) for _ in nodes]
            box.mount_all([Vertical(label, chart) for label, chart in self._compare_cells])
        for (label, chart), node_id in zip(self._compare_cells, nodes, strict=True):
            quality = store.quality.get(("node", node_id))
            series = None
            if quality is not None:
                series = next((s for s in quality.spc if s.characteristic == self.characteristic), None)
            node = store.nodes.get(node_id)
            name = clean(node.name if node else node_id, 40)
            if str(label.content) != name:  # 200 nodes at 20,000 machines: each update is a layout refresh
                label.update(Content(name))
            if chart.series != series:
                chart.set_series(series)

    def on_data_grid_highlighted(self, event: DataGrid.Highlighted) -> None:
        event.stop()
        self._show_selected()

    def action_next_characteristic(self) -> None:
        chars = characteristics(list(self.store.quality.values()))
        if not chars:
            return
        index = chars.index(self.characteristic) + 1 if self.characteristic in chars else 0
        self.characteristic = chars[index % len(chars)]
        self._characteristic_chosen = True
        self._show_selected()
        self._show_comparison()
