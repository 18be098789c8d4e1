"""Small status badges: one per data source (live / reconnecting / stale / failed) and flag badges (FROZEN ...).

Text first, colour second: every badge says what it means in words (and a glyph), and the theme colours it through
its variant class (``-ok``, ``-warning``, ``-error``, ``-info``), so a monochrome terminal loses nothing.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.content import Content
from textual.widgets import Static

from widgets.glyphs import ascii_only
from widgets.safe_text import clean

__all__ = ["Badge", "BadgeVariant", "ConnectionBadge", "connection_text"]

BadgeVariant = Literal["ok", "info", "warning", "error"]
_VARIANTS: tuple[str, ...] = ("-ok", "-info", "-warning", "-error")

_BADGE_CSS = """
    {name} {{ width: auto; height: 1; padding: 0 1; background: $panel; color: $text-muted; }}
    {name}.-ok {{ color: $state-normal; }}
    {name}.-info {{ color: $foreground; background: $panel; }}
    {name}.-warning {{ color: $state-blocked; text-style: $state-blocked-style; }}
    {name}.-error {{ color: $state-fault; text-style: $state-fault-style; }}
    {name}.-hidden {{ display: none; }}
"""


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    value = max(0.0, value)
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.0f} h"


def connection_text(
    source: str,
    state: str,
    *,
    retry_in: float | None = None,
    stale_for: float | None = None,
    reason: str | None = None,
) -> tuple[str, BadgeVariant]:
    """The words and variant of a source badge: ``● cluster live``, ``↻ cluster reconnecting in 3 s`` ..."""
    a = ascii_only()
    name = clean(source, 24)
    if state == "live":
        return f"{'*' if a else '●'} {name} live", "ok"
    if state in ("connecting", "bootstrapping"):
        return f"{'~' if a else '↻'} {name} {state}", "info"
    if state == "reconnecting":
        when = f" in {_seconds(retry_in)}" if retry_in is not None else ""
        return f"{'~' if a else '↻'} {name} reconnecting{when}", "warning"
    if state == "stale":
        return f"{'?' if a else '◌'} {name} stale for {_seconds(stale_for)}", "warning"
    if state == "failed":
        why = f": {clean(reason, 60)}" if reason else ""
        return f"{'X' if a else '✖'} {name} failed{why}", "error"
    why = f": {clean(reason, 60)}" if reason else ""
    return f"? {name} {clean(state, 20)}{why}", "warning"


class Badge(Static):
    """A short flag in words: ``FROZEN``, ``READ-ONLY``, ``INSECURE``, a flood banner. Hidden with ``show=False``."""

    DEFAULT_CSS = _BADGE_CSS.format(name="Badge")

    def __init__(
        self,
        label: str = "",
        variant: BadgeVariant = "info",
        *,
        show: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(Content(clean(label)), name=name, id=id, classes=classes)
        self.set_variant(variant)
        self.set_class(not show, "-hidden")

    def set_variant(self, variant: BadgeVariant) -> None:
        self.remove_class(*_VARIANTS)
        self.add_class(f"-{variant}")

    def show(self, label: str | None = None, variant: BadgeVariant | None = None) -> None:
        if label is not None:
            self.update(Content(clean(label)))
        if variant is not None:
            self.set_variant(variant)
        self.remove_class("-hidden")

    def hide(self) -> None:
        self.add_class("-hidden")


class ConnectionBadge(Static):
    """The state of one data source, in words. Call :meth:`set_state` when the store's source state changes."""

    DEFAULT_CSS = _BADGE_CSS.format(name="ConnectionBadge")

    STATES: ClassVar[tuple[str, ...]] = ("connecting", "live", "reconnecting", "stale", "failed")

    def __init__(
        self,
        source: str,
        state: str = "connecting",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("", name=name, id=id, classes=classes)
        self.source = source
        self.state = state
        self.text = ""
        self.set_state(state)

    def set_state(
        self,
        state: str,
        *,
        retry_in: float | None = None,
        stale_for: float | None = None,
        reason: str | None = None,
    ) -> None:
        self.state = state
        text, variant = connection_text(self.source, state, retry_in=retry_in, stale_for=stale_for, reason=reason)
        self.remove_class(*_VARIANTS)
        self.add_class(f"-{variant}")
        self.text = text
        self.update(Content(text))
