"""End to end through pytester: sequential assert_return, the extra checks,
the new settings and their precedence, and every bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecFailure, GymrecUsageError
from pytest_gymrec.fixture import Gymrec
from pytest_gymrec.record import TestRecord

Runner = Callable[..., pytest.RunResult]

#: For runs whose failing tests are not about videos: filming 500-step episodes costs seconds.
NO_VIDEOS = "--gymrec-video=off"

SEQUENTIAL_TESTS = """
import pytest
from policies import balance, push_left
from pytest_gymrec.errors import GymrecInconclusive

def test_good_agent_passes_early(gymrec):
    result = gymrec.assert_return("CartPole-v1", balance, at_least=475, tolerance=0.1,
                                  bounds=(0, 500), max_episodes=400)
    assert 5 <= len(result) < 60
    assert result.seeds.tolist() == list(range(len(result)))
    assert gymrec.result.episodes == []  # make/wrap episodes only

def test_broken_agent_fails(gymrec):
    gymrec.assert_return("CartPole-v1", push_left, at_least=475, tolerance=0.1,
                         bounds=(0, 500))

@pytest.mark.gymrec(seeds="7-9", bounds=(0, 500))
def test_marker_bounds_and_seed_start(gymrec):
    result = gymrec.assert_return("CartPole-v1", balance, at_least=475, tolerance=0.1)
    assert result.seeds[:4].tolist() == [7, 8, 9, 10]

def test_given_seeds_come_first(gymrec):
    result = gymrec.assert_return("CartPole-v1", balance, at_least=475, tolerance=0.1,
                                  bounds=(0, 500), seeds=[40, 3])
    assert result.seeds[:4].tolist() == [40, 3, 41, 42]

def test_certify_mode(gymrec):
    result = gymrec.assert_return("CartPole-v1", balance, at_least=400, tolerance=0.2,
                                  bounds=(0, 500), mode="certify")
    assert len(result) > 0

def test_make_loop_checks_through_result(gymrec):
    env = gymrec.make("CartPole-v1")
    for seed in gymrec.seeds:
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(balance(obs))
            done = terminated or truncated
    gymrec.result.assert_return(at_least=400, bounds=(0, 500))
"""


@pytest.mark.xdist_matters(
    "sequential verdicts reach the controller's verdict table from the workers"
)
def test_sequential_verdicts_end_to_end(
    pytester: pytest.Pytester, run_pytest: Runner, policies: None
) -> None:
    pytester.makepyfile(test_sequential=SEQUENTIAL_TESTS)
    result = run_pytest("-rA")
    result.assert_outcomes(passed=5, failed=1)
    output = result.stdout.str()
    assert "mean return >= 475 (sequential, tolerance 0.1) FAILED" in output
    assert "stopped at episode" in output
    assert "reproduce: pytest test_sequential.py::test_broken_agent_fails" in output
    # The episodes reached the test record: the gymrec section lists them under the failure.
    assert "episodes recorded in this test" in output
    assert "gymrec verdicts" in output


INCONCLUSIVE_TESTS = """
import pytest
from policies import balance
from pytest_gymrec.errors import GymrecInconclusive

@pytest.mark.gymrec(bounds=(0, 500))
def test_undecided(gymrec):
    # Five perfect episodes are not yet enough evidence either way (five all-zero ones would
    # fail: fewer could not, and the check would be blind).
    result = gymrec.assert_return("CartPole-v1", balance, at_least=475, tolerance=0.1)
    print("EPISODES", len(result))
"""


@pytest.mark.parametrize(
    ("ini", "args", "marker", "outcome"),
    [
        ("gymrec_inconclusive = fail", (), "", "failed"),
        ("gymrec_inconclusive = fail", ("--gymrec-inconclusive", "warn"), "", "passed"),
        ("", ("--gymrec-inconclusive", "fail"), "inconclusive='warn'", "passed"),
    ],
)
def test_inconclusive_setting_precedence(
    pytester: pytest.Pytester,
    run_pytest: Runner,
    policies: None,
    ini: str,
    args: tuple[str, ...],
    marker: str,
    outcome: str,
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    source = INCONCLUSIVE_TESTS.replace(
        "@pytest.mark.gymrec(bounds=(0, 500))",
        f"@pytest.mark.gymrec(bounds=(0, 500), {marker})",
    )
    pytester.makepyfile(test_undecided=source)
    result = run_pytest(NO_VIDEOS, "--gymrec-max-episodes", "5", "-s", *args)
    result.assert_outcomes(**{outcome: 1}, warnings=1 if outcome == "passed" else 0)
    assert "INCONCLUSIVE" in result.stdout.str()
    assert "all 5 episodes allowed ran" in result.stdout.str()
    assert "more episodes would pass" in result.stdout.str()


PRECEDENCE_TESTS = """
import pytest
from policies import balance
from pytest_gymrec.errors import GymrecInconclusive

