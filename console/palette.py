"""The command palette's entity search: any machine, job, node or alert by id or name, jumping straight to it;
and the alert history, the shift handover, and resolved alerts (their detail), from anywhere.

Actions, screens and themes come from ``App.get_system_commands``; this provider adds the cluster's objects. It reads
the store (in memory) and caps the work per keystroke, so it stays quick with 20,000 machines.
"""

from __future__ import annotations

from asyncio import Event, Queue, create_task, wait_for
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.console import RenderableType
from textual.command import Command, CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.css.styles import RulesMap
from textual.events import ScreenResume
from textual.fuzzy import Matcher
from textual.renderables.background_screen import BackgroundScreen
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from console.palette_backdrop import TintedScreen
from console.screens.base import ConsoleScreen
from widgets.safe_text import clean

if TYPE_CHECKING:
    from console.screens.host import ConsoleHost

MAX_HITS = 40
HISTORY_TITLE = "Alert history: every transition of every alert (H on Alerts)"
HISTORY_TEXT = "alert history journal transitions acked shelved cleared resolved who"
HANDOVER_TITLE = "Handover: what went wrong, what was done, what is still open (h on Audit)"
HANDOVER_TEXT = "handover shift report summary what went wrong done open since"


def highlight(matcher: Matcher, shown: str) -> Content:
    """``matcher.highlight`` without the markup: Textual's own builds the hit with ``Content.from_markup``, so a
    machine named ``[@click=app.quit]X`` would become a link and ``M17[/]`` would raise ``MarkupError`` (and the
    whole search would silently return nothing). Server names are plain text here, always."""
    content = Content(shown)
    score, offsets = matcher.fuzzy_search.match(matcher.query, shown)
    if not score:
        return content
    for offset in offsets:
        if offset < len(shown) and not shown[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class EntityProvider(Provider):
    """Machines, jobs, nodes and alerts."""

    @property
    def console(self) -> ConsoleHost:
        return self.app  # type: ignore[return-value]

    def _entities(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """``(text to match, display, jump)`` for every object."""
        store = self.console.store
        yield HISTORY_TEXT, HISTORY_TITLE, self._history
        yield HANDOVER_TEXT, HANDOVER_TITLE, self._handover
        for node in store.nodes.values():
            yield f"{node.id} {node.name} {node.city}", f"Node {node.name} ({node.id})", partial(self._node, node.id)
        for machine in store.machines.values():
            yield (
                f"{machine.id} {machine.name}",
                f"Machine {machine.name} ({machine.id}) {machine.state}",
                partial(self._machine, machine.id),
            )
        for job in store.jobs.values():
            yield (
                f"{job.id} {job.part} {job.order_id}",
                f"Job {job.id}: {job.part} ({job.status})",
                partial(self._job, job.id),
            )
        for alert in store.alerts.values():
            yield (
                f"{alert.id} {alert.code} {alert.source.id}",
                f"Alert {alert.priority} {alert.code} on {alert.source.id}",
                partial(self._alert, alert.id),
            )
        for alert in store.journal.alerts():  # resolved and gone alerts stay findable: their detail and life
            if alert.id not in store.alerts:
                yield (
                    f"{alert.id} {alert.code} {alert.source.id}",
                    f"Alert {alert.priority} {alert.code} on {alert.source.id} ({alert.state})",
                    partial(self._alert_detail, alert.id),
                )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        found = 0
        for text, display, jump in self._entities():
            score = matcher.match(text)
            if score > 0:
                shown = clean(display, 120)
                yield Hit(score, highlight(matcher, shown), jump, text=shown, help="jump to it")
                found += 1
                if found >= MAX_HITS:
                    return

    async def discover(self) -> Hits:
        store = self.console.store
        yield DiscoveryHit(Content(HISTORY_TITLE), self._history, text=HISTORY_TITLE)
        yield DiscoveryHit(Content(HANDOVER_TITLE), self._handover, text=HANDOVER_TITLE)
        for node in sorted(store.nodes.values(), key=lambda n: n.name):
            shown = clean(f"Node {node.name} ({node.id})", 120)
            yield DiscoveryHit(Content(shown), partial(self._node, node.id), text=shown)

    # --- jumps ----------------------------------------------------------------------------------------------------

    def _machine(self, machine_id: str) -> None:
        from console.screens.machine_detail import open_machine_detail

        open_machine_detail(self.app, machine_id)

    def _node(self, node_id: str) -> None:
        from console.screens.alerts import jump_to_source

        jump_to_source(self.app.screen, "node", node_id)

    def _job(self, job_id: str) -> None:
        from console.screens.job_detail import JobDetailScreen

        self.app.push_screen(JobDetailScreen(job_id))

    def _history(self) -> None:
        from console.screens.alert_history import AlertHistoryScreen

        if not isinstance(self.app.screen, AlertHistoryScreen):
            self.app.push_screen(AlertHistoryScreen())

    def _handover(self) -> None:
        from console.screens.handover import open_handover

        open_handover(self.app.screen)

    def _alert_detail(self, alert_id: str) -> None:
        from console.screens.alert_detail import AlertDetail

        self.app.push_screen(AlertDetail(alert_id))

    def _alert(self, alert_id: str) -> None:
        self.app.switch_mode("alerts")
        screen = self.app.screen
        if isinstance(screen, ConsoleScreen):
            screen.set_filter(alert_id)


class ConsolePalette(CommandPalette):
    """Textual's command palette, taking the hits its providers have found in one go.

    Why: Textual's palette passes every hit through a queue with ``wait_for(queue.get(), 0.1)``, a task and at least
    one turn of the event loop per hit, and shows the list only when all have arrived. On open that is ~60 system
    commands and actions plus every node (200 at 20,000 machines); under live load each turn of the loop also runs
    the sources' reads and flushes, so the list came hundreds of ms after the palette's empty frame (issue 15,
    "palette" in ``benchmarks/bench_switch.py``). Here what is already queued is taken without waiting; it still
    waits (as Textual does) while a provider has nothing ready, and an abort still cancels the searches.
    """

    FIRST_LIST_WAIT_S = 0.1
    """How long the palette's first frame waits for its list (the discovery is normally done in a few ms)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._backdrops: dict[tuple[int, int | None, Style], list[Strip]] = {}
        self._listed = Event()
        self._shown = False

    async def on_screen_resume(self, event: ScreenResume) -> None:
        """The first time: let the list be filled before the palette is laid out and drawn (at most
        ``FIRST_LIST_WAIT_S``); Textual's own resume handler (``Screen``'s, after this one) then lays it out.

        Why: Textual lays the palette out and draws it as it is shown, with an empty list (the providers' search is
        a worker started on mount), then again when the list arrives: two full layouts and renders of the palette,
        the first with the dimmed screen beneath, and the list a frame later (issue 15, "palette" in
        ``benchmarks/bench_switch.py``). The search runs in its own task, so waiting here holds only this screen's
        messages (keys typed meanwhile are handled after it, in order).
        """
        if self._shown:
            return
        self._shown = True
        self._take_breakpoint_classes()
        with suppress(TimeoutError):
            await wait_for(self._listed.wait(), self.FIRST_LIST_WAIT_S)

    def _take_breakpoint_classes(self) -> None:
        """The app's breakpoint classes (``-wide``) for the terminal's width, before the first layout.

        Why: Textual gives a screen its breakpoint classes when the ``Resize`` from its first layout arrives, so every
        new palette was restyled and laid out again a moment after it was drawn (12-13 ms of CPU in-process) for a
        class nothing in the palette's looks depends on. Set now, the ``Resize`` finds them in place and restyles
        nothing. The rule is Textual's (``Screen._on_resize``): the widest breakpoint not above the width.
        """
        app = self.app
        horizontal = app.HORIZONTAL_BREAKPOINTS if self.HORIZONTAL_BREAKPOINTS is None else self.HORIZONTAL_BREAKPOINTS
        vertical = app.VERTICAL_BREAKPOINTS if self.VERTICAL_BREAKPOINTS is None else self.VERTICAL_BREAKPOINTS
        classes: dict[str, bool] = {}
        for breakpoints, dimension in ((horizontal or [], app.size.width), (vertical or [], app.size.height)):
            classes.update(dict.fromkeys((name for _, name in breakpoints), False))
            classes.update(dict.fromkeys(self._get_breakpoint_classes(dimension, breakpoints), True))
        if classes:
            self.update_classes(classes, update=False)  # Screen's resume handler, next, restyles the whole palette

    def _refresh_command_list(self, command_list: CommandList, commands: list[Command], clear_current: bool) -> None:
        super()._refresh_command_list(command_list, commands, clear_current)
        self._listed.set()

    def render(self) -> RenderableType:
        """The screen beneath, dimmed, drawn once per size for the palette's life.

        Why: Textual draws a modal screen's translucent background by rendering the whole screen beneath through Rich
        and tinting every segment (``BackgroundScreen``), again whenever the palette is laid out (its list filled,
        shown, ready): in-process 14.5 ms of CPU for the first frame and 31 ms for the one with the list, against 3.3
        and 12 ms with nothing beneath (issue 15). The screen beneath does not change while the palette is up (the
        app hands changes to the top screen only; the others hold them), so the tinted picture is kept; it is made by
        ``TintedScreen``, Textual's picture with each style tinted once.
        """
        rendered = super().render()
        if isinstance(rendered, BackgroundScreen):
            # a Visual, as Widget.render may return (Screen.render's annotation is narrower than what Textual takes)
            backdrop = TintedScreen(rendered.screen, rendered.color)  # Textual's picture, made faster
            return cast("RenderableType", _HeldBackdrop(backdrop, self._backdrops))
        return rendered

    async def _search_for(self, search_value: str) -> AsyncGenerator[DiscoveryHit | Hit, bool]:
        commands: Queue[DiscoveryHit | Hit] = Queue()
        searches = [
            create_task(self._consume(provider._search(search_value), commands)) for provider in self._providers
        ]
        self._start_busy_countdown()
        aborted = False
        while not aborted and (not commands.empty() or any(not search.done() for search in searches)):
            if not commands.empty():
                aborted = yield commands.get_nowait()
                continue
            try:
                hit = await wait_for(commands.get(), 0.1)
            except TimeoutError:
                continue  # a provider still working and nothing queued: look again
            aborted = yield hit
        for search in searches:
            if search.done() and not search.cancelled() and (error := search.exception()) is not None:
                self.log.error(error)  # as Textual does: a provider's failure is logged, the palette goes on
        if aborted:
            for search in searches:
                search.cancel()
        else:
            self._stop_busy_countdown()


class _HeldBackdrop(Visual):
    """A visual whose strips are rendered once per (width, height, style) and then reused (``ConsolePalette``)."""

    def __init__(self, inner: Visual, held: dict[tuple[int, int | None, Style], list[Strip]]) -> None:
        self._inner = inner
        self._held = held

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        key = (width, height, style)
        strips = self._held.get(key)
        if strips is None:
            strips = self._held[key] = self._inner.render_strips(width, height, style, options)
        return strips

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self._inner.get_optimal_width(rules, container_width)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._inner.get_height(rules, width)
