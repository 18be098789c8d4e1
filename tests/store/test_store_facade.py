"""The store's facade after the split into modules (issue 11): the same public API, and no extra call layer.

``Store``'s methods are the modules' functions bound as methods (see ``console.store.store``), so that a method call
costs what it did before the split; these tests keep it that way, and keep the old import paths working.
"""

from __future__ import annotations

import inspect

from console.store import Store, ingest, preview, registry, serving, views
from console.store import query as query_package
from console.store.changes import add_listener, take_changes

PUBLIC_METHODS = {
    "active_alerts": "(self, *, include_shelved: 'bool' = False)",
    "add_listener": "(self, callback: 'Listener')",
    "add_tap": "(self, tap: 'StoreTap')",
    "alert_counts_by_priority": "(self)",
    "alerts_for": "(self, kind: 'str', object_id: 'str')",
    "any_live": "(self)",
    "apply_event": "(self, source_id: 'str', event: 'Event')",
    "apply_events": "(self, source_id: 'str', items: 'list[Any]', start: 'int' = 0)",
    "apply_preview": "(self, source_id: 'str', preview: 'Preview')",
    "apply_snapshot": "(self, source_id: 'str', snapshot: 'Snapshot')",
    "backlog": "(self)",
    "clear": "(self, audit: 'Iterable[AuditEntry]' = ())",
    "command_source": "(self, kind: 'str', target_id: 'str')",
    "counts_by_state": "(self, node_id: 'str | None' = None)",
    "current_machine": "(self, machine_id: 'str')",
    "disagreements": "(self, node_id: 'str')",
    "end_preview": "(self, source_id: 'str')",
    "merge_audit": "(self, source_id: 'str', entries: 'Sequence[AuditEntry]')",
    "forget_source": "(self, source_id: 'str')",
    "jobs_for_machine": "(self, machine_id: 'str')",
    "jobs_for_node": "(self, node_id: 'str')",
    "log_source": "(self, source_id: 'str', message: 'str')",
    "machine_telemetry": "(self, machine_id: 'str')",
    "machines_by_node": "(self, node_id: 'str')",
    "machines_in_state": "(self, state: 'str')",
    "machines_of_kind": "(self, kind: 'str')",
    "node_source": "(self, node_id: 'str')",
    "node_sources": "(self, node_id: 'str')",
    "owner": "(self, table: 'str', object_id: 'Any')",
    "recent_machine_events": "(self, machine_id: 'str')",
    "record_malformed": "(self, source_id: 'str', item: 'MalformedEvent')",
    "register_source": "(self, source_id: 'str', *, kind: 'str' = 'cluster', url: 'str' = '')",
    "remove_tap": "(self, tap: 'StoreTap')",
    "replica": "(self, source_id: 'str')",
    "set_source_state": (
        "(self, source_id: 'str', state: 'str', reason: 'str | None' = None, retry_at: 'float | None' = None)"
    ),
    "set_whoami": "(self, whoami: 'WhoAmI | None', source_id: 'str | None' = None)",
    "source_state": "(self, source_id: 'str')",
    "tables_as_json": "(self)",
    "take_changes": "(self)",
    "telemetry_series": "(self, machine_id: 'str', name: 'str')",
    "whoami_of": "(self, source_id: 'str')",
}
"""Every public method of ``Store`` before the split, with its parameters (the first one is now named ``store``);
since, the taps (``add_tap``, ``remove_tap``) and ``clear`` (``console.store.taps``), and ``whoami_of`` (several
clusters), ``apply_preview`` and ``end_preview`` (a big cluster's first screenful, ``console.store.preview``),
``merge_audit`` (a fetched page of the server's audit trail, ``console.store.audit_page``)."""

PUBLIC_ATTRIBUTES = {
    "alerts",
    "clock",
    "alerts_by_priority_index",
    "alerts_by_source_index",
    "audit",
    "backlog_ids",
    "cluster",
    "jobs",
    "jobs_by_machine_index",
    "jobs_by_node_index",
    "journal",
    "machine_events",
    "machines",
    "machines_by_kind_index",
    "machines_by_node_index",
    "machines_by_state_index",
    "nodes",
    "previews",
    "quality",
    "sources",
    "taps",
    "telemetry_history",
    "timeline",
    "whoami",
}


def _parameters(function: object) -> str:
    text = str(inspect.signature(function))  # type: ignore[arg-type]
    return text.split(" -> ")[0].replace("store: 'Store'", "self", 1)


def test_every_public_method_is_still_there_with_the_same_parameters() -> None:
    methods = {name for name in dir(Store) if not name.startswith("_") and callable(getattr(Store, name))}
    assert methods == set(PUBLIC_METHODS)
    for name, parameters in PUBLIC_METHODS.items():
        assert _parameters(getattr(Store, name)) == parameters, name


def test_every_public_attribute_is_still_there() -> None:
    store = Store()
    assert {name for name in vars(store) if not name.startswith("_")} == PUBLIC_ATTRIBUTES
    assert store.dirty is False
    assert set(store._owners) == {"nodes", "machines", "jobs", "alerts", "quality"}  # read by tests/faults/harness


def test_methods_are_the_module_functions_themselves() -> None:
    """No delegating layer: the hot path (``apply_events``, ``apply_event``) costs one call, as before the split."""
    assert Store.apply_events is ingest.apply_events
    assert Store.apply_event is ingest.apply_event
    assert Store.apply_snapshot is ingest.apply_snapshot
    assert Store.set_source_state is registry.set_source_state
    assert Store.command_source is serving.command_source
    assert Store.machine_telemetry is views.machine_telemetry
    assert Store.add_listener is add_listener
    assert Store.take_changes is take_changes
    assert Store.apply_preview is preview.apply_preview


def test_a_subclass_still_overrides_and_calls_super() -> None:
    calls: list[str] = []

    class Recording(Store):
        def register_source(self, source_id: str, *, kind: str = "cluster", url: str = "") -> object:  # type: ignore[override]
            calls.append(f"{source_id}:{kind}")
            return super().register_source(source_id, kind=kind, url=url)

    store = Recording()
    store.log_source("s", "hello")  # an unknown source is registered through the (overridable) method
    assert calls == ["s:unknown"]
    assert store.sources["s"].log[-1].message == "hello"


def test_old_import_paths_still_work() -> None:
    from console.store.query import FIELDS, HELP, Kind, Predicate, Query, Term, job_at_risk, parse
    from console.store.store import BIG_SNAPSHOT, RESOLVED, QualityKey, alert_sort_key, backlog_key, job_queue_key

    assert query_package.parse is parse
    assert {FIELDS["machine"][0], HELP[:4], Kind.__args__[0]} == {"state", "word", "machine"}  # type: ignore[attr-defined]
    assert isinstance(parse("state:fault"), Query) and parse("state:fault").terms == (Term("state", "fault"),)
    assert callable(job_at_risk) and Predicate is not None
    assert (BIG_SNAPSHOT, RESOLVED, QualityKey) == (10_000, "resolved", tuple[str, str])
    assert all(callable(f) for f in (alert_sort_key, backlog_key, job_queue_key))
