"""The names ``theme = ...`` and ``--theme`` may use, as plain strings (no Textual import).

Why a list of our own: ``console.config`` must not import Textual (or ``themes``, which does), yet a typo such as
``theme = "neon"`` must be refused when the file is read, not silently replaced by the default theme once the app
starts. The app accepts the project's themes (``themes.THEMES``) and Textual's built-in ones (``App.theme`` is set
to any registered theme, see ``console/app.py``); ``tests/test_config_themes.py`` checks that this list equals what
the app really registers, so it cannot drift when a theme is added or Textual changes its set.
"""

from __future__ import annotations

__all__ = ["PROJECT_THEMES", "TEXTUAL_THEMES", "THEME_NAMES", "describe_themes"]

PROJECT_THEMES: tuple[str, ...] = ("factory-dark", "factory-light", "isa101", "mono")
"""The console's own themes (``themes/__init__.py``), default first."""

TEXTUAL_THEMES: tuple[str, ...] = (
    "ansi-dark",
    "ansi-light",
    "atom-one-dark",
    "atom-one-light",
    "catppuccin-frappe",
    "catppuccin-latte",
    "catppuccin-macchiato",
    "catppuccin-mocha",
    "dracula",
    "flexoki",
    "gruvbox",
    "monokai",
    "nord",
    "rose-pine",
    "rose-pine-dawn",
    "rose-pine-moon",
    "solarized-dark",
    "solarized-light",
    "textual-dark",
    "textual-light",
    "tokyo-night",
)
"""Textual's built-in themes (``textual.theme.BUILTIN_THEMES``) of the Textual version the project pins."""

THEME_NAMES: frozenset[str] = frozenset(PROJECT_THEMES + TEXTUAL_THEMES)


def describe_themes() -> str:
    """The valid names for an error message, on one line."""
    return f"themes: {', '.join(PROJECT_THEMES)}, or Textual's {', '.join(TEXTUAL_THEMES)}"
