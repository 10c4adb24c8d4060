"""The count model against brute-force sums of the probability mass functions (math.lgamma),
and the three rules on hand-checkable series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shiyu.warning import countmodel as cm
from shiyu.warning.enums import CountModel


def poisson_tail(x: int, mean: float) -> float:
    return 1.0 - sum(math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(x))


def negbin_tail(x: int, mean: float, var: float) -> float:
    r = mean * mean / (var - mean)
    p = r / (r + mean)
    return 1.0 - sum(
        math.exp(
            math.lgamma(k + r)
            - math.lgamma(r)
            - math.lgamma(k + 1)
            + r * math.log(p)
            + k * math.log1p(-p)
        )
        for k in range(x)
    )


class TestTails:
    @pytest.mark.parametrize(
        ("x", "mean"), [(1, 0.2), (3, 3.0), (9, 1.0), (10, 3.0), (40, 20.0), (100, 80.0)]
    )
    def test_poisson_matches_the_sum_of_the_mass_function(self, x: int, mean: float) -> None:
        assert cm.poisson_sf(x, mean) == pytest.approx(poisson_tail(x, mean), rel=1e-9, abs=1e-15)

    @pytest.mark.parametrize(
        ("x", "mean", "var"), [(3, 3.0, 5.0), (7, 3.0, 9.33), (10, 3.0, 6.0), (40, 20.0, 60.0)]
    )
    def test_negative_binomial_matches_the_sum(self, x: int, mean: float, var: float) -> None:
        assert cm.negbin_sf(x, mean, var) == pytest.approx(
            negbin_tail(x, mean, var), rel=1e-9, abs=1e-15
        )

    def test_zero_count_has_probability_one(self) -> None:
        assert cm.poisson_sf(0, 2.0) == 1.0
        assert cm.negbin_sf(0, 2.0, 5.0) == 1.0


class TestRules:
    rule = cm.SurgeRule()

    def test_a_jump_over_a_steady_baseline_is_a_surge(self) -> None:
        v = cm.judge(9, [1] * 28, self.rule)
        assert v.surge and v.model is CountModel.poisson
        assert v.p_value == pytest.approx(1.1252e-6, rel=1e-3)

    def test_a_noisy_but_normal_day_is_not(self) -> None:
        # 0, 6, 0, 6 …: mean 3, variance 9.33 → negative binomial; 7 is unremarkable there,
        # although Poisson(3) would call it rare (P ≈ 0.034) and it passes both volume rules
        v = cm.judge(7, [6, 0] * 14, self.rule)
        assert v.model is CountModel.negbin
        assert v.p_value == pytest.approx(0.1205, abs=1e-3)
        assert not v.surge

    def test_min_count_stops_small_numbers(self) -> None:
        v = cm.judge(4, [0] * 28, self.rule)
        assert v.p_value < self.rule.alpha  # statistically odd ...
        assert not v.surge  # ... but 4 < min_count 5
        assert cm.judge(5, [0] * 28, self.rule).surge

    def test_min_ratio_stops_small_rises_in_busy_units(self) -> None:
        # mean 100 (Poisson-like): 140 is very unlikely (p ≈ 1e-4) but only 1.4 × the mean
        history = [100, 101, 99, 100] * 7
        v = cm.judge(140, history, self.rule)
        assert v.p_value < self.rule.alpha
        assert not v.surge
        assert cm.judge(140, history, cm.SurgeRule(min_ratio=1.3)).surge


class TestVectorised:
    def test_detect_flags_only_the_surging_series(self) -> None:
        history = np.array([[1] * 28, [6, 0] * 14, [0] * 28], dtype=np.int64)
        today = np.array([9, 7, 4], dtype=np.int64)
        found = cm.detect(today, history, cm.SurgeRule())
        assert [i for i, _ in found] == [0]

    def test_back_test_judges_every_day_against_its_own_window(self) -> None:
        rng = np.random.default_rng(7)
        counts = rng.poisson(1.0, size=(20, 120)).astype(np.int64)
        counts[3, 90] = 12
        counts[11, 60] = 15
        rule = cm.SurgeRule()
        found = {(s, d) for s, d, _ in cm.detect_all_days(counts, rule)}
        assert {(3, 90), (11, 60)} <= found
        # the same verdicts as judging each day one by one
        for s, d in found:
            assert cm.judge(int(counts[s, d]), counts[s, d - 28 : d], rule).surge
