"""Power and validity of the bounded (betting) mean tests, side by side on the same data.

Sections (all at alpha 0.01 unless --alpha; Monte-Carlo runs are rows of one matrix):

* d80: the smallest drop caught with 80% probability, by bisection on the drop with common
  random numbers (the same simulated datasets, shifted down by d and clipped to the bounds,
  feed every method). Methods: ``today`` (the predictable plug-in bet of a confidence sequence,
  truncation 1/2, evidence = running maximum of the capital: the 0.1 code, kept HERE as the
  reference), ``new`` (pytest_gymrec.checks.betting.fixed_n_rejects), ``t`` (one-sided
  Student t, not valid) and ``floor`` ((hi - line)((0.8/alpha)^(1/n) - 1), below which no
  valid test can go). Scenarios: CartPole-like (capped) n=20/50/100 with the line at its
  mean 440; near-normal n=10/20/50/100 (line 300); paired near-normal correlated (returns sd
  50, per-seed differences sd 20) beyond a 5% margin, n=20/50/100.
* sweep: d80 of the new test for truncations c in 0.9..0.99 and numbers of orders.
* flips: how often the verdict changes when the same data come in another order, on
  borderline CartPole-like data (n=50, at the drop the test catches half of the time), against
  the number of orders averaged, with the time per verdict.
* flakes: the rate at which each test fails an agent exactly at the line, on every shape of
  tests/helpers/return_shapes.py, and on two paired cases at the margin.
* calibration: the power, measured on fresh data, at the drop betting.detectable_drop states
  from one dataset.
* sequential: the anytime-valid two-bettor test after 500 episodes, Kelly bet for the declared
  gap vs a mixture over gaps.

Deterministic: every generator is seeded from fixed integers (zlib.crc32 of the scenario
name, never hash(), which is salted per process).

Run:  python benchmarks/bench_power.py [--quick] [--sections d80,flakes,...] [--alpha 0.01]
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.return_shapes import ALL_SHAPES, moments, scaled
from pytest_gymrec.checks import betting

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: A test on scaled values (rows = runs) against per-row lines: True where it fails the line.
Method = Callable[[FloatArray, FloatArray], BoolArray]

POWER = 0.8
TOLERANCE = 0.05


def generator(*key: object) -> np.random.Generator:
    """A generator determined by the key's text (crc32: the same in every process)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode("utf-8")))


# --------------------------------------------------------------------------------------------
# The methods


def today_rejects(x: FloatArray, m: FloatArray, alpha: float) -> BoolArray:
    """The 0.1 fixed-n check (stats.predictable_bets, truncation 1/2, running maximum)."""
    n = x.shape[-1]
    t = np.arange(1, n + 1, dtype=np.float64)
    running_mean = (0.5 + np.cumsum(x, axis=-1)) / (t + 1)
    running_var = (0.25 + np.cumsum((x - running_mean) ** 2, axis=-1)) / (t + 1)
    previous_var = np.concatenate([np.full((*x.shape[:-1], 1), 0.25), running_var[..., :-1]], -1)
    bets = np.sqrt(2.0 * math.log(1.0 / alpha) / (previous_var * t * np.log1p(t)))
    line = np.asarray(m)[..., np.newaxis]
    cap = 0.5 / (1.0 - line)
    path = np.cumsum(np.log1p(-np.minimum(bets, cap) * (x - line)), axis=-1)
    result: BoolArray = path.max(axis=-1) >= math.log(1.0 / alpha)
    return result


def t_rejects(x: FloatArray, m: FloatArray, alpha: float) -> BoolArray:
    n = x.shape[-1]
    critical = float(scipy_stats.t.ppf(1 - alpha, n - 1))
    upper = x.mean(-1) + critical * x.std(-1, ddof=1) / math.sqrt(n)
    result: BoolArray = upper < m
    return result


def new_method(alpha: float, **options: float) -> Method:
    def rejects(x: FloatArray, m: FloatArray) -> BoolArray:
        return betting.fixed_n_rejects(x, m, alpha, **options)  # type: ignore[arg-type]

    return rejects


def methods(alpha: float) -> dict[str, Method]:
    return {
        "today": functools.partial(today_rejects, alpha=alpha),
        "new": new_method(alpha),
        "t": functools.partial(t_rejects, alpha=alpha),
    }


# --------------------------------------------------------------------------------------------
# Scenarios: data as a function of the drop (return units), with the line per row


