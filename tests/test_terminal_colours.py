"""16 and 256 colours, at the lowest level: the ANSI colours chosen per theme read on its background, the 16-colour
filter leaves only the 16 and folds bright backgrounds, and the 256-colour match takes the grey ramp into account."""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from rich.color import ColorType
from rich.segment import Segment
from rich.style import Style
from textual.color import Color

from themes import THEMES
from themes.ansi16 import CHOICES, MIN_CONTRAST, Ansi16, ansi_of, choices_for, contrast, legible
from themes.ansi256 import nearest256


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_each_chosen_colour_reads_on_its_themes_background(name: str) -> None:
    theme = THEMES[name]
    background = ansi_of(RichColor.parse(theme.background or "#000000")) % 8
    for variable, number in CHOICES[name].items():
        if variable.startswith("block-cursor"):
            continue
        assert contrast(number, background) >= MIN_CONTRAST, (variable, number, background)
    assert contrast(CHOICES[name]["block-cursor-foreground"], CHOICES[name]["block-cursor-background"]) >= 4.5


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_the_states_that_share_a_colour_in_16_are_only_those_meant_to(name: str) -> None:
    """Fault (and critical), blocked (and high) and paused (and medium) stay three colours apart."""
    chosen = CHOICES[name]
    assert len({chosen["state-fault"], chosen["state-blocked"], chosen["state-paused"]}) == 3
    assert choices_for(THEMES[name]), "the theme's colours are found"


def test_legible_keeps_a_readable_colour_and_replaces_an_unreadable_one() -> None:
    assert legible(15, 0) == 15
    assert contrast(legible(8, 0), 0) >= MIN_CONTRAST  # bright black on black: not text
    assert contrast(legible(4, 0), 0) >= MIN_CONTRAST


def test_the_16_colour_filter_leaves_only_the_16_and_plain_backgrounds() -> None:
    theme = THEMES["factory-dark"]
    line = [
        Segment("fault", Style(color=theme.variables["state-fault"], bgcolor="#262b30")),
        Segment("cursor", Style(color="#ffffff", bgcolor=theme.variables["block-cursor-background"])),
        Segment("muted", Style(color="#5a5f64")),
    ]
    out = Ansi16(lambda: theme).apply(line, Color.parse(theme.background or "#000000"))
    colours = [c for s in out for c in (s.style.color, s.style.bgcolor) if s.style and c is not None]
    assert all(c.type == ColorType.STANDARD for c in colours)
    assert out[0].style.color.number == 9 and out[0].style.bgcolor.number < 8
    assert out[1].style.bgcolor.number == 4, "the cursor row is blue: bright black would be black on the console"
    assert contrast(out[2].style.color.number, 0) >= MIN_CONTRAST


def test_256_colours_take_the_nearest_grey_for_a_dark_grey_blue() -> None:
    assert nearest256(0x26, 0x35, 0x45) == 237, "a grey of the ramp (#3a3a3a), not the teal #005f5f of the cube"
    assert nearest256(0xFF, 0x55, 0x55) == 203
    assert all(16 <= nearest256(v, v, v) <= 255 for v in (0, 128, 255))
