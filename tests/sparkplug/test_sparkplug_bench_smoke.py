"""The Sparkplug benchmark's code at toy size (no timing asserted: figures depend on the machine), so it does not rot;
and the plant it plays is what the tests' edge nodes are: births then data, gapless seqs, nothing malformed."""

from __future__ import annotations

from benchmarks import bench_sparkplug
from benchmarks.harness import Target


def test_the_throughput_path_runs_and_applies_every_update() -> None:
    result = bench_sparkplug.throughput(messages=400, repeats=1, progress_every=10)
    assert result["messages"] == 400
    assert result["metric_updates"] == 400 * 5 + 40
    assert result["updates_per_s_median"] > 0 and result["decode_only_updates_per_s"] > 0


def test_the_benchmark_is_listed_and_its_targets_are_plain_comparisons() -> None:
    from benchmarks.run import BENCHMARKS

    assert BENCHMARKS["sparkplug"] == "benchmarks.bench_sparkplug"
    assert Target("x", bench_sparkplug.THROUGHPUT_TARGET, 150_000, higher_is_better=True).met is True
    assert Target("x", bench_sparkplug.CPU_TARGET, 40.0).met is False
