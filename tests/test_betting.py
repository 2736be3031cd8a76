"""The bounded (betting) mean tests of pytest_gymrec.checks.betting.

Monte-Carlo checks use fixed seeds and allow three standard errors of Monte-Carlo slack; the
measurements behind the chosen constants are in benchmarks/bench_power.py.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest

from helpers.return_shapes import ALL_SHAPES, moments, scaled
from pytest_gymrec.checks import betting

ALPHA = 0.05
RUNS = 2000


def slack(rate: float, runs: int) -> float:
    """Three Monte-Carlo standard errors of an observed rate."""
    return 3.0 * math.sqrt(rate * (1.0 - rate) / runs)


def shape_sample(shape: str, seed: int, size: tuple[int, ...]) -> tuple[np.ndarray, float]:
    """Scaled returns of a shape and its scaled true mean."""
    spec = ALL_SHAPES[shape]
    values = scaled(spec.draw(np.random.default_rng(seed), size), spec.bounds)
    return values, float(scaled(np.array(moments(shape)[0]), spec.bounds))


@pytest.mark.parametrize("shape", ["capped", "near-normal", "rare-success", "acrobot-like"])
@pytest.mark.parametrize("n", [5, 30])
def test_fixed_n_flakes_at_most_alpha_at_the_line(shape: str, n: int) -> None:
    x, m = shape_sample(shape, 1, (RUNS, n))
    flakes = float(np.mean(betting.fixed_n_rejects(x, m, ALPHA)))
    assert flakes <= ALPHA + slack(ALPHA, RUNS)


def test_worst_case_two_point_data_flakes_at_most_alpha() -> None:
    # Mass 0.9 just above the line and 0.1 at 0, mean exactly at the line: the kind of data
    # on which a mean test is most tempted to reject.
    rng = np.random.default_rng(2)
    m = 0.5
    high = (m - 0.1 * 0.0) / 0.9
    x = np.where(rng.random((RUNS, 20)) < 0.9, high, 0.0)
    assert float(np.mean(betting.fixed_n_rejects(x, m, ALPHA))) <= ALPHA + slack(ALPHA, RUNS)


def test_paired_flakes_at_most_alpha_at_the_margin() -> None:
    # The new agent fixes every seed the CartPole-like baseline fell on and loses a little
    # on the others, so that it sits exactly at the 5% margin (paired t flakes here).
    rng = np.random.default_rng(3)
    baseline = ALL_SHAPES["capped"].draw(rng, (RUNS, 20))
    cost = (500.0 - 0.95 * moments("capped")[0]) / 0.8
    new = np.where(baseline < 500.0, 500.0, 500.0 - cost)
    fails = betting.paired_rejects(new, baseline, tolerance=0.05, alpha=ALPHA, bounds=(0, 500))
    assert float(np.mean(fails)) <= ALPHA + slack(ALPHA, RUNS)


def test_fixed_n_catches_a_clear_drop() -> None:
    x, m = shape_sample("near-normal", 4, (RUNS, 50))
    assert float(np.mean(betting.fixed_n_rejects(x - 0.1, m, 0.01))) >= 0.95


def test_verdict_depends_on_the_seed_value_pairs_not_their_order() -> None:
    rng = np.random.default_rng(5)
    seeds = rng.permutation(1000)[:40]
    flipped = 0
    for _ in range(60):
        values, m = shape_sample("capped", int(rng.integers(1 << 30)), (40,))
        line = m + 0.05  # near the edge of what 40 episodes can show
        shuffle = rng.permutation(40)
        given = bool(betting.fixed_n_rejects(values, line, 0.01, seeds=seeds))
        other = bool(betting.fixed_n_rejects(values[shuffle], line, 0.01, seeds=seeds[shuffle]))
        flipped += given != other
        assert betting.upper_bound(values, 0.01, seeds=seeds) == betting.upper_bound(
            values[shuffle], 0.01, seeds=seeds[shuffle]
        )
    assert flipped == 0


def test_without_seeds_the_averaged_orders_rarely_disagree() -> None:
    # Borderline CartPole-like data (caught about half of the time); rows reshuffled.
    rng = np.random.default_rng(6)
    runs = 1000
    falls = 500.0 * rng.beta(2.0, 3.0, (runs, 50))
    x = np.where(rng.random((runs, 50)) < 0.8 - 62.0 / 300.0, 500.0, falls) / 500.0
    verdicts = betting.fixed_n_rejects(x, 0.88, 0.01)
    assert 0.3 <= float(np.mean(verdicts)) <= 0.7
    shuffled = rng.permuted(x, axis=1)
    flips = float(np.mean(verdicts != betting.fixed_n_rejects(shuffled, 0.88, 0.01)))
    single = float(
        np.mean(verdicts != betting.fixed_n_rejects(shuffled, 0.88, 0.01, permutations=1))
    )
    assert flips <= 0.01 + slack(0.01, runs)
    assert flips < single


@pytest.mark.parametrize(("shape", "n"), [("capped", 80), ("near-normal", 25), ("discrete", 25)])
def test_bounds_are_the_edges_of_the_test(shape: str, n: int) -> None:
    x, _ = shape_sample(shape, 7, (n,))
    upper = float(betting.upper_bound(x, 0.01))
    lower = float(betting.interval(x, 0.01)[0])
    assert 0.0 < lower < float(np.mean(x)) < upper < 1.0
    assert bool(betting.fixed_n_rejects(x, upper, 0.01))
    assert not bool(betting.fixed_n_rejects(x, upper - 1e-9, 0.01))
    # The certify test is the mirror image: evidence that 1 - x has a mean below 1 - m.
    assert bool(betting.fixed_n_rejects(1 - x, 1 - lower, 0.01))
    assert not bool(betting.fixed_n_rejects(1 - x, 1 - (lower + 1e-9), 0.01))


def test_bounds_of_many_rows_match_one_row_at_a_time() -> None:
    x, _ = shape_sample("bimodal", 8, (4, 15))
    rows = betting.upper_bound(x, 0.05)
    assert rows == pytest.approx([float(betting.upper_bound(row, 0.05)) for row in x], abs=1e-12)


@pytest.mark.parametrize(
    "excess",
    [
        lambda m: np.where(m < 0.42, -1.0, 1.0),  # a step: interpolation is bisection
        lambda m: np.where(m < 0.3, -np.inf, (m - 0.3) ** 3 - 1e-6),  # an infinite end
        lambda m: np.sign(m - 0.37) * np.abs(m - 0.37) ** 9,  # flat at the root: too slow
    ],
    ids=["step", "infinite-end", "flat"],
)
def test_the_bound_search_ends_on_the_edge_whatever_the_evidence_looks_like(
    excess: Callable[[np.ndarray], np.ndarray],
) -> None:
    # The bracket [not rejected, rejected] narrows to the resolution, by interpolation where
    # it helps and by bisection where it does not.
    low, high = np.array([0.0, 0.1]), np.array([1.0, 0.9])
    bound = betting._solve_rejected(excess, low, high)
    assert np.all(excess(bound) >= 0)
    assert np.all(excess(bound - betting.BOUND_RESOLUTION) < 0)


def test_the_interval_is_the_upper_bound_and_its_mirror_found_at_once() -> None:
    x, _ = shape_sample("capped", 10, (3, 40))
    seeds = np.random.default_rng(11).permutation(40)
    lower, upper = betting.interval(x, 0.02, seeds=seeds)
    assert upper.tolist() == betting.upper_bound(x, 0.02, seeds=seeds).tolist()
    mirrored = 1.0 - betting.upper_bound(1.0 - x, 0.02, seeds=seeds)
    assert lower.tolist() == mirrored.tolist()


def test_evidence_grows_with_the_line() -> None:
    x, _ = shape_sample("right-skewed", 9, (30,))
    lines = np.linspace(0.0, 1.0, 101)
    evidence = betting.log_evidence(np.tile(x, (lines.size, 1)), lines, 0.01)
    assert np.all(np.diff(evidence) >= -1e-12)


def brute_force_log_evidence(
    values: list[float], m: float, alpha: float, orders: np.ndarray
) -> float:
    """The averaged final capital, one episode at a time in plain Python."""
    capitals = []
    for order in orders:
        total = mean_sum = 0.0
        squares = 0.0
        capital = 1.0
        variance = 0.25
        for t, index in enumerate(order, start=1):
            x = values[index]
            bet = min(
                math.sqrt(2.0 * math.log(1.0 / alpha) / (len(values) * variance)),
                betting.TRUNCATION / (1.0 - m),
            )
            capital *= 1.0 - bet * (x - m)
            total += x
            mean_sum = (0.5 * betting.VARIANCE_PRIOR_WEIGHT + total) / (
                t + betting.VARIANCE_PRIOR_WEIGHT
            )
            squares += (x - mean_sum) ** 2
            variance = (0.25 * betting.VARIANCE_PRIOR_WEIGHT + squares) / (
                t + betting.VARIANCE_PRIOR_WEIGHT
            )
        capitals.append(capital)
    return math.log(sum(capitals) / len(capitals))


@pytest.mark.parametrize(
    ("values", "m"),
    [([0.2, 0.9, 0.4], 0.7), ([1.0, 0.0, 0.5, 0.5], 0.6), ([0.3], 0.9), ([0.0, 0.0], 0.2)],
)
def test_agrees_with_brute_force_on_tiny_cases(values: list[float], m: float) -> None:
    expected = brute_force_log_evidence(values, m, 0.05, betting.orders(len(values)))
    assert float(betting.log_evidence(np.array(values), m, 0.05)) == pytest.approx(expected)


def test_orders_are_fixed_and_start_with_the_given_order() -> None:
    table = betting.orders(12)
    assert table.shape == (betting.PERMUTATIONS, 12)
    assert list(table[0]) == list(range(12))
    assert all(sorted(row) == list(range(12)) for row in table)
    assert len({tuple(row) for row in table}) == betting.PERMUTATIONS
    assert np.array_equal(table, betting.orders.__wrapped__(12, betting.PERMUTATIONS))


@pytest.mark.parametrize("m", [0.05, 0.5, 0.88, 0.99])
def test_episodes_needed_to_fail_is_the_first_count_that_can_fail(m: float) -> None:
    needed = betting.episodes_needed_to_fail(m, 0.01)
    assert needed is not None
    failing = [bool(betting.fixed_n_rejects(np.zeros(n), m, 0.01)) for n in range(1, needed + 1)]
    assert failing == [False] * (needed - 1) + [True]


def test_a_line_at_the_lower_bound_cannot_fail() -> None:
    assert betting.episodes_needed_to_fail(0.0, 0.01) is None
    assert betting.detectable_drop(np.full(10, 0.3), 0.0, 0.01, np.random.default_rng(0)) is None


def test_a_paired_comparison_can_fail_from_eight_shared_seeds() -> None:
    needed = betting.paired_seeds_needed_to_fail((0.0, 500.0), 0.05, 0.01)
    assert needed is not None
    assert needed <= 8
    worst_new, best_baseline = np.zeros(needed), np.full(needed, 500.0)
    shown = betting.paired_rejects(
        worst_new, best_baseline, tolerance=0.05, alpha=0.01, bounds=(0, 500)
    )
    assert bool(shown)
    fewer = betting.paired_rejects(
        worst_new[1:], best_baseline[1:], tolerance=0.05, alpha=0.01, bounds=(0, 500)
    )
    assert not bool(fewer)


def test_an_unchanged_agent_never_fails_a_paired_comparison() -> None:
    returns = np.random.default_rng(10).uniform(0, 500, 200)
    for tolerance in (0.0, 0.05):
        assert not bool(
            betting.paired_rejects(
                returns, returns.copy(), tolerance=tolerance, alpha=0.01, bounds=(0, 500)
            )
        )


def test_paired_differences_use_their_exact_range() -> None:
    x, line = betting.paired_scaled(
        np.array([0.0, 500.0]), np.array([500.0, 0.0]), (0.0, 500.0), 0.05
    )
    assert list(x) == pytest.approx([0.0, 1.0])
    assert float(line) == pytest.approx(475.0 / 975.0)
    negative_x, negative_line = betting.paired_scaled(
        np.array([-100.0]), np.array([-100.0]), (-500.0, 0.0), 0.05
    )
    # A negative baseline mean: r = 1.05, differences range over [-500, 525].
    assert float(negative_line) == pytest.approx(500.0 / 1025.0)
    assert float(negative_x[0]) == pytest.approx((5.0 + 500.0) / 1025.0)


def test_float_ties_are_ties() -> None:
    assert betting.tied([0.1 + 0.2 - 0.3, 0.0, -0.0])
    assert not betting.tied([0.0, 1e-6])
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    exact = betting.detectable_drop(np.zeros(12) + 0.5, 0.5, 0.01, rng_a)
    rounded = betting.detectable_drop(np.array([0.5, 0.5 + 1e-16] * 6), 0.5, 0.01, rng_b)
    assert exact == rounded


@pytest.mark.parametrize(("shape", "n"), [("near-normal", 30), ("capped", 30)])
def test_power_at_the_stated_drop_is_about_eighty_percent(shape: str, n: int) -> None:
    # The drop stated from one dataset, then the power of the test at that drop measured on
    # fresh data from the true shape (near-normal shifted down; CartPole-like with fewer
    # episodes at the cap), averaged over datasets.
    spec = ALL_SHAPES[shape]
    rng = np.random.default_rng(12)
    line = moments(shape)[0]
    m = line / 500.0
    powers = []
    for _ in range(4):
        drop = betting.detectable_drop(scaled(spec.draw(rng, (n,))), m, 0.01, rng)
        assert drop is not None
        size = (800, n)
        if shape == "capped":
            falls = 500.0 * rng.beta(2.0, 3.0, size)
            fresh = np.where(rng.random(size) < 0.8 - 500.0 * drop / 300.0, 500.0, falls)
        else:
            fresh = np.clip(spec.draw(rng, size) - 500.0 * drop, 0.0, 500.0)
        powers.append(float(np.mean(betting.fixed_n_rejects(scaled(fresh), m, 0.01))))
    assert 0.7 <= float(np.mean(powers)) <= 0.9


@pytest.mark.parametrize(
    ("shape", "n", "line"),
    [("near-normal", 30, 0.8), ("capped", 40, 0.9), ("discrete", 25, 0.5), ("bimodal", 60, 0.6)],
)
def test_the_stated_drop_is_the_edge_of_the_simulated_power(
    shape: str, n: int, line: float
) -> None:
    # The drop search interpolates; its answer must still be what bisection would give: caught
    # with POWER on the simulation, and a drop DROP_RESOLUTION smaller not caught.
    x, _ = shape_sample(shape, 21, (n,))
    drop = betting.detectable_drop(x, line, 0.01, np.random.default_rng(22))
    assert drop is not None
    sample = betting._regressed_sampler(x, n, np.random.default_rng(22))

    def power(shift: float) -> float:
        rejected = betting.fixed_n_rejects(
            sample(line - shift), line, 0.01, permutations=betting.SIMULATED_PERMUTATIONS
        )
        return float(np.mean(rejected))

    assert power(drop) >= betting.POWER > power(drop * (1 - betting.DROP_RESOLUTION))


def test_no_drop_is_detectable_below_the_blind_count() -> None:
    m = 0.88
    needed = betting.episodes_needed_to_fail(m, 0.01)
    assert needed is not None
    rng = np.random.default_rng(13)
    assert betting.detectable_drop(np.full(needed - 1, 0.95), m, 0.01, rng) is None
    assert betting.detectable_drop(np.full(needed + 20, 0.95), m, 0.01, rng) is not None


def test_episodes_needed_for_a_drop_give_the_power() -> None:
    rng = np.random.default_rng(14)
    x, m = shape_sample("near-normal", 15, (30,))
    needed = betting.episodes_needed_for_drop(x, m, 0.06, 0.01, rng)
    assert needed is not None
    fresh = np.clip(shape_sample("near-normal", 16, (1000, needed))[0] - 0.06, 0, 1)
    assert float(np.mean(betting.fixed_n_rejects(fresh, m, 0.01))) >= 0.7
    fewer = np.clip(shape_sample("near-normal", 17, (1000, needed // 2))[0] - 0.06, 0, 1)
    assert float(np.mean(betting.fixed_n_rejects(fewer, m, 0.01))) < 0.8


def test_floor_binds_the_new_test() -> None:
    # No valid test beats the floor; this one stays within a few times it on near-normal data.
    x, m = shape_sample("near-normal", 18, (50,))
    drop = betting.detectable_drop(x, m, 0.01, np.random.default_rng(19))
    assert drop is not None
    assert betting.floor_drop(m, 50, 0.01) < drop < 3 * betting.floor_drop(m, 50, 0.01)


def test_mixture_capital_is_anytime_valid() -> None:
    x, m = shape_sample("discrete", 20, (RUNS, 300))
    gap = 0.05
    path = betting.mixture_log_capital(x, m, [gap / 2, gap, 2 * gap], 0.9)
    crossed = float(np.mean(path.max(axis=-1) >= math.log(1 / ALPHA)))
    assert crossed <= ALPHA + slack(ALPHA, RUNS)


def test_anytime_bounds_are_the_edges_of_the_running_maximum() -> None:
    x, _ = shape_sample("near-normal", 21, (40,))
    bets = betting.kelly_bets(x, 0.05)
    upper = betting.anytime_upper_bound(x, 0.05, bets, 0.9)
    below = betting.log_capital(x, bets, upper, 0.9).max()
    just_under = betting.log_capital(x, bets, upper - 1e-9, 0.9).max()
    assert below >= math.log(20) > just_under
    assert betting.anytime_lower_bound(x, 0.05, bets, 0.9) < float(np.mean(x)) < upper


def test_module_does_not_import_scipy() -> None:
    code = "import sys, pytest_gymrec.checks.betting; assert 'scipy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
