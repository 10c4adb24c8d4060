"""Surge test for daily counts against a rolling baseline (pure numpy + math).

For one series (a unit × category), today's count x is compared with the previous B days
(today excluded): mean m and sample variance v. The count model is Poisson(m) when the
baseline is not over-dispersed (v ≤ m·(1 + tolerance)), else a negative binomial with the same
mean and variance (method of moments: size r = m²/(v − m)). A day is a surge when all hold:

- the upper-tail probability P(X ≥ x) under the model is below `alpha`,
- x ≥ `min_count` (no warning about 2 events however quiet the unit usually is),
- x ≥ `min_ratio` × m (a statistically odd but small rise in a busy unit is not news).

m is floored at `floor` so a unit with an empty history gives a finite, tiny p-value instead of
0, and only the volume rules decide. The tails use the regularised incomplete gamma and beta
functions (Numerical Recipes continued fractions) with `math.lgamma`, so nothing needs scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shiyu.warning.enums import CountModel

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 500


@dataclass(frozen=True)
class SurgeRule:
    baseline_days: int = 28
    alpha: float = 0.001
    min_count: int = 5
    min_ratio: float = 2.0
    floor: float = 0.2
    #: variance above mean × (1 + this) counts as over-dispersed (negative binomial)
    dispersion_tolerance: float = 0.1


@dataclass(frozen=True)
class Verdict:
    count: int
    mean: float
    var: float
    model: CountModel
    p_value: float
    surge: bool


# ---------------------------------------------------------------- special functions


def _gammainc_lower(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x)."""
    if x <= 0:
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # series
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITER):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(1.0, total * math.exp(log_front))
    return 1.0 - _gammainc_upper_cf(a, x, log_front)


def _gammainc_upper_cf(a: float, x: float, log_front: float) -> float:
    """Q(a, x) by Lentz's continued fraction (x ≥ a + 1)."""
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return min(1.0, math.exp(log_front) * h)


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1 - x) / b


def _betacf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return h


def poisson_sf(x: int, mean: float) -> float:
    """P(X ≥ x) for X ~ Poisson(mean)."""
    if x <= 0:
        return 1.0
    return _gammainc_lower(float(x), mean)


def negbin_sf(x: int, mean: float, var: float) -> float:
    """P(X ≥ x) for a negative binomial with this mean and variance (var > mean)."""
    if x <= 0:
        return 1.0
    size = mean * mean / (var - mean)
    p_success = size / (size + mean)
    # number of failures before `size` successes: P(X ≥ x) = I_{1-p}(x, size)
    return _betainc(float(x), size, 1 - p_success)


# ---------------------------------------------------------------- the test


def judge(count: int, history: npt.ArrayLike, rule: SurgeRule) -> Verdict:
    """The verdict on today's `count` given the baseline days' counts."""
    h = np.asarray(history, dtype=np.float64)
    mean = float(h.mean()) if h.size else 0.0
    var = float(h.var(ddof=1)) if h.size > 1 else mean
    return _verdict(count, mean, var, rule)


def _verdict(count: int, mean: float, var: float, rule: SurgeRule) -> Verdict:
    m = max(mean, rule.floor)
    volume_ok = count >= rule.min_count and count >= rule.min_ratio * m
    if mean > 0 and var > mean * (1 + rule.dispersion_tolerance):
        model, p = CountModel.negbin, negbin_sf(count, m, max(var, m * 1.000001))
    else:
        model, p = CountModel.poisson, poisson_sf(count, m)
    return Verdict(count, mean, var, model, p, volume_ok and p < rule.alpha)


def candidates(
    today: npt.NDArray[np.int64], history: npt.NDArray[np.int64], rule: SurgeRule
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Vectorised volume rules over many series: (indices passing them, means, variances).
    Only these need the (scalar) tail probability, which is what keeps a city-wide run fast:
    almost every unit × category has a handful of events a day."""
    b = history.shape[1]
    mean = history.mean(axis=1)
    var = history.var(axis=1, ddof=1) if b > 1 else mean.copy()
    floor = np.maximum(mean, rule.floor)
    ok = (today >= rule.min_count) & (today >= rule.min_ratio * floor)
    idx = np.flatnonzero(ok)
    return idx, mean[idx], var[idx]


def detect(
    today: npt.NDArray[np.int64], history: npt.NDArray[np.int64], rule: SurgeRule
) -> list[tuple[int, Verdict]]:
    """(series index, verdict) of every surge among the series (rows of `history`)."""
    idx, means, variances = candidates(today, history, rule)
    out: list[tuple[int, Verdict]] = []
    for i, mean, var in zip(idx.tolist(), means.tolist(), variances.tolist(), strict=True):
        verdict = _verdict(int(today[i]), mean, var, rule)
        if verdict.surge:
            out.append((i, verdict))
    return out


def detect_all_days(
    counts: npt.NDArray[np.int64], rule: SurgeRule
) -> list[tuple[int, int, Verdict]]:
    """Back-test over a whole period: (series, day, verdict) of every surge, each day judged
    against its own previous `baseline_days` days. Rolling sums via cumulative sums, so the
    cost is a few passes over the (series × days) array plus the scalar tails of candidates."""
    b = rule.baseline_days
    s, t = counts.shape
    if t <= b:
        return []
    c = counts.astype(np.float64)
    zero = np.zeros((s, 1))
    cs = np.concatenate([zero, np.cumsum(c, axis=1)], axis=1)
    cs2 = np.concatenate([zero, np.cumsum(c * c, axis=1)], axis=1)
    sums = cs[:, b:t] - cs[:, 0 : t - b]  # window [d-b, d) for d = b .. t-1
    sq = cs2[:, b:t] - cs2[:, 0 : t - b]
    mean = sums / b
    var = np.maximum((sq - b * mean * mean) / (b - 1), 0.0)
    today = counts[:, b:t]
    floor = np.maximum(mean, rule.floor)
    ok = (today >= rule.min_count) & (today >= rule.min_ratio * floor)
    rows, cols = np.nonzero(ok)
    out: list[tuple[int, int, Verdict]] = []
    for r, k in zip(rows.tolist(), cols.tolist(), strict=True):
        verdict = _verdict(int(today[r, k]), float(mean[r, k]), float(var[r, k]), rule)
        if verdict.surge:
            out.append((r, k + b, verdict))
    return out
