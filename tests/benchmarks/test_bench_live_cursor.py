"""How the live benchmark finds the cursor on an emulated screen: by the colour of the tile of the machine the queue
panel names, and the machine under that colour wherever the sort has put it (issue 15: the demo mix moves machines,
and the cursor with its machine, several times a second)."""

from __future__ import annotations

from benchmarks.live_cursor import cursor_colour, cursor_machine, tile_of
from benchmarks.terminal import Screen

CURSOR = b"\x1b[48;2;63;106;152m"
TILE = b"\x1b[48;2;29;33;37m"


def screen_with_cursor_on(column: int, queue_of: str = "M-B2") -> Screen:
    """Two rows of three tiles (name, state lines), the cursor's colour on tile ``column`` of the second row, and the
    queue panel at column 60 naming ``queue_of``."""
    screen = Screen(80, 8)
    names = [["M-A1", "M-A2", "M-A3"], ["M-B1", "M-B2", "M-B3"]]
    data = b""
    for row, ids in enumerate(names):
        for col, machine_id in enumerate(ids):
            colour = CURSOR if (row, col) == (1, column) else TILE
            for line, text in enumerate((f"{machine_id} Leeds Prusa", "running   J-1")):
                data += f"\x1b[{row * 3 + line + 1};{col * 20 + 1}H".encode() + colour + text.ljust(19).encode()
    data += b"\x1b[0m\x1b[1;61H" + f"Queue of {queue_of} (2)".encode()
    screen.feed(data)
    return screen


def test_the_cursor_is_found_by_the_queue_machines_colour() -> None:
    screen = screen_with_cursor_on(1)
    colour = cursor_colour(screen)
    assert colour == "#3f6a98"
    assert cursor_machine(screen, colour) == ("M-B2", 3, 20)


def test_the_cursor_is_followed_wherever_it_is() -> None:
    colour = cursor_colour(screen_with_cursor_on(1))
    assert colour is not None
    assert cursor_machine(screen_with_cursor_on(2), colour) == ("M-B3", 3, 40)
    assert cursor_machine(screen_with_cursor_on(0), colour) == ("M-B1", 3, 0)


def test_no_colour_when_the_queue_machine_looks_like_the_others() -> None:
    # The queue names a machine whose tile is not highlighted: nothing tells the cursor apart.
    assert cursor_colour(screen_with_cursor_on(2, queue_of="M-A1")) is None


def test_a_tile_is_found_in_the_grid_not_in_the_panels() -> None:
    screen = screen_with_cursor_on(1)
    assert tile_of(screen, "M-B2") == (3, 20)
    assert tile_of(screen, "M-Z9") is None
