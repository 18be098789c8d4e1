"""Several clusters in one session (docs/multi-cluster.md): the role is held per cluster, and the Audit screen's
server trail is every cluster's.

Roles: the console shows the highest role it holds, and each target is checked against its own cluster's role, so a
viewer at one cluster is offered no action on that cluster's machines while the other's stay actionable (the server
would refuse with a 403; the console hides, never refuses after the fact).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from console.api.commands import command_path
from console.api.models import WhoAmI
from console.audit_log import AuditLog
from console.session import Session
from console.settings import Settings, SourceSpec


def _session(tmp_path: Path, urls: dict[str, str], **settings: Any) -> Session:
    sources = [SourceSpec(name, "cluster", url, cluster=name) for name, url in urls.items()]
    return Session(Settings(sources=sources, **settings), audit_log=AuditLog(tmp_path / "audit.jsonl"))


def test_each_target_is_checked_against_its_own_clusters_role(tmp_path: Path) -> None:
    session = _session(tmp_path, {"north": "http://127.0.0.1:1", "south": "http://127.0.0.1:2"})
    session.store.set_whoami(WhoAmI(operator="ann", role="supervisor"), "north")
    session.store.set_whoami(WhoAmI(operator="ann", role="viewer"), "south")
    assert session.role == "supervisor" and not session.read_only
    assert session.target_allows("machine.pause", "machine", "north/M-1")
    assert not session.target_allows("machine.pause", "machine", "south/M-1")
    assert not session.target_allows("alert.ack", "alert", "south/A-9")
    session.store.set_whoami(WhoAmI(operator="ann", role="operator"), "south")
    assert session.target_allows("machine.pause", "machine", "south/M-1")
    assert not session.target_allows("node.pause", "node", "south/N-1")  # supervisor only
    assert session.target_allows("node.pause", "node", "north/N-1")


def test_the_role_is_capped_and_read_only_wins(tmp_path: Path) -> None:
    urls = {"north": "http://127.0.0.1:1", "south": "http://127.0.0.1:2"}
    session = _session(tmp_path, urls, max_role="operator")
    session.store.set_whoami(WhoAmI(operator="ann", role="supervisor"), "north")
    assert session.role == "operator"
    assert not session.target_allows("node.pause", "node", "north/N-1")
    read_only = _session(tmp_path, urls, read_only=True)
    read_only.store.set_whoami(WhoAmI(operator="ann", role="supervisor"), "north")
    assert not read_only.target_allows("machine.pause", "machine", "north/M-1")


async def test_the_server_audit_is_every_clusters_newest_first(live_server: Any, tmp_path: Path) -> None:
    north, south = live_server(warmup_s=600, seed=7), live_server(warmup_s=600, seed=8)
    session = _session(tmp_path, {"north": north.url, "south": south.url})
    session.build_sources()
    try:
        keys = {}
        for name, server in (("north", north), ("south", south)):
            machine = next(m for m in server.call(server.sim.machines) if m.state == "running")
            keys[name] = str(uuid.uuid4())
            carrier = session.adapters[name].carrier
            path = command_path("machine.pause", f"{name}/{machine.id}")
            await carrier.command(path, {"reason": "audit test"}, keys[name])
        entries = await session.server_audit(limit=50)
        by_key = {e.idempotency_key: e for e in entries}
        assert by_key[keys["north"]].target.id.startswith("north/")
        assert by_key[keys["south"]].target.id.startswith("south/")
        assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
        north.stop()  # one cluster that cannot be read: the other's trail still comes
        entries = await session.server_audit(limit=50)
        assert entries and all(e.target.id.startswith("south/") for e in entries)
    finally:
        await session.aclose()