def undecided(gymrec, **kwargs):
    # Perfect episodes, too few to decide: INCONCLUSIVE after max_episodes, with a warning.
    with pytest.warns(GymrecInconclusive) as warned:
        result = gymrec.assert_return("CartPole-v1", balance, at_least=475, tolerance=0.1,
                                      bounds=(0, 500), **kwargs)
    return len(result), str(warned[0].message)

def test_outer(gymrec):
    assert undecided(gymrec) == ({outer}, undecided(gymrec)[1])
    assert "beta={outer_beta})" in undecided(gymrec)[1]

@pytest.mark.gymrec(max_episodes=7, beta=0.4)
def test_marker(gymrec):
    episodes, message = undecided(gymrec)
    assert episodes == 7
    assert "beta=0.4)" in message

@pytest.mark.gymrec(max_episodes=7, beta=0.4)
def test_call(gymrec):
    episodes, message = undecided(gymrec, max_episodes=5, beta=0.05)
    assert episodes == 5
    assert "beta=0.05)" in message
"""


@pytest.mark.parametrize(
    ("ini", "args", "outer", "outer_beta"),
    [
        ("gymrec_max_episodes = 5\ngymrec_beta = 0.2", (), 5, "0.2"),
        (
            "gymrec_max_episodes = 5\ngymrec_beta = 0.2",
            ("--gymrec-max-episodes", "6", "--gymrec-beta", "0.3"),
            6,
            "0.3",
        ),
    ],
)
def test_max_episodes_and_beta_precedence(
    pytester: pytest.Pytester,
    run_pytest: Runner,
    policies: None,
    ini: str,
    args: tuple[str, ...],
    outer: int,
    outer_beta: str,
) -> None:
    """ini < command line < marker < call, for max_episodes and beta."""
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_precedence=PRECEDENCE_TESTS.format(outer=outer, outer_beta=outer_beta))
    run_pytest(*args).assert_outcomes(passed=3)


BAD_INPUT_TESTS = r"""
import pytest
from policies import balance
from pytest_gymrec.errors import GymrecUsageError

def run(gymrec, **kwargs):
    arguments = dict(at_least=475, tolerance=0.1, bounds=(0, 500))
    arguments.update(kwargs)
    gymrec.assert_return("CartPole-v1", balance, **arguments)

@pytest.mark.parametrize("tolerance", [0, 1, 1.5, -0.2])
def test_tolerance(gymrec, tolerance):
    expected = f"tolerance={tolerance!r} must be strictly between 0 and 1"
    with pytest.raises(GymrecUsageError, match=expected):
        run(gymrec, tolerance=tolerance)

@pytest.mark.parametrize("name", ["alpha", "beta"])
@pytest.mark.parametrize("value", [0, 0.6, -1])
def test_levels(gymrec, name, value):
    expected = rf"gymrec\.assert_return\(\): {name}={value!r}: .*\(0, 0\.5\]"
    with pytest.raises(GymrecUsageError, match=expected):
        run(gymrec, **{name: value})

def test_no_bounds(gymrec):
    with pytest.raises(GymrecUsageError, match=r"bounds=\(lo, hi\) are required.*anytime-valid"):
        run(gymrec, bounds=None)

def test_max_episodes_below_seed_count(gymrec):
    expected = r"max_episodes=3 \(from gymrec\.assert_return\(\)\) is smaller than the 5 seeds"
    with pytest.raises(GymrecUsageError, match=expected):
        run(gymrec, seeds=range(5), max_episodes=3)

@pytest.mark.gymrec(max_episodes=2)
def test_marker_max_episodes_below_seed_count(gymrec):
    with pytest.raises(GymrecUsageError, match=r"max_episodes=2 \(from @pytest\.mark\.gymrec"):
        run(gymrec, seeds=[1, 2, 3])

def test_bounds_too_narrow(gymrec):
    expected = r"seed 0 has return 500, outside bounds \(0, 400\) from gymrec\.assert_return"
    with pytest.raises(GymrecUsageError, match=expected):
        run(gymrec, at_least=300, bounds=(0, 400))

def test_success_predicate_that_raises(gymrec):
    result = gymrec.evaluate("CartPole-v1", balance, seeds=range(3))
    def solved(episode):
        return {}["is_success"]
    expected = "the success predicate solved raised KeyError.*seed 0"
    with pytest.raises(GymrecUsageError, match=expected):
        result.assert_success_rate(0.9, success=solved)

def test_fixed_n_tolerance(gymrec):
    result = gymrec.evaluate("CartPole-v1", balance, seeds=range(3))
    with pytest.raises(GymrecUsageError, match="tolerance=2"):
        result.assert_return(at_least=400, bounds=(0, 500), tolerance=2)
