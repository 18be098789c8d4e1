"""The console's themes: ``factory-dark`` (default), ``factory-light``, ``isa101`` and ``mono``.

The widgets in ``widgets/`` style their parts through component classes whose CSS reads the custom variables listed
in :data:`CUSTOM_VARIABLES` (``$state-fault``, ``$alarm-critical`` ...). Textual refuses CSS that names a variable no
theme defines, so every theme here defines all of them, and :data:`VARIABLE_DEFAULTS` gives fallbacks for any other
theme (Textual's built-in ones): an app returns it from ``App.get_theme_variable_defaults``.

Design (ISA-101, high-performance HMI): the normal states (idle, running) are calm grey; colour is kept for what is
abnormal, and each abnormal state also has a text style (bold, reverse, underline) so that ``mono`` (no colour, used
when ``NO_COLOR`` is set) still tells them apart, together with the words and glyphs the widgets always show.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from rich.segment import Segment
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter, Monochrome, NoColor
from textual.theme import Theme

__all__ = [
    "CUSTOM_VARIABLES",
    "DEFAULT_THEME",
    "THEMES",
    "VARIABLE_DEFAULTS",
    "StripColour",
    "choose_theme",
    "fit_colours",
    "register_themes",
]

DEFAULT_THEME = "factory-dark"

_STATES = ("fault", "blocked", "paused", "maintenance", "offline", "unknown", "stale")
_ALARMS = ("critical", "high", "medium", "low")


def _variables(
    *,
    normal: str,
    colours: Mapping[str, str],
    styles: Mapping[str, str],
    progress_fill: str,
    progress_empty: str,
    mark: str,
    spc_data: str,
    spc_limit: str,
    spc_spec: str,
    spc_centre: str,
) -> dict[str, str]:
    variables = {"state-normal": normal}
    for name in (*_STATES, *_ALARMS):
        key = f"state-{name}" if name in _STATES else f"alarm-{name}"
        variables[key] = colours[name]
        variables[f"{key}-style"] = styles.get(name, "none")
    variables.update(
        {
            "progress-fill": progress_fill,
            "progress-empty": progress_empty,
            "mark": mark,
            "spc-data": spc_data,
            "spc-limit": spc_limit,
            "spc-spec": spc_spec,
            "spc-centre": spc_centre,
        }
    )
    return variables


_COLOUR_STYLES = {
    "fault": "bold reverse",
    "blocked": "bold",
    "paused": "none",
    "maintenance": "none",
    "offline": "none",
    "unknown": "italic",
    "stale": "italic",
    "critical": "bold reverse",
    "high": "bold",
    "medium": "none",
    "low": "none",
}

_MONO_STYLES = {
    "fault": "bold reverse",
    "blocked": "bold underline",
    "paused": "underline",
    "maintenance": "italic",
    "offline": "dim",
    "unknown": "italic underline",
    "stale": "dim italic",
    "critical": "bold underline",
    "high": "bold",
    "medium": "underline",
    "low": "none",
}
"""Reverse is the cursor's alone in ``mono`` (a whole critical row in reverse would look like the cursor row)."""

FACTORY_DARK = Theme(
    name="factory-dark",
    primary="#4f7bab",
    secondary="#3b4b5c",
    accent="#6f8fb3",
    warning="#e0a030",
    error="#e04848",
    success="#6a9a6a",
    foreground="#d8dadc",
    background="#15181b",
    surface="#1d2125",
    panel="#262b30",
    dark=True,
    variables=_variables(
        normal="#b4b8bc",
        colours={
            "fault": "#ff5555",
            "blocked": "#f0a030",
            "paused": "#e8d44d",
            "maintenance": "#6fa8dc",
            "offline": "#9a8fb0",
            "unknown": "#c98fd0",
            "stale": "#8a8f94",
            "critical": "#ff5555",
            "high": "#f0a030",
            "medium": "#e8d44d",
            "low": "#9aa0a6",
        },
        styles=_COLOUR_STYLES,
        progress_fill="#8a939c",
        progress_empty="#3a4046",
        mark="#6fa8dc",
        spc_data="#c8ccd0",
        spc_limit="#f0a030",
        spc_spec="#ff5555",
        spc_centre="#6a7178",
    )
    | {
        # Textual's defaults (87 % white on the primary; the accent on the panel) fall just short of 4.5:1.
        "block-cursor-background": "#3f6a98",
        "block-cursor-foreground": "#ffffff",
        "footer-key-foreground": "#8fb0d4",
    },
)

FACTORY_LIGHT = Theme(
    name="factory-light",
    primary="#2f5f8f",
    secondary="#8a98a8",
    accent="#3f6f9f",
    warning="#8a5400",
    error="#c01818",
    success="#3a7a3a",
    foreground="#1d2125",
    background="#f2f3f4",
    surface="#e6e8ea",
    panel="#d8dcdf",
    dark=False,
    variables=_variables(
        normal="#454b52",
        colours={
            "fault": "#c01818",
            "blocked": "#8a5400",
            "paused": "#6a5c00",
            "maintenance": "#1f5f9f",
            "offline": "#5f4f7f",
            "unknown": "#8a2f90",
            "stale": "#5f656b",
            "critical": "#c01818",
            "high": "#8a5400",
            "medium": "#6a5c00",
            "low": "#555b62",
        },
        styles=_COLOUR_STYLES,
        progress_fill="#6a737c",
        progress_empty="#c8cdd2",
        mark="#1f5f9f",
        spc_data="#1d2125",
        spc_limit="#8a5400",
        spc_spec="#c01818",
        spc_centre="#767c82",
    )
    | {"footer-key-foreground": "#2f5f8f"},
)

