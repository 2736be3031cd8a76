"""The quantile check: the distribution-free order-statistic (sign) test, exact at any n.

"The q-quantile is at least x" means at most a fraction q of episodes fall below x, and the
count below x is binomial. Same semantics as the mean check (no-regression / certify).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as scipy_stats

from ..errors import GymrecUsageError
from ..formatting import fmt
from ..verdict import POWER, Estimate, Kind, Mode, Outcome, Sight, Subject, Verdict, lowest_listing
from . import core
from .common import smallest_n
from .pipeline import Decision

CALLER = "assert_quantile()"
FloatArray = core.FloatArray


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


def decide_quantile(
    values: Sequence[float] | FloatArray,
    q: object,
    *,
    at_least: object,
    at_most: object,
    alpha: float,
    mode: Mode,
    subject: Subject,
    quantity: str,
) -> Decision:
    """Decide whether the q-quantile of ``values`` meets the line(s); episodes on the wrong side
    of a line that was not passed are flagged."""
    level_q = core.finite_number(q, "q", CALLER)
    if not 0.0 < level_q < 1.0:
        raise GymrecUsageError(
            f"{CALLER}: q={q!r} must be strictly between 0 and 1 (e.g. 0.1 for the 10th percentile)"
        )
    given = [
        (direction, core.finite_number(value, name, CALLER))
        for direction, name, value in (
            ("below", "at_least", at_least),
            ("above", "at_most", at_most),
        )
        if value is not None
    ]
    if not given:
        raise GymrecUsageError(f"{CALLER} needs at_least= or at_most=")
    array = core.checked_values(values, subject.seeds, None, "", quantity, CALLER)
    n = int(array.size)
    side_alpha = alpha / len(given)  # two lines are two tests: split alpha
    name = f"{100 * level_q:g}th percentile"
    outcomes: list[Outcome] = []
    rules: list[str] = []
    sights: list[Sight] = []
    flagged: list[tuple[int, str]] = []
    for direction, line in given:
        # Reflect "q-quantile <= x" into "(1-q)-quantile of -values >= -x".
        sign = 1.0 if direction == "below" else -1.0
        side_q = level_q if direction == "below" else 1.0 - level_q
        wrong = np.flatnonzero(sign * array < sign * line)
        outcome, rule, sight = _decide_side(
            sign * array, int(wrong.size), side_q, side_alpha, direction, line, mode, name
        )
        outcomes.append(outcome)
        rules.append(rule)
        if sight is not None:
            sights.append(sight)
        if outcome is not Outcome.PASS:
            check = f"{name} of {quantity} {'>=' if direction == 'below' else '<='} {fmt(line)}"
            flagged.extend((int(i), f"{quantity} on the wrong side of {check}") for i in wrong)
    if Outcome.FAIL in outcomes:
        outcome = Outcome.FAIL
    elif any(sight.drop is None for sight in sights):
        outcome = Outcome.BLIND
    else:
        outcome = Outcome.PASS
    low, high = quantile_bounds(array, level_q, side_alpha)
    estimate = Estimate(
        statistic=f"{name} of {quantity}",
        n=n,
        value=float(np.quantile(array, level_q, method="inverted_cdf")),
        low=low,
        high=high,
        coverage=1 - 2 * side_alpha,
    )
    verdict = Verdict(
        outcome=outcome,
        kind=Kind.QUANTILE,
        check=" and ".join(
            f"{name} of {quantity} {'>=' if direction == 'below' else '<='} {fmt(line)}"
            for direction, line in given
        ),
        mode=mode,
        method="order statistics, distribution-free",
        alpha=alpha,
        subject=subject,
        estimate=estimate,
        line=given[0][1],
        rules=tuple(rules),
        sights=tuple(sights),
        listing_title=f"lowest {quantity}s",
        listing=lowest_listing([float(v) for v in array], subject.seeds),
        values=tuple(float(v) for v in array),
    )
    return Decision(verdict, tuple(dict.fromkeys(flagged)))


def _decide_side(
    reflected: FloatArray,
    count: int,
    side_q: float,
    side_alpha: float,
    direction: str,
    line: float,
    mode: Mode,
    name: str,
) -> tuple[Outcome, str, Sight | None]:
    n = reflected.size
    level = f"{100 * (1 - side_alpha):g}%"
    low, high = quantile_bounds(reflected, side_q, side_alpha)
    sign = 1.0 if direction == "below" else -1.0
    if mode is Mode.CERTIFY:
        ok = bool(quantile_certified(count, n, side_q, side_alpha))
        bound_name = "lower" if direction == "below" else "upper"
        return (
            Outcome.PASS if ok else Outcome.FAIL,
            f"rule (certify): pass only when the {level} {bound_name} confidence bound of the "
            f"{name} clears {fmt(line)}; here {fmt(sign * low)} "
            f"{'clears' if ok else 'does not clear'} it",
            None,
        )
    bad = bool(quantile_fails(count, n, side_q, side_alpha))
    bound_name = "upper" if direction == "below" else "lower"
    rule = (
        f"rule (no-regression): fail only on evidence that the {name} is {direction} "
        f"{fmt(line)}, i.e. that more than {fmt(100 * side_q)}% of episodes are {direction} it; "
        f"here {count} of {n} are (the {level} {bound_name} bound is {fmt(sign * high)})"
    )
    counts = np.arange(n + 1)
    failing = counts[quantile_fails(counts, n, side_q, side_alpha)]
    if not failing.size:
        needed = smallest_n(functools.partial(_all_bad_fails, q=side_q, alpha=side_alpha))
        sight = Sight(line=line, direction=direction, drop=None, needed=needed)
        return Outcome.FAIL if bad else Outcome.PASS, rule, sight
    fewest = int(failing.min())

    def power_gap(p: float) -> float:
        return float(scipy_stats.binom.sf(fewest - 1, n, p)) - POWER

    p_caught = float(optimize.brentq(power_gap, side_q, 1.0, xtol=1e-9))
    sight = Sight(
        line=line,
        direction=direction,
        drop=p_caught - side_q,
        phrase=(
            f"once {fmt(100 * p_caught)}% of episodes fall {direction} {fmt(line)} "
            f"({fmt(100 * side_q)}% allowed)"
        ),
    )
    return Outcome.FAIL if bad else Outcome.PASS, rule, sight
