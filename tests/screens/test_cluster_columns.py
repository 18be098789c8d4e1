"""The Cluster column of the lists with several clusters (docs/multi-cluster.md): first, as wide as the longest name,
never dropped; each row's cluster from its key, the ids in its cells shown without it; none with one cluster."""

from __future__ import annotations

from console.screens.columns import JOB_COLUMNS, cluster_names, clustered, with_cluster
from console.settings import SourceSpec
from widgets.data_grid import RowData


def test_one_cluster_has_no_column() -> None:
    assert (
        cluster_names([SourceSpec("cluster", "cluster", "http://a"), SourceSpec("agent-1", "agent", "http://b")]) == []
    )


def test_several_clusters_name_the_column() -> None:
    sources = [
        SourceSpec("north", "cluster", "http://a", cluster="north"),
        SourceSpec("north:agent-1", "agent", "http://b", cluster="north"),
        SourceSpec("coastline", "cluster", "http://c", cluster="coastline"),
        SourceSpec("octoprint:p1", "octoprint", "http://d"),
    ]
    names = cluster_names(sources)
    assert names == ["north", "coastline"]
    columns = with_cluster(JOB_COLUMNS, names)
    assert columns[0].key == "cluster" and columns[0].width == len("coastline") and columns[0].drop == 0
    assert columns[1:] == JOB_COLUMNS


def test_a_row_takes_its_cluster_from_its_key() -> None:
    names = {"north", "south"}
    row = clustered(RowData("north/J-7", ["north/J-7", "queued", "north/M-1", "south/M-1", 3], "row-high"), names)
    assert list(row.cells) == ["north", "J-7", "queued", "M-1", "south/M-1", 3]
    assert row.key == "north/J-7" and row.style == "row-high"
    printer = clustered(RowData("M-P1", ["M-P1", "idle"]), names)
    assert list(printer.cells) == ["-", "M-P1", "idle"]
    spb = clustered(RowData("demo/Cell-A", ["demo/Cell-A", "online"]), names)  # a Sparkplug node, not a cluster
    assert list(spb.cells) == ["-", "demo/Cell-A", "online"]
