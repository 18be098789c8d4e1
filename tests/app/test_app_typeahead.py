"""Keys typed ahead follow the focus (console.key_routing), driven like a terminal read that holds a whole word.

Pilot's ``press`` waits for the app to go idle between keys, which hides the bug: a real terminal (and SSH) hands
several keys over in one read, and Textual's driver posts them all at once. These tests post a burst the same way:
``/state:unack`` on the Alerts screen must fill the filter (before the fix ``s`` opened the shelve dialog and ``a``
acknowledged the alert under the cursor), and ``p`` then a reason on the dashboard must put the reason in the pause
dialog (before the fix the reason was lost).
"""

from __future__ import annotations

from typing import Any

from textual import events

from console.screens.alerts import AlertsScreen
from console.screens.base import FilterInput
from console.screens.modals import ConfirmAction
from tests.app.conftest import settle, wait_for, wait_ready

SIZE = (160, 48)


def burst(app: Any, text: str) -> None:
    """Post every key of ``text`` at once, as the driver does for one read of the terminal."""
    for char in text:
        key = {"/": "slash", " ": "space", ":": "colon"}.get(char, char)
        app.post_message(events.Key(key, char))


async def test_a_filter_typed_in_one_burst_goes_to_the_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.ready, what="alerts")
        await settle(pilot)
        screen = app.screen
        acked_before = {a.id for a in app.store.active_alerts() if a.state.startswith("ack")}
        burst(app, "/state:unack")
        await wait_for(pilot, lambda: screen.query_one(FilterInput).value == "state:unack", what="filter text")
        await settle(pilot)
        assert app.screen is screen, f"a dialog opened: {type(app.screen).__name__}"
        assert {a.id for a in app.store.active_alerts() if a.state.startswith("ack")} == acked_before
        assert not app.commands_service.in_flight


async def test_a_reason_typed_straight_after_p_lands_in_the_dialog(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await settle(pilot)
        burst(app, "pwaiting for QA")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmAction), what="pause dialog")
        await wait_for(pilot, lambda: app.screen.query_one("#reason").value == "waiting for QA", what="reason")