"""


def test_bad_input_is_a_usage_error_naming_the_argument(
    pytester: pytest.Pytester, run_pytest: Runner, policies: None
) -> None:
    pytester.makepyfile(test_bad=BAD_INPUT_TESTS)
    result = run_pytest()
    result.assert_outcomes(passed=4 + 6 + 6)


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (("--gymrec-beta", "0.7"), "", "must be in (0, 0.5]"),
        (("--gymrec-max-episodes", "0"), "", "must be a whole number >= 1"),
        (("--gymrec-inconclusive", "maybe"), "", "must be 'warn' or 'fail'"),
        ((), "gymrec_inconclusive = maybe", "ini option gymrec_inconclusive"),
        ((), "gymrec_beta = 0", "ini option gymrec_beta"),
    ],
)
def test_bad_settings_are_refused_at_start(
    pytester: pytest.Pytester,
    run_pytest: Runner,
    args: tuple[str, ...],
    ini: str,
    message: str,
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_nothing="def test_nothing(): pass\n")
    result = run_pytest(*args)
    assert result.ret != 0
    assert message in result.stderr.str() + result.stdout.str()


CHECKS_TESTS = """
import pytest
from policies import balance, push_left

@pytest.mark.gymrec(seeds=30)
def test_checks_on_a_good_agent(gymrec):
    result = gymrec.evaluate("CartPole-v1", balance)
    result.assert_success_rate(0.9, success=lambda episode: episode.return_ >= 475)
    result.assert_length(at_least=450, bounds=(0, 500))
    result.assert_quantile(0.1, at_least=400)
    result.assert_quantile(0.9, at_most=500, of="length")

def test_success_rate_of_a_broken_agent(gymrec):
    result = gymrec.evaluate("CartPole-v1", push_left, seeds=range(20))
    result.assert_success_rate(0.5, success=lambda episode: episode.return_ >= 100)

def test_feasibility_warning(gymrec):
    result = gymrec.evaluate("CartPole-v1", balance, seeds=range(10))
    result.assert_return(at_least=475, bounds=(0, 500), tolerance=0.02)
"""


def test_extra_checks_end_to_end(
    pytester: pytest.Pytester, run_pytest: Runner, policies: None
) -> None:
    pytester.makepyfile(test_checks=CHECKS_TESTS)
    result = run_pytest()
    result.assert_outcomes(passed=2, failed=1)
    output = result.stdout.str()
    assert "success rate >= 0.5 (<lambda>) FAILED" in output
    assert "not successful (20): seeds 0-19" in output
    assert "cannot see: with n=10 a drop of 9.5" in output
    # A pass that could not have seen the declared drop is no pass: INCONCLUSIVE, a warning.
    assert "GymrecInconclusive" in output


# -- the fixture object in-process: flags reach the test record ---------------------------------


def make_gymrec(**marker: object) -> tuple[Gymrec, TestRecord]:
    record = TestRecord(nodeid="test_x.py::test_x")
    resolved = settings.defaults().layered("@pytest.mark.gymrec", marker)
    return Gymrec(resolved, record, "pytest test_x.py::test_x"), record


def test_failing_success_check_flags_unsuccessful_episodes() -> None:
    gymrec, record = make_gymrec()
    result = gymrec.evaluate("CartPole-v1", lambda obs: 0, seeds=range(12))
    with pytest.raises(GymrecFailure):
        result.assert_success_rate(0.9, success=lambda episode: episode.return_ >= 100)
    assert [episode.seed for episode, _ in record.flagged] == list(range(12))
    assert all("not a success" in reason for _, reason in record.flagged)
    assert record.verdicts[-1].outcome.value == "fail"
    gymrec.close()


def test_passing_checks_flag_nothing() -> None:
    gymrec, record = make_gymrec()
    # 45 episodes: fewer could not fail a success rate of 0.1 at all (a blind check fails).
    result = gymrec.evaluate("CartPole-v1", lambda obs: 0, seeds=range(45))
    result.assert_success_rate(0.1, success=lambda episode: episode.return_ >= 5)
    result.assert_quantile(0.5, at_least=5)
    assert record.flagged == []


def test_failing_quantile_check_flags_episodes_below_the_line() -> None:
    gymrec, record = make_gymrec()
    result = gymrec.evaluate("CartPole-v1", lambda obs: 0, seeds=range(20))
    with pytest.raises(GymrecFailure):
        result.assert_quantile(0.1, at_least=100)
    assert len(record.flagged) == 20


def test_sequential_episodes_land_in_the_record() -> None:
    gymrec, record = make_gymrec(bounds=(0, 500))
    with pytest.raises(GymrecFailure):
        gymrec.assert_return("CartPole-v1", lambda obs: 0, at_least=475, tolerance=0.1)
    assert 0 < len(record.episodes) < 10
    assert record.episodes[0].actions  # recorded for replay
    assert record.verdicts[-1].check.startswith("mean return >= 475 (sequential")


def test_unknown_sequential_argument_is_refused() -> None:
    gymrec, _ = make_gymrec(bounds=(0, 500))
    with pytest.raises(GymrecUsageError, match="mode 'strict'"):
        gymrec.assert_return(
            "CartPole-v1", lambda obs: 0, at_least=475, tolerance=0.1, mode="strict"
        )
