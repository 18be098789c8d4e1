"""The terminal's input loop, with a lone ``escape`` reported when its wait is up, not up to 100 ms later.

Why: Textual's Linux driver reads keys in a thread that waits on the terminal with ``select(timeout=0.1)`` and only
then asks the parser whether the wait for the rest of an escape sequence (``ESCDELAY``, 100 ms by default) is over.
A lone ``escape`` (back, close a dialog, clear the filter) therefore came ~100 ms after the key whatever ``ESCDELAY``
said: nothing woke the thread sooner (measured in the switch benchmark: "back" p50 ~120 ms, docs/performance.md §8).
This loop is Textual's own (``LinuxDriver.run_input_thread``) with one change: it waits at most as long as the
parser's pending escape still needs. With it, ``ESCDELAY`` means what it says; the console's default is
:data:`DEFAULT_ESCAPE_DELAY_MS` (Neovim's ``ttimeoutlen``) where the environment does not set one. A key's sequence
is written in one write and arrives in one read, over SSH too; one split by more than the delay reads as ``escape``
and then the rest as keys (``A`` after ``[`` acknowledges all shown alerts, which asks first).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from typing import Any

from textual import constants
from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser

__all__ = ["DEFAULT_ESCAPE_DELAY_MS", "IDLE_WAIT_S", "apply_escape_delay_default", "run_input_loop"]

DEFAULT_ESCAPE_DELAY_MS = 50
IDLE_WAIT_S = 0.1
"""How long one wait on the terminal lasts with nothing pending (Textual's; the loop looks at its exit flag then)."""


def apply_escape_delay_default() -> None:
    """``ESCDELAY`` from the environment as Textual reads it, else :data:`DEFAULT_ESCAPE_DELAY_MS`."""
    if "ESCDELAY" not in os.environ:
        constants.ESCAPE_DELAY = DEFAULT_ESCAPE_DELAY_MS / 1000.0  # type: ignore[misc]  # read at each escape


def next_wait(parser: Any, now: float) -> float:
    """How long to wait on the terminal: :data:`IDLE_WAIT_S`, or less while the parser waits out an escape."""
    due = getattr(parser, "_timeout_time", None)
    if due is None:
        return IDLE_WAIT_S
    return min(IDLE_WAIT_S, max(0.0, float(due) - now))


def run_input_loop(driver: Any) -> None:
    """Textual's ``LinuxDriver.run_input_thread`` with the wait of :func:`next_wait` (see the module docstring)."""
    selector = selectors.SelectSelector()
    selector.register(driver.fileno, selectors.EVENT_READ)
    fileno = driver.fileno
    parser = XTermParser(driver._debug)
    feed, tick = parser.feed, parser.tick
    decode = getincrementaldecoder("utf-8")().decode
    read = os.read

    def process(selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
        for last, (_key, mask) in loop_last(selector_events):
            if mask & selectors.EVENT_READ:
                data = decode(read(fileno, 1024 * 4), final=final and last)
                if not data:
                    break  # stdin piped and closed
                for event in feed(data):
                    driver.process_message(event)
        for event in tick():
            driver.process_message(event)

    try:
        while not driver.exit_event.is_set():
            process(selector.select(next_wait(parser, get_time())))
        selector.unregister(fileno)
        process(selector.select(IDLE_WAIT_S), final=True)
    finally:
        selector.close()
        try:
            for _event in feed(""):
                pass
        except (EOFError, ParseError):
            pass
