"""The Nodes screen counts a node's queued jobs from the store's job index, without sorting each node's jobs
(``jobs_for_node`` sorts them; issue 15: 200 sorts on every switch to the screen at 20,000 machines). The rule it
relies on: the index holds exactly the jobs ``jobs_for_node`` lists."""

from __future__ import annotations

from typing import Any

from tests.app.conftest import wait_ready


async def test_the_job_index_holds_what_jobs_for_node_lists(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ready(pilot)
        store = app.store
        assert store.jobs
        for node_id in store.nodes:
            listed = sorted(job.id for job in store.jobs_for_node(node_id))
            indexed = sorted(store.jobs[jid].id for jid in store.jobs_by_node_index.get(node_id))
            assert indexed == listed
