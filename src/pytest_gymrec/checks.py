"""More fixed-n checks on episodes: success rate, quantiles, and whether a check can see a drop.

Same semantics as :func:`pytest_gymrec.stats.check_mean`: ``no-regression`` (default) fails only
on evidence at level alpha that the line is missed; ``certify`` passes only on evidence that it
is met. Both are exact:

* success rate: the binomial test, with Clopper-Pearson bounds (its exact dual);
* quantiles: the distribution-free order-statistic (sign) test: "the q-quantile is at least x"
  means at most a fraction q of episodes fall below x, and the count below x is binomial.

numpy and scipy only. Messages are built here, in the style of :mod:`pytest_gymrec.stats`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as scipy_stats

from . import stats
from .errors import GymrecUsageError
from .formatting import fmt, format_seeds
from .stats import POWER, FloatArray, Mode, Outcome, Subject, Verdict

#: Bootstrap resamples for "how many episodes would see this drop" under betting.
FEASIBILITY_RESAMPLES = 256
#: Largest episode count a feasibility search reports exactly.
FEASIBILITY_LIMIT = stats.EPISODE_SEARCH_LIMIT


def _head(outcome: Outcome) -> str:
    return {Outcome.FAIL: "FAILED", Outcome.PASS: "passed", Outcome.INCONCLUSIVE: "INCONCLUSIVE"}[
        outcome
    ]


def _line(value: object, name: str, caller: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise GymrecUsageError(f"{caller}: {name}={value!r} must be a finite number")
    return float(value)


# --------------------------------------------------------------------------------------------
# Success rate


def successes_of(
    episodes: Sequence[Any], success: Callable[[Any], object], caller: str
) -> list[bool]:
    """Apply the user's per-episode predicate; a raise or a non-boolean is a usage error."""
    if not callable(success):
        raise GymrecUsageError(
            f"{caller}: success={success!r} must be a callable Episode -> bool, e.g. "
            "success=lambda episode: episode.return_ >= 200"
        )
    name = getattr(success, "__name__", type(success).__name__)
    results: list[bool] = []
    for episode in episodes:
        try:
            value = success(episode)
        except Exception as exc:
            raise GymrecUsageError(
                f"{caller}: the success predicate {name} raised {type(exc).__name__}: {exc} on "
                f"the episode with seed {episode.seed}; it must return True or False for every "
                "Episode (fields: seed, return_, length, terminated, truncated, error)"
            ) from exc
        if isinstance(value, (bool, np.bool_)):
            results.append(bool(value))
        else:
            raise GymrecUsageError(
                f"{caller}: the success predicate {name} returned {value!r} for the episode "
                f"with seed {episode.seed}; it must return True or False"
            )
    return results


def rate_fails(k: Any, n: int, rate: float, alpha: float) -> Any:
    """No-regression rule: evidence at level alpha that the success rate is below ``rate``.

    Vectorised over ``k`` (success counts). Exact: P(Binomial(n, rate) <= k) <= alpha.
    """
    return scipy_stats.binom.cdf(k, n, rate) <= alpha


def rate_certified(k: Any, n: int, rate: float, alpha: float) -> Any:
    """Certify rule: evidence at level alpha that the success rate is at least ``rate``."""
    return scipy_stats.binom.sf(np.asarray(k) - 1, n, rate) <= alpha


def clopper_pearson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """One-sided exact bounds on a rate, each at level alpha."""
    low = 0.0 if k == 0 else float(scipy_stats.beta.ppf(alpha, k, n - k + 1))
    high = 1.0 if k == n else float(scipy_stats.beta.ppf(1 - alpha, k + 1, n - k))
    return low, high


def _largest_failing_count(n: int, rate: float, alpha: float) -> int | None:
    """Largest success count that fails ``rate >= line``, or None when none does."""
    counts = np.arange(n + 1)
    failing = counts[rate_fails(counts, n, rate, alpha)]
    return int(failing.max()) if failing.size else None


