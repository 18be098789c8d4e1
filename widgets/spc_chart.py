"""An SPC control chart for one ``SpcSeries``, drawn with text characters (works from 40x8 upward).

One column per sample (the newest at the right; older samples scroll off when the chart is narrower than the series),
horizontal lines for the specification limits (USL/LSL, solid), the control limits (UCL/LCL, dashed) and the nominal
(dotted), labelled at the right edge. Points that complete a Western Electric rule pattern are drawn as ``✖`` in the
violation style; the rules the *server* reports as broken (``SpcSeries.violations``) are listed under the chart, so
the operator sees them even if the local detection (an approximation from the limits) differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from console.api.models import SpcSeries
from widgets._styles import part_styles
from widgets.charset import ascii_only, pick
from widgets.safe_text import clean, fit

__all__ = ["RULE_NAMES", "SpcChart", "rule_breaking_points"]

RULE_NAMES: dict[str, str] = {
    "we1": "1 point beyond 3σ",
    "we2": "2 of 3 beyond 2σ",
    "we3": "4 of 5 beyond 1σ",
    "we4": "8 in a row on one side",
}

_LABEL_WIDTH = 11


def rule_breaking_points(values: Sequence[float], centre: float, sigma: float) -> set[int]:
    """Indices of points that complete a Western Electric rule pattern (we1..we4), given the centre and sigma."""
    marked: set[int] = set()
    if sigma <= 0:
        return marked
    half = sigma / 2
    if not half > 0 or not math.isfinite(half):
        return marked
    z = [(v / 2 - centre / 2) / half for v in values]
    for i, zi in enumerate(z):
        if abs(zi) > 3:
            marked.add(i)
        for side in (1, -1):
            if side * zi > 2 and i >= 2 and sum(1 for zj in z[i - 2 : i + 1] if side * zj > 2) >= 2:
                marked.add(i)
            if side * zi > 1 and i >= 4 and sum(1 for zj in z[i - 4 : i + 1] if side * zj > 1) >= 4:
                marked.add(i)
            if i >= 7 and all(side * zj > 0 for zj in z[i - 7 : i + 1]):
                marked.add(i)
    return marked


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
        self._plot(out, series, width, plot_rows, styles)
        out.append("\n")
        if series.violations:
            names = ", ".join(
                f"{clean(v, 12)} ({RULE_NAMES[v]})" if v in RULE_NAMES else clean(v, 24) for v in series.violations
            )
            out.append(fit(("X " if ascii_only() else "✖ ") + names, width), styles["violation"])
        else:
            out.append(fit("no rule violations", width), styles["muted"])
        return out

    def _title(self, out: Text, series: SpcSeries, width: int, styles: dict[str, Style]) -> None:
        cpk = f"Cpk {pick('–', '-')}" if series.cpk is None else f"Cpk {series.cpk:.2f}"
        head = f"{clean(series.characteristic, 40)} [{clean(series.unit, 10)}]"
        tail = f"  {cpk}  n={len(series.values)}"
        out.append(fit(head, max(1, width - len(tail))), styles["title"])
        low_cpk = series.cpk is not None and series.cpk < 1.33
        out.append(tail, styles["violation"] if low_cpk else styles["muted"])
        out.append("\n")

    def _plot(self, out: Text, series: SpcSeries, width: int, rows: int, styles: dict[str, Style]) -> None:
        plot_width = max(1, width - _LABEL_WIDTH - 1)
        values = series.values[-plot_width:]
        offset = len(series.values) - len(values)
        # Halves everywhere: a server may send any finite float, and (1.7e308 - -1.7e308) is infinity.
        centre = series.ucl / 2 + series.lcl / 2
        sigma = series.ucl / 6 - series.lcl / 6
        breaking = {i - offset for i in rule_breaking_points(series.values, centre, sigma) if i >= offset}
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
