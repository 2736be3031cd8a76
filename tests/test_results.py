"""EvalResult and its checks on their own (no pytest plugin, no env): what they read from the
context, what they hand back to it, and what they raise."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from pytest_gymrec.errors import (
    GymrecBlindCheck,
    GymrecFailure,
    GymrecInconclusive,
    GymrecStatisticsWarning,
    GymrecUsageError,
)
from pytest_gymrec.record import Episode
from pytest_gymrec.results import CheckContext, EvalResult
from pytest_gymrec.verdict import Outcome, Verdict


def episode(seed: int | None, return_: float, length: int | None = None, **kw: Any) -> Episode:
    steps = int(return_) if length is None else length
    return Episode(
        seed=seed,
        return_=return_,
        length=steps,
        wall_time=0.01,
        terminated=True,
        truncated=False,
        **kw,
    )


class Collected:
    """Stands in for the fixture's TestRecord: keeps what the checks report."""

    def __init__(self) -> None:
        self.verdicts: list[Verdict] = []
        self.flagged: list[tuple[Episode, str]] = []

    def context(self, **overrides: Any) -> CheckContext:
        settings: dict[str, Any] = {
            "alpha": 0.05,
            "bounds": (0.0, 500.0),
            "bounds_source": "@pytest.mark.gymrec on t.py::test",
            "rng_key": "t.py::test",
            "reproduce": "pytest t.py::test",
            "record": self.verdicts.append,
            "flag": lambda episode, reason: self.flagged.append((episode, reason)),
        }
        settings.update(overrides)
        return CheckContext(**settings)


def good(n: int = 40) -> list[Episode]:
    return [episode(seed, 500.0 if seed % 5 else 480.0) for seed in range(n)]


def bad(n: int = 40) -> list[Episode]:
    return [episode(seed, float(10 + seed % 7)) for seed in range(n)]


def test_parallel_lists_and_label() -> None:
    result = EvalResult([episode(3, 10.0, env_label="A-v0"), episode(1, 20.0, 7, env_label="B-v0")])
    # Read-only numpy arrays (float64, int64, int64), in the order the episodes ran.
    assert result.returns.tolist() == [10.0, 20.0]
    assert result.lengths.tolist() == [10, 7]
    assert result.seeds.tolist() == [3, 1]
    assert [str(array.dtype) for array in (result.returns, result.lengths, result.seeds)] == [
        "float64",
        "int64",
        "int64",
    ]
    assert not result.returns.flags.writeable
    assert len(result) == 2
    assert result.label() == "A-v0, B-v0"  # named from the episodes when not given
    assert EvalResult([], env_label="CartPole-v1").label() == "CartPole-v1"
    assert EvalResult([]).label() == "env"
    assert repr(EvalResult(good(3), env_label="X")) == "EvalResult(env='X', episodes=3)"


def test_episode_to_dict_is_the_public_statistics_only() -> None:
    data = episode(4, 12.5, 12, error="ValueError: x", actions=[1, 0]).to_dict()
    assert data == {
        "seed": 4,
        "return": 12.5,
        "length": 12,
        "wall_time": 0.01,
        "terminated": True,
        "truncated": False,
        "error": "ValueError: x",
    }


def test_assert_return_uses_and_reports_to_the_context() -> None:
    collected = Collected()
    result = EvalResult(good(), env_label="CartPole-v1", context=collected.context())
    verdict = result.assert_return(at_least=475)
    assert verdict.outcome is Outcome.PASS
    assert verdict.alpha == 0.05  # the context's alpha
    assert "bounds (0, 500)" in verdict.method  # the context's bounds: betting
    assert collected.verdicts == [verdict]
    assert "reproduce: pytest t.py::test" in verdict.message