def rate_detectable_drop(n: int, rate: float, alpha: float) -> float | None:
    """Smallest drop of the true rate below ``rate`` caught with probability POWER at n."""
    critical = _largest_failing_count(n, rate, alpha)
    if critical is None:
        return None

    def power_gap(true_rate: float) -> float:
        return float(scipy_stats.binom.cdf(critical, n, true_rate)) - POWER

    if power_gap(0.0) < 0:
        return None
    caught_rate = float(optimize.brentq(power_gap, 0.0, rate, xtol=1e-9))
    return rate - caught_rate


def rate_episodes_needed(rate: float, drop: float, alpha: float) -> int | None:
    """Fewest episodes after which a rate ``rate - drop`` is caught with probability POWER."""
    true_rate = rate - drop
    n = 1
    while n <= FEASIBILITY_LIMIT:
        critical = _largest_failing_count(n, rate, alpha)
        if critical is not None and scipy_stats.binom.cdf(critical, n, true_rate) >= POWER:
            return n
        n = n + 1 if n < 64 else int(n * 1.05)
    return None


def check_success_rate(
    successes: Sequence[bool],
    *,
    at_least: object,
    alpha: float,
    mode: Mode,
    subject: Subject,
    tolerance: float | None,
    predicate_name: str,
) -> Verdict:
    caller = "assert_success_rate()"
    rate = _line(at_least, "at_least", caller)
    if not 0.0 <= rate <= 1.0:
        raise GymrecUsageError(
            f"{caller}: at_least={at_least!r} must be a rate in [0, 1] (e.g. 0.9 for 90%)"
        )
    n = len(successes)
    if n == 0:
        raise GymrecUsageError(f"{caller}: no episodes to check; run at least one episode")
    k = int(sum(successes))
    low, high = clopper_pearson(k, n, alpha)
    level = f"{100 * (1 - alpha):g}%"
    check = f"success rate >= {fmt(rate)} ({predicate_name})"
    if mode is Mode.CERTIFY:
        outcome = Outcome.PASS if bool(rate_certified(k, n, rate, alpha)) else Outcome.FAIL
        met = "clears" if outcome is Outcome.PASS else "does not clear"
        report = (
            f"rule (certify): pass only when the {level} lower confidence bound clears "
            f"{fmt(rate)}; here {fmt(low)} {met} it"
        )
        drop = None
    else:
        outcome = Outcome.FAIL if bool(rate_fails(k, n, rate, alpha)) else Outcome.PASS
        report = (
            f"rule (no-regression): fail only on evidence that the success rate is below "
            f"{fmt(rate)}, i.e. when the {level} upper confidence bound is below it; here "
            + (f"{fmt(high)} < {fmt(rate)}" if outcome is Outcome.FAIL else f"{fmt(high)} is not")
        )
        drop = rate_detectable_drop(n, rate, alpha)
        if drop is not None:
            report += (
                f"\ndetectable: a drop of {fmt(drop)} below {fmt(rate)} (to {fmt(rate - drop)}) "
                f"is caught with {POWER:.0%} probability at n={n}; smaller drops may pass"
            )
        else:
            needed = stats.smallest_n(lambda n: bool(rate_fails(0, n, rate, alpha)))
            more = f"; at least {needed} episodes are needed" if needed is not None else ""
            report += f"\nblind: with n={n} not even zero successes would fail this check{more}"
    cautions: list[str] = []
    if tolerance is not None and mode is Mode.NO_REGRESSION:
        wanted = tolerance * rate
        if drop is None or drop > wanted:
            needed_n = rate_episodes_needed(rate, wanted, alpha)
            caution = _cannot_see(n, wanted, rate, tolerance, needed_n, "success rate")
            report += f"\n{caution}"
            cautions.append(caution)
    failures = n - k
    lines = [
        f"gymrec: {subject.label}: {check} {_head(outcome)} ({mode.value}, alpha={fmt(alpha)})",
        f"success rate {fmt(k / n)}: {k} of {n} episodes (seeds {format_seeds(subject.seeds)}); "
        f"{100 * (1 - 2 * alpha):g}% interval [{fmt(low)}, {fmt(high)}] (exact binomial, "
        "Clopper-Pearson)",
        report,
    ]
    unsuccessful = [seed for seed, ok in zip(subject.seeds, successes, strict=True) if not ok]
    if failures:
        lines.append(f"not successful ({failures}): seeds {format_seeds(unsuccessful)}")
    if subject.reproduce:
        lines.append(f"reproduce: {subject.reproduce}")
    return Verdict(
        outcome=outcome,
        check=check,
        mode=mode,
        method="exact binomial",
        alpha=alpha,
        n=n,
        mean=k / n,
        low=low,
        high=high,
        detectable_drop=drop,
        message="\n".join(lines),
        cautions=tuple(cautions),
        label=subject.label,
    )


