"""Paired comparison of a run with its stored baseline, seed by seed, and its message.

The question (DESIGN.md section 3, decision 6) is non-inferiority: is the new agent's mean
return more than a margin ``tolerance * |baseline mean|`` below the baseline's? An agent within
the margin must pass with probability at least ``1 - alpha``; FAIL needs evidence of a larger drop.

Pairing by seed removes the variance the two runs share (the same start states), which is what
makes the comparison sensitive. The margin is relative to the baseline's mean, so it is tested
as a ratio: with ``r = 1 - tolerance`` (``1 + tolerance`` when the baseline mean is negative),

    mean(new) >= mean(baseline) - tolerance * |mean(baseline)|
    <=>  mean(new - r * baseline) >= 0,

and ``new_i - r * baseline_i`` are independent per seed. Testing that shifted difference
is exact; plugging the baseline's sample mean into an absolute margin instead would add the
baseline's own sampling error to the margin, which matters exactly when pairing works best
(differences much less noisy than returns).

With return bounds ``(lo, hi)`` each shifted difference lies in ``[lo - r*hi, hi - r*lo]``
(about ``+-(hi - lo)``) and the test is the betting test of :mod:`.stats` on it: valid for any
return distribution. Without bounds it is a paired Student t, with the same cautions as t on
returns.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

from . import baseline as baseline_files
from . import settings, stats
from .errors import GymrecBaselineCreated, GymrecFailure, GymrecUsageError
from .formatting import fmt, format_seeds
from .results import Episode, EvalResult

# stats keeps its one-sided building blocks private; this module is their one other user.
from .stats import Side, t_cautions

if TYPE_CHECKING:
    from .fixture import TestRecord

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Seeds listed (and flagged for failure videos) as the most regressed.
MOST_REGRESSED_SHOWN = 5
SOURCE = "gymrec.assert_no_regression()"


# --------------------------------------------------------------------------------------------
# The test (vectorised over leading axes, so Monte-Carlo checks run it on many runs at once)


def margin_ratio(baseline_mean: float, tolerance: float) -> float:
    """``r`` such that "within the margin" means ``mean(new - r * baseline) >= 0``."""
    return 1.0 + tolerance if baseline_mean < 0 else 1.0 - tolerance


def difference_bounds(bounds: tuple[float, float], ratio: float) -> tuple[float, float]:
    """Range of ``new - ratio * baseline`` when both returns lie in ``bounds``."""
    lo, hi = bounds
    return lo - ratio * hi, hi - ratio * lo


def regression_evidence(
    new: npt.ArrayLike,
    baseline: npt.ArrayLike,
    *,
    tolerance: float,
    alpha: float,
    bounds: tuple[float, float] | None,
) -> BoolArray:
    """True where the paired returns show, at level alpha, a drop larger than the margin.

    Works on the last axis: ``new`` and ``baseline`` of shape ``(..., n)`` give ``(...)``.
    All differences exactly zero (an unchanged deterministic agent) never shows a drop.
    """
    new_array = np.asarray(new, dtype=np.float64)
    base_array = np.asarray(baseline, dtype=np.float64)
    if new_array.shape != base_array.shape or new_array.ndim == 0:
        raise ValueError(f"shapes {new_array.shape} and {base_array.shape} do not pair")
    n = new_array.shape[-1]
    leading = new_array.shape[:-1]
    new_rows, base_rows = new_array.reshape(-1, n), base_array.reshape(-1, n)
    ratios = np.where(base_rows.mean(axis=-1) < 0, 1.0 + tolerance, 1.0 - tolerance)
    shifted = new_rows - ratios[:, None] * base_rows
    shows = np.zeros(new_rows.shape[0], dtype=bool)
    if bounds is None:
        if n >= 2:
            critical = float(scipy_stats.t.ppf(1 - alpha, n - 1))
            upper = shifted.mean(axis=-1) + critical * shifted.std(axis=-1, ddof=1) / math.sqrt(n)
            shows = upper < 0
    else:
        threshold = math.log(1 / alpha)
        for ratio in np.unique(ratios):  # at most two: the sign of each baseline mean
            rows = ratios == ratio
            low, high = difference_bounds(bounds, float(ratio))
            x = np.clip((shifted[rows] - low) / (high - low), 0.0, 1.0)
            m = -low / (high - low)
            shows[rows] = stats.evidence_below(x, stats.predictable_bets(x, alpha), m) >= threshold
    identical = np.all(new_rows == base_rows, axis=-1)
    result: BoolArray = (shows & ~identical).reshape(leading)
    return result


def blind_below(diff_bounds: tuple[float, float] | None, alpha: float) -> int | None:
    """Fewest shared seeds with which the betting test can fail at all (0 without bounds)."""
    if diff_bounds is None:
        return 0
    return stats.episodes_needed(0.0, diff_bounds, alpha)


def _side(shifted: FloatArray, diff_bounds: tuple[float, float] | None, alpha: float) -> Side:
    return Side(shifted, 0.0, diff_bounds, alpha)


def _shifted_bounds(side: Side) -> tuple[float, float]:
    """One-sided (lower, upper) bounds on mean(new - r * baseline), each at level alpha."""
    values, alpha = side.values, side.alpha
    if side.bounds is not None:
        low, high = side.bounds
        x = np.clip((values - low) / (high - low), 0.0, 1.0)
        return (
            low + stats.betting_lower_bound(x, alpha) * (high - low),
            low + stats.betting_upper_bound(x, alpha) * (high - low),
        )
    n, mean = values.size, float(np.mean(values))
    if n < 2:
        return -math.inf, math.inf
    half = float(scipy_stats.t.ppf(1 - alpha, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean - half, mean + half


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


def new_run(episodes: Sequence[Episode], label: str) -> dict[int, Episode]:
    """The run's episodes by seed; refuses what cannot be paired."""
    if not episodes:
        raise GymrecUsageError(
            f"{SOURCE}: the result for {label} has no episodes; evaluate at least one seed"
        )
    by_seed: dict[int, Episode] = {}
    for episode in episodes:
        if episode.seed is None:
            raise GymrecUsageError(
                f"{SOURCE}: an episode of {label} was reset without a seed; pairing with a "
                "baseline needs reset(seed=s) for every episode (gymrec.evaluate() does that)"
            )
        if episode.seed in by_seed:
            raise GymrecUsageError(
                f"{SOURCE}: seed {episode.seed} appears twice in the result for {label}; pairing "
                "needs one episode per seed (compare each env's evaluate() result on its own)"
            )
        if episode.error is not None:
            raise GymrecUsageError(
                f"{SOURCE}: the episode for seed {episode.seed} of {label} did not finish "
                f"({episode.error}); a crashed episode has no return to compare"
            )
        if not math.isfinite(episode.return_):
            raise GymrecUsageError(
                f"{SOURCE}: seed {episode.seed} of {label} has return {episode.return_}; "
                "baselines need finite returns"
            )
        by_seed[episode.seed] = episode
    return by_seed


