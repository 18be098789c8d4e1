"""The first screenful of a big cluster, read through the contract's paged lists while its snapshot still arrives.

Why (issue 15): at 20,000 machines ``GET /v1/snapshot`` is ~37 MB of JSON; fetching, parsing and applying it took
~2.4 s from launch, and until then the console showed nothing. The contract's lists are paged, so a few small reads
give what the first frame needs: the nodes (each says how many machines it has, so the whole is known), the first
page of machines, the first page of machines in an abnormal state (the dashboard sorts worst first, so those are what
an operator must see at once), and the active alerts. :class:`PreviewReader` reads them and hands them to the store
(:mod:`console.store.preview`), which shows them marked as loading; the snapshot, when parsed, replaces them as it
replaces any earlier data.

Why the preview is read *before* the snapshot is asked for, not beside it: a server builds a big snapshot on its
event loop (the demo server joins ~37 MB there before compressing them in a thread), so reads sent beside it waited
behind it; measured under load, the preview's pages came after the whole snapshot and showed nothing early. Read
first, they cost a few small round trips (~30-50 ms) before the snapshot's request, and the stream, opened before
either, buffers meanwhile as it does during the snapshot. A preview not shown within :data:`PREVIEW_TIMEOUT_S` no
longer holds the snapshot back: it is asked for then, and the preview, if still unread when the snapshot's body
comes, is dropped. Only a source's first snapshot gets a preview:
after a reconnect or a ``reset`` the last snapshot's data stays on screen, as before.

Why a small cluster gets none: below :data:`PREVIEW_MIN_MACHINES` the snapshot is a few hundred KB, parsed in
milliseconds; the extra reads would only cost the start.

Why the snapshot's parse waits for the preview to be drawn (:meth:`PreviewReader.wait_drawn`): a big snapshot is
parsed in a worker thread, but pydantic-core holds the GIL for the whole parse (~0.5-1 s at 20,000 machines), so a
parse that starts before the preview's frame is drawn holds that frame back until it ends. In practice the snapshot
comes well after the preview (the server builds and compresses it first); the wait matters only when it does not.

Everything read here is from outside: validated by the contract's models, each page capped at the size asked for
(``ApiTransport._page``) and every body at ``max_response_bytes``. A preview that fails, is slow or is refused is
logged in the source's connection log and forgotten: the snapshot goes on as if there had been none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from console.api.errors import ClientError
from console.api.models import Alert, Cluster, Machine, Node
from console.store.preview import Preview

if TYPE_CHECKING:
    from console.api.client import ClusterClient
    from console.sources.cluster_ids import Qualifier
    from console.store import Store

__all__ = ["PREVIEW_MACHINES", "PREVIEW_MIN_MACHINES", "PREVIEW_TIMEOUT_S", "PreviewReader"]

log = logging.getLogger(__name__)

PREVIEW_MIN_MACHINES = 2_000
"""A cluster with fewer machines (by its nodes' ``machine_count``) gets no preview: its snapshot is quick."""
PREVIEW_MACHINES = 200
"""Machines per preview page (two pages: the first by id, and the first in an abnormal state); a 160x48 terminal
shows about 50 tiles, and every machine more costs the server, the parse, the store and the first layout."""
ABNORMAL_STATES = "fault,blocked,offline,maintenance,paused"
"""The states the dashboard's default sort puts first (worst first), as the list's ``state`` filter."""
PREVIEW_ALERTS = 1_000
"""Alerts are few (an alert flood is a few hundred): one page of up to this many (the contract's usual maximum);
a next page is not read ("not all" in the connection log; the snapshot brings them)."""
PREVIEW_TIMEOUT_S = 2.0
"""The preview's head start: the snapshot is asked for when the preview is shown, or after this long."""
DRAWN_WAIT_S = 0.5
"""How long a big snapshot's parse waits, at most, for the app to take the preview (see the module docstring)."""
PAINT_S = 0.1
"""Then this much more, for the frame to be composed and written."""


class PreviewReader:
    """Reads one bootstrap's preview and shows it; run :meth:`run` as a task beside the snapshot's fetch."""

    def __init__(
        self,
        source_id: str,
        client: ClusterClient,
        store: Store,
        cluster: Cluster,
        qualifier: Qualifier | None,
        *,
        min_machines: int = PREVIEW_MIN_MACHINES,
        page: int = PREVIEW_MACHINES,
        nodes: asyncio.Task[list[Node]] | None = None,
    ) -> None:
        self.source_id = source_id
        self.nodes = nodes
        """``GET /v1/nodes`` already on its way (the source asks beside ``GET /v1/cluster``), else read here."""
        self.min_machines = min_machines
        self.page = page
        self.client = client
        self.store = store
        self.cluster = cluster
        self.qualifier = qualifier
        self.shown = False
        """The preview was applied (the store shows it)."""

    async def run(self) -> None:
        """Read and show the preview; never raises but ``CancelledError`` (a failed preview is logged, not
        fatal)."""
        try:
            preview = await self.read()
        except ClientError as error:
            self.store.log_source(self.source_id, f"preview not shown ({error}); waiting for the snapshot")
            return
        except Exception as error:  # a bug or an unexpected answer: the snapshot must still come
            log.exception("preview of %s failed", self.source_id)
            self.store.log_source(
                self.source_id, f"preview not shown ({type(error).__name__}); waiting for the snapshot"
            )
            return
        if preview is None:
            return
        self.shown = self.store.apply_preview(self.source_id, preview)
        if self.shown:
            total = "?" if preview.machines_total is None else f"{preview.machines_total:,}"
            self.store.log_source(
                self.source_id,
                f"preview: {len(preview.machines):,} of {total} machines, {len(preview.nodes):,} nodes, "
                f"{len(preview.alerts):,} alerts{'' if preview.alerts_complete else ' (not all)'}; snapshot loading",
            )

    async def read(self) -> Preview | None:
        """The preview's reads (``None``: the cluster is small, no preview); raises what the client raises."""
        nodes = await (self.nodes if self.nodes is not None else self.client.nodes())
        total = sum(max(0, node.machine_count) for node in nodes)
        if total < self.min_machines:
            return None
        first, abnormal, (alerts, complete) = await asyncio.gather(
            self.client.machines_page(self.page),
            self.client.machines_page(self.page, state=ABNORMAL_STATES),
            self._alerts(),
        )
        machines = {m.id: m for m in abnormal.items}
        for machine in first.items:
            machines.setdefault(machine.id, machine)
        cluster = self.cluster.model_copy()
        return self._qualified(
            Preview(cluster, nodes, list(machines.values()), alerts, machines_total=total, alerts_complete=complete)
        )

    async def _alerts(self) -> tuple[list[Alert], bool]:
        page = await self.client.alerts_page(PREVIEW_ALERTS)
        return page.items, not page.next_cursor

    def _qualified(self, preview: Preview) -> Preview:
        qualifier = self.qualifier
        if qualifier is not None:
            qualifier.obj(preview.cluster)
            group: list[Node] | list[Machine] | list[Alert]
            for group in (preview.nodes, preview.machines, preview.alerts):
                for obj in group:
                    qualifier.obj(obj)
        return preview

    async def wait_drawn(self) -> None:
        """Before a big snapshot's parse: give the app the chance to draw the preview (see the module docstring).

        Waits until the store's changes have been taken since the preview (the store is clean, or its listeners
        were told of a new change, which happens only after a take), at most :data:`DRAWN_WAIT_S`, then
        :data:`PAINT_S` for the frame itself. Without an app (tests, ``status``) that is the cap, once."""
        if not self.shown:
            return
        store = self.store
        taken = asyncio.Event()
        remove = store.add_listener(taken.set)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + DRAWN_WAIT_S
            while store.dirty and not taken.is_set() and loop.time() < deadline:
                with contextlib.suppress(TimeoutError):  # the store's clean state cannot be awaited: look again
                    await asyncio.wait_for(taken.wait(), 0.01)
        finally:
            remove()
        await asyncio.sleep(PAINT_S)