# --------------------------------------------------------------------------------------------
# Quantiles


def quantile_fails(below: Any, n: int, q: float, alpha: float) -> Any:
    """No-regression rule for "the q-quantile is at least x", from the count below x.

    A good agent has P(value < x) <= q, so the count below x is at most Binomial(n, q)
    (stochastically): fail when P(Binomial(n, q) >= count) <= alpha. Vectorised over counts.
    """
    return scipy_stats.binom.sf(np.asarray(below) - 1, n, q) <= alpha


def quantile_certified(below: Any, n: int, q: float, alpha: float) -> Any:
    """Certify rule: evidence that P(value < x) < q, i.e. few enough episodes below x."""
    return scipy_stats.binom.cdf(below, n, q) <= alpha


def _all_bad_fails(n: int, *, q: float, alpha: float) -> bool:
    """Whether n episodes, every one on the wrong side of the line, fail the quantile rule."""
    return bool(quantile_fails(n, n, q, alpha))


def quantile_bounds(values: FloatArray, q: float, alpha: float) -> tuple[float, float]:
    """One-sided order-statistic bounds on the q-quantile, each at level alpha.

    The upper bound is the largest x the no-regression rule accepts, the lower bound the
    largest x the certify rule certifies; so each rule's decision is "line beyond bound".
    """
    ordered = np.sort(values)
    n = ordered.size
    counts = np.arange(n + 1)
    failing = counts[quantile_fails(counts, n, q, alpha)]
    high = float(ordered[int(failing.min()) - 1]) if failing.size else math.inf
    certified = counts[quantile_certified(counts, n, q, alpha)]
    low = float(ordered[int(certified.max())]) if certified.size else -math.inf
    return low, high


