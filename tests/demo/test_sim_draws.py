"""``console.demo.sim.draws`` gives exactly what ``random.Random`` gives (the seeded story depends on it)."""

from __future__ import annotations

import random

from console.demo.sim.draws import gauss


def test_gauss_is_the_methods_value_and_leaves_the_same_state() -> None:
    ours, theirs = random.Random(42), random.Random(42)
    for i in range(20_000):
        sigma = (i % 97) * 0.013
        if i % 7 == 0:  # the method itself, interleaved: the spare value is shared
            assert ours.gauss(1.5, sigma) == theirs.gauss(1.5, sigma)
        elif i % 11 == 0:
            assert ours.random() == theirs.random()
        else:
            assert gauss(ours, sigma) == theirs.gauss(0.0, sigma)
    assert ours.getstate() == theirs.getstate()
    assert ours.gauss_next == theirs.gauss_next  # type: ignore[attr-defined]
