"""ASCII mode (``--ascii``, ``ascii = true``, the Linux console): the console's own glyphs become ASCII on screen."""

from __future__ import annotations

import html
import re
from pathlib import Path

from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.settings import Settings
from tests.app.conftest import wait_ready
from tests.app.test_app_keys import SIZE
from widgets.glyphs import ascii_only, set_ascii_only

_TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")


def non_ascii_drawn(svg: str) -> set[str]:
    """Characters on screen outside ASCII, but for box drawing (Textual's borders: the Linux console's font has
    them) and the no-break space the SVG writes for a space. The demo's names are ASCII, so anything else is ours."""
    text = html.unescape("".join(_TEXT.findall(svg))).replace("\xa0", " ")
    return {ch for ch in text if ord(ch) > 127 and not 0x2500 <= ord(ch) <= 0x257F}


def test_the_setting_switches_the_glyph_set_when_the_app_is_built(tmp_path: Path) -> None:
    try:
        FactoryConsoleApp(Settings(ascii=True, save_theme=False), audit_log=AuditLog(tmp_path / "a.jsonl"))
        assert ascii_only()
        FactoryConsoleApp(Settings(save_theme=False), audit_log=AuditLog(tmp_path / "b.jsonl"))
        assert not ascii_only()
    finally:
        set_ascii_only(False)


async def test_every_main_screen_in_ascii_mode_draws_no_unicode_glyph_of_its_own(make_app) -> None:
    app = make_app()
    app.use_ascii(True)  # as FactoryConsoleApp does for Settings(ascii=True): the test above proves that wiring
    screens: dict[str, str] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_ready(pilot)
            screens["dashboard tiles"] = app.export_screenshot()
            await pilot.press("t")  # the dense table
            await pilot.pause(0.1)
            screens["dashboard table"] = app.export_screenshot()
            for key in "234567":
                await pilot.press(key)
                await pilot.pause(0.2)
                screens[f"screen {key}"] = app.export_screenshot()
    finally:
        set_ascii_only(False)
    for name, screen in screens.items():
        drawn = non_ascii_drawn(screen)
        assert not drawn, f"{name}: Unicode glyphs in ASCII mode: {sorted(drawn)}"
