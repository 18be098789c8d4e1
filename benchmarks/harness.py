"""What every benchmark shares: the machine it ran on, result files, tables, targets, and process probes.

Why one module: every result file must say the same things the same way (the machine, Python and package versions,
the git commit, quick or full), so figures from different runs can be compared, and every benchmark judges its
targets the same way (``met`` is a plain comparison of the measured value against the target, never tuned).

Process probes read ``/proc`` directly (psutil is not a dependency): CPU time from ``/proc/<pid>/stat`` (utime +
stime, in clock ticks) and resident memory from ``/proc/<pid>/status`` (``VmRSS``).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "REPO",
    "RESULTS_DIR",
    "Target",
    "cpu_seconds",
    "environment",
    "method_of",
    "percentile",
    "print_table",
    "rss_bytes",
    "write_result",
]

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
PACKAGES = ("textual", "rich", "pydantic", "pydantic-core", "httpx", "httpx-sse", "fastapi", "uvicorn", "starlette")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Target:
    """One target of the issue: ``measured <= limit`` (or ``>=`` when ``higher_is_better``)."""

    name: str
    limit: float
    measured: float | None
    unit: str = ""
    higher_is_better: bool = False
    note: str = ""
    met: bool | None = field(default=None)

    def __post_init__(self) -> None:
        if self.measured is None:
            self.met = None
        elif self.higher_is_better:
            self.met = self.measured >= self.limit
        else:
            self.met = self.measured <= self.limit

    def row(self) -> list[str]:
        sign = ">=" if self.higher_is_better else "<="
        measured = (
            "n/a"
            if self.measured is None
            else f"{self.measured:,.3g}"
            if abs(self.measured) < 100
            else (f"{self.measured:,.0f}")
        )
        verdict = {True: "met", False: "MISSED", None: "not measured"}[self.met]
        return [self.name, f"{sign} {self.limit:,g} {self.unit}".rstrip(), f"{measured} {self.unit}".rstrip(), verdict]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment() -> dict[str, Any]:
    """The machine and software a result was measured on."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_total_mb": _mem_total_mb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": versions,
        "git_commit": _git_commit(),
    }


def write_result(name: str, result: dict[str, Any], *, quick: bool, directory: Path | None = None) -> Path:
    """Write ``benchmarks/results/<name>.json``: the result with the environment and when it ran."""
    directory = directory or RESULTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    targets = [asdict(t) if isinstance(t, Target) else t for t in result.get("targets", [])]
    document = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "command": f"python -m benchmarks.run {'--quick ' if quick else ''}{name}",
        "environment": environment(),
        **{k: v for k, v in result.items() if k != "targets"},
        "targets": targets,
    }
    path = directory / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table on stdout (right-aligned numbers, left-aligned text)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        line = "  ".join(c.rjust(w) if n and _is_number(c) else c.ljust(w) for c, w in zip(row, widths, strict=True))
        print("  " + line.rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def print_targets(targets: Sequence[Target]) -> None:
    if targets:
        print_table("targets", ["target", "limit", "measured", "verdict"], [t.row() for t in targets])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").replace("x", "").replace("%", "").isdigit()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (its threads included; children not)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; fields after the closing parenthesis are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default)."""
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def python_executable() -> str:
    """The interpreter running the benchmarks (the project venv's, under ``make bench``)."""
    return sys.executable


def now() -> float:
    return time.perf_counter()


def method_of(doc: str | None) -> str:
    """A benchmark module's docstring without its title line: how it measures, for the result file."""
    return (doc or "").split("\n\n", 1)[-1].strip()
