"""Verdicts on episode returns: intervals, tests, the smallest detectable drop, and messages.

numpy and scipy only. See DESIGN.md section 3 for the measurements behind these choices:

* With known return bounds, betting confidence sequences (Waudby-Smith & Ramdas, "Estimating
  means of bounded random variables by betting", JRSS-B 2024) with the predictable plug-in bet
  truncated at ``c/m`` and ``c/(1-m)``. They are valid for any distribution on the bounds and at
  any stopping time, so the same code serves fixed-n and sequential checks.
* Without bounds, Student's t, with warnings where it is known to be unreliable.

All one-sided: a check of ``mean >= x`` at level alpha rejects when the evidence (the capital of
a bettor who bets that the mean is below x) reaches 1/alpha. By Ville's inequality a good agent
is failed with probability at most alpha, however many episodes are looked at.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize
from scipy import stats as scipy_stats

from .errors import (
    GymrecFailure,
    GymrecInconclusive,
    GymrecStatisticsWarning,
    GymrecUsageError,
)
from .formatting import fmt, format_seeds

FloatArray = npt.NDArray[np.float64]

#: Bet truncation of the hedged capital process (WSR use 1/2 or 3/4; 1/2 is their default).
BET_TRUNCATION = 0.5
#: Power at which "the smallest drop this n could detect" is stated.
POWER = 0.8
#: Bootstrap resamples for the detectable drop under betting (deterministic generator).
POWER_RESAMPLES = 256
#: Below this many episodes Student t is flagged as unreliable on RL returns.
T_MIN_EPISODES = 20
#: |sample skewness| above which t is flagged.
T_MAX_SKEW = 1.0


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Mode(str, enum.Enum):
    """What a check asks of the data."""

    #: Fail only on evidence of a regression (flake rate at most alpha).
    NO_REGRESSION = "no-regression"
    #: Pass only on evidence that the line is cleared.
    CERTIFY = "certify"

    @classmethod
    def parse(cls, value: object, source: str) -> Mode:
        if isinstance(value, Mode):
            return value
        try:
            return cls(str(value))
        except ValueError:
            choices = ", ".join(repr(mode.value) for mode in cls)
            raise GymrecUsageError(f"{source}: mode {value!r} is not one of {choices}") from None


@dataclasses.dataclass(frozen=True)
class Subject:
    """What was measured, for messages: an env label, the seeds, how to rerun it."""

    label: str
    seeds: tuple[int | None, ...]
    #: Command line that reruns the check, or None when not run under pytest.
    reproduce: str | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of one check and everything said about it."""

    outcome: Outcome
    #: Short statement of the check, e.g. ``"mean return >= 475"``.
    check: str
    mode: Mode
    method: str
    alpha: float
    n: int
    mean: float
    #: One-sided bounds at level alpha each: the verdict's bound is one end of it.
    low: float
    high: float
    #: Smallest drop below the line detected with probability POWER, or None if none is.
    detectable_drop: float | None
    message: str
    cautions: tuple[str, ...] = ()
    label: str = ""
    #: True when this check could not catch any drop at all (too few episodes for its bounds).
    blind: bool = False

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    def to_record(self) -> dict[str, Any]:
        """Plain data for reports (survives pytest-xdist's report serialisation)."""
        return {
            "env": self.label,
            "check": self.check,
            "outcome": self.outcome.value,
            "mode": self.mode.value,
            "method": self.method,
            "alpha": self.alpha,
            "episodes": self.n,
            "mean": self.mean,
            "low": self.low,
            "high": self.high,
            "detectable_drop": self.detectable_drop,
            "blind": self.blind,
        }

    def enforce(self, *, inconclusive_fails: bool = False) -> None:
        """Raise on FAIL; warn on INCONCLUSIVE and on doubtful assumptions.

        ``inconclusive_fails`` (``--gymrec-inconclusive fail``) raises on INCONCLUSIVE too.
        """
        __tracebackhide__ = True
        for caution in self.cautions:
            warnings.warn(GymrecStatisticsWarning(caution), stacklevel=3)
        if self.outcome is Outcome.FAIL or (
            self.outcome is Outcome.INCONCLUSIVE and inconclusive_fails
        ):
            raise GymrecFailure(self.message)
        if self.outcome is Outcome.INCONCLUSIVE:
            warnings.warn(GymrecInconclusive(self.message), stacklevel=3)


