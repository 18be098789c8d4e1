"""Check the config file's ``[keys]`` (binding id -> keys) against the bindings the app really has, at launch.

Textual's keymap silently ignores an id that no binding has (``"machine.pauze" = "P"`` does nothing) and lets a
remapped key shadow another one (``"machine.pause" = "q"`` makes ``q`` pause on the dashboard instead of quitting).
On a console that commands machines both must stop the launch with one line naming the file, the line and the key.

The bindings are read from the classes themselves (the app, every screen in ``console.screens``, every widget in
``widgets`` and ``console.screens``), found by walking those packages at launch, so the table cannot go stale when a
binding is added. This module imports Textual (only :func:`binding_table` does, lazily); ``console.config`` stays
free of it.

What "shadows" means, precisely. The keymap is applied first (every id gets its new keys, every other binding keeps
its own), then a remapped key is refused if, in some *context* where the remapped binding is active, another binding
that runs a different action answers the same key. A context is one screen class with what is active on it:

* its own bindings and those it inherits (``DashboardScreen`` has ``ConsoleScreen``'s ``/``, ``o``, ``space`` ...);
* the app-level bindings (``1``-``7``, ``?``, ``f``, ``q``, ``ctrl+q``, ``ctrl+c``, the palette's ``ctrl+p``) on
  every main screen; the replay's keys (``console.app_recording``) only in a "(replay)" context of each main
  screen, which has no command key (a replay is read-only); on a modal screen only the app's priority bindings
  (``ctrl+q``, ``ctrl+p``), because Textual stops the search for a key at a modal screen;
* on the main screens (``ConsoleScreen`` and its subclasses), the bindings of the project's focusable widgets (the
  lists' and the grid's ``j``/``k``/``enter``/``space`` ...), since the focused widget sees a key first. Text inputs
  are left out: typing into the filter is not shadowing.

Two bindings that run the same action may share a key (``q`` and ``ctrl+q`` both quit; the grid's and the screen's
``space`` both mark). Keys that terminals, tmux, screen and shells use (``ctrl+a``, ``ctrl+b``, ``ctrl+c``,
``ctrl+d``, ``ctrl+k``, ``ctrl+z``, ``ctrl+backslash``) are refused for any binding: over SSH inside tmux they never
reach the console, or they do something else first. Keys are compared after Textual's normalisation (``?`` is
``question_mark``, ``ctrl+i`` is ``tab``).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.config import Config

__all__ = [
    "TERMINAL_KEYS",
    "BindingTable",
    "Bound",
    "Context",
    "KeymapProblem",
    "binding_table",
    "check_config_keys",
    "check_keymap",
]

TERMINAL_KEYS: dict[str, str] = {
    "ctrl+a": "the prefix key of GNU screen (and of many tmux set-ups) and the shell's start of line",
    "ctrl+b": "tmux's prefix key",
    "ctrl+c": "interrupt (and copy in Textual)",
    "ctrl+d": "end of input, which closes shells and SSH sessions",
    "ctrl+k": "the shell's kill to end of line (and tmux's clear in many set-ups)",
    "ctrl+z": "suspend (job control)",
    "ctrl+backslash": "quit with a core dump (SIGQUIT)",
}
"""Keys no binding may be given, with why."""

_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


@dataclass(frozen=True, slots=True)
class Bound:
    """One binding as the check sees it."""

    id: str | None
    keys: tuple[str, ...]
    """Canonical keys (see :meth:`BindingTable.canonical`)."""
    action: str
    description: str
    owner: str
    """The class that declares it (``FactoryConsoleApp``, ``DashboardScreen``, ``DataGrid`` ...)."""
    app_level: bool = False
    priority: bool = False

    def label(self) -> str:
        if self.id:
            return f"{self.id} ({self.description})" if self.description else self.id
        return f"{self.owner}'s {self.description or self.action} binding"


@dataclass(frozen=True, slots=True)
class Context:
    """What answers keys on one screen."""

    name: str
    bindings: tuple[Bound, ...]


@dataclass(frozen=True, slots=True)
class KeymapProblem:
    binding_id: str
    message: str


@dataclass(frozen=True)
class BindingTable:
    """Every binding id the app has, the contexts bindings are active in, and how keys are written canonically."""

    ids: frozenset[str]
    contexts: tuple[Context, ...]
    canonical: Callable[[str], str | None] = lambda key: key.strip() or None
    """A key as Textual compares it (``?`` -> ``question_mark``, ``ctrl+i`` -> ``tab``), or ``None`` for a string
    that is not a key name."""

    def descriptions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for context in self.contexts:
            for bound in context.bindings:
                if bound.id and bound.description:
                    out.setdefault(bound.id, bound.description)
        return out


def _shown(text: str) -> str:
    """A key or id from the file, safe to print on a terminal (no control, C1 or bidi character survives)."""
    return text if re.fullmatch(r"[!-~]+", text) else ascii(text)


def check_keymap(keymap: Mapping[str, str], table: BindingTable) -> list[KeymapProblem]:
    """Every problem with ``keymap`` (in its order, at most one per id): unknown ids, non-keys, reserved keys, and
    keys that would shadow another binding."""
    problems: list[KeymapProblem] = []
    wanted: dict[str, frozenset[str]] = {}
    for binding_id, keys in keymap.items():
        problem = _parse(binding_id, keys, table, wanted)
        if problem:
            problems.append(KeymapProblem(binding_id, problem))
    descriptions = table.descriptions()
    for binding_id, chosen in wanted.items():
        problem = _shadowing(binding_id, chosen, table, wanted, descriptions)
        if problem:
            problems.append(KeymapProblem(binding_id, problem))
    order = list(keymap)
    problems.sort(key=lambda p: order.index(p.binding_id))
    return problems


def _parse(binding_id: str, keys: str, table: BindingTable, wanted: dict[str, frozenset[str]]) -> str | None:
    if binding_id not in table.ids:
        close = difflib.get_close_matches(binding_id, sorted(table.ids), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else f" (known ids: {', '.join(sorted(table.ids))})"
        return f"no binding has this id{hint}"
    canonical: list[str] = []
    for raw in keys.split(","):
        key = table.canonical(raw)
        if key is None:
            return (
                f"{_shown(raw.strip()) or 'an empty key'} is not a key name "
                "(write keys as Textual does: p, P, ctrl+p, f5, question_mark, several separated by commas)"
            )
        canonical.append(key)
    for key in canonical:
        if key in TERMINAL_KEYS:
            return f"refused: {key} is {TERMINAL_KEYS[key]}; terminals, tmux and shells take it, pick another key"
    wanted[binding_id] = frozenset(canonical)
    return None


def _shadowing(
    binding_id: str,
    keys: frozenset[str],
    table: BindingTable,
    wanted: Mapping[str, frozenset[str]],
    descriptions: Mapping[str, str],
) -> str | None:
    mine = f"{binding_id} ({descriptions[binding_id]})" if descriptions.get(binding_id) else binding_id
    for context in table.contexts:
        own = [b for b in context.bindings if b.id == binding_id]
        if not own:
            continue
        actions = {b.action for b in own}
        for other in context.bindings:
            if other.id == binding_id or other.action in actions:
                continue
            theirs = wanted.get(other.id, frozenset(other.keys)) if other.id else frozenset(other.keys)
            for key in sorted(keys & theirs):
                where = "an app-level key active on every screen" if other.app_level else f"on {context.name}"
                return (
                    f"refused: {key} would shadow {other.label()}, {where}; "
                    f"{mine} and {other.id or other.action} cannot share a key, pick another one"
                )
    return None


def check_config_keys(config: Config, table: BindingTable | None = None) -> None:
    """Raise the config's one-line ``ConfigError`` (file, line, key) for the first problem in its ``[keys]``."""
    if not config.keys:
        return
    problems = check_keymap(config.keys, binding_table() if table is None else table)
    if problems:
        first = problems[0]
        raise config.error_at(("keys", first.binding_id), first.message)


