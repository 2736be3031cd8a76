"""End to end: assert_no_regression through real pytest runs on CartPole-v1.

Each test writes a small project into the pytester folder, runs pytest on it several times and
changes the agent between runs, as a user would between commits. What depends on xdist (files
written by workers, the summary gathered from their reports) runs both ways (``xdist_matters``);
the rest runs once, plain, and in-process where it can, to keep the suite fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

# In-process runs restore sys.modules afterwards; numpy refuses a second import in one process,
# so the heavy modules the plugin loads are imported here, before any run, and are kept.
import pytest_gymrec.checks.paired
import pytest_gymrec.episodes  # noqa: F401

Run = Callable[..., pytest.RunResult]

#: For runs whose failing tests are not about videos: filming 500-step episodes costs seconds.
NO_VIDEOS = "--gymrec-video=off"

GOOD_AGENT = "def policy(obs):\n    return int(obs[2] + 0.5 * obs[3] > 0)\n"
#: Falls within a few dozen steps on every seed: a regression no test may miss.
BROKEN_AGENT = "def policy(obs):\n    return int(obs[2] > 0)\n"
CONFTEST = """
import json
import pytest
from pytest_gymrec.plugin import RECORD_KEY

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Writes which episodes a check flagged for failure videos, to check them from outside.
    report = yield
    record = item.stash.get(RECORD_KEY, None)
    if report.when == "call" and record is not None and record.flagged:
        with open("flagged.json", "w") as stream:
            json.dump([[episode.seed, reason] for episode, reason in record.flagged], stream)
    return report
"""

CYCLE_TEST = """
import pytest
from agent import policy

@pytest.mark.gymrec(seeds=20, bounds=(0, 500))
def test_cartpole(gymrec):
    result = gymrec.evaluate("CartPole-v1", policy)
    gymrec.assert_no_regression(result)
"""


def baseline_file(pytester: pytest.Pytester, module: str, test: str) -> Path:
    return pytester.path / "gymrec_baselines" / module / f"{test}.json"


def output(result: pytest.RunResult) -> str:
    return result.stdout.str()


def run_in_process(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """One plain run in this process (pytester restores sys.modules, so agent.py reloads)."""
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


@pytest.mark.xdist_matters(
    "workers write the baseline files; the controller lists them in the summary"
)
def test_the_whole_cycle(pytester: pytest.Pytester, run_pytest: Run) -> None:
    """Create and fail, pass, regress and fail, update, pass."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(agent=GOOD_AGENT, test_cycle=CYCLE_TEST)
    path = baseline_file(pytester, "test_cycle", "test_cartpole")

    created = run_pytest()
    created.assert_outcomes(failed=1)
    text = output(created)
    assert "no baseline yet for CartPole-v1" in text
    assert "review and commit it" in text
    assert "created (review and commit): 1 file" in text
    assert "gymrec_baselines/test_cycle/test_cartpole.json" in text
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert [episode["seed"] for episode in stored["episodes"]] == list(range(20))
    assert stored["env_spec"]["max_episode_steps"] == 500
    assert stored["bounds"] == [0, 500]
    assert stored["test"] == "test_cycle.py::test_cartpole"
    # A new baseline is no regression: no episode to film.
    assert not (pytester.path / "gymrec-results").exists()
    committed = path.read_bytes()

    passed = run_pytest()
    passed.assert_outcomes(passed=1)
    assert "mean change vs baseline >= -25" in output(passed)  # the verdict table
    assert "gymrec baselines" not in output(passed)  # nothing was written
    assert path.read_bytes() == committed

    pytester.makepyfile(agent=BROKEN_AGENT)
    regressed = run_pytest()
    regressed.assert_outcomes(failed=1)
    text = output(regressed)
    assert "mean change vs baseline >= -25 FAILED" in text
    assert "most regressed seeds (baseline -> new return): seed" in text
    assert "pytest test_cycle.py::test_cartpole --gymrec-update-baselines" in text
    assert path.read_bytes() == committed
    flagged = json.loads((pytester.path / "flagged.json").read_text(encoding="utf-8"))
    assert len(flagged) == 5
    assert all("-> " in reason for _, reason in flagged)
    # The failure videos show the most regressed seeds, most regressed first.
    videos = sorted((pytester.path / "gymrec-results").glob("*/seed-*.mp4"))
    filmed = {int(video.stem.split("-")[1]) for video in videos}
    assert filmed == {seed for seed, _ in flagged[:3]}

    updated = run_pytest("--gymrec-update-baselines")
    updated.assert_outcomes(passed=1)
    text = output(updated)
    assert "rewritten (--gymrec-update-baselines): 1 file" in text
    assert "gymrec_baselines/test_cycle/test_cartpole.json" in text
    assert path.read_bytes() != committed

    after_update = run_pytest()
    after_update.assert_outcomes(passed=1)


