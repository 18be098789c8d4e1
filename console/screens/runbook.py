"""The runbook of an alert code, read in a dialog: what it means, how to check, how to clear, when to escalate.

Opened with ``b`` on the Alerts screen (the alert under the cursor) and on a machine's detail (the alert under the
cursor of its alert list, else the machine's fault code, else its worst alert's code: the first that has a runbook),
and from the command palette (the screens' bindings are palette commands). ``escape`` or ``q`` closes it, ``r``
reads the files again (after editing a runbook), the arrows and page keys scroll.

Where the text comes from is ``console.runbooks`` (the site's folder, ``runbooks_dir``, then the built-in ones). It
is shown as plain text only: the Markdown is read into blocks (``console.runbooks.blocks``), every string is cleaned
(``widgets.safe_text``) and drawn as a Rich ``Text`` built from the string, never parsed as markup; so no link,
markup or escape sequence in a runbook file reaches the terminal.

The file is read in a worker thread (a runbook folder may be on a network share), unless the loader's cache already
has it: then it shows at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, ClassVar, cast

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from console.runbooks import Block, Runbook, RunbookLoader, loader_for, parse_blocks, plain_lines
from console.screens.host import ConsoleHost
from widgets.charset import pick
from widgets.safe_text import clean, clean_multiline

__all__ = ["RunbookScreen", "open_runbook", "render_blocks"]

MAX_CODE_SHOWN = 64

_STYLE: dict[str, str] = {"title": "bold underline", "heading": "bold", "subheading": "bold italic"}


def _text(text: str, style: str = "") -> Text:
    """A block's text as a Rich ``Text`` made from the cleaned string (never parsed as markup); long words fold."""
    return Text(clean_multiline(text), style=style, overflow="fold")


def _item(block: Block, marker_width: int) -> RenderableType:
    bullet = pick("•", "-") if block.depth == 0 else pick("◦", "-")
    marker = bullet if block.marker == "-" else clean(block.marker)
    grid = Table.grid(padding=(0, 1, 0, 0), expand=True)
    grid.add_column(width=marker_width, no_wrap=True, justify="right" if marker[:1].isdigit() else "left")
    grid.add_column(ratio=1, overflow="fold")
    grid.add_row(Text(marker), _text(block.text))
    return Padding(grid, (0, 0, 0, 2 * block.depth)) if block.depth else grid


def render_blocks(blocks: Sequence[Block]) -> Group:
    """The blocks as Rich renderables: plain, cleaned text with the console's own styles only (no blank line under a
    section heading: the page is read at 80x24)."""
    out: list[RenderableType] = []
    widths: dict[int, int] = {}
    for index, block in enumerate(blocks):
        if block.kind != "item":
            widths.clear()  # a list's markers line up within the list
        if block.kind == "gap":
            if index and blocks[index - 1].kind in ("heading", "subheading"):
                continue  # a heading is bold: the blank line under it only costs a row at 80x24
            out.append(Text(""))
        elif block.kind == "rule":
            out.append(Rule(characters=pick("─", "-"), style="dim"))
        elif block.kind == "item":
            if block.depth not in widths:
                run = _list_run(blocks, index)
                widths[block.depth] = max(len(b.marker) for b in run if b.depth == block.depth)
            out.append(_item(block, widths[block.depth]))
        elif block.kind == "code":
            out.append(Padding(_text(block.text), (0, 0, 0, 4)))
        elif block.kind == "quote":
            grid = Table.grid(padding=(0, 1, 0, 0), expand=True)
            grid.add_column(width=1, no_wrap=True)
            grid.add_column(ratio=1, overflow="fold")
            grid.add_row(Text(pick("│", "|"), style="dim"), _text(block.text, "italic"))
            out.append(grid)
        else:
            out.append(_text(block.text, _STYLE.get(block.kind, "")))
    return Group(*out)


def _list_run(blocks: Sequence[Block], start: int) -> list[Block]:
    """The items of the list ``blocks[start]`` is in, from it to the list's end (gaps between items included)."""
    run: list[Block] = []
    for block in blocks[start:]:
        if block.kind == "item":
            run.append(block)
        elif block.kind != "gap":
            break
    return run


