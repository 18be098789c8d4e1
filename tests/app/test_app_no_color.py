"""``NO_COLOR``: the bytes the console writes carry no colour at all, only reverse, bold, underline, dim and italic,
and the cursor still shows (reverse video).

The frame is rendered as the Linux driver renders it (``tests.faults.terminal_bytes.frame_bytes``: the same string
the writer thread sends to the tty), with Textual's line filters applied, so what is checked is what a terminal gets.
"""

from __future__ import annotations

import re

import pytest

from console.screens.modals import ConfirmAction
from tests.app.conftest import settle, wait_ready
from tests.faults.terminal_bytes import frame_bytes
from themes import StripColour
from widgets.machine_grid import MachineGrid

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
COLOUR = {38, 48, 58, *range(30, 38), *range(40, 48), *range(90, 98), *range(100, 108)}


def colour_codes(frame: str) -> list[str]:
    found = []
    for match in SGR.finditer(frame):
        codes = [int(c) for c in re.split(r"[;:]", match.group(1)) if c]
        if any(c in COLOUR for c in codes):
            found.append(match.group(0).replace("\x1b", "ESC"))
    return sorted(set(found))[:8]


def attribute_codes(frame: str) -> set[int]:
    return {int(c) for m in SGR.finditer(frame) for c in re.split(r"[;:]", m.group(1)) if c}


async def test_no_color_writes_no_colour_and_the_cursor_is_reverse(make_app, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(theme="mono")
    assert any(isinstance(f, StripColour) for f in app.get_line_filters())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ready(pilot)
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        await pilot.press("down", "right")
        await settle(pilot)
        frame = frame_bytes(app)
        assert not colour_codes(frame), colour_codes(frame)
        assert 7 in attribute_codes(frame), "the cursor is reverse video"
        for key in ("2", "3", "4"):  # jobs, alerts, quality: lists and charts
            await pilot.press(key)
            await settle(pilot)
            frame = frame_bytes(app)
            assert not colour_codes(frame), (key, colour_codes(frame))
        await pilot.press("1")
        await settle(pilot)
        grid = app.screen.query_one("#grid", MachineGrid)
        grid.focus()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction)
        frame = frame_bytes(app)
        assert not colour_codes(frame), ("dialog", colour_codes(frame))
        await pilot.press("question_mark")  # typed into the reason field
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        frame = frame_bytes(app)
        assert not colour_codes(frame), ("help", colour_codes(frame))


async def test_without_no_color_textual_greys_are_not_replaced(make_app, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(theme="mono")
    assert not any(isinstance(f, StripColour) for f in app.get_line_filters())
