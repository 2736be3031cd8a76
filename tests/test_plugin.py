"""The plugin end to end: real pytest runs through pytester (also with ``-n 2`` where xdist
changes what is tested: tests marked ``xdist_matters``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

Run = Callable[..., pytest.RunResult]

#: For runs whose failing tests are not about videos: filming 500-step episodes costs seconds.
NO_VIDEOS = "--gymrec-video=off"

pytestmark = pytest.mark.usefixtures("policies")


@pytest.mark.xdist_matters("the verdict table is built on the controller from the workers' reports")
def test_pass_and_fail_with_a_report(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_agent="""
        import pytest
        from policies import balance, push_left

        @pytest.mark.gymrec(seeds=range(20), bounds=(0, 500))
        def test_holds(gymrec):
            result = gymrec.evaluate("CartPole-v1", balance)
            assert result.seeds.tolist() == list(range(20))
            result.assert_return(at_least=475)

        @pytest.mark.gymrec(bounds=(0, 500))
        def test_broken(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)
        """
    )
    result = run_pytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*GymrecFailure: gymrec: CartPole-v1: mean return >= 475 FAILED "
            "(no-regression, alpha=0.01)",
            "*mean return * over 10 episodes (seeds 0-9); 98% interval [[]0, *]"
            " (betting test, bounds (0, 500))",
            "*rule (no-regression): fail only on evidence that the mean return is below 475*",
            "*lowest returns: seed *",
            "*reproduce: pytest test_agent.py::test_broken",
            "*- gymrec -*",
            "FAIL: CartPole-v1: mean return >= 475; mean * over 10 episodes*",
            "10 episodes recorded in this test (seeds 0-9), mean return *",
            "*= gymrec verdicts =*",
            # 80 columns: each verdict on two lines, the numbers under the test id.
            "test * env: check",
            "  episodes * mean / change * interval * verdict * detects",
            "test_agent.py::test_holds * CartPole-v1: mean return >= 475",
            "  20 * 500 * pass * drops >= *",
        ]
    )
    # The summary table lists both tests, whichever process ran them.
    result.stdout.fnmatch_lines_random(
        [
            "test_agent.py::test_holds * CartPole-v1: mean return >= 475",
            "  20 * 500 * pass * drops >= *",
            "test_agent.py::test_broken * CartPole-v1: mean return >= 475",
            "  10 * fail * drops >= *",
        ]
    )
    # The failure report does not show the plugin's internals.
    assert "stats.py" not in result.stdout.str()


def test_hand_written_loop_keeps_gymnasium_semantics(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(
        test_loop="""
        import pathlib
        import gymnasium as gym
        import pytest
        from policies import balance

        def note_close(env, name):
            # Wrappers close down the chain to the base env: record that it happened.
            env.unwrapped.close = lambda: pathlib.Path("closed-" + name).touch()

        @pytest.mark.gymrec(seeds="0-4")
        def test_loop(gymrec):
            env = gymrec.make("CartPole-v1")
            note_close(env, "make")
            for seed in gymrec.seeds:
                obs, info = env.reset(seed=seed)
                done = False
                while not done:
                    obs, reward, terminated, truncated, info = env.step(balance(obs))
                    done = terminated or truncated
                assert info["episode"]["l"] == env.length_queue[-1]
                assert info["episode"]["r"] == env.return_queue[-1]
            assert len(env.return_queue) == len(env.time_queue) == 5
            assert gymrec.result.seeds.tolist() == [0, 1, 2, 3, 4]
            assert gymrec.result.returns.tolist() == list(env.return_queue)
            gymrec.result.assert_return(at_least=475, bounds=(0, 500))

        def test_wrap_is_closed_after_a_failure(gymrec):
            env = gymrec.wrap(gym.make("CartPole-v1"))
            note_close(env, "wrap")
            env.reset(seed=1)
            assert False, "the test fails; the env must still be closed"
        """
    )
    result = run_pytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the test fails; the env must still be closed*"])
    assert (pytester.path / "closed-make").exists()
    assert (pytester.path / "closed-wrap").exists()


def test_certify_mode(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_certify="""
        import pytest
        from policies import balance

        @pytest.mark.gymrec(seeds=10, bounds=(0, 500))
        def test_certify_ten(gymrec):
            gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=475, mode="certify")

        @pytest.mark.gymrec(seeds=10, bounds=(0, 500))
        def test_no_regression_ten(gymrec):
            gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=475)
        """
    )
    result = run_pytest(NO_VIDEOS)
    # Ten perfect episodes are no evidence of a regression, but not yet proof of >= 475 either.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mean return >= 475 FAILED (certify, alpha=0.01)*",
            "*rule (certify): pass only when the 99% lower confidence bound clears 475; "
            "here * does not clear it",
        ]
    )


def test_settings_precedence(pytester: pytest.Pytester, run_pytest: Run) -> None:
    """ini < command line < marker < call argument, for seeds and alpha."""
    pytester.makeini(
        """
        [pytest]
        gymrec_seeds = 3
        gymrec_alpha = 0.2
        """
    )
    pytester.makepyfile(
        test_precedence="""
        import pytest
        from policies import balance

        def test_ini_and_cli(gymrec, pytestconfig):
            expected = [5, 6] if pytestconfig.getoption("gymrec_seeds") else [0, 1, 2]
            assert gymrec.seeds == expected
            assert gymrec.settings.alpha == 0.2
            assert gymrec.settings.source("alpha").startswith("ini option gymrec_alpha in ")

        @pytest.mark.gymrec(seeds=[9], alpha=0.05)
        def test_marker(gymrec):
            assert gymrec.seeds == [9]
            assert gymrec.settings.alpha == 0.05

        @pytest.mark.gymrec(seeds=[9])
        def test_call(gymrec):
            result = gymrec.evaluate("CartPole-v1", balance, seeds=[4, 2])
            assert result.seeds.tolist() == [4, 2]
            verdict = result.assert_return(at_least=400, alpha=0.5, bounds=(0, 500))
            assert verdict.alpha == 0.5

        @pytest.mark.gymrec(alpha=0.3)
        class TestClassMarker:
            @pytest.mark.gymrec(alpha=0.1)
            def test_closest_wins(self, gymrec):
                assert gymrec.settings.alpha == 0.1

            def test_class_level(self, gymrec):
                assert gymrec.settings.alpha == 0.3
        """
    )
    run_pytest().assert_outcomes(passed=5)
    run_pytest("--gymrec-seeds", "5-6").assert_outcomes(passed=5)


@pytest.mark.xdist_matters(
    "the reproduce line is built on a worker from the command line xdist forwards"
)
def test_cli_seeds_reach_the_reproduce_line(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_repro="""
        from policies import push_left

        def test_broken(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475, bounds=(0, 500))
        """
    )
    result = run_pytest("--gymrec-seeds=0-11", "--gymrec-alpha", "0.05")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*reproduce: pytest test_repro.py::test_broken --gymrec-seeds=0-11 --gymrec-alpha=0.05"]
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--gymrec-seeds", "9-3"), "*argument --gymrec-seeds: *range '9-3' is empty*"),
        (("--gymrec-seeds", ""), "*argument --gymrec-seeds: *seed list is empty*"),
        (("--gymrec-alpha", "2"), "*argument --gymrec-alpha: *alpha 2.0 must be in (0, 0.5]*"),
        (("--gymrec-alpha", "often"), "*argument --gymrec-alpha: *alpha 'often' is not a number*"),
        (
            ("--gymrec-video", "sometimes"),
            "*argument --gymrec-video: *video mode 'sometimes' is not one of: off, on, "
            "retain-on-failure*",
        ),
        (("--gymrec-max-videos", "-1"), "*argument --gymrec-max-videos: *-1 must be a whole*"),
        (("--gymrec-max-videos", "many"), "*argument --gymrec-max-videos: *'many' is not a whole*"),
        (("--gymrec-output", " "), "*argument --gymrec-output: *the output folder is empty*"),
    ],
)
def test_bad_command_line_values(
    pytester: pytest.Pytester, args: tuple[str, ...], says: str
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])


def test_bad_ini_value(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ngymrec_seeds = 1,1\n")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ini option gymrec_seeds in *tox.ini = '1,1': seed 1 appears twice*"]
    )


@pytest.mark.parametrize(
    ("marker", "says"),
    [
        ("seed=3", "*@pytest.mark.gymrec on test_m.py::test_m: unknown argument 'seed'; known*"),
        ("seeds=[]", "*test_m.py::test_m: seeds=[]: the seed list is empty*"),
        ("bounds=(500, 0)", "*test_m.py::test_m: bounds=(500, 0): bounds (500, 0) need lo < hi*"),
        ("alpha=0.9", "*test_m.py::test_m: alpha=0.9: alpha 0.9 must be in (0, 0.5]*"),
        ("10", "*test_m.py::test_m: takes keyword arguments only*"),
        ("update_baselines=True", "*test_m.py::test_m: update_baselines=True belongs on the*"),
        ("json='out.json'", "*test_m.py::test_m: json='out.json' covers the whole session*"),
    ],
)
def test_bad_marker(pytester: pytest.Pytester, marker: str, says: str) -> None:
    pytester.makepyfile(
        test_m=f"""
        import pytest

        @pytest.mark.gymrec({marker})
        def test_m(gymrec):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])


