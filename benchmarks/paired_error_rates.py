"""Error rates of assert_no_regression's paired test, measured by Monte Carlo.

Runs the plugin's own decision function (pytest_gymrec.checks.paired.regression_evidence) on
simulated baseline/new return pairs and prints, per return shape and pairing structure:

* the false-failure (flake) rate of an agent exactly at the margin (new mean = (1 - tolerance) x
  baseline mean), which must be at most alpha;
* the power to catch a clear drop (new mean = 0.8 x baseline mean, 15 points beyond a 5% margin);
* side by side, two alternatives: an unpaired Welch t on the two means (what one does without
  seeds), and a paired t whose margin plugs in the baseline's sample mean (the absolute-margin
  formulation that checks/paired.py avoids).

Returns lie in [0, 500] (CartPole-v1 scale). Usage::

    python benchmarks/paired_error_rates.py [--runs 4000] [--alpha 0.05] [--seed 0] [--sizes 10,20]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import numpy as np
from scipy import stats as scipy_stats

from pytest_gymrec.checks.paired import regression_evidence

LO, HI = 0.0, 500.0
TOLERANCE = 0.05

Shape = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def near_normal(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    return np.clip(rng.normal(300, 60, size), LO, HI)


def cartpole_like(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    capped = rng.random(size) < 0.8
    return np.where(capped, HI, rng.uniform(100, HI, size))


def bimodal(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    high = rng.random(size) < 0.6
    return np.clip(np.where(high, rng.normal(420, 30, size), rng.normal(80, 30, size)), LO, HI)


def right_skew(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    return np.clip(rng.exponential(60, size), LO, HI)


SHAPES: dict[str, Shape] = {
    "near-normal": near_normal,
    "cartpole-like": cartpole_like,
    "bimodal": bimodal,
    "right-skew": right_skew,
}


def new_returns(
    rng: np.random.Generator, base: np.ndarray, shape: Shape, scale: float, structure: str
) -> np.ndarray:
    """New returns whose mean is exactly ``scale`` x the baseline's, within the bounds."""
    if structure == "correlated":
        # Same start state, slightly different agent: scale each seed's return, add symmetric
        # noise that cannot leave the bounds (so the mean stays exactly scale x baseline).
        centre = scale * base
        room = np.minimum(centre - LO, HI - centre)
        return centre + 0.5 * rng.uniform(-1, 1, base.shape) * room
    if structure == "independent":
        # No shared variance: a stochastic agent whose per-seed return ignores the start state.
        return scale * shape(rng, base.shape)
    if structure == "collapse":
        # Unchanged on most seeds, falls to the lower bound on a few (skewed differences).
        collapsed = rng.random(base.shape) < (1 - scale)
        return np.where(collapsed, LO, base)
    raise ValueError(structure)


def welch_shows_drop(new: np.ndarray, base: np.ndarray, alpha: float) -> np.ndarray:
    """Unpaired: upper bound of mean(new) - mean(base) (Welch t) below -tol x mean(base)."""
    n = new.shape[-1]
    var_new, var_base = new.var(axis=-1, ddof=1) / n, base.var(axis=-1, ddof=1) / n
    se = np.sqrt(var_new + var_base)
    dof = (var_new + var_base) ** 2 / np.maximum(
        var_new**2 / (n - 1) + var_base**2 / (n - 1), 1e-300
    )
    upper = new.mean(-1) - base.mean(-1) + scipy_stats.t.ppf(1 - alpha, dof) * se
    shows: np.ndarray = upper < -TOLERANCE * np.abs(base.mean(-1))
    return shows


