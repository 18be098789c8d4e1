"""The session: everything the console is, without the terminal.

It owns the store, the server clock, the local audit log, the sources (built from the settings through the registry
of source kinds) and the command service, and it answers the reads a screen needs (reroute candidates, the server's
audit trail, the local audit log off the UI thread). It imports no Textual: the app (``console.app``) is the glue
that runs the sources as workers, turns the store's "dirty" into a coalesced repaint, and shows outcomes as toasts.
Screens reach it through the narrow :class:`~console.screens.host.ConsoleHost` protocol, never through the app class.

Why a layer of its own: a new source kind, a second cluster, a headless test or a web front end all need this part
and none of the terminal; and "who carries this command" is one decision, made here, for commands and reads alike.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.api.errors import ConnectionFailed
from console.api.models import AuditEntry, RerouteCandidate
from console.api.wire import utc_now
from console.command_service import Command, CommandOutcome, CommandService, allowed_actions, cap_role, role_rank
from console.server_clock import ServerClock
from console.sources.adapter import AdapterContext, CommandCarrier, SourceAdapter
from console.sources.registry import SourceRegistry, default_registry
from console.store.clusters import cluster_of
from console.store.store import Store

if TYPE_CHECKING:
    from pathlib import Path

    from console.audit_log import AuditLog
    from console.recording.playback import Playback
    from console.recording.recorder import Recorder
    from console.settings import Settings

__all__ = ["NotConnected", "Session"]

_TABLES = {"machine": "machines", "job": "jobs", "alert": "alerts", "node": "nodes"}


class NotConnected(ConnectionFailed):
    """No source can carry this read or command now (none configured, or none of them reached)."""


class Session:
    """The console's state and its roads to the servers; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        audit_log: AuditLog | None = None,
        server_clock: ServerClock | None = None,
        registry: SourceRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or Store()
        self.server_clock = server_clock or ServerClock()
        # One clock everywhere: what the store stamps (connection log, malformed events, machine events) and what the
        # local audit log records beside its own wall-clock time are on the server's clock, as the header is.
        self.store.clock = self.server_now
        if audit_log is None:
            from console.audit_log import AuditLog

            audit_log = AuditLog()
        self.audit_log = audit_log
        audit_log.server_clock = self.server_clock.now
        for spec in settings.sources:  # a token pasted into a note or reason is never written to the local log
            audit_log.add_secret(spec.token)
        self.registry = registry or default_registry()
        self.adapters: dict[str, SourceAdapter] = {}
        """The sources, by source id, in the order of the settings (built by :meth:`build_sources`)."""
        self.commands = CommandService(
            self.route,
            audit_log,
            operator=lambda: self.operator,
            role=lambda: self.role,
            read_only=settings.read_only,
            is_connected=self._source_live,
        )
        self.recorder: Recorder | None = None
        """Records what the console receives once :meth:`start_recording` has started it."""

    # --- recording and replay ---------------------------------------------------------------------------------

    def start_recording(self, on_problem: Callable[[str], None] | None = None) -> str | None:
        """Record what the store receives and the commands' outcomes, as the settings say (``console.recording``).
        Returns why it cannot (one line; the console goes on without recording), else ``None``. ``on_problem`` is
        told, from the writer thread, if recording stops later (no space left, the file gone)."""
        spec = self.settings.recording
        if spec is None or self.recorder is not None:
            return None
        from console import __version__
        from console.recording.format import RecordingUnavailable
        from console.recording.recorder import Recorder

        recorder = Recorder(
            spec,
            self.store,
            lambda: self.server_clock.now(),  # None until a server has spoken: the recorder dates those later
            app_version=__version__,
            on_problem=on_problem,
        )
        try:
            recorder.start()
        except RecordingUnavailable as error:
            return f"{error}; the console goes on without recording"
        self.recorder = recorder
        return None

    @property
    def playback(self) -> Playback | None:
        """The controls of a replay, when a source replays a recording (``replay FILE``); else ``None``."""
        for adapter in self.adapters.values():
            playback: Playback | None = getattr(adapter, "playback", None)
            if playback is not None:
                return playback
        return None

    def server_now(self) -> datetime:
        """The server's time as the console estimates it (its own UTC time before any server has spoken).

        The app moves the clock on at each repaint; between a first snapshot and that repaint (the connection log's
        "snapshot" and "live" lines are written then) the snapshot's own ``server_time`` starts it, so those lines
        are on the server's clock like every later one, not on this machine's."""
        now = self.server_clock.now()
        if now is None and (cluster := self.store.cluster) is not None:
            self.server_clock.reset(cluster.server_time)
            now = self.server_clock.now()
        return now or utc_now()

    # --- sources ----------------------------------------------------------------------------------------------------

    def build_sources(self) -> list[SourceAdapter]:
        """Build an adapter for each configured source (once); the caller runs each ``adapter.run()`` as a task."""
        if self.adapters:
            return list(self.adapters.values())
        kinds = Counter[str](spec.kind for spec in self.settings.sources)
        context = AdapterContext(self.store, self.settings, self.server_clock, lambda kind: kinds[kind])
        for spec in self.settings.sources:
            self.adapters[spec.source_id] = self.registry.create(spec, context)
        return list(self.adapters.values())

    async def aclose(self) -> None:
        """Stop every source and close its connections; then the recording (what is queued is written)."""
        for adapter in self.adapters.values():
            adapter.stop()
        for adapter in self.adapters.values():
            await adapter.aclose()
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            recorder.detach()
            await asyncio.to_thread(recorder.stop)

    def _source_live(self, source_id: str) -> bool:
        status = self.store.sources.get(source_id)
        return status is not None and status.state == "live"

    # --- who is at the keyboard -------------------------------------------------------------------------------------

    @property
    def operator(self) -> str | None:
        whoami = self.store.whoami
        return whoami.operator if whoami else None

    @property
    def role(self) -> str | None:
        """The role the server gave us; with only sources that have no ``whoami`` (printers), the role they grant;
        never above ``Settings.max_role`` (``--max-role``: serve-web's operator sessions)."""
        if self.cluster_ids:  # several clusters: the highest role held; each target is checked against its own
            held = [w.role for c in self.cluster_ids if (w := self.store.whoami_of(c)) is not None]
            if held:
                return cap_role(max(held, key=role_rank), self.settings.max_role)
        whoami = self.store.whoami
        if whoami is not None:
            return cap_role(whoami.role, self.settings.max_role)
        granted = {adapter.grants_role for adapter in self.adapters.values()}
        if self.adapters and None not in granted and len(granted) == 1:
            return cap_role(granted.pop(), self.settings.max_role)
        return None

    @property
    def read_only(self) -> bool:
        """Read-only by flag, by config, or because the server says we are a viewer."""
        return self.settings.read_only or self.role == "viewer"

    def can(self, action: str, count: int = 1) -> bool:
        """May the operator take this action now (role, read-only, bulk size)?"""
        return self.commands.can(action, count)

    # --- where things go --------------------------------------------------------------------------------------------

    def owner_of(self, kind: str, target_id: str) -> str | None:
        """The source whose data the console shows for this object (``None`` when unknown)."""
        table = _TABLES.get(kind)
        return self.store.owner(table, target_id) if table else None

    @property
    def cluster_ids(self) -> list[str]:
        """The cluster API sources when several clusters are configured (their source ids are the clusters' names;
        ``docs/multi-cluster.md``); empty with one cluster."""
        return [s.source_id for s in self.settings.sources if s.cluster and s.kind == "cluster"]

    def target_allows(self, action: str, kind: str, target_id: str | None) -> bool:
        """Whether the source behind a target can do ``action`` at all (an OctoPrint printer cannot reroute), and,
        with several clusters, whether our role at the target's own cluster allows it (supervisor at one, viewer at
        another: the other's machines offer no action)."""
        if target_id is None:
            return True
        owner = self.owner_of(kind, target_id)
        clusters = self.cluster_ids
        if clusters:
            cluster = cluster_of(target_id, clusters)
            whoami = self.store.whoami_of(cluster) if cluster else None
            if whoami is not None and action not in allowed_actions(
                cap_role(whoami.role, self.settings.max_role), self.settings.read_only
            ):
                return False
        adapter = self.adapters.get(owner) if owner else None
        if adapter is None or adapter.supported_actions is None:
            return True
        allows = getattr(adapter, "allows", None)  # the adapter's targets differ: it decides per target
        if allows is not None:
            return bool(allows(action, kind, target_id))
        return action in adapter.supported_actions or action == "alert.ack"

    def route(self, command: Command) -> tuple[str, CommandCarrier] | None:
        """Who carries a command (or a read about its target): the source serving the target's node (the cluster
        API while it is live, else the node's own agent), or the source that owns the target; else the cluster API,
        which then says "not connected"; ``None`` when there is no source at all. With several clusters the fallback
        is the cluster API of the cluster the target's id names (``leeds/M-07`` -> ``leeds``), never another one's."""
        adapters = self.adapters
        source_id = self.store.command_source(command.target_kind, command.target_id)
        if source_id in adapters:
            return source_id, adapters[source_id].carrier
        owner = self.owner_of(command.target_kind, command.target_id)
        if owner in adapters and adapters[owner].supported_actions is not None:  # a printer carries its own
            return owner, adapters[owner].carrier
        if "cluster" in adapters:
            return "cluster", adapters["cluster"].carrier
        cluster = cluster_of(command.target_id)
        if cluster in adapters:
            return cluster, adapters[cluster].carrier
        for source_id, adapter in adapters.items():
            if adapter.supported_actions is None:  # a contract server, not a printer
                return source_id, adapter.carrier
        return None

    # --- commands and reads -----------------------------------------------------------------------------------------

    async def send(self, commands: Sequence[Command]) -> list[CommandOutcome]:
        """Send one command or a bulk of them; raises ``PermissionDenied`` when the role does not allow it."""
        if len(commands) == 1:
            outcomes = [await self.commands.run(commands[0])]
        else:
            outcomes = await self.commands.run_bulk(commands)
        if self.recorder is not None:
            for outcome in outcomes:
                self.recorder.command(outcome)
        return outcomes

    def is_pending(self, command: Command) -> bool:
        """This intent is already on its way (a second press joins it)."""
        return self.commands.is_pending(command.action, command.target_id)

    async def reroute_candidates(self, job_id: str, node_id: str | None = None) -> list[RerouteCandidate]:
        """Where a job may go, from the source that would carry its reroute; raises a ``ClientError``."""
        carrier = self._carrier(Command("job.reroute", job_id, {}, node_id=node_id), "fetch reroute candidates")
        return await carrier.reroute_candidates(job_id)

    async def server_audit(self, limit: int = 200) -> list[AuditEntry]:
        """The newest page of the server's audit trail; raises a ``ClientError``. With several clusters, the newest
        ``limit`` entries over every cluster's trail (their ids qualified, so each says its cluster); a cluster that
        cannot be read is left out unless none can."""
        clusters = [c for c in self.cluster_ids if c in self.adapters]
        if not clusters:
            routed = self.route(Command("audit.read", "-", {}))
            if routed is None:
                raise NotConnected("not connected: cannot read the server audit")
            page = await routed[1].audit(limit=limit)
            # Into the store too (console.store.audit_page): the journal learns who did what before the console
            # started, and the recording keeps the page for a replay.
            self.store.merge_audit(routed[0], list(page.items))
            return list(page.items)
        pages = await asyncio.gather(
            *(self.adapters[c].carrier.audit(limit=limit) for c in clusters), return_exceptions=True
        )
        for cluster, read in zip(clusters, pages, strict=True):
            if not isinstance(read, BaseException):
                self.store.merge_audit(cluster, list(read.items))
        entries = [e for page in pages if not isinstance(page, BaseException) for e in page.items]
        if not entries and (failures := [p for p in pages if isinstance(p, BaseException)]):
            raise failures[0]
        entries.sort(key=lambda e: e.at, reverse=True)
        return entries[:limit]

    async def local_audit(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest records of the local audit log, newest last, read in a thread (the file may be large)."""
        return await asyncio.to_thread(self.audit_log.recent, limit)

    async def export_markdown(self, stem: str, text: str) -> Path:
        """Write a Markdown export (a timeline, a handover: ``console.exports``) to a new file named with the server's
        time, in a thread; returns its path, raises ``OSError``."""
        from console.exports import write_export

        return await asyncio.to_thread(write_export, stem, text, self.server_now())

    def _carrier(self, command: Command, what: str) -> CommandCarrier:
        routed = self.route(command)
        if routed is None:
            raise NotConnected(f"not connected: cannot {what}")
        return routed[1]