def pair(stored: baseline_files.Baseline, by_seed: Mapping[int, Episode]) -> Pairing:
    stored_by_seed = {episode.seed: episode for episode in stored.episodes}
    shared = sorted(set(stored_by_seed) & set(by_seed))
    return Pairing(
        seeds=tuple(shared),
        baseline=np.array([stored_by_seed[s].return_ for s in shared], dtype=np.float64),
        new=np.array([by_seed[s].return_ for s in shared], dtype=np.float64),
        baseline_lengths=tuple(stored_by_seed[s].length for s in shared),
        new_lengths=tuple(by_seed[s].length for s in shared),
        only_baseline=tuple(sorted(set(stored_by_seed) - set(by_seed))),
        only_new=tuple(sorted(set(by_seed) - set(stored_by_seed))),
    )


def check_bounds(
    values: Sequence[float],
    seeds: Sequence[int],
    bounds: tuple[float, float] | None,
    bounds_source: str,
    where: str,
) -> None:
    """Every return inside the bounds, or an error naming the seed, the bounds and their source."""
    if bounds is None:
        return
    lo, hi = bounds
    outside = [
        (seed, value) for seed, value in zip(seeds, values, strict=True) if not lo <= value <= hi
    ]
    if outside:
        seed, value = outside[0]
        raise GymrecUsageError(
            f"{SOURCE}: seed {seed} {where} has return {fmt(value)}, outside bounds "
            f"({fmt(lo)}, {fmt(hi)}) from {bounds_source} ({len(outside)} of {len(values)} "
            "episodes are outside); bounds must hold for every possible episode: widen them, or "
            "drop them to use a paired t"
        )


