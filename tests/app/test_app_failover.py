"""Several sources at once (issue 6): the cluster API plus one agent per node, and failover when the cluster API goes.

The demo's `D` key takes the simulated cluster API down (its streams cut, new connections refused) while the node
agents keep serving: every node switches to its agent, commands go to the agent, and when the cluster API is back the
nodes switch back. Nothing is marked stale while an agent serves its node live.
"""

from __future__ import annotations

from tests.app.conftest import settle, wait_for, wait_ready
from tests.app.test_app_keys import SIZE, focus_machine, grid, header_text, type_text
from widgets.data_grid import DataGrid


async def test_failover_to_agents_and_back(make_app):
    app = make_app(agents=True, warmup_s=300)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ready(pilot)
        agents = [s for s in app.store.sources if s.startswith("agent-")]
        await wait_for(pilot, lambda: all(app.store.source_state(s) == "live" for s in agents), what="agents live")
        nodes = sorted(app.store.nodes)
        assert all(app.store.node_source(n) == "cluster" for n in nodes)

        await pilot.press("D")  # the demo takes the cluster API down
        await wait_for(pilot, lambda: app.store.source_state("cluster") != "live", what="the cluster to drop")
        await wait_for(
            pilot,
            lambda: all((app.store.node_source(n) or "").startswith("agent-") for n in nodes),
            what="every node to be served by its agent",
        )
        await settle(pilot)
        assert "reconnecting" in header_text(app) or "stale" in header_text(app)
        assert grid(app).stale_ids == set(), "agents serve live data: nothing is stale"
        await wait_for(pilot, lambda: f"nodes: agent {len(nodes)}" in header_text(app), what="the header to say so")

        # A command now goes to the node's agent and its effect comes back from the agent's stream.
        machine = next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == "running")
        await focus_machine(pilot, machine.id)
        await pilot.press("p")
        await pilot.pause()
        await type_text(pilot, "cloud down")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.machines[machine.id].state == "paused", what="the pause via the agent")
        outcome = [r for r in app.audit_log.recent(10) if r.get("phase") == "outcome"][-1]
        assert outcome["source"].startswith("agent-") and outcome["outcome"] == "applied"
        await wait_for(  # and the operator is told which source carried it
            pilot, lambda: any(f"(via {outcome['source']})" in str(n.message) for n in app._notifications), what="toast"
        )

        # The Nodes screen says which source serves each node.
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#list", DataGrid)
        assert all(str(table.get_row(n).cells[7]).startswith("agent-") for n in nodes)

        await pilot.press("1")
        await pilot.press("D")  # and back
        await wait_for(pilot, lambda: app.store.source_state("cluster") == "live", timeout=30, what="the cluster back")
        await wait_for(pilot, lambda: all(app.store.node_source(n) == "cluster" for n in nodes), what="switch back")
        # The cluster resumed from its last seq: it has the pause too (once the missed events are read: the stream is
        # live, and the merge switches back, as soon as it opens, so the replay may still be on its way).
        await wait_for(
            pilot,
            lambda: app.store.replica("cluster").machines[machine.id].state == "paused",
            what="the cluster's replay of the pause",
        )


async def test_node_detail_lists_its_sources(make_app):
    app = make_app(agents=True, warmup_s=120)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await wait_for(
            pilot, lambda: all(app.store.source_state(s) == "live" for s in app.store.sources), what="all live"
        )
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#list", DataGrid)
        node_id = table.cursor_key
        await pilot.press("enter")
        await settle(pilot)
        from console.screens.node_detail import NodeDetailScreen

        assert isinstance(app.screen, NodeDetailScreen)
        sources = app.screen.query_one("#sources", DataGrid)
        kinds = {sources.get_row(k).cells[1] for k in sources.keys}
        assert kinds == {"cluster", "agent"}
        shown = [sources.get_row(k).cells[0] for k in sources.keys if "shown" in sources.get_row(k).cells[3]]
        assert shown == [app.store.node_source(node_id)] == ["cluster"]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, NodeDetailScreen)
