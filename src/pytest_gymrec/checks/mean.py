"""The fixed-n check of a mean (returns or lengths) against one or two lines. Decides only.

``no-regression`` (default) fails only on evidence at level alpha that the line is missed;
``certify`` passes only on evidence that it is met. With bounds the evidence is a betting test
(valid for any distribution on the bounds); without, Student t (approximate).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import GymrecUsageError
from ..formatting import fmt
from ..verdict import Estimate, Kind, Mode, Outcome, Sight, Subject, Verdict, lowest_listing
from . import core
from .common import rng_for
from .pipeline import Decision

#: The two sides of a check: name of the argument, direction of a regression.
_SIDES = (("at_least", "below"), ("at_most", "above"))


def decide_mean(
    values: Sequence[float] | core.FloatArray,
    *,
    at_least: object,
    at_most: object,
    alpha: float,
    bounds: tuple[float, float] | None,
    mode: Mode,
    rng_key: str,
    subject: Subject,
    bounds_source: str = "the call",
    quantity: str = "return",
    tolerance: float | None = None,
    caller: str = "assert_return()",
) -> Decision:
    """Decide whether the mean of ``values`` meets ``at_least`` and/or ``at_most``.

    ``tolerance`` (no-regression, at_least only) declares the drop that matters, ``tolerance *
    |at_least|``: a check that cannot catch it with 80% power is INCONCLUSIVE, not a pass.
    """
    given = {"at_least": at_least, "at_most": at_most}
    named = [
        (name, direction, core.finite_number(given[name], name, caller))
        for name, direction in _SIDES
        if given[name] is not None
    ]
    lines = [(direction, line) for _, direction, line in named]
    if not lines:
        raise GymrecUsageError(
            f"{caller} needs at_least= or at_most= (the line a good agent meets)"
        )
    if len(lines) == 2 and lines[0][1] > lines[1][1]:
        raise GymrecUsageError(
            f"{caller}: at_least={fmt(lines[0][1])} is above at_most={fmt(lines[1][1])}: no "
            "mean can satisfy both"
        )
    array = core.checked_values(values, subject.seeds, bounds, bounds_source, quantity, caller)
    if bounds is not None:
        for name, _, line in named:
            if not bounds[0] <= line <= bounds[1]:
                raise GymrecUsageError(
                    f"{caller}: {name}={fmt(line)} lies outside bounds ({fmt(bounds[0])}, "
                    f"{fmt(bounds[1])}) from {bounds_source}: the check could never decide"
                )

    # Two lines are two tests: split alpha so the flake rate of the pair stays at most alpha.
    side_alpha = alpha / len(lines)
    rng = rng_for(rng_key + ("" if quantity == "return" else f"/{quantity}"))
    outcomes: list[Outcome] = []
    rules: list[str] = []
    sights: list[Sight] = []
    # The interval's ends are the sides' bounds too (an at_most side's are mirrored): once.
    low, high = core.one_sided_bounds(core.Side(array, 0.0, bounds, side_alpha, subject.seeds))
    for direction, line in lines:
        side = core.Side(array, line, bounds, side_alpha, subject.seeds)
        side_bounds = (low, high)
        if direction == "above":  # an at_most line: reflect so one code path serves both
            side, side_bounds = side.reflected(), (-high, -low)
        outcome, rule = _decide_side(side, side_bounds, direction, line, mode, quantity)
        outcomes.append(outcome)
        rules.append(rule)
        if mode is Mode.NO_REGRESSION and outcome is not Outcome.INCONCLUSIVE:
            wanted = (
                tolerance * abs(line) if tolerance is not None and direction == "below" else None
            )
            sights.append(_sight(side, direction, line, wanted, rng, rng_key))
    outcome = _combined(outcomes, sights, bounds)
    check = " and ".join(
        f"mean {quantity} {'>=' if direction == 'below' else '<='} {fmt(line)}"
        for direction, line in lines
    )
    ties = None
    if bounds is not None:
        lo, hi = bounds
        ties = (int(np.sum(array == hi)), int(np.sum(array == lo)), hi, lo)
    verdict = Verdict(
        outcome=outcome,
        kind=Kind.MEAN if quantity == "return" else Kind.LENGTH,
        check=check,
        mode=mode,
        method=(
            f"betting test, bounds ({fmt(bounds[0])}, {fmt(bounds[1])})"
            if bounds is not None
            else "Student t"
        ),
        approximate=bounds is None,
        alpha=alpha,
        subject=subject,
        estimate=Estimate(
            statistic=f"mean {quantity}",
            n=int(array.size),
            value=float(np.mean(array)),
            low=low,
            high=high,
            coverage=1 - 2 * side_alpha,
        ),
        line=lines[0][1],
        tolerance=tolerance,
        rules=tuple(rules),
        sights=tuple(sights),
        ties=ties,
        listing_title=f"lowest {quantity}s",
        listing=lowest_listing([float(v) for v in array], subject.seeds),
        cautions=tuple(core.t_cautions(array, quantity)) if bounds is None else (),
        values=tuple(float(v) for v in array),
    )
    return Decision(verdict)


def _combined(
    outcomes: list[Outcome], sights: list[Sight], bounds: tuple[float, float] | None
) -> Outcome:
    if Outcome.FAIL in outcomes:
        return Outcome.FAIL
    if bounds is not None and any(sight.drop is None and not sight.unknown for sight in sights):
        return Outcome.BLIND  # some side could not have failed, whatever the agent did
    # A pass says little when the declared drop would likely have passed too.
    if Outcome.INCONCLUSIVE in outcomes or any(_misses_wanted(sight) for sight in sights):
        return Outcome.INCONCLUSIVE
    return Outcome.PASS


def _misses_wanted(sight: Sight) -> bool:
    return sight.wanted is not None and (sight.drop is None or sight.drop > sight.wanted)


def _decide_side(
    side: core.Side,
    side_bounds: tuple[float, float],
    direction: str,
    line: float,
    mode: Mode,
    quantity: str,
) -> tuple[Outcome, str]:
    """The outcome of one side and its rule line, in the user's direction (not reflected)."""
    level = f"{100 * (1 - side.alpha):g}%"
    if side.bounds is None and side.values.size < 2:
        return Outcome.INCONCLUSIVE, (
            f"rule: cannot decide from {side.values.size} episode without bounds: Student t "
            "needs at least 2; pass bounds=(lo, hi) or run more seeds"
        )
    low, high = side_bounds
    # Undo the reflection for at_most: the bound that matters is then the lower one.
    sign = 1.0 if direction == "below" else -1.0
    if mode is Mode.CERTIFY:
        passed = core.shows_clearing(side)
        bound_name = "lower" if direction == "below" else "upper"
        met = "clears" if passed else "does not clear"
        return Outcome.PASS if passed else Outcome.FAIL, (
            f"rule (certify): pass only when the {level} {bound_name} confidence bound clears "
            f"{fmt(line)}; here {fmt(sign * low)} {met} it"
        )
    failed = core.shows_drop(side)
    bound_name = "upper" if direction == "below" else "lower"
    relation = "<" if direction == "below" else ">"
    here = (
        f"{fmt(sign * high)} {relation} {fmt(line)}"
        if failed
        else f"{fmt(sign * high)} is not {direction} it"
    )
    return Outcome.FAIL if failed else Outcome.PASS, (
        f"rule (no-regression): fail only on evidence that the mean {quantity} is {direction} "
        f"{fmt(line)}, i.e. when the {level} {bound_name} confidence bound is {direction} it; "
        f"here {here}"
    )


def _sight(
    side: core.Side,
    direction: str,
    line: float,
    wanted: float | None,
    rng: np.random.Generator,
    rng_key: str,
) -> Sight:
    drop, assumption, unknown = core.detectable_drop(side, rng)
    needed = core.episodes_to_fail(side) if drop is None and not unknown else None
    wanted_needed = None
    if wanted is not None and (drop is None or drop > wanted):
        wanted_needed = core.episodes_for_drop(side, wanted, rng_key, drop)
    return Sight(
        line=line,
        direction=direction,
        drop=drop,
        assumption=assumption,
        needed=needed,
        wanted=wanted,
        wanted_needed=wanted_needed,
        unknown=unknown,
        floor=core.floor(side),
    )
