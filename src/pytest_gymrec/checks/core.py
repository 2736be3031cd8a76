"""The statistics core every mean check shares: one question, two methods.

Every mean check (fixed-n on returns or lengths, paired on shifted differences) asks one
one-sided question, "is the mean of ``values`` at least ``line``?" (a :class:`Side`); at_most
checks reflect their data (v -> -v) into it. With known bounds the answer is a betting test
(:mod:`.betting`: valid for any distribution on the bounds); without, Student's t, which is
valid only approximately (scipy is imported only then, so a bounded verdict never loads it).

Here live the one-sided bounds, the decision, the smallest detectable drop, how many episodes a
check needs, input validation of numbers, values and tolerances, and the deterministic generator
of a test.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..errors import GymrecUsageError
from ..formatting import fmt
from ..verdict import POWER
from . import betting
from .common import rng_for, smallest_n

FloatArray = npt.NDArray[np.float64]

#: Below this many episodes Student t is flagged as unreliable on RL returns.
T_MIN_EPISODES = 20
#: |sample skewness| above which t is flagged.
T_MAX_SKEW = 1.0
#: Values closer than this fraction of their scale count as equal (0.1 + 0.2 - 0.3 is a tie).
TIE_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------
# Input validation


def finite_number(value: object, name: str, caller: str) -> float:
    """A finite real number (numpy scalars included), or a usage error naming it."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
    ):
        raise GymrecUsageError(
            f"{caller}: {name}={value!r} must be a finite number (an int or a float)"
        )
    return float(value)


def check_tolerance(value: object, caller: str, *, allow_zero: bool = False) -> float:
    """A relative tolerance in (0, 1), or [0, 1) where a zero margin means something (a paired
    comparison that allows no drop at all), or a usage error naming it."""
    if value is None:
        raise GymrecUsageError(
            f"{caller}: tolerance= is required: the relative drop the test must catch, "
            "e.g. tolerance=0.1 for a drop of 10% of at_least"
        )
    tolerance = finite_number(value, "tolerance", caller)
    if not (0.0 <= tolerance < 1.0 if allow_zero else 0.0 < tolerance < 1.0):
        interval = "in [0, 1)" if allow_zero else "strictly between 0 and 1"
        raise GymrecUsageError(
            f"{caller}: tolerance={value!r} must be {interval}: it is a fraction of the line "
            "(or of the baseline's mean), e.g. tolerance=0.05 for 5%"
        )
    return tolerance


