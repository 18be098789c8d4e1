"""A page of the server's audit trail the console fetched (``GET /v1/audit``), merged into what it heard.

Why: the store hears the audit trail only as ``audit.appended`` events, so it knows nothing done before the console
started. The Audit, timeline and handover screens fetch a page; kept only by the screen that asked, it told the
alert journal nothing (an alert shelved by omar.b before the console started had no "by") and it never reached the
recording, so a replay's Audit screen said "No audit entries yet" where the live one listed what was done. Merged
here, as a store input like any other, the journal completes its rows from it, the taps (the recorder) hear it, and
a replay applies it back through the same function.

The trail stays one bounded list in time order (``store.audit``; its ``maxlen``), each entry once by id; a page is
cut to :data:`MAX_PAGE` entries (it comes from outside).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from console.api.models import AuditEntry
from console.store.changes import touch

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["MAX_PAGE", "merge_audit"]

MAX_PAGE = 1000
"""The most entries one fetched page may bring (the session asks for 200)."""


def merge_audit(store: Store, source_id: str, entries: Sequence[AuditEntry]) -> int:
    """Put the entries not yet known (by id) into the trail, in time order; returns how many were new."""
    known = store._audit_ids
    new: list[AuditEntry] = []
    for entry in entries[:MAX_PAGE]:
        if entry.id not in known and all(entry.id != e.id for e in new):
            new.append(entry)
    if not new:
        return 0
    trail = sorted([*store.audit, *new], key=lambda e: e.at)  # stable: heard entries keep their order among equals
    limit = store.audit.maxlen
    if limit is not None:
        trail = trail[-limit:]
    store.audit.clear()
    store.audit.extend(trail)
    known.clear()
    known.update(e.id for e in trail)
    for entry in sorted(new, key=lambda e: e.at):
        store.journal.note_audit(entry)  # who acked or shelved: the journal's row, or the one it will make
    store._pending.audit.update(e.id for e in new if e.id in known)
    touch(store)
    return len(new)
