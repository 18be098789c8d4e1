"""The input loop waits on the terminal only as long as a pending escape needs (console.terminal_input): a lone
``escape`` is reported when ``ESCDELAY`` is up, not at the next 100 ms tick of Textual's loop."""

from __future__ import annotations

import os
import threading
from types import SimpleNamespace
from typing import Any

from textual import events

from console.terminal_input import IDLE_WAIT_S, next_wait, run_input_loop


def test_the_wait_is_what_the_pending_escape_still_needs() -> None:
    assert next_wait(SimpleNamespace(_timeout_time=None), 10.0) == IDLE_WAIT_S
    assert abs(next_wait(SimpleNamespace(_timeout_time=10.03), 10.0) - 0.03) < 1e-9
    assert next_wait(SimpleNamespace(_timeout_time=9.0), 10.0) == 0.0  # overdue: look at once
    assert next_wait(SimpleNamespace(_timeout_time=99.0), 10.0) == IDLE_WAIT_S  # never longer than Textual's


def test_the_loop_reports_a_lone_escape_and_the_keys_after_it_then_stops() -> None:
    read_end, write_end = os.pipe()
    got: list[Any] = []
    done = threading.Event()

    def process_message(message: Any) -> None:
        got.append(message)
        if isinstance(message, events.Key) and message.key == "x":
            driver.exit_event.set()
            done.set()

    driver = SimpleNamespace(fileno=read_end, _debug=False, exit_event=threading.Event())
    driver.process_message = process_message
    thread = threading.Thread(target=run_input_loop, args=(driver,), daemon=True)
    thread.start()
    os.write(write_end, b"\x1b")  # a lone escape: only its wait tells it from a sequence's start
    for _ in range(1000):  # at most ~10 s, however slow the machine: the claim is that it comes, not how fast
        if any(isinstance(m, events.Key) and m.key == "escape" for m in got):
            break
        assert thread.is_alive()
        threading.Event().wait(0.01)
    os.write(write_end, b"x")
    assert done.wait(10)
    thread.join(10)
    assert not thread.is_alive()
    os.close(write_end)
    os.close(read_end)
    assert [m.key for m in got if isinstance(m, events.Key)] == ["escape", "x"]