ISA101 = Theme(
    name="isa101",
    primary="#5f6a74",
    secondary="#8a9299",
    accent="#7a848c",
    warning="#6e4a00",
    error="#8a1010",
    success="#8a9299",
    foreground="#101214",
    background="#d4d6d8",
    surface="#c8cbce",
    panel="#bcc0c3",
    dark=False,
    variables=_variables(
        normal="#3a3f44",
        colours={
            "fault": "#8a1010",
            "blocked": "#7a4000",
            "paused": "#5c4c00",
            "maintenance": "#24476b",
            "offline": "#3f444a",
            "unknown": "#4a2f70",
            "stale": "#4a5056",
            "critical": "#8a1010",
            "high": "#7a4000",
            "medium": "#5c4c00",
            "low": "#3a3f44",
        },
        styles={**_COLOUR_STYLES, "offline": "dim", "maintenance": "italic"},
        progress_fill="#50575e",
        progress_empty="#a3a8ad",
        mark="#24476b",
        spc_data="#101214",
        spc_limit="#7a4000",
        spc_spec="#8a1010",
        spc_centre="#555d64",
    )
    | {"footer-key-foreground": "#30353a"},
)

MONO = Theme(
    name="mono",
    primary="#b0b0b0",
    secondary="#808080",
    accent="#c0c0c0",
    warning="#e0e0e0",
    error="#ffffff",
    success="#c0c0c0",
    foreground="#e0e0e0",
    background="#000000",
    surface="#101010",
    panel="#202020",
    dark=True,
    variables={
        **_variables(
            normal="#c0c0c0",
            colours={name: "#ffffff" for name in (*_STATES, *_ALARMS)} | {"stale": "#a0a0a0", "low": "#c0c0c0"},
            styles=_MONO_STYLES,
            progress_fill="#c0c0c0",
            progress_empty="#404040",
            mark="#ffffff",
            spc_data="#ffffff",
            spc_limit="#c0c0c0",
            spc_spec="#ffffff",
            spc_centre="#808080",
        ),
        # The cursor is reverse video, so it still shows when colour is stripped (NO_COLOR): the terminal swaps
        # the two colours below (a light bar with dark text), or its own default ones when there are none.
        "block-cursor-background": "#000000",
        "block-cursor-foreground": "#e0e0e0",
        "block-cursor-text-style": "bold reverse",
        "block-cursor-blurred-background": "#000000",
        "block-cursor-blurred-foreground": "#c0c0c0",
        "block-cursor-blurred-text-style": "reverse",
        "input-cursor-background": "#000000",
        "input-cursor-foreground": "#e0e0e0",
        "input-cursor-text-style": "reverse",
    },
)

THEMES: dict[str, Theme] = {theme.name: theme for theme in (FACTORY_DARK, FACTORY_LIGHT, ISA101, MONO)}

_TEXTUAL_OVERRIDES = ("block-cursor-", "footer-key-", "input-cursor-")
"""Textual's own variables a theme above sets (for contrast): not ours, so not defaults for other themes."""

CUSTOM_VARIABLES: tuple[str, ...] = tuple(v for v in FACTORY_DARK.variables if not v.startswith(_TEXTUAL_OVERRIDES))
"""Every custom variable the widgets' CSS uses; each theme above defines all of them."""

VARIABLE_DEFAULTS: dict[str, str] = {name: FACTORY_DARK.variables[name] for name in CUSTOM_VARIABLES}
"""Fallbacks for themes that do not define the custom variables (return from ``App.get_theme_variable_defaults``)."""


class StripColour(LineFilter):
    """``NO_COLOR``: every colour taken out, the text attributes (bold, reverse, underline, dim, italic) kept.

    Textual's own answer to ``NO_COLOR`` is its ``Monochrome`` filter, which still writes 256-colour or true-colour
    greys (``38;5;250``); no-color.org asks for no colour at all. With this filter the terminal draws everything in
    its own default colours, and the ``mono`` theme's reverse cursor and styled states still show.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text, None if style is None else style.without_color, control) for text, style, control in segments
        ]


def register_themes(app: App[Any]) -> None:
    """Register all four themes on ``app`` (it still has to set ``app.theme``; see :func:`choose_theme`).

    When the app was started under ``NO_COLOR``, Textual's grey filter is replaced by :class:`StripColour`."""
    for theme in THEMES.values():
        app.register_theme(theme)
    if app.no_color:
        # Textual keeps its filters in this list (``App.get_line_filters`` reads it) and offers no public setter.
        filters = [f for f in app._filters if not isinstance(f, (Monochrome, NoColor, StripColour))]
        app._filters[:] = [*filters, StripColour()]


def fit_colours(app: App[Any]) -> str | None:
    """On a terminal of 16 or 256 colours, choose them (:mod:`themes.ansi16`, :mod:`themes.ansi256`) rather than let
    Rich take the nearest of each, which is not legible there; returns which filter was added, if any.

    Called by the launch for the terminal the console really runs on (the colour system Rich found from ``TERM`` and
    ``COLORTERM``), not when the app is built: tests and snapshots render the same whatever terminal runs them."""
    from themes.ansi16 import Ansi16
    from themes.ansi256 import Nearest256

    if app.no_color:
        return None
    system = app.console.color_system
    added: LineFilter
    if system == "standard":
        added = Ansi16(lambda: app.current_theme)
    elif system == "256":
        added = Nearest256()
    else:
        return None
    app._filters[:] = [*(f for f in app._filters if not isinstance(f, (Ansi16, Nearest256))), added]
    return type(added).__name__


def choose_theme(requested: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The theme to start with: ``mono`` when ``NO_COLOR`` is set (no-color.org), else the request or the default."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return "mono"
    if requested:
        return requested
    return DEFAULT_THEME
