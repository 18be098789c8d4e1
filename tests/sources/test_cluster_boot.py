"""The bootstrap buffer's caps (console.sources.cluster_boot): what a big cluster's stream needs while its snapshot
loads is kept, and a flood is still refused."""

from __future__ import annotations

import pytest

from console.api.sse import SseMessage
from console.sources.cluster_boot import BOOT_BUFFER_BYTES, BOOT_BUFFER_EVENTS, Boot, Resync
from tests.store import factories as f

TELEMETRY = '{"machine_id":"M-N0001-01","at":"2026-11-25T08:00:00Z","values":{"nozzle_c":215.2,"bed_c":60.1}}'


def _messages(first: int, count: int, data: str = TELEMETRY) -> list[SseMessage]:
    return [(str(seq), "machine.telemetry", data) for seq in range(first, first + count)]


def test_the_default_caps_hold_a_minute_of_a_100000_machine_stream() -> None:
    """~5,000 events/s of ~210 bytes while a 100,000-machine snapshot loads (40-60 s under load): the old cap of
    250,000 events was full before the snapshot came, every time, and the console never went live."""
    boot = Boot(f.cluster(seq=0), BOOT_BUFFER_EVENTS, BOOT_BUFFER_BYTES)
    data = TELEMETRY + " " * (210 - len(TELEMETRY))
    for start in range(1, 360_000, 4_000):
        boot.add(_messages(start, 4_000, data))
    assert len(boot.messages) == 360_000


def test_a_stream_past_the_byte_cap_is_refused() -> None:
    boot = Boot(f.cluster(seq=0), BOOT_BUFFER_EVENTS, 1_000_000)
    with pytest.raises(Resync, match="bootstrap buffer full"):
        for start in range(1, 100_000, 1_000):
            boot.add(_messages(start, 1_000))


def test_a_stream_past_the_event_cap_is_refused() -> None:
    boot = Boot(f.cluster(seq=0), 5_000, BOOT_BUFFER_BYTES)
    with pytest.raises(Resync, match="bootstrap buffer full"):
        boot.add(_messages(1, 5_001, "{}"))
