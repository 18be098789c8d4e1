"""A recording as a source: the replay adapter (``python -m console replay FILE``).

It satisfies :class:`~console.sources.adapter.SourceAdapter` like any other kind: ``run()`` feeds the store, here
from a recording at the replay clock (:class:`~console.sources.replay.player.Player`), under the source ids that were
recorded. It carries no command (``supported_actions`` is empty and the session runs read-only), and it drives the
session's server clock, so ages and ETAs are those of the recorded moment. The app reaches the controls through
:attr:`playback` (a :class:`~console.recording.playback.Playback`), never through the kind.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.api.command_bodies import CommandResult
from console.api.errors import ConnectionFailed
from console.api.models import AuditEntry, Page, RerouteCandidate
from console.recording.reader import RecordingReader
from console.sources.adapter import AdapterContext
from console.sources.replay.player import Player

if TYPE_CHECKING:
    from console.settings import SourceSpec

__all__ = ["TICK_S", "ReplayCarrier", "ReplaySource"]

TICK_S = 0.05
"""How often the replay clock's progress is applied to the store."""


class ReplayCarrier:
    """Nothing is ever sent from a replay: every call says so (the screens offer no action anyway)."""

    async def command(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> CommandResult:
        raise ConnectionFailed("a replay sends nothing: it shows a recording")

    async def reroute_candidates(self, job_id: str) -> list[RerouteCandidate]:
        raise ConnectionFailed("a replay sends nothing: it shows a recording")

    async def audit(self, cursor: str | None = None, limit: int = 100) -> Page[AuditEntry]:
        raise ConnectionFailed("a replay has no server to ask; the recorded audit trail is shown")


class ReplaySource:
    """One recording, replayed into the store."""

    kind = "replay"
    supported_actions: frozenset[str] | None = frozenset()
    grants_role: str | None = None

    def __init__(self, source_id: str, player: Player) -> None:
        self.source_id = source_id
        self.player = player
        self._carrier = ReplayCarrier()
        self._stopped = asyncio.Event()

    @classmethod
    def from_spec(cls, spec: SourceSpec, context: AdapterContext) -> ReplaySource:
        """``spec.url`` is the recording's path; ``settings.replay_last_h`` starts it that many hours (of wall time)
        before its end. Raises ``RecordingError`` for a file that is not a readable recording."""
        reader = RecordingReader(Path(spec.url))
        start_at = None
        last_h = getattr(context.settings, "replay_last_h", None)
        if last_h is not None and reader.batches:
            start_at = reader.time_at_wall(reader.batches[-1].wall - last_h * 3600.0)
        player = Player(reader, context.store, start_at=start_at)
        context.server_clock.drive(player.now)
        return cls(spec.source_id, player)

    @property
    def playback(self) -> Player:
        return self.player

    @property
    def carrier(self) -> ReplayCarrier:
        return self._carrier

    async def run(self) -> None:
        player = self.player
        player.open()
        player.play(True)
        while not self._stopped.is_set():
            player.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), TICK_S)

    def stop(self) -> None:
        self._stopped.set()

    async def aclose(self) -> None:
        self.player.reader.close()
