"""The runbook screen (issue 13, "Knowing what to do"): ``b`` on the Alerts screen and on a machine's detail opens the
runbook of the alert (or fault) there, the command palette offers it, ``escape`` and ``q`` close it, and whatever a
runbook file holds is drawn as plain text: no markup, no link, no escape sequence reaches the terminal.

Driven with Pilot against the seeded simulator over loopback HTTP (the ``make_app`` fixture of ``tests/app``); the
snapshot follows ``tests/app/test_app_snapshots_oncall.py``: a stepped clock, a quiet header, no animations. Update it
with ``pytest tests/screens/test_runbook_screen.py --snapshot-update`` and look at the SVG before committing it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from console.runbooks import parse_blocks
from console.screens.alerts import AlertsScreen
from console.screens.help import binding_rows
from console.screens.machine_detail import MachineDetailScreen
from console.screens.runbook import RunbookScreen, render_blocks
from tests.app import conftest as app_fixtures
from tests.app.conftest import settle, wait_for, wait_ready
from tests.app.test_app_snapshots_oncall import freeze, quiet, to_mode
from widgets.data_grid import DataGrid
from widgets.footer import ConsoleFooter

make_app = app_fixtures.make_app  # the console against the seeded simulator (tests/app/conftest.py)

SIZE = (120, 36)


def first_alert(app: Any, code: str | None = None) -> Any:
    """The first active alert by id (of ``code`` if given) that has a machine as its source."""
    alerts = sorted(app.store.active_alerts(), key=lambda a: a.id)
    return next(a for a in alerts if a.source.kind == "machine" and (code is None or a.code == code))


async def open_alerts_on(pilot: Any, alert_id: str) -> DataGrid:
    await pilot.press("3")
    await settle(pilot)
    grid = pilot.app.screen.query_one("#list", DataGrid)
    grid.focus()
    assert grid.move_cursor_to(alert_id)
    await pilot.pause()
    return grid


def runbook_shown(app: Any) -> bool:
    screen = app.screen
    return isinstance(screen, RunbookScreen) and screen.runbook is not None


async def test_b_on_the_alerts_screen_opens_the_alerts_runbook_and_escape_closes_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        alert = first_alert(app)
        await open_alerts_on(pilot, alert.id)
        await pilot.press("b")
        await wait_for(pilot, lambda: runbook_shown(app), what="the runbook")
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        assert screen.runbook is not None and screen.runbook.origin == "builtin"
        assert screen.runbook.code == alert.code
        assert f"({alert.code})" in screen.shown_text.splitlines()[0]  # the built-in runbook's title names its code
        for section in ("What it means", "Check", "Clear", "Escalate"):
            assert section in screen.shown_text.splitlines()
        assert str(screen.query_one("#runbook-title").render()) == f"Runbook: {alert.code}"
        assert alert.id in str(screen.query_one("#runbook-where").render())
        scroll = screen.query_one("#runbook-scroll")
        assert scroll.has_focus
        await wait_for(pilot, lambda: scroll.max_scroll_y > 0, what="the page laid out (longer than the dialog)")
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: scroll.scroll_y > 0, what="the runbook to scroll")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen), what="the Alerts screen again")
        await pilot.press("b")
        await wait_for(pilot, lambda: runbook_shown(app), what="the runbook again (from the cache)")
        await pilot.press("q")  # q closes the runbook; it does not quit the console
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen), what="the Alerts screen again")


async def test_the_sites_folder_wins_and_a_code_without_a_runbook_says_where_to_add_one(make_app, tmp_path) -> None:
    app = make_app()
    site = tmp_path / "runbooks"
    site.mkdir()
    app.settings.runbooks_dir = site
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        alert = first_alert(app)
        (site / f"{alert.code}.md").write_text("# Our way\n\n- call [Sam](tel:123) on **ext 42**\n", encoding="utf-8")
        await open_alerts_on(pilot, alert.id)
        await pilot.press("b")
        await wait_for(pilot, lambda: runbook_shown(app), what="the site's runbook")
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        assert screen.shown_text.splitlines() == ["Our way", "", "• call Sam (tel:123) on ext 42"]
        assert "from " + str(site / f"{alert.code}.md") in str(screen.query_one("#runbook-where").render())
        (site / f"{alert.code}.md").write_text("# Edited\n", encoding="utf-8")
        await pilot.press("r")  # read again: the edit shows
        await wait_for(pilot, lambda: screen.shown_text == "Edited", what="the edited runbook")
        screen.dismiss(None)
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen), what="the Alerts screen")

        app.push_screen(RunbookScreen(["no_such_code"]))
        await wait_for(pilot, lambda: runbook_shown(app), what="the missing runbook")
        assert app.screen.runbook.origin == "missing"
        assert f"No runbook for code no_such_code. Add no_such_code.md to {site}." in app.screen.shown_text


async def test_b_on_a_machines_detail_opens_the_runbook_of_its_fault_or_alert(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        alert = first_alert(app)
        app.push_screen(MachineDetailScreen(alert.source.id))
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the machine detail")
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: runbook_shown(app), what="the runbook")
        machine = app.store.machines[alert.source.id]
        worst = app.store.alerts_for("machine", machine.id)[0]
        # The simulator's fault codes (E-CLOG) have no runbook of their own: the worst alert's code has one.
        assert app.screen.runbook.code in {machine.fault_code, worst.code}
        assert app.screen.runbook.found
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the detail again")


async def test_the_key_is_in_the_footer_help_and_command_palette(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("3")
        await settle(pilot)
        rows = binding_rows(app.screen)
        assert ("b", "Runbook: what the alert means and what to do", "Alerts") in rows
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Alerts: Runbook" in titles
        footer_keys = {key for key, active in app.screen.active_bindings.items() if active.binding.show}
        assert "b" in footer_keys
        footer = app.screen.query_one(ConsoleFooter)
        assert "b Runbook" in str(footer.render())


def test_the_runbook_keys_clash_with_nothing() -> None:
    from console.keymap_check import binding_table, check_keymap

    table = binding_table()
    assert {"runbook.open", "runbook.close", "runbook.close2", "runbook.reload"} <= table.ids
    assert check_keymap({}, table) == []


DANGEROUS = st.sampled_from(
    [
        "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
        "\x1b]52;c;ZXZpbA==\x07",
        "\x9b31m",
        "[link=http://evil]x[/link]",
        "[@click=app.quit]x[/]",
        "[bold red]x[/]",
        "\u202e",
        "<script>",
        "[x](javascript:alert(1))",
        "`\x1b[2J`",
        "\r",
        "\x00",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(), DANGEROUS, st.sampled_from(["# ", "- ", "1. ", "> ", "```", "\n", "    "]))))
def test_any_runbook_text_is_drawn_as_plain_text(pieces: list[str]) -> None:
    """Whatever a runbook file holds, the segments drawn carry no control character, no link, no action."""
    console = Console(file=io.StringIO(), width=60, color_system="truecolor", force_terminal=True, legacy_windows=False)
    group = render_blocks(parse_blocks("".join(pieces)))
    for segment in console.render(group, console.options):
        if segment.control:
            raise AssertionError(f"a control segment: {segment!r}")
        text = segment.text.replace("\n", "")
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text), repr(segment.text)
        assert "\u202e" not in text
        style = segment.style
        if style is not None:
            assert not style.link and not style.meta, repr(style)


def snapshot_scene() -> Any:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        app.animation_level = "none"
        await wait_ready(pilot)
        alert = first_alert(app, "nozzle_clog")
        await to_mode("3", "alerts")(pilot)
        grid = app.screen.query_one("#list", DataGrid)
        grid.focus()
        assert grid.move_cursor_to(alert.id)
        app.simulate_key("b")
        await wait_for(pilot, lambda: runbook_shown(app), what="the runbook")
        await quiet(pilot)
        freeze(app)
        await pilot.pause()

    return run_before


def test_runbook_snapshot(snap_compare, make_app, tmp_path: Path) -> None:
    """The built-in runbook of a nozzle clog, opened from the Alerts screen, at 80x24."""
    del tmp_path
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=snapshot_scene())
