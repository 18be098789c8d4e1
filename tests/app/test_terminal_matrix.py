"""The terminal matrix: every main screen (1-5) and the detail screens, on the terminals operators have.

* ``xterm-256color`` and ``screen-256color`` (tmux): 256-colour codes only (no true colour without ``COLORTERM``);
* ``linux`` (the Linux console): 16-colour codes only, the ASCII glyph set (on by itself there), every text at least
  3:1 on its background as the console shows it (its bright backgrounds are the plain ones);
* ``NO_COLOR``: no colour code at all, the cursor in reverse video;
* ``ascii`` (``--ascii`` / ``ascii = true``): nothing outside ASCII but Textual's box drawing.

On each, every state word of what the screen shows is on it (colour is never the only cue), and text is legible (at
least 3:1 on its background, on the colours the terminal really gets). One console boots per terminal and walks the
screens: booting is the dear part. The same rules checked bit by bit elsewhere (``test_app_ascii``,
``test_app_no_color``) are here checked together, screen by screen, per terminal; the pictures of ``linux`` and
``ascii`` are snapshot tests at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from console.launch import _ascii_wanted
from console.screens.dashboard import DashboardScreen
from console.screens.help import HelpScreen
from console.screens.job_detail import JobDetailScreen
from console.screens.machine_detail import MachineDetailScreen
from console.screens.modals import ConfirmAction
from console.screens.node_detail import NodeDetailScreen
from console.screens.timeline import TimelineScreen
from tests.app.conftest import settle, wait_for, wait_ready
from tests.app.terminal_frames import colour_kinds, frame_text, low_contrast, rendered
from themes import fit_colours
from themes.ansi16 import MIN_CONTRAST
from widgets.charset import set_ascii_only
from widgets.glyphs import alert_priority_look, job_status_look, machine_state_look, node_state_look
from widgets.machine_grid import MachineGrid

SIZE = (160, 48)


@dataclass(frozen=True)
class Terminal:
    name: str
    env: dict[str, str]
    ascii: bool | None = None
    """``--ascii`` given (``None``: as the launch decides from ``TERM``)."""
    colours: frozenset[str] = frozenset({"256"})
    """The colour encodings its frames may use (``16``, ``256``, ``truecolor``); empty: none at all."""
    fold_bright_backgrounds: bool = False


TERMINALS = [
    Terminal("xterm-256color", {"TERM": "xterm-256color"}),
    Terminal("screen-256color", {"TERM": "screen-256color"}),
    Terminal("linux", {"TERM": "linux"}, colours=frozenset({"16"}), fold_bright_backgrounds=True),
    Terminal("NO_COLOR", {"TERM": "xterm-256color", "NO_COLOR": "1"}, colours=frozenset()),
    Terminal("ascii", {"TERM": "xterm-256color"}, ascii=True),
]


def on_terminal(monkeypatch: pytest.MonkeyPatch, terminal: Terminal) -> bool:
    """Set the environment as that terminal's would be; whether the console draws in ASCII there."""
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in terminal.env.items():
        monkeypatch.setenv(name, value)
    return _ascii_wanted(terminal.ascii, None, dict(terminal.env))


async def walk(pilot: Any, visit: Callable[[str], None]) -> None:
    """Show each main screen and each detail screen, calling ``visit(name)`` on each."""
    app = pilot.app
    await wait_ready(pilot)
    for key, name in (("2", "jobs"), ("3", "alerts"), ("4", "quality"), ("5", "nodes"), ("1", "dashboard")):
        await pilot.press(key)
        await settle(pilot)
        visit(name)
    store = app.store
    faulted = next(m for m in sorted(store.machines.values(), key=lambda m: m.id) if m.state == "fault")
    app.push_screen(MachineDetailScreen(faulted.id))
    await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the machine detail")
    await settle(pilot)
    visit("machine detail")
    await pilot.press("T")
    await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the timeline")
    await settle(pilot)
    visit("timeline")
    job = next(j for j in sorted(store.jobs.values(), key=lambda j: j.id) if j.machine_id)
    app.push_screen(JobDetailScreen(job.id))
    await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), what="the job detail")
    await settle(pilot)
    visit("job detail")
    app.push_screen(NodeDetailScreen(faulted.node_id))
    await wait_for(pilot, lambda: isinstance(app.screen, NodeDetailScreen), what="the node detail")
    await settle(pilot)
    visit("node detail")
    await pilot.press("escape", "escape", "escape", "escape")
    await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard again")
    app.screen.query_one(MachineGrid).focus()
    await pilot.press("y")  # a toast: "Copied machine id ..."
    await settle(pilot)
    visit("a toast")
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
    visit("help")
    await pilot.press("escape", "p")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmAction), what="the pause dialog")
    await settle(pilot)
    visit("a dialog")
    await pilot.press("escape")


def state_words(app: Any, name: str) -> set[str]:
    """The state labels (glyph and word) the screen must show for what the store holds."""
    store = app.store
    if name == "dashboard":
        return {
            machine_state_look(s).label
            for s in ("fault", "blocked", "paused")
            if any(m.state == s for m in store.machines.values())
        }
    if name == "alerts":
        return {alert_priority_look(a.priority).label for a in store.active_alerts()}
    if name == "nodes":
        return {node_state_look(n.state).label for n in store.nodes.values()}
    if name == "machine detail":
        return {f"State: {machine_state_look('fault').label}"}
    if name == "job detail":
        screen = app.screen
        return {f"Status: {job_status_look(store.jobs[screen.job_id].status).label}"}
    return set()