@pytest.mark.xdist_matters("tests on different workers write files; the controller counts them all")
def test_one_baseline_per_parameter_set_and_per_name(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(
        agent=GOOD_AGENT,
        test_sweep="""
import pytest
from agent import policy

@pytest.mark.gymrec(seeds=15, bounds=(0, 500))
@pytest.mark.parametrize("steps", [100, 200])
def test_limits(gymrec, steps):
    result = gymrec.evaluate("CartPole-v1", policy, max_episode_steps=steps)
    gymrec.assert_no_regression(result)

@pytest.mark.gymrec(seeds=15, bounds=(0, 500))
def test_two_envs(gymrec):
    gymrec.assert_no_regression(gymrec.evaluate("CartPole-v1", policy), name="cartpole")
    gymrec.assert_no_regression(gymrec.evaluate("CartPole-v0", policy), name="cartpole-v0")

def test_same_file_twice(gymrec):
    result = gymrec.evaluate("CartPole-v1", policy, seeds=7)
    gymrec.assert_no_regression(result, bounds=(0, 500))
    gymrec.assert_no_regression(result, bounds=(0, 500))
""",
    )
    first = run_pytest(NO_VIDEOS)
    first.assert_outcomes(failed=4)
    assert "created (review and commit): 4 files" in output(first)
    folder = pytester.path / "gymrec_baselines" / "test_sweep"
    assert sorted(path.name for path in folder.iterdir()) == [
        "test_limits[100].json",
        "test_limits[200].json",
        "test_same_file_twice.json",
        "test_two_envs-cartpole.json",
    ]  # the second named call of test_two_envs never ran: the first one failed
    limits = json.loads((folder / "test_limits[100].json").read_text(encoding="utf-8"))
    assert limits["env_spec"]["max_episode_steps"] == 100

    second = run_pytest(NO_VIDEOS)
    second.assert_outcomes(passed=2, failed=2)
    text = output(second)
    assert "test_two_envs-cartpole-v0.json" in text
    assert "this test already compared against" in text
    assert "give each call its own name=" in text

    third = run_pytest(NO_VIDEOS, "-k", "limits or two_envs")
    third.assert_outcomes(passed=3)


def test_seed_sweeps_compare_on_shared_seeds(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        agent=GOOD_AGENT,
        test_nightly="""
import pytest
from agent import policy

@pytest.mark.gymrec(bounds=(0, 500))
def test_sweep(gymrec):
    gymrec.assert_no_regression(gymrec.evaluate("CartPole-v1", policy))
""",
    )
    run_pytest("--gymrec-seeds", "0-39", "--gymrec-update-baselines").assert_outcomes(passed=1)
    run_pytest("--gymrec-seeds", "20-59").assert_outcomes(passed=1)

    pytester.makepyfile(agent=BROKEN_AGENT)
    swept = run_pytest("--gymrec-seeds", "20-59")
    swept.assert_outcomes(failed=1)
    text = output(swept)
    assert "over 20 paired seeds (seeds 20-39)" in text
    assert "left out: 20 seeds of this run (40-59) have no baseline" in text
    assert "left out: 20 baseline seeds (0-19) were not run in this run" in text
    assert "--gymrec-seeds=20-59 --gymrec-update-baselines" in text

    disjoint = run_pytest("--gymrec-seeds", "100-119")
    disjoint.assert_outcomes(failed=1)
    assert "no seed in common with baseline" in output(disjoint)
    assert "--gymrec-seeds=0-39" in output(disjoint)


def test_a_changed_env_spec_fails_with_the_update_command(pytester: pytest.Pytester) -> None:
    # Videos off in the marker, not by flag: not under test, and a flag would join the command.
    test_source = """
import pytest
from agent import policy

@pytest.mark.gymrec(seeds=15, bounds=(0, 500), video="off")
def test_spec(gymrec):
    result = gymrec.evaluate("CartPole-v1", policy, max_episode_steps={steps})
    gymrec.assert_no_regression(result)
"""
    pytester.makepyfile(agent=GOOD_AGENT, test_env=test_source.format(steps=300))
    run_in_process(pytester, "--gymrec-update-baselines").assert_outcomes(passed=1)
    pytester.makepyfile(test_env=test_source.format(steps=400))
    changed = run_in_process(pytester)
    changed.assert_outcomes(failed=1)
    text = output(changed)
    assert "pairing is invalid" in text
    assert "max_episode_steps: 300 -> 400" in text
    assert "pytest test_env.py::test_spec --gymrec-update-baselines" in text


def test_unreadable_baselines_are_errors_until_rewritten(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent=GOOD_AGENT, test_cycle=CYCLE_TEST)
    path = baseline_file(pytester, "test_cycle", "test_cartpole")
    path.parent.mkdir(parents=True)
    path.write_text('<<<<<<< HEAD\n{"schema": 1}\n=======\n{}\n>>>>>>> other\n', "utf-8")
    before = path.read_bytes()

    broken = run_in_process(pytester, NO_VIDEOS)
    broken.assert_outcomes(failed=1)
    text = output(broken)
    assert "GymrecBaselineError" in text
    assert "merge-conflict markers" in text
    assert "--gymrec-update-baselines" in text
    assert path.read_bytes() == before

    run_in_process(pytester, "--gymrec-update-baselines").assert_outcomes(passed=1)
    run_in_process(pytester).assert_outcomes(passed=1)

    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema"] = 99
    path.write_text(json.dumps(data), encoding="utf-8")
    newer = run_in_process(pytester, NO_VIDEOS)
    newer.assert_outcomes(failed=1)
    assert "newer pytest-gymrec (schema 99" in output(newer)
    assert json.loads(path.read_text(encoding="utf-8"))["schema"] == 99


def test_the_ini_twin_updates_baselines(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent=GOOD_AGENT, test_cycle=CYCLE_TEST)
    pytester.makeini("[pytest]\ngymrec_update_baselines = true\n")
    updating = run_in_process(pytester)
    updating.assert_outcomes(passed=1)
    assert "rewritten" not in output(updating)  # it did not exist: created, without failing
    assert "created (review and commit): 1 file" in output(updating)
    pytester.makeini("[pytest]\ngymrec_update_baselines = false\n")
    run_in_process(pytester).assert_outcomes(passed=1)


def test_a_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agent=GOOD_AGENT, test_cycle=CYCLE_TEST)
    pytester.makeini("[pytest]\ngymrec_update_baselines = sometimes\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    assert "gymrec_update_baselines" in text
    assert "'sometimes' is not true or false" in text


def test_the_flag_is_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    assert "--gymrec-update-baselines" in result.stdout.str()
    assert "gymrec_update_baselines" in result.stdout.str()
