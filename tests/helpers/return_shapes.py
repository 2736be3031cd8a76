"""Return distributions for calibration runs: the shapes RL returns take.

Shared by the calibration tests and benchmarks. Each shape draws returns in return units;
``true_mean`` is the population mean (from a large fixed sample, accurate to about 1e-4 of the
range, far below anything the calibration runs can resolve). ``SHAPES`` are the five shapes on
bounds (0, 500) the sequential calibration was built on; ``ALL_SHAPES`` adds shapes the audit
of issue 9 found hard (zero-inflated, Acrobot-like on (-500, 0), rare success), each with its
own bounds.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

FloatArray = npt.NDArray[np.float64]
BOUNDS = (0.0, 500.0)
LO, HI = BOUNDS


def _near_normal(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    return np.clip(rng.normal(300.0, 50.0, size), LO, HI)


def _capped(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """CartPole-like: 80% of episodes reach the time limit, the rest fall early."""
    return np.where(rng.random(size) < 0.8, HI, HI * rng.beta(2.0, 3.0, size))


def _bimodal(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Solves the task 60% of the time, otherwise fails with a low return."""
    solved = rng.random(size) < 0.6
    return np.clip(
        np.where(solved, rng.normal(400.0, 25.0, size), rng.normal(100.0, 25.0, size)), LO, HI
    )


def _right_skewed(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Mostly small returns with a long right tail (sparse rewards)."""
    return np.clip(HI * rng.lognormal(np.log(0.08), 0.8, size), LO, HI)


def _discrete(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Few distinct values: nothing, a subgoal, or the goal."""
    return rng.choice(np.array([0.0, 250.0, 500.0]), size=size, p=[0.2, 0.3, 0.5])


def _zero_inflated(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Scores nothing 40% of the time (falls off, times out), otherwise about 350."""
    return np.where(rng.random(size) < 0.4, LO, np.clip(rng.normal(350.0, 60.0, size), LO, HI))


def _acrobot_like(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Acrobot-v1-like, on (-500, 0): most episodes end after 80-100 steps, some take much
    longer, and 2% hit the 500-step limit."""
    usual = -(75.0 + rng.gamma(2.0, 8.0, size))
    slow = -np.minimum(100.0 + rng.exponential(150.0, size), 500.0)
    draw = rng.random(size)
    return np.where(draw < 0.02, -500.0, np.where(draw < 0.10, slow, usual))


def _rare_success(rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Succeeds (500) in 5% of episodes; otherwise a return near 5."""
    return np.where(rng.random(size) < 0.05, HI, np.clip(rng.normal(5.0, 2.0, size), LO, HI))


Draw = Callable[[np.random.Generator, tuple[int, ...]], FloatArray]

SHAPES: dict[str, Draw] = {
    "near-normal": _near_normal,
    "capped": _capped,
    "bimodal": _bimodal,
    "right-skewed": _right_skewed,
    "discrete": _discrete,
}


@dataclasses.dataclass(frozen=True)
class Shape:
    draw: Draw
    bounds: tuple[float, float]


ALL_SHAPES: dict[str, Shape] = {
    **{name: Shape(draw, BOUNDS) for name, draw in SHAPES.items()},
    "zero-inflated": Shape(_zero_inflated, BOUNDS),
    "acrobot-like": Shape(_acrobot_like, (-500.0, 0.0)),
    "rare-success": Shape(_rare_success, BOUNDS),
}


@functools.cache
def moments(name: str) -> tuple[float, float]:
    """Population mean and standard deviation of a shape."""
    sample = ALL_SHAPES[name].draw(np.random.default_rng(20240607), (4_000_000,))
    return float(sample.mean()), float(sample.std())


def true_mean(name: str) -> float:
    return moments(name)[0]


def scaled(values: FloatArray, bounds: tuple[float, float] = BOUNDS) -> FloatArray:
    """Returns mapped to [0, 1] by the bounds."""
    lo, hi = bounds
    return (values - lo) / (hi - lo)


def fixed_t_episodes(sd: float, drop: float, alpha: float, beta: float) -> int:
    """Episodes a one-sided t-test at level alpha needs for power 1 - beta at ``drop``."""
    n = 2
    while True:
        critical = scipy_stats.t.ppf(1 - alpha, n - 1)
        if scipy_stats.nct.sf(critical, n - 1, drop * math.sqrt(n) / sd) >= 1 - beta:
            return n
        n += 1