class RunbookScreen(ModalScreen[None]):
    """The runbook of the first of ``codes`` that has one (else what the first one's lookup says)."""

    DEFAULT_CSS = """
    RunbookScreen { align: center middle; }
    RunbookScreen > Vertical {
        width: 100; max-width: 100%; height: 100%; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    RunbookScreen #runbook-title { text-style: bold; width: 1fr; }
    RunbookScreen #runbook-where { color: $text-muted; width: 1fr; }
    RunbookScreen #runbook-scroll { height: 1fr; margin: 1 0 0 0; background: $surface; }
    RunbookScreen #runbook-scroll:focus { background-tint: $foreground 0%; }
    RunbookScreen #runbook-body { width: 1fr; padding: 0 1 0 0; }
    RunbookScreen #runbook-hint { color: $text-muted; width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="runbook.close"),
        Binding("q", "close", "Close", show=False, id="runbook.close2"),
        Binding("r", "reload", "Read again", tooltip="Read the files again (after editing)", id="runbook.reload"),
        Binding("j", "scroll_body(1)", "Down", show=False, id="runbook.down"),
        Binding("k", "scroll_body(-1)", "Up", show=False, id="runbook.up"),
    ]

    def __init__(self, codes: Sequence[str], *, context: str = "", loader: RunbookLoader | None = None) -> None:
        super().__init__()
        self.codes: list[str] = list(codes)
        self.context = context
        self._loader = loader
        self.runbook: Runbook | None = None
        """What is shown (``None`` while it is being read)."""
        self.shown_text = ""
        """The shown runbook as plain lines (what a test, or a copy, reads)."""

    @property
    def loader(self) -> RunbookLoader:
        if self._loader is None:
            self._loader = loader_for(cast(ConsoleHost, self.app).settings.runbooks_dir)
        return self._loader

    def compose(self) -> ComposeResult:
        code = self.codes[0] if self.codes else ""
        with Vertical():
            yield Label(self._title(code), id="runbook-title")
            yield Label(Content(clean(self.context, 200)), id="runbook-where")
            with VerticalScroll(id="runbook-scroll"):
                yield Static(Content("Reading the runbook..."), id="runbook-body")
            hint = f"{pick('↑↓', 'up/down')} PgUp PgDn scroll · r read again · escape close"
            yield Label(Content(hint), id="runbook-hint")

    def _title(self, code: str) -> Content:
        return Content(f"Runbook: {clean(code, MAX_CODE_SHOWN)}")

    def on_mount(self) -> None:
        self.query_one("#runbook-scroll", VerticalScroll).focus()
        cached = self.loader.cached_first(self.codes)
        if cached is not None:
            self.show(cached)
        else:
            self._read(forget=False)

    @work(thread=True, exclusive=True, group="runbook", exit_on_error=False)
    def _read(self, forget: bool) -> None:
        """Read the runbook off the UI thread (a folder on a network share may take its time), then show it."""
        codes = self.codes
        try:
            if forget:
                self.loader.forget(codes)
            runbook = self.loader.find_first(codes)
        except Exception as error:  # the loader never raises by design; if it ever does, say so, do not crash
            reason = clean(type(error).__name__, 60)
            runbook = Runbook(codes[0] if codes else "", None, "error", f"# Runbook unreadable\n\n{reason}\n")
        with contextlib.suppress(RuntimeError):  # the app closed meanwhile
            self.app.call_from_thread(self.show, runbook)

    def show(self, runbook: Runbook) -> None:
        """Draw ``runbook`` (plain, cleaned text) and say where it came from."""
        if not self.is_attached:
            return
        self.runbook = runbook
        blocks = parse_blocks(runbook.text)
        self.shown_text = "\n".join(clean_multiline(line) for line in plain_lines(blocks, bullet=pick("•", "-")))
        self.query_one("#runbook-title", Label).update(self._title(runbook.code))
        self.query_one("#runbook-where", Label).update(Content(self._where(runbook)))
        self.query_one("#runbook-body", Static).update(render_blocks(blocks))

    def _where(self, runbook: Runbook) -> str:
        origin = {
            "site": f"from {runbook.path}",
            "builtin": "built-in runbook",
            "missing": "no runbook",
            "invalid": "not a runbook name",
            "error": "unreadable",
        }[runbook.origin]
        parts = [clean(self.context, 120)] if self.context else []
        parts.append(clean(origin, 120))
        if runbook.truncated:
            parts.append("cut at 64 KB")
        return " · ".join(parts)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.query_one("#runbook-body", Static).update(Content("Reading the runbook..."))
        self._read(forget=True)

    def action_scroll_body(self, lines: int) -> None:
        self.query_one("#runbook-scroll", VerticalScroll).scroll_relative(y=lines, animate=False)


def open_runbook(screen: Screen[Any], codes: Sequence[str | None], *, context: str = "") -> None:
    """Push the runbook of the first of ``codes`` that has one (empty ones skipped); say so when there is none."""
    wanted = [code for code in dict.fromkeys(codes) if code]
    if not wanted:
        screen.app.notify("No alert or fault code here to look up a runbook for", timeout=3)
        return
    screen.app.push_screen(RunbookScreen(wanted, context=context))