def rng_for(key: str) -> np.random.Generator:
    """A generator determined by ``key`` (a node id): the same verdict on every run."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


# --------------------------------------------------------------------------------------------
# Betting (values already scaled to [0, 1])


def predictable_bets(x: FloatArray, alpha: float) -> FloatArray:
    """Predictable plug-in bets: bet t uses only x[:t-1] (WSR eq. 26, prior mean 1/2, var 1/4).

    Works on the last axis, so a matrix of resamples is handled in one call.
    """
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

    The capital ``prod(1 - bet * (x - m))`` is a nonnegative supermartingale when the mean is
    at least ``m``, so it reaches 1/alpha with probability at most alpha (Ville). Bets are
    truncated at ``truncation/(1-m)`` so no single episode can take the capital to zero.
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


def evidence_above(
    x: FloatArray, bets: FloatArray, m: float, truncation: float = BET_TRUNCATION
) -> FloatArray:
    """Mirror of :func:`evidence_below`: evidence that the mean is above ``m``."""
    return evidence_below(1.0 - x, bets, 1.0 - m, truncation)


def betting_upper_bound(
    x: FloatArray,
    alpha: float,
    bets: FloatArray | None = None,
    truncation: float = BET_TRUNCATION,
) -> float:
    """Smallest m in [0, 1] that the data rejects as too high, at level alpha (anytime-valid).

    The evidence against m is nondecreasing in m (each factor ``1 - min(bet, c/(1-m))(x-m)``
    grows with m), so the rejected set is an interval [bound, 1] and bisection finds its end.
    ``bets`` default to the predictable plug-in; any bets that do not depend on m keep the
    monotonicity (the sequential test passes its own).
    """
    if bets is None:
        bets = predictable_bets(x, alpha)
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


def betting_lower_bound(
    x: FloatArray,
    alpha: float,
    bets: FloatArray | None = None,
    truncation: float = BET_TRUNCATION,
) -> float:
    return 1.0 - betting_upper_bound(1.0 - x, alpha, bets, truncation)


# --------------------------------------------------------------------------------------------
# The core of a one-sided check. Everything is phrased as "is the mean at least `line`?";
# at_most checks reflect the data (v -> -v) and reuse it.


@dataclasses.dataclass(frozen=True)
class Side:
    """One one-sided question, "is the mean of ``values`` at least ``line``?", at level alpha.

    ``at_most`` checks reflect their data (v -> -v) into this form; paired comparisons ask it of
    per-seed differences.
    """

    values: FloatArray
    line: float
    bounds: tuple[float, float] | None
    alpha: float


def _scaled(side: Side) -> tuple[FloatArray, float]:
    assert side.bounds is not None
    lo, hi = side.bounds
    return (side.values - lo) / (hi - lo), (side.line - lo) / (hi - lo)


def _unscale(value: float, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    return lo + value * (hi - lo)


def _bounds_of(side: Side) -> tuple[float, float]:
    """One-sided (lower, upper) confidence bounds on the mean, each at level alpha."""
    values, alpha = side.values, side.alpha
    if side.bounds is not None:
        x, _ = _scaled(side)
        return (
            _unscale(betting_lower_bound(x, alpha), side.bounds),
            _unscale(betting_upper_bound(x, alpha), side.bounds),
        )
    n = values.size
    mean = float(np.mean(values))
    if n < 2:
        return -math.inf, math.inf
    half = float(scipy_stats.t.ppf(1 - alpha, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean - half, mean + half


def _evidence_of_drop(side: Side) -> bool:
    """True when the data shows, at level alpha, that the mean is below the line."""
    if side.bounds is not None:
        x, m = _scaled(side)
        return bool(
            evidence_below(x, predictable_bets(x, side.alpha), m) >= math.log(1 / side.alpha)
        )
    return side.values.size >= 2 and _bounds_of(side)[1] < side.line


def _evidence_of_clearing(side: Side) -> bool:
    """True when the data shows, at level alpha, that the mean is at least the line."""
    if side.bounds is not None:
        x, m = _scaled(side)
        bets = predictable_bets(1.0 - x, side.alpha)
        return bool(evidence_below(1.0 - x, bets, 1.0 - m) >= math.log(1 / side.alpha))
    return side.values.size >= 2 and _bounds_of(side)[0] >= side.line


def detectable_drop(side: Side, rng: np.random.Generator) -> float | None:
    """Smallest drop d below the line that n episodes catch with probability POWER.

    With bounds: returns spread like the observed ones (resampled, shifted to mean line - d,
    clipped to the bounds) are fed to the same betting test; common random numbers keep the
    estimated power monotone in d. When every observed return is equal there is no spread to
    resample, and a regressed agent's returns would not all be equal either: then the returns
    are drawn from the bounds only, the widest spread a mean can have (see
    :func:`spread_assumption`). Without bounds: the noncentral t power, with the sample
    standard deviation as sigma. None when no drop within the bounds is caught.
    """
    values, n = side.values, side.values.size
    if side.bounds is None:
        if n < 2:
            return None
        sd = float(np.std(values, ddof=1))
        if sd == 0.0:
            return 0.0
        critical = float(scipy_stats.t.ppf(1 - side.alpha, n - 1))

        def t_power_gap(drop: float) -> float:
            noncentrality = drop * math.sqrt(n) / sd
            return float(scipy_stats.nct.sf(critical, n - 1, noncentrality)) - POWER

        upper = sd
        while t_power_gap(upper) < 0:
            upper *= 2
        return float(optimize.brentq(t_power_gap, 0.0, upper, xtol=1e-9 * sd))

    lo, hi = side.bounds
    largest = side.line - lo
    if largest <= 0:
        return None
    m = (side.line - lo) / (hi - lo)
    threshold = math.log(1 / side.alpha)
    if _no_spread(values):
        uniforms = rng.random((POWER_RESAMPLES, n))

        def scaled_returns(drop: float) -> FloatArray:
            # Each return at hi with the probability that gives mean line - drop, else at lo.
            chance_high = (side.line - drop - lo) / (hi - lo)
            return (uniforms < chance_high).astype(np.float64)

    else:
        indices = rng.integers(0, n, size=(POWER_RESAMPLES, n))
        centred = values[indices] - float(np.mean(values))

        def scaled_returns(drop: float) -> FloatArray:
            return (np.clip(centred + side.line - drop, lo, hi) - lo) / (hi - lo)

    def power(drop: float) -> float:
        x = scaled_returns(drop)
        caught = evidence_below(x, predictable_bets(x, side.alpha), m) >= threshold
        return float(np.mean(caught))

    if power(largest) < POWER:
        return None
    low, high = 0.0, largest
    for _ in range(30):
        middle = 0.5 * (low + high)
        if power(middle) >= POWER:
            high = middle
        else:
            low = middle
        if high - low <= 1e-4 * (hi - lo):
            break
    return high


#: Largest episode count any "how many episodes would it take" search considers.
EPISODE_SEARCH_LIMIT = 1 << 16


def smallest_n(enough: Callable[[int], bool], start: int = 1) -> int | None:
    """Smallest n >= ``start`` for which ``enough(n)`` holds, for an ``enough`` that stays true
    once true: doubling finds a sufficient n, bisection walks back to the smallest. None when
    no n up to EPISODE_SEARCH_LIMIT is enough."""
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


def _no_spread(values: FloatArray) -> bool:
    return bool(values.size > 0 and np.all(values == values[0]))


def spread_assumption(side: Side) -> str:
    """How :func:`detectable_drop` imagined a regressed agent's returns, for messages."""
    if side.bounds is not None and _no_spread(side.values):
        return (
            "if returns spread as widely as they can (all returns here were equal, which says "
            "nothing about how a regressed agent's would spread)"
        )
    return "if returns spread like these"


