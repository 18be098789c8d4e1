"""The Textual app: wires sources -> store -> screens, owns the global keys, themes and the command service.

Data flows one way. Sources (one asyncio task each, in this app's loop) write into the :class:`Store`; the store calls
back once when it becomes dirty; the app waits ``refresh_ms`` to gather the burst, takes the change set and hands it
to the visible screen, which repaints only what changed. Screens that are not visible rebuild when they come back.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import AwaitMount

from console.app_recording import REPLAY_ACTIONS, REPLAY_BINDINGS, RecordingKeys
from console.command_service import Command, CommandOutcome, CommandService, PermissionDenied
from console.flush_pace import FlushPace
from console.heap_policy import HeapPolicy
from console.key_routing import follow_focus, note_route
from console.outcome_report import outcome_toast
from console.palette import ConsolePalette, EntityProvider
from console.screens.alerts import AlertsScreen
from console.screens.audit import AuditScreen
from console.screens.base import ConsoleScreen
from console.screens.dashboard import DashboardScreen
from console.screens.diagnostics import DiagnosticsScreen
from console.screens.jobs import JobsScreen
from console.screens.modals import ConfirmQuit
from console.screens.nodes import NodesScreen
from console.screens.quality import QualityScreen
from console.server_clock import ServerClock
from console.session import Session
from console.settings import Settings
from console.sources.adapter import SourceAdapter
from console.sources.registry import SourceRegistry
from console.store.store import Store
from themes import DEFAULT_THEME, THEMES, VARIABLE_DEFAULTS, register_themes
from widgets.glyphs import set_ascii_only
from widgets.safe_text import clean, clean_multiline

if TYPE_CHECKING:
    from console.audit_log import AuditLog

MAX_TOAST_CHARS = 2_000
"""A toast longer than this is cut: it is read at a glance, and a server may send megabytes of ``detail``."""

SCREEN_KEYS = (
    ("1", "dashboard", "Dashboard"),
    ("2", "jobs", "Jobs"),
    ("3", "alerts", "Alerts"),
    ("4", "quality", "Quality"),
    ("5", "nodes", "Nodes"),
    ("6", "diagnostics", "Diagnostics"),
    ("7", "audit", "Audit"),
)


class FactoryConsoleApp(RecordingKeys, App[int]):
    """factory-console: the operator console, as Textual glue around a :class:`~console.session.Session`.

    The session owns the store, the sources, the command service and the reads; the app runs the sources as workers,
    turns the store's "dirty" into one coalesced repaint, and shows outcomes as toasts. Screens see it through
    :class:`~console.screens.host.ConsoleHost`.
    """

    TITLE = "factory-console"
    CSS_PATH = "../themes/console.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {EntityProvider}
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": DashboardScreen,
        "jobs": JobsScreen,
        "alerts": AlertsScreen,
        "quality": QualityScreen,
        "nodes": NodesScreen,
        "diagnostics": DiagnosticsScreen,
        "audit": AuditScreen,
    }
    DEFAULT_MODE = "dashboard"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(key, f"switch_mode('{mode}')", title, id=f"screen.{mode}", show=key <= "5")
            for key, mode, title in SCREEN_KEYS
        ],
        Binding("question_mark,f1", "help", "Help", key_display="?", id="app.help"),  # f1 also from a filter box
        Binding("f", "toggle_freeze", "Freeze", id="app.freeze"),
        Binding("q", "quit_console", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit_console", "Quit", show=False, priority=True, id="app.quit_now"),
        Binding("D", "toggle_cluster_api", "Cluster API down/up (demo)", id="demo.cluster_api"),
        *REPLAY_BINDINGS,  # only while replaying a recording (console.app_recording)
    ]

    frozen: reactive[bool] = reactive(False)
    """The view is frozen: data keeps flowing into the store, the screens stop moving."""

    def __init__(
        self,
        settings: Settings,
        *,
        demo: Any = None,
        store: Store | None = None,
        audit_log: AuditLog | None = None,
        server_clock: ServerClock | None = None,
        install_signal_handlers: bool = True,
        registry: SourceRegistry | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.demo = demo
        self.session = Session(settings, store=store, audit_log=audit_log, server_clock=server_clock, registry=registry)
        self._flush_pending = False
        self.flush_pace = FlushPace()
        self._switching_warm = False
        self.heap = HeapPolicy(
            self.session.store, later=lambda delay, run: self.set_timer(delay, run, name="gc-freeze")
        )
        self._audit_primed = False
        self._first_machines_drawn = False
        self._install_signal_handlers = install_signal_handlers
        register_themes(self)
        self.use_ascii(settings.ascii)
        self.theme = (
            settings.theme if settings.theme in THEMES or settings.theme in self.available_themes else (DEFAULT_THEME)
        )
        if settings.keymap:
            self.set_keymap(settings.keymap)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast goes through the one sanitiser: a toast often carries server text (a problem's ``detail``, a
        reason, an id), and an ESC in it would reach the terminal (OSC 52 clipboard writes, window titles). Toasts are
        never parsed as markup: the console's own toasts have none, and server text must not be interpreted."""
        super().notify(
            clean_multiline(message, MAX_TOAST_CHARS),
            title=clean(title, 120),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Our widgets' custom variables, so Textual's own themes (from the palette) work with them too."""
        return {**super().get_theme_variable_defaults(), **VARIABLE_DEFAULTS}

    # --- the session, as the screens see it (ConsoleHost) ---------------------------------------------------------

    @property
    def store(self) -> Store:
        return self.session.store

    @property
    def server_clock(self) -> ServerClock:
        return self.session.server_clock

    @property
    def audit_log(self) -> AuditLog:
        return self.session.audit_log

    @property
    def commands_service(self) -> CommandService:
        return self.session.commands

    @property
    def sources(self) -> dict[str, SourceAdapter]:
        """The running sources by id (the session's adapters)."""
        return self.session.adapters

    @property
    def operator(self) -> str | None:
        return self.session.operator

    @property
    def role(self) -> str | None:
        return self.session.role

    @property
    def read_only(self) -> bool:
        """Read-only by flag, by config, or because the server says we are a viewer."""
        return self.session.read_only

    def can(self, action: str, count: int = 1) -> bool:
        """May the operator take this action now? Decides which bindings exist (k9s style)."""
        return self.session.can(action, count)

    def owner_of(self, kind: str, target_id: str) -> str | None:
        return self.session.owner_of(kind, target_id)

    def target_allows(self, action: str, kind: str, target_id: str | None) -> bool:
        return self.session.target_allows(action, kind, target_id)

    # --- start and stop -----------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.store.add_listener(self._on_store_dirty)
        self.start_recording()  # console.app_recording: before the sources, so it hears them from the start
        for adapter in self.session.build_sources():
            self.run_worker(adapter.run(), name=f"source:{adapter.source_id}", group="sources", exit_on_error=False)
        if self._install_signal_handlers:
            from console.terminal_guard import guard_app

            # SIGTERM, SIGHUP or a dead terminal: exit, and within 3 s end the process even if the loop is stuck.
            guard_app(self, asyncio.get_running_loop())
        if os.environ.get("FACTORY_CONSOLE_STALL_TRACE"):  # opt-in: what stalls the loop (docs/performance.md §3)
            from console.stall_trace import start_stall_trace_from_env

            self._stall_trace = start_stall_trace_from_env(asyncio.get_running_loop())

    async def on_event(self, event: events.Event) -> None:
        """Keys typed ahead follow the focus (console.key_routing): a key read while ``/`` or ``p`` was still opening
        its input goes to that input, not to the bindings of the widget that had the focus when it was read."""
        if isinstance(event, events.Key):
            if not event.is_forwarded:
                note_route(event, self.focused or self.screen)
            elif follow_focus(event, self.focused or self.screen):
                return
        await super().on_event(event)

    async def on_unmount(self) -> None:
        if self._install_signal_handlers:
            from console.terminal_guard import release_guard

            release_guard(self)  # a guard the app made for itself ends with it (console.launch closes its own)
        await self.session.aclose()

    # --- coalesced refresh --------------------------------------------------------------------------------------

    def _on_store_dirty(self) -> None:
        """The store has news: repaint once after ``refresh_ms``, however many events arrive meanwhile.

        The first machines are drawn at once: at the start nothing else is coming that a wait would gather, and the
        wait was a sixth of the start's 0.6 s (issue 15: start to first machines on screen)."""
        if self._flush_pending:
            return
        self._flush_pending = True
        if not self._first_machines_drawn:  # the store calls back once until a flush takes its changes: no waiting
            self.call_later(self.flush_changes)  # before the first machines (connection states, then the cluster)
            return
        self.set_timer(self.flush_pace.delay(self.settings.refresh_ms / 1000), self.flush_changes, name="flush")

    def flush_changes(self) -> None:
        """Hand what changed since the last flush to the visible screen (its CPU paces the next: ``flush_pace``)."""
        self.flush_pace.start()
        try:
            self._hand_changes()
        finally:
            self.flush_pace.done()

    def _hand_changes(self) -> None:
        self._flush_pending = False
        if self._exit or not self.screen_stack:
            return  # shutting down: nothing left to paint
        changes = self.store.take_changes()
        if self.store.machines:
            self._first_machines_drawn = True  # from now on a flush gathers a burst for refresh_ms
        self.heap.after_flush(
            demo=self.demo is not None
        )  # console.heap_policy: freeze after a big snapshot, or the demo's start
        cluster = self.store.cluster
        if changes.cluster and cluster is not None:
            self.server_clock.reset(cluster.server_time)
            if not self._audit_primed and self.session.playback is None:
                self._audit_primed = True
                self.run_worker(self._prime_audit(), group="audit-prime", exit_on_error=False)
        for machine_id in changes.machines:
            machine = self.store.machines.get(machine_id)
            if machine is not None:
                self.server_clock.observe(machine.last_seen)
        screen = self.screen
        for mode_screen in self._mode_screens():
            if mode_screen is not screen:
                if self.frozen:
                    mode_screen.needs_rebuild = True
                else:
                    mode_screen.hold_changes(changes)  # it catches up when shown (ConsoleScreen.catch_up)
        if isinstance(screen, ConsoleScreen):
            if not screen.ready:
                screen.needs_rebuild = True  # it rebuilds from the store when it is shown
                return
            screen.update_status()
            if not self.frozen:
                screen.apply_changes(changes)
            else:
                screen.needs_rebuild = True

    def switch_mode(self, mode: str) -> AwaitMount:
        """Switch screens (keys 1-7) and draw the new one in the very next frame.

        Textual masks every mode switch with ``delay_update()``: nothing reaches the terminal for 50 ms, the floor of
        every switch (measured: p50 ~85 ms key to frame on the demo). A screen already built needs no mask: it is
        brought up to date from the store *before* it is shown, so its first frame is the store's latest state, not
        last time's rows repainted a moment later. A screen shown for the first time still composes under the mask.
        """
        stack = self._screen_stacks.get(mode)
        warm = bool(stack) and mode != self.current_mode
        if warm and stack is not None:
            screen = stack[-1]
            if isinstance(screen, ConsoleScreen) and screen.ready:
                screen.catch_up()
        self._switching_warm = warm
        try:
            mounted = super().switch_mode(mode)
            if warm:
                self._draw_once_resumed(self.screen)
        finally:
            self._switching_warm = False
        return mounted

    RESUME_HOLD_MAX_S = 0.1
    """A warm switch's frame waits for the screen's ``ScreenResume`` at most this long (it is normally a few ms)."""

    def _draw_once_resumed(self, screen: Screen[Any]) -> None:
        """Hold the warm screen's first frame until its ``ScreenResume`` has been handled, then draw once.

        Why: the screen's update timer could fire before that message was handled, so a warm switch drew the screen
        twice in full: once as it was, and again after Textual's resume handler refreshed the whole screen and
        re-laid it out (the header and toasts updated), 5-20 ms of CPU each at 160x48 and the second one the frame
        that was complete (issue 15). The release is queued behind the ``ScreenResume`` on the screen's own queue,
        so it runs right after every handler of it; a timer releases it anyway if the screen never gets there.
        """
        self._begin_batch()
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self._end_batch()
            if not self._batch_count and screen is self.screen:
                screen.refresh()  # what was asked for while held (the update timer skipped it) is drawn now

        screen.call_later(release)
        self.set_timer(self.RESUME_HOLD_MAX_S, release, name="resume-hold")

    def delay_update(self, delay: float = 0.05) -> None:
        if self._switching_warm:
            return  # see switch_mode: a warm screen is drawn at once
        super().delay_update(delay)

    def _mode_screens(self) -> Iterable[ConsoleScreen]:
        for stack in self._screen_stacks.values():
            for screen in stack:
                if isinstance(screen, ConsoleScreen):
                    yield screen

    def watch_frozen(self, frozen: bool) -> None:
        if frozen:
            for mode_screen in self._mode_screens():
                mode_screen.freeze_view()
        screen = self.screen
        if isinstance(screen, ConsoleScreen):
            screen.update_status()
            if not frozen:
                screen.rebuild()

    # --- global actions -----------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REPLAY_ACTIONS:
            return self.session.playback is not None
        if action == "toggle_cluster_api":
            # Only in the demo with node agents: there is something to fail over to.
            return bool(self.demo is not None and getattr(self.demo, "agent_urls", None))
        return True

    def action_toggle_cluster_api(self) -> None:
        """Demo: take the simulated cluster API down (agents keep serving their nodes), or bring it back."""
        demo = self.demo
        if demo is None or not getattr(demo, "agent_urls", None):
            return
        down = not demo.cluster_down
        demo.set_cluster_down(down)
        self.notify(
            "Cluster API is DOWN: nodes are served by their agents" if down else "Cluster API is back",
            severity="warning" if down else "information",
            timeout=5,
        )

    def action_toggle_freeze(self) -> None:
        self.frozen = not self.frozen
        self.notify("View frozen: data keeps flowing" if self.frozen else "View live again", timeout=2)

    def action_help(self) -> None:
        from console.screens.help import HelpScreen  # not before the first frame (issue 15: ~5 ms of the start)

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit_console(self) -> None:
        """Quit; ask first while a command is in flight (its outcome would be lost from view)."""
        if self.commands_service.in_flight:

            def answered(quit_now: bool | None) -> None:
                if quit_now:
                    self.exit(return_code=0)

            self.push_screen(ConfirmQuit(self.commands_service.in_flight), answered)
            return
        self.exit(return_code=0)

    def watch_theme(self, theme: str) -> None:
        if self.settings.save_theme and self.is_running:
            try:
                from console.config import save_theme

                config_file = self.settings.config_file
                save_theme(theme, path=Path(config_file) if config_file else None)
            except Exception as error:
                self.notify(f"Theme not saved: {error}", severity="warning", markup=False)

    def use_ascii(self, value: bool) -> None:
        """Draw the console's own symbols in ASCII only (``--ascii``), or in Unicode. Call it before the screens
        mount (the footer reads it when it mounts)."""
        set_ascii_only(value)

    def action_command_palette(self) -> None:
        """``ctrl+p``: the palette, as Textual's but taking its providers' hits in one go (``ConsolePalette``)."""
        if self.use_command_palette and not ConsolePalette.is_open(cast("App[object]", self)):
            self.push_screen(ConsolePalette(id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, mode, title in SCREEN_KEYS:
            yield SystemCommand(f"Screen: {title}", f"Switch to the {title} screen ({key})", self._switcher(mode))
        for name in THEMES:
            yield SystemCommand(f"Theme: {name}", f"Use the {name} theme", self._theme_setter(name))
        yield SystemCommand(
            "Freeze / unfreeze view", "Stop the screen moving; data keeps flowing (f)", self.action_toggle_freeze
        )
        yield SystemCommand("Help", "Every key of this screen (?)", self.action_help)
        if isinstance(screen, ConsoleScreen):
            yield from screen.palette_commands()

    def _switcher(self, mode: str) -> Callable[[], object]:
        return lambda: self.switch_mode(mode)

    def _theme_setter(self, name: str) -> Callable[[], None]:
        def set_theme() -> None:
            self.theme = name

        return set_theme

    # --- commands -----------------------------------------------------------------------------------------------

    def fetch_audit(self, done: Callable[[list[Any]], None]) -> None:
        """Fetch the newest page of the server's audit trail in the background and hand it to ``done``."""

        async def fetch() -> None:
            from console.api.errors import ClientError
            from console.session import NotConnected

            try:
                entries = await self.session.server_audit(limit=200)
            except NotConnected:
                return
            except ClientError as error:
                self.notify(f"Server audit: {error}", severity="warning", markup=False, timeout=6)
                return
            done(entries)

        self.run_worker(fetch(), group="audit", exclusive=True, exit_on_error=False)

    async def _prime_audit(self) -> None:
        """Once, when the first cluster is in: the newest page of the server's audit trail into the store, so the
        alert journal knows who acked or shelved what before the console started (and the recording keeps it).
        Quiet: the Audit screen says so when the trail cannot be read."""
        from console.api.errors import ClientError
        from console.session import NotConnected

        try:
            await self.session.server_audit(limit=200)
        except (NotConnected, ClientError):
            return

    def send_commands(self, commands: list[Command], *, what: str) -> None:
        """Send one or more commands in the background and report the outcome as a notification."""
        self.run_worker(self._send(commands, what), group="commands", exit_on_error=False)

    async def _send(self, commands: list[Command], what: str) -> list[CommandOutcome]:
        if len(commands) == 1 and self.session.is_pending(commands[0]):
            self.notify(f"{what}: already on its way; not sent again", title="Command", timeout=4)
        try:
            outcomes = await self.session.send(commands)
        except PermissionDenied as error:
            self.notify(str(error), title=what, severity="error", markup=False)
            return []
        self.report_outcomes(outcomes, what)
        return outcomes

    def report_outcomes(self, outcomes: list[CommandOutcome], what: str) -> None:
        """Tell the operator what happened (the wording is :func:`console.outcome_report.outcome_toast`'s)."""
        toast = outcome_toast(outcomes, what, lambda name: getattr(self.store.sources.get(name), "kind", ""))
        if toast is not None:
            self.notify(toast.message, title=toast.title, severity=toast.severity, timeout=toast.timeout, markup=False)