def check_quantile(
    values: Sequence[float],
    q: object,
    *,
    at_least: object,
    at_most: object,
    alpha: float,
    mode: Mode,
    subject: Subject,
    quantity: str,
) -> tuple[Verdict, list[int]]:
    """Decide whether the q-quantile of ``values`` meets the line(s).

    Returns the verdict and the indices of episodes on the wrong side of a line.
    """
    caller = "assert_quantile()"
    level_q = _line(q, "q", caller)
    if not 0.0 < level_q < 1.0:
        raise GymrecUsageError(
            f"{caller}: q={q!r} must be strictly between 0 and 1 (e.g. 0.1 for the 10th percentile)"
        )
    if at_least is None and at_most is None:
        raise GymrecUsageError(f"{caller} needs at_least= or at_most=")
    lines_given = [
        (direction, _line(value, name, caller))
        for direction, name, value in (
            ("above", "at_least", at_least),
            ("below", "at_most", at_most),
        )
        if value is not None
    ]
    array = np.asarray(values, dtype=np.float64)
    n = array.size
    if n == 0:
        raise GymrecUsageError(f"{caller}: no episodes to check; run at least one episode")
    if not np.all(np.isfinite(array)):
        index = int(np.flatnonzero(~np.isfinite(array))[0])
        raise GymrecUsageError(
            f"{caller}: the episode with seed {subject.seeds[index]} has {quantity} "
            f"{array[index]}; checks need finite values"
        )
    side_alpha = alpha / len(lines_given)  # two lines are two tests: split alpha
    level = f"{100 * (1 - side_alpha):g}%"
    name = f"{100 * level_q:g}th percentile"
    outcomes: list[Outcome] = []
    reports: list[str] = []
    offending: list[int] = []
    for direction, line in lines_given:
        # Reflect "q-quantile <= x" into "(1-q)-quantile of -values >= -x".
        sign = 1.0 if direction == "above" else -1.0
        side_q = level_q if direction == "above" else 1.0 - level_q
        reflected = sign * array
        wrong = np.flatnonzero(reflected < sign * line)
        count = int(wrong.size)
        low, high = quantile_bounds(reflected, side_q, side_alpha)
        worse = "below" if direction == "above" else "above"
        allowed = side_q
        if mode is Mode.CERTIFY:
            ok = bool(quantile_certified(count, n, side_q, side_alpha))
            outcome = Outcome.PASS if ok else Outcome.FAIL
            bound = low if direction == "above" else -low
            report = (
                f"rule (certify): pass only when the {level} "
                f"{'lower' if direction == 'above' else 'upper'} confidence bound of the {name} "
                f"clears {fmt(line)}; here {fmt(bound)} {'clears' if ok else 'does not clear'} it"
            )
        else:
            bad = bool(quantile_fails(count, n, side_q, side_alpha))
            outcome = Outcome.FAIL if bad else Outcome.PASS
            bound = high if direction == "above" else -high
            report = (
                f"rule (no-regression): fail only on evidence that the {name} is {worse} "
                f"{fmt(line)}, i.e. that more than {fmt(100 * allowed)}% of episodes are {worse} "
                f"it; here {count} of {n} are (the {level} "
                f"{'upper' if direction == 'above' else 'lower'} bound is {fmt(bound)})"
            )
            counts = np.arange(n + 1)
            failing = counts[quantile_fails(counts, n, side_q, side_alpha)]
            if failing.size:
                needed = int(failing.min())

                def power_gap(p: float, needed: int = needed) -> float:
                    return float(scipy_stats.binom.sf(needed - 1, n, p)) - POWER

                p_caught = float(optimize.brentq(power_gap, side_q, 1.0, xtol=1e-9))
                report += (
                    f"\ndetectable: caught with {POWER:.0%} probability at n={n} once "
                    f"{fmt(100 * p_caught)}% of episodes fall {worse} {fmt(line)} "
                    f"({fmt(100 * allowed)}% allowed); fewer may pass"
                )
            else:
                needed_n = stats.smallest_n(
                    functools.partial(_all_bad_fails, q=side_q, alpha=side_alpha)
                )
                report += (
                    f"\nblind: with n={n} not even every episode {worse} {fmt(line)} would fail "
                    f"this check; at least {needed_n} episodes are needed"
                )
        if outcome is not Outcome.PASS:
            offending.extend(int(i) for i in wrong)
        outcomes.append(outcome)
        reports.append(report)
    outcome = Outcome.FAIL if Outcome.FAIL in outcomes else Outcome.PASS
    check = " and ".join(
        f"{name} of {quantity} {'>=' if direction == 'above' else '<='} {fmt(line)}"
        for direction, line in lines_given
    )
    estimate = float(np.quantile(array, level_q, method="inverted_cdf"))
    lower_bound, _ = quantile_bounds(array, level_q, side_alpha)
    _, upper_bound = quantile_bounds(array, level_q, side_alpha)
    order = np.argsort(array, kind="stable")[:3]
    lowest = ", ".join(f"seed {subject.seeds[i]}: {fmt(float(array[i]))}" for i in order)
    message_lines = [
        f"gymrec: {subject.label}: {check} {_head(outcome)} ({mode.value}, alpha={fmt(alpha)})",
        f"{name} of {quantity} {fmt(estimate)} over {n} episode{'s' * (n != 1)} (seeds "
        f"{format_seeds(subject.seeds)}); {100 * (1 - 2 * side_alpha):g}% interval "
        f"[{fmt(lower_bound)}, {fmt(upper_bound)}] (order statistics, distribution-free)",
        *reports,
        f"lowest {quantity}s: {lowest}",
    ]
    if subject.reproduce:
        message_lines.append(f"reproduce: {subject.reproduce}")
    verdict = Verdict(
        outcome=outcome,
        check=check,
        mode=mode,
        method="order-statistic (sign) test",
        alpha=alpha,
        n=n,
        mean=estimate,
        low=lower_bound,
        high=upper_bound,
        detectable_drop=None,
        message="\n".join(message_lines),
        label=subject.label,
    )
    return verdict, sorted(set(offending))


