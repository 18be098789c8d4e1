"""Alarms & Conditions as contract alerts: one alert per condition occurrence, moved on by the condition's events.

A condition (``ConditionId``) that becomes active, or unacknowledged, raises an alert (``alert.raised``); its next
events update it (``alert.updated``); when it is over (``Retain`` false, inactive and acknowledged, or disabled) the
alert is sent once more as ``resolved`` and forgotten, so the same condition firing again is a new alert. A condition
that goes active again while it still waits for an acknowledgement counts up (``count``) instead.

Mapping (``docs/opcua.md``): ``Severity`` to the priority (:func:`~.mapping.priority_for`), the two-state variables
to the state (:func:`~.mapping.alert_state`), ``ShelvingState`` shelved as ``shelved`` (until ``Time`` +
``UnshelveTime`` when the server gives one), ``ConditionName`` to the code, ``Message`` to the message, the
``SourceNode`` to the machine it belongs to (else the source's node), ``Comment`` and ``ClientUserId`` to the note
and who acknowledged. Branches (``BranchId`` set) are not shown.

A ConditionRefresh (after each subscribe) is bracketed by RefreshStart and RefreshEnd events: an alert whose condition
was not re-sent in between is over (the server restarted without it) and is resolved.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from console.api.models import Alert, EventType, SourceRef
from console.sources.opcua.mapping import (
    SHELVED_STATES,
    Malformed,
    alert_state,
    clean_text,
    priority_for,
    slug,
    snake,
    utc,
)
from console.sources.opcua.model import SHELVED_IDS

if TYPE_CHECKING:
    from console.sources.opcua.translation import Translator

__all__ = ["Conditions"]


class Conditions:
    """The open alerts of one server's conditions, and what acknowledging each needs."""

    def __init__(self, owner: Translator) -> None:
        self._owner = owner
        self._alerts: dict[str, Alert] = {}
        """Condition id -> its open alert (as last sent)."""
        self._event_ids: dict[str, bytes] = {}
        """Condition id -> the EventId of its latest event (Acknowledge names the event it acknowledges)."""
        self._ackable: dict[str, bool] = {}
        self._by_alert: dict[str, str] = {}
        self._acks: dict[str, str | None] = {}
        """Condition id -> the note of an acknowledgement this console sent (until an event says it is acked)."""
        self._refresh: set[str] | None = None

    def open_alerts(self) -> list[Alert]:
        return list(self._alerts.values())

    # --- acknowledging ----------------------------------------------------------------------------------------------

    def condition_of(self, alert_id: str) -> str | None:
        """The condition id of an open alert of this server."""
        return self._by_alert.get(alert_id)

    def acknowledgeable(self, condition_id: str) -> bool:
        return self._ackable.get(condition_id, False)

    def event_id(self, condition_id: str) -> bytes | None:
        return self._event_ids.get(condition_id)

    def ack_sending(self, condition_id: str, note: str | None) -> None:
        """This console is acknowledging the condition: its acknowledged event is shown as acknowledged by
        ``console`` (when the server names no user) with ``note``. Called before the call is sent, since the event
        may arrive before the call's answer."""
        self._acks[condition_id] = note

    def ack_failed(self, condition_id: str) -> None:
        """The acknowledgement was refused or not sent."""
        self._acks.pop(condition_id, None)

    # --- refresh ----------------------------------------------------------------------------------------------------

    def refresh_started(self) -> None:
        self._refresh = set()

    def refresh_ended(self) -> None:
        seen, self._refresh = self._refresh, None
        if seen is None:
            return
        now = self._owner.now()
        for condition_id, alert in list(self._alerts.items()):
            if condition_id not in seen:
                self._put(condition_id, alert, {"state": "resolved", "updated_at": now})

    # --- events -------------------------------------------------------------------------------------------------------

    def event(self, fields: dict[str, Any]) -> None:
        """One condition event (fields as :func:`~.alarms.read_event` gives them); raises :class:`Malformed`."""
        condition_id = fields["ConditionId"]
        if not isinstance(condition_id, str):
            raise Malformed("a ConditionId that is not a node id")
        if fields.get("BranchId") is not None:
            return  # a branch (an earlier state still to acknowledge): not shown
        owner, now = self._owner, self._owner.now()
        view = alert_state(
            active=fields.get("ActiveState/Id"),
            acked=fields.get("AckedState/Id"),
            retain=fields.get("Retain"),
            enabled=fields.get("EnabledState/Id"),
            shelved=_shelved(fields),
        )
        priority = priority_for(fields.get("Severity"))
        event_id = fields.get("EventId")
        if not isinstance(event_id, bytes) or len(event_id) > 4096:
            raise Malformed("an EventId that is not a short byte string")
        if self._refresh is not None:
            self._refresh.add(condition_id)
        self._event_ids[condition_id] = event_id
        self._ackable[condition_id] = view.acknowledgeable
        when = utc(fields.get("Time"), now)
        name = clean_text(fields.get("ConditionName"), 80)
        message = clean_text(fields.get("Message")) or name or "OPC UA condition"
        update: dict[str, Any] = {
            "priority": priority,
            "state": view.state,
            "message": message,
            "updated_at": when,
            "shelved_until": _shelved_until(fields, when) if view.state == "shelved" else None,
        }
        acked = fields.get("AckedState/Id") is True
        if acked:
            sent_here = condition_id in self._acks
            note = self._acks.pop(condition_id, None)
            comment = clean_text(fields.get("Comment")) or note
            user = clean_text(fields.get("ClientUserId"), 60) or ("console" if sent_here else None)
            update.update(acked_by=user, ack_note=comment or None)
        else:
            update.update(acked_by=None, ack_note=None)
        alert = self._alerts.get(condition_id)
        if view.state == "resolved":
            if alert is not None:
                self._put(condition_id, alert, update)
            return
        if alert is None:
            machine = owner.machine_of_source(fields.get("SourceNode"), fields.get("SourceName"))
            source = SourceRef(kind="machine", id=machine) if machine else SourceRef(kind="node", id=owner.node_id)
            alert_id = self._new_id(machine or owner.node_id, name or condition_id, when)
            alert = Alert(
                id=alert_id,
                source=source,
                code=snake(name) if name else "opcua_condition",
                raised_at=when,
                **update,
            )
            self._alerts[condition_id] = alert
            self._by_alert[alert_id] = condition_id
            owner.emit(EventType.ALERT_RAISED, alert)
            return
        if alert.state == "cleared_unacked" and view.state in ("active_unacked", "active_acked"):
            update["count"] = alert.count + 1
        self._put(condition_id, alert, update)

    def _new_id(self, about: str, name: str, when: datetime) -> str:
        base = f"{about}-{slug(name, 40)}-{when:%Y%m%dT%H%M%S}"
        candidate, n = base, 2
        while candidate in self._by_alert:
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def _put(self, condition_id: str, alert: Alert, update: dict[str, Any]) -> None:
        new = alert.model_copy(update=update)
        if new.state == "resolved":
            self._alerts.pop(condition_id, None)
            self._by_alert.pop(alert.id, None)
            self._event_ids.pop(condition_id, None)
            self._acks.pop(condition_id, None)
        elif new == alert:
            return
        else:
            self._alerts[condition_id] = new
        self._owner.emit(EventType.ALERT_UPDATED, new)


def _shelved(fields: dict[str, Any]) -> bool:
    state_id = fields.get("ShelvingState/CurrentState/Id")
    if isinstance(state_id, str) and state_id in SHELVED_IDS:
        return True
    text = fields.get("ShelvingState/CurrentState")
    text = getattr(text, "Text", text)
    return isinstance(text, str) and text in SHELVED_STATES


def _shelved_until(fields: dict[str, Any], when: datetime) -> datetime | None:
    """``Time`` + ``UnshelveTime`` (milliseconds left) when the server gives a sensible one."""
    left = fields.get("ShelvingState/UnshelveTime")
    if isinstance(left, bool) or not isinstance(left, int | float) or not math.isfinite(left):
        return None
    if not 0 < left <= 366 * 24 * 3600 * 1000:
        return None
    return when + timedelta(milliseconds=left)