def test_bad_input_in_tests(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_bad="""
        import math
        import gymnasium as gym
        import numpy as np
        import pytest
        from policies import balance

        class NaNReward(gym.Env):
            observation_space = gym.spaces.Box(-1, 1, (1,))
            action_space = gym.spaces.Discrete(2)
            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                return np.zeros(1, dtype=np.float32), {}
            def step(self, action):
                return np.zeros(1, dtype=np.float32), math.nan, False, False, {}

        class Endless(NaNReward):
            def step(self, action):
                return np.zeros(1, dtype=np.float32), 1.0, False, False, {}

        def test_unknown_env(gymrec):
            gymrec.evaluate("CartPol-v1", balance)

        def test_policy_raises(gymrec):
            def policy(obs):
                if obs[0] > 0.05:
                    raise KeyError("lost")
                return 1
            gymrec.evaluate("CartPole-v1", policy)

        def test_nan_reward(gymrec):
            gymrec.evaluate(NaNReward, lambda obs: 0)

        @pytest.mark.gymrec(max_steps=200)
        def test_never_ends(gymrec):
            gymrec.evaluate(Endless, lambda obs: 0)

        def test_empty_seed_list(gymrec):
            gymrec.evaluate("CartPole-v1", balance, seeds=[])

        def test_inverted_bounds(gymrec):
            gymrec.evaluate("CartPole-v1", balance, bounds=(10, 1))

        def test_outside_bounds(gymrec):
            gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=5, bounds=(0, 100))

        def test_no_episodes(gymrec):
            gymrec.make("CartPole-v1")
            gymrec.result.assert_return(at_least=5)
        """
    )
    result = run_pytest(NO_VIDEOS)
    result.assert_outcomes(failed=8)
    result.stdout.fnmatch_lines_random(
        [
            "*GymrecEnvError: gymrec.evaluate(): cannot make env 'CartPol-v1'*",
            "*GymrecPolicyError: CartPole-v1: the policy raised KeyError: 'lost' at seed *, step *",
            "*GymrecEnvError: NaNReward: step 1 for seed 0 returned reward nan*",
            "*GymrecEnvError: Endless: the episode for seed 0 did not end within "
            "max_steps=200 steps*",
            "*GymrecUsageError: gymrec.evaluate(): seeds=[]: the seed list is empty*",
            "*GymrecUsageError: gymrec.evaluate(): bounds=(10, 1): bounds (10, 1) need lo < hi*",
            "*GymrecUsageError: assert_return(): seed * has return 500, outside bounds (0, 100) "
            "from assert_return()*",
            "*GymrecUsageError: assert_return(): no episodes to check*",
        ]
    )
    # The crashed episode is listed under the failure with its error.
    result.stdout.fnmatch_lines(["*seed *: raised after * steps: KeyError: 'lost'"])


