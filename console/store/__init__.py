"""The store: the console's one in-memory picture of the cluster (pure Python, no I/O). See ``store.Store``."""

from console.store.changes import ApplyOutcome, ChangeSet
from console.store.history import MachineEvent
from console.store.status import LogLine, MalformedRecord, SourceState, SourceStatus
from console.store.store import Store

__all__ = [
    "ApplyOutcome",
    "ChangeSet",
    "LogLine",
    "MachineEvent",
    "MalformedRecord",
    "SourceState",
    "SourceStatus",
    "Store",
]
