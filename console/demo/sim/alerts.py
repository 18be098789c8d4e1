"""Alarm management after ISA-18.2: raise, repeat, clear, acknowledge, shelve, resolve.

The state an operator sees is derived from three facts (is the condition still present, has someone acknowledged
it, is it shelved) rather than stored, so every path through the lifecycle gives the same answer:

* shelved (until ``shelved_until``) hides everything else;
* condition present: ``active_unacked`` or ``active_acked``;
* condition gone: ``cleared_unacked``, or ``resolved`` once acknowledged: sent once as ``alert.updated`` and dropped.

A repeat of the same condition (same source and code) while the alert is alive increments ``count``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from console.api.models import Alert, SourceRef

from .errors import SimCommandError

__all__ = ["AlertBook"]

Emit = Callable[[str, Alert], None]


@dataclass(slots=True)
class _Record:
    id: str
    priority: str
    kind: str
    source_id: str
    code: str
    message: str
    raised_at: datetime
    updated_at: datetime
    count: int = 1
    active: bool = True
    acked: bool = False
    acked_by: str | None = None
    ack_note: str | None = None
    shelved_until: datetime | None = None

    @property
    def state(self) -> str:
        if self.shelved_until is not None:
            return "shelved"
        if self.active:
            return "active_acked" if self.acked else "active_unacked"
        return "resolved" if self.acked else "cleared_unacked"

    def model(self) -> Alert:
        return Alert(
            id=self.id,
            priority=self.priority,
            state=self.state,
            source=SourceRef(kind=self.kind, id=self.source_id),
            code=self.code,
            message=self.message,
            raised_at=self.raised_at,
            updated_at=self.updated_at,
            count=self.count,
            acked_by=self.acked_by,
            ack_note=self.ack_note,
            shelved_until=self.shelved_until,
        )


class AlertBook:
    """The live alerts of the simulation; emits ``alert.raised`` / ``alert.updated`` through ``emit``."""

    def __init__(self, emit: Emit, emitting: Callable[[], bool]) -> None:
        self._emit = emit
        self._emitting = emitting
        self._alerts: dict[str, _Record] = {}
        self._by_condition: dict[tuple[str, str, str], str] = {}
        self._counter = 0

    # --- reads ---------------------------------------------------------------------------------------------------

    def models(self) -> list[Alert]:
        return [r.model() for r in self._alerts.values()]

    def get(self, alert_id: str) -> Alert | None:
        record = self._alerts.get(alert_id)
        return record.model() if record else None

    def source_of(self, alert_id: str) -> tuple[str, str] | None:
        record = self._alerts.get(alert_id)
        return (record.kind, record.source_id) if record else None

    def find(self, kind: str, source_id: str, code: str) -> str | None:
        """The id of the live alert of this condition, if any."""
        return self._by_condition.get((kind, source_id, code))

    def is_active(self, kind: str, source_id: str, code: str) -> bool:
        alert_id = self._by_condition.get((kind, source_id, code))
        return alert_id is not None and self._alerts[alert_id].active

    def __len__(self) -> int:
        return len(self._alerts)

    # --- the condition side --------------------------------------------------------------------------------------

    def raise_(self, now: datetime, kind: str, source_id: str, code: str, priority: str, message: str) -> str:
        """The condition is present: a new alert, or a repeat (``count`` + 1) of the live one."""
        key = (kind, source_id, code)
        alert_id = self._by_condition.get(key)
        if alert_id is not None:
            record = self._alerts[alert_id]
            record.count += 1
            if not record.active:  # it had cleared: this occurrence needs acknowledging again
                record.active = True
                record.acked = False
                record.acked_by = None
                record.ack_note = None
            record.message = message
            record.updated_at = now
            self._send("alert.updated", record)
            return alert_id
        self._counter += 1
        alert_id = f"A-{self._counter:05d}"
        record = _Record(alert_id, priority, kind, source_id, code, message, now, now)
        self._alerts[alert_id] = record
        self._by_condition[key] = alert_id
        self._send("alert.raised", record)
        return alert_id

    def clear(self, now: datetime, kind: str, source_id: str, code: str) -> None:
        """The condition is gone: ``cleared_unacked``, or ``resolved`` if already acknowledged."""
        alert_id = self._by_condition.get((kind, source_id, code))
        if alert_id is None:
            return
        record = self._alerts[alert_id]
        if not record.active:
            return
        record.active = False
        record.updated_at = now
        self._changed(record)

    # --- operator actions (refusals raise SimCommandError) --------------------------------------------------------

    def _find(self, alert_id: str) -> _Record:
        record = self._alerts.get(alert_id)
        if record is None:
            raise SimCommandError(404, "not_found", f"alert {alert_id} not found (or already resolved)")
        return record

    def ack(self, now: datetime, alert_id: str, operator: str, note: str | None) -> None:
        record = self._find(alert_id)
        if record.acked:
            raise SimCommandError(409, "already_acked", f"alert {alert_id} was acknowledged by {record.acked_by}")
        record.acked = True
        record.acked_by = operator
        record.ack_note = note
        record.updated_at = now
        self._changed(record)

    def shelve(self, now: datetime, alert_id: str, until: datetime, note: str | None) -> None:
        record = self._find(alert_id)
        if until <= now:
            raise SimCommandError(422, "invalid_body", "shelve until must be in the future")
        record.shelved_until = until
        if note:
            record.ack_note = note
        record.updated_at = now
        self._send("alert.updated", record)

    def unshelve(self, now: datetime, alert_id: str) -> None:
        record = self._find(alert_id)
        if record.shelved_until is None:
            raise SimCommandError(409, "not_shelved", f"alert {alert_id} is not shelved")
        record.shelved_until = None
        record.updated_at = now
        self._changed(record)

    def shelve_expired(self, now: datetime, alert_id: str, until: datetime) -> None:
        """A shelve ran out: the alert returns (if it was not unshelved or shelved again meanwhile)."""
        record = self._alerts.get(alert_id)
        if record is None or record.shelved_until != until:
            return
        record.shelved_until = None
        record.updated_at = now
        self._changed(record)

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _changed(self, record: _Record) -> None:
        self._send("alert.updated", record)
        if record.state == "resolved":
            del self._alerts[record.id]
            del self._by_condition[(record.kind, record.source_id, record.code)]

    def _send(self, event_type: str, record: _Record) -> None:
        if self._emitting():
            self._emit(event_type, record.model())
