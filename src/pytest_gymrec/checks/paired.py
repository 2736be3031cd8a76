"""Paired comparison of a run with a baseline, seed by seed: is the new mean more than a margin
below the baseline's? Decides only; baseline files and their workflow live in ``baseline``.

The question (docs/DESIGN.md section 3, decision 6) is non-inferiority: an agent within the
margin ``tolerance * |baseline mean|`` must pass with probability at least ``1 - alpha``; FAIL
needs evidence of a larger drop. Pairing by seed removes the variance the two runs share (the
same start states), which is what makes the comparison sensitive. The margin is relative to the
baseline's mean, so it is tested as a ratio: with ``r = 1 - tolerance`` (``1 + tolerance`` when
the baseline mean is negative),

    mean(new) >= mean(baseline) - tolerance * |mean(baseline)|
    <=>  mean(new - r * baseline) >= 0,

and ``new_i - r * baseline_i`` are independent per seed. Testing that shifted difference is
exact; plugging the baseline's sample mean into an absolute margin instead would add the
baseline's own sampling error to the margin.

With return bounds ``(lo, hi)`` each shifted difference lies in ``[lo - r*hi, hi - r*lo]`` and
the test is the betting test of :mod:`.core` on that exact range: valid for any return
distribution. Without bounds it is a paired Student t (approximate).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ..errors import GymrecFailure, GymrecUsageError
from ..formatting import fmt, format_seeds
from ..record import Episode
from ..verdict import Estimate, Kind, Mode, Outcome, Sight, Subject, Verdict
from . import betting, core
from .common import EPISODE_SEARCH_LIMIT, rng_for
from .pipeline import CheckContext, Decision, conclude

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Seeds listed (and flagged for failure videos) as the most regressed.
MOST_REGRESSED_SHOWN = 5


def margin_ratio(baseline_mean: float, tolerance: float) -> float:
    """``r`` such that "within the margin" means ``mean(new - r * baseline) >= 0``."""
    return float(betting.margin_ratio(baseline_mean, tolerance))


#: Range of ``new - ratio * baseline`` when both returns lie in ``bounds``.
difference_bounds = betting.difference_range


def _side(
    new: FloatArray,
    baseline: FloatArray,
    tolerance: float,
    alpha: float,
    bounds: tuple[float, float] | None,
    seeds: tuple[int | None, ...] = (),
) -> core.Side:
    """ "Is mean(new - r * baseline) at least 0?" on the exact range of the shifted differences."""
    ratio = margin_ratio(float(np.mean(baseline)), tolerance)
    shifted = new - ratio * baseline
    diff_bounds = difference_bounds(bounds, ratio) if bounds is not None else None
    if diff_bounds is not None:  # float rounding must not push a difference out of its range
        shifted = np.clip(shifted, *diff_bounds)
    return core.Side(shifted, 0.0, diff_bounds, alpha, seeds)


def _unchanged(new: FloatArray, baseline: FloatArray) -> BoolArray:
    """Seeds whose new return equals the baseline's up to float rounding (rewards summed in
    another order): ties at a change of zero, neither lower nor higher."""
    scale = np.maximum(np.maximum(np.abs(new), np.abs(baseline)), 1.0)
    unchanged: BoolArray = np.abs(new - baseline) <= core.TIE_TOLERANCE * scale
    return unchanged


def _identical(new: FloatArray, baseline: FloatArray) -> bool:
    """Every seed has its baseline return (up to float rounding): an unchanged agent."""
    return core.no_spread(np.concatenate([new - baseline, [0.0]]))


def regression_evidence(
    new: npt.ArrayLike,
    baseline: npt.ArrayLike,
    *,
    tolerance: float,
    alpha: float,
    bounds: tuple[float, float] | None,
) -> BoolArray:
    """True where the paired returns show, at level alpha, a drop larger than the margin.

    Works on the last axis: ``new`` and ``baseline`` of shape ``(..., n)`` give ``(...)``, for
    Monte-Carlo checks. An unchanged agent (all differences zero) never shows a drop.
    """
    new_array = np.asarray(new, dtype=np.float64)
    base_array = np.asarray(baseline, dtype=np.float64)
    if new_array.shape != base_array.shape or new_array.ndim == 0:
        raise ValueError(f"shapes {new_array.shape} and {base_array.shape} do not pair")
    n = new_array.shape[-1]
    new_rows, base_rows = new_array.reshape(-1, n), base_array.reshape(-1, n)
    unchanged = np.array([_identical(a, b) for a, b in zip(new_rows, base_rows, strict=True)])
    if bounds is not None:  # vectorised over rows: Monte-Carlo checks run thousands at once
        shows = betting.paired_rejects(
            new_rows, base_rows, tolerance=tolerance, alpha=alpha, bounds=bounds
        )
    else:
        shows = np.array(
            [
                core.shows_drop(_side(row_new, row_base, tolerance, alpha, None))
                for row_new, row_base in zip(new_rows, base_rows, strict=True)
            ],
            dtype=bool,
        )
    result: BoolArray = (shows & ~unchanged).reshape(new_array.shape[:-1])
    return result


def seeds_to_fail(bounds: tuple[float, float] | None, tolerance: float, alpha: float) -> int:
    """Fewest shared seeds with which a bounded comparison can fail at all (2 without bounds:
    a paired t needs two)."""
    if bounds is None:
        return 2
    # The worst case: every seed falls from the best return to the worst one.
    needed = betting.paired_seeds_needed_to_fail(
        bounds, tolerance, alpha, 1.0 if bounds[1] > 0 else -1.0
    )
    return needed if needed is not None else EPISODE_SEARCH_LIMIT


# --------------------------------------------------------------------------------------------
# Pairing


@dataclasses.dataclass(frozen=True)
class Pairing:
    """Returns of the seeds both runs share (sorted by seed), and the seeds only one side has."""

    seeds: tuple[int, ...]
    baseline: FloatArray
    new: FloatArray
    baseline_lengths: tuple[int, ...]
    new_lengths: tuple[int, ...]
    only_baseline: tuple[int, ...]
    only_new: tuple[int, ...]


def by_seed(episodes: Sequence[Episode], label: str, caller: str) -> dict[int, Episode]:
    """A run's episodes by seed; refuses what cannot be paired."""
    if not episodes:
        raise GymrecUsageError(
            f"{caller}: the result for {label} has no episodes; evaluate at least one seed"
        )
    found: dict[int, Episode] = {}
    for episode in episodes:
        if episode.seed is None:
            raise GymrecUsageError(
                f"{caller}: an episode of {label} was reset without a seed; pairing with a "
                "baseline needs reset(seed=s) for every episode (gymrec.evaluate() does that)"
            )
        if episode.seed in found:
            raise GymrecUsageError(
                f"{caller}: seed {episode.seed} appears twice in the result for {label}; pairing "
                "needs one episode per seed (compare each env's evaluate() result on its own)"
            )
        if episode.error is not None:
            raise GymrecUsageError(
                f"{caller}: the episode for seed {episode.seed} of {label} did not finish "
                f"({episode.error}); a crashed episode has no return to compare"
            )
        if not math.isfinite(episode.return_):
            raise GymrecUsageError(
                f"{caller}: seed {episode.seed} of {label} has return {episode.return_}; "
                "pairing needs finite returns"
            )
        found[episode.seed] = episode
    return found