@pytest.mark.parametrize("terminal", TERMINALS, ids=[t.name for t in TERMINALS])
async def test_every_screen_is_legible_on_the_terminal(make_app, monkeypatch, terminal: Terminal) -> None:
    ascii_mode = on_terminal(monkeypatch, terminal)
    app = make_app(theme="mono" if "NO_COLOR" in terminal.env else "factory-dark")
    app.use_ascii(ascii_mode)  # what FactoryConsoleApp does with Settings.ascii, which the launch sets the same way
    fit_colours(app)  # as the launch does for the terminal it runs on
    problems: list[str] = []

    def visit(name: str) -> None:
        frame = rendered(app)
        text = frame_text(frame)
        used = colour_kinds(frame)
        if not used <= terminal.colours:
            problems.append(f"{name}: colour codes {sorted(used - terminal.colours)} on {terminal.name}")
        if ascii_mode:
            drawn = {ch for ch in text if ord(ch) > 126 and not 0x2500 <= ord(ch) <= 0x257F}
            if drawn:
                problems.append(f"{name}: not ASCII: {sorted(drawn)[:10]}")
        missing = [word for word in state_words(app, name) if word not in text]
        if missing:
            problems.append(f"{name}: state words missing: {missing}")
        if terminal.colours:
            faint = low_contrast(app, MIN_CONTRAST, fold_bright_backgrounds=terminal.fold_bright_backgrounds)
            if faint:
                problems.append(f"{name}: text below {MIN_CONTRAST}:1: {faint[:6]}")

    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            assert app.console.color_system == {"linux": "standard"}.get(terminal.name, "256")
            await walk(pilot, visit)
    finally:
        set_ascii_only(False)
    assert not problems, "\n".join(problems)


def test_on_a_real_linux_console_the_bytes_are_16_colours_and_ascii(tmp_path) -> None:
    """The launch's own wiring, on a real pty with ``TERM=linux``: ASCII on by itself, 16-colour codes only (Textual
    alone wrote 256-colour codes there: ``38;5;n``), through the dashboard, Jobs and Alerts."""
    import os

    from tests.test_launch import _read_until, demo_console_in_pty

    main_fd, process = demo_console_in_pty(tmp_path, "linux", drop=("NO_COLOR",))
    try:
        output = _read_until(main_fd, b"live", timeout=30)
        assert b"live" in output, output[-500:]
        os.write(main_fd, b"2")
        output += _read_until(main_fd, b"Timeline", timeout=10)  # the Jobs footer
        os.write(main_fd, b"3")
        output += _read_until(main_fd, b"Shelved (", timeout=10)  # the Alerts screen
        assert b"Shelved (" in output
    finally:
        process.kill()
        process.wait()
        os.close(main_fd)
    text = output.decode("utf-8", "replace")
    assert colour_kinds(text) == {"16"}, colour_kinds(text)
    drawn = {ch for ch in frame_text(text) if ord(ch) > 126 and not 0x2500 <= ord(ch) <= 0x257F}
    assert not drawn, sorted(drawn)


# --- pictures: the Linux console and ASCII mode ----------------------------------------------------------------------


@pytest.fixture
def terminal_app(make_app, monkeypatch):
    """``terminal_app(name)``: a console built as the launch builds it on that terminal of :data:`TERMINALS`."""

    def build(name: str) -> Any:
        terminal = next(t for t in TERMINALS if t.name == name)
        ascii_mode = on_terminal(monkeypatch, terminal)
        app = make_app()
        app.use_ascii(ascii_mode)
        fit_colours(app)
        return app

    yield build
    set_ascii_only(False)


def _open_faulted_machine(then: str = "") -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        from tests.app.test_app_snapshots import freeze

        app = pilot.app
        app.animation_level = "none"
        await wait_ready(pilot)
        faulted = next(m for m in sorted(app.store.machines.values(), key=lambda m: m.id) if m.state == "fault")
        app.push_screen(MachineDetailScreen(faulted.id))
        await wait_for(pilot, lambda: isinstance(app.screen, MachineDetailScreen), what="the machine detail")
        if then:
            await pilot.press(then)
        await settle(pilot)
        freeze(app)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    ("name", "keys", "size"),
    [
        pytest.param("linux", "1", (80, 24), id="linux-dashboard-80x24"),
        pytest.param("linux", "3", (160, 48), id="linux-alerts-160x48"),
        pytest.param("ascii", "1", (160, 48), id="ascii-dashboard-160x48"),
        pytest.param("ascii", "2", (80, 24), id="ascii-jobs-80x24"),
    ],
)
def test_main_screen_pictures(snap_compare, terminal_app, name: str, keys: str, size: tuple[int, int]) -> None:
    from tests.app.test_app_snapshots import prepare

    assert snap_compare(terminal_app(name), terminal_size=size, run_before=prepare(keys))


@pytest.mark.parametrize("name", ["linux", "ascii"])
def test_machine_detail_pictures(snap_compare, terminal_app, name: str) -> None:
    assert snap_compare(terminal_app(name), terminal_size=(160, 48), run_before=_open_faulted_machine())
