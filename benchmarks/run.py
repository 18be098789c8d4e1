"""Run the benchmarks: ``python -m benchmarks.run [--quick] [names...]`` (``make bench``, ``make bench-quick``).

Each benchmark prints its table and writes ``benchmarks/results/<name>.json``. They run one after another, never in
parallel, so that no benchmark's CPU figures include another's work. ``--quick`` uses smaller windows and fewer
repetitions (all of them in about two minutes); the figures in ``docs/performance.md`` come from full runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Sequence

BENCHMARKS: dict[str, str] = {
    "ingest": "benchmarks.bench_ingest",
    "grid": "benchmarks.bench_grid",
    "memory": "benchmarks.bench_memory",
    "start": "benchmarks.bench_start",
    "idle": "benchmarks.bench_idle",
    "bytes": "benchmarks.bench_bytes",
    "live": "benchmarks.bench_live",
    "switch": "benchmarks.bench_switch",
    "recording": "benchmarks.bench_recording",
    "status": "benchmarks.bench_status",
    "scale": "benchmarks.bench_scale",
    "sparkplug": "benchmarks.bench_sparkplug",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller windows and fewer repetitions (~2 minutes)")
    parser.add_argument("names", nargs="*", metavar="name", help="any of: " + ", ".join(BENCHMARKS) + " (default: all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    failed: list[str] = []
    missed: list[str] = []
    started = time.perf_counter()
    for name in names:
        print(f"\n=== {name} {'(quick)' if args.quick else ''}", flush=True)
        begun = time.perf_counter()
        try:
            result = importlib.import_module(BENCHMARKS[name]).run(quick=args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        missed += [f"{name}: {t.name}" for t in result.get("targets", []) if getattr(t, "met", None) is False]
        print(f"  ({time.perf_counter() - begun:.1f} s)", flush=True)
    print(f"\n{len(names)} benchmark(s) in {time.perf_counter() - started:.0f} s; results in benchmarks/results/")
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed))
    if failed:
        print(f"failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