def episodes_needed(line: float, bounds: tuple[float, float], alpha: float) -> int | None:
    """Fewest episodes after which returns all at the lower bound would fail ``mean >= line``.

    Below that many episodes no agent, however bad, can fail the check: it is blind.
    """
    lo, hi = bounds
    m = (line - lo) / (hi - lo)
    if m <= 0:
        return None
    threshold = math.log(1 / alpha)

    def all_worst_fails(n: int) -> bool:
        x = np.zeros(n)
        return bool(evidence_below(x, predictable_bets(x, alpha), m) >= threshold)

    return smallest_n(all_worst_fails)


def _check_values(
    values: Sequence[float],
    seeds: Sequence[int | None],
    bounds: tuple[float, float] | None,
    bounds_source: str,
    quantity: str,
) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise GymrecUsageError(
            f"no episodes to check: the {quantity}s list is empty; run at least one episode "
            "(did the loop over gymrec.seeds finish an episode?)"
        )
    for flat_index in np.flatnonzero(~np.isfinite(array)):
        index = int(flat_index)
        raise GymrecUsageError(
            f"episode {index} (seed {seeds[index] if index < len(seeds) else '?'}) has "
            f"{quantity} {array[index]}; checks need finite {quantity}s"
        )
    if bounds is not None:
        lo, hi = bounds
        outside = np.flatnonzero((array < lo) | (array > hi))
        if outside.size:
            first = int(outside[0])
            seed = seeds[first] if first < len(seeds) else "?"
            raise GymrecUsageError(
                f"seed {seed} has {quantity} {fmt(float(array[first]))}, outside bounds "
                f"({fmt(lo)}, {fmt(hi)}) from {bounds_source} ({outside.size} of {array.size} "
                "episodes are outside); bounds must hold for every possible episode: widen "
                "them, or fix the env or the reward scale"
            )
    return array