# --------------------------------------------------------------------------------------------
# The comparison and its message


@dataclasses.dataclass(frozen=True)
class Comparison:
    verdict: stats.Verdict
    #: (seed, baseline return, new return) of the seeds that dropped most, worst first.
    most_regressed: tuple[tuple[int, float, float], ...]


@dataclasses.dataclass(frozen=True)
class Context:
    """What the message says about where the data came from and what to run next."""

    label: str
    baseline_path: Path
    reproduce: str | None = None
    update_command: str | None = None
    #: Extra lines (a gymnasium version change since the baseline was recorded).
    notes: tuple[str, ...] = ()


def compare(
    pairing: Pairing,
    *,
    tolerance: float,
    alpha: float,
    bounds: tuple[float, float] | None,
    rng: np.random.Generator,
    context: Context,
) -> Comparison:
    """Decide whether the shared seeds show a drop beyond the margin. Needs >= 1 shared seed."""
    n = len(pairing.seeds)
    if n == 0:
        raise ValueError("no shared seeds to compare")
    base, new = pairing.baseline, pairing.new
    differences = new - base
    base_mean = float(np.mean(base))
    margin = tolerance * abs(base_mean)
    ratio = margin_ratio(base_mean, tolerance)
    diff_bounds = difference_bounds(bounds, ratio) if bounds is not None else None
    side = _side(new - ratio * base, diff_bounds, alpha)
    identical = bool(np.all(differences == 0))

    shows_drop = bool(
        regression_evidence(new, base, tolerance=tolerance, alpha=alpha, bounds=bounds)
    )
    if shows_drop:
        outcome = stats.Outcome.FAIL
    elif bounds is None and n < 2 and not identical:
        outcome = stats.Outcome.INCONCLUSIVE
    else:
        outcome = stats.Outcome.PASS
    shifted_low, shifted_high = _shifted_bounds(side)
    # mean(new - baseline) = mean(new - r * baseline) - margin (with the baseline's own mean).
    low, high = shifted_low - margin, shifted_high - margin
    drop = None if identical else stats.detectable_drop(side, rng)
    cautions = (
        t_cautions(differences, "return difference") if bounds is None and not identical else []
    )
    needed = blind_below(diff_bounds, alpha)
    if needed is None or n < needed:
        at_least = f"at least {needed}" if needed is not None else "more"
        cautions.append(
            f"on {n} shared seed{'s' * (n != 1)} this comparison cannot fail, however far the "
            f"returns drop: the betting test with these bounds needs {at_least} shared seeds "
            "at this alpha; run more seeds (--gymrec-seeds)"
        )
    order = np.argsort(differences, kind="stable")
    most_regressed = tuple(
        (pairing.seeds[i], float(base[i]), float(new[i]))
        for i in order[:MOST_REGRESSED_SHOWN]
        if differences[i] < 0
    )
    method = (
        f"paired betting confidence sequence, returns in ({fmt(bounds[0])}, {fmt(bounds[1])})"
        if bounds is not None
        else "paired Student t"
    )
    check = f"mean change vs baseline >= -{fmt(margin)}"
    message = _message(
        pairing=pairing,
        outcome=outcome,
        check=check,
        tolerance=tolerance,
        margin=margin,
        alpha=alpha,
        method=method,
        low=low,
        high=high,
        identical=identical,
        side=side,
        drop=drop,
        most_regressed=most_regressed,
        cautions=cautions,
        context=context,
    )
    verdict = stats.Verdict(
        outcome=outcome,
        check=check,
        mode=stats.Mode.NO_REGRESSION,
        method=method,
        alpha=alpha,
        n=n,
        mean=float(np.mean(differences)),
        low=low,
        high=high,
        detectable_drop=drop,
        blind=needed is None or n < needed,
        message=message,
        cautions=tuple(cautions),
        label=context.label,
    )
    return Comparison(verdict=verdict, most_regressed=most_regressed)