def plugin_margin_shows_drop(new: np.ndarray, base: np.ndarray, alpha: float) -> np.ndarray:
    """Paired t on new - base with the margin tol x |sample baseline mean| taken as known."""
    n = new.shape[-1]
    differences = new - base
    upper = differences.mean(-1) + scipy_stats.t.ppf(1 - alpha, n - 1) * differences.std(
        -1, ddof=1
    ) / math.sqrt(n)
    shows: np.ndarray = upper < -TOLERANCE * np.abs(base.mean(-1))
    return shows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", default="10,20,50,100,200")
    arguments = parser.parse_args()
    rng = np.random.default_rng(arguments.seed)
    alpha, runs = arguments.alpha, arguments.runs
    limit = alpha + 3 * math.sqrt(alpha * (1 - alpha) / runs)
    print(
        f"alpha={alpha}, tolerance={TOLERANCE}, {runs} runs per cell, returns in "
        f"[{LO:g}, {HI:g}]; a flake rate above {limit:.4f} (alpha + 3 SE) would be a violation"
    )
    header = (
        f"{'shape':<14} {'pairs':<12} {'n':>4}  "
        f"{'flake:bet':>9} {'flake:t':>8} {'flake:plug':>10} {'flake:welch':>11}  "
        f"{'power:bet':>9} {'power:t':>8} {'power:welch':>11}"
    )
    print(header)
    for size in (int(part) for part in arguments.sizes.split(",")):
        for shape_name, shape in SHAPES.items():
            for structure in ("correlated", "independent", "collapse"):
                base = shape(rng, (runs, size))
                at_margin = new_returns(rng, base, shape, 1 - TOLERANCE, structure)
                dropped = new_returns(rng, base, shape, 0.8, structure)
                rates = []
                for new in (at_margin, dropped):
                    common = {"tolerance": TOLERANCE, "alpha": alpha}
                    rates.append(
                        (
                            regression_evidence(new, base, bounds=(LO, HI), **common).mean(),
                            regression_evidence(new, base, bounds=None, **common).mean(),
                            plugin_margin_shows_drop(new, base, alpha).mean(),
                            welch_shows_drop(new, base, alpha).mean(),
                        )
                    )
                flake, power = rates
                print(
                    f"{shape_name:<14} {structure:<12} {size:>4}  "
                    f"{flake[0]:>9.4f} {flake[1]:>8.4f} {flake[2]:>10.4f} {flake[3]:>11.4f}  "
                    f"{power[0]:>9.3f} {power[1]:>8.3f} {power[3]:>11.3f}"
                )

    detectable_drops(rng, [int(part) for part in arguments.sizes.split(",")])


def detectable_drops(rng: np.random.Generator, sizes: list[int]) -> None:
    """What a passing report states: the smallest drop beyond the margin caught 80% of the time.

    One CartPole-like baseline, a new run that differs per seed (correlated noise, same mean),
    at the plugin's default alpha of 0.01.
    """
    from pytest_gymrec.checks import paired

    print()
    print("smallest detectable drop beyond a 5% margin (80% power), alpha=0.01, CartPole-like:")
    print(f"{'n':>4}  {'betting, bounds (0, 500)':>24}  {'paired t':>8}  {'baseline mean':>13}")
    for size in sizes:
        base = cartpole_like(rng, (1, size))[0]
        new = new_returns(rng, base[None, :], cartpole_like, 1.0, "correlated")[0]
        pairing = paired.pair(
            {seed: (float(value), 0) for seed, value in enumerate(base)},
            {seed: (float(value), 0) for seed, value in enumerate(new)},
        )
        shown = []
        for bounds in ((LO, HI), None):
            verdict = paired.decide_paired(
                pairing,
                tolerance=TOLERANCE,
                alpha=0.01,
                bounds=bounds,
                rng_key="benchmark",
                origin=paired.Origin(label="CartPole-like", baseline="-"),
            ).verdict
            drop = verdict.detectable_drop
            shown.append("blind" if verdict.blind else "unknown" if drop is None else f"{drop:.1f}")
        print(f"{size:>4}  {shown[0]:>24}  {shown[1]:>8}  {base.mean():>13.1f}")


if __name__ == "__main__":
    main()