def test_warnings_reach_the_user(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_warn="""
        import pytest
        from policies import balance

        @pytest.mark.gymrec(seeds=[0])
        def test_one_episode_without_bounds(gymrec):
            gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=475)
        """
    )
    result = run_pytest("-W", "default")
    result.assert_outcomes(passed=1, warnings=2)
    result.stdout.fnmatch_lines_random(
        [
            "*GymrecInconclusive: gymrec: CartPole-v1: mean return >= 475 INCONCLUSIVE*",
            "*GymrecStatisticsWarning: Student t with only 1 episodes is unreliable*",
        ]
    )
    strict = run_pytest(NO_VIDEOS, "-W", "error::pytest_gymrec.errors.GymrecInconclusive")
    strict.assert_outcomes(failed=1)


@pytest.mark.xdist_matters(
    "junitxml writes on the controller the properties recorded on the workers"
)
def test_junit_xml_properties(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_junit="""
        import pytest
        from policies import balance, push_left

        @pytest.mark.gymrec(bounds=(0, 500))
        def test_good(gymrec):
            gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=475)

        @pytest.mark.gymrec(bounds=(0, 500))
        def test_bad(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)
        """
    )
    run_pytest("--junitxml=out.xml").assert_outcomes(passed=1, failed=1)
    root = ET.parse(pytester.path / "out.xml").getroot()
    properties = {
        case.attrib["name"]: {p.attrib["name"]: p.attrib["value"] for p in case.iter("property")}
        for case in root.iter("testcase")
    }
    assert properties["test_good"]["gymrec.verdict"] == "pass"
    assert properties["test_bad"]["gymrec.verdict"] == "fail"
    assert properties["test_bad"]["gymrec.check"] == "CartPole-v1: mean return >= 475"
    assert properties["test_bad"]["gymrec.episodes"] == "10"
    assert float(properties["test_bad"]["gymrec.mean"]) < 20
    assert properties["test_good"]["gymrec.method"].startswith("betting test")