def checked_values(
    values: Sequence[float] | FloatArray,
    seeds: Sequence[int | None],
    bounds: tuple[float, float] | None,
    bounds_source: str,
    quantity: str,
    caller: str,
) -> FloatArray:
    """The values as a float array: not empty, finite, inside the bounds; else a usage error
    naming the first offending episode by its seed."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise GymrecUsageError(
            f"{caller}: no episodes to check: the {quantity}s list is empty; run at least one "
            "episode (did the loop over gymrec.seeds finish an episode?)"
        )

    def seed_of(index: int) -> object:
        return seeds[index] if index < len(seeds) else "?"

    not_finite = np.flatnonzero(~np.isfinite(array))
    if not_finite.size:
        index = int(not_finite[0])
        raise GymrecUsageError(
            f"{caller}: the episode with seed {seed_of(index)} has {quantity} {array[index]}; "
            f"checks need finite {quantity}s"
        )
    if bounds is not None:
        lo, hi = bounds
        outside = np.flatnonzero((array < lo) | (array > hi))
        if outside.size:
            first = int(outside[0])
            raise GymrecUsageError(
                f"{caller}: seed {seed_of(first)} has {quantity} {fmt(float(array[first]))}, "
                f"outside bounds ({fmt(lo)}, {fmt(hi)}) from {bounds_source} ({outside.size} of "
                f"{array.size} episodes are outside); bounds must hold for every possible "
                "episode: widen them, or fix the env or the reward scale"
            )
    return array


def no_spread(values: FloatArray) -> bool:
    """True when all values are equal, up to float rounding (differences that are equal in
    exact arithmetic, such as 0.1 + 0.2 - 0.3 and 0, count as ties)."""
    if values.size == 0:
        return False
    scale = max(float(np.max(np.abs(values))), 1.0)
    return bool(float(np.ptp(values)) <= TIE_TOLERANCE * scale)


# --------------------------------------------------------------------------------------------
# One side


@dataclasses.dataclass(frozen=True)
class Side:
    """One one-sided question, "is the mean of ``values`` at least ``line``?", at level alpha.

    ``seeds`` (parallel to values, or empty) fix the canonical order of a betting test, so the
    verdict depends on the set of (seed, value) pairs and not on the order they came in.
    """

    values: FloatArray
    line: float
    bounds: tuple[float, float] | None
    alpha: float
    seeds: tuple[int | None, ...] = ()

    @property
    def scaled(self) -> tuple[FloatArray, float]:
        """Values and line mapped to [0, 1] by the bounds."""
        assert self.bounds is not None
        lo, hi = self.bounds
        return (self.values - lo) / (hi - lo), (self.line - lo) / (hi - lo)

    def unscale(self, value: float) -> float:
        assert self.bounds is not None
        lo, hi = self.bounds
        return lo + value * (hi - lo)

    def reflected(self) -> Side:
        """The mirror question, "is the mean of -values at least -line?" (an at_most check)."""
        bounds = None if self.bounds is None else (-self.bounds[1], -self.bounds[0])
        return Side(-self.values, -self.line, bounds, self.alpha, self.seeds)


def _known(seeds: tuple[int | None, ...]) -> list[int] | None:
    """Seeds that fix a canonical order, or None when any episode has none."""
    if not seeds or any(seed is None for seed in seeds):
        return None
    return [seed for seed in seeds if seed is not None]


def one_sided_bounds(side: Side) -> tuple[float, float]:
    """(lower, upper) confidence bounds on the mean, each at level alpha; the upper one is
    below the line exactly when :func:`shows_drop` says so."""
    if side.bounds is not None:
        x, _ = side.scaled
        seeds = _known(side.seeds)
        lower, upper = betting.interval(x, side.alpha, seeds=seeds)
        return side.unscale(float(lower)), side.unscale(float(upper))
    return _t_bounds(side.values, side.alpha)


def shows_drop(side: Side) -> bool:
    """True when the data shows, at level alpha, that the mean is below the line."""
    if side.bounds is not None:
        x, m = side.scaled
        return bool(betting.fixed_n_rejects(x, m, side.alpha, seeds=_known(side.seeds)))
    return side.values.size >= 2 and _t_bounds(side.values, side.alpha)[1] < side.line


def shows_clearing(side: Side) -> bool:
    """True when the data shows, at level alpha, that the mean is at least the line."""
    mirror = side.reflected()
    return shows_drop(mirror)


def detectable_drop(side: Side, rng: np.random.Generator) -> tuple[float | None, str, str]:
    """Smallest drop below the line the check catches with probability POWER at this n.

    Returns (drop, assumption, unknown): ``assumption`` says how a regressed agent's values were
    imagined; ``unknown`` says why no drop can be stated. Drop None with ``unknown`` empty means
    blind: the check could not fail at this n, not even with every value at the worst bound.
    """
    if side.bounds is not None:
        x, m = side.scaled
        if side.line <= side.bounds[0]:
            return None, "", ""
        scaled = betting.detectable_drop(x, m, side.alpha, rng)
        drop = None if scaled is None else scaled * (side.bounds[1] - side.bounds[0])
        assumption = (
            "if returns spread as widely as they can (all values here were equal, which says "
            "nothing about how a regressed agent's would spread)"
            if no_spread(side.values)
            else "if values spread like these"
        )
        if drop is None:
            # No drop within the bounds is caught with POWER for values spread like these (a
            # wide spread, clipped at the bounds, keeps the mean up); that is blindness only
            # when not even every value at the worst bound would fail the check.
            needed = episodes_to_fail(side)
            if needed is not None and needed <= side.values.size:
                return (
                    None,
                    assumption,
                    f"no drop within the bounds is caught with {POWER:.0%} probability at "
                    f"n={side.values.size} {assumption}; the check can fail (every value at the "
                    "worst bound would fail it)",
                )
        return drop, assumption, ""
    n = side.values.size
    if n < 2:
        return None, "", f"Student t needs at least 2 episodes, here {n}"
    sd = float(np.std(side.values, ddof=1))
    if no_spread(side.values) or sd == 0.0:
        return (
            None,
            "",
            "every value is equal, so the spread of a regressed agent cannot be estimated; pass "
            "bounds=(lo, hi) to state what the check can see",
        )
    return _t_detectable_drop(n, sd, side.alpha), "if values spread like these (Student t)", ""


def floor(side: Side) -> float | None:
    """The smallest drop below the line that ANY valid test on these bounds catches with
    probability POWER at this n (None without bounds: no such floor for an approximate t)."""
    if side.bounds is None:
        return None
    _, m = side.scaled
    return betting.floor_drop(m, side.values.size, side.alpha) * (side.bounds[1] - side.bounds[0])


def episodes_to_fail(side: Side) -> int | None:
    """Fewest episodes with which a bounded check can fail at all (all values at the worst
    bound); below it the check is blind. None when no count up to the search limit does."""
    if side.bounds is None:
        return 2
    _, m = side.scaled
    return betting.episodes_needed_to_fail(m, side.alpha)


#: Largest episode count a simulated "how many episodes would catch it" search tries (each
#: step simulates the whole test hundreds of times; beyond this, scale from what n catches).
SIMULATED_SEARCH_LIMIT = 1024


def episodes_for_drop(
    side: Side, drop: float, rng_key: str, detected: float | None = None
) -> int | None:
    """About how many episodes catch ``drop`` below the line with probability POWER, for values
    spread like the observed ones. None when no practical number does.

    With bounds: the test itself, simulated at each candidate count up to
    SIMULATED_SEARCH_LIMIT episodes; beyond that (each step would simulate the whole test
    hundreds of times at thousands of episodes), scaled from the drop ``detected`` at this n,
    since the drop a betting test catches shrinks at least as fast as 1/sqrt(n).
    """
    n = side.values.size
    if side.bounds is not None:
        x, m = side.scaled
        scaled_drop = drop / (side.bounds[1] - side.bounds[0])
        state = int(rng_for(f"{rng_key}/feasibility").integers(0, 1 << 62))

        def caught(count: int) -> bool:
            if count > SIMULATED_SEARCH_LIMIT:
                return True  # ends the search: answered by scaling below
            generator = np.random.default_rng([state, count])
            power = betting.power_at(x, m, min(scaled_drop, m), side.alpha, generator, n=count)
            return power >= POWER

        found = smallest_n(caught, start=2)
        if found is not None and found <= SIMULATED_SEARCH_LIMIT:
            return found
        if detected is None:
            return None
        return max(SIMULATED_SEARCH_LIMIT + 1, math.ceil(n * (detected / drop) ** 2))
    sd = float(np.std(side.values, ddof=1)) if n > 1 else 0.0
    if sd == 0.0:
        return None
    from scipy import stats as scipy_stats

    def t_caught(count: int) -> bool:
        critical = float(scipy_stats.t.ppf(1 - side.alpha, count - 1))
        return float(scipy_stats.nct.sf(critical, count - 1, drop * math.sqrt(count) / sd)) >= POWER

    return smallest_n(t_caught, start=2)


# --------------------------------------------------------------------------------------------
# Student t (no bounds): scipy only here, imported when a check without bounds runs


def _t_bounds(values: FloatArray, alpha: float) -> tuple[float, float]:
    n = values.size
    mean = float(np.mean(values))
    if n < 2:
        return -math.inf, math.inf
    from scipy import stats as scipy_stats

    half = float(scipy_stats.t.ppf(1 - alpha, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean - half, mean + half


def _t_detectable_drop(n: int, sd: float, alpha: float) -> float:
    from scipy import optimize
    from scipy import stats as scipy_stats

    critical = float(scipy_stats.t.ppf(1 - alpha, n - 1))

    def power_gap(drop: float) -> float:
        return float(scipy_stats.nct.sf(critical, n - 1, drop * math.sqrt(n) / sd)) - POWER

    upper = sd
    while power_gap(upper) < 0:
        upper *= 2
    return float(optimize.brentq(power_gap, 0.0, upper, xtol=1e-9 * sd))


def t_cautions(values: FloatArray, quantity: str) -> list[str]:
    """Where Student t is known to flake more often than alpha on this data."""
    n = values.size
    cautions = []
    if n < T_MIN_EPISODES:
        cautions.append(
            f"Student t with only {n} episodes is unreliable on RL {quantity}s; pass "
            f"bounds=(lo, hi) for a valid test, or run at least {T_MIN_EPISODES} episodes"
        )
    if n >= 2:
        tied = largest_tie(values)
        if tied > n / 2:
            cautions.append(
                f"{tied} of {n} episodes tie at one {quantity}: the t interval is "
                "unreliable; pass bounds=(lo, hi) to use a betting test"
            )
        elif n >= 3:
            skew = _skewness(values)
            if abs(skew) > T_MAX_SKEW:
                cautions.append(
                    f"{quantity}s are strongly skewed (skewness {skew:.2f}): the t test may "
                    "flake more often than alpha; pass bounds=(lo, hi)"
                )
    return cautions


def largest_tie(values: FloatArray) -> int:
    """Size of the largest group of values equal up to float rounding (as :func:`no_spread`
    judges it: 0.1 + 0.2 - 0.3 ties with 0)."""
    if values.size == 0:
        return 0
    if no_spread(values):
        return int(values.size)
    scale = max(float(np.max(np.abs(values))), 1.0)
    ordered = np.sort(values)
    group = np.concatenate([[0], np.cumsum(np.diff(ordered) > TIE_TOLERANCE * scale)])
    return int(np.bincount(group).max())


def _skewness(values: FloatArray) -> float:
    """Sample skewness (biased, as scipy.stats.skew), computed here so that nearly constant
    data cannot raise scipy's precision-loss RuntimeWarning out of a check."""
    centred = values - float(np.mean(values))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        second = float(np.mean(centred**2))
        third = float(np.mean(centred**3))
        skew = third / second**1.5 if second > 0 else 0.0
    return skew if math.isfinite(skew) else 0.0
