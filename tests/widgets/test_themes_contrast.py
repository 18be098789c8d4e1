"""Every theme is readable: each foreground/background pair the widgets draw meets a WCAG contrast ratio.

The pairs are computed from the themes themselves (Textual's generated variables plus our custom ones, the same
values the widgets' CSS reads), so a new colour that fades into its background fails here, not on an operator's
screen. Text must reach 4.5:1 (WCAG AA); bold state glyphs, chart marks and the progress bar's fill 3:1 (WCAG's
large text and non-text contrast).
"""

from __future__ import annotations

import pytest
from textual.color import Color

from themes import CUSTOM_VARIABLES, THEMES

TEXT = 4.5
GLYPH = 3.0

_STATES = ("fault", "blocked", "paused", "maintenance", "offline", "unknown", "stale")
_ALARMS = ("critical", "high", "medium", "low")


def theme_variables(name: str) -> dict[str, str]:
    """The CSS variables a theme gives the widgets: Textual's generated ones, then the theme's own."""
    theme = THEMES[name]
    return {**theme.to_color_system().generate(), **theme.variables}


def resolve(variables: dict[str, str], value: str, over: Color) -> Color:
    """A CSS colour value as it is painted over ``over``: ``auto N%`` is Textual's contrast text at that alpha, a
    variable is looked up, a translucent colour is blended."""
    value = value.strip()
    if value.startswith("$"):
        value = variables[value[1:]]
    if value.startswith("auto"):
        parts = value.split()
        alpha = float(parts[1].rstrip("%")) / 100 if len(parts) > 1 else 1.0
        return over.get_contrast_text(alpha)
    if value in variables:
        return resolve(variables, variables[value], over)
    colour = Color.parse(value)
    return over + colour if colour.a < 1 else colour


def luminance(colour: Color) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = colour.rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcag() -> None:
    assert contrast(Color.parse("#000000"), Color.parse("#ffffff")) == pytest.approx(21.0)
    assert contrast(Color.parse("#777777"), Color.parse("#ffffff")) == pytest.approx(4.48, abs=0.01)


def pairs() -> list[tuple[str, str, float, str]]:
    """``(foreground, background, minimum, where)``: every pair the widgets and dialogs draw.

    A background is a variable (``$surface``) or, for a translucent one, ``"$over|$translucent"``."""
    found: list[tuple[str, str, float, str]] = []
    for ground in ("background", "surface", "panel"):
        found.append(("$foreground", f"${ground}", TEXT, f"text on {ground}"))
        found.append(("$text", f"${ground}", TEXT, f"Textual text on {ground}"))
        found.append(("$text-muted", f"${ground}", TEXT, f"muted text (headers, hints) on {ground}"))
    for ground in ("background", "surface"):  # list rows sit on the background, machine tiles on the surface
        found.append(("$state-normal", f"${ground}", TEXT, f"normal rows and tiles on {ground}"))
        for state in _STATES:
            found.append((f"$state-{state}", f"${ground}", TEXT, f"{state} rows and state words on {ground}"))
        for alarm in _ALARMS:
            found.append((f"$alarm-{alarm}", f"${ground}", TEXT, f"{alarm} alert rows on {ground}"))
        found.append(("$mark", f"${ground}", GLYPH, f"the bold mark glyph on {ground}"))
        found.append(("$progress-fill", f"${ground}", GLYPH, f"progress fill on {ground}"))
    found.append(("$progress-fill", "$progress-empty", GLYPH, "progress fill against the empty track"))
    for part in ("spc-data", "spc-limit", "spc-spec", "spc-centre"):
        found.append((f"${part}", "$background", GLYPH, f"SPC chart {part}"))
    found.append(("$block-cursor-foreground", "$block-cursor-background", TEXT, "the focused cursor"))
    found.append(
        (
            "$block-cursor-blurred-foreground",
            "$background|$block-cursor-blurred-background",
            TEXT,
            "the cursor of a list without focus",
        )
    )
    found.append(
        (
            "$block-cursor-blurred-foreground",
            "$surface|$block-cursor-blurred-background",
            TEXT,
            "the cursor of a dialog's table without focus",
        )
    )
    found.append(("$warning", "$surface", TEXT, "a dialog's warning line"))
    found.append(("$input-cursor-foreground", "$input-cursor-background", TEXT, "the input cursor"))
    found.append(("$footer-key-foreground", "$panel", TEXT, "footer keys"))
    found.append(("$footer-description-foreground", "$panel", TEXT, "footer descriptions"))
    return found


def _background(variables: dict[str, str], spec: str) -> Color:
    layers = spec.split("|")
    colour = resolve(variables, layers[0], Color(0, 0, 0))
    for layer in layers[1:]:
        colour = resolve(variables, layer, colour)
    return colour


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_pair_a_theme_draws_is_readable(name: str) -> None:
    variables = theme_variables(name)
    for custom in CUSTOM_VARIABLES:
        assert custom in variables, f"{name} does not define ${custom}"
    failures = []
    for fg, bg, minimum, where in pairs():
        background = _background(variables, bg)
        foreground = resolve(variables, fg, background)
        ratio = contrast(foreground, background)
        if ratio < minimum:
            failures.append(f"{where}: {fg} {foreground.hex} on {bg} {background.hex} is {ratio:.2f}:1 < {minimum}")
    assert not failures, f"theme {name}:\n" + "\n".join(failures)
