"""The success-rate check: the exact binomial test, with Clopper-Pearson bounds (its dual).

Same semantics as the mean check: ``no-regression`` fails only on evidence at level alpha that
the rate is below the line; ``certify`` passes only on evidence that it is at least the line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as scipy_stats

from ..errors import GymrecUsageError, ask_yes_or_no
from ..formatting import fmt, format_seeds
from ..verdict import POWER, Estimate, Kind, Mode, Outcome, Sight, Subject, Verdict
from . import core
from .common import EPISODE_SEARCH_LIMIT, smallest_n
from .pipeline import Decision

CALLER = "assert_success_rate()"


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
    return [
        ask_yes_or_no(
            success,
            episode,
            asked=f"{caller}: the success predicate {name}",
            of=f"the episode with seed {episode.seed}",
            hint=(
                "it must return True or False for every Episode (fields: seed, return_, length, "
                "terminated, truncated, error)"
            ),
        )
        for episode in episodes
    ]


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
    """Fewest episodes after which a rate ``rate - drop`` is caught with probability POWER.

    Power is not monotone in n for a discrete test (it saws up and down), so this walks n
    upward instead of bisecting.
    """
    true_rate = rate - drop
    n = 1
    while n <= EPISODE_SEARCH_LIMIT:
        critical = _largest_failing_count(n, rate, alpha)
        if critical is not None and scipy_stats.binom.cdf(critical, n, true_rate) >= POWER:
            return n
        n = n + 1 if n < 64 else int(n * 1.05)
    return None


def decide_success_rate(
    successes: Sequence[bool],
    *,
    at_least: object,
    alpha: float,
    mode: Mode,
    subject: Subject,
    tolerance: float | None,
    predicate_name: str,
) -> Decision:
    rate = core.finite_number(at_least, "at_least", CALLER)
    if not 0.0 <= rate <= 1.0:
        raise GymrecUsageError(
            f"{CALLER}: at_least={at_least!r} must be a rate in [0, 1] (e.g. 0.9 for 90%)"
        )
    n = len(successes)
    if n == 0:
        raise GymrecUsageError(f"{CALLER}: no episodes to check; run at least one episode")
    k = int(sum(successes))
    low, high = clopper_pearson(k, n, alpha)
    estimate = Estimate(
        statistic=f"success rate ({k} of {n})",
        n=n,
        value=k / n,
        low=low,
        high=high,
        coverage=1 - 2 * alpha,
    )
    level = f"{100 * (1 - alpha):g}%"
    sights: tuple[Sight, ...] = ()
    if mode is Mode.CERTIFY:
        outcome = Outcome.PASS if bool(rate_certified(k, n, rate, alpha)) else Outcome.FAIL
        met = "clears" if outcome is Outcome.PASS else "does not clear"
        rule = (
            f"rule (certify): pass only when the {level} lower confidence bound clears "
            f"{fmt(rate)}; here {fmt(low)} {met} it"
        )
    else:
        outcome = Outcome.FAIL if bool(rate_fails(k, n, rate, alpha)) else Outcome.PASS
        here = f"{fmt(high)} < {fmt(rate)}" if outcome is Outcome.FAIL else f"{fmt(high)} is not"
        rule = (
            f"rule (no-regression): fail only on evidence that the success rate is below "
            f"{fmt(rate)}, i.e. when the {level} upper confidence bound is below it; here {here}"
        )
        drop = rate_detectable_drop(n, rate, alpha)
        wanted = tolerance * rate if tolerance is not None else None
        sight = Sight(
            line=rate,
            direction="below",
            drop=drop,
            needed=(
                smallest_n(lambda count: bool(rate_fails(0, count, rate, alpha)))
                if drop is None
                else None
            ),
            wanted=wanted,
            wanted_needed=(
                rate_episodes_needed(rate, wanted, alpha)
                if wanted is not None and (drop is None or drop > wanted)
                else None
            ),
        )
        sights = (sight,)
        if outcome is Outcome.PASS and drop is None:
            outcome = Outcome.BLIND
        elif outcome is Outcome.PASS and wanted is not None and (drop is None or drop > wanted):
            outcome = Outcome.INCONCLUSIVE
    unsuccessful = tuple(seed for seed, ok in zip(subject.seeds, successes, strict=False) if not ok)
    facts = (f"not successful ({n - k}): seeds {format_seeds(unsuccessful)}",) if n - k else ()
    verdict = Verdict(
        outcome=outcome,
        kind=Kind.SUCCESS_RATE,
        check=f"success rate >= {fmt(rate)} ({predicate_name})",
        mode=mode,
        method="exact binomial, Clopper-Pearson",
        alpha=alpha,
        subject=subject,
        estimate=estimate,
        line=rate,
        tolerance=tolerance,
        rules=(rule,),
        sights=sights,
        facts=facts,
        values=tuple(float(ok) for ok in successes),
    )
    flagged = tuple(
        (index, f"not a success ({predicate_name})") for index, ok in enumerate(successes) if not ok
    )
    return Decision(verdict, flagged)
