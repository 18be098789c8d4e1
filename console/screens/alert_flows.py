"""The alert flows: acknowledge, shelve and unshelve, one alert or a marked pile.

Why apart from the machine and job flows (``console.screens.flows``): alarm handling has its own rules (ISA-18.2:
an acknowledgement may carry a note, a shelve always has an end) and its own dialogs. ``AlertFlows`` also holds
what every flow needs (the app, the store, sending), which ``ActionFlows`` builds on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.app import App

from console.command_service import Command
from console.screens.flow_names import alert_names
from console.screens.modals import ConfirmAction, Confirmed, NoteDialog, ShelveChoice, ShelveDialog
from widgets.safe_text import clean

if TYPE_CHECKING:
    from console.api.models import Alert
    from console.screens.host import ConsoleHost
    from console.store.store import Store


class AlertFlows:
    """Alert flows for one app; screens call these with the ids under the cursor or marked.

    ``host`` is the running app seen through :class:`~console.screens.host.ConsoleHost` (the session, sending);
    its Textual side (toasts, dialogs, workers) is ``self.app``.
    """

    def __init__(self, host: ConsoleHost) -> None:
        if not isinstance(host, App):
            raise TypeError("the flows need the running app")
        self.host = host
        self.app: App[Any] = host

    @property
    def store(self) -> Store:
        return self.host.store

    def ack_alerts(self, alert_ids: Sequence[str]) -> None:
        alerts = [a for i in alert_ids if (a := self.store.alerts.get(i)) is not None]
        unacked = [a for a in alerts if a.state in ("active_unacked", "cleared_unacked")]
        if not unacked:
            self.app.notify("Already acknowledged", timeout=2)
            return
        lines = [f"{clean(a.priority, 10)} {clean(a.code, 30)}: {clean(a.message, 80)}" for a in unacked[:12]]

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                commands = [Command("alert.ack", a.id, {"note": result.reason or None}) for a in unacked]
                self.host.send_commands(commands, what=f"Acknowledge {self._alert_names(unacked)}")

        self.app.push_screen(NoteDialog(f"Acknowledge {len(unacked)} alert(s)", lines, button="Acknowledge"), answered)

    def shelve_alerts(self, alert_ids: Sequence[str]) -> None:
        alerts = [a for i in alert_ids if (a := self.store.alerts.get(i)) is not None and a.state != "shelved"]
        if not alerts:
            return
        now = self.host.server_clock.now()
        if now is None:
            from console.api.wire import utc_now

            now = utc_now()
        lines = [f"{clean(a.priority, 10)} {clean(a.code, 30)}: {clean(a.message, 80)}" for a in alerts[:12]]

        def answered(result: ShelveChoice | None) -> None:
            if result is not None:
                from console.api.wire import format_time

                body = {"until": format_time(result.until), "note": result.note or None}
                commands = [Command("alert.shelve", a.id, dict(body)) for a in alerts]
                self.host.send_commands(commands, what=f"Shelve {self._alert_names(alerts)}")

        self.app.push_screen(ShelveDialog(f"Shelve {len(alerts)} alert(s)", lines, now), answered)

    def unshelve_alerts(self, alert_ids: Sequence[str]) -> None:
        alerts = [a for i in alert_ids if (a := self.store.alerts.get(i)) is not None and a.state == "shelved"]
        if not alerts:
            self.app.notify("No shelved alert selected", timeout=2)
            return
        commands = [Command("alert.unshelve", a.id, {}) for a in alerts]
        self._send_confirmed_if_bulk(
            commands,
            f"Unshelve {self._alert_names(alerts)}",
            [f"{clean(a.code, 30)} on {clean(a.source.id, 30)}: back to the active list" for a in alerts],
        )

    def _send_confirmed_if_bulk(self, commands: list[Command], what: str, effects: list[str]) -> None:
        """One item: send at once (it stops nothing). Several: every bulk action asks first, with a reason."""
        if len(commands) == 1:
            self.host.send_commands(commands, what=what)
            return

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                for command in commands:
                    command.body["reason"] = result.reason
                self.host.send_commands(commands, what=what)

        self.app.push_screen(ConfirmAction(what, effects, confirm_label="Confirm", danger=False), answered)

    def _alert_names(self, alerts: Sequence[Alert]) -> str:
        return alert_names(alerts, self.store.machines, self.store.nodes)