def test_call_arguments_beat_the_context() -> None:
    collected = Collected()
    result = EvalResult(good(), context=collected.context())
    verdict = result.assert_return(at_least=475, alpha=0.2, bounds=None)
    assert verdict.alpha == 0.2
    without = EvalResult(good(), context=collected.context(bounds=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GymrecStatisticsWarning)
        assert without.assert_return(at_least=475).method == "Student t"
    wider = result.assert_return(at_least=475, bounds=(0, 1000))
    assert "bounds (0, 1000)" in wider.method


def test_failure_raises_assertion_error_and_is_recorded_first() -> None:
    collected = Collected()
    result = EvalResult(bad(), env_label="CartPole-v1", context=collected.context())
    with pytest.raises(GymrecFailure) as raised:
        result.assert_return(at_least=475)
    assert isinstance(raised.value, AssertionError)
    (verdict,) = collected.verdicts  # recorded before raising, so reports see it
    assert verdict.outcome is Outcome.FAIL
    assert str(raised.value) == verdict.message


def test_bounds_errors_name_their_source() -> None:
    collected = Collected()
    outside = EvalResult([*good(5), episode(99, 900.0)], context=collected.context())
    with pytest.raises(GymrecUsageError, match=r"seed 99 has return 900.*from @pytest\.mark"):
        outside.assert_return(at_least=475)
    with pytest.raises(GymrecUsageError, match=r"assert_return\(\): bounds=\(5, 1\)"):
        outside.assert_return(at_least=475, bounds=(5, 1))
    with pytest.raises(GymrecUsageError, match=r"assert_return\(\): alpha=0\.7"):
        outside.assert_return(at_least=475, alpha=0.7)
    with pytest.raises(GymrecUsageError, match=r"mode 'strict' is not one of"):
        outside.assert_return(at_least=475, mode="strict")


def test_inconclusive_warns_or_fails_as_the_context_says() -> None:
    one = [episode(0, 3.0)]
    warn = EvalResult(one, context=Collected().context(bounds=None))
    with pytest.warns(GymrecInconclusive), pytest.warns(GymrecStatisticsWarning):
        assert warn.assert_return(at_least=5).outcome is Outcome.INCONCLUSIVE
    fail = EvalResult(one, context=Collected().context(bounds=None, inconclusive_fails=True))
    with pytest.warns(GymrecStatisticsWarning), pytest.raises(GymrecFailure, match="INCONCLUSIVE"):
        fail.assert_return(at_least=5)


def test_success_rate_flags_the_failures_of_a_failing_check() -> None:
    collected = Collected()
    episodes = [episode(seed, 500.0 if seed < 10 else 20.0) for seed in range(40)]
    result = EvalResult(episodes, context=collected.context())

    def balanced(ep: Episode) -> bool:
        return ep.return_ >= 195

    with pytest.raises(GymrecFailure, match=r"success rate >= 0\.9 \(balanced\) FAILED"):
        result.assert_success_rate(0.9, success=balanced)
    assert [ep.seed for ep, _ in collected.flagged] == list(range(10, 40))
    assert all(reason == "not a success (balanced)" for _, reason in collected.flagged)


def test_success_rate_passing_flags_nothing() -> None:
    collected = Collected()
    result = EvalResult(good(), context=collected.context())
    verdict = result.assert_success_rate(0.9, success=lambda ep: ep.return_ >= 195)
    assert verdict.passed
    assert collected.flagged == []


def test_success_predicate_that_raises_names_the_seed() -> None:
    result = EvalResult(good(3), context=Collected().context())

    def broken(ep: Episode) -> bool:
        raise KeyError("r")

    with pytest.raises(GymrecUsageError, match="seed 0"):
        result.assert_success_rate(0.5, success=broken)


def test_length_checks_use_their_own_bounds() -> None:
    collected = Collected()
    short = [episode(seed, 500.0, length=20 + seed % 3) for seed in range(30)]
    result = EvalResult(short, context=collected.context())
    verdict = result.assert_length(at_most=100, bounds=(0, 500))
    assert verdict.passed
    assert verdict.check == "mean length <= 100"
    with pytest.raises(GymrecFailure, match="mean length >= 400 FAILED"):
        result.assert_length(at_least=400, bounds=(0, 500))


def test_quantile_flags_episodes_on_the_wrong_side() -> None:
    collected = Collected()
    episodes = [episode(seed, 100.0 if seed % 2 else 480.0) for seed in range(60)]
    result = EvalResult(episodes, context=collected.context())
    with pytest.raises(GymrecFailure):
        result.assert_quantile(0.1, at_least=300)  # half the episodes are below 300
    flagged = {ep.seed for ep, _ in collected.flagged}
    assert flagged == {seed for seed in range(60) if seed % 2}
    with pytest.raises(GymrecUsageError, match="of='steps' must be 'return' or 'length'"):
        result.assert_quantile(0.5, at_least=1, of="steps")


def test_without_a_context_checks_still_work() -> None:
    """A user may build an EvalResult by hand: defaults, no reporting, same semantics."""
    result = EvalResult(bad(), env_label="Hand-v0")
    with pytest.raises(GymrecFailure, match=r"alpha=0\.01"):
        result.assert_return(at_least=475, bounds=(0, 500))


def test_numpy_numbers_are_accepted_as_arguments() -> None:
    """Lines and tolerances computed with numpy (np.int64, np.float32) are numbers too."""
    collected = Collected()
    result = EvalResult(good(100), context=collected.context())
    at_least: Any = np.int64(475)
    tolerance: Any = np.float32(0.1)
    verdict = result.assert_return(at_least=at_least, tolerance=tolerance)
    assert verdict.passed  # and it sees the declared drop of 47.5
    assert verdict.line == 475.0
    assert verdict.tolerance == pytest.approx(0.1)
    assert result.assert_length(at_least=np.int64(100), bounds=(0, 500)).passed
    half: Any = np.float32(0.5)
    rate = result.assert_success_rate(
        np.float64(0.5), success=lambda ep: ep.return_ >= 195, tolerance=half
    )
    assert rate.outcome is Outcome.PASS
    assert result.assert_quantile(np.float32(0.25), at_least=at_least).passed
    same = EvalResult(good(100), context=collected.context())
    assert result.assert_no_regression(same, tolerance=tolerance).passed
    for verdict in collected.verdicts:
        assert isinstance(verdict.line, float)


def test_a_check_that_cannot_fail_fails_as_blind_or_warns() -> None:
    few = [episode(seed, 500.0) for seed in range(2)]
    result = EvalResult(few, context=Collected().context())
    with pytest.raises(GymrecBlindCheck, match="CANNOT FAIL") as raised:
        result.assert_return(at_least=100)
    assert isinstance(raised.value, GymrecFailure)
    assert "would make it able to fail" in str(raised.value)
    warn = EvalResult(few, context=Collected().context(blind_fails=False))
    with pytest.warns(GymrecInconclusive, match="CANNOT FAIL"):
        assert warn.assert_return(at_least=100).outcome is Outcome.BLIND
