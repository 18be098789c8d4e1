"""The switch benchmark's judge: a screen counts as drawn only when all of its marks are on screen at once."""

from __future__ import annotations

from benchmarks.bench_switch import shows
from benchmarks.terminal import Screen


def _screen(*lines: str) -> Screen:
    screen = Screen(120, 8)
    screen.feed("\r\n".join(lines).encode())
    return screen


def test_a_list_with_headings_but_no_rows_is_not_drawn_yet() -> None:
    footer = " ? Help  q Quit  p Pause/Resume  x Cancel  r Reroute  T Timeline"
    headings = "  Job      Status      Machine              Node"
    row = "  J-10330  · queued    -                    backlog"
    assert not shows(_screen("header", headings, "", footer), "jobs")
    assert shows(_screen("header", headings, row, footer), "jobs")
    assert not shows(_screen("header", headings, row), "jobs"), "the footer keys tell the screen has switched"


def test_the_palette_is_drawn_with_its_first_hit() -> None:
    assert not shows(_screen("  🔎 Search for commands…", "", "", ""), "palette")
    assert shows(_screen("  🔎 Search for commands…", "", "", "  Dashboard: Ack"), "palette")
