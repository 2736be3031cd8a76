"""Unit tests of the sequential test and the extra checks (pure: no pytest plugin, no envs)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from helpers.plans import make_plan
from pytest_gymrec.checks import betting, core, mean, quantile, rate, sequential
from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.record import Episode
from pytest_gymrec.verdict import Mode, Outcome, Subject, Verdict

SUBJECT = Subject("Env-v0", (), "pytest t.py::test")


def run(values: list[float], plan: sequential.Plan, max_episodes: int = 500) -> Verdict:
    test = sequential.SequentialTest(plan, "the test", "caller()")
    for seed, value in enumerate(values[:max_episodes]):
        if test.decided:
            break
        test.add(value, seed)
    subject = Subject("Env-v0", tuple(test.seeds), "pytest t.py::test")
    return test.decide(subject, max_episodes).verdict


# -- plan: the lines and bad input ------------------------------------------------------------


def test_plan_places_lines_for_no_regression_and_certify() -> None:
    plan = make_plan()
    assert plan.fail_line == 475.0
    assert plan.pass_line == pytest.approx(427.5)
    assert (plan.fail_alpha, plan.pass_alpha) == (0.01, 0.1)
    certify = make_plan(at_least=400, mode=Mode.CERTIFY)
    assert certify.pass_line == 400.0
    assert certify.fail_line == pytest.approx(440.0)
    assert (certify.pass_alpha, certify.fail_alpha) == (0.01, 0.1)


def test_plan_uses_absolute_value_for_negative_lines() -> None:
    plan = make_plan(at_least=-100, tolerance=0.2, bounds=(-500, 0))
    assert plan.pass_line == pytest.approx(-120.0)
    assert plan.fail_line == -100.0


@pytest.mark.parametrize("tolerance", [0, 1, -0.1, 1.5, math.nan, "0.1", None, True])
def test_tolerance_outside_open_unit_interval_is_a_usage_error(tolerance: object) -> None:
    with pytest.raises(GymrecUsageError, match="tolerance"):
        make_plan(tolerance=tolerance)  # type: ignore[arg-type]


def test_missing_bounds_is_a_usage_error_that_says_why() -> None:
    with pytest.raises(GymrecUsageError, match=r"bounds=\(lo, hi\) are required.*anytime-valid"):
        make_plan(bounds=None)


def test_line_outside_bounds_is_a_usage_error() -> None:
    with pytest.raises(GymrecUsageError, match="at_least=600 lies outside bounds"):
        make_plan(at_least=600)


def test_pass_line_below_lower_bound_is_a_usage_error() -> None:
    with pytest.raises(GymrecUsageError, match="below the lower bound"):
        make_plan(at_least=10, tolerance=0.5, bounds=(8, 20))


def test_certify_fail_line_above_upper_bound_is_a_usage_error() -> None:
    with pytest.raises(GymrecUsageError, match="above the upper bound"):
        make_plan(at_least=490, mode=Mode.CERTIFY)


def test_zero_line_is_a_usage_error() -> None:
    with pytest.raises(GymrecUsageError, match="at_least=0"):
        make_plan(at_least=0, bounds=(-1, 1))


def test_numpy_numbers_are_accepted() -> None:
    plan = sequential.plan(
        at_least=np.int64(100),
        tolerance=np.float32(0.05),
        bounds=(0.0, 500.0),
        bounds_source="the test",
        alpha=0.01,
        beta=0.1,
        mode=Mode.NO_REGRESSION,
        caller="caller()",
    )
    assert plan.fail_line == 100.0
    assert plan.pass_line == pytest.approx(95.0)
    assert isinstance(plan.tolerance, float)


def test_non_numeric_line_is_a_usage_error() -> None:
    with pytest.raises(GymrecUsageError, match="at_least='high'"):
        make_plan(at_least="high")  # type: ignore[arg-type]


# -- seed order -------------------------------------------------------------------------------


def order(given: list[int] | None, start: int = 0, max_episodes: int = 5) -> list[int]:
    return sequential.seed_order(
        given=given,
        start=start,
        max_episodes=max_episodes,
        max_episodes_source="the call",
        seeds_source="the marker",
        caller="caller()",
    )


def test_seed_order_is_consecutive_from_the_start() -> None:
    assert order(None, start=7) == [7, 8, 9, 10, 11]


def test_seed_order_keeps_given_seeds_first_then_continues_after_the_largest() -> None:
    assert order([9, 3], max_episodes=5) == [9, 3, 10, 11, 12]


def test_max_episodes_below_given_seed_count_is_a_usage_error() -> None:
    with pytest.raises(GymrecUsageError, match=r"max_episodes=2 .*smaller than the 3 seeds"):
        order([1, 2, 3], max_episodes=2)


# -- the test itself ----------------------------------------------------------------------------


def test_all_at_cap_passes_early_and_message_says_so() -> None:
    verdict = run([500.0] * 100, make_plan())
    assert verdict.outcome is Outcome.PASS
    assert verdict.n < 30
    assert f"stopped at episode {verdict.n} of at most 500" in verdict.message
    assert "pass when the evidence that it is above 427.5 reaches 1/0.1 = 10" in verdict.message
    assert verdict.low > 427.5  # PASS iff the lower bound clears the pass line


def test_all_at_zero_fails_early() -> None:
    verdict = run([0.0] * 100, make_plan())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.n <= 5
    assert verdict.high < 475  # FAIL iff the upper bound is below the line
    assert "FAILED" in verdict.message.splitlines()[0]


def test_mean_between_the_lines_is_inconclusive_with_a_way_out() -> None:
    values = [400.0, 500.0] * 15  # mean 450: between the pass line 427.5 and the line 475
    verdict = run(values, make_plan(), max_episodes=30)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "all 30 episodes allowed ran" in verdict.message
    assert "between the two lines" in verdict.message
    assert "--gymrec-inconclusive fail" in verdict.message


def test_episode_outside_bounds_names_seed_and_source() -> None:
    test = sequential.SequentialTest(make_plan(), "@pytest.mark.gymrec", "caller()")
    with pytest.raises(GymrecUsageError, match=r"seed 3 has return 501.*@pytest.mark.gymrec"):
        test.add(501.0, 3)


def test_verdict_without_episodes_is_a_usage_error() -> None:
    test = sequential.SequentialTest(make_plan(), "the test", "caller()")
    with pytest.raises(GymrecUsageError, match="no episode ran"):
        test.decide(SUBJECT, 10)


def test_incremental_run_agrees_with_the_vectorised_simulation() -> None:
    # The fixture feeds episodes one by one; the calibration suite simulates matrices.
    rng = np.random.default_rng(1)
    plan = make_plan(at_least=300, tolerance=0.1)
    matrix = np.clip(rng.normal(300.0, 80.0, (40, 300)), 0, 500)
    codes, used = sequential.simulate(matrix / 500.0, plan)
    for row, code, episodes in zip(matrix, codes, used, strict=True):
        verdict = run(list(row), plan, max_episodes=300)
        expected = {-1: Outcome.FAIL, 0: Outcome.INCONCLUSIVE, 1: Outcome.PASS}[int(code)]
        assert verdict.outcome is expected
        assert verdict.n == episodes


def test_tuned_bets_use_only_the_past() -> None:
    x = np.random.default_rng(2).random(50)
    bets = sequential.tuned_bets(x, 0.1)
    changed = x.copy()
    changed[30:] = 1 - changed[30:]
    assert np.array_equal(sequential.tuned_bets(changed, 0.1)[:31], bets[:31])
    assert bets[0] == pytest.approx(0.1 / (0.25 + 0.01))


def test_interval_is_consistent_with_the_decisions() -> None:
    rng = np.random.default_rng(3)
    plan = make_plan(at_least=300, tolerance=0.1)
    for _ in range(20):
        x = np.clip(rng.normal(rng.uniform(250, 350), 60, 80), 0, 500) / 500
        codes, used = sequential.simulate(x[np.newaxis, :], plan)
        low, high = sequential.interval(x[: int(used[0])], plan)
        assert (high < plan.fail_line) == (int(codes[0]) == sequential.FAIL_CODE) or (
            low > plan.pass_line
        )
        if int(codes[0]) == sequential.PASS_CODE:
            assert low > plan.pass_line


def test_certify_passes_only_on_evidence_above_the_line() -> None:
    plan = make_plan(at_least=400, mode=Mode.CERTIFY)
    assert run([500.0] * 200, plan).outcome is Outcome.PASS
    assert run([380.0] * 200, plan).outcome is Outcome.FAIL
    assert "certify" in run([500.0] * 200, plan).message


def test_log_capital_matches_evidence_below() -> None:
    x = np.random.default_rng(4).random((3, 40))
    bets = betting.kelly_bets(x, 0.1)
    path = betting.log_capital(x, bets, 0.6, 0.5)
    manual = np.cumsum(np.log1p(-np.minimum(bets, 0.5 / 0.4) * (x - 0.6)), -1)
    assert np.allclose(path, manual)


def test_betting_bounds_in_seed_order() -> None:
    x = np.random.default_rng(5).random(30)
    # Seeds in the order given leave the order (and so the bound) as it was.
    assert betting.upper_bound(x, 0.05, seeds=np.arange(30)) == betting.upper_bound(x, 0.05)
    # The same (seed, value) pairs listed in another order: the same bound.
    shuffled = np.random.default_rng(6).permutation(30)
    assert betting.upper_bound(x[shuffled], 0.05, seeds=shuffled) == betting.upper_bound(x, 0.05)


# -- success rate -------------------------------------------------------------------------------


def episode(seed: int, value: float) -> Episode:
    return Episode(seed, value, 10, 0.0, True, False)


def test_success_rule_is_the_exact_binomial_test() -> None:
    for k in range(21):
        expected = scipy_stats.binomtest(k, 20, 0.8, alternative="less").pvalue <= 0.05
        assert bool(rate.rate_fails(k, 20, 0.8, 0.05)) == expected
        certified = scipy_stats.binomtest(k, 20, 0.8, alternative="greater").pvalue <= 0.05
        assert bool(rate.rate_certified(k, 20, 0.8, 0.05)) == certified


def test_clopper_pearson_matches_scipy_and_is_dual_to_the_test() -> None:
    for k in (0, 3, 17, 20):
        low, high = rate.clopper_pearson(k, 20, 0.05)
        interval = scipy_stats.binomtest(k, 20).proportion_ci(0.9, method="exact")
        assert low == pytest.approx(interval.low)
        assert high == pytest.approx(interval.high)
        for line in np.linspace(0.01, 0.99, 50):
            assert bool(rate.rate_fails(k, 20, line, 0.05)) == (high < line)


def test_success_rate_verdict_messages() -> None:
    subject = Subject("Env-v0", tuple(range(20)), "pytest t.py")
    decision = rate.decide_success_rate(
        [True] * 10 + [False] * 10,
        at_least=0.9,
        alpha=0.01,
        mode=Mode.NO_REGRESSION,
        subject=subject,
        tolerance=None,
        predicate_name="reached_goal",
    )
    verdict = decision.verdict
    assert verdict.outcome is Outcome.FAIL
    assert "success rate >= 0.9 (reached_goal) FAILED" in verdict.message
    assert "success rate (10 of 20) 0.5 over 20 episodes" in verdict.message
    assert "not successful (10): seeds 10-19" in verdict.message
    assert verdict.message.endswith("reproduce: pytest t.py")
    assert [index for index, _ in decision.flagged] == list(range(10, 20))


def test_success_rate_blind_and_cannot_see() -> None:
    subject = Subject("Env-v0", tuple(range(3)), None)
    verdict = rate.decide_success_rate(
        [True, True, True],
        at_least=0.5,
        alpha=0.01,
        mode=Mode.NO_REGRESSION,
        subject=subject,
        tolerance=0.2,
        predicate_name="p",
    ).verdict
    # (1 - 0.5)**3 = 0.125 > 0.01: three episodes cannot fail this check at all.
    assert verdict.outcome is Outcome.BLIND
    assert "CANNOT FAIL" in verdict.message.splitlines()[0]
    assert "blind: with n=3" in verdict.message
    assert "at least 7 episodes would make it able to fail" in verdict.message
    assert "cannot see: with n=3 a drop of 0.1 (the tolerance, to 0.4)" in verdict.message
    wanted_needed = rate.rate_episodes_needed(0.5, 0.1, 0.01)
    assert wanted_needed is not None
    assert verdict.episodes_needed == max(7, wanted_needed)
    assert bool(rate.rate_fails(0, 7, 0.5, 0.01))
    assert not rate.rate_fails(0, 6, 0.5, 0.01)


def test_rate_detectable_drop_has_the_stated_power() -> None:
    drop = rate.rate_detectable_drop(100, 0.9, 0.01)
    assert drop is not None
    critical = max(k for k in range(101) if rate.rate_fails(k, 100, 0.9, 0.01))
    assert scipy_stats.binom.cdf(critical, 100, 0.9 - drop) == pytest.approx(0.8, abs=1e-6)
    needed = rate.rate_episodes_needed(0.9, drop, 0.01)
    assert needed is not None
    assert needed <= 100


@pytest.mark.parametrize("line", [-0.1, 1.1, "x"])
def test_success_rate_line_must_be_a_rate(line: object) -> None:
    with pytest.raises(GymrecUsageError, match="at_least"):
        rate.decide_success_rate(
            [True],
            at_least=line,
            alpha=0.01,
            mode=Mode.NO_REGRESSION,
            subject=SUBJECT,
            tolerance=None,
            predicate_name="p",
        )


def test_success_predicate_that_raises_names_the_seed() -> None:
    def broken(ep: Episode) -> bool:
        if ep.seed == 4:
            raise KeyError("is_success")
        return True

    episodes = [episode(seed, 1.0) for seed in range(6)]
    with pytest.raises(GymrecUsageError, match=r"broken raised KeyError.*seed 4"):
        rate.successes_of(episodes, broken, "assert_success_rate()")


def test_success_predicate_must_return_a_bool() -> None:
    with pytest.raises(GymrecUsageError, match=r"returned 0.5.*seed 0"):
        rate.successes_of([episode(0, 1.0)], lambda ep: 0.5, "assert_success_rate()")
    with pytest.raises(GymrecUsageError, match="must be a callable"):
        rate.successes_of([episode(0, 1.0)], "yes", "assert_success_rate()")  # type: ignore[arg-type]


def test_success_predicate_may_return_numpy_bools() -> None:
    assert rate.successes_of(
        [episode(0, 1.0), episode(1, -1.0)], lambda ep: np.float64(ep.return_) > 0, "x"
    ) == [True, False]


# -- quantiles ----------------------------------------------------------------------------------


def test_quantile_rule_matches_scipy_binomtest() -> None:
    for below in range(31):
        pvalue = scipy_stats.binomtest(below, 30, 0.1, alternative="greater").pvalue
        assert bool(quantile.quantile_fails(below, 30, 0.1, 0.05)) == (pvalue <= 0.05)


def test_quantile_bounds_are_dual_to_the_rules() -> None:
    values = np.random.default_rng(6).normal(0, 1, 40)
    low, high = quantile.quantile_bounds(values, 0.2, 0.05)
    for line in np.linspace(-3, 3, 121):
        below = int(np.sum(values < line))
        assert bool(quantile.quantile_fails(below, 40, 0.2, 0.05)) == (line > high)
        assert bool(quantile.quantile_certified(below, 40, 0.2, 0.05)) == (line <= low)


def check_quantile(values: list[float], **kwargs: Any) -> tuple[Verdict, list[int]]:
    """The verdict, and the indices of the episodes it flags (on the wrong side of a line)."""
    subject = Subject("Env-v0", tuple(range(len(values))), None)
    arguments: dict[str, Any] = {
        "at_least": None,
        "at_most": None,
        "alpha": 0.01,
        "mode": Mode.NO_REGRESSION,
        "subject": subject,
        "quantity": "return",
    }
    arguments.update(kwargs)
    q = arguments.pop("q", 0.1)
    decision = quantile.decide_quantile(values, q, **arguments)
    return decision.verdict, sorted({index for index, _ in decision.flagged})


def test_quantile_check_fails_and_names_offending_episodes() -> None:
    values = [500.0] * 30 + [10.0] * 20
    verdict, offending = check_quantile(values, at_least=100)
    assert verdict.outcome is Outcome.FAIL
    assert offending == list(range(30, 50))
    assert "10th percentile of return >= 100 FAILED" in verdict.message


def test_quantile_at_most_reflects() -> None:
    values = [float(v) for v in range(100)]
    verdict, _ = check_quantile(values, q=0.9, at_most=50)
    assert verdict.outcome is Outcome.FAIL
    verdict, offending = check_quantile(values, q=0.9, at_most=99)
    assert verdict.outcome is Outcome.PASS
    assert offending == []


def test_quantile_blind_when_too_few_episodes() -> None:
    verdict, _ = check_quantile([0.0, 0.0], at_least=100)
    assert verdict.outcome is Outcome.BLIND
    assert "blind: with n=2" in verdict.message
    needed = int(verdict.message.split("at least ")[1].split(" episodes")[0])
    assert verdict.episodes_needed == needed
    # The count named is the first at which all-bad data really fails the rule.
    assert quantile.quantile_fails(needed, needed, 0.1, 0.01)
    assert not quantile.quantile_fails(needed - 1, needed - 1, 0.1, 0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"q": 1.0, "at_least": 1}, "q=1.0"),
        ({"q": 0.5}, "needs at_least= or at_most="),
        ({"q": 0.5, "at_least": "x"}, "at_least='x'"),
    ],
)
def test_quantile_bad_input(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(GymrecUsageError, match=match):
        check_quantile([1.0, 2.0], **kwargs)


# -- feasibility: a declared drop the check cannot see ------------------------------------------


def fixed_n_verdict(
    values: list[float], bounds: tuple[float, float] | None, tolerance: float | None = None
) -> Verdict:
    return mean.decide_mean(
        values,
        at_least=475,
        at_most=None,
        alpha=0.01,
        bounds=bounds,
        mode=Mode.NO_REGRESSION,
        rng_key="k",
        subject=Subject("CartPole-v1", tuple(range(len(values))), "pytest t.py"),
        tolerance=tolerance,
    ).verdict


def test_ten_capped_episodes_cannot_see_a_five_percent_drop() -> None:
    values = [500.0] * 8 + [300.0, 420.0]
    verdict = fixed_n_verdict(values, (0, 500), tolerance=0.05)
    # The pass would say little: a drop of the declared size would likely pass too.
    assert verdict.outcome is Outcome.INCONCLUSIVE
    (line,) = [line for line in verdict.message.splitlines() if line.startswith("cannot see")]
    assert line.startswith("cannot see: with n=10 a drop of 23.75")
    needed = int(line.split("about ")[1].split(" episodes")[0])
    assert needed > 10
    assert verdict.episodes_needed == needed
    assert verdict.message.splitlines()[-1].startswith("reproduce:")
    # Deterministic, and the count it names does see the drop.
    again = fixed_n_verdict(values, (0, 500), tolerance=0.05)
    assert again == verdict
    side = core.Side(np.asarray(values), 475.0, (0.0, 500.0), 0.01, tuple(range(len(values))))
    assert core.episodes_for_drop(side, 23.75, "k", verdict.detectable_drop) == needed
    # "About N": scaled from the drop n catches (drops shrink as 1/sqrt(n)); simulated at N,
    # the test catches the declared drop about as often as stated, and at N/2 clearly less.
    x, m = side.scaled
    at_needed = betting.power_at(x, m, 23.75 / 500, 0.01, np.random.default_rng(3), n=needed)
    at_half = betting.power_at(x, m, 23.75 / 500, 0.01, np.random.default_rng(3), n=needed // 2)
    assert at_needed >= 0.7
    assert at_half < 0.7


def test_feasible_check_is_left_alone() -> None:
    values = [500.0] * 200
    verdict = fixed_n_verdict(values, (0, 500))
    assert verdict.detectable_drop is not None
    same = fixed_n_verdict(values, (0, 500), tolerance=0.2)
    assert same.outcome is verdict.outcome is Outcome.PASS
    assert same.message == verdict.message
    assert "cannot see" not in same.message


def test_feasibility_without_bounds_uses_t_power() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(480, 30, 10)
    needed = core.episodes_for_drop(core.Side(values, 475.0, None, 0.01), 10.0, "k")
    sd = float(np.std(values, ddof=1))
    assert needed is not None

    def power(n: int) -> float:
        critical = scipy_stats.t.ppf(0.99, n - 1)
        return float(scipy_stats.nct.sf(critical, n - 1, 10 * math.sqrt(n) / sd))

    assert power(needed) >= 0.8 > power(needed - 1)
