"""An SPC control chart for one ``SpcSeries``, drawn with text characters (works from 40x8 upward).

One column per sample (the newest at the right; older samples scroll off when the chart is narrower than the series),
horizontal lines for the specification limits (USL/LSL, solid), the control limits (UCL/LCL, dashed) and the nominal
(dotted), labelled at the right edge. Points that complete a Western Electric rule pattern are drawn as ``✖`` in the
violation style. The caption under the chart names, in words, exactly the rules of the marked points (one
computation: :func:`chart_marks`), then any rule the *server* reports (``SpcSeries.violations``) that no drawn point
shows: the picture and the words never contradict each other, and the server's word is never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from console.api.models import SpcSeries
from console.rules import RULE_WORDS, cpk_status, rule_breaks, rule_words, rules_of
from widgets._styles import part_styles
from widgets.charset import ascii_only, pick
from widgets.safe_text import clean, fit

__all__ = ["RULE_NAMES", "SpcChart", "caption_text", "chart_marks", "rule_breaking_points"]

RULE_NAMES: dict[str, str] = RULE_WORDS

_LABEL_WIDTH = 11


def rule_breaking_points(values: Sequence[float], centre: float, sigma: float) -> set[int]:
    """Indices of points that complete a Western Electric rule pattern (we1..we4), given the centre and sigma."""
    return set(rule_breaks(values, centre, sigma))


def chart_marks(series: SpcSeries, shown: int | None = None) -> dict[int, frozenset[str]]:
    """The marked points of ``series`` (index in ``values``: the rules each completes), judged on the chart's own
    limits (centre between UCL and LCL, sigma a sixth of their distance), among the newest ``shown`` points (all when
    ``None``). The chart draws these points and its caption names these rules: one computation for both."""
    # Halves everywhere: a server may send any finite float, and (1.7e308 - -1.7e308) is infinity.
    centre = series.ucl / 2 + series.lcl / 2
    sigma = series.ucl / 6 - series.lcl / 6
    marks = rule_breaks(series.values, centre, sigma)
    first = 0 if shown is None else max(0, len(series.values) - shown)
    return {i: rules for i, rules in marks.items() if i >= first}


def caption_text(series: SpcSeries, marks: Mapping[int, frozenset[str]]) -> tuple[str, bool]:
    """The line under the chart and whether it reports a violation: the rules of the marked points in words (with
    how many points), then any rule the server reports that no drawn point shows; ``no rule violations`` only when
    neither has any."""
    drawn = rules_of(marks)
    parts = []
    for rule in drawn:
        count = sum(1 for rules in marks.values() if rule in rules)
        parts.append(f"{rule_words(rule)} ({count} {'point' if count == 1 else 'points'})")
    for code in dict.fromkeys(v for v in series.violations if v not in drawn):
        parts.append(f"{clean(rule_words(code), 60)} (reported by the server, no point drawn)")
    if not parts:
        return "no rule violations", False
    return "Western Electric " + "; ".join(parts), True


def _row_mapper(low: float, high: float, rows: int) -> Callable[[float], int]:
    """Map a value to its chart row (0 at the top), with a 5 % margin above and below, for any finite floats.

    The usual span is computed as it always was (so rows land where operators are used to); a span too wide for a
    float (+/-1.7e308: infinite) is computed on halves instead. Clamped, so a value always lands on a row of the
    chart however the limits and the data disagree.
    """
    last = rows - 1
    span = high - low
    if math.isfinite(span) and math.isfinite(span * 1.1):
        span = span or 1.0
        top, bottom = high + span * 0.05, low - span * 0.05

        def row_of(value: float) -> int:
            row = round((top - value) / (top - bottom) * last)
            return min(last, max(0, row))

        return row_of
    half_span = high / 2 - low / 2

    def row_of_halves(value: float) -> int:
        if not half_span > 0:
            return last // 2
        fraction = (high / 2 - value / 2) / half_span
        if not math.isfinite(fraction):
            return last // 2
        return min(last, max(0, round((fraction + 0.05) / 1.1 * last)))

    return row_of_halves


class SpcChart(Widget):
    """The control chart of one characteristic. Set :attr:`series` with :meth:`set_series`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "spc-chart--title",
        "spc-chart--data",
        "spc-chart--violation",
        "spc-chart--limit",
        "spc-chart--spec",
        "spc-chart--centre",
        "spc-chart--muted",
    }

    DEFAULT_CSS = """
    SpcChart { height: 1fr; min-height: 8; min-width: 40; background: $background; color: $state-normal; }
    SpcChart > .spc-chart--title { color: $foreground; text-style: bold; }
    SpcChart > .spc-chart--data { color: $spc-data; }
    SpcChart > .spc-chart--violation { color: $alarm-critical; text-style: bold; }
    SpcChart > .spc-chart--limit { color: $spc-limit; }
    SpcChart > .spc-chart--spec { color: $spc-spec; }
    SpcChart > .spc-chart--centre { color: $spc-centre; }
    SpcChart > .spc-chart--muted { color: $text-muted; }
    """

    def __init__(
        self,
        series: SpcSeries | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.series = series

    def set_series(self, series: SpcSeries | None) -> None:
        self.series = series
        self.refresh()

    def render(self) -> Text:
        width, height = self.content_region.size
        width, height = max(width, 20), max(height, 4)
        styles = part_styles(self, self.COMPONENT_CLASSES, "spc-chart--")
        series = self.series
        out = Text(no_wrap=True, end="")
        if series is None:
            out.append("No SPC data", styles["muted"])
            return out
        self._title(out, series, width, styles)
        plot_rows = max(2, height - 2)
        marks = chart_marks(series, max(1, width - _LABEL_WIDTH - 1))
        self._plot(out, series, width, plot_rows, styles, marks)
        out.append("\n")
        caption, broken = caption_text(series, marks)
        if len(caption) + 2 > width:  # narrow: the rules themselves matter more than whose rules they are
            caption = caption.removeprefix("Western Electric ")
        if broken:
            out.append(fit(("X " if ascii_only() else "✖ ") + caption, width), styles["violation"])
        else:
            out.append(fit(caption, width), styles["muted"])
        return out

    def _title(self, out: Text, series: SpcSeries, width: int, styles: dict[str, Style]) -> None:
        status = cpk_status(series.cpk)
        cpk = f"Cpk {pick('–', '-')}" if status == "unknown" or series.cpk is None else f"Cpk {series.cpk:.2f} {status}"
        head = f"{clean(series.characteristic, 40)} [{clean(series.unit, 10)}]"
        tail = f"  {cpk}  n={len(series.values)}"
        out.append(fit(head, max(1, width - len(tail))), styles["title"])
        out.append(tail, styles["violation"] if status in ("marginal", "poor") else styles["muted"])
        out.append("\n")

    def _plot(
        self,
        out: Text,
        series: SpcSeries,
        width: int,
        rows: int,
        styles: dict[str, Style],
        marks: Mapping[int, frozenset[str]],
    ) -> None:
        plot_width = max(1, width - _LABEL_WIDTH - 1)
        values = series.values[-plot_width:]
        offset = len(series.values) - len(values)
        breaking = {i - offset for i in marks if i >= offset}
        lines = [
            (series.usl, "USL", "spec", "─"),
            (series.ucl, "UCL", "limit", "┄"),
            (series.nominal, "NOM", "centre", "·"),
            (series.lcl, "LCL", "limit", "┄"),
            (series.lsl, "LSL", "spec", "─"),
        ]
        row_of = _row_mapper(min([*values, *(v for v, *_ in lines)]), max([*values, *(v for v, *_ in lines)]), rows)

        # Per row: the line it carries (the first listed wins: spec over control over nominal) and its label.
        row_line: dict[int, tuple[str, str]] = {}
        row_label: dict[int, str] = {}
        for value, label, style, char in lines:
            r = row_of(value)
            if ascii_only():
                char = "-" if style != "centre" else "."
            row_line.setdefault(r, (style, char))
            text = f"{label} {value:.4g}"
            row_label[r] = f"{row_label[r]}/{label}" if r in row_label else text
        points = {i: row_of(v) for i, v in enumerate(values)}
        pad = plot_width - len(values)  # the newest sample sits at the right edge
        dot, cross = ("*", "X") if ascii_only() else ("•", "✖")
        for r in range(rows):
            line_style, line_char = row_line.get(r, ("", " "))
            base = styles[line_style] if line_style else Style.null()
            run: list[str] = []
            for col in range(plot_width):
                i = col - pad
                if i >= 0 and points[i] == r:
                    if run:
                        out.append("".join(run), base)
                        run = []
                    if i in breaking:
                        out.append(cross, styles["violation"])
                    else:
                        out.append(dot, styles["data"])
                else:
                    run.append(line_char)
            if run:
                out.append("".join(run), base)
            out.append(" ")
            out.append(fit(row_label.get(r, ""), _LABEL_WIDTH), base if line_style else styles["muted"])
            if r < rows - 1:
                out.append("\n")
