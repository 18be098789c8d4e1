"""What the console runs with, resolved once from the command line, the config file and the environment.

The app receives a finished :class:`Settings` and never reads the environment or the config file itself, so a test
builds one directly and a half-configured console cannot start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from console.api.prefetched import PrefetchedAnswers
    from console.recording.ring import RecordingSpec

SourceKind = Literal["cluster", "agent", "octoprint", "opcua", "sparkplug", "replay", "moonraker"]

MIB = 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 512 * MIB
"""The largest HTTP response body the console reads: a snapshot of 100,000 machines is 178 MiB of JSON (measured on
the demo server), so this leaves room for about 280,000 and still stops a bomb. The same as the client's default
(``console.api.body``; a test holds them equal)."""
DEFAULT_MAX_EVENT_BYTES = 1 * MIB
"""The largest single SSE event the console accepts (a telemetry event is a few hundred bytes); the same as the
framer's default (``console.api.sse``)."""


@dataclass(frozen=True)
class SourceSpec:
    """One server the console reads from: the cluster API, a node agent or an OctoPrint printer."""

    source_id: str
    kind: SourceKind
    url: str
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True
    name: str | None = None
    """For OctoPrint: the printer's name; for others a display label."""
    options: Mapping[str, object] = field(default_factory=dict, compare=False)
    """What a kind needs beyond a URL and a secret, as plain values (a Sparkplug broker's groups, host id and metric
    mapping; an OPC UA server's security policy, user, node and machines); each adapter reads its own keys."""
    cluster: str | None = None
    """The cluster this source belongs to when several are configured (``docs/multi-cluster.md``): its ids are
    qualified with the name (``leeds/N-01``); ``None`` with one cluster (ids as the server sends them)."""
    start_answers: PrefetchedAnswers | None = field(default=None, compare=False, repr=False)
    """A cluster API's first reads, sent while the console imports (``console.start_prefetch``, set by the launch
    for a plain ``http://`` cluster API): its client takes their answers from there (``console.api.prefetched``)."""

    def __repr__(self) -> str:  # the token never appears in a repr, a log or a traceback
        return f"SourceSpec({self.source_id!r}, {self.kind!r}, {self.url!r})"


@dataclass
class Settings:
    """Everything the app needs to start."""

    sources: list[SourceSpec] = field(default_factory=list)
    read_only: bool = False
    max_role: str | None = None
    """The highest role the console acts with, whatever the server grants (``--max-role``; serve-web gives its
    operator sessions ``operator``); ``None``: the server's role."""
    insecure: bool = False
    theme: str = "factory-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    refresh_ms: int = 100
    stale_after_s: float = 30.0
    panel_interval_s: float = 1.0
    """Side panels and the node strip repaint at most this often (the grid follows ``refresh_ms``): counts that
    flicker ten times a second help nobody, and over SSH every repaint of a wide panel costs bytes."""
    demo: bool = False
    save_theme: bool = True
    """Save the operator's theme choice to the config file (off in tests)."""
    recording: RecordingSpec | None = None
    """Record what the console receives (``console.recording``): to a chosen file (``--record FILE``) or the ring in
    the user data dir (config ``record_retention_h``); ``None``: nothing is recorded (tests, a replay)."""
    replay_last_h: float | None = None
    """A replay (a source of kind ``replay``) starts this many hours before the recording's end (``--last``)."""
    config_file: str | None = None
    """Where the theme choice is saved (``None``: the default location)."""
    no_color: bool = False
    ascii: bool = False
    """Draw states, marks, bars and charts with ASCII only (``--ascii``, ``ascii = true``; on by itself when
    ``TERM=linux``, the Linux console, whose font has few of the Unicode symbols)."""
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """A response body longer than this is refused, not read into memory (config: ``max_response_mb``)."""
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    """A server-sent event longer than this is dropped as malformed, not buffered (config: ``max_event_kb``)."""
    runbooks_dir: Path | None = None
    """The site's runbooks, one ``<code>.md`` per alert code, shown before the built-in ones (config:
    ``runbooks_dir``, already expanded and absolute; ``None``: the built-in runbooks only)."""
    shift_start: tuple[time, ...] = ()
    """When shifts start, UTC times of day (config: ``shift_start``): the handover looks back to the last one."""

    def __post_init__(self) -> None:
        for name in ("max_response_bytes", "max_event_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Settings.{name} must be a positive number of bytes")
