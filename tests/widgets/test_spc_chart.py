"""The SPC chart's points and its caption come from one computation, and the caption names rules in words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.api.models import SpcSeries
from console.rules import RULE_WORDS, rule_breaks, rules_of
from tests.widgets.harness import WidgetApp, screen_lines
from widgets.spc_chart import SpcChart, caption_text, chart_marks


def series(values: list[float], violations: list[str] | None = None, cpk: float | None = 1.5) -> SpcSeries:
    # centre 10, sigma 0.01 (UCL/LCL at 3 sigma)
    return SpcSeries(
        characteristic="bore",
        unit="mm",
        nominal=10.0,
        lsl=9.9,
        usl=10.1,
        lcl=9.97,
        ucl=10.03,
        values=values,
        violations=violations or [],
        cpk=cpk,
    )


# Eight points in a row above the centre (rule 4): drawn as crosses although the server reports nothing now.
HISTORY = [10.005] * 8 + [10.0, 9.995, 10.0, 10.002, 9.998, 10.0]


async def test_marked_points_are_named_in_the_caption_even_when_the_server_reports_none() -> None:
    app = WidgetApp(SpcChart(series(HISTORY)))
    async with app.run_test(size=(100, 14)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert "✖" in text
        assert "no rule violations" not in text
        assert "Western Electric rule 4: 8 in a row on one side (1 point)" in lines[13]


async def test_the_title_says_what_the_cpk_earns() -> None:
    for cpk, word in ((0.83, "poor"), (1.2, "marginal"), (1.5, "ok")):
        app = WidgetApp(SpcChart(series([10.0, 10.01, 9.99], cpk=cpk)))
        async with app.run_test(size=(100, 14)) as pilot:
            await pilot.pause()
            assert f"Cpk {cpk:.2f} {word}" in screen_lines(app)[0]


async def test_a_clean_chart_says_no_rule_violations() -> None:
    app = WidgetApp(SpcChart(series([10.0, 10.005, 9.995] * 4)))
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "✖" not in text and "no rule violations" in text


def test_a_rule_only_the_server_reports_is_not_hidden() -> None:
    caption, broken = caption_text(series([10.0] * 3, ["we2", "we7"]), {})
    assert broken
    assert caption == (
        "Western Electric rule 2: 2 of 3 beyond 2 sigma (reported by the server, no point drawn); "
        "we7 (reported by the server, no point drawn)"
    )


def test_marks_only_among_the_points_shown() -> None:
    values = [10.05] + [10.0, 9.999] * 10  # one point beyond 3 sigma, long ago
    assert chart_marks(series(values)) == {0: frozenset({"we1"})}
    assert chart_marks(series(values), shown=10) == {}


@given(
    st.lists(st.floats(min_value=9.9, max_value=10.1, allow_nan=False), max_size=40),
    st.integers(min_value=1, max_value=60),
)
def test_caption_names_exactly_the_rules_of_the_marked_points(values: list[float], shown: int) -> None:
    s = series(values)
    marks = chart_marks(s, shown)
    caption, broken = caption_text(s, marks)
    assert broken == bool(marks)
    assert (caption == "no rule violations") == (not marks)
    named = {code for code, words in RULE_WORDS.items() if words in caption}
    assert named == set(rules_of(marks))
    assert all(code not in caption for code in RULE_WORDS)  # words, never the codes
    first = max(0, len(values) - shown)
    assert set(marks) == {i for i in rule_breaks(values, 10.0, 0.03 / 3) if i >= first} or not values
