"""The statistics on their own: intervals against scipy, validity, degenerate data, messages."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats as scipy_stats

from pytest_gymrec.checks import betting, core, mean, pipeline
from pytest_gymrec.checks.common import rng_for
from pytest_gymrec.errors import (
    GymrecBlindCheck,
    GymrecFailure,
    GymrecInconclusive,
    GymrecStatisticsWarning,
    GymrecUsageError,
)
from pytest_gymrec.formatting import fmt, format_seeds
from pytest_gymrec.verdict import POWER, Mode, Outcome, Subject, Verdict

FloatArray = npt.NDArray[np.float64]

NO_REGRESSION = Mode.NO_REGRESSION
CERTIFY = Mode.CERTIFY


def check(
    values: object,
    *,
    at_least: object = None,
    at_most: object = None,
    alpha: float = 0.01,
    bounds: tuple[float, float] | None = None,
    mode: Mode = NO_REGRESSION,
    tolerance: float | None = None,
) -> Verdict:
    array = np.asarray(values, dtype=float)
    return mean.decide_mean(
        array,
        at_least=at_least,
        at_most=at_most,
        alpha=alpha,
        bounds=bounds,
        mode=mode,
        rng_key="tests",
        subject=Subject("Env-v0", tuple(range(array.size)), "pytest t.py::x"),
        tolerance=tolerance,
    ).verdict


def enforce(verdict: Verdict, *, inconclusive_fails: bool = False) -> None:
    """What a test sees by default: FAIL and BLIND raise, INCONCLUSIVE and cautions warn."""
    pipeline.enforce(verdict, inconclusive_fails=inconclusive_fails, blind_fails=True)


# -- Student t against scipy ---------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_t_bounds_match_scipy(alpha: float) -> None:
    values = np.random.default_rng(1).normal(100, 15, size=25)
    verdict = check(values, at_least=0, alpha=alpha)
    less = scipy_stats.ttest_1samp(values, 0, alternative="less")
    greater = scipy_stats.ttest_1samp(values, 0, alternative="greater")
    upper = less.confidence_interval(1 - alpha).high
    lower = greater.confidence_interval(1 - alpha).low
    assert verdict.high == pytest.approx(upper, rel=1e-12)
    assert verdict.low == pytest.approx(lower, rel=1e-12)
    assert verdict.approximate
    assert "(Student t; approximate: valid only for near-normal means)" in verdict.message


def test_t_verdict_is_the_scipy_one_sided_test() -> None:
    rng = np.random.default_rng(2)
    for _ in range(50):
        values = rng.normal(rng.uniform(90, 110), 10, size=int(rng.integers(3, 40)))
        verdict = check(values, at_least=100, alpha=0.05)
        p_value = scipy_stats.ttest_1samp(values, 100, alternative="less").pvalue
        assert (verdict.outcome is Outcome.FAIL) == (p_value < 0.05)


def test_t_detectable_drop_has_the_stated_power() -> None:
    """At the stated drop, the noncentral t gives 80% power; check it by simulation."""
    values = np.random.default_rng(3).normal(0, 10, size=30)
    side = core.Side(values, 0.0, None, 0.01)
    drop, assumption, unknown = core.detectable_drop(side, rng_for("x"))
    assert drop is not None
    assert "Student t" in assumption
    assert unknown == ""
    rng = np.random.default_rng(4)
    sd = float(np.std(values, ddof=1))
    samples = rng.normal(-drop, sd, size=(20000, 30))
    t = samples.mean(axis=1) / (samples.std(axis=1, ddof=1) / math.sqrt(30))
    power = float(np.mean(t < scipy_stats.t.ppf(0.01, 29)))
    assert power == pytest.approx(POWER, abs=0.015)


# -- Betting tests ---------------------------------------------------------------------------


def test_betting_bounds_hold_at_their_level() -> None:
    """Monte-Carlo coverage on capped, skewed and two-point data (the shapes t gets wrong)."""
    rng = np.random.default_rng(5)
    alpha, runs = 0.05, 400

    def capped(n: int) -> FloatArray:
        return np.minimum(rng.normal(0.97, 0.08, n), 1.0).clip(0, 1)

    def skewed(n: int) -> FloatArray:
        return rng.exponential(0.1, n).clip(0, 1)

    def two_point(n: int) -> FloatArray:
        return (rng.random(n) < 0.9).astype(np.float64)

    shapes = {"capped": capped, "skewed": skewed, "two-point": two_point}
    true_means = {"capped": None, "skewed": None, "two-point": 0.9}
    for name, draw in shapes.items():
        true_mean = true_means[name]
        if true_mean is None:
            true_mean = float(np.mean(draw(400_000)))
        missed_upper = missed_lower = 0
        for _ in range(runs):
            x = draw(15)
            missed_upper += int(betting.upper_bound(x, alpha) < true_mean)
            missed_lower += int(betting.interval(x, alpha)[0] > true_mean)
        standard_error = math.sqrt(alpha * (1 - alpha) / runs)
        assert missed_upper / runs <= alpha + 3 * standard_error, name
        assert missed_lower / runs <= alpha + 3 * standard_error, name


def test_betting_upper_bound_is_where_the_evidence_crosses() -> None:
    x = np.random.default_rng(6).uniform(0.2, 0.6, 40)
    alpha = 0.01
    bets = betting.kelly_bets(x, 0.1)

    def running_max(m: float) -> float:
        return float(np.max(betting.log_capital(x, bets, m, 0.9)))

    bound = betting.anytime_upper_bound(x, alpha, bets, 0.9)
    assert running_max(bound) >= math.log(1 / alpha)
    assert running_max(bound - 1e-6) < math.log(1 / alpha)
    assert float(np.mean(x)) < bound < 1.0
    # The bound the checks report is dual to the test they apply: rejected just at and above it.
    reported = float(betting.upper_bound(x, alpha))
    assert betting.fixed_n_rejects(x, reported, alpha)
    assert not betting.fixed_n_rejects(x, reported - 1e-6, alpha)
    assert float(np.mean(x)) < reported < 1.0


def test_bets_are_predictable() -> None:
    """Bet t may not look at x_t: changing the last value leaves every bet unchanged."""
    x = np.random.default_rng(7).random(20)
    y = x.copy()
    y[-1] = 1 - y[-1]
    assert np.array_equal(betting.tuned_bets(x, 0.05), betting.tuned_bets(y, 0.05))
    assert np.array_equal(betting.kelly_bets(x, 0.1), betting.kelly_bets(y, 0.1))


def test_evidence_against_a_true_mean_stays_small() -> None:
    """Ville: the capital against the true mean rarely reaches 1/alpha, over the whole path."""
    rng = np.random.default_rng(8)
    x = (rng.random((4000, 200)) < 0.7).astype(float)
    path = betting.log_capital(x, betting.kelly_bets(x, 0.1), 0.7, betting.TRUNCATION)
    evidence = np.max(path, axis=-1)  # the running maximum: anytime-valid
    assert float(np.mean(evidence >= math.log(20))) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 4000)


def test_betting_verdict_depends_on_the_seeds_not_the_order() -> None:
    """The bet reads episodes in seed order, so shuffling (seed, return) pairs changes nothing."""
    rng = np.random.default_rng(18)
    values = np.minimum(rng.normal(470, 30, 40), 500)
    seeds = tuple(range(100, 140))
    order = rng.permutation(40)
    verdicts = [
        mean.decide_mean(
            values[permutation],
            at_least=475,
            at_most=None,
            alpha=0.01,
            bounds=(0, 500),
            mode=NO_REGRESSION,
            rng_key="tests",
            subject=Subject("Env-v0", tuple(seeds[i] for i in permutation)),
        ).verdict
        for permutation in (np.arange(40), order)
    ]
    assert (verdicts[0].low, verdicts[0].high) == (verdicts[1].low, verdicts[1].high)
    assert verdicts[0].outcome is verdicts[1].outcome


# -- Verdicts ------------------------------------------------------------------------------


def test_clear_regression_fails_with_a_report() -> None:
    verdict = check(np.full(20, 10.0) + np.arange(20), at_least=475, bounds=(0, 500))
    assert verdict.outcome is Outcome.FAIL
    message = verdict.message
    assert "mean return >= 475 FAILED (no-regression, alpha=0.01)" in message
    assert "mean return 19.5 over 20 episodes (seeds 0-19)" in message
    assert "betting test, bounds (0, 500)" in message
    assert "99% upper confidence bound" in message
    assert "tied at a bound: 0 of 20 at 500, 0 at 0" in message
    assert "lowest returns: seed 0: 10, seed 1: 11, seed 2: 12" in message
    assert "detectable: a drop of" in message
    assert "reproduce: pytest t.py::x" in message
    assert not verdict.approximate
    with pytest.raises(GymrecFailure) as raised:
        enforce(verdict)
    assert str(raised.value) == message
    assert isinstance(raised.value, AssertionError)


def test_good_agent_passes_and_small_noise_is_not_a_regression() -> None:
    rng = np.random.default_rng(9)
    values = np.minimum(rng.normal(480, 20, 30), 500)
    verdict = check(values, at_least=475, bounds=(0, 500))
    assert verdict.outcome is Outcome.PASS
    enforce(verdict)


def test_certify_needs_evidence_of_clearing_the_line() -> None:
    perfect = np.full(10, 500.0)
    assert check(perfect, at_least=475, bounds=(0, 500), mode=CERTIFY).outcome.value == "fail"
    assert check(np.full(200, 500.0), at_least=475, bounds=(0, 500), mode=CERTIFY).passed
    verdict = check(perfect, at_least=475, bounds=(0, 500), mode=CERTIFY)
    assert "rule (certify): pass only when the 99% lower confidence bound clears 475" in (
        verdict.message
    )


def test_at_most_mirrors_at_least() -> None:
    rng = np.random.default_rng(10)
    values = rng.uniform(0, 100, 30)
    below = check(values, at_least=80, bounds=(0, 100))
    above = check(100 - values, at_most=20, bounds=(0, 100))
    assert below.outcome is above.outcome is Outcome.FAIL
    assert above.low == pytest.approx(100 - below.high)
    assert above.high == pytest.approx(100 - below.low)
    assert "mean return <= 20" in above.message
    assert "a rise of" in above.message
    assert "99% lower confidence bound is above it" in above.message


def test_two_lines_split_alpha() -> None:
    values = np.random.default_rng(11).uniform(40, 60, 40)
    verdict = check(values, at_least=30, at_most=70, bounds=(0, 100), alpha=0.02)
    assert verdict.passed
    assert verdict.check == "mean return >= 30 and mean return <= 70"
    assert "99% upper" in verdict.message  # each side at 0.01


@pytest.mark.filterwarnings("ignore:Student t with only")
def test_all_equal_returns() -> None:
    same = np.full(12, 200.0)
    with pytest.warns(GymrecStatisticsWarning, match="12 of 12 episodes tie"):
        enforce(check(same, at_least=100))
    with pytest.warns(GymrecStatisticsWarning), pytest.raises(GymrecFailure):
        enforce(check(same, at_least=300))
    # Without bounds nothing says how a regressed agent's returns would spread.
    unbounded = check(same, at_least=100)
    assert unbounded.detectable_drop is None
    assert "detectable: unknown: every value is equal" in unbounded.message
    assert "a drop of 0 " not in unbounded.message
    # With bounds the interval never collapses to a point. Twelve episodes cannot be evidence
    # against a mean of 100 on (0, 500), whatever they are: blind, not a failure.
    verdict = check(same, at_least=100, bounds=(0, 500))
    assert verdict.low < 200 < verdict.high
    assert verdict.outcome is Outcome.BLIND
    assert verdict.episodes_needed is not None
    assert verdict.episodes_needed > 12
    assert check(np.full(200, 200.0), at_least=100, bounds=(0, 500)).passed


def test_all_at_the_cap() -> None:
    verdict = check(np.full(30, 500.0), at_least=475, bounds=(0, 500))
    assert verdict.passed
    assert verdict.high == 500
    assert verdict.low < 500
    assert "tied at a bound: 30 of 30 at 500" in verdict.message


@pytest.mark.filterwarnings("ignore:Student t with only")
def test_one_episode() -> None:
    verdict = check([3.0], at_least=5)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "cannot decide from 1 episode without bounds" in verdict.message
    with pytest.warns(GymrecInconclusive):
        enforce(verdict)
    # With bounds one terrible episode is not evidence enough, and not a usage error: the check
    # could not have failed, so it is blind (and fails the test as such).
    blind = check([0.0], at_least=475, bounds=(0, 500))
    assert blind.outcome is Outcome.BLIND
    with pytest.raises(GymrecBlindCheck, match="CANNOT FAIL"):
        enforce(blind)


def test_t_cautions() -> None:
    few = np.random.default_rng(12).normal(10, 1, 8)
    assert any("only 8 episodes" in caution for caution in check(few, at_least=0).cautions)
    skewed = np.random.default_rng(13).exponential(10, 200)
    assert any("skewed" in caution for caution in check(skewed, at_least=0).cautions)
    normal = np.random.default_rng(14).normal(10, 1, 200)
    assert check(normal, at_least=0).cautions == ()
    assert check(skewed, at_least=0, bounds=(0, 1000)).cautions == ()


def test_blind_check_says_how_many_episodes_it_needs() -> None:
    verdict = check(np.full(10, 0.0), at_least=50, bounds=(0, 500))
    # Ten episodes at zero cannot be evidence against a mean of 50: the check cannot fail.
    assert verdict.outcome is Outcome.BLIND
    needed = core.episodes_to_fail(core.Side(np.zeros(1), 50.0, (0.0, 500.0), 0.01))
    assert needed is not None
    assert needed > 10
    assert f"at least {needed} episodes would make it able to fail" in verdict.message
    assert "CANNOT FAIL" in verdict.message.splitlines()[0]
    assert verdict.episodes_needed == needed
    assert verdict.detectable_drop is None
    assert verdict.blind
    assert not check(np.full(200, 0.0), at_least=50, bounds=(0, 500)).blind
    # And that number is right: with it, all-zero returns fail; with one fewer, they cannot.
    assert check(np.zeros(needed), at_least=50, bounds=(0, 500)).outcome is Outcome.FAIL
    assert check(np.zeros(needed - 1), at_least=50, bounds=(0, 500)).blind


def test_a_check_that_can_fail_is_not_blind() -> None:
    """Returns spread over the whole range: no drop within the bounds is caught with 80%
    probability, yet every episode at zero would fail the check, so it is not blind."""
    needed = core.episodes_to_fail(core.Side(np.zeros(1), 50.0, (0.0, 500.0), 0.01))
    assert needed is not None
    for n in (needed, 2 * needed):
        values = np.random.default_rng(19).uniform(0, 500, n)
        verdict = check(values, at_least=50, bounds=(0, 500))
        assert verdict.outcome is Outcome.PASS
        assert not verdict.blind
        assert verdict.detectable_drop is None
        assert "blind:" not in verdict.message
        assert "detectable: unknown: no drop" in verdict.message
        assert check(np.zeros(n), at_least=50, bounds=(0, 500)).outcome is Outcome.FAIL


def test_detectable_drop_shrinks_with_more_episodes() -> None:
    rng = np.random.default_rng(15)
    drops: list[float] = []
    for n in (20, 80, 320):
        values = np.minimum(rng.normal(490, 15, n), 500)
        drop = check(values, at_least=475, bounds=(0, 500)).detectable_drop
        assert drop is not None
        drops.append(drop)
    assert drops[0] > drops[1] > drops[2]


def test_verdicts_are_deterministic() -> None:
    values = np.random.default_rng(16).uniform(0, 500, 25)
    first = check(values, at_least=300, bounds=(0, 500))
    second = check(values, at_least=300, bounds=(0, 500))
    assert first == second


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"values": []}, "no episodes to check"),
        ({"values": [1.0, math.nan]}, "has return nan"),
        ({"values": [1.0, math.inf]}, "has return inf"),
        ({"values": [1.0, 600.0], "bounds": (0, 500)}, r"seed 1 has return 600, outside bounds"),
        ({"values": [1.0], "at_least": None}, "needs at_least= or at_most="),
        ({"values": [1.0], "at_least": math.nan}, "must be a finite number"),
        ({"values": [1.0], "at_least": 9, "at_most": 1}, "no mean can satisfy both"),
        ({"values": [1.0], "at_least": 900, "bounds": (0, 500)}, "outside bounds"),
    ],
)
def test_bad_input(kwargs: dict[str, Any], says: str) -> None:
    values = kwargs.pop("values")
    kwargs.setdefault("at_least", 0.5)
    with pytest.raises(GymrecUsageError, match=says):
        check(values, **kwargs)


def test_mode_parse() -> None:
    assert Mode.parse("certify", "x") is CERTIFY
    with pytest.raises(GymrecUsageError, match="mode 'strict' is not one of"):
        Mode.parse("strict", "assert_return()")


def test_record_is_plain_data() -> None:
    record = check(np.arange(20.0), at_least=5, bounds=(0, 100)).to_record()
    assert json.loads(json.dumps(record, allow_nan=False)) == record


# -- numpy numbers as arguments -------------------------------------------------------------


def test_numpy_numbers_are_accepted_as_arguments() -> None:
    assert core.finite_number(np.int64(100), "at_least", "x()") == 100.0
    assert core.finite_number(np.float32(0.5), "at_least", "x()") == 0.5
    assert core.check_tolerance(np.float32(0.05), "x()") == pytest.approx(0.05)
    assert core.check_tolerance(np.float64(0.0), "x()", allow_zero=True) == 0.0
    for refused in (np.bool_(True), True, "100", np.float64(math.nan), np.int64(1) + 0j):
        with pytest.raises(GymrecUsageError, match="must be a finite number"):
            core.finite_number(refused, "at_least", "x()")
    values = np.minimum(np.random.default_rng(20).normal(480, 20, 60), 500)
    plain = check(values, at_least=100, bounds=(0, 500), tolerance=0.25)
    typed = check(
        values,
        at_least=np.int64(100),
        bounds=(0, 500),
        tolerance=core.check_tolerance(np.float32(0.25), "x()"),  # 0.25 is exact in float32
    )
    assert typed == plain
    assert typed.line == 100.0
    assert isinstance(typed.line, float)
    assert json.loads(json.dumps(typed.to_record())) == typed.to_record()


# -- No scipy warning escapes on nearly constant data ---------------------------------------

#: Returns equal up to float rounding: exactly equal, a unit in the last place either way,
#: noise far below the returns' scale, and one value off by a hair.
NEARLY_CONSTANT = {
    "exact": np.full(30, 200.0),
    "last place": np.nextafter(np.full(30, 200.0), np.where(np.arange(30) % 2, 0.0, 1e9)),
    "noise": 200.0 + 1e-12 * np.random.default_rng(21).normal(size=30),
    "one hair": np.concatenate([np.full(29, 200.0), [200.0 + 1e-10]]),
    "large": 1e8 + 1e-6 * np.random.default_rng(22).normal(size=30),
}


@pytest.mark.parametrize("name", sorted(NEARLY_CONSTANT))
@pytest.mark.parametrize("tolerance", [None, 0.05])
def test_nearly_constant_returns_raise_no_runtime_warning(
    name: str, tolerance: float | None
) -> None:
    """scipy's skewness warns of catastrophic cancellation on such data; a check must not let
    that RuntimeWarning out (under -W error it would turn a verdict into a crash). Student t is
    the path that uses scipy, so no bounds here."""
    values = NEARLY_CONSTANT[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", GymrecStatisticsWarning)
        warnings.simplefilter("ignore", GymrecInconclusive)
        for line in (0.5 * float(values[0]), 1.5 * float(values[0])):
            verdict = check(values, at_least=line, tolerance=tolerance)
            if line > values[0]:
                assert verdict.outcome is Outcome.FAIL
            assert not any("skewed" in caution for caution in verdict.cautions)
            assert any("30 of 30 episodes tie" in caution for caution in verdict.cautions)
            if verdict.outcome is Outcome.FAIL:
                with pytest.raises(GymrecFailure):
                    enforce(verdict)
            else:
                enforce(verdict)


# -- Formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (475.0, "475"),
        (23.456, "23.46"),
        (-0.001, "-0.001"),
        (0.0, "0"),
        (-0.0001, "-0.0001"),
        (2e7, "2e+07"),
        (None, "n/a"),
        (math.inf, "inf"),
        (-0.004, "-0.004"),
        (0.25, "0.25"),
        (1234.5, "1234.5"),
    ],
)
def test_fmt(value: float | None, text: str) -> None:
    assert fmt(value) == text


def test_format_seeds() -> None:
    assert format_seeds([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    assert format_seeds([3]) == "3"
    assert format_seeds([2, 1, 0]) == "0-2"
    assert format_seeds([None, None]) == "2 unseeded"
    assert format_seeds([4, None]) == "4 and 1 unseeded"


def test_detectable_drop_of_all_equal_returns_assumes_the_widest_spread() -> None:
    """Thirty perfect episodes show no spread; the stated drop must hold for returns at the
    bounds only (the widest spread), checked here with fresh draws."""
    verdict = check(np.full(30, 500.0), at_least=475, bounds=(0, 500))
    drop = verdict.detectable_drop
    assert drop is not None
    assert "if returns spread as widely as they can (all values here were equal" in (
        verdict.message
    )
    rng = np.random.default_rng(17)
    runs = 4000
    line = 475 - drop
    x = (rng.random((runs, 30)) < line / 500).astype(float)
    caught = betting.fixed_n_rejects(x, 0.95, 0.01)  # the test the check applies
    power = float(np.mean(caught))
    standard_error = math.sqrt(0.8 * 0.2 / runs)
    assert abs(power - POWER) < 4 * standard_error + 0.02  # bisection step and resampling
    # With spread in the data the resampled shape is used, as the message says.
    spread = check(np.minimum(np.linspace(470, 520, 30), 500), at_least=475, bounds=(0, 500))
    assert "if values spread like these" in spread.message