class Scenario:
    """Simulated datasets (rows) as a function of the drop below the line, scaled to [0, 1]."""

    def __init__(self, name: str, n: int, runs: int) -> None:
        self.name, self.n, self.runs = name, n, runs

    def data(self, drop: float) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    #: Width of the scaled range in return units (a drop in return units / width = scaled).
    width: float = 500.0
    #: Distance from the line to the upper bound (return units), for the floor; None: no floor.
    headroom: float | None = None
    largest_drop: float = 500.0


class Single(Scenario):
    """Returns of one shape with the line at its mean; a drop shifts them down (clipped to the
    bounds), except for the capped shape, where fewer episodes reach the cap (mass moves from
    500 to the early falls, 500 Beta(2, 3), mean 200): the model of issue 9's table."""

    def __init__(self, shape: str, n: int, runs: int) -> None:
        super().__init__(f"{shape} n={n}", n, runs)
        spec = ALL_SHAPES[shape]
        self.bounds = spec.bounds
        rng = generator("single", shape, n, runs)
        self.capped = shape == "capped"
        if self.capped:
            self.uniforms = rng.random((runs, n))
            self.falls = 500.0 * rng.beta(2.0, 3.0, (runs, n))
        else:
            self.base = spec.draw(rng, (runs, n))
        self.line = moments(shape)[0]
        self.width = spec.bounds[1] - spec.bounds[0]
        self.headroom = spec.bounds[1] - self.line
        self.largest_drop = 240.0 if self.capped else self.line - spec.bounds[0]
        self.m = np.full(runs, scaled(np.array(self.line), self.bounds).item())

    def data(self, drop: float) -> tuple[FloatArray, FloatArray]:
        lo, hi = self.bounds
        if self.capped:
            at_cap = np.maximum(0.8 - drop / 300.0, 0.0)
            return scaled(np.where(self.uniforms < at_cap, hi, self.falls), self.bounds), self.m
        return scaled(np.clip(self.base - drop, lo, hi), self.bounds), self.m


class Paired(Scenario):
    """Near-normal returns (sd 50) sharing a per-seed part: differences have sd 20. The new
    agent sits ``margin + drop`` below the baseline (margin = 5% of the baseline's mean)."""

    bounds = (0.0, 500.0)

    def __init__(self, n: int, runs: int, *, fixes: bool = False) -> None:
        super().__init__(f"paired {'fixes-failures' if fixes else 'near-normal'} n={n}", n, runs)
        rng = generator("paired", n, runs, fixes)
        if fixes:
            # The new agent reaches the cap where the baseline (CartPole-like) fell early, and
            # loses a little on every other seed, so that it sits exactly at the margin.
            self.baseline = ALL_SHAPES["capped"].draw(rng, (runs, n))
            mean = moments("capped")[0]
            cost = (500.0 - (1.0 - TOLERANCE) * mean) / 0.8  # 80% of its episodes are capped
            self.new = np.where(self.baseline < 500.0, 500.0, 500.0 - cost)
        else:
            shared = rng.normal(300.0, math.sqrt(50.0**2 - 200.0), (runs, n))
            self.baseline = np.clip(shared + rng.normal(0.0, math.sqrt(200.0), (runs, n)), 0, 500)
            self.new = np.clip(shared + rng.normal(0.0, math.sqrt(200.0), (runs, n)), 0, 500)
            self.new = np.clip(self.new - TOLERANCE * 300.0, 0, 500)
        self.width = 500.0 * (2.0 - TOLERANCE)
        self.largest_drop = 500.0

    def data(self, drop: float) -> tuple[FloatArray, FloatArray]:
        new = np.clip(self.new - drop, *self.bounds)
        return betting.paired_scaled(new, self.baseline, self.bounds, TOLERANCE)


def power(method: Method, scenario: Scenario, drop: float) -> float:
    x, m = scenario.data(drop)
    return float(np.mean(method(x, m)))


def d80(method: Method, scenario: Scenario, resolution: float = 0.25) -> float:
    """Smallest drop (return units) caught with probability POWER; inf if none is."""
    low, high = 0.0, scenario.largest_drop
    if power(method, scenario, high) < POWER:
        return math.inf
    while high - low > resolution:
        middle = 0.5 * (low + high)
        if power(method, scenario, middle) >= POWER:
            high = middle
        else:
            low = middle
    return high


def floor(scenario: Scenario, n: int, alpha: float) -> float | None:
    if scenario.headroom is None:
        return None
    return float(scenario.headroom * ((POWER / alpha) ** (1.0 / n) - 1.0))


