"""What every source kind is to the rest of the console: one protocol, so a new machine protocol is one new folder.

A source adapter turns one server's protocol (the cluster API, a node agent, OctoPrint, and later MQTT/Sparkplug B,
OPC UA, Moonraker) into contract objects in the store, and carries the commands sent to the machines it serves. The
session builds adapters from settings through the registry (``console.sources.registry``), runs each one as a task,
and asks it, never its kind, what it can do. The store, the command service and the screens know nothing else of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from console.api.command_bodies import CommandResult
from console.api.models import AuditEntry, Page, RerouteCandidate

if TYPE_CHECKING:
    from console.server_clock import ServerClock
    from console.settings import Settings, SourceSpec
    from console.store.store import Store

__all__ = ["AdapterContext", "CommandCarrier", "SourceAdapter", "SourceFactory"]


class CommandCarrier(Protocol):
    """What carries commands and command-side reads to one server.

    ``command`` is the call the command service makes (``POST`` path, body, idempotency key); the reads are those a
    dialog needs before it asks (reroute candidates) and the server's audit trail. An adapter whose server has no
    such read raises :class:`~console.api.errors.NotFound` (a 404 problem), as a server without it would.
    """

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult: ...

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]: ...

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]: ...


@runtime_checkable
class SourceAdapter(Protocol):
    """One server's view, fed into the store until stopped; see the module docstring.

    ``supported_actions`` is ``None`` when the server takes every contract command, else the ones it can do (an
    OctoPrint printer cannot reroute or be made ready). ``grants_role`` is the role its credentials stand for when the
    server has no ``whoami`` (a printer's API key is the permission), else ``None``.

    An adapter whose targets differ in what they can do may also have ``allows(action, kind, target_id) -> bool``
    (not part of the protocol: optional); the session then asks it per target, within ``supported_actions`` (a
    Sparkplug device offers only the commands its DBIRTH declared).
    """

    source_id: str
    kind: str

    @property
    def supported_actions(self) -> frozenset[str] | None: ...

    @property
    def grants_role(self) -> str | None: ...

    @property
    def carrier(self) -> CommandCarrier: ...

    async def run(self) -> None: ...

    def stop(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class AdapterContext:
    """What a source factory may use: the store it feeds, the settings, the session's server clock, and how many
    sources of each kind were configured (a print farm's printers share one synthetic node sized by it)."""

    store: Store
    settings: Settings
    server_clock: ServerClock
    count_of_kind: Callable[[str], int]


SourceFactory = Callable[["SourceSpec", AdapterContext], SourceAdapter]
"""Builds the adapter of one configured source."""