# --- reading the bindings from the classes ----------------------------------------------------------------------


def _classes(package_names: Iterable[str]) -> list[type]:
    found: list[type] = []
    for package_name in package_names:
        package = importlib.import_module(package_name)
        names = [package_name]
        if hasattr(package, "__path__"):
            names += [f"{package_name}.{info.name}" for info in pkgutil.iter_modules(package.__path__)]
        for name in names:
            module = importlib.import_module(name)
            for value in vars(module).values():
                if isinstance(value, type) and value.__module__ == name:
                    found.append(value)
    return found


def _canonical_key(key: str) -> str | None:
    from textual.keys import KEY_ALIASES, Keys, _character_to_key

    key = key.strip()
    if not key:
        return None
    if len(key) == 1:
        return _character_to_key(key) if key.isprintable() else None
    parts = key.split("+")
    *modifiers, base = parts
    if not base or any(m not in _MODIFIERS for m in modifiers):
        return None
    if len(base) == 1:
        base = _character_to_key(base) if base.isprintable() else ""
    elif base not in _key_names(Keys):
        return None
    if not base:
        return None
    key = "+".join([*modifiers, base])
    for primary, aliases in KEY_ALIASES.items():
        if key in aliases:
            return primary
    return key


_KEY_NAMES: frozenset[str] | None = None


