"""Monte-Carlo calibration of the verdicts, on the return shapes RL produces.

For each shape the line is placed at the true mean (a good agent exactly at the threshold):
a verdict may fail it at most alpha of the time (asserted with three standard errors of
Monte-Carlo slack). A clear regression must be caught. Vectorised: every run of a scenario is
one row of a matrix fed to the same functions the checks call.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from helpers.plans import make_plan
from helpers.return_shapes import BOUNDS, SHAPES, fixed_t_episodes, moments, scaled, true_mean
from pytest_gymrec.checks import core, quantile, rate, sequential
from pytest_gymrec.verdict import Mode

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

RUNS = 2000
#: Looser than the default 0.01 so that an excess of flakes is visible with 2,000 runs.
ALPHA = 0.05
BETA = 0.1
TOLERANCE = 0.1
MAX_EPISODES = 400


def slack(rate: float, runs: int = RUNS) -> float:
    """Three Monte-Carlo standard errors of an observed rate."""
    return 3.0 * math.sqrt(rate * (1.0 - rate) / runs)


def draw(shape: str, seed: int, episodes: int = MAX_EPISODES) -> FloatArray:
    return SHAPES[shape](np.random.default_rng(seed), (RUNS, episodes))


def fixed_n_fails(values: FloatArray, line: float) -> BoolArray:
    """Whether the fixed-n no-regression check of ``mean >= line`` fails each run (row)."""
    return np.array([core.shows_drop(core.Side(row, line, BOUNDS, ALPHA)) for row in values])


def calibration_plan(at_least: float, mode: Mode = Mode.NO_REGRESSION) -> sequential.Plan:
    """A sequential plan with this module's tolerance, alpha and beta on the shapes' bounds."""
    return make_plan(
        at_least, tolerance=TOLERANCE, bounds=BOUNDS, mode=mode, alpha=ALPHA, beta=BETA
    )


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_sequential_flakes_at_most_alpha_at_the_line(shape: str) -> None:
    codes, _ = sequential.simulate(scaled(draw(shape, 1)), calibration_plan(true_mean(shape)))
    flake_rate = float(np.mean(codes == sequential.FAIL_CODE))
    assert flake_rate <= ALPHA + slack(ALPHA)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_sequential_passes_a_dropped_agent_at_most_beta(shape: str) -> None:
    # The pass line (at_least - tolerance*at_least) sits exactly at the agent's mean.
    mean = true_mean(shape)
    codes, _ = sequential.simulate(scaled(draw(shape, 2)), calibration_plan(mean / (1 - TOLERANCE)))
    miss_rate = float(np.mean(codes == sequential.PASS_CODE))
    assert miss_rate <= BETA + slack(BETA)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_sequential_catches_a_clear_regression(shape: str) -> None:
    # Every return scaled down by a quarter: 2.5 times the declared drop.
    values = 0.75 * draw(shape, 3)
    codes, used = sequential.simulate(scaled(values), calibration_plan(true_mean(shape)))
    assert float(np.mean(codes == sequential.FAIL_CODE)) >= 0.95
    assert float(np.mean(codes == sequential.PASS_CODE)) <= 0.01
    assert float(np.mean(used)) < MAX_EPISODES / 2


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_sequential_passes_a_clearly_good_agent_early(shape: str) -> None:
    # Mean 5% above the line: passes, and well before the fixed-n t-test of the same power.
    mean, sd = moments(shape)
    at_least = mean / 1.05
    codes, used = sequential.simulate(scaled(draw(shape, 4, 1000)), calibration_plan(at_least))
    assert float(np.mean(codes == sequential.PASS_CODE)) >= 0.98
    fixed_n = fixed_t_episodes(sd, TOLERANCE * at_least, ALPHA, BETA)
    assert float(np.mean(used)) < fixed_n


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_certify_passes_an_agent_below_the_line_at_most_alpha(shape: str) -> None:
    # certify: the agent sits exactly at at_least; passing it would be a false certification.
    codes, _ = sequential.simulate(
        scaled(draw(shape, 5)), calibration_plan(true_mean(shape), Mode.CERTIFY)
    )
    assert float(np.mean(codes == sequential.PASS_CODE)) <= ALPHA + slack(ALPHA)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("episodes", [10, 50])
def test_fixed_n_betting_check_flakes_at_most_alpha(shape: str, episodes: int) -> None:
    # The rule mean.decide_mean applies with bounds (core.shows_drop), run by run.
    values = draw(shape, 6, episodes)
    assert float(np.mean(fixed_n_fails(values, true_mean(shape)))) <= ALPHA + slack(ALPHA)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_fixed_n_betting_check_catches_a_clear_regression(shape: str) -> None:
    # Returns halved. (A quarter off is not "clear" for the right-skewed shape at n=200: its
    # mean is 11% of the range, so that drop is a quarter of a standard deviation.)
    values = 0.5 * draw(shape, 7, 200)
    assert float(np.mean(fixed_n_fails(values, true_mean(shape)))) >= 0.9


@pytest.mark.parametrize("true_rate", [0.5, 0.9, 0.98])
@pytest.mark.parametrize("episodes", [20, 100])
def test_success_rate_check_flakes_at_most_alpha(true_rate: float, episodes: int) -> None:
    counts = np.random.default_rng(8).binomial(episodes, true_rate, RUNS * 5)
    flake_rate = float(np.mean(rate.rate_fails(counts, episodes, true_rate, ALPHA)))
    assert flake_rate <= ALPHA + slack(ALPHA, RUNS * 5)


def test_success_rate_check_catches_a_clear_regression() -> None:
    counts = np.random.default_rng(9).binomial(100, 0.7, RUNS)
    assert float(np.mean(rate.rate_fails(counts, 100, 0.9, ALPHA))) >= 0.99


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_quantile_check_flakes_at_most_alpha(shape: str) -> None:
    # Line at the true 10th percentile: P(return < line) <= 0.1 exactly as the rule allows.
    population = SHAPES[shape](np.random.default_rng(10), (400_000,))
    line = float(np.quantile(population, 0.1, method="inverted_cdf"))
    values = draw(shape, 11, 60)
    below = np.sum(values < line, axis=-1)
    assert float(np.mean(quantile.quantile_fails(below, 60, 0.1, ALPHA))) <= ALPHA + slack(ALPHA)


def test_quantile_check_catches_a_clear_regression() -> None:
    values = draw("capped", 12, 60)
    # A quarter of episodes crash to 0: the 10th percentile falls to 0.
    crashed = np.where(np.random.default_rng(13).random(values.shape) < 0.25, 0.0, values)
    below = np.sum(crashed < 100.0, axis=-1)
    assert float(np.mean(quantile.quantile_fails(below, 60, 0.1, ALPHA))) >= 0.9
