"""A pytest plugin that makes the fault suite's HostileServer also serve ``GET /v1/cluster``.

HostileServer has no ``/v1/cluster``, so against it ClusterSource falls back to the classic bootstrap (snapshot, then
events after its seq). To run all of the fault suite through the concurrent bootstrap (stream opened from the
cluster's seq, buffered while the snapshot loads):

    .venv/bin/pytest -q -p tests.sources.hostile_with_cluster tests/faults

``/v1/cluster`` answers the server's current seq, or the seq of a frozen snapshot still queued (as if the cluster had
been read when that snapshot was taken: a later snapshot is never older than an earlier ``/v1/cluster``).
"""

from __future__ import annotations

import json
from typing import Any

from tests.faults import hostile_server as hs

_original = hs.HostileServer._read_request


async def _read_request(self: hs.HostileServer, reader: Any) -> Any:
    request = await _original(self, reader)
    if request is not None and request.path == "/v1/cluster" and not self.replies.get("/v1/cluster"):
        seq = json.loads(self.snapshot_queue[0])["seq"] if self.snapshot_queue else self.seq
        body = json.dumps({**self.cluster, "seq": seq}).encode()
        self.fail("/v1/cluster", hs.Reply(200, {"Content-Type": "application/json"}, body))
    return request


hs.HostileServer._read_request = _read_request  # type: ignore[method-assign]