def d80_scenarios(runs: int) -> list[Scenario]:
    return [
        *(Single("capped", n, runs) for n in (20, 50, 100)),
        *(Single("near-normal", n, runs) for n in (10, 20, 50, 100)),
        *(Paired(n, runs) for n in (20, 50, 100)),
    ]


def cell(value: float | None) -> str:
    if value is None:
        return "-"
    return "never" if math.isinf(value) else f"{value:.3g}"


# --------------------------------------------------------------------------------------------
# Sections


def section_d80(args: argparse.Namespace) -> None:
    print(
        f"\n### d80: smallest drop caught with 80% probability (alpha {args.alpha}, "
        f"{args.runs} datasets a cell)\n"
    )
    print("| scenario | today | new | Student t (not valid) | floor |")
    print("|---|---|---|---|---|")
    for scenario in d80_scenarios(args.runs):
        found = {name: d80(method, scenario) for name, method in methods(args.alpha).items()}
        print(
            f"| {scenario.name} | {cell(found['today'])} | {cell(found['new'])} | "
            f"{cell(found['t'])} | {cell(floor(scenario, scenario.n, args.alpha))} |",
            flush=True,
        )


def section_sweep(args: argparse.Namespace) -> None:
    truncations = (0.9, 0.95, 0.99)
    counts = (1, 16)
    print(
        f"\n### sweep: d80 of the new test by truncation c and orders averaged (alpha "
        f"{args.alpha}, {args.runs} datasets)\n"
    )
    columns = [(c, p) for p in counts for c in truncations]
    print("| scenario | " + " | ".join(f"c={c} P={p}" for c, p in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for scenario in d80_scenarios(args.runs):
        row = [
            d80(new_method(args.alpha, truncation=c, permutations=p), scenario) for c, p in columns
        ]
        print(f"| {scenario.name} | " + " | ".join(cell(v) for v in row) + " |", flush=True)
    blind = [
        betting.episodes_needed_to_fail(-lo / (hi - lo), args.alpha, truncation=c)
        for c in truncations
        for lo, hi in [betting.difference_range((0.0, 500.0), 1.0 - TOLERANCE)]
    ]
    print(
        "\nshared seeds a paired check needs before it can fail (tolerance 0.05): "
        + ", ".join(f"c={c}: {b}" for c, b in zip(truncations, blind, strict=True))
    )


def section_flips(args: argparse.Namespace) -> None:
    runs = args.runs
    print(
        f"\n### order flips: {runs} borderline datasets a cell (at the drop each test catches half "
        "of the time), verdict in the given order vs a shuffled order; time per verdict\n"
    )
    print("| test | CartPole-like n=50 | near-normal n=50 | ms per verdict (n=50 / 500) |")
    print("|---|---|---|---|")
    candidates: list[tuple[str, Method]] = [
        ("today (one order, running maximum)", functools.partial(today_rejects, alpha=args.alpha))
    ]
    candidates += [
        (f"new, {count} orders", new_method(args.alpha, permutations=count))
        for count in (1, 8, 16, 32, 64)
    ]
    for name, method in candidates:
        flips = []
        for shape in ("capped", "near-normal"):
            scenario = Single(shape, 50, runs)
            shuffles = generator("flips", shape, runs).permuted(
                np.tile(np.arange(50), (runs, 1)), axis=1
            )
            low, high = 0.0, scenario.largest_drop
            while high - low > 0.25:
                middle = 0.5 * (low + high)
                if power(method, scenario, middle) >= 0.5:
                    high = middle
                else:
                    low = middle
            x, m = scenario.data(high)
            shuffled = np.take_along_axis(x, shuffles, axis=1)
            flips.append(float(np.mean(method(x, m) != method(shuffled, m))))
        timings = []
        for n in (50, 500):
            one = np.clip(generator("timing", n).normal(0.6, 0.1, (1, n)), 0, 1)
            line = np.array([0.6])
            started = time.perf_counter()
            for _ in range(20):
                method(one, line)
            timings.append(1000 * (time.perf_counter() - started) / 20)
        print(
            f"| {name} | {flips[0]:.4f} | {flips[1]:.4f} | {timings[0]:.2f} / {timings[1]:.2f} |",
            flush=True,
        )


def section_flakes(args: argparse.Namespace) -> None:
    runs = args.flake_runs
    print(
        f"\n### flakes: failure rate of an agent exactly at the line (alpha {args.alpha}, "
        f"{runs} runs a cell; 3 Monte-Carlo SE at alpha = "
        f"{3 * math.sqrt(args.alpha * (1 - args.alpha) / runs):.4f})\n"
    )
    print("| shape | n | today | new | Student t (not valid) |")
    print("|---|---|---|---|---|")
    tests = methods(args.alpha)
    for shape in ALL_SHAPES:
        for n in (5, 10, 20, 50, 100):
            single = Single(shape, n, runs)
            rates = {name: power(method, single, 0.0) for name, method in tests.items()}
            print(
                f"| {shape} | {n} | {rates['today']:.4f} | {rates['new']:.4f} | {rates['t']:.4f} |",
                flush=True,
            )
    for fixes in (False, True):
        for n in (10, 20, 50):
            scenario = Paired(n, runs, fixes=fixes)
            rates = {name: power(method, scenario, 0.0) for name, method in tests.items()}
            print(
                f"| {scenario.name.rsplit(' ', 1)[0]} (at the margin) | {n} | "
                f"{rates['today']:.4f} | {rates['new']:.4f} | {rates['t']:.4f} |",
                flush=True,
            )


def regressed(
    shape: str, rng: np.random.Generator, size: tuple[int, int], drop: float
) -> FloatArray:
    """Returns of ``shape`` after a drop of the mean by ``drop``, the way such an agent would
    regress: fewer episodes reach the cap or succeed, more score nothing, or all shift down."""
    spec = ALL_SHAPES[shape]
    lo, hi = spec.bounds
    u = rng.random(size)
    if shape == "capped":
        return np.where(u < 0.8 - drop / 300.0, hi, hi * rng.beta(2.0, 3.0, size))
    if shape == "zero-inflated":
        return np.where(u < 0.4 + drop / 350.0, lo, np.clip(rng.normal(350.0, 60.0, size), lo, hi))
    if shape == "discrete":  # mass moves from the goal (500) to nothing (0)
        shift = drop / 500.0
        return np.select([u < 0.2 + shift, u < 0.5 + shift], [0.0, 250.0], 500.0)
    if shape == "rare-success":
        return np.where(u < 0.05 - drop / 495.0, hi, np.clip(rng.normal(5.0, 2.0, size), lo, hi))
    return np.clip(spec.draw(rng, size) - drop, lo, hi)


def section_calibration(args: argparse.Namespace) -> None:
    datasets = args.datasets
    print(
        f"\n### calibration: power measured at the stated detectable drop ({datasets} datasets "
        f"a cell, {args.runs} fresh runs each, regressed as in `regressed`)\n"
    )
    print("| shape | n | mean stated drop | power: mean | median | 10%-90% |")
    print("|---|---|---|---|---|---|")
    for shape in ("capped", "near-normal", "zero-inflated", "acrobot-like", "discrete"):
        spec = ALL_SHAPES[shape]
        lo, hi = spec.bounds
        m = (moments(shape)[0] - lo) / (hi - lo)
        for n in (20, 50, 100):
            rng = generator("calibration", shape, n)
            stated, powers = [], []
            for _ in range(datasets):
                sample = scaled(spec.draw(rng, (n,)), spec.bounds)
                drop = betting.detectable_drop(sample, m, args.alpha, rng)
                if drop is None:
                    continue
                raw = drop * (hi - lo)
                fresh = regressed(shape, generator("fresh", shape, n), (args.runs, n), raw)
                stated.append(raw)
                x = scaled(fresh, spec.bounds)
                powers.append(float(np.mean(betting.fixed_n_rejects(x, m, args.alpha))))
            p = np.array(powers)
            print(
                f"| {shape} | {n} | {np.mean(stated):.3g} | {p.mean():.3f} | "
                f"{np.median(p):.3f} | {np.quantile(p, 0.1):.2f}-{np.quantile(p, 0.9):.2f} |",
                flush=True,
            )


def simulate_sequential(
    x: FloatArray,
    fail_m: float,
    pass_m: float,
    gap: float,
    alpha: float,
    beta: float,
    gaps: Sequence[float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Outcome codes (-1 fail, 0 inconclusive, 1 pass) and episodes used, two bettors."""
    truncation = 0.9
    if len(gaps) == 1:
        bets = betting.kelly_bets(x, gap)
        fail = betting.log_capital(x, bets, fail_m, truncation)
        passing = betting.log_capital(1 - x, bets, 1 - pass_m, truncation)
    else:
        fail = betting.mixture_log_capital(x, fail_m, gaps, truncation)
        passing = betting.mixture_log_capital(1 - x, 1 - pass_m, gaps, truncation)
    n = x.shape[-1]
    failed = fail >= math.log(1 / alpha)
    passed = passing >= math.log(1 / beta)
    fail_at = np.where(failed.any(-1), failed.argmax(-1), n)
    pass_at = np.where(passed.any(-1), passed.argmax(-1), n)
    codes = np.where((fail_at < n) & (fail_at <= pass_at), -1, np.where(pass_at < n, 1, 0))
    return codes, np.minimum(np.minimum(fail_at, pass_at) + 1, n)


def section_sequential(args: argparse.Namespace) -> None:
    runs, tolerance, beta, budget = args.seq_runs, 0.1, 0.1, 500
    print(
        f"\n### sequential: {runs} runs, tolerance {tolerance}, alpha {args.alpha}, beta {beta}, "
        f"at most {budget} episodes; kelly = bet for the declared gap (0.1 code), mix = "
        "average of Kelly bettors for gaps x1/2, x1, x2, x4\n"
    )
    print(
        "| shape | at the line: fails kelly / mix | full drop: fail / pass / inconclusive "
        "kelly | mix | double drop: fail, mean episodes kelly | mix |"
    )
    print("|---|---|---|---|---|---|")
    for shape, spec in ALL_SHAPES.items():
        lo, hi = spec.bounds
        mean = moments(shape)[0]
        rng = generator("sequential", shape)
        data = scaled(spec.draw(rng, (runs, budget)), spec.bounds)
        cells: list[dict[str, tuple[np.ndarray, np.ndarray]] | None] = []
        for drops in (0.0, 1.0, 2.0):
            # The agent's mean sits `drops` declared drops below at_least.
            at_least = (
                mean / (1 - drops * tolerance) if mean > 0 else mean / (1 + drops * tolerance)
            )
            declared = tolerance * abs(at_least)
            if not lo <= at_least <= hi or at_least - declared < lo:
                cells.append(None)
                continue
            fail_m = (at_least - lo) / (hi - lo)
            pass_m = (at_least - declared - lo) / (hi - lo)
            gap = fail_m - pass_m
            result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for name, gaps in (("kelly", [gap]), ("mix", [gap / 2, gap, 2 * gap, 4 * gap])):
                result[name] = simulate_sequential(
                    data, fail_m, pass_m, gap, args.alpha, beta, gaps
                )
            cells.append(result)
        line, full, double = cells

        def rates(result: dict[str, tuple[np.ndarray, np.ndarray]] | None, name: str) -> str:
            if result is None:
                return "n/a"
            codes, _ = result[name]
            return "/".join(f"{np.mean(codes == c):.3f}" for c in (-1, 1, 0))

        def speed(result: dict[str, tuple[np.ndarray, np.ndarray]] | None, name: str) -> str:
            if result is None:
                return "n/a"
            codes, used = result[name]
            return f"{np.mean(codes == -1):.3f}, {np.mean(used):.0f}"

        line_cell = (
            "n/a"
            if line is None
            else f"{np.mean(line['kelly'][0] == -1):.4f} / {np.mean(line['mix'][0] == -1):.4f}"
        )
        print(
            f"| {shape} | {line_cell} | {rates(full, 'kelly')} | {rates(full, 'mix')} | "
            f"{speed(double, 'kelly')} | {speed(double, 'mix')} |",
            flush=True,
        )


SECTIONS = {
    "d80": section_d80,
    "sweep": section_sweep,
    "flips": section_flips,
    "flakes": section_flakes,
    "calibration": section_calibration,
    "sequential": section_sequential,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs: a rough table in ~1 min")
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--runs", type=int, default=None, help="datasets per d80 cell")
    args = parser.parse_args()
    args.runs = args.runs or (400 if args.quick else 2000)
    args.flake_runs = 2000 if args.quick else 20000
    args.datasets = 10 if args.quick else 40
    args.seq_runs = 500 if args.quick else 4000
    started = time.perf_counter()
    print(
        f"bench_power: alpha={args.alpha}, truncation {betting.TRUNCATION}, "
        f"{betting.PERMUTATIONS} orders, {'quick' if args.quick else 'full'} run"
    )
    for name in args.sections.split(","):
        SECTIONS[name](args)
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
