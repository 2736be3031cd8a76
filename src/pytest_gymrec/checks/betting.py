"""Bounded mean tests by betting: the one home of every check that uses known return bounds.

numpy only (a bounded verdict must not import scipy). Every function takes values already
scaled to [0, 1] by the bounds and works on the last axis, so that a matrix whose rows are
Monte-Carlo runs is decided in one call.

The question is always "is the mean of x below m?", asked of a bettor who starts with capital 1
and, before episode t, stakes a fraction ``lambda_t`` of it on that claim: the capital becomes
``K_t = prod_{i<=t} (1 - lambda_i (x_i - m))``. When the mean is at least m and ``lambda_t``
depends only on earlier episodes, K is a nonnegative supermartingale with ``E[K_t] <= 1``
(Waudby-Smith & Ramdas, "Estimating means of bounded random variables by betting", JRSS-B 2024).

Fixed n (:func:`fixed_n_rejects`): the bet is WSR's fixed-n tuned bet
``sqrt(2 log(1/alpha) / (n sigma_hat^2_{t-1}))``, which minimises, to second order, the drop
needed to reach 1/alpha after n episodes. The evidence is the final capital averaged over a
fixed set of orders of the episodes, so the verdict depends on the set of (seed, value) pairs
and barely on which seed drew which value (see :func:`log_evidence`).

Sequential (anytime-valid): :func:`log_capital` along the given order with any predictable
bets, Ville's inequality on its running maximum, and the Kelly bets for a declared gap
(:func:`kelly_bets`).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Power at which "the smallest drop this test catches" is stated.
POWER = 0.8
#: Fixed-n bets are capped at TRUNCATION / (1 - m), the fraction of the largest bet that keeps
#: the capital positive. Measured in benchmarks/bench_power.py over 0.9, 0.95, 0.99: the cap
#: binds on data narrow against their range (paired differences, near-normal returns, all-worst
#: returns), where 0.99 catches drops 2-7% smaller than 0.9 and lets a paired comparison fail
#: from 7 shared seeds instead of 8; it never did worse on any shape. Validity holds for any cap
#: below 1.
TRUNCATION = 0.99
#: Weight, in episodes, of the prior variance 1/4 in the variance estimate behind each bet.
VARIANCE_PRIOR_WEIGHT = 1.0
#: Orders of the episodes the fixed-n evidence averages over (the first is the given order).
#: On the most borderline data (caught half of the time, n=50, CartPole-like / near-normal) a
#: reshuffle of the values among the seeds flipped 4.3% / 6.6% of verdicts with 1 order,
#: 1.5% / 1.9% with 8, 0.95% / 1.2% with 32 and 0.75% / 0.8% with 64 (bench_power.py "flips");
#: the cost grows linearly, 1.4 ms a verdict at n=500 with 64. With seeds the order is theirs,
#: so the same (seed, value) pairs always give the same verdict.
PERMUTATIONS = 64
#: Orders averaged when the power of that test is simulated (the detectable drop, episode
#: counts): the power of the 64-order average equals that of the 8-order average within
#: Monte-Carlo error (measured over 4,000 runs on CartPole-like and near-normal returns at
#: n = 20 and 50: differences <= 0.011, standard error 0.008), at an eighth of the cost.
SIMULATED_PERMUTATIONS = 8
#: Seed of the fixed generator that draws those orders (any constant: it is not data).
PERMUTATION_SEED = 20240917
#: Monte-Carlo runs behind a stated detectable drop or an episode count: the power at the stated
#: drop is estimated to +-0.035 (one standard error at 0.8), well inside the 0.7-0.9 the stated
#: drop must hold; 256 halved nothing that mattered and doubled the cost of every verdict.
POWER_RESAMPLES = 128
#: Share of tied values from which a regressed agent is simulated by reweighting the observed
#: values rather than by shifting them (see _regressed_sampler).
TILT_TIED_SHARE = 0.25
#: Relative resolution of a stated detectable drop (finer than the Monte-Carlo error of the
#: power behind it).
DROP_RESOLUTION = 0.02
#: Values whose spread is at most this fraction of the range are tied (floats of equal values).
TIE_TOLERANCE = 1e-9
#: Largest episode count any "how many episodes would it take" search considers.
EPISODE_SEARCH_LIMIT = 1 << 16
#: Resolution of a confidence bound on [0, 1] (a millionth of a millionth of the return range:
#: far below any digit a report shows, and 30 halvings instead of 64).
BOUND_RESOLUTION = 1e-12
#: Interpolating steps of a bound's search before it bisects (bisection needs at most 64 more).
INTERPOLATED_STEPS = 40
#: The same for the detectable drop's search, whose every step simulates the test.
INTERPOLATED_DROP_STEPS = 6
#: Largest number of float64 cells one evaluation holds at once (rows are split beyond it).
_CELLS_PER_CHUNK = 1 << 21


# --------------------------------------------------------------------------------------------
# Shared pieces


def tied(values: npt.ArrayLike, width: float = 1.0) -> bool:
    """True when the values are equal up to float rounding: their spread is at most
    TIE_TOLERANCE of ``width`` (the range they live in). ``0.1 + 0.2 - 0.3`` ties with 0."""
    array = np.asarray(values, dtype=np.float64)
    return bool(array.size > 0 and float(np.ptp(array)) <= TIE_TOLERANCE * width)


def log_capital(
    x: FloatArray, bets: FloatArray, m: float | FloatArray, truncation: float
) -> FloatArray:
    """Log-capital after each step of a bettor wagering that the mean is below ``m``.

    ``m`` broadcasts against the leading axes of ``x``. Bets are capped at
    ``truncation / (1 - m)`` so that no single episode can take the capital to zero; with
    ``m = 1`` there is no cap (no value lies above the line). Each factor
    ``1 - min(bet, cap(m)) (x - m)`` is nondecreasing in m for bets that do not depend on m,
    which is what makes every bound below a bisection.
    """
    line = np.asarray(m, dtype=np.float64)[..., np.newaxis]
    with np.errstate(divide="ignore"):
        cap = np.where(line < 1.0, truncation / np.maximum(1.0 - line, 0.0), np.inf)
    path: FloatArray = np.cumsum(np.log1p(-np.minimum(bets, cap) * (x - line)), axis=-1)
    return path


def _solve_rejected(
    excess: Callable[[FloatArray], FloatArray], low: FloatArray, high: FloatArray
) -> FloatArray:
    """Per row, the smallest m in [low, high] with ``excess(m) >= 0`` (rejected), to
    BOUND_RESOLUTION of the range, for an excess that is continuous and nondecreasing in m
    (negative at ``low``, nonnegative at ``high``).

    Regula falsi with the Illinois modification: the evidence is smooth in m, so interpolating
    takes about a fifth of the steps of bisection. The bracket [not rejected, rejected] is kept
    at every step, so the answer is the one bisection gives, to the same resolution. A row
    with an infinite end or an interpolation that is not a number bisects, and so does every
    row after INTERPOLATED_STEPS steps (it takes about 10), so the search always ends.
    """
    low, high = low.copy(), high.copy()
    at_low, at_high = excess(low), excess(high)
    kept = np.zeros(low.shape)  # +1: high moved last, -1: low moved last
    for step in range(INTERPOLATED_STEPS + 64):
        width = high - low
        open_rows = width > BOUND_RESOLUTION
        if not np.any(open_rows):
            break
        with np.errstate(all="ignore"):
            guess = high - at_high * width / (at_high - at_low)
        middle = 0.5 * (low + high)
        finite = np.isfinite(guess) & np.isfinite(at_low) & np.isfinite(at_high)
        interpolated = finite & (step < INTERPOLATED_STEPS)
        guess = np.where(interpolated, guess, middle)
        # Half a resolution inside the bracket: once the interpolation lands on the bound, the
        # next step closes the bracket from the other side.
        guess = np.clip(guess, low + 0.5 * BOUND_RESOLUTION, high - 0.5 * BOUND_RESOLUTION)
        guess = np.where(open_rows, guess, high)
        value = excess(guess)
        hit = (value >= 0) & open_rows
        miss = ~(value >= 0) & open_rows
        # Illinois: an end kept twice in a row has its value halved, so the other end moves.
        at_low = np.where(hit & (kept > 0), 0.5 * at_low, at_low)
        at_high = np.where(miss & (kept < 0), 0.5 * at_high, at_high)
        high, at_high = np.where(hit, guess, high), np.where(hit, value, at_high)
        low, at_low = np.where(miss, guess, low), np.where(miss, value, at_low)
        kept = np.where(hit, 1.0, np.where(miss, -1.0, kept))
    return high


def _as_rows(x: npt.ArrayLike) -> FloatArray:
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ValueError(f"need at least one value on the last axis, got shape {array.shape}")
    return array


# --------------------------------------------------------------------------------------------
# Fixed n


def tuned_bets(x: FloatArray, alpha: float, n: int | None = None) -> FloatArray:
    """WSR's fixed-n tuned bets on the last axis: bet t is
    ``sqrt(2 log(1/alpha) / (n sigma_hat^2_{t-1}))``, where the variance estimate uses only
    ``x[..., :t-1]`` and starts at the prior 1/4 (the largest variance on [0, 1]).

    ``n`` is the planned number of episodes (default: all of them). Not yet truncated.
    """
    count = x.shape[-1] if n is None else n
    weight = VARIANCE_PRIOR_WEIGHT
    # In place where it can be: the power simulation calls this on 128 x 8 x n values a step.
    denominators = np.arange(1.0 + weight, x.shape[-1] + 1.0 + weight)  # t + weight
    running_mean = np.cumsum(x, axis=-1)
    running_mean += 0.5 * weight
    running_mean /= denominators
    squares = np.subtract(x, running_mean, out=running_mean)
    np.square(squares, out=squares)
    sums = np.cumsum(squares, axis=-1, out=squares)
    # Bet t uses the variance of the values before it: the prior 1/4 first.
    bets = np.empty_like(x)
    bets[..., 0] = 0.25
    np.add(sums[..., :-1], 0.25 * weight, out=bets[..., 1:])
    bets[..., 1:] /= denominators[:-1]
    np.divide(2.0 * math.log(1.0 / alpha) / count, bets, out=bets)
    result: FloatArray = np.sqrt(bets, out=bets)
    return result


@functools.cache
def orders(n: int, count: int = PERMUTATIONS) -> IntArray:
    """The fixed orders of n episodes the fixed-n evidence averages over: the given order
    first, then ``count - 1`` permutations from a constant generator (never from the data)."""
    generator = np.random.default_rng([PERMUTATION_SEED, n])
    rows = [np.arange(n), *(generator.permutation(n) for _ in range(count - 1))]
    table = np.array(rows, dtype=np.int64)
    table.flags.writeable = False
    return table


def canonical(x: FloatArray, seeds: npt.ArrayLike | None) -> FloatArray:
    """The values in increasing seed order (seeds are fixed before any episode runs, so this
    order is as good as any for iid episodes); the given order when the seeds are unknown."""
    if seeds is None:
        return x
    seed_array = np.asarray(seeds)
    if seed_array.shape[-1] != x.shape[-1]:
        raise ValueError(f"{seed_array.shape[-1]} seeds for {x.shape[-1]} values")
    order = np.argsort(seed_array, axis=-1, kind="stable")
    return np.take_along_axis(x, np.broadcast_to(order, x.shape), axis=-1)


def log_evidence(
    x: npt.ArrayLike,
    m: float | npt.ArrayLike,
    alpha: float,
    permutations: int = PERMUTATIONS,
    truncation: float = TRUNCATION,
) -> FloatArray:
    """Log of the evidence that the mean of x is below ``m``, at level alpha, for n fixed.

    The evidence is the final capital of the tuned bettor averaged over the fixed orders of
    :func:`orders`, applied to the values in the order given (:func:`fixed_n_rejects` puts
    them in seed order first). Valid at level alpha exactly: for a mean >= m, each fixed order
    of iid values is iid, so each final capital has expectation <= 1, so does their average,
    and Markov's inequality gives P(evidence >= 1/alpha) <= alpha.
    """
    values = _as_rows(x)
    n = values.shape[-1]
    lines = np.broadcast_to(np.asarray(m, dtype=np.float64), values.shape[:-1])
    table = orders(n, permutations)
    flat_values = values.reshape(-1, n)
    flat_lines = lines.reshape(-1)
    result = np.empty(flat_values.shape[0])
    step = max(1, _CELLS_PER_CHUNK // (permutations * n))
    for start in range(0, flat_values.shape[0], step):
        block = flat_values[start : start + step][:, table]  # (rows, permutations, n)
        line = flat_lines[start : start + step, np.newaxis, np.newaxis]
        cap = np.where(line < 1.0, truncation / np.maximum(1.0 - line, 1e-300), np.inf)
        bets = np.minimum(tuned_bets(block, alpha), cap)
        # log(1 - bet (x - m)), in place on the gathered block (a copy of its own).
        factors = np.subtract(line, block, out=block)
        factors *= bets
        np.log1p(factors, out=factors)
        # Only the final capital counts at fixed n: a sum, not log_capital's whole path.
        result[start : start + step] = _log_mean_exp(np.sum(factors, axis=-1))
    shaped: FloatArray = result.reshape(values.shape[:-1])
    return shaped


def _log_mean_exp(logs: FloatArray) -> FloatArray:
    top = np.max(logs, axis=-1)
    safe = np.where(np.isfinite(top), top, 0.0)
    mean: FloatArray = safe + np.log(np.mean(np.exp(logs - safe[..., np.newaxis]), axis=-1))
    return mean


def fixed_n_rejects(
    x: npt.ArrayLike,
    m: float | npt.ArrayLike,
    alpha: float,
    *,
    seeds: npt.ArrayLike | None = None,
    permutations: int = PERMUTATIONS,
    truncation: float = TRUNCATION,
) -> BoolArray:
    """True (per row) where the values show, at level alpha, that their mean is below ``m``.

    Validity (exact, any distribution on [0, 1], any n): each fixed order of iid values is iid,
    so each order's final capital has mean <= 1 when the mean is >= m; so has their average,
    and Markov's inequality bounds P(average >= 1/alpha) by alpha.

    ``seeds`` (same last axis as x) make the verdict a function of the set of (seed, value)
    pairs: the values are put in seed order first. Without seeds the given order is used.
    """
    values = canonical(_as_rows(x), seeds)
    evidence = log_evidence(values, m, alpha, permutations, truncation)
    result: BoolArray = evidence >= math.log(1.0 / alpha)
    return result


def upper_bound(
    x: npt.ArrayLike, alpha: float, *, seeds: npt.ArrayLike | None = None
) -> FloatArray:
    """Smallest m in [0, 1] that :func:`fixed_n_rejects` rejects, per row.

    The evidence is nondecreasing in m (see :func:`log_capital`; the bets do not depend on m
    and averaging keeps the order), so the rejected lines form an interval [bound, 1]:
    ``fixed_n_rejects(x, m)`` holds for every m >= bound and for no m below it (up to float
    resolution). 1 when even m = 1 is not rejected. A one-sided bound at level alpha.
    """
    values = canonical(_as_rows(x), seeds)
    threshold = math.log(1.0 / alpha)
    n = values.shape[-1]
    if values.size * PERMUTATIONS <= _CELLS_PER_CHUNK:
        # The bets do not depend on the line: order and bet once, then only the capital moves.
        block = values.reshape(-1, n)[:, orders(n)]
        bets = tuned_bets(block, alpha)

        def excess(line: FloatArray) -> FloatArray:
            level = line.reshape(-1)[:, np.newaxis, np.newaxis]
            cap = np.where(level < 1.0, TRUNCATION / np.maximum(1.0 - level, 1e-300), np.inf)
            final = np.sum(np.log1p(-np.minimum(bets, cap) * (block - level)), axis=-1)
            result: FloatArray = (_log_mean_exp(final) - threshold).reshape(line.shape)
            return result

    else:

        def excess(line: FloatArray) -> FloatArray:
            return log_evidence(values, line, alpha) - threshold

    leading = values.shape[:-1]
    top = np.ones(leading)
    # Never rejected at or below the smallest value: every factor is then at most 1.
    bound = _solve_rejected(excess, np.min(values, axis=-1), top)
    result: FloatArray = np.where(excess(top) >= 0, bound, 1.0)
    return result


# --------------------------------------------------------------------------------------------
# What a fixed-n check can see


def interval(
    x: npt.ArrayLike, alpha: float, *, seeds: npt.ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """(lower, upper) bounds per row, found by one search over both.

    The upper bound is :func:`upper_bound`; the lower one is its mirror image, the largest m
    that the mirror test (:func:`fixed_n_rejects` on ``1 - x`` against ``1 - m``, what a certify
    check asks) shows exceeded.
    """
    rows = _as_rows(x)
    both = upper_bound(np.stack([rows, 1.0 - rows]), alpha, seeds=seeds)
    return 1.0 - both[1], both[0]


def floor_drop(m: float, n: int, alpha: float, power: float = POWER) -> float:
    """The smallest drop below m that ANY valid test on [0, 1] catches with ``power`` at n.

    A regressed distribution F (mean m - d) mixed with a point mass at 1 of weight
    e = 1 - (alpha/power)^(1/n) has mean >= m once d <= (1 - m)((power/alpha)^(1/n) - 1); a
    valid test rejects that mixture at most alpha of the time, yet sees F alone with
    probability (1 - e)^n = alpha/power, so it catches F with probability at most ``power``.
    """
    return float((1.0 - m) * ((power / alpha) ** (1.0 / n) - 1.0))


def episodes_needed_to_fail(m: float, alpha: float, truncation: float = TRUNCATION) -> int | None:
    """Fewest episodes with which values all at 0 (every return at the worst bound) fail
    ``mean >= m``. With fewer, no agent however bad fails the check: it is blind. None when
    m <= 0 (nothing lies below the line) or no count up to EPISODE_SEARCH_LIMIT does."""
    if m <= 0.0:
        return None

    def all_worst_fails(n: int) -> bool:
        # Every order of equal values is the same sequence: one order is their average.
        return bool(fixed_n_rejects(np.zeros(n), m, alpha, permutations=1, truncation=truncation))

    return smallest_n(all_worst_fails)


def smallest_n(enough: Callable[[int], bool], start: int = 1) -> int | None:
    """Smallest n >= ``start`` with ``enough(n)``, for an ``enough`` that stays true once true:
    doubling finds a sufficient n, bisection walks back. None beyond EPISODE_SEARCH_LIMIT."""
    n = start
    while not enough(n):
        n *= 2
        if n > EPISODE_SEARCH_LIMIT:
            return None
    low = max(start - 1, n // 2)
    while n - low > 1:
        middle = (low + n) // 2
        if enough(middle):
            n = middle
        else:
            low = middle
    return n


def tilted_weights(x: FloatArray, mean: float) -> FloatArray:
    """Weights on the sorted values ``x`` (not all tied) whose weighted mean is ``mean``: the
    exponential tilt ``w_i ~ exp(-theta x_i)``, the distribution closest to the empirical one
    (in Kullback-Leibler divergence) among those on the same values with that mean. Beyond
    the smallest (largest) value no tilt reaches the mean: all weight then goes to that value
    and the caller mixes in the bound (see :func:`_regressed_sampler`).
    """
    low, high = float(x[0]), float(x[-1])
    if mean <= low or mean >= high:
        extreme = (x == (low if mean <= low else high)).astype(np.float64)
        weights: FloatArray = extreme / extreme.sum()
        return weights
    centred = (x - low) / (high - low)  # in [0, 1]
    target = (mean - low) / (high - low)

    def tilted(theta: float) -> FloatArray:
        logs = -theta * centred
        w = np.exp(logs - logs.max())
        result: FloatArray = w / w.sum()
        return result

    # The tilted mean falls as theta grows; |theta| = 2000 leaves exp(-2000 * gap) of the
    # weight off the extreme values, so the bracket holds every mean that floats can tell.
    below, above = -2000.0, 2000.0
    for _ in range(64):
        middle = 0.5 * (below + above)
        if float(tilted(middle) @ centred) > target:
            below = middle
        else:
            above = middle
    return tilted(0.5 * (below + above))


def tied_share(x: FloatArray) -> float:
    """Share of the values that tie with another one (a time limit, a score of 0, ...)."""
    ordered = np.sort(x)
    close = np.diff(ordered) <= TIE_TOLERANCE
    in_tie = np.zeros(x.size, dtype=bool)
    in_tie[:-1] |= close
    in_tie[1:] |= close
    return float(np.mean(in_tie))


def _regressed_sampler(
    x: FloatArray, n: int, rng: np.random.Generator
) -> Callable[[float], FloatArray]:
    """POWER_RESAMPLES runs of n values spread like ``x``, as a function of their mean.

    How a regressed agent's returns would look depends on how these spread:

    * spread continuously (fewer than TILT_TIED_SHARE of them tie): resampled, shifted to the
      wanted mean and clipped to [0, 1], after stretching by sqrt(n/(n-1)) (a sample spreads
      less than its population);
    * piled on a few values (a time limit, zero scores, discrete outcomes): the same values,
      reweighted by :func:`tilted_weights` (fewer episodes reach the time limit); beyond the
      smallest (largest) value, that value mixed with the bound 0 (1);
    * all tied: no spread to resample, and a regressed agent's values would not all be equal
      either: each value is 1 with the probability that gives the mean, else 0, the widest
      spread a mean can have.

    The random numbers are drawn once (common random numbers): a larger drop moves every
    simulated value down, which keeps the estimated power monotone in the drop.
    """
    uniforms = rng.random((POWER_RESAMPLES, n))
    if tied(x):

        def at_bounds(mean: float) -> FloatArray:
            return (uniforms < mean).astype(np.float64)

        return at_bounds
    centre = float(np.mean(x))
    if tied_share(x) < TILT_TIED_SHARE:
        stretch = math.sqrt(x.size / (x.size - 1))
        indices = np.minimum((uniforms * x.size).astype(np.int64), x.size - 1)
        deviations = stretch * (x[indices] - centre)

        def shifted(mean: float) -> FloatArray:
            result: FloatArray = np.clip(deviations + mean, 0.0, 1.0)
            return result

        return shifted
    ordered = np.sort(x)
    low, high = float(ordered[0]), float(ordered[-1])
    mixing = rng.random((POWER_RESAMPLES, n))

    def reweighted(mean: float) -> FloatArray:
        cumulative = np.cumsum(tilted_weights(ordered, mean))
        positions = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
        values: FloatArray = ordered[np.minimum(positions, x.size - 1)]
        if mean < low:  # the smallest value with probability mean/low, else the bound 0
            values = np.where(mixing < mean / low, values, 0.0)
        elif mean > high:  # mirror image, towards the bound 1
            values = np.where(mixing < (1.0 - mean) / (1.0 - high), values, 1.0)
        return values

    return reweighted


def power_at(
    x: npt.ArrayLike,
    m: float,
    drop: float,
    alpha: float,
    rng: np.random.Generator,
    *,
    n: int | None = None,
) -> float:
    """Estimated probability that n episodes spread like x, with mean ``m - drop``, fail
    ``mean >= m`` under :func:`fixed_n_rejects` (n defaults to the size of x)."""
    values = np.asarray(x, dtype=np.float64).ravel()
    size = values.size if n is None else n
    sample = _regressed_sampler(values, size, rng)(m - drop)
    return float(np.mean(fixed_n_rejects(sample, m, alpha, permutations=SIMULATED_PERMUTATIONS)))


def detectable_drop(
    x: npt.ArrayLike, m: float, alpha: float, rng: np.random.Generator
) -> float | None:
    """Smallest drop below m that :func:`fixed_n_rejects` catches with probability POWER
    on n = len(x) episodes spread like x (see :func:`_regressed_sampler`), to DROP_RESOLUTION
    of the drop. None when not even a drop to 0 (every value at the worst bound) is caught.
    On the [0, 1] scale.

    Each step simulates the whole test POWER_RESAMPLES times, so the search takes few: it
    interpolates the simulated power on the normal (probit) scale, on which a mean test's power
    is close to a straight line in the drop, and keeps a bracket [missed, caught] throughout.
    """
    values = np.asarray(x, dtype=np.float64).ravel()
    if m <= 0.0:
        return None
    sample = _regressed_sampler(values, values.size, rng)
    probit = statistics.NormalDist().inv_cdf
    edge = 0.5 / POWER_RESAMPLES
    target = probit(POWER)

    def gap(drop: float) -> float:
        """Probit of the simulated power at ``drop``, less that of POWER: >= 0 when caught."""
        caught = fixed_n_rejects(sample(m - drop), m, alpha, permutations=SIMULATED_PERMUTATIONS)
        power = float(np.mean(caught))
        return probit(min(max(power, edge), 1.0 - edge)) - target

    # Probit power grows by about one per standard error of the mean: the step size below.
    spread = 0.5 if tied(values) else float(np.std(values))
    step = max(spread / math.sqrt(values.size), 1e-4)
    # No drop: a valid test rejects with probability at most alpha.
    low, at_low = 0.0, probit(max(alpha, edge)) - target
    drop = min(m, step * (math.sqrt(2.0 * math.log(1.0 / alpha)) + 0.84))
    while True:  # out to the first drop that is caught
        at_drop = gap(drop)
        if at_drop >= 0.0:
            high, at_high = drop, at_drop
            break
        low, at_low = drop, at_drop
        if drop >= m:
            return None
        drop = min(m, drop + max(-at_drop * step, 0.25 * drop))
    kept = 0  # +1: high moved last, -1: low moved last
    steps = 0
    while high - low > max(DROP_RESOLUTION * high, 1e-6):
        # Regula falsi (Illinois), never within half a resolution of an end: a guess that
        # lands on the answer closes the bracket with the next one. It takes 1-3 steps; a
        # simulated power too ragged for that gets bisection after INTERPOLATED_DROP_STEPS.
        margin = 0.5 * max(DROP_RESOLUTION * high, 1e-6)
        if steps < INTERPOLATED_DROP_STEPS:
            guess = high - at_high * (high - low) / (at_high - at_low)
        else:
            guess = 0.5 * (low + high)
        steps += 1
        drop = min(max(guess, low + margin), high - margin)
        at_drop = gap(drop)
        if at_drop >= 0.0:
            at_low = 0.5 * at_low if kept > 0 else at_low
            high, at_high, kept = drop, at_drop, 1
        else:
            at_high = 0.5 * at_high if kept < 0 else at_high
            low, at_low, kept = drop, at_drop, -1
    return high


def episodes_needed_for_drop(
    x: npt.ArrayLike, m: float, drop: float, alpha: float, rng: np.random.Generator
) -> int | None:
    """Fewest episodes with which a drop of ``drop`` below m, in values spread like x, is
    caught with probability POWER by :func:`fixed_n_rejects`. None when no count up to
    EPISODE_SEARCH_LIMIT is enough (or the drop is 0)."""
    values = np.asarray(x, dtype=np.float64).ravel()
    if drop <= 0.0 or m <= 0.0:
        return None
    state = rng.integers(0, 1 << 63)

    def enough(n: int) -> bool:
        # The same generator for every n: the answer depends on n, not on the search path.
        generator = np.random.default_rng([int(state), n])
        return power_at(values, m, min(drop, m), alpha, generator, n=n) >= POWER

    return smallest_n(enough, start=2)


# --------------------------------------------------------------------------------------------
# Paired: new - r * baseline, on its exact range


def margin_ratio(baseline_mean: float | FloatArray, tolerance: float) -> FloatArray:
    """``r`` such that "within the margin tolerance * |baseline mean|" is
    ``mean(new - r * baseline) >= 0``: 1 - tolerance, or 1 + tolerance for a negative mean."""
    ratio: FloatArray = np.where(
        np.asarray(baseline_mean) < 0, 1.0 + tolerance, 1.0 - tolerance
    ).astype(np.float64)
    return ratio


def difference_range(bounds: tuple[float, float], ratio: float) -> tuple[float, float]:
    """Exact range of ``new - ratio * baseline`` when both returns lie in ``bounds``."""
    lo, hi = bounds
    return lo - ratio * hi, hi - ratio * lo


def paired_scaled(
    new: npt.ArrayLike, baseline: npt.ArrayLike, bounds: tuple[float, float], tolerance: float
) -> tuple[FloatArray, FloatArray]:
    """The per-seed differences ``new - r * baseline`` scaled to [0, 1] by their exact range,
    and the line (the scaled 0) they are tested against; per row on the last axis."""
    new_array = np.asarray(new, dtype=np.float64)
    base_array = np.asarray(baseline, dtype=np.float64)
    if new_array.shape != base_array.shape or new_array.ndim == 0:
        raise ValueError(f"shapes {new_array.shape} and {base_array.shape} do not pair")
    lo, hi = bounds
    ratio = margin_ratio(base_array.mean(axis=-1), tolerance)
    low, high = lo - ratio * hi, hi - ratio * lo
    width = (high - low)[..., np.newaxis]
    shifted = new_array - ratio[..., np.newaxis] * base_array
    # Clipping only removes float rounding: the range is exact for returns inside the bounds.
    x: FloatArray = np.clip((shifted - low[..., np.newaxis]) / width, 0.0, 1.0)
    line: FloatArray = -low / (high - low)
    return x, line


def paired_rejects(
    new: npt.ArrayLike,
    baseline: npt.ArrayLike,
    *,
    tolerance: float,
    alpha: float,
    bounds: tuple[float, float],
    seeds: npt.ArrayLike | None = None,
) -> BoolArray:
    """True (per row) where the paired returns show, at level alpha, that the new mean is
    more than ``tolerance * |baseline mean|`` below the baseline's: :func:`fixed_n_rejects`
    on the scaled differences. An unchanged agent (every difference tied at 0) never fails."""
    x, line = paired_scaled(new, baseline, bounds, tolerance)
    return fixed_n_rejects(x, line, alpha, seeds=seeds)


def paired_seeds_needed_to_fail(
    bounds: tuple[float, float], tolerance: float, alpha: float, baseline_mean: float = 1.0
) -> int | None:
    """Fewest shared seeds with which a paired comparison can fail at all (every seed falling
    from the best return to the worst)."""
    ratio = float(margin_ratio(baseline_mean, tolerance))
    low, high = difference_range(bounds, ratio)
    return episodes_needed_to_fail(-low / (high - low), alpha)


# --------------------------------------------------------------------------------------------
# Sequential (anytime-valid): capital along the given order, Ville on its running maximum


def kelly_bets(x: FloatArray, gap: float, prior_weight: float = 0.25) -> FloatArray:
    """Predictable Kelly bets ``gap / (sigma_hat^2 + gap^2)`` for a mean ``gap`` away from the
    line, on the last axis: bet t uses x[..., :t-1], the variance estimate starting at the
    prior 1/4 with weight ``prior_weight`` episodes. Not truncated; the same bets serve a
    bettor on 1 - x (same variance)."""
    t = np.arange(1, x.shape[-1] + 1, dtype=np.float64)
    running_mean = (prior_weight * 0.5 + np.cumsum(x, axis=-1)) / (t + prior_weight)
    running_var = (prior_weight * 0.25 + np.cumsum((x - running_mean) ** 2, axis=-1)) / (
        t + prior_weight
    )
    previous_var = np.concatenate(
        [np.full((*x.shape[:-1], 1), 0.25), running_var[..., :-1]], axis=-1
    )
    bets: FloatArray = gap / (previous_var + gap * gap)
    return bets


def mixture_log_capital(
    x: FloatArray, m: float, gaps: Sequence[float], truncation: float, prior_weight: float = 0.25
) -> FloatArray:
    """Log of the capital path averaged over Kelly bettors for several gaps (below ``m``).

    The average of nonnegative supermartingales that start at 1 is one, so Ville's inequality
    holds for its running maximum. It pays at most log(len(gaps)) of evidence when the declared
    gap is right, and gains when the true drop is larger.
    """
    paths = np.stack(
        [log_capital(x, kelly_bets(x, gap, prior_weight), m, truncation) for gap in gaps]
    )
    top = np.max(paths, axis=0)
    mixed: FloatArray = top + np.log(np.mean(np.exp(paths - top), axis=0))
    return mixed


def anytime_upper_bound(
    x: npt.ArrayLike, alpha: float, bets: FloatArray, truncation: float
) -> float:
    """Smallest m whose running-maximum log-capital (for the given predictable ``bets``, which
    must not depend on m) reaches log(1/alpha): an anytime-valid upper bound on the mean."""
    values = _as_rows(x)
    threshold = math.log(1.0 / alpha)

    def excess(line: FloatArray) -> FloatArray:
        running_max = np.max(log_capital(values, bets, line, truncation), axis=-1)
        result: FloatArray = running_max - threshold
        return result

    top = np.ones(values.shape[:-1])
    if not bool(np.all(excess(top) >= 0)):
        return 1.0
    return float(_solve_rejected(excess, np.min(values, axis=-1), top))


def anytime_lower_bound(
    x: npt.ArrayLike, alpha: float, bets: FloatArray, truncation: float
) -> float:
    """Mirror image of :func:`anytime_upper_bound` (the same bets serve 1 - x)."""
    return 1.0 - anytime_upper_bound(1.0 - _as_rows(x), alpha, bets, truncation)