def _key_names(keys_enum: Any) -> frozenset[str]:
    """Base key names Textual knows: its ``Keys`` (without modifiers) and the names of printable characters."""
    global _KEY_NAMES
    if _KEY_NAMES is None:
        from textual.keys import _character_to_key

        names = {str(k.value).split("+")[-1] for k in keys_enum}
        names |= {_character_to_key(chr(code)) for code in range(0x20, 0x7F)}
        names |= {f"f{n}" for n in range(1, 25)}
        _KEY_NAMES = frozenset(n for n in names if n)
    return _KEY_NAMES


def _bounds(cls: Any, *, app_level: bool = False) -> list[Bound]:
    out: list[Bound] = []
    for key, bindings in cls._merge_bindings().key_to_bindings.items():
        canonical = _canonical_key(key) or key
        for binding in bindings:
            out.append(
                Bound(
                    binding.id,
                    (canonical,),
                    binding.action,
                    binding.description,
                    cls.__name__,
                    app_level=app_level,
                    priority=binding.priority,
                )
            )
    return out


def _commands(bound: Bound) -> bool:
    """A binding that sends a command (its id is one: ``machine.pause``, ``alert.ack`` ...): absent when read-only."""
    from console.command_service import PATHS

    return bool(bound.id) and str(bound.id).split(".")[0] in {action.split(".")[0] for action in PATHS}


def binding_table() -> BindingTable:
    """The bindings of the app, its screens and widgets, read from the classes (imports Textual and the app)."""
    from textual.dom import DOMNode
    from textual.screen import ModalScreen, Screen
    from textual.widgets import Input

    from console.app import FactoryConsoleApp
    from console.app_recording import REPLAY_ACTIONS
    from console.screens.base import ConsoleScreen

    app_bounds = _bounds(FactoryConsoleApp, app_level=True)
    if FactoryConsoleApp.ENABLE_COMMAND_PALETTE:
        palette = _canonical_key(FactoryConsoleApp.COMMAND_PALETTE_BINDING) or "ctrl+p"
        app_bounds.append(
            Bound(None, (palette,), "command_palette", "command palette", "Textual", app_level=True, priority=True)
        )
    app_priority = [b for b in app_bounds if b.priority]

    classes = _classes(["console.screens", "widgets"])
    screens = [c for c in classes if issubclass(c, Screen)]
    widgets = [c for c in classes if issubclass(c, DOMNode) and not issubclass(c, Screen)]
    widget_bounds = [b for c in widgets if not issubclass(c, Input) for b in _bounds(c)]

    ids = {b.id for b in app_bounds if b.id}
    ids |= {b.id for c in widgets for b in _bounds(c) if b.id}
    # The replay's keys exist only in a replay, which is read-only: there, and only there, no command key is.
    live_app = [b for b in app_bounds if b.action.split("(")[0] not in REPLAY_ACTIONS]
    contexts: list[Context] = []
    for screen in sorted({*screens, *FactoryConsoleApp.MODES.values()}, key=lambda c: c.__name__):
        own = _bounds(screen)
        ids |= {b.id for b in own if b.id}
        if issubclass(screen, ModalScreen):
            active = [*own, *app_priority]
        elif issubclass(screen, ConsoleScreen):
            active = [*own, *live_app, *widget_bounds]
            replay = [b for b in own if not _commands(b)]
            contexts.append(Context(f"{screen.__name__} (replay)", (*replay, *app_bounds, *widget_bounds)))
        else:
            active = [*own, *live_app]
        contexts.append(Context(screen.__name__, tuple(active)))
    return BindingTable(frozenset(ids), tuple(contexts), _canonical_key)
