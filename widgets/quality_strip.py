"""One line of cluster quality: OEE with availability/performance/quality, first-pass yield, scrap rate and a sparkline.

Normal values stay calm; a value below its target (or scrap above its limit) is coloured *and* marked with ``▼``
(or ``▲`` for scrap), so the cue does not rely on colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from console.api.models import Quality
from widgets._styles import part_styles
from widgets.glyphs import ascii_only
from widgets.safe_text import clean, fit

__all__ = ["QualityStrip", "QualityTargets", "sparkline"]

_BLOCKS = "▁▂▃▄▅▆▇█"
_ASCII_BLOCKS = "_.-=+*#@"


def sparkline(values: Sequence[float], width: int, low: float = 0.0, high: float = 1.0) -> str:
    """The last ``width`` values as block characters scaled between ``low`` and ``high`` (``▁▂▃▅▇``)."""
    blocks = _ASCII_BLOCKS if ascii_only() else _BLOCKS
    values = list(values)[-width:] if width > 0 else []
    span = (high - low) or 1.0
    out = []
    for value in values:
        level = int((min(high, max(low, value)) - low) / span * (len(blocks) - 1) + 0.5)
        out.append(blocks[level])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class QualityTargets:
    """Below these (or above ``scrap_rate``) a value is flagged."""

    oee: float = 0.65
    availability: float = 0.85
    performance: float = 0.85
    quality_rate: float = 0.95
    first_pass_yield: float = 0.9
    scrap_rate: float = 0.05


class QualityStrip(Widget):
    """``OEE 8h 72.4% (A 91% P 85% Q 94%)  FPY 93.0%  scrap 2.1%  ▂▃▅▆▅▇`` in one line: the OEE's window (the
    record's ``window_h``) is stated, so the figure says what it covers."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"quality-strip--label", "quality-strip--value", "quality-strip--low"}

    DEFAULT_CSS = """
    QualityStrip { height: 1; background: $background; color: $state-normal; }
    QualityStrip > .quality-strip--label { color: $text-muted; }
    QualityStrip > .quality-strip--value { color: $state-normal; }
    QualityStrip > .quality-strip--low { color: $alarm-high; text-style: $alarm-high-style; }
    """

    def __init__(
        self,
        *,
        targets: QualityTargets | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.targets = targets or QualityTargets()
        self.quality: Quality | None = None
        self.history: list[float] = []
        self.per_cluster: list[tuple[str, Quality]] = []
        """Several clusters: each cluster's own figures, by name (no one cluster's are shown as everyone's)."""

    def set_quality(
        self,
        quality: Quality | None,
        history: Sequence[float] | None = None,
        per_cluster: Sequence[tuple[str, Quality]] = (),
    ) -> None:
        """Show ``quality`` (cluster scope, usually) and, if given, recent OEE values (oldest first) as a sparkline.
        With no ``quality`` and several clusters, ``per_cluster``: each cluster's OEE and first-pass yield."""
        self.quality = quality
        self.per_cluster = list(per_cluster)
        if history is not None:
            self.history = list(history)
        self.refresh()

    def render(self) -> Text:
        styles = part_styles(self, self.COMPONENT_CLASSES, "quality-strip--")
        label, value, low = styles["label"], styles["value"], styles["low"]
        width = max(1, self.content_region.width)
        q = self.quality
        out = Text(no_wrap=True, end="", overflow="ellipsis")
        t = self.targets
        down, up = ("v", "^") if ascii_only() else ("▼", "▲")
        if q is None and self.per_cluster:
            for index, (cluster, cq) in enumerate(self.per_cluster):
                out.append(("" if index == 0 else "  │ ") + f"{clean(cluster, 16)} OEE {cq.window_h:g}h ", label)
                below = cq.oee < t.oee
                out.append(f"{cq.oee * 100:.1f}%" + (down if below else ""), low if below else value)
                below = cq.first_pass_yield < t.first_pass_yield
                out.append(" FPY ", label)
                out.append(f"{cq.first_pass_yield * 100:.1f}%" + (down if below else ""), low if below else value)
            out.truncate(width, overflow="ellipsis")
            return out
        if q is None:
            out.append(fit("quality: no data", width), label)
            return out

        def metric(name: str, number: float, below: bool, mark: str, digits: int = 1) -> None:
            out.append(name, label)
            out.append(f"{number * 100:.{digits}f}%" + (mark if below else ""), low if below else value)

        metric(f"OEE {q.window_h:g}h ", q.oee, q.oee < t.oee, down)
        out.append(" (", label)
        metric("A ", q.availability, q.availability < t.availability, down, 0)
        metric(" P ", q.performance, q.performance < t.performance, down, 0)
        metric(" Q ", q.quality_rate, q.quality_rate < t.quality_rate, down, 0)
        out.append(")  ", label)
        metric("FPY ", q.first_pass_yield, q.first_pass_yield < t.first_pass_yield, down)
        out.append("  ", label)
        metric("scrap ", q.scrap_rate, q.scrap_rate > t.scrap_rate, up)
        room = width - out.cell_len - 2
        if self.history and room >= 4:
            out.append("  ")
            recent = self.history[-min(room, 24) :]
            low_end = min(recent)
            high_end = max(max(recent), low_end + 0.1)  # at least 10 points of OEE: noise stays flat
            out.append(sparkline(recent, len(recent), low_end, high_end), value)
        out.truncate(width, overflow="ellipsis")
        return out