def pair(
    baseline: Mapping[int, tuple[float, int]], new: Mapping[int, tuple[float, int]]
) -> Pairing:
    """Pair two runs given as {seed: (return, length)}."""
    shared = sorted(set(baseline) & set(new))
    return Pairing(
        seeds=tuple(shared),
        baseline=np.array([baseline[s][0] for s in shared], dtype=np.float64),
        new=np.array([new[s][0] for s in shared], dtype=np.float64),
        baseline_lengths=tuple(baseline[s][1] for s in shared),
        new_lengths=tuple(new[s][1] for s in shared),
        only_baseline=tuple(sorted(set(baseline) - set(new))),
        only_new=tuple(sorted(set(new) - set(baseline))),
    )


# --------------------------------------------------------------------------------------------
# The decision


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where the baseline came from and what to run next, for the message."""

    label: str
    #: "baseline <path>" or "the baseline result (in memory)".
    baseline: str
    reproduce: str | None = None
    update_command: str | None = None
    #: How to record seeds the baseline lacks ("record them with --gymrec-update-baselines").
    record_hint: str = ""
    #: Extra lines (a gymnasium version change since the baseline was recorded).
    notes: tuple[str, ...] = ()


def decide_paired(
    pairing: Pairing,
    *,
    tolerance: float,
    alpha: float,
    bounds: tuple[float, float] | None,
    rng_key: str,
    origin: Origin,
) -> Decision:
    """Decide whether the shared seeds show a drop beyond the margin. Needs >= 1 shared seed.

    Flags (by index into ``pairing.seeds``) the most regressed seeds of a failing comparison.
    """
    n = len(pairing.seeds)
    if n == 0:
        raise ValueError("no shared seeds to compare")
    base, new = pairing.baseline, pairing.new
    differences = new - base
    base_mean = float(np.mean(base))
    margin = tolerance * abs(base_mean)
    side = _side(new, base, tolerance, alpha, bounds, tuple(pairing.seeds))
    identical = _identical(new, base)
    sights: tuple[Sight, ...] = ()
    if identical:
        outcome = Outcome.PASS
        here = "every shared seed has exactly its baseline return"
    elif side.bounds is None and n < 2:
        outcome = Outcome.INCONCLUSIVE
        here = (
            "cannot decide from 1 seed without bounds: a paired t needs at least 2; pass "
            "bounds=(lo, hi) or run more seeds"
        )
    else:
        outcome = Outcome.FAIL if core.shows_drop(side) else Outcome.PASS
    shifted_low, shifted_high = core.one_sided_bounds(side)
    # mean(new - baseline) = mean(new - r * baseline) - margin (with the baseline's own mean).
    low, high = shifted_low - margin, shifted_high - margin
    if outcome is not Outcome.INCONCLUSIVE:
        if not identical:
            relation = "<" if outcome is Outcome.FAIL else "is not below"
            here = f"{fmt(high)} {relation} {fmt(-margin)}"
        # An unchanged agent passes, but only a comparison that could have failed says so.
        drop, assumption, unknown = core.detectable_drop(side, rng_for(rng_key))
        needed = None
        if drop is None and not unknown:
            needed = seeds_to_fail(bounds, tolerance, alpha)
            if outcome is Outcome.PASS:
                outcome = Outcome.BLIND
        sights = (
            Sight(
                line=-margin,
                direction="below",
                drop=drop,
                assumption=assumption.replace("values", "changes"),
                needed=needed,
                unknown=unknown.replace("value", "change"),
                floor=core.floor(side),
            ),
        )
    level = f"{100 * (1 - alpha):g}%"
    rule = (
        f"rule (non-inferiority, margin {tolerance:.3g} x |baseline mean| = {fmt(margin)}): fail "
        f"only on evidence that the new mean is more than {fmt(margin)} below the baseline "
        f"mean, i.e. when the {level} upper confidence bound of the change is below "
        f"{fmt(-margin)}; here {here}"
    )
    unchanged = _unchanged(new, base)
    order = [int(i) for i in np.argsort(differences, kind="stable")[:MOST_REGRESSED_SHOWN]]
    most_regressed = [i for i in order if differences[i] < 0 and not unchanged[i]]
    lengths = list(zip(pairing.baseline_lengths, pairing.new_lengths, strict=True))
    verdict = Verdict(
        outcome=outcome,
        kind=Kind.PAIRED,
        check=f"mean change vs baseline >= -{fmt(margin)}",
        mode=Mode.NO_REGRESSION,
        method=(
            f"paired betting test, returns in ({fmt(bounds[0])}, {fmt(bounds[1])})"
            if bounds is not None
            else "paired Student t"
        ),
        approximate=bounds is None,
        alpha=alpha,
        subject=Subject(label=origin.label, seeds=tuple(pairing.seeds), reproduce=origin.reproduce),
        estimate=Estimate(
            statistic=(
                f"baseline mean {fmt(base_mean)}, new mean {fmt(float(np.mean(new)))}, mean change"
            ),
            n=n,
            value=float(np.mean(differences)),
            low=low,
            high=high,
            coverage=1 - 2 * alpha,
            unit="paired seed",
        ),
        line=-margin,
        tolerance=tolerance,
        margin=margin,
        rules=(rule,),
        sights=sights,
        facts=(f"baseline: {origin.baseline}", *_per_seed(differences, unchanged, identical)),
        listing_title="most regressed seeds (baseline -> new return)",
        listing=tuple(
            (
                pairing.seeds[i],
                f"{fmt(float(base[i]))} -> {fmt(float(new[i]))} ({lengths[i][0]} -> "
                f"{lengths[i][1]} steps)",
            )
            for i in most_regressed
        ),
        cautions=(
            tuple(core.t_cautions(differences, "return difference"))
            if bounds is None and not identical
            else ()
        ),
        notes=(*_left_out(pairing, origin.record_hint), *origin.notes),
        update_command=origin.update_command,
        values=tuple(float(v) for v in new),
        baseline_values=tuple(float(v) for v in base),
    )
    flagged = tuple(
        (
            i,
            f"regressed most against the baseline: return {fmt(float(base[i]))} -> "
            f"{fmt(float(new[i]))}",
        )
        for i in most_regressed
    )
    return Decision(verdict, flagged if outcome is Outcome.FAIL else ())


def _per_seed(differences: FloatArray, unchanged: BoolArray, identical: bool) -> tuple[str, ...]:
    if identical:
        return ()
    n = differences.size
    lower = int(np.sum((differences < 0) & ~unchanged))
    higher = int(np.sum((differences > 0) & ~unchanged))
    return (f"per seed: {lower} lower, {higher} higher, {n - lower - higher} unchanged",)


def _left_out(pairing: Pairing, record_hint: str) -> list[str]:
    lines = []
    if pairing.only_new:
        count = len(pairing.only_new)
        hint = f" ({record_hint})" if record_hint else ""
        lines.append(
            f"left out: {count} seed{'s' * (count != 1)} of this run "
            f"({format_seeds(pairing.only_new)}) {'have' if count != 1 else 'has'} no baseline"
            f"{hint}"
        )
    if pairing.only_baseline:
        count = len(pairing.only_baseline)
        lines.append(
            f"left out: {count} baseline seed{'s' * (count != 1)} "
            f"({format_seeds(pairing.only_baseline)}) {'were' if count != 1 else 'was'} not run "
            "in this run"
        )
    return lines


# --------------------------------------------------------------------------------------------
# The whole comparison, shared by the stored baseline and the in-memory one


def compare(
    new: Mapping[int, Episode],
    baseline: Mapping[int, tuple[float, int]],
    *,
    tolerance: float,
    alpha: float,
    bounds: tuple[float, float] | None,
    bounds_source: str,
    origin: Origin,
    context: CheckContext,
    caller: str,
    no_shared_seeds: str,
) -> Verdict:
    """Pair ``new`` (episodes by seed) with ``baseline`` ({seed: (return, length)}), decide,
    and conclude (record, flag the most regressed seeds, enforce).

    ``no_shared_seeds`` is the message of the failure raised when no seed pairs.
    """
    __tracebackhide__ = True
    pairing = pair(baseline, {seed: (e.return_, e.length) for seed, e in new.items()})
    if not pairing.seeds:
        raise GymrecFailure(no_shared_seeds)
    for values, whose in (
        (pairing.baseline, f"baseline {origin.baseline}"),
        (pairing.new, "this run"),
    ):
        core.checked_values(
            values, pairing.seeds, bounds, bounds_source, "return", f"{caller}: {whose}"
        )
    decision = decide_paired(
        pairing,
        tolerance=tolerance,
        alpha=alpha,
        bounds=bounds,
        rng_key=context.rng_key,
        origin=origin,
    )
    return conclude(decision, [new[seed] for seed in pairing.seeds], context)
