"""Plans of sequential tests, built as the checks build them (pure: no pytest, no envs)."""

from __future__ import annotations

from pytest_gymrec.checks import sequential
from pytest_gymrec.verdict import Mode


def make_plan(
    at_least: float = 475.0,
    tolerance: float = 0.1,
    bounds: tuple[float, float] | None = (0.0, 500.0),
    mode: Mode = Mode.NO_REGRESSION,
    alpha: float = 0.01,
    beta: float = 0.1,
) -> sequential.Plan:
    """The plan of a sequential test of ``mean >= at_least``; by default a CartPole-v1 line with
    its bounds (0, 500), which come from "the test" and are checked for "caller()"."""
    return sequential.plan(
        at_least=at_least,
        tolerance=tolerance,
        bounds=bounds,
        bounds_source="the test",
        alpha=alpha,
        beta=beta,
        mode=mode,
        caller="caller()",
    )
