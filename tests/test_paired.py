"""Unit tests of the paired comparison (pytest_gymrec.checks.paired) and the baseline-file
workflow (pytest_gymrec.baseline.check_against_file), without pytester.

The Monte-Carlo checks run the plugin's own vectorised decision on many simulated runs at once.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from pytest_gymrec import baseline
from pytest_gymrec.baseline import Baseline, BaselineEpisode
from pytest_gymrec.checks import core, paired
from pytest_gymrec.checks.pipeline import CheckContext, Decision
from pytest_gymrec.errors import (
    GymrecBaselineError,
    GymrecBlindCheck,
    GymrecFailure,
    GymrecInconclusive,
    GymrecUsageError,
)
from pytest_gymrec.record import Episode
from pytest_gymrec.record import TestRecord as Record
from pytest_gymrec.results import EvalResult
from pytest_gymrec.verdict import Outcome, Verdict

FloatArray = npt.NDArray[np.float64]

SPEC = {
    "id": "CartPole-v1",
    "version": 1,
    "max_episode_steps": 500,
    "kwargs": {},
    "additional_wrappers": [],
}
CARTPOLE = (0.0, 500.0)


def episode(seed: int | None, return_: float, *, error: str | None = None) -> Episode:
    return Episode(
        seed=seed,
        return_=return_,
        length=int(abs(return_)) if math.isfinite(return_) else 0,
        wall_time=0.0,
        terminated=True,
        truncated=False,
        error=error,
        env_label="CartPole-v1",
    )


def evaluation(
    returns: dict[int, float],
    *,
    bounds: tuple[float, float] | None = CARTPOLE,
    alpha: float = 0.01,
    spec: dict[str, object] | None = None,
) -> EvalResult:
    return EvalResult(
        [episode(seed, value) for seed, value in returns.items()],
        env_label="CartPole-v1",
        context=CheckContext(
            alpha=alpha, bounds=bounds, bounds_source="the marker", rng_key="t.py::test"
        ),
        env_spec=dict(SPEC) if spec is None else spec,
    )


def stored(returns: dict[int, float], **overrides: Any) -> Baseline:
    fields: dict[str, Any] = {
        "env": "CartPole-v1",
        "env_spec": dict(SPEC),
        "episodes": tuple(
            BaselineEpisode(seed, value, int(abs(value))) for seed, value in returns.items()
        ),
        "bounds": CARTPOLE,
        "versions": baseline.installed_versions(),
    }
    fields.update(overrides)
    return Baseline(**fields)


def run_of(returns: dict[int, float]) -> dict[int, tuple[float, int]]:
    """A run as the pairing takes it: {seed: (return, length)}."""
    return {seed: (value, int(abs(value))) for seed, value in returns.items()}


def pairing_of(base: dict[int, float], new: dict[int, float]) -> paired.Pairing:
    return paired.pair(run_of(base), run_of(new))


def origin() -> paired.Origin:
    return paired.Origin(
        label="CartPole-v1",
        baseline="baseline tests/gymrec_baselines/test_x/test_y.json",
        reproduce="pytest tests/test_x.py::test_y",
        update_command="pytest tests/test_x.py::test_y --gymrec-update-baselines",
        record_hint="record them with --gymrec-update-baselines",
    )


def compare(
    base: dict[int, float],
    new: dict[int, float],
    *,
    bounds: tuple[float, float] | None = CARTPOLE,
    tolerance: float = 0.05,
    alpha: float = 0.01,
) -> Decision:
    return paired.decide_paired(
        pairing_of(base, new),
        tolerance=tolerance,
        alpha=alpha,
        bounds=bounds,
        rng_key="t.py::test",
        origin=origin(),
    )


def regressed_seeds(decision: Decision) -> list[int | None]:
    """Seeds of the "most regressed seeds" listing, worst first."""
    return [seed for seed, _ in decision.verdict.listing]


# -- the margin as a ratio ---------------------------------------------------------------------


def test_margin_ratio_follows_the_sign_of_the_baseline() -> None:
    assert paired.margin_ratio(475.0, 0.05) == pytest.approx(0.95)
    assert paired.margin_ratio(-200.0, 0.05) == pytest.approx(1.05)
    assert paired.margin_ratio(0.0, 0.05) == pytest.approx(0.95)


def test_difference_bounds_hold_every_pair() -> None:
    rng = np.random.default_rng(1)
    for bounds, ratio in (((0.0, 500.0), 0.95), ((-1600.0, 0.0), 1.05), ((-1.0, 1.0), 0.9)):
        low, high = paired.difference_bounds(bounds, ratio)
        new, base = rng.uniform(*bounds, size=(2, 10_000))
        corners = np.array(bounds)
        shifted = np.concatenate(
            [new - ratio * base, (corners[:, None] - ratio * corners[None, :]).ravel()]
        )
        assert low <= shifted.min()
        assert shifted.max() <= high
        assert math.isclose(low, min(shifted))
        assert math.isclose(high, max(shifted))


# -- the vectorised decision -------------------------------------------------------------------


def test_identical_runs_never_show_a_drop() -> None:
    base = np.array([[500.0, 10.0, 480.0, 3.0] * 5, [-7.0, -300.0, -1.0, -2.0] * 5])
    for bounds in (None, (-500.0, 500.0)):
        shows = paired.regression_evidence(base, base, tolerance=0.0, alpha=0.5, bounds=bounds)
        assert shows.tolist() == [False, False]


def test_evidence_keeps_the_leading_shape() -> None:
    rng = np.random.default_rng(2)
    base = rng.uniform(0, 500, size=(3, 4, 100))
    shows = paired.regression_evidence(
        0.5 * base, base, tolerance=0.05, alpha=0.05, bounds=CARTPOLE
    )
    assert shows.shape == (3, 4)
    assert shows.all()
    single = paired.regression_evidence(
        0.5 * base[0, 0], base[0, 0], tolerance=0.05, alpha=0.05, bounds=CARTPOLE
    )
    assert single.shape == ()
    assert bool(single)


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="do not pair"):
        paired.regression_evidence(
            np.zeros(3), np.zeros(4), tolerance=0.05, alpha=0.05, bounds=None
        )


def test_one_pair_without_bounds_shows_nothing() -> None:
    shows = paired.regression_evidence([0.0], [500.0], tolerance=0.05, alpha=0.05, bounds=None)
    assert not bool(shows)


def test_a_uniform_drop_beyond_the_margin_fails_the_t_test() -> None:
    base = np.linspace(100.0, 400.0, 20)
    shows = paired.regression_evidence(
        base - 0.2 * base.mean(), base, tolerance=0.05, alpha=0.01, bounds=None
    )
    assert bool(shows)


# -- Monte Carlo: flakes at the margin and power (alpha = 0.05, 4000 runs each) -----------------

RUNS = 4000
ALPHA = 0.05
FLAKE_LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / RUNS)


def cartpole_like(rng: np.random.Generator, size: tuple[int, int]) -> FloatArray:
    return np.where(rng.random(size) < 0.8, 500.0, rng.uniform(100, 500, size))


def bimodal(rng: np.random.Generator, size: tuple[int, int]) -> FloatArray:
    high = rng.random(size) < 0.6
    return np.clip(np.where(high, rng.normal(420, 30, size), rng.normal(80, 30, size)), 0, 500)


def correlated(rng: np.random.Generator, base: FloatArray, scale: float) -> FloatArray:
    """Mean exactly ``scale`` x baseline, per-seed noise that never leaves [0, 500]."""
    centre = scale * base
    room = np.minimum(centre, 500.0 - centre)
    return centre + 0.5 * rng.uniform(-1, 1, base.shape) * room


def flake_rate(new: FloatArray, base: FloatArray, bounds: tuple[float, float] | None) -> float:
    shows = paired.regression_evidence(new, base, tolerance=0.05, alpha=ALPHA, bounds=bounds)
    return float(shows.mean())


def test_betting_flakes_at_most_alpha_at_the_margin() -> None:
    """New mean exactly 5% below the baseline mean: failures are false failures."""
    rng = np.random.default_rng(11)
    n = 200
    # Independent returns give the betting test its least favourable (most variable) pairs.
    base = bimodal(rng, (RUNS, n))
    at_margin = 0.95 * bimodal(rng, (RUNS, n))
    assert flake_rate(at_margin, base, CARTPOLE) <= FLAKE_LIMIT
    base = cartpole_like(rng, (RUNS, n))
    assert flake_rate(0.95 * cartpole_like(rng, (RUNS, n)), base, CARTPOLE) <= FLAKE_LIMIT
    assert flake_rate(correlated(rng, base, 0.95), base, CARTPOLE) <= FLAKE_LIMIT


def test_paired_t_flakes_at_most_alpha_at_the_margin() -> None:
    rng = np.random.default_rng(12)
    for n in (20, 50):
        base = np.clip(rng.normal(300, 60, (RUNS, n)), 0, 500)
        rate = flake_rate(correlated(rng, base, 0.95), base, None)
        assert rate <= FLAKE_LIMIT
        # Not vacuous: at the margin an exact t test fails about alpha of the time.
        assert rate >= ALPHA - 3 * math.sqrt(ALPHA * (1 - ALPHA) / RUNS)


def test_negative_returns_use_the_margin_below_the_baseline() -> None:
    """Pendulum-like returns in [-1600, 0]: 5% worse means 5% more negative."""
    rng = np.random.default_rng(13)
    n = 50
    base = -rng.uniform(100, 1500, (RUNS, n))
    centre = 1.05 * base
    at_margin = centre + 0.5 * rng.uniform(-1, 1, base.shape) * np.minimum(-centre, 1600 + centre)
    assert flake_rate(at_margin, base, (-1600.0, 0.0)) <= FLAKE_LIMIT
    assert flake_rate(at_margin, base, None) <= FLAKE_LIMIT
    much_worse = np.clip(1.4 * base, -1600.0, 0.0)
    assert flake_rate(much_worse, base, None) >= 0.9
    base = -rng.uniform(100, 1500, (RUNS, 200))
    much_worse = np.clip(1.4 * base, -1600.0, 0.0)
    assert flake_rate(much_worse, base, (-1600.0, 0.0)) >= 0.9


def test_a_clear_drop_is_caught() -> None:
    """New mean 20% below the baseline (15 points beyond a 5% margin)."""
    rng = np.random.default_rng(14)
    base = np.clip(rng.normal(300, 60, (RUNS, 20)), 0, 500)
    assert flake_rate(correlated(rng, base, 0.8), base, None) >= 0.85  # paired t, 20 seeds
    base = cartpole_like(rng, (RUNS, 200))
    assert flake_rate(correlated(rng, base, 0.8), base, CARTPOLE) >= 0.95  # betting, 200 seeds


def test_within_the_margin_rarely_fails() -> None:
    rng = np.random.default_rng(15)
    base = cartpole_like(rng, (RUNS, 50))
    unchanged = correlated(rng, base, 1.0)
    assert flake_rate(unchanged, base, CARTPOLE) <= 0.01
    assert flake_rate(unchanged, base, None) <= 0.01


# -- pairing -----------------------------------------------------------------------------------


def test_pairing_uses_shared_seeds_in_seed_order() -> None:
    pairing = pairing_of({3: 30.0, 1: 10.0, 2: 20.0, 9: 90.0}, {2: 21.0, 1: 11.0, 3: 31.0, 4: 4})
    assert pairing.seeds == (1, 2, 3)
    assert pairing.baseline.tolist() == [10.0, 20.0, 30.0]
    assert pairing.new.tolist() == [11.0, 21.0, 31.0]
    assert pairing.baseline_lengths == (10, 20, 30)
    assert pairing.new_lengths == (11, 21, 31)
    assert pairing.only_baseline == (9,)
    assert pairing.only_new == (4,)


@pytest.mark.parametrize(
    ("episodes", "problem"),
    [
        ([], "no episodes"),
        ([episode(None, 5.0)], "without a seed"),
        ([episode(1, 5.0), episode(1, 6.0)], "seed 1 appears twice"),
        ([episode(1, 5.0, error="ValueError: boom")], "did not finish"),
        ([episode(1, math.nan)], "finite returns"),
    ],
)
def test_runs_that_cannot_pair_are_refused(episodes: list[Episode], problem: str) -> None:
    with pytest.raises(GymrecUsageError, match=problem):
        paired.by_seed(episodes, "CartPole-v1", "gymrec.assert_no_regression()")


def test_returns_outside_the_bounds_are_refused() -> None:
    caller = "gymrec.assert_no_regression(): baseline x"
    with pytest.raises(GymrecUsageError, match=r"baseline x: seed 2 has return 600") as raised:
        core.checked_values(
            [1.0, 600.0, 700.0], [1, 2, 3], CARTPOLE, "the marker", "return", caller
        )
    assert "2 of 3" in str(raised.value)
    assert "the marker" in str(raised.value)
    core.checked_values([600.0], [1], None, "nowhere", "return", caller)


# -- one comparison and its message ------------------------------------------------------------

GOOD = {seed: 500.0 if seed % 5 else 420.0 + seed for seed in range(30)}


def test_all_differences_zero_is_a_pass() -> None:
    for bounds in (CARTPOLE, None):
        decision = compare(GOOD, dict(GOOD), bounds=bounds)
        verdict = decision.verdict
        assert verdict.outcome is Outcome.PASS
        assert verdict.mean == 0
        assert "every shared seed has exactly its baseline return" in verdict.message
        assert verdict.listing == ()
        assert decision.flagged == ()
        assert verdict.cautions == ()


def test_a_clear_drop_fails_with_the_most_regressed_seeds() -> None:
    new = {seed: value * 0.5 for seed, value in GOOD.items()}
    new[7] = 3.0
    new[12] = 10.0
    decision = compare(GOOD, new)
    verdict = decision.verdict
    assert verdict.outcome is Outcome.FAIL
    assert regressed_seeds(decision)[:2] == [7, 12]
    assert len(verdict.listing) == paired.MOST_REGRESSED_SHOWN
    # The same seeds are flagged (by index into the shared seeds) for failure videos.
    shared = pairing_of(GOOD, new).seeds
    assert [shared[index] for index, _ in decision.flagged] == regressed_seeds(decision)
    message = verdict.message
    assert "FAILED" in message
    assert "seed 7: 500 -> 3 (500 -> 3 steps)" in message
    assert "margin 0.05 x |baseline mean|" in message
    assert "detectable: a drop of" in message
    assert "--gymrec-update-baselines" in message
    assert "reproduce: pytest tests/test_x.py::test_y" in message
    assert verdict.high < -0.05 * float(np.mean(list(GOOD.values())))
    assert verdict.n == 30
    assert verdict.mean == pytest.approx(np.mean(list(new.values())) - np.mean(list(GOOD.values())))
    assert verdict.low <= verdict.mean <= verdict.high


def test_a_drop_within_the_margin_passes_and_says_what_it_could_detect() -> None:
    new = {seed: value - 5.0 for seed, value in GOOD.items()}  # about 1% lower
    decision = compare(GOOD, new)
    verdict = decision.verdict
    assert verdict.outcome is Outcome.PASS
    assert "is not below" in verdict.message
    assert verdict.detectable_drop is not None
    assert verdict.detectable_drop > 0
    assert "if the drop is intended" not in verdict.message
    assert decision.flagged == ()  # only a failing comparison flags seeds


def test_the_detectable_drop_is_caught_when_it_happens() -> None:
    """The stated drop beyond the margin, applied to every seed, really fails (t, no noise)."""
    base = {seed: 200.0 + 10.0 * (seed % 7) for seed in range(40)}
    noisy = {seed: value + (3.0 if seed % 2 else -3.0) for seed, value in base.items()}
    verdict = compare(base, noisy, bounds=None).verdict
    assert verdict.detectable_drop is not None
    margin = 0.05 * float(np.mean(list(base.values())))
    beyond = margin + 1.2 * verdict.detectable_drop
    dropped = {seed: value - beyond for seed, value in noisy.items()}
    assert compare(base, dropped, bounds=None).verdict.outcome is Outcome.FAIL


def test_seeds_on_one_side_are_reported_and_left_out() -> None:
    base = {seed: 500.0 for seed in range(20)}
    new = {seed: 500.0 for seed in range(10, 40)}
    verdict = compare(base, new).verdict
    message = verdict.message
    assert verdict.n == 10
    assert "20 seeds of this run (20-39) have no baseline" in message
    assert "(record them with --gymrec-update-baselines)" in message
    assert "10 baseline seeds (0-9) were not run" in message


def test_one_seed_without_bounds_is_inconclusive() -> None:
    verdict = compare({0: 500.0}, {0: 10.0}, bounds=None).verdict
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "a paired t needs at least 2" in verdict.message


def test_too_few_seeds_for_betting_cannot_fail() -> None:
    base = {seed: 500.0 for seed in range(5)}
    new = {seed: 0.0 for seed in range(5)}
    verdict = compare(base, new).verdict
    # Not even a total collapse on five seeds is evidence: the comparison cannot fail.
    assert verdict.outcome is Outcome.BLIND
    assert "CANNOT FAIL" in verdict.message.splitlines()[0]
    assert "blind:" in verdict.message
    assert verdict.blind
    needed = paired.seeds_to_fail(CARTPOLE, 0.05, 0.01)
    assert needed > 5
    assert f"at least {needed} episodes would make it able to fail" in verdict.message
    assert verdict.episodes_needed == needed
    base = {seed: 500.0 for seed in range(needed)}
    new = {seed: 0.0 for seed in range(needed)}
    enough = compare(base, new).verdict
    assert enough.outcome is Outcome.FAIL
    assert not enough.blind
    fewer = compare(dict(list(base.items())[1:]), dict(list(new.items())[1:])).verdict
    assert fewer.outcome is Outcome.BLIND


def test_a_comparison_that_can_fail_is_not_blind() -> None:
    """Changes spread over the whole range: no drop within the bounds is caught with 80%
    probability, yet every seed falling from the best return to the worst would fail."""
    needed = paired.seeds_to_fail(CARTPOLE, 0.05, 0.01)
    rng = np.random.default_rng(16)
    base = {seed: float(value) for seed, value in enumerate(rng.uniform(0, 500, needed))}
    new = {seed: float(value) for seed, value in enumerate(rng.uniform(0, 500, needed))}
    verdict = compare(base, new).verdict
    assert verdict.outcome is Outcome.PASS
    assert not verdict.blind
    assert "blind:" not in verdict.message
    assert verdict.detectable_drop is None
    assert "detectable: unknown: no drop within the bounds" in verdict.message


def test_paired_t_cautions_about_ties() -> None:
    base = {seed: 500.0 for seed in range(30)}
    new = dict(base)
    new[3] = 200.0
    verdict = compare(base, new, bounds=None).verdict
    assert any("tie" in caution for caution in verdict.cautions)


def test_float_ties_are_ties() -> None:
    """New returns equal to the baseline's up to the last binary place (rewards summed in
    another order), and one seed that really dropped: the equal seeds tie at a change of zero.
    They are not a strongly skewed spread of tiny changes, not lower or higher, not regressed."""
    rng = np.random.default_rng(17)
    old = rng.uniform(100, 200, 30)
    new = np.where(np.arange(30) % 2 == 0, np.nextafter(old, np.inf), np.nextafter(old, -np.inf))
    new[3] = 0.0
    assert np.unique(new - old).size > 3  # as floats, the tiny changes differ
    base_run = {seed: float(value) for seed, value in enumerate(old)}
    new_run = {seed: float(value) for seed, value in enumerate(new)}
    decision = compare(base_run, new_run, bounds=None)
    verdict = decision.verdict
    assert not any("skewed" in caution for caution in verdict.cautions)
    assert any("29 of 30 episodes tie at one return difference" in c for c in verdict.cautions)
    assert "per seed: 1 lower, 0 higher, 29 unchanged" in verdict.message
    assert regressed_seeds(decision) == [3]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        compare(base_run, new_run, bounds=None)
    # Float ties everywhere: an unchanged agent, whatever the rounding.
    new_run[3] = base_run[3]
    unchanged = compare(base_run, new_run, bounds=None).verdict
    assert unchanged.outcome is Outcome.PASS
    assert "every shared seed has exactly its baseline return" in unchanged.message
    assert unchanged.cautions == ()


def test_nearly_constant_changes_raise_no_runtime_warning() -> None:
    """Every seed dropped by the same amount, up to float rounding: scipy's skewness would warn
    of catastrophic cancellation; the comparison must not let that RuntimeWarning out."""
    old = np.random.default_rng(18).uniform(100, 200, 30)
    new = np.nextafter(old - 5.0, np.where(np.arange(30) % 2, 0.0, 1e9))
    base_run = {seed: float(value) for seed, value in enumerate(old)}
    new_run = {seed: float(value) for seed, value in enumerate(new)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = compare(base_run, new_run, bounds=None).verdict
    assert not any("skewed" in caution for caution in verdict.cautions)
    assert any("30 of 30 episodes tie" in caution for caution in verdict.cautions)


def test_zero_tolerance_fails_on_any_evidenced_drop() -> None:
    base = {seed: 300.0 + seed for seed in range(30)}
    new = {seed: value - 2.0 - 0.01 * (seed % 3) for seed, value in base.items()}
    assert compare(base, new, tolerance=0.0, bounds=None).verdict.outcome is Outcome.FAIL
    assert compare(base, new, tolerance=0.05, bounds=None).verdict.outcome is Outcome.PASS


# -- env changes -------------------------------------------------------------------------------


def test_env_changes_list_what_differs() -> None:
    changed = {**SPEC, "max_episode_steps": 200, "kwargs": {"sutton_barto_reward": True}}
    changes = baseline.env_changes(stored(GOOD), "CartPole-v1", changed)
    assert changes == [
        "kwargs.sutton_barto_reward: (absent) -> True",
        "max_episode_steps: 500 -> 200",
    ]
    assert baseline.env_changes(stored(GOOD), "CartPole-v1", dict(SPEC)) == []


def test_without_specs_the_env_label_decides() -> None:
    assert baseline.env_changes(stored(GOOD, env_spec=None), "CartPole-v1", None) == []
    assert baseline.env_changes(stored(GOOD, env_spec=None), "make_env", None) == [
        "env: 'CartPole-v1' -> 'make_env'"
    ]


# -- the whole check (what the fixture delegates to) -------------------------------------------


def run_check(
    tmp_path: Path,
    result: EvalResult,
    record: Record,
    *,
    update: bool = False,
    blind_fails: bool = True,
    **kwargs: object,
) -> Verdict | None:
    """``check_against_file`` as the fixture calls it: the result's context records verdicts
    and flags episodes into ``record``, and names the command that reruns the test."""
    options: dict[str, object] = {"tolerance": 0.05, "alpha": None, "bounds": None}
    options.update(kwargs)
    context = dataclasses.replace(
        result.context,
        reproduce="pytest test_x.py::test_y",
        record=record.add_verdict,
        flag=record.flag,
        blind_fails=blind_fails,
    )
    return baseline.check_against_file(
        EvalResult(
            result.episodes, env_label=result.env_label, context=context, env_spec=result.env_spec
        ),
        path=tmp_path / "gymrec_baselines" / "test_x" / "test_y.json",
        record=record,
        update=update,
        created_this_session=set(),
        **options,
    )


def test_the_whole_cycle(tmp_path: Path) -> None:
    path = tmp_path / "gymrec_baselines" / "test_x" / "test_y.json"
    record = Record("test_x.py::test_y")
    with pytest.raises(GymrecFailure, match="review and commit it") as raised:
        run_check(tmp_path, evaluation(GOOD), record)
    assert str(path) in str(raised.value)
    assert record.baseline_files == [{"path": str(path), "action": "created"}]
    assert baseline.load(path) is not None

    record = Record("test_x.py::test_y")
    verdict = run_check(tmp_path, evaluation(GOOD), record)
    assert verdict is not None
    assert verdict.passed
    assert record.verdicts == [verdict]
    assert record.flagged == []

    worse = {seed: value / 4 for seed, value in GOOD.items()}
    result = evaluation(worse)
    record = Record("test_x.py::test_y")
    with pytest.raises(GymrecFailure, match=r"mean change vs baseline >= -\S+ FAILED") as failed:
        run_check(tmp_path, result, record)
    assert f"baseline: {path}" in str(failed.value)
    assert "pytest test_x.py::test_y --gymrec-update-baselines" in str(failed.value)
    assert record.verdicts[0].outcome is Outcome.FAIL
    flagged_seeds = [flagged.seed for flagged, _ in record.flagged]
    assert len(flagged_seeds) == paired.MOST_REGRESSED_SHOWN
    assert all(flagged in result.episodes for flagged, _ in record.flagged)
    assert all("-> " in reason for _, reason in record.flagged)

    record = Record("test_x.py::test_y")
    assert run_check(tmp_path, result, record, update=True) is None
    assert record.baseline_files == [{"path": str(path), "action": "rewritten"}]
    assert record.verdicts == []

    record = Record("test_x.py::test_y")
    verdict = run_check(tmp_path, evaluation(worse), record)
    assert verdict is not None
    assert verdict.passed


def test_an_update_of_unchanged_data_leaves_the_file_alone(tmp_path: Path) -> None:
    record = Record("test_x.py::test_y")
    run_check(tmp_path, evaluation(GOOD), record, update=True)
    run_check(tmp_path, evaluation(GOOD), record, update=True)
    assert [entry["action"] for entry in record.baseline_files] == ["created", "unchanged"]


def test_a_corrupted_baseline_is_an_error_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "gymrec_baselines" / "test_x" / "test_y.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": 1, "env": "CartPole-v1", "episodes": [', encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(GymrecBaselineError, match="not valid JSON"):
        run_check(tmp_path, evaluation(GOOD), Record("t"))
    assert path.read_bytes() == before
    record = Record("t")
    run_check(tmp_path, evaluation(GOOD), record, update=True)  # the flag fixes it
    assert record.baseline_files[0]["action"] == "rewritten"
    assert baseline.load(path) is not None


def test_a_changed_env_invalidates_the_pairing(tmp_path: Path) -> None:
    run_check(tmp_path, evaluation(GOOD), Record("t"), update=True)
    changed = evaluation(GOOD, spec={**SPEC, "max_episode_steps": 200})
    with pytest.raises(GymrecFailure, match="pairing is invalid") as raised:
        run_check(tmp_path, changed, Record("t"))
    message = str(raised.value)
    assert "max_episode_steps: 500 -> 200" in message
    assert "pytest test_x.py::test_y --gymrec-update-baselines" in message


def test_no_shared_seeds_fails_with_what_to_run(tmp_path: Path) -> None:
    run_check(tmp_path, evaluation(GOOD), Record("t"), update=True)
    later = evaluation({seed + 100: 500.0 for seed in range(20)})
    with pytest.raises(GymrecFailure, match="no seed in common") as raised:
        run_check(tmp_path, later, Record("t"))
    assert "--gymrec-seeds=0-29" in str(raised.value)


def test_bounds_fall_back_to_the_baselines(tmp_path: Path) -> None:
    run_check(tmp_path, evaluation(GOOD), Record("t"), update=True)
    record = Record("t")
    verdict = run_check(tmp_path, evaluation(GOOD, bounds=None), record)
    assert verdict is not None
    assert "paired betting" in verdict.method
    verdict = run_check(tmp_path, evaluation(GOOD, bounds=None), record, bounds=(0, 1000))
    assert verdict is not None
    assert "(0, 1000)" in verdict.method


def test_arguments_are_checked(tmp_path: Path) -> None:
    for tolerance in (-0.1, 1.0, math.nan, "5%", True):
        with pytest.raises(GymrecUsageError, match="tolerance="):
            run_check(tmp_path, evaluation(GOOD), Record("t"), tolerance=tolerance)
    with pytest.raises(GymrecUsageError, match="alpha"):
        run_check(tmp_path, evaluation(GOOD), Record("t"), alpha=2.0)
    # The fixture refuses what is not an EvalResult before it gets here; so does the
    # in-memory comparison.
    not_a_result: Any = [1, 2, 3]
    with pytest.raises(GymrecUsageError, match="must be an EvalResult"):
        evaluation(GOOD).assert_no_regression(not_a_result)
    with pytest.raises(GymrecUsageError, match="outside bounds"):
        run_check(tmp_path, evaluation({0: 600.0}), Record("t"))


def test_numpy_tolerance_is_accepted(tmp_path: Path) -> None:
    run_check(tmp_path, evaluation(GOOD), Record("t"), update=True)
    record = Record("t")
    verdict = run_check(tmp_path, evaluation(GOOD), record, tolerance=np.float32(0.05))
    assert verdict is not None
    assert verdict.passed
    assert verdict.tolerance == pytest.approx(0.05)


def test_a_gymnasium_version_change_is_mentioned(tmp_path: Path) -> None:
    path = tmp_path / "gymrec_baselines" / "test_x" / "test_y.json"
    old = stored(GOOD, versions={"gymnasium": "0.29.1", "pytest-gymrec": "0.0.1"})
    baseline.save(path, old)
    worse = evaluation({seed: value / 4 for seed, value in GOOD.items()})
    with pytest.raises(GymrecFailure, match=r"recorded with gymnasium 0\.29\.1"):
        run_check(tmp_path, worse, Record("t"))


def test_blind_comparisons_fail_or_warn(tmp_path: Path) -> None:
    few = {seed: 500.0 for seed in range(4)}
    run_check(tmp_path, evaluation(few), Record("t"), update=True)
    collapsed = evaluation({seed: 0.0 for seed in range(4)})
    record = Record("t")
    with pytest.raises(GymrecBlindCheck, match="CANNOT FAIL"):
        run_check(tmp_path, collapsed, record)
    assert record.verdicts[0].outcome is Outcome.BLIND
    with pytest.warns(GymrecInconclusive, match="CANNOT FAIL"):
        verdict = run_check(tmp_path, collapsed, Record("t"), blind_fails=False)
    assert verdict is not None
    assert verdict.blind
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_check(tmp_path, evaluation(GOOD), Record("t"), update=True)
        run_check(tmp_path, evaluation(GOOD), Record("t"))
