"""Betting tests of a bounded mean (Waudby-Smith & Ramdas, JRSS-B 2024). numpy only.

Values are scaled to [0, 1]. A bettor wagers that the mean is below ``m``; its capital
``prod(1 - bet_t (x_t - m))`` is a nonnegative supermartingale when the mean is at least ``m``,
so it reaches 1/alpha with probability at most alpha (Ville's inequality).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .common import rng_for, smallest_n

FloatArray = npt.NDArray[np.float64]

#: Bet truncation of the hedged capital process (WSR use 1/2 or 3/4; 1/2 is their default).
BET_TRUNCATION = 0.5
#: Bootstrap resamples for the detectable drop (deterministic generator).
POWER_RESAMPLES = 256
POWER = 0.8


def canonical(x: FloatArray, seeds: Sequence[int | None]) -> FloatArray:
    """``x`` in seed order when every value has a seed (seeds are fixed before the data, so
    seed order is a valid order for a sequential bet), else as given."""
    if len(seeds) != x.shape[-1] or any(seed is None for seed in seeds):
        return x
    order = np.argsort(np.asarray(seeds, dtype=np.int64), kind="stable")
    return x[..., order]


def predictable_bets(x: FloatArray, alpha: float) -> FloatArray:
    """Predictable plug-in bets: bet t uses only x[:t-1] (WSR eq. 26, prior mean 1/2, var 1/4)."""
    n = x.shape[-1]
    t = np.arange(1, n + 1, dtype=np.float64)
    running_mean = (0.5 + np.cumsum(x, axis=-1)) / (t + 1)
    running_var = (0.25 + np.cumsum((x - running_mean) ** 2, axis=-1)) / (t + 1)
    previous_var = np.concatenate(
        [np.full((*x.shape[:-1], 1), 0.25), running_var[..., :-1]], axis=-1
    )
    bets: FloatArray = np.sqrt(2.0 * math.log(1.0 / alpha) / (previous_var * t * np.log1p(t)))
    return bets


def log_capital(
    x: FloatArray, bets: FloatArray, m: float, truncation: float = BET_TRUNCATION
) -> FloatArray:
    """Log-capital after each step of a bettor wagering that the mean is below ``m``.

    Bets are truncated at ``truncation/(1-m)`` so no single episode can take the capital to
    zero.
    """
    cap = truncation / (1.0 - m) if m < 1.0 else math.inf
    log_factors = np.log1p(-np.minimum(bets, cap) * (x - m))
    path: FloatArray = np.cumsum(log_factors, axis=-1)
    return path


def evidence_below(
    x: FloatArray, bets: FloatArray, m: float, truncation: float = BET_TRUNCATION
) -> FloatArray:
    """Largest log-capital over time of a bettor wagering that the mean is below ``m``."""
    result: FloatArray = np.max(log_capital(x, bets, m, truncation), axis=-1)
    return result


def upper_bound_with(
    x: FloatArray, alpha: float, bets: FloatArray, truncation: float = BET_TRUNCATION
) -> float:
    """Smallest m in [0, 1] that the data rejects as too high with these bets.

    The evidence against m is nondecreasing in m, so the rejected set is an interval [bound, 1]
    and bisection finds its end.
    """
    threshold = math.log(1.0 / alpha)
    if evidence_below(x, bets, 1.0, truncation) < threshold:
        return 1.0
    low, high = float(np.min(x)), 1.0  # never rejected at or below the smallest value
    for _ in range(60):
        middle = 0.5 * (low + high)
        if evidence_below(x, bets, middle, truncation) >= threshold:
            high = middle
        else:
            low = middle
    return high


def rejects(x: FloatArray, m: float, alpha: float, seeds: Sequence[int | None] = ()) -> bool:
    """Evidence at level alpha that the mean of ``x`` is below ``m``."""
    ordered = canonical(x, seeds)
    evidence = evidence_below(ordered, predictable_bets(ordered, alpha), m)
    return bool(evidence >= math.log(1.0 / alpha))


def upper_bound(x: FloatArray, alpha: float, seeds: Sequence[int | None] = ()) -> float:
    ordered = canonical(x, seeds)
    return upper_bound_with(ordered, alpha, predictable_bets(ordered, alpha))


def lower_bound(x: FloatArray, alpha: float, seeds: Sequence[int | None] = ()) -> float:
    return 1.0 - upper_bound(1.0 - x, alpha, seeds)


def _power(x: FloatArray, m: float, alpha: float) -> float:
    caught = evidence_below(x, predictable_bets(x, alpha), m) >= math.log(1.0 / alpha)
    return float(np.mean(caught))


def _regressed(x: FloatArray, n: int, rng: np.random.Generator) -> tuple[FloatArray, bool]:
    """Uniforms or centred resamples from which regressed runs of n episodes are drawn."""
    if x.size and float(np.ptp(x)) <= 1e-9:
        return rng.random((POWER_RESAMPLES, n)), True
    indices = rng.integers(0, x.size, size=(POWER_RESAMPLES, n))
    return x[indices] - float(np.mean(x)), False


def _shifted(draws: FloatArray, binary: bool, mean: float) -> FloatArray:
    if binary:  # all values equal: the widest spread a mean can have (values at 0 or 1)
        return (draws < mean).astype(np.float64)
    return np.clip(draws + mean, 0.0, 1.0)


def detectable_drop(
    x: FloatArray, m: float, alpha: float, rng: np.random.Generator
) -> float | None:
    """Smallest drop below ``m`` caught with probability POWER at n = x.size, for values spread
    like ``x`` (common random numbers keep the power monotone in the drop)."""
    if m <= 0:
        return None
    draws, binary = _regressed(x, x.size, rng)
    if _power(_shifted(draws, binary, 0.0), m, alpha) < POWER:
        return None
    low, high = 0.0, m
    for _ in range(30):
        middle = 0.5 * (low + high)
        if _power(_shifted(draws, binary, m - middle), m, alpha) >= POWER:
            high = middle
        else:
            low = middle
        if high - low <= 1e-4:
            break
    return high


def episodes_to_fail(m: float, alpha: float) -> int | None:
    """Fewest episodes after which values all at 0 reject ``mean >= m``."""
    if m <= 0:
        return None
    threshold = math.log(1.0 / alpha)

    def all_worst_fails(n: int) -> bool:
        zeros = np.zeros(n)
        return bool(evidence_below(zeros, predictable_bets(zeros, alpha), m) >= threshold)

    return smallest_n(all_worst_fails)


def episodes_for_drop(
    x: FloatArray, m: float, drop: float, alpha: float, rng_key: str
) -> int | None:
    """Fewest episodes that catch a mean of ``m - drop`` with probability POWER."""

    def caught(n: int) -> bool:
        draws, binary = _regressed(x, n, rng_for(f"{rng_key}/feasibility/{n}"))
        return _power(_shifted(draws, binary, m - drop), m, alpha) >= POWER

    return smallest_n(caught, start=2)
