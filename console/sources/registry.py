"""Source kinds by name: how the session turns a configured source into a running adapter.

The built-in kinds are ``cluster`` and ``agent`` (the contract's API, :mod:`console.sources.cluster`),
``octoprint``, and ``replay`` (a recording, :mod:`console.sources.replay`). Another package adds a kind the way
Harlequin adds database adapters: an entry point in the group :data:`ENTRY_POINT_GROUP` naming a
:data:`~console.sources.adapter.SourceFactory`::

    [project.entry-points."factory_console.sources"]
    moonraker = "factory_moonraker:make_source"

Nothing else changes for a new kind: the session asks the adapter what it can do, never which kind it is.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from console.sources.adapter import AdapterContext, SourceAdapter, SourceFactory

__all__ = ["ENTRY_POINT_GROUP", "SourceRegistry", "UnknownSourceKind", "default_registry"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "factory_console.sources"


class UnknownSourceKind(ValueError):
    """A source of a kind no adapter is registered for (a typo in the config, or a plugin that is not installed)."""


class SourceRegistry:
    """Factories of source adapters, by kind."""

    def __init__(self, factories: dict[str, SourceFactory] | None = None) -> None:
        self._factories: dict[str, SourceFactory] = dict(factories or {})

    def register(self, kind: str, factory: SourceFactory) -> None:
        """Add (or replace) the factory of ``kind``."""
        self._factories[kind] = factory

    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def create(self, spec: object, context: AdapterContext) -> SourceAdapter:
        """The adapter of one configured source (a ``SourceSpec``)."""
        kind = str(getattr(spec, "kind", ""))
        factory = self._factories.get(kind)
        if factory is None:
            known = ", ".join(self.kinds())
            raise UnknownSourceKind(f"no source adapter for kind {kind!r} (known: {known})")
        return factory(spec, context)  # type: ignore[arg-type]

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Register the kinds installed packages declare; a plugin that fails to load is logged and skipped."""
        loaded: list[str] = []
        for point in _entry_points(group):
            try:
                factory = point.load()
            except Exception:  # a broken plugin must not stop the console
                log.exception("source adapter plugin %s failed to load", point.name)
                continue
            if not callable(factory):
                log.error("source adapter plugin %s is not callable", point.name)
                continue
            self.register(point.name, factory)
            loaded.append(point.name)
        return loaded


def _entry_points(group: str) -> Iterable[EntryPoint]:
    return _installed_entry_points(group)


@functools.cache
def _installed_entry_points(group: str) -> tuple[EntryPoint, ...]:
    """What installed packages declare, read once a process: the read scans every installed distribution's metadata
    (~15 ms here), and what is installed does not change under a running console (a process that boots many, as the
    test suite does, paid it for each)."""
    return tuple(entry_points(group=group))


def _cluster_factory(spec: object, context: AdapterContext) -> SourceAdapter:
    from console.sources.cluster_adapter import ClusterAdapter

    return ClusterAdapter.from_spec(spec, context)  # type: ignore[arg-type]


def _octoprint_factory(spec: object, context: AdapterContext) -> SourceAdapter:
    from console.sources.octoprint import OctoPrintSource

    return OctoPrintSource.from_spec(spec, context)  # type: ignore[arg-type]


def _moonraker_factory(spec: object, context: AdapterContext) -> SourceAdapter:
    from console.sources.moonraker import MoonrakerSource

    return MoonrakerSource.from_spec(spec, context)  # type: ignore[arg-type]


def _sparkplug_factory(spec: object, context: AdapterContext) -> SourceAdapter:
    from console.sources.sparkplug import SparkplugSource

    return SparkplugSource.from_spec(spec, context)  # type: ignore[arg-type]


def _replay_factory(spec: object, context: AdapterContext) -> SourceAdapter:
    from console.sources.replay import ReplaySource

    return ReplaySource.from_spec(spec, context)  # type: ignore[arg-type]


def _opcua_factory(spec: object, context: AdapterContext) -> SourceAdapter:
    from console.sources.opcua.source import OpcUaSource

    return OpcUaSource.from_spec(spec, context)  # type: ignore[arg-type]


def default_registry(*, plugins: bool = True) -> SourceRegistry:
    """The built-in kinds, and (with ``plugins``) those installed packages add."""
    registry = SourceRegistry({"cluster": _cluster_factory, "agent": _cluster_factory, "octoprint": _octoprint_factory})
    registry.register("replay", _replay_factory)  # a recording (python -m console replay FILE; docs/recording.md)
    registry.register("moonraker", _moonraker_factory)
    registry.register("sparkplug", _sparkplug_factory)  # an MQTT broker's Sparkplug B edge nodes (docs/sparkplug.md)
    registry.register("opcua", _opcua_factory)
    if plugins:
        registry.load_entry_points()
    return registry
