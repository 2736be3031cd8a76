"""The one path from a decision to the test's outcome (checks.pipeline.conclude), for every kind
of check: ``--gymrec-inconclusive fail`` fails an INCONCLUSIVE verdict of any kind, and a check
that could not fail (BLIND: too few episodes for its bounds) fails as such, or warns under
``--gymrec-blind warn``. Pure: no pytest plugin, no envs."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pytest_gymrec.checks import mean, paired, quantile, rate, sequential
from pytest_gymrec.checks.pipeline import CheckContext, Decision, conclude
from pytest_gymrec.errors import (
    GymrecBlindCheck,
    GymrecFailure,
    GymrecInconclusive,
    GymrecStatisticsWarning,
)
from pytest_gymrec.record import Episode
from pytest_gymrec.verdict import Kind, Mode, Outcome, Subject, Verdict

BOUNDS = (0.0, 500.0)

#: A decision of one kind of check, and the episodes it was decided on.
Case = tuple[Decision, list[Episode]]


def episodes_of(returns: list[float], lengths: list[int] | None = None) -> list[Episode]:
    steps = lengths if lengths is not None else [int(value) for value in returns]
    return [
        Episode(seed, value, length, 0.0, True, False)
        for seed, (value, length) in enumerate(zip(returns, steps, strict=True))
    ]


def subject_of(episodes: list[Episode]) -> Subject:
    return Subject("Env-v0", tuple(episode.seed for episode in episodes), "pytest t.py::test")


def mean_decision(
    values: list[float],
    episodes: list[Episode],
    *,
    at_least: float,
    bounds: tuple[float, float] | None,
    **kw: Any,
) -> Case:
    """A mean check of ``values`` (the returns, or another quantity) decided on ``episodes``."""
    decision = mean.decide_mean(
        values,
        at_least=at_least,
        at_most=None,
        alpha=0.01,
        bounds=bounds,
        mode=Mode.NO_REGRESSION,
        rng_key="t.py::test",
        subject=subject_of(episodes),
        **kw,
    )
    return decision, episodes


def mean_case(
    returns: list[float], *, at_least: float, bounds: tuple[float, float] | None, **kw: Any
) -> Case:
    return mean_decision(returns, episodes_of(returns), at_least=at_least, bounds=bounds, **kw)


def length_case(lengths: list[int], *, at_least: float, bounds: tuple[float, float] | None) -> Case:
    return mean_decision(
        [float(length) for length in lengths],
        episodes_of([500.0] * len(lengths), lengths),
        at_least=at_least,
        bounds=bounds,
        quantity="length",
        caller="assert_length()",
    )


def rate_case(successes: list[bool], *, at_least: float, tolerance: float | None) -> Case:
    episodes = episodes_of([500.0 if ok else 10.0 for ok in successes])
    decision = rate.decide_success_rate(
        successes,
        at_least=at_least,
        alpha=0.01,
        mode=Mode.NO_REGRESSION,
        subject=subject_of(episodes),
        tolerance=tolerance,
        predicate_name="balanced",
    )
    return decision, episodes


def quantile_case(returns: list[float], *, at_least: float) -> Case:
    episodes = episodes_of(returns)
    decision = quantile.decide_quantile(
        returns,
        0.1,
        at_least=at_least,
        at_most=None,
        alpha=0.01,
        mode=Mode.NO_REGRESSION,
        subject=subject_of(episodes),
        quantity="return",
    )
    return decision, episodes


def sequential_case(returns: list[float], *, max_episodes: int) -> Case:
    plan = sequential.plan(
        at_least=475,
        tolerance=0.1,
        bounds=BOUNDS,
        bounds_source="the test",
        alpha=0.01,
        beta=0.1,
        mode=Mode.NO_REGRESSION,
        caller="gymrec.assert_return()",
    )
    test = sequential.SequentialTest(plan, "the test", "gymrec.assert_return()")
    ran = []
    for seed in range(max_episodes):  # as the fixture runs them: until decided
        if test.decided:
            break
        test.add(returns[seed], seed)
        ran.append(returns[seed])
    episodes = episodes_of(ran)
    return test.decide(subject_of(episodes), max_episodes), episodes


def paired_case(base: list[float], new: list[float], *, bounds: tuple[float, float] | None) -> Case:
    episodes = episodes_of(new)
    pairing = paired.pair(
        {seed: (value, int(value)) for seed, value in enumerate(base)},
        {seed: (value, int(value)) for seed, value in enumerate(new)},
    )
    decision = paired.decide_paired(
        pairing,
        tolerance=0.05,
        alpha=0.01,
        bounds=bounds,
        rng_key="t.py::test",
        origin=paired.Origin(label="Env-v0", baseline="the baseline result (in memory)"),
    )
    return decision, episodes


# -- INCONCLUSIVE, one way or another for every kind ----------------------------------------------


def forced_inconclusive(case: Case) -> Case:
    """The quantile check is exact at every n: it passes, fails or is blind, never undecided.
    Its INCONCLUSIVE verdict is made here, to show that conclude treats every kind alike."""
    decision, episodes = case
    verdict = dataclasses.replace(decision.verdict, outcome=Outcome.INCONCLUSIVE)
    return dataclasses.replace(decision, verdict=verdict), episodes


INCONCLUSIVE: dict[Kind, Callable[[], Case]] = {
    # Student t cannot decide from one episode.
    Kind.MEAN: lambda: mean_case([3.0], at_least=5, bounds=None),
    Kind.LENGTH: lambda: length_case([30], at_least=50, bounds=None),
    # A pass that would likely have missed the declared drop (tolerance) says little.
    Kind.SUCCESS_RATE: lambda: rate_case([True] * 30, at_least=0.5, tolerance=0.05),
    Kind.QUANTILE: lambda: forced_inconclusive(quantile_case([500.0] * 60, at_least=100)),
    # Mean between the two lines when max_episodes ran out.
    Kind.SEQUENTIAL: lambda: sequential_case([400.0, 500.0] * 15, max_episodes=30),
    # A paired t cannot decide from one seed.
    Kind.PAIRED: lambda: paired_case([500.0], [10.0], bounds=None),
}


def test_every_kind_has_an_inconclusive_case() -> None:
    assert set(INCONCLUSIVE) == set(Kind)


@pytest.mark.parametrize("kind", list(Kind), ids=[kind.value for kind in Kind])
@pytest.mark.filterwarnings("ignore::pytest_gymrec.errors.GymrecStatisticsWarning")
def test_inconclusive_fail_fails_every_kind(kind: Kind) -> None:
    decision, episodes = INCONCLUSIVE[kind]()
    assert decision.verdict.kind is kind
    assert decision.verdict.outcome is Outcome.INCONCLUSIVE
    recorded: list[Verdict] = []
    context = CheckContext(inconclusive_fails=True, record=recorded.append)
    with pytest.raises(GymrecFailure, match="INCONCLUSIVE") as raised:
        conclude(decision, episodes, context)
    assert not isinstance(raised.value, GymrecBlindCheck)
    assert str(raised.value) == decision.verdict.message
    assert recorded == [decision.verdict]  # recorded before raising, so reports see it


@pytest.mark.parametrize("kind", list(Kind), ids=[kind.value for kind in Kind])
@pytest.mark.filterwarnings("ignore::pytest_gymrec.errors.GymrecStatisticsWarning")
def test_inconclusive_warns_by_default_for_every_kind(kind: Kind) -> None:
    decision, episodes = INCONCLUSIVE[kind]()
    with pytest.warns(GymrecInconclusive, match="INCONCLUSIVE"):
        verdict = conclude(decision, episodes, CheckContext())
    assert verdict is decision.verdict


# -- BLIND: too few episodes for the check to fail at all, for every kind -----------------------

BLIND: dict[Kind, Callable[[], Case]] = {
    Kind.MEAN: lambda: mean_case([500.0, 500.0], at_least=100, bounds=BOUNDS),
    Kind.LENGTH: lambda: length_case([500, 500], at_least=100, bounds=BOUNDS),
    Kind.SUCCESS_RATE: lambda: rate_case([True] * 3, at_least=0.5, tolerance=None),
    Kind.QUANTILE: lambda: quantile_case([500.0, 500.0], at_least=100),
    Kind.SEQUENTIAL: lambda: sequential_case([500.0] * 2, max_episodes=2),
    Kind.PAIRED: lambda: paired_case([500.0] * 4, [0.0] * 4, bounds=BOUNDS),
}


def test_every_kind_has_a_blind_case() -> None:
    assert set(BLIND) == set(Kind)


@pytest.mark.parametrize("kind", list(Kind), ids=[kind.value for kind in Kind])
def test_too_few_episodes_are_blind_for_every_kind(kind: Kind) -> None:
    verdict = BLIND[kind]()[0].verdict
    assert verdict.kind is kind
    assert verdict.outcome is Outcome.BLIND
    assert verdict.blind
    assert not verdict.passed
    needed = verdict.episodes_needed
    assert needed is not None
    assert needed > verdict.n
    message = verdict.message
    assert "CANNOT FAIL" in message.splitlines()[0]
    assert f"blind: with n={verdict.n} " in message
    assert f"at least {needed} episodes would make it able to fail" in message
    assert verdict.to_record()["blind"] is True
    assert verdict.to_record()["episodes_needed"] == needed


@pytest.mark.parametrize("kind", list(Kind), ids=[kind.value for kind in Kind])
@pytest.mark.parametrize("inconclusive_fails", [False, True])
def test_blind_fails_by_default_for_every_kind(kind: Kind, inconclusive_fails: bool) -> None:
    decision, episodes = BLIND[kind]()
    recorded: list[Verdict] = []
    context = CheckContext(inconclusive_fails=inconclusive_fails, record=recorded.append)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GymrecInconclusive)
        with pytest.raises(GymrecBlindCheck, match="CANNOT FAIL") as raised:
            conclude(decision, episodes, context)
    assert isinstance(raised.value, GymrecFailure)
    assert isinstance(raised.value, AssertionError)
    assert str(raised.value) == decision.verdict.message
    assert recorded == [decision.verdict]


@pytest.mark.parametrize("kind", list(Kind), ids=[kind.value for kind in Kind])
@pytest.mark.parametrize("inconclusive_fails", [False, True])
def test_blind_warn_warns_for_every_kind(kind: Kind, inconclusive_fails: bool) -> None:
    decision, episodes = BLIND[kind]()
    context = CheckContext(inconclusive_fails=inconclusive_fails, blind_fails=False)
    with pytest.warns(GymrecInconclusive, match="CANNOT FAIL"):
        verdict = conclude(decision, episodes, context)
    assert verdict.outcome is Outcome.BLIND


def test_enough_episodes_are_not_blind() -> None:
    """The counts the blind verdicts name are right: with them, all-bad data fails."""
    for kind, case in BLIND.items():
        needed = case()[0].verdict.episodes_needed
        assert needed is not None, kind
        bad: Case
        if kind is Kind.MEAN:
            bad = mean_case([0.0] * needed, at_least=100, bounds=BOUNDS)
        elif kind is Kind.LENGTH:
            bad = length_case([0] * needed, at_least=100, bounds=BOUNDS)
        elif kind is Kind.SUCCESS_RATE:
            bad = rate_case([False] * needed, at_least=0.5, tolerance=None)
        elif kind is Kind.QUANTILE:
            bad = quantile_case([0.0] * needed, at_least=100)
        elif kind is Kind.SEQUENTIAL:
            bad = sequential_case([0.0] * needed, max_episodes=needed)
        else:
            bad = paired_case([500.0] * needed, [0.0] * needed, bounds=BOUNDS)
        assert bad[0].verdict.outcome is Outcome.FAIL, kind


# -- what conclude does besides enforcing -------------------------------------------------------


def test_conclude_flags_the_episodes_of_a_verdict_that_did_not_pass() -> None:
    flagged: list[tuple[Episode, str]] = []
    context = CheckContext(flag=lambda episode, reason: flagged.append((episode, reason)))
    successes = [True] * 10 + [False] * 30
    decision, episodes = rate_case(successes, at_least=0.9, tolerance=None)
    with pytest.raises(GymrecFailure):
        conclude(decision, episodes, context)
    assert [episode.seed for episode, _ in flagged] == list(range(10, 40))
    flagged.clear()
    passing, episodes = rate_case([True] * 40, at_least=0.5, tolerance=None)
    conclude(passing, episodes, context)
    assert flagged == []


def test_cautions_warn_at_the_users_line() -> None:
    decision, episodes = mean_case(list(np.linspace(100, 200, 8)), at_least=0, bounds=None)
    with pytest.warns(GymrecStatisticsWarning, match="only 8 episodes") as caught:
        conclude(decision, episodes, CheckContext())
    assert caught[0].filename == __file__