def t_cautions(values: FloatArray, quantity: str) -> list[str]:
    n = values.size
    cautions = []
    if n < T_MIN_EPISODES:
        cautions.append(
            f"Student t with only {n} episodes is unreliable on RL {quantity}s; pass "
            f"bounds=(lo, hi) for a valid test, or run at least {T_MIN_EPISODES} episodes"
        )
    if n >= 2:
        _, counts = np.unique(values, return_counts=True)
        if counts.max() > n / 2:
            cautions.append(
                f"{counts.max()} of {n} episodes tie at one {quantity}: the t interval is "
                "unreliable; pass bounds=(lo, hi) to use betting confidence sequences"
            )
        elif n >= 3 and float(np.std(values)) > 0:
            skew = float(scipy_stats.skew(values))
            if abs(skew) > T_MAX_SKEW:
                cautions.append(
                    f"{quantity}s are strongly skewed (skewness {skew:.2f}): the t test may "
                    "flake more often than alpha; pass bounds=(lo, hi)"
                )
    return cautions


# --------------------------------------------------------------------------------------------
# The check


def check_mean(
    values: Sequence[float],
    *,
    at_least: float | None,
    at_most: float | None,
    alpha: float,
    bounds: tuple[float, float] | None,
    mode: Mode,
    rng: np.random.Generator,
    subject: Subject,
    bounds_source: str = "the call",
    quantity: str = "return",
) -> Verdict:
    """Decide whether the mean of ``values`` meets ``at_least`` and/or ``at_most``."""
    if at_least is None and at_most is None:
        raise GymrecUsageError(
            f"assert_{quantity}() needs at_least= or at_most= (the line a good agent meets)"
        )
    for name, line in (("at_least", at_least), ("at_most", at_most)):
        if line is not None and not (isinstance(line, (int, float)) and math.isfinite(line)):
            raise GymrecUsageError(f"{name}={line!r} must be a finite number")
    if at_least is not None and at_most is not None and at_least > at_most:
        raise GymrecUsageError(
            f"at_least={at_least} is above at_most={at_most}: no mean can satisfy both"
        )
    array = _check_values(values, subject.seeds, bounds, bounds_source, quantity)
    if bounds is not None:
        for name, line in (("at_least", at_least), ("at_most", at_most)):
            if line is not None and not bounds[0] <= line <= bounds[1]:
                raise GymrecUsageError(
                    f"{name}={fmt(line)} lies outside bounds ({fmt(bounds[0])}, "
                    f"{fmt(bounds[1])}) from {bounds_source}: the check could never decide"
                )

    # Two lines are two tests: split alpha so the flake rate of the pair stays at most alpha.
    lines = [(direction, line) for direction, line in (("above", at_least), ("below", at_most))]
    lines = [(direction, line) for direction, line in lines if line is not None]
    side_alpha = alpha / len(lines)
    method = (
        f"betting confidence sequence, bounds ({fmt(bounds[0])}, {fmt(bounds[1])})"
        if bounds is not None
        else "Student t"
    )
    n, mean = array.size, float(np.mean(array))

    outcomes: list[Outcome] = []
    reports: list[str] = []
    drops: list[float | None] = []
    for direction, line in lines:
        assert line is not None
        # Reflect "mean <= line" into "-mean >= -line" so one code path serves both.
        sign = 1.0 if direction == "above" else -1.0
        reflected_bounds = (
            None
            if bounds is None
            else (min(sign * bounds[0], sign * bounds[1]), max(sign * bounds[0], sign * bounds[1]))
        )
        side = Side(sign * array, sign * line, reflected_bounds, side_alpha)
        outcome = _decide(side, mode)
        drop = detectable_drop(side, rng) if mode is Mode.NO_REGRESSION else None
        outcomes.append(outcome)
        drops.append(drop)
        reports.append(_explain(side, direction, line, mode, outcome, drop, quantity))

    if Outcome.FAIL in outcomes:
        outcome = Outcome.FAIL
    elif Outcome.INCONCLUSIVE in outcomes:
        outcome = Outcome.INCONCLUSIVE
    else:
        outcome = Outcome.PASS

    low, high = _bounds_of(Side(array, 0.0, bounds, side_alpha))
    cautions = t_cautions(array, quantity) if bounds is None else []
    check = " and ".join(
        f"mean {quantity} {'>=' if direction == 'above' else '<='} {fmt(line)}"
        for direction, line in lines
    )
    message = _message(
        outcome=outcome,
        check=check,
        mode=mode,
        alpha=alpha,
        method=method,
        array=array,
        low=low,
        high=high,
        side_alpha=side_alpha,
        bounds=bounds,
        subject=subject,
        reports=reports,
        cautions=cautions,
        quantity=quantity,
    )
    finite_drops = [drop for drop in drops if drop is not None]
    return Verdict(
        outcome=outcome,
        check=check,
        mode=mode,
        method=method,
        alpha=alpha,
        n=n,
        mean=mean,
        low=low,
        high=high,
        detectable_drop=max(finite_drops) if len(finite_drops) == len(drops) else None,
        message=message,
        cautions=tuple(cautions),
        label=subject.label,
        blind=mode is Mode.NO_REGRESSION and bounds is not None and None in drops,
    )


