"""Names you can tell apart: a cut name keeps its distinguishing end, and the id stands beside it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from widgets.safe_text import clean, fit_middle, id_and_name

NAMES = ["Leeds Bambu Lab X1E #1", "Leeds Bambu Lab X1E #2", "Leeds Bambu Lab X1E #3"]


def test_alike_names_stay_apart_when_cut() -> None:
    for width in (9, 12, 15, 20):
        shown = {fit_middle(name, width) for name in NAMES}
        assert len(shown) == len(NAMES), (width, shown)
        assert all(s.rstrip().endswith(name[-2:]) for s, name in zip(sorted(shown), NAMES, strict=True))


def test_the_id_is_whole_beside_the_name() -> None:
    assert id_and_name("M-LDS-01", "Leeds Bambu Lab X1E #1", 15) == "M-LDS-01 Lee…#1"
    assert id_and_name("M-LDS-01", "Leeds Bambu Lab X1E #1", 40).startswith("M-LDS-01 Leeds Bambu Lab X1E #1")
    assert id_and_name("M-LDS-01", "Leeds Bambu Lab X1E #1", 10) == "M-LDS-01  "  # too narrow: the id alone


@given(st.text(max_size=60), st.integers(min_value=0, max_value=80))
def test_fit_middle_is_always_exactly_the_width_and_inert(text: str, width: int) -> None:
    shown = fit_middle(text, width)
    assert cell_len(shown) == width
    assert clean(shown) == shown  # nothing a terminal would act on


@given(st.text(min_size=1, max_size=20), st.text(max_size=60), st.integers(min_value=0, max_value=80))
def test_id_and_name_is_always_exactly_the_width_and_inert(ident: str, name: str, width: int) -> None:
    shown = id_and_name(ident, name, width)
    assert cell_len(shown) == width
    assert clean(shown) == shown
