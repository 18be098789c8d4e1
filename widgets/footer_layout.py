"""What the footer shows and where: the screen's keys as entries, ranked, fitted whole into one line of a given width.

Why a pure module: which keys an operator sees at 80 or 160 columns is a rule worth proving without an app (the
widget, ``widgets.footer``, only draws the result and maps clicks back to keys).

The rules:

* help and quit first (a newcomer's way in and way out), then the screen's own actions in the screen's order, then
  the keys every screen has (filter, sort, freeze, the screen numbers), which ``?`` lists anyway;
* the screen numbers are one entry: ``1 Dashboard 2 Jobs ...`` when the line has room, else ``1 2 3 4 5 Screens``
  (each digit still a key of its own for the mouse, the current screen's marked);
* an entry is shown whole or not at all, never cut mid-word: when the line is too short the lowest-ranked entries
  go first, from the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "FIRST_ACTIONS",
    "GENERIC_ACTIONS",
    "FooterEntry",
    "FooterKey",
    "FooterPiece",
    "entries_from_keys",
    "layout",
    "narrowest",
]

FIRST_ACTIONS: tuple[str, ...] = ("help", "quit_console")
"""Always at the left, in this order."""
GENERIC_ACTIONS: frozenset[str] = frozenset(
    {"filter", "sort_next", "toggle_freeze", "toggle_cluster_api", "focus_next", "focus_previous", "copy"}
)
"""Keys every screen has: after the screen's own (copy too: a utility of many screens, which must not push a
screen's own actions, or the replay's keys, off the line)."""
SCREEN_ACTION_PREFIX = "switch_mode("

RANK_FIRST, RANK_SCREEN, RANK_GENERIC = 0, 1, 2


@dataclass(frozen=True, slots=True)
class FooterKey:
    """One bound key as the footer knows it: the key to simulate on a click, how it is shown, what it does."""

    key: str
    display: str
    description: str
    action: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class FooterEntry:
    """One thing in the footer: a single key, or (``is_group``) the screen numbers together."""

    keys: tuple[FooterKey, ...]
    rank: int
    is_group: bool = False


@dataclass(frozen=True, slots=True)
class FooterPiece:
    """A run of text on the line: ``role`` is ``key``, ``description``, ``current`` (the current screen's digit) or
    ``gap``; ``key`` is the key a click on it presses (``None`` for text between keys); ``enabled`` is false for a key
    that is shown but cannot act now."""

    text: str
    role: str
    key: str | None = None
    enabled: bool = True


def _rank(action: str) -> int:
    if action in FIRST_ACTIONS:
        return RANK_FIRST
    if action in GENERIC_ACTIONS or action.startswith(SCREEN_ACTION_PREFIX):
        return RANK_GENERIC
    return RANK_SCREEN


def entries_from_keys(keys: Iterable[FooterKey]) -> list[FooterEntry]:
    """The footer's entries in display order: one per action (its first key), the screen numbers as one group."""
    seen: set[str] = set()
    singles: list[FooterEntry] = []
    screens: list[FooterKey] = []
    group_at: int | None = None
    for item in keys:
        if item.action in seen:
            continue
        seen.add(item.action)
        if item.action.startswith(SCREEN_ACTION_PREFIX):
            if group_at is None:
                group_at = len(singles)
            screens.append(item)
            continue
        singles.append(FooterEntry((item,), _rank(item.action)))
    if screens and group_at is not None:
        singles.insert(group_at, FooterEntry(tuple(screens), RANK_GENERIC, is_group=True))
    order = {RANK_FIRST: [], RANK_SCREEN: [], RANK_GENERIC: []}  # type: dict[int, list[FooterEntry]]
    for entry in singles:
        order[entry.rank].append(entry)
    first = sorted(order[RANK_FIRST], key=lambda e: FIRST_ACTIONS.index(e.keys[0].action))
    return [*first, *order[RANK_SCREEN], *order[RANK_GENERIC]]


def _single(item: FooterKey) -> list[FooterPiece]:
    pieces = [FooterPiece(f" {item.display} ", "key", item.key, item.enabled)]
    if item.description:
        pieces.append(FooterPiece(f"{item.description} ", "description", item.key, item.enabled))
    return pieces


def _group(entry: FooterEntry, current_action: str | None, *, named: bool) -> list[FooterPiece]:
    pieces: list[FooterPiece] = [FooterPiece(" ", "gap")]
    for item in entry.keys:
        role = "current" if item.action == current_action else "key"
        pieces.append(FooterPiece(item.display, role, item.key, item.enabled))
        if named and item.description:
            pieces.append(FooterPiece(f" {item.description}", "description", item.key, item.enabled))
        pieces.append(FooterPiece(" ", "gap"))
    if not named:
        pieces.append(FooterPiece("Screens ", "description"))
    return pieces


def _pieces(entry: FooterEntry, current_action: str | None, *, named: bool) -> list[FooterPiece]:
    if entry.is_group:
        return _group(entry, current_action, named=named)
    return _single(entry.keys[0])


def _width(pieces: Iterable[FooterPiece]) -> int:
    return sum(len(p.text) for p in pieces)


def narrowest(entries: list[FooterEntry]) -> int:
    """The fewest cells that show every entry (the screen numbers as digits)."""
    return sum(_width(_pieces(entry, None, named=False)) for entry in entries)


def layout(entries: list[FooterEntry], width: int, *, current_action: str | None = None) -> list[FooterPiece]:
    """The pieces of the line, at most ``width`` cells, in display order.

    First the screen numbers are named; if the whole line does not fit they are shown as digits; then entries are
    left out from the lowest rank up, the last first, until the rest fits. The first entries (help, quit) are
    always kept, even if they alone are wider than the line (the terminal then cuts them, which only happens far
    below any size the console supports).
    """
    for named in (True, False):
        rendered = [_pieces(entry, current_action, named=named) for entry in entries]
        if sum(_width(p) for p in rendered) <= width:
            return [piece for pieces in rendered for piece in pieces]
    keep = list(range(len(entries)))
    total = sum(_width(p) for p in rendered)
    for rank in (RANK_GENERIC, RANK_SCREEN):
        for index in reversed(range(len(entries))):
            if total <= width:
                break
            if entries[index].rank == rank and index in keep:
                keep.remove(index)
                total -= _width(rendered[index])
    return [piece for index in keep for piece in rendered[index]]
