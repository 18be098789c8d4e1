"""The machine detail is composed once and reused (``console.screens.machine_detail.open_machine_detail``): the next
``enter`` fills the same screen with the other machine before it is shown, as a new screen would show it (issue 15)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Label, Static

from console.screens.machine_detail import MachineDetailScreen, open_machine_detail
from tests.app.conftest import settle, wait_for, wait_ready
from widgets.data_grid import DataGrid

SIZE = (160, 48)


def _shown(detail: MachineDetailScreen) -> tuple[str, list[str], list[str]]:
    """(the facts' text, the queue's job ids, the visible telemetry labels)."""
    facts = detail.query_one("#facts", Static).content
    labels = [
        str(label.content)
        for label in detail.query("#telemetry Label").results(Label)
        if label.parent is not None and label.parent.display
    ]
    return str(facts), detail.query_one("#queue", DataGrid).keys, labels


async def test_the_next_enter_reuses_the_detail_and_shows_the_other_machine_as_new(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        store = app.store
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the detail")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, MachineDetailScreen)
        await pilot.press("tab")  # focus away from the queue: a reused screen starts where a new one does
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, MachineDetailScreen)
        assert first.is_mounted, "escape hides the detail, it does not remove it"
        # another machine, with a queue if there is one, and a different set of telemetry if the cluster has one
        other = max(
            (m for m in store.machines.values() if m.id != first.machine_id),
            key=lambda m: (len(store.jobs_for_machine(m.id)), len(store.machine_telemetry(m.id))),
        )
        open_machine_detail(app, other.id)
        assert app.screen is first, "the composed detail is shown again"
        # No pause: it was filled before it was pushed, so its first frame is the other machine.
        facts, queue, labels = _shown(first)
        assert first.machine_id == other.id and f"({other.id})" in facts
        assert queue == [j.id for j in store.jobs_for_machine(other.id)]
        assert [label.split(" ")[0] for label in labels] == sorted(store.machine_telemetry(other.id))
        await settle(pilot)
        grid = first.query_one("#queue", DataGrid)
        assert first.focused is grid and grid.cursor_index == 0
        fresh = MachineDetailScreen(other.id)  # what a new screen shows for the same machine
        await app.push_screen(fresh)
        await settle(pilot)
        assert _shown(fresh) == _shown(first)


async def test_a_detail_opened_while_the_kept_one_is_showing_is_a_new_screen(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        one, two = list(app.store.machines)[:2]
        open_machine_detail(app, one)
        await settle(pilot)
        kept = app.screen
        assert isinstance(kept, MachineDetailScreen)
        open_machine_detail(app, two)  # e.g. from the machine's timeline, opened from its detail
        await settle(pilot)
        assert isinstance(app.screen, MachineDetailScreen) and app.screen is not kept
        assert app.screen.machine_id == two and kept.machine_id == one
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is kept and kept.machine_id == one