def _message(
    *,
    pairing: Pairing,
    outcome: stats.Outcome,
    check: str,
    tolerance: float,
    margin: float,
    alpha: float,
    method: str,
    low: float,
    high: float,
    identical: bool,
    side: Side,
    drop: float | None,
    most_regressed: tuple[tuple[int, float, float], ...],
    cautions: list[str],
    context: Context,
) -> str:
    n = len(pairing.seeds)
    head = {
        stats.Outcome.FAIL: "FAILED",
        stats.Outcome.PASS: "passed",
        stats.Outcome.INCONCLUSIVE: "INCONCLUSIVE",
    }[outcome]
    base_mean, new_mean = float(np.mean(pairing.baseline)), float(np.mean(pairing.new))
    level = f"{100 * (1 - alpha):g}%"
    lines = [
        f"gymrec: {context.label}: no regression against the baseline {head} "
        f"({check}, alpha={fmt(alpha)})",
        f"baseline: {context.baseline_path}",
        f"paired on {n} seed{'s' * (n != 1)} ({format_seeds(pairing.seeds)}): baseline mean "
        f"{fmt(base_mean)}, new mean {fmt(new_mean)}, change {fmt(new_mean - base_mean)}; "
        f"{100 * (1 - 2 * alpha):g}% interval of the change [{fmt(low)}, {fmt(high)}] ({method})",
    ]
    rule = (
        f"rule (non-inferiority, margin {tolerance:.3g} x |baseline mean| = {fmt(margin)}): fail "
        f"only on evidence that the new mean is more than {fmt(margin)} below the baseline "
        f"mean, i.e. when the {level} upper confidence bound of the change is below "
        f"{fmt(-margin)}"
    )
    if identical:
        lines.append(f"{rule}; here every shared seed has exactly its baseline return")
    elif outcome is stats.Outcome.INCONCLUSIVE:
        lines.append(
            f"{rule}; cannot decide from 1 seed without bounds: a paired t needs at least 2; "
            "pass bounds=(lo, hi) or run more seeds"
        )
    else:
        relation = "<" if outcome is stats.Outcome.FAIL else "is not below"
        lines.append(f"{rule}; here {fmt(high)} {relation} {fmt(-margin)}")
        if drop is not None:
            lines.append(
                f"detectable: a drop of {fmt(drop)} beyond the margin (a mean change of "
                f"{fmt(-margin - drop)}) is caught with {stats.POWER:.0%} probability on these "
                f"{n} seeds {stats.spread_assumption(side)}; smaller drops may pass"
            )
        elif side.bounds is not None:
            needed = blind_below(side.bounds, side.alpha)
            more = f"; at least {needed} shared seeds are needed" if needed is not None else ""
            lines.append(
                f"blind: on {n} seeds no drop within the bounds would be caught, not even every "
                f"seed falling from the best return to the worst{more}"
            )
    if most_regressed:
        lengths = dict(
            zip(
                pairing.seeds,
                zip(pairing.baseline_lengths, pairing.new_lengths, strict=True),
                strict=True,
            )
        )
        shown = ", ".join(
            f"seed {seed}: {fmt(old)} -> {fmt(new)} ({lengths[seed][0]} -> {lengths[seed][1]} "
            "steps)"
            for seed, old, new in most_regressed
        )
        lines.append(f"most regressed seeds (baseline -> new return): {shown}")
    if not identical:
        differences = pairing.new - pairing.baseline
        lower, higher = int(np.sum(differences < 0)), int(np.sum(differences > 0))
        lines.append(f"per seed: {lower} lower, {higher} higher, {n - lower - higher} unchanged")
    lines.extend(_left_out(pairing))
    lines.extend(f"caution: {caution}" for caution in cautions)
    lines.extend(context.notes)
    if context.reproduce:
        lines.append(f"reproduce: {context.reproduce}")
    if outcome is stats.Outcome.FAIL and context.update_command:
        lines.append(
            f"if the drop is intended, accept this run as the baseline: {context.update_command}"
        )
    return "\n".join(lines)


