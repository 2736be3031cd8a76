"""Sequential verdicts: run episodes until the evidence decides, at most ``max_episodes``.

Two one-sided betting tests on returns scaled to [0, 1] by their known bounds (docs/DESIGN.md
section 3, decision 6). In the default no-regression mode, with ``drop = tolerance * |at_least|``:

* FAIL when the evidence (capital of a bettor wagering that the mean is below ``at_least``)
  reaches 1/alpha. By Ville's inequality an agent whose mean is at least ``at_least`` fails with
  probability at most alpha, whenever the test stops.
* PASS when the evidence that the mean is above ``at_least - drop`` reaches 1/beta: an agent
  whose mean dropped to ``at_least - drop`` or lower passes with probability at most beta.
* INCONCLUSIVE when ``max_episodes`` ran with neither: the mean probably lies between the two
  lines, where either verdict is acceptable.

``mode="certify"`` swaps the roles: PASS needs evidence at level alpha that the mean is above
``at_least``; FAIL comes on evidence at level beta that it is below ``at_least + drop``.

The bets are not WSR's predictable plug-in (sized for confidence-interval width) but Kelly bets
for the declared gap between the two lines, ``gap / (variance + gap**2)``, with a predictable
variance estimate, truncated at ``SEQUENTIAL_TRUNCATION``. Measured in
benchmarks/bench_calibration.py: on near-normal returns the plug-in bet at truncation 1/2
needed 0.73x the episodes of a fixed-n t-test of the same power; this bet needs under 0.5x, and
no more on any other shape. Validity does not depend on the bet: any predictable bet gives a
nonnegative supermartingale, so the error bounds hold whatever the bet.

numpy only, through the betting primitives in :mod:`.betting`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..errors import GymrecUsageError
from ..formatting import fmt
from ..verdict import Estimate, Kind, Mode, Outcome, Sight, Subject, Verdict, lowest_listing
from . import betting, core
from .common import smallest_n
from .core import FloatArray
from .pipeline import Decision

#: Bets are capped at this fraction of the largest bet that keeps capital positive. WSR use
#: 1/2; the Kelly bet sizes itself to the variance, so a higher cap only matters on returns
#: narrow against their bounds, where it is what lets the test stop early.
SEQUENTIAL_TRUNCATION = 0.9
#: Weight, in episodes, of the prior variance 1/4 (the largest on [0, 1]) in the variance
#: estimate behind each bet. Small, so the bet adapts within a few episodes.
VARIANCE_PRIOR_WEIGHT = 0.25

IntArray = npt.NDArray[np.int64]

#: Outcome codes of the vectorised simulation.
FAIL_CODE, INCONCLUSIVE_CODE, PASS_CODE = -1, 0, 1


def tuned_bets(x: FloatArray, gap: float) -> FloatArray:
    """Predictable Kelly bets for a mean ``gap`` away from the line (see betting.kelly_bets)."""
    return betting.kelly_bets(x, gap, VARIANCE_PRIOR_WEIGHT)


@dataclasses.dataclass(frozen=True)
class Plan:
    """The two lines of a sequential test, in return units and scaled to [0, 1].

    Only what the user chose is stored; the lines and their levels follow from it (by mode).
    """

    mode: Mode
    at_least: float
    tolerance: float
    bounds: tuple[float, float]
    alpha: float
    beta: float

    @property
    def drop(self) -> float:
        """The declared drop between the two lines, ``tolerance * |at_least|``."""
        return self.tolerance * abs(self.at_least)

    @property
    def pass_line(self) -> float:
        """PASS needs evidence that the mean is above this line (at level ``pass_alpha``)."""
        if self.mode is Mode.CERTIFY:
            return self.at_least
        return self.at_least - self.drop

    @property
    def fail_line(self) -> float:
        """FAIL needs evidence that the mean is below this line (at level ``fail_alpha``)."""
        if self.mode is Mode.CERTIFY:
            return self.at_least + self.drop
        return self.at_least

    @property
    def pass_alpha(self) -> float:
        # The line the mode guards gets alpha; the other side's error is beta.
        return self.alpha if self.mode is Mode.CERTIFY else self.beta

    @property
    def fail_alpha(self) -> float:
        return self.beta if self.mode is Mode.CERTIFY else self.alpha

    def scale(self, value: float) -> float:
        lo, hi = self.bounds
        return (value - lo) / (hi - lo)

    def unscale(self, value: float) -> float:
        lo, hi = self.bounds
        return lo + value * (hi - lo)

    @property
    def scaled_pass(self) -> float:
        return self.scale(self.pass_line)

    @property
    def scaled_fail(self) -> float:
        return self.scale(self.fail_line)

    @property
    def gap(self) -> float:
        return self.scaled_fail - self.scaled_pass


def plan(
    *,
    at_least: object,
    tolerance: object,
    bounds: tuple[float, float] | None,
    bounds_source: str,
    alpha: float,
    beta: float,
    mode: Mode,
    caller: str,
) -> Plan:
    """Check the arguments of a sequential test and place its two lines."""
    line = core.finite_number(at_least, "at_least", caller)
    relative = core.check_tolerance(tolerance, caller)
    if bounds is None:
        raise GymrecUsageError(
            f"{caller}: bounds=(lo, hi) are required: a sequential test is anytime-valid only "
            "for returns with known bounds (e.g. bounds=(0, 500) for CartPole-v1); pass them "
            "here or in @pytest.mark.gymrec(bounds=...)"
        )
    lo, hi = bounds
    if not lo <= line <= hi:
        raise GymrecUsageError(
            f"{caller}: at_least={fmt(line)} lies outside bounds ({fmt(lo)}, {fmt(hi)}) from "
            f"{bounds_source}: the test could never decide"
        )
    plan = Plan(
        mode=mode, at_least=line, tolerance=relative, bounds=(lo, hi), alpha=alpha, beta=beta
    )
    if plan.drop == 0.0:
        raise GymrecUsageError(
            f"{caller}: at_least=0 with a relative tolerance leaves no room between the lines "
            "(tolerance * |at_least| = 0); shift the returns or use a nonzero line"
        )
    if plan.pass_line < lo or plan.fail_line > hi:
        moved = (
            f"at_least + tolerance*|at_least| = {fmt(plan.fail_line)} is above the upper bound"
            if mode is Mode.CERTIFY
            else f"at_least - tolerance*|at_least| = {fmt(plan.pass_line)} is below the lower bound"
        )
        raise GymrecUsageError(
            f"{caller}: {moved} of bounds ({fmt(lo)}, {fmt(hi)}) from {bounds_source}: no agent "
            "can be that far from the line; use a smaller tolerance"
        )
    return plan


def seed_order(
    *,
    given: Sequence[int] | None,
    start: int,
    max_episodes: int,
    max_episodes_source: str,
    seeds_source: str,
    caller: str,
) -> list[int]:
    """The pre-assigned seed of every episode the test may run, in order.

    Given seeds come first, in their order; after them (or from ``start`` when none are
    given) seeds count up from the largest one used. Fixing the order before any episode runs
    keeps early stopping unbiased: the data cannot choose which seeds come first.
    """
    if given is None:
        return list(range(start, start + max_episodes))
    if max_episodes < len(given):
        raise GymrecUsageError(
            f"{caller}: max_episodes={max_episodes} (from {max_episodes_source}) is smaller than "
            f"the {len(given)} seeds given by {seeds_source}; raise max_episodes to at least "
            f"{len(given)} or give fewer seeds"
        )
    following = max(given) + 1
    return [*given, *range(following, following + max_episodes - len(given))]


# --------------------------------------------------------------------------------------------
# The test on a matrix of runs (rows), and on one run as it grows


def log_capitals(x: FloatArray, plan: Plan) -> tuple[FloatArray, FloatArray]:
    """Log-capital paths (fail side, pass side) of the two bettors, on the last axis."""
    bets = tuned_bets(x, plan.gap)
    fail = betting.log_capital(x, bets, plan.scaled_fail, SEQUENTIAL_TRUNCATION)
    passing = betting.log_capital(1.0 - x, bets, 1.0 - plan.scaled_pass, SEQUENTIAL_TRUNCATION)
    return fail, passing


def simulate(x: FloatArray, plan: Plan) -> tuple[IntArray, IntArray]:
    """Outcome codes and episodes used of every row of ``x`` (scaled returns), vectorised.

    Row i stops at the first episode where either capital crosses its threshold (FAIL first
    when both cross together); a row that never crosses is INCONCLUSIVE after all its columns.
    """
    fail, passing = log_capitals(x, plan)
    n = x.shape[-1]
    failed = fail >= math.log(1.0 / plan.fail_alpha)
    passed = passing >= math.log(1.0 / plan.pass_alpha)
    fail_at = np.where(failed.any(axis=-1), failed.argmax(axis=-1), n)
    pass_at = np.where(passed.any(axis=-1), passed.argmax(axis=-1), n)
    codes = np.where(
        (fail_at < n) & (fail_at <= pass_at),
        FAIL_CODE,
        np.where(pass_at < n, PASS_CODE, INCONCLUSIVE_CODE),
    )
    used = np.minimum(np.minimum(fail_at, pass_at) + 1, n)
    return codes.astype(np.int64), used.astype(np.int64)


class SequentialTest:
    """One sequential test, fed one episode at a time."""

    def __init__(self, plan: Plan, bounds_source: str, caller: str) -> None:
        self.plan = plan
        self._bounds_source = bounds_source
        self._caller = caller
        self.returns: list[float] = []
        self.seeds: list[int | None] = []
        self.outcome: Outcome | None = None

    @property
    def decided(self) -> bool:
        return self.outcome is not None

    def add(self, value: float, seed: int | None) -> None:
        core.checked_values(
            [value], [seed], self.plan.bounds, self._bounds_source, "return", self._caller
        )
        self.returns.append(value)
        self.seeds.append(seed)
        codes, _ = simulate(self._scaled()[np.newaxis, :], self.plan)
        code = int(codes[0])
        # The bets are predictable, so the paths of a longer run extend those of a shorter
        # one: checking the crossing after every episode finds the first crossing.
        if code == FAIL_CODE:
            self.outcome = Outcome.FAIL
        elif code == PASS_CODE:
            self.outcome = Outcome.PASS

    def _scaled(self) -> FloatArray:
        lo, hi = self.plan.bounds
        return (np.asarray(self.returns, dtype=np.float64) - lo) / (hi - lo)

    def decide(self, subject: Subject, max_episodes: int) -> Decision:
        if not self.returns:
            raise GymrecUsageError(f"{self._caller}: no episode ran")
        outcome = self.outcome if self.outcome is not None else Outcome.INCONCLUSIVE
        return Decision(_verdict(self.plan, self._scaled(), outcome, subject, max_episodes))


def episodes_to_fail(plan: Plan) -> int | None:
    """Fewest episodes after which returns all at the lower bound fail the test; a run capped
    below it could never fail (None when no count up to the search limit does)."""

    def all_worst_fails(n: int) -> bool:
        codes, _ = simulate(np.zeros((1, n)), plan)
        return bool(codes[0] == FAIL_CODE)

    return smallest_n(all_worst_fails)


# --------------------------------------------------------------------------------------------
# The verdict and its message


def interval(x: FloatArray, plan: Plan) -> tuple[float, float]:
    """Anytime-valid bounds on the mean from the same bets: lower at the pass level, upper at
    the fail level. FAIL happened iff the upper bound is below the fail line; PASS iff the lower
    bound is above the pass line."""
    bets = tuned_bets(x, plan.gap)
    low = betting.anytime_lower_bound(x, plan.pass_alpha, bets, SEQUENTIAL_TRUNCATION)
    high = betting.anytime_upper_bound(x, plan.fail_alpha, bets, SEQUENTIAL_TRUNCATION)
    return plan.unscale(low), plan.unscale(high)


def _episodes_to_resolve(x: FloatArray, plan: Plan) -> tuple[str, int] | None:
    """If the observed returns kept coming, which side would decide, and after about how many
    more episodes: the remaining log-evidence over its average growth per episode so far."""
    fail, passing = log_capitals(x, plan)
    best: tuple[str, int] | None = None
    for side, path, level in (
        ("pass", passing, plan.pass_alpha),
        ("fail", fail, plan.fail_alpha),
    ):
        growth = float(path[-1]) / path.size
        if growth <= 0:
            continue
        more = math.ceil((math.log(1.0 / level) - float(path[-1])) / growth)
        if best is None or more < best[1]:
            best = (side, max(more, 1))
    return best


def _verdict(
    plan: Plan, x: FloatArray, outcome: Outcome, subject: Subject, max_episodes: int
) -> Verdict:
    n = x.size
    values = [plan.unscale(float(v)) for v in x]
    low, high = interval(x, plan)
    fail_path, pass_path = log_capitals(x, plan)
    lo, hi = plan.bounds
    needed = episodes_to_fail(plan)
    if outcome is not Outcome.FAIL and (needed is None or needed > max_episodes):
        outcome = Outcome.BLIND  # capped below the episodes any failure needs
    stopped = (
        f"all {max_episodes} episodes allowed ran"
        if outcome in (Outcome.INCONCLUSIVE, Outcome.BLIND)
        else f"stopped at episode {n} of at most {max_episodes}"
    )
    facts = [
        f"evidence: below {fmt(plan.fail_line)}: {fmt(math.exp(float(np.max(fail_path))))}; "
        f"above {fmt(plan.pass_line)}: {fmt(math.exp(float(np.max(pass_path))))} (largest "
        "capital over the run)",
        _guarantee(plan),
    ]
    if outcome is Outcome.INCONCLUSIVE:
        facts.append(_resolution(plan, x, float(np.mean(values)), low, high, max_episodes))
    # What it can see is what it was planned to see: the declared drop, passed with probability
    # at most beta (caught with 1 - beta), whenever it stops.
    sights: tuple[Sight, ...] = (
        (Sight(line=plan.at_least, direction="below", drop=plan.drop, power=1 - plan.beta),)
        if plan.mode is Mode.NO_REGRESSION
        else ()
    )
    if outcome is Outcome.BLIND:
        sights = (Sight(line=plan.fail_line, direction="below", drop=None, needed=needed),)
    return Verdict(
        outcome=outcome,
        kind=Kind.SEQUENTIAL,
        check=f"mean return >= {fmt(plan.at_least)} (sequential, tolerance {fmt(plan.tolerance)})",
        mode=plan.mode,
        method=f"sequential betting test, bounds ({fmt(lo)}, {fmt(hi)}), anytime-valid",
        alpha=plan.alpha,
        subject=subject,
        estimate=Estimate(
            statistic="mean return",
            n=n,
            value=float(np.mean(values)),
            low=low,
            high=high,
            coverage=1 - plan.alpha - plan.beta,
        ),
        line=plan.at_least,
        tolerance=plan.tolerance,
        rules=(
            f"rule ({plan.mode.value}, sequential): fail when the evidence that the mean return "
            f"is below {fmt(plan.fail_line)} reaches 1/{fmt(plan.fail_alpha)} = "
            f"{fmt(1 / plan.fail_alpha)}; pass when the evidence that it is above "
            f"{fmt(plan.pass_line)} reaches 1/{fmt(plan.pass_alpha)} = {fmt(1 / plan.pass_alpha)}",
        ),
        sights=sights,
        facts=tuple(facts),
        ties=(values.count(hi), values.count(lo), hi, lo),
        listing_title="lowest returns",
        listing=lowest_listing(values, subject.seeds),
        values=tuple(values),
        evidence={
            "fail": [float(v) for v in fail_path],
            "pass": [float(v) for v in pass_path],
            "fail_threshold": math.log(1 / plan.fail_alpha),
            "pass_threshold": math.log(1 / plan.pass_alpha),
        },
        headline_extra=f"beta={fmt(plan.beta)}",
        summary_extra=stopped,
    )


def _guarantee(plan: Plan) -> str:
    if plan.mode is Mode.NO_REGRESSION:
        return (
            f"guarantee: an agent with mean >= {fmt(plan.at_least)} fails with probability at "
            f"most {fmt(plan.alpha)}; one that dropped by {fmt(plan.drop)} (tolerance "
            f"{fmt(plan.tolerance)} x |{fmt(plan.at_least)}|) to {fmt(plan.pass_line)} or lower "
            f"passes with probability at most {fmt(plan.beta)}; in between either verdict is "
            "acceptable (an INCONCLUSIVE result is outside these bounds)"
        )
    return (
        f"guarantee: an agent with mean below {fmt(plan.at_least)} passes with probability "
        f"at most {fmt(plan.alpha)}; one with mean >= {fmt(plan.fail_line)} fails with "
        f"probability at most {fmt(plan.beta)}"
    )


def _resolution(
    plan: Plan, x: FloatArray, mean: float, low: float, high: float, max_episodes: int
) -> str:
    """What would resolve an inconclusive run."""
    text = (
        f"undecided: the interval [{fmt(low)}, {fmt(high)}] still reaches both below "
        f"{fmt(plan.pass_line)} and up to {fmt(plan.fail_line)}"
    )
    if plan.pass_line < mean < plan.fail_line:
        text += (
            f"; the mean {fmt(mean)} lies between the two lines, where either verdict is acceptable"
        )
    estimate = _episodes_to_resolve(x, plan)
    if estimate is not None:
        side, more = estimate
        text += (
            f"; if returns keep coming like these, about {more} more episodes would {side} "
            f"(max_episodes={max_episodes + more})"
        )
    else:
        text += "; neither side is gaining evidence at this mean"
    text += (
        f"; or widen tolerance (now {fmt(plan.tolerance)}) so the lines are further apart, or "
        "pass --gymrec-inconclusive fail to make this a failure"
    )
    return text
