"""The palette (``ctrl+p``) is ``console.palette.ConsolePalette``: Textual's, taking the hits its providers found in
one go instead of one turn of the event loop each (issue 15). It must list what Textual's lists, in the same order."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from textual.command import CommandList, CommandPalette
from textual.css.styles import RulesMap
from textual.renderables.background_screen import BackgroundScreen
from textual.visual import RenderOptions, RichVisual

from console.palette import ConsolePalette
from console.palette_backdrop import TintedScreen
from tests.app.conftest import settle, wait_for, wait_ready

SIZE = (160, 48)


def _listed(palette: CommandPalette) -> list[str]:
    options = palette.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def _open(pilot: Any, app: Any, palette: CommandPalette) -> list[str]:
    app.push_screen(palette)
    await wait_for(pilot, lambda: palette.has_class("-ready"), what="the palette's list")
    await settle(pilot)
    listed = _listed(palette)
    await pilot.press("escape")
    await settle(pilot)
    return listed


async def test_ctrl_p_opens_the_console_palette_with_what_textuals_lists(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConsolePalette), what="the palette")
        await pilot.press("escape")
        await settle(pilot)
        ours = await _open(pilot, app, ConsolePalette(id="--command-palette"))
        textuals = await _open(pilot, app, CommandPalette(id="--command-palette"))
        assert ours == textuals
        nodes = [f"Node {node.name} ({node.id})" for node in app.store.nodes.values()]
        assert all(any(node in line for line in ours) for node in nodes), "every node is offered on open"
        assert any("Screen: Jobs" in line for line in ours)


async def test_the_dimmed_screen_beneath_is_drawn_once_for_the_palettes_life(make_app: Any) -> None:
    """Textual re-rendered the whole screen beneath through Rich on every layout of the palette (filled, shown, ready);
    it does not change while the palette is up, so it is drawn once per size and kept."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConsolePalette), what="the palette")
        palette = app.screen
        assert isinstance(palette, ConsolePalette)
        await wait_for(pilot, lambda: palette.has_class("-ready"), what="the palette's list")
        await settle(pilot)
        palette.refresh(layout=True)  # another layout of the palette: the backdrop is not rendered again
        await settle(pilot)
        assert len(palette._backdrops) == 1
        (strips,) = palette._backdrops.values()
        text = "\n".join(strip.text for strip in strips)
        assert len(strips) == SIZE[1] and "t Tiles/table" in text, "the dashboard (its footer), dimmed, behind it"


class _FirstLayout(ConsolePalette):
    """Records what the palette held when Textual laid it out for the first time."""

    first: tuple[int, bool] | None = None

    def _refresh_layout(self, *args: Any, **kwargs: Any) -> None:
        if self.first is None:
            self.first = (self.query_one(CommandList).option_count, "-wide" in self.classes)
        super()._refresh_layout(*args, **kwargs)


async def test_the_palette_is_first_laid_out_with_its_list_and_breakpoint_class(make_app: Any) -> None:
    """Textual laid the palette out and drew it empty, then again when its list came, then again when the ``Resize``
    of that first layout gave it ``-wide``: three layouts of the palette before it settled. Now the first one has
    the list (the discovery is waited for, briefly) and the breakpoint class already."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        palette = _FirstLayout(id="--command-palette")
        app.push_screen(palette)
        await wait_for(pilot, lambda: palette.has_class("-ready"), what="the palette's list")
        await settle(pilot)
        assert palette.first is not None
        options, wide = palette.first
        assert options == palette.query_one(CommandList).option_count > 0, "the whole list in the first layout"
        assert wide, "the app's breakpoint class for 160 columns before the first layout"


async def test_the_dimmed_screen_beneath_is_textuals_picture(make_app: Any) -> None:
    """``TintedScreen`` (the palette's backdrop, each style tinted once) draws exactly what Textual's pipeline draws
    (``RichVisual`` over ``BackgroundScreen``: render, tint every segment, style, split into lines), segment for
    segment, over each screen the palette may open on."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        for key in ("1", "2", "3", "4", "5", "1"):
            await pilot.press(key)
            await settle(pilot)
            if key == "1" and app.screen.query("MachineGrid"):
                await pilot.press("enter")  # and over the machine detail
                await settle(pilot)
            beneath = app.screen
            palette = ConsolePalette(id="--command-palette")
            app.push_screen(palette)
            await wait_for(pilot, partial(palette.has_class, "-ready"), what="the palette's list")
            color = palette.styles.background
            style = palette.visual_style
            options = RenderOptions(palette._get_style, cast("RulesMap", palette.styles))
            textuals = RichVisual(palette, BackgroundScreen(beneath, color)).render_strips(*SIZE, style, options)
            ours = TintedScreen(beneath, color).render_strips(*SIZE, style, options)
            assert [list(strip) for strip in ours] == [list(strip) for strip in textuals]
            assert len(ours) == SIZE[1]
            await pilot.press("escape")
            await settle(pilot)
            if type(app.screen).__name__ == "MachineDetailScreen":
                await pilot.press("escape")
                await settle(pilot)


async def test_a_palette_closed_before_its_list_came_goes_quietly(make_app: Any) -> None:
    """The first layout waits for the list (0.1 s at most); an escape (or a typed key) meanwhile is handled after
    it, and closing the palette then is as before."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        dashboard = app.screen
        for typed in ((), ("s", "c")):
            app.push_screen(ConsolePalette(id="--command-palette"))
            await pilot.press(*typed, "escape")
            await settle(pilot)
            assert app.screen is dashboard
