"""Western Electric rules and Cpk on crafted series (the simulation's SPC numbers rest on these)."""

from __future__ import annotations

import pytest

from console.demo.sim import cpk, western_electric


def test_quiet_series_breaks_nothing() -> None:
    values = [10.0, 10.5, 9.6, 10.2, 9.9, 10.4, 9.7, 10.1, 9.8, 10.3]
    assert western_electric(values, 10.0, 1.0) == []


def test_we1_one_point_beyond_three_sigma() -> None:
    assert western_electric([10.0, 10.2, 13.1], 10.0, 1.0) == ["we1"]
    assert western_electric([10.0, 6.9, 10.2], 10.0, 1.0) == ["we1"]
    assert western_electric([10.0, 12.99, 10.2], 10.0, 1.0) == []


def test_we2_two_of_three_beyond_two_sigma_same_side() -> None:
    assert western_electric([10.0, 12.5, 9.5, 12.2], 10.0, 1.0) == ["we2"]
    # one above, one below: not on the same side
    assert western_electric([10.0, 12.5, 7.5, 10.0], 10.0, 1.0) == []


def test_we3_four_of_five_beyond_one_sigma_same_side() -> None:
    assert western_electric([10.0, 11.2, 11.5, 9.0, 11.3, 11.1], 10.0, 1.0) == ["we3"]
    assert western_electric([10.0, 11.2, 11.5, 9.0, 11.3, 9.0], 10.0, 1.0) == []


def test_we4_eight_in_a_row_on_one_side() -> None:
    below = [9.9, 9.5, 9.8, 9.7, 9.6, 9.9, 9.8, 9.95]
    assert western_electric(below, 10.0, 1.0) == ["we4"]
    assert western_electric(below[:7], 10.0, 1.0) == []
    assert western_electric([*below[:4], 10.1, *below[4:]], 10.0, 1.0) == []


def test_several_rules_at_once_in_order() -> None:
    values = [10.5, 10.6, 11.5, 11.6, 12.5, 12.6, 11.4, 13.5]
    assert western_electric(values, 10.0, 1.0) == ["we1", "we2", "we3", "we4"]


def test_recent_only_counts_windows_ending_in_the_newest_points() -> None:
    values = [14.0] + [10.1, 9.9] * 10
    assert western_electric(values, 10.0, 1.0) == ["we1"]
    assert western_electric(values, 10.0, 1.0, recent=10) == []


def test_degenerate_inputs() -> None:
    assert western_electric([], 10.0, 1.0) == []
    assert western_electric([1.0, 2.0], 10.0, 0.0) == []


def test_cpk() -> None:
    values = [9.0, 10.0, 11.0, 10.0, 9.0, 11.0, 10.0]
    mean = 10.0
    s = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    assert cpk(values, 7.0, 14.0) == pytest.approx(min(14.0 - mean, mean - 7.0) / (3 * s), abs=1e-3)
    assert cpk(values[:4], 7.0, 14.0) is None  # too few
    assert cpk([10.0] * 6, 7.0, 14.0) is None  # no spread
    assert cpk([20.0, 21.0, 20.5, 20.2, 20.8], 7.0, 14.0) < 0  # off spec: negative capability
