"""The session core and the registry of source kinds, without Textual.

A new source kind is one factory registered under a name (by code, or by an installed package's entry point); the
session builds it from settings, asks it what it can do, routes commands to it, and never asks for its kind.
"""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from console.api.command_bodies import CommandResult
from console.api.models import AuditEntry, Page, RerouteCandidate, WhoAmI
from console.command_service import Command
from console.session import NotConnected, Session
from console.settings import Settings, SourceSpec
from console.sources import registry as registry_module
from console.sources.adapter import AdapterContext, SourceAdapter
from console.sources.registry import SourceRegistry, UnknownSourceKind, default_registry
from tests.store import factories as f


class RecordingCarrier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        self.sent.append((path, body))
        return CommandResult.model_validate({"command_id": "c-1", "status": "accepted", "audit_id": "a-1"})

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        return []

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        return Page[AuditEntry](items=[], next_cursor=None)


class PlantAdapter:
    """A made-up source kind: a plant PLC that can pause and resume machines and nothing else."""

    kind = "plant"
    supported_actions = frozenset({"machine.pause", "machine.resume"})
    grants_role = "operator"

    def __init__(self, spec: SourceSpec, context: AdapterContext) -> None:
        self.source_id = spec.source_id
        self.context = context
        self.carrier = RecordingCarrier()
        self.ran = self.stopped = self.closed = False
        context.store.register_source(spec.source_id, kind="plant", url=spec.url)

    async def run(self) -> None:
        self.ran = True

    def stop(self) -> None:
        self.stopped = True

    async def aclose(self) -> None:
        self.closed = True


def make_plant(spec: SourceSpec, context: AdapterContext) -> PlantAdapter:
    return PlantAdapter(spec, context)


def session_with(tmp_path: Path, *specs: SourceSpec, registry: SourceRegistry | None = None) -> Session:
    from console.audit_log import AuditLog

    reg = registry or default_registry(plugins=False)
    reg.register("plant", make_plant)
    settings = Settings(sources=list(specs), save_theme=False)
    return Session(settings, audit_log=AuditLog(tmp_path / "audit.jsonl"), registry=reg)


def test_an_adapter_satisfies_the_protocol() -> None:
    assert isinstance(PlantAdapter(SourceSpec("p", "plant", "plc://x"), _context()), SourceAdapter)


def _context() -> AdapterContext:
    from console.server_clock import ServerClock
    from console.store.store import Store

    return AdapterContext(Store(), Settings(), ServerClock(), lambda kind: 1)


def test_unknown_kind_is_a_clear_error(tmp_path: Path) -> None:
    session = session_with(tmp_path, SourceSpec("x", "mqtt", "mqtt://broker"))  # type: ignore[arg-type]
    with pytest.raises(UnknownSourceKind, match=r"no source adapter for kind 'mqtt' \(known: agent, cluster, "):
        session.build_sources()


def test_built_in_kinds_build_their_adapters(tmp_path: Path) -> None:
    from console.sources.cluster_adapter import ClusterAdapter
    from console.sources.octoprint import OctoPrintSource

    session = session_with(
        tmp_path,
        SourceSpec("cluster", "cluster", "http://127.0.0.1:1", token="t0k3n-secret"),
        SourceSpec("agent-1", "agent", "http://127.0.0.1:2"),
        SourceSpec("octoprint:a", "octoprint", "http://127.0.0.1:3", token="k", name="a"),
        SourceSpec("octoprint:b", "octoprint", "http://127.0.0.1:4", token="k", name="b"),
    )
    adapters = session.build_sources()
    assert [type(a) for a in adapters] == [ClusterAdapter, ClusterAdapter, OctoPrintSource, OctoPrintSource]
    assert all(isinstance(a, SourceAdapter) for a in adapters)
    assert adapters[2].farm_size == 2  # type: ignore[attr-defined]  # the printers share one synthetic node
    assert session.build_sources() == adapters  # built once
    assert "t0k3n-secret" in session.audit_log._secrets  # type: ignore[attr-defined]


async def test_a_new_kind_is_routed_and_limited_by_what_it_says_it_can_do(tmp_path: Path) -> None:
    session = session_with(tmp_path, SourceSpec("plc", "plant", "plc://line-1"))
    (plant,) = session.build_sources()
    store = session.store
    store.set_source_state("plc", "live")
    store.apply_snapshot("plc", f.snapshot(1, nodes=[f.node("N-1")], machines=[f.machine("M-1", node_id="N-1")]))
    assert session.role == "operator" and not session.read_only  # no whoami: the role its credentials grant
    assert session.target_allows("machine.pause", "machine", "M-1")
    assert not session.target_allows("machine.ready", "machine", "M-1")
    routed = session.route(Command("machine.pause", "M-1", {"mode": "now"}))
    assert routed is not None and routed[0] == "plc" and routed[1] is plant.carrier
    outcomes = await session.send([Command("machine.pause", "M-1", {"mode": "now"})])
    assert [o.outcome for o in outcomes] == ["applied"]
    assert plant.carrier.sent == [("/v1/machines/M-1/pause", {"mode": "now"})]  # type: ignore[attr-defined]
    await session.aclose()
    assert plant.stopped and plant.closed  # type: ignore[attr-defined]


async def test_reads_go_through_the_route_and_say_not_connected_without_a_source(tmp_path: Path) -> None:
    session = session_with(tmp_path)
    session.build_sources()
    with pytest.raises(NotConnected, match="cannot fetch reroute candidates"):
        await session.reroute_candidates("J-1")
    with pytest.raises(NotConnected, match="cannot read the server audit"):
        await session.server_audit()
    assert await session.local_audit() == []


def test_the_servers_whoami_decides_the_role(tmp_path: Path) -> None:
    session = session_with(tmp_path, SourceSpec("plc", "plant", "plc://line-1"))
    session.build_sources()
    session.store.set_whoami(WhoAmI(operator="vera", role="viewer"), "plc")
    assert session.role == "viewer" and session.read_only and not session.can("machine.pause")


def test_entry_point_plugins_register_kinds_and_a_broken_one_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    module = sys.modules[__name__]
    points = [
        EntryPoint("plant", f"{module.__name__}:make_plant", registry_module.ENTRY_POINT_GROUP),
        EntryPoint("broken", "tests.sources.no_such_module:factory", registry_module.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry_module, "_entry_points", lambda group: points)
    registry = default_registry()
    assert "plant" in registry.kinds() and "broken" not in registry.kinds()
    adapter = registry.create(SourceSpec("p", "plant", "plc://x"), _context())  # type: ignore[arg-type]
    assert isinstance(adapter, PlantAdapter)