def _decide(side: Side, mode: Mode) -> Outcome:
    if side.bounds is None and side.values.size < 2:
        return Outcome.INCONCLUSIVE
    if mode is Mode.CERTIFY:
        return Outcome.PASS if _evidence_of_clearing(side) else Outcome.FAIL
    return Outcome.FAIL if _evidence_of_drop(side) else Outcome.PASS


def _explain(
    side: Side,
    direction: str,
    line: float,
    mode: Mode,
    outcome: Outcome,
    drop: float | None,
    quantity: str,
) -> str:
    """The rule of one side, how the data met it, and what it could not see."""
    level = f"{100 * (1 - side.alpha):g}%"
    low, high = _bounds_of(side)
    # Undo the reflection for at_most: the bound that matters is then the lower one.
    bound_name = "upper" if direction == "above" else "lower"
    bound = high if direction == "above" else -high
    opposite = low if direction == "above" else -low
    worse = "below" if direction == "above" else "above"
    shift = "drop" if direction == "above" else "rise"
    if side.bounds is None and side.values.size < 2:
        return (
            f"rule: cannot decide from {side.values.size} episode without bounds: Student t "
            "needs at least 2; pass bounds=(lo, hi) or run more seeds"
        )
    if mode is Mode.CERTIFY:
        rule = (
            f"rule (certify): pass only when the {level} "
            f"{'lower' if direction == 'above' else 'upper'} confidence bound clears {fmt(line)}"
        )
        met = "clears" if outcome is Outcome.PASS else "does not clear"
        return f"{rule}; here {fmt(opposite)} {met} it"
    rule = (
        f"rule (no-regression): fail only on evidence that the mean {quantity} is {worse} "
        f"{fmt(line)}, i.e. when the {level} {bound_name} confidence bound is {worse} it"
    )
    relation = "<" if direction == "above" else ">"
    if outcome is Outcome.FAIL:
        text = f"{rule}; here {fmt(bound)} {relation} {fmt(line)}"
    else:
        text = f"{rule}; here {fmt(bound)} is not {worse} it"
    n = side.values.size
    if drop is not None:
        text += (
            f"\ndetectable: a {shift} of {fmt(drop)} {worse} {fmt(line)} (to "
            f"{fmt(line - drop if direction == 'above' else line + drop)}) is caught with "
            f"{POWER:.0%} probability at n={n} {spread_assumption(side)}; smaller {shift}s may "
            "pass"
        )
    elif side.bounds is not None:
        needed = episodes_needed(side.line, side.bounds, side.alpha)
        more = f"; at least {needed} episodes are needed" if needed is not None else ""
        text += (
            f"\nblind: with n={n} no {shift} {worse} {fmt(line)} within the bounds would be "
            f"caught, not even every episode at the worst bound{more}"
        )
    return text