def _left_out(pairing: Pairing) -> list[str]:
    lines = []
    if pairing.only_new:
        count = len(pairing.only_new)
        lines.append(
            f"left out: {count} seed{'s' * (count != 1)} of this run "
            f"({format_seeds(pairing.only_new)}) {'have' if count != 1 else 'has'} no baseline "
            f"(record them with {baseline_files.UPDATE_FLAG})"
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
# The env must be the same for seeds to pair


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):  # an empty mapping adds nothing: {} == absent
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def env_changes(
    stored: baseline_files.Baseline, label: str, spec: Mapping[str, Any] | None
) -> list[str]:
    """What differs between the baseline's env and this run's (empty when they pair)."""
    if stored.env_spec is not None and spec is not None:
        old = _flatten(_json_normalised(stored.env_spec))
        now = _flatten(_json_normalised(spec))
        return [
            f"{key}: {_shown(old, key)} -> {_shown(now, key)}"
            for key in sorted(old.keys() | now.keys())
            if key not in old or key not in now or old[key] != now[key]
        ]
    if stored.env != label:
        return [f"env: {stored.env!r} -> {label!r}"]
    return []


def _json_normalised(data: Mapping[str, Any]) -> dict[str, Any]:
    """Tuples become lists, keys strings: a spec compares equal to its stored JSON form."""
    normalised: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    return normalised


def _shown(flat: Mapping[str, Any], key: str) -> str:
    return repr(flat[key]) if key in flat else "(absent)"


def env_changed_message(
    label: str, path: Path, changes: list[str], update_command: str | None
) -> str:
    listed = "\n".join(f"  {change}" for change in changes)
    rerun = update_command or f"rerun with {baseline_files.UPDATE_FLAG}"
    return (
        f"gymrec: {label}: the env differs from the one baseline {path} was recorded on, so "
        f"seeds no longer mean the same episodes and pairing is invalid:\n{listed}\n"
        f"if the change is intended, rewrite the baseline: {rerun}"
    )


def no_shared_seeds_message(
    label: str, path: Path, pairing: Pairing, update_command: str | None
) -> str:
    rerun = update_command or f"rerun with {baseline_files.UPDATE_FLAG}"
    return (
        f"gymrec: {label}: no seed in common with baseline {path}: it holds seeds "
        f"{format_seeds(pairing.only_baseline)}, this run has {format_seeds(pairing.only_new)}; "
        f"run the baseline's seeds (--gymrec-seeds {format_seeds(pairing.only_baseline)}), or "
        f"record these seeds as the baseline: {rerun}"
    )


# --------------------------------------------------------------------------------------------
# The whole check, as called by the fixture


def check_tolerance(tolerance: object) -> float:
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float))
        or not math.isfinite(tolerance)
        or not 0 <= tolerance < 1
    ):
        raise GymrecUsageError(
            f"{SOURCE}: tolerance={tolerance!r} must be a number in [0, 1): the fraction of the "
            "baseline's mean return that the new mean may drop by (e.g. 0.05)"
        )
    return float(tolerance)


