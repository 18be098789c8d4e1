"""What every console screen shares: the header, the filter bar, sort keys, marks, and the refresh protocol.

The app calls :meth:`ConsoleScreen.apply_changes` with the store's change set on the visible screen only; a screen
that was hidden meanwhile has ``needs_rebuild`` set and rebuilds when it is shown again. Screens read the store and
hand plain models down to widgets; they never do I/O themselves (actions go through the app).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.events import ScreenResume
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Input, Label

from console.key_routing import focus_now
from console.screens.header import StatusHeader
from console.screens.header_facts import header_badges, source_views
from console.store.changes import ChangeSet
from console.store.query import Kind, Query, parse, placeholder
from widgets.footer import ConsoleFooter

if TYPE_CHECKING:
    from console.screens.host import ConsoleHost
    from console.store.store import Store


class FilterInput(Input):
    """The `/` filter. Typing here never triggers screen keys; escape clears the filter and leaves the input."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_filter", "Clear filter", id="filter.clear"),
    ]

    def action_clear_filter(self) -> None:
        self.value = ""
        screen = self.screen
        if isinstance(screen, ConsoleScreen):
            screen.set_filter("")
            screen.close_filter()


class ConsoleScreen(Screen[Any]):
    """Base of the five main screens and the machine detail screen."""

    SCREEN_TITLE: ClassVar[str] = ""
    SORTS: ClassVar[list[tuple[str, str]]] = []
    """``(key, label)`` of the columns ``o`` cycles through."""
    FILTERABLE: ClassVar[bool] = True
    FILTER_KIND: ClassVar[Kind | None] = "machine"
    """What the ``/`` filter tests: its placeholder offers that kind's fields (``None``: free text only)."""

    DEFAULT_CSS = """
    ConsoleScreen #filter-bar { height: 1; display: none; background: $panel; }
    ConsoleScreen #filter-bar.-shown { display: block; }
    ConsoleScreen #filter-bar Label { width: auto; padding: 0 1; color: $text-muted; }
    ConsoleScreen #filter-bar FilterInput { border: none; height: 1; padding: 0; width: 1fr; background: $panel; }
    ConsoleScreen #filter-bar .errors { color: $warning; width: auto; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", id="view.filter"),
        Binding("o", "sort_next", "Sort", id="view.sort"),
        Binding("O", "sort_reverse", "Reverse", show=False, id="view.sort_reverse"),
        Binding("space", "toggle_mark", "Mark", show=False, id="view.mark"),
        Binding("u", "clear_marks", "Unmark", show=False, id="view.unmark"),
        Binding("escape", "back", "Back", show=False, id="view.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.needs_rebuild = True
        self.ready = False
        """Composed and mounted: only then may a flush repaint it (a screen just switched to may not be yet)."""
        self.query_text = ""
        self.filter_query: Query = parse("")
        self.sort_index = 0
        self.sort_reverse = False
        self.marked: set[str] = set()
        self._last_role: str | None = None
        self._offered_actions: tuple[bool | None, ...] | None = None
        self._soon_last: dict[str, float] = {}
        self._soon_pending: set[str] = set()
        self._styled_for: tuple[object, ...] | None = None
        self._held: ChangeSet | None = None
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock of :meth:`soon` (tests freeze it: a throttle must not be tested against the machine's speed)."""
        self.schedule: Callable[[float, Callable[[], None]], object] = lambda wait, run: self.set_timer(wait, run)
        """How :meth:`soon` runs something later (tests record instead)."""

    # --- plumbing -----------------------------------------------------------------------------------------------

    @property
    def console(self) -> ConsoleHost:
        return self.app  # type: ignore[return-value]

    @property
    def store(self) -> Store:
        return self.console.store

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status")
        yield from self.compose_body()
        with Horizontal(id="filter-bar"):
            yield Label("filter /")
            yield FilterInput(placeholder=self.filter_placeholder())
            yield Label("", classes="errors", id="filter-errors")
        yield ConsoleFooter()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the header and the filter bar."""
        yield from ()

    @classmethod
    def filter_kind(cls) -> Kind | None:
        """The kind of row the filter tests on this screen (``None``: its rows are searched as free text)."""
        return cls.FILTER_KIND

    @classmethod
    def filter_placeholder(cls) -> str:
        """What the empty filter box offers: this screen's own fields (the alerts screen offers alert fields)."""
        return placeholder(cls.filter_kind())

    def on_mount(self) -> None:
        self.ready = True
        self.update_status()
        self.set_interval(1.0, self.update_status, name="status")
        self.call_after_refresh(self._rebuild_if_needed)

    def _rebuild_if_needed(self) -> None:
        if self.needs_rebuild and self.is_mounted:
            self.rebuild()

    def on_screen_suspend(self) -> None:
        self._styled_for = self._style_inputs()

    def on_screen_resume(self, event: ScreenResume) -> None:
        if event.refresh_styles and self._styled_for == self._style_inputs():
            # Textual restyles every node of a screen switched to (~26 ms on the dashboard, a third of a switch). What
            # a hidden screen's styles depend on from outside is the stylesheet (a theme or CSS change bumps its
            # count), the size (breakpoints) and the app's pseudo-classes; unchanged, the restyle is pure waste.
            # Class changes inside the screen restyle their own nodes when they happen, hidden or not.
            event.refresh_styles = False  # Screen._on_screen_resume runs after this handler and reads it
        if not self.ready:
            return  # not composed yet: on_mount rebuilds it
        self.update_status()
        self.catch_up()

    def _screen_resized(self, size: Size) -> None:
        """Textual calls this on every mode switch, and it lays the whole screen out and draws it at once, before the
        screen has handled its ``ScreenResume``; that handler then refreshes the whole screen and it is drawn again
        (issue 15: two full frames per switch, the second the complete one). A warm screen already laid out at this
        size skips it: what changed while it was hidden asked for its layout then, and that is done in the one
        frame drawn after the resume (``FactoryConsoleApp._draw_once_resumed``). A real resize is not skipped."""
        if getattr(self.app, "_switching_warm", False) and size == self._size:
            return
        super()._screen_resized(size)

    def _style_inputs(self) -> tuple[object, ...]:
        """What the styles of this screen's nodes depend on outside it (see :meth:`on_screen_resume`)."""
        app = self.app
        return (app.size, app.theme, app._css_update_count, app.ansi_color, app.app_focus)

    # --- refresh protocol ---------------------------------------------------------------------------------------

    def apply_changes(self, changes: ChangeSet) -> None:
        """Repaint what changed. The default rebuilds; screens with long lists do better."""
        if changes.empty and not self.needs_rebuild:
            return
        self.rebuild()

    def rebuild(self) -> None:
        """Recompute everything this screen shows from the store."""
        self.needs_rebuild = False
        self._held = None

    HOLD_LIMIT: ClassVar[int] = 3_000
    """Changed ids a hidden screen keeps at most; past that a rebuild when shown is cheaper than catching up."""

    def hold_changes(self, changes: ChangeSet) -> None:
        """The screen is hidden: keep what changed, to catch up when it is shown again.

        Why not just mark it for a rebuild: a rebuild re-reads, re-filters and re-sorts everything (the jobs list of
        100,000 jobs: ~80 ms, more than a switch may take), while catching up moves only the rows that changed.
        """
        if self.needs_rebuild:
            return
        held = self._held
        if held is None:
            held = self._held = ChangeSet()
        merge_changes(held, changes)
        if len(held.machines) + len(held.jobs) + len(held.alerts) > self.HOLD_LIMIT:  # telemetry: cheap, bounded
            self.needs_rebuild = True
            self._held = None

    def catch_up(self) -> None:
        """Bring the screen up to date from the store before it is shown: rebuild when marked (or when the view is
        frozen: a frozen screen shows what was there at the freeze, as a rebuild makes it), else apply what it held."""
        held, self._held = self._held, None
        if self.needs_rebuild or (held is not None and self.console.frozen):
            self.rebuild()
        elif held is not None and not held.empty:
            self.apply_changes(held)

    def soon(self, refresh: Callable[[], None]) -> None:
        """Run ``refresh`` now if it has not run in the last ``panel_interval_s``, else once when that time is up.

        For views that are dear to compute and need not follow every flush (side panels, lists that re-sort on any
        change). A deferred run that comes while the view is frozen, or the screen is not the current one, marks the
        screen for a rebuild instead of showing newer data.
        """
        name = refresh.__name__
        if name in self._soon_pending:
            return
        now = self.monotonic()
        wait = self._soon_last.get(name, 0.0) + self.console.settings.panel_interval_s - now
        if wait <= 0:
            self._soon_last[name] = now
            refresh()
            return
        self._soon_pending.add(name)

        def later() -> None:
            self._soon_pending.discard(name)
            self._soon_last[name] = self.monotonic()
            if not self.is_mounted:
                return
            if self.console.frozen or not self.is_current:
                self.needs_rebuild = True  # done when unfrozen or shown again
            else:
                refresh()

        self.schedule(wait, later)

    def freeze_view(self) -> None:
        """The app froze the view: stop showing the store's live data. Widgets that read the store's mappings
        directly (the machine grid) must take a copy now, or a scroll would show what arrived after the freeze.
        Unfreezing rebuilds the screen, which reattaches them."""

    def update_status(self) -> None:
        """Refresh the header (cheap: it repaints only when its text changes); what it says: ``header_facts``."""
        app = self.console
        store = self.store
        views, rate = source_views(store, time.monotonic())
        whoami = getattr(store, "whoami", None)
        try:
            header = self.query_one("#status", StatusHeader)
        except Exception:
            return
        header.show(
            cluster_name=store.cluster.name if store.cluster else None,
            sources=views,
            events_per_second=rate,
            operator=whoami.operator if whoami else None,
            role=app.session.role if whoami else None,  # capped by --max-role (serve-web): what this console may do
            server_time=app.server_clock.now(),
            stale_after_s=app.settings.stale_after_s,
            badges=header_badges(app),
        )
        role = whoami.role if whoami else None
        if role != self._last_role:
            self._last_role = role
            self.refresh_bindings()

    # --- actions available everywhere ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide actions the operator may not take (read-only, viewer, or a role that lacks them)."""
        needed = self.command_actions().get(action)
        if needed is not None:
            if not any(self.console.can(a) for a in needed):
                return False
            kind, target = self.current_target()
            if target is not None and not any(self.console.target_allows(a, kind, target) for a in needed):
                return False  # e.g. an OctoPrint printer cannot be rerouted: the key is not offered
        if action in ("sort_next", "sort_reverse") and not self.SORTS:
            return False
        return not (action == "filter" and not self.FILTERABLE)

    def command_actions(self) -> dict[str, tuple[str, ...]]:
        """Screen action -> the command actions it may send; an action none of which is allowed is hidden."""
        return {}

    def target_changed(self) -> None:
        """The cursor moved to another target: refresh the footer's keys only if which actions are offered changed.

        Why not ``refresh_bindings()`` on every move: the footer rebuilds all its ~19 keys each time (a few hundred
        widgets' worth of work a second while an operator holds an arrow key, with Textual's own ``Footer``; ours,
        ``widgets.footer.ConsoleFooter``, repaints one line, but reading every binding on each move is still waste).
        Only the target-dependent actions can change here.
        """
        offered = tuple(self.check_action(action, ()) for action in self.command_actions())
        if offered != self._offered_actions:
            self._offered_actions = offered
            self.refresh_bindings()

    def action_filter(self) -> None:
        bar = self.query_one("#filter-bar")
        bar.add_class("-shown")
        focus_now(self.query_one(FilterInput))  # before the keys typed after '/' are handled

    def close_filter(self) -> None:
        """Leave the filter input; the bar stays visible while a filter is active."""
        bar = self.query_one("#filter-bar")
        if not self.query_text:
            bar.remove_class("-shown")
        self.focus_main()

    def on_input_changed(self, event: Input.Changed) -> None:
        if not isinstance(event.input, FilterInput):
            return
        event.stop()
        self.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not isinstance(event.input, FilterInput):
            return
        event.stop()
        self.close_filter()

    def set_filter(self, text: str) -> None:
        self.query_text = text.strip()
        # "now" for at-risk and overdue is the server's time, never this machine's (a demo runs on its own date).
        self.filter_query = parse(self.query_text).with_clock(self.console.server_clock.now)
        errors = "; ".join(getattr(self.filter_query, "errors", []) or [])
        self.query_one("#filter-errors", Label).update(Content(errors))
        if self.query_text:
            self.query_one("#filter-bar").add_class("-shown")
        self.rebuild()

    def action_sort_next(self) -> None:
        if not self.SORTS:
            return
        self.sort_index = (self.sort_index + 1) % len(self.SORTS)
        self.notify(f"Sorted by {self.SORTS[self.sort_index][1]}", timeout=1.5)
        self.rebuild()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.rebuild()

    @property
    def sort_key(self) -> str:
        return self.SORTS[self.sort_index][0] if self.SORTS else ""

    def action_toggle_mark(self) -> None:
        key = self.current_key()
        if key is None:
            return
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        self.marks_changed()

    def action_clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self.marks_changed()

    def marks_changed(self) -> None:
        """Redraw marks (the screen's list widget decides how)."""
        self.rebuild()

    def action_back(self) -> None:
        """Escape: clear marks, then the filter; on a pushed screen, go back."""
        if self.marked:
            self.action_clear_marks()
            return
        if self.query_text:
            self.query_one(FilterInput).value = ""
            self.set_filter("")
            self.close_filter()
            return
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()

    # --- hooks for subclasses -----------------------------------------------------------------------------------

    def current_key(self) -> str | None:
        """The id under the cursor of the focused list."""
        return None

    def current_target(self) -> tuple[str, str | None]:
        """What the action keys act on now: ``(kind, id)``, e.g. ``("machine", "M-LDS-07")``."""
        return ("", None)

    def focus_main(self) -> None:
        """Give focus back to the screen's main list."""

    def palette_commands(self) -> Iterable[SystemCommand]:
        """This screen's actions for the command palette."""
        for key, active in self.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action.startswith("switch_mode"):
                continue
            if type(active.node).__name__.endswith("App"):
                continue
            yield SystemCommand(
                f"{self.SCREEN_TITLE}: {binding.description}",
                f"key {self.app.get_key_display(binding)}",
                self._runner(binding.action, key),
            )

    def _runner(self, action: str, key: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action)

        del key
        return run


def merge_changes(into: ChangeSet, changes: ChangeSet) -> None:
    """Fold ``changes`` into ``into``, as if both had been one flush (what a hidden screen catches up with)."""
    into.nodes |= changes.nodes
    into.machines |= changes.machines
    into.jobs |= changes.jobs
    into.alerts |= changes.alerts
    into.quality |= changes.quality
    into.audit |= changes.audit
    into.sources |= changes.sources
    into.telemetry_only |= changes.telemetry_only
    into.telemetry_only -= into.machines  # as take_changes hands them out: a machine changed is not telemetry only
    into.cluster = into.cluster or changes.cluster
    into.whoami = into.whoami or changes.whoami
    into.structure = into.structure or changes.structure
    into.structure_tables |= changes.structure_tables