def _message(
    *,
    outcome: Outcome,
    check: str,
    mode: Mode,
    alpha: float,
    method: str,
    array: FloatArray,
    low: float,
    high: float,
    side_alpha: float,
    bounds: tuple[float, float] | None,
    subject: Subject,
    reports: list[str],
    cautions: list[str],
    quantity: str,
) -> str:
    n = array.size
    head = {
        Outcome.FAIL: "FAILED",
        Outcome.PASS: "passed",
        Outcome.INCONCLUSIVE: "INCONCLUSIVE",
    }[outcome]
    lines = [
        f"gymrec: {subject.label}: {check} {head} ({mode.value}, alpha={fmt(alpha)})",
        f"mean {quantity} {fmt(float(np.mean(array)))} over {n} episode{'s' * (n != 1)}"
        f" (seeds {format_seeds(subject.seeds)}); {100 * (1 - 2 * side_alpha):g}% interval "
        f"[{fmt(low)}, {fmt(high)}] ({method})",
        *reports,
    ]
    if bounds is not None:
        at_lo = int(np.sum(array == bounds[0]))
        at_hi = int(np.sum(array == bounds[1]))
        lines.append(
            f"tied at a bound: {at_hi} of {n} at {fmt(bounds[1])}, {at_lo} at {fmt(bounds[0])}"
        )
    order = np.argsort(array, kind="stable")[:3]
    lowest = ", ".join(
        f"seed {subject.seeds[i] if i < len(subject.seeds) else '?'}: {fmt(float(array[i]))}"
        for i in order
    )
    lines.append(f"lowest {quantity}s: {lowest}")
    lines.extend(f"caution: {caution}" for caution in cautions)
    if subject.reproduce:
        lines.append(f"reproduce: {subject.reproduce}")
    return "\n".join(lines)