def assert_no_regression(
    result: EvalResult,
    *,
    path: Path,
    record: TestRecord,
    update: bool,
    reproduce: str | None,
    tolerance: float,
    alpha: float | None,
    bounds: object,
) -> stats.Verdict | None:
    """Write, rewrite or compare against the baseline at ``path``; see Gymrec's method."""
    __tracebackhide__ = True
    if not isinstance(result, EvalResult):
        raise GymrecUsageError(
            f"{SOURCE} takes the EvalResult of gymrec.evaluate() (or gymrec.result), got {result!r}"
        )
    tolerance = check_tolerance(tolerance)
    resolved_alpha = (
        settings.validate("alpha", alpha, SOURCE) if alpha is not None else result.context.alpha
    )
    if bounds is not None:
        run_bounds, run_bounds_source = settings.validate("bounds", bounds, SOURCE), SOURCE
    else:
        run_bounds, run_bounds_source = result.context.bounds, result.context.bounds_source
    label = result.label()
    by_seed = new_run(result.episodes, label)
    seeds = sorted(by_seed)
    check_bounds(
        [by_seed[s].return_ for s in seeds], seeds, run_bounds, run_bounds_source, "of this run"
    )
    update_command = (
        f"{reproduce} {baseline_files.UPDATE_FLAG}"
        if reproduce and baseline_files.UPDATE_FLAG not in reproduce
        else reproduce
    )
    current = baseline_files.Baseline(
        env=label,
        env_spec=result.env_spec,
        episodes=tuple(
            baseline_files.BaselineEpisode(s, by_seed[s].return_, by_seed[s].length) for s in seeds
        ),
        bounds=run_bounds,
        versions=baseline_files.installed_versions(),
        test=record.nodeid,
    )
    if update:
        record.note_baseline(str(path), baseline_files.save(path, current))
        return None
    stored = baseline_files.load(path)
    if stored is None:
        record.note_baseline(str(path), baseline_files.save(path, current))
        raise GymrecBaselineCreated(
            baseline_files.created_message(
                path, current, update_command or "--gymrec-update-baselines"
            )
        )
    changes = env_changes(stored, label, result.env_spec)
    if changes:
        raise GymrecFailure(env_changed_message(label, path, changes, update_command))
    pairing = pair(stored, by_seed)
    if not pairing.seeds:
        raise GymrecFailure(no_shared_seeds_message(label, path, pairing, update_command))
    if run_bounds is None and stored.bounds is not None:
        run_bounds, run_bounds_source = stored.bounds, f"baseline {path}"
    check_bounds(
        list(pairing.baseline),
        list(pairing.seeds),
        run_bounds,
        run_bounds_source,
        f"in baseline {path}",
    )
    check_bounds(
        list(pairing.new), list(pairing.seeds), run_bounds, run_bounds_source, "of this run"
    )
    notes = []
    recorded_with = stored.versions.get("gymnasium")
    now_with = current.versions.get("gymnasium")
    if recorded_with and now_with and recorded_with != now_with:
        notes.append(
            f"note: the baseline was recorded with gymnasium {recorded_with}, this run uses "
            f"{now_with}; env dynamics can change between releases"
        )
    comparison = compare(
        pairing,
        tolerance=tolerance,
        alpha=resolved_alpha,
        bounds=run_bounds,
        rng=stats.rng_for(result.context.rng_key),
        context=Context(
            label=label,
            baseline_path=path,
            reproduce=reproduce,
            update_command=update_command,
            notes=tuple(notes),
        ),
    )
    verdict = comparison.verdict
    record.add_verdict(verdict)
    if verdict.outcome is stats.Outcome.FAIL:
        for seed, old, new in comparison.most_regressed:
            record.flag(
                by_seed[seed],
                f"regressed most against the baseline: return {fmt(old)} -> {fmt(new)}",
            )
    verdict.enforce()
    return verdict