# --------------------------------------------------------------------------------------------
# Feasibility of a fixed-n mean check


def _betting_power(
    values: FloatArray,
    line: float,
    drop: float,
    bounds: tuple[float, float],
    alpha: float,
    n: int,
    rng: np.random.Generator,
) -> float:
    """Probability that n episodes spread like ``values``, with mean ``line - drop``, fail
    ``mean >= line`` under the betting check (resampled as stats.detectable_drop does)."""
    lo, hi = bounds
    indices = rng.integers(0, values.size, size=(FEASIBILITY_RESAMPLES, n))
    centred = values[indices] - float(np.mean(values))
    x = (np.clip(centred + line - drop, lo, hi) - lo) / (hi - lo)
    m = (line - lo) / (hi - lo)
    caught = stats.evidence_below(x, stats.predictable_bets(x, alpha), m) >= math.log(1 / alpha)
    return float(np.mean(caught))


def mean_episodes_needed(
    values: Sequence[float],
    *,
    line: float,
    drop: float,
    bounds: tuple[float, float] | None,
    alpha: float,
    rng_key: str,
) -> int | None:
    """Fewest episodes that catch a drop of ``drop`` below ``line`` with probability POWER.

    With bounds: the betting check on returns spread like the observed ones (a fixed
    generator per n, so the answer is deterministic). Without: the noncentral t power with the
    sample standard deviation. None when no count up to FEASIBILITY_LIMIT does.
    """
    array = np.asarray(values, dtype=np.float64)

    def caught(n: int) -> bool:
        if bounds is None:
            if n < 2:
                return False
            sd = float(np.std(array, ddof=1)) if array.size > 1 else 0.0
            if sd == 0.0:
                return True
            critical = float(scipy_stats.t.ppf(1 - alpha, n - 1))
            power = float(scipy_stats.nct.sf(critical, n - 1, drop * math.sqrt(n) / sd))
            return power >= POWER
        rng = stats.rng_for(f"{rng_key}/feasibility/{n}")
        return _betting_power(array, line, drop, bounds, alpha, n, rng) >= POWER

    return stats.smallest_n(caught, start=2)


def _cannot_see(
    n: int, wanted: float, line: float, tolerance: float, needed: int | None, quantity: str
) -> str:
    more = (
        f"about {needed} episodes would catch it with {POWER:.0%} probability"
        if needed is not None
        else f"no practical number of episodes (up to {FEASIBILITY_LIMIT}) would"
    )
    return (
        f"cannot see: with n={n} a drop of {fmt(wanted)} in the {quantity} (tolerance "
        f"{fmt(tolerance)} x |{fmt(line)}|, to {fmt(line - wanted)}) is likely to pass "
        f"unnoticed; {more}"
    )


def with_feasibility(
    verdict: Verdict,
    values: Sequence[float],
    *,
    at_least: float,
    tolerance: float,
    bounds: tuple[float, float] | None,
    alpha: float,
    rng_key: str,
) -> Verdict:
    """The verdict, plus a caution when it could not have caught the drop the user declared."""
    wanted = tolerance * abs(at_least)
    if verdict.detectable_drop is not None and verdict.detectable_drop <= wanted:
        return verdict
    needed = mean_episodes_needed(
        values, line=at_least, drop=wanted, bounds=bounds, alpha=alpha, rng_key=rng_key
    )
    caution = _cannot_see(verdict.n, wanted, at_least, tolerance, needed, "mean return")
    message_lines = verdict.message.split("\n")
    # Before the trailing "reproduce:" line, so the command stays last.
    position = len(message_lines) - (1 if message_lines[-1].startswith("reproduce:") else 0)
    message_lines.insert(position, caution)
    return dataclasses.replace(
        verdict, message="\n".join(message_lines), cautions=(*verdict.cautions, caution)
    )
