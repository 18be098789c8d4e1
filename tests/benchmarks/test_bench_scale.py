"""The scale benchmark's filter judge: the grid is filtered only when every tile it shows is an idle machine's, and
the queue panel's job statuses (which share words with machine states) do not count."""

from __future__ import annotations

from benchmarks.bench_scale import grid_states, only_wanted
from benchmarks.terminal import Screen

BAR_IDLE = "·········"
BAR_BUSY = "██▌░░░░░░"


def _screen(*lines: str) -> Screen:
    screen = Screen(120, 8)
    screen.feed("\r\n".join(lines).encode())
    return screen


def test_tiles_of_other_states_are_not_filtered() -> None:
    mixed = _screen(
        " M-1 Leeds X1E #1  FDM   M-2 Leeds X1E #2  FDM      Queue of M-1 Leeds X1E #1 (1)",
        f" ✖ fault        {BAR_BUSY}  29%  ○ idle         {BAR_IDLE}   –      J-1  ▶ running  clip",
    )
    assert grid_states(mixed) == ["fault", "idle"]
    assert not only_wanted(mixed)


def test_only_idle_tiles_is_filtered_whatever_the_queue_panel_says() -> None:
    idle = _screen(
        " M-1 Leeds X1E #1  FDM   M-2 Leeds X1E #2  FDM      Queue of M-1 Leeds X1E #1 (1)",
        f" ○ idle         {BAR_IDLE}   –   ○ idle         {BAR_IDLE}   –      J-1  ▶ running  clip",
    )
    assert grid_states(idle) == ["idle", "idle"]
    assert only_wanted(idle)


def test_an_empty_grid_is_not_filtered() -> None:
    assert not only_wanted(_screen(" header", "", " filter / state:idle"))