@pytest.mark.xdist_matters(
    "the JSON summary is gathered on the controller from the workers' reports"
)
def test_json_summary(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_json="""
        import pytest
        from policies import balance, push_left

        @pytest.mark.gymrec(seeds=4, bounds=(0, 500))
        def test_good(gymrec):
            gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=475)

        @pytest.mark.gymrec(seeds=3)
        def test_episodes_only(gymrec):
            gymrec.evaluate("CartPole-v1", push_left)

        def test_no_gymrec():
            pass
        """
    )
    result = run_pytest("--gymrec-json=reports/gymrec.json")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["gymrec: JSON summary written to reports/gymrec.json"])
    document = json.loads((pytester.path / "reports" / "gymrec.json").read_text())
    assert document["schema"] == 1
    tests = {entry["nodeid"]: entry for entry in document["tests"]}
    assert set(tests) == {"test_json.py::test_good", "test_json.py::test_episodes_only"}
    good = tests["test_json.py::test_good"]
    assert good["outcome"] == "passed"
    assert [episode["seed"] for episode in good["episodes"]] == [0, 1, 2, 3]
    assert good["verdicts"][0]["outcome"] == "pass"
    assert tests["test_json.py::test_episodes_only"]["verdicts"] == []
    assert all(
        episode["length"] < 50 for episode in tests["test_json.py::test_episodes_only"]["episodes"]
    )


def test_help_shows_the_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "regression tests of RL agents (pytest-gymrec):",
            "*--gymrec-seeds=SEEDS*",
            "*--gymrec-alpha=ALPHA*",
            "*gymrec_seeds (string):*",
        ]
    )
    markers = pytester.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.gymrec(*, seeds=None, alpha=None, bounds=None*"])


def test_starting_pytest_does_not_import_gymnasium(pytester: pytest.Pytester) -> None:
    """A plugin loads in every project on the machine: pytest's start must stay cheap."""
    pytester.makepyfile("def test_plain(): pass")
    script = textwrap.dedent(
        """
        import sys
        import pytest
        code = pytest.main(["-q", "-p", "no:cacheprovider"])
        heavy = sorted(m for m in ("gymnasium", "scipy", "numpy", "pygame") if m in sys.modules)
        assert "pytest_gymrec.plugin" in sys.modules, "the plugin was not loaded"
        print("HEAVY", heavy)
        sys.exit(int(code))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=pytester.path, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "HEAVY []" in completed.stdout
