"""Parallel evaluation end to end through pytester: ``num_envs``/``vectorization_mode`` from the
ini, the command line, a marker and the call; executors; ``gymrec.make_vec``; bad input.

The contract under test: whatever runs the episodes, a test sees the episodes of one env, seed by
seed, and reaches the same verdict (with the same failure videos). Plain runs only: nothing here
depends on pytest-xdist.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.fixture import Gymrec
from pytest_gymrec.record import TestRecord

#: Policies and an env factory the inner tests import (and executors' workers unpickle).
AGENTS = '''
import os
import gymnasium as gym

def lean(obs):
    """A poor CartPole-v1 policy: episodes of 25-60 steps whose lengths differ by seed."""
    return int(obs[2] > 0)

def balance(obs):
    """A good CartPole-v1 policy: all 500 steps on almost every seed."""
    return int(obs[2] + 0.5 * obs[3] > 0)

def cartpole(render_mode=None):
    """CartPole-v1, noting in builders.log which process built it (replays are not noted)."""
    if render_mode is None:
        with open("builders.log", "a") as log:
            log.write(f"{os.getpid()}\\n")
    return gym.make("CartPole-v1", render_mode=render_mode)

def builders():
    """Process ids that built a cartpole for running episodes, one per env built."""
    if not os.path.exists("builders.log"):
        return []
    with open("builders.log") as log:
        return [int(line) for line in log]
'''

#: Notes the pid of the pytest process, so builders.log can be read against it.
CONFTEST = """
import os

def pytest_configure(config):
    with open("main.pid", "w") as out:
        out.write(str(os.getpid()))
"""


@pytest.fixture
def agents(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(agents=AGENTS)
    pytester.makeconftest(CONFTEST)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def read_summary(path: Path) -> dict[str, dict[str, Any]]:
    """The JSON summary by test name, episodes without their wall time."""
    summary = json.loads(path.read_text())
    tests: dict[str, dict[str, Any]] = {}
    for test in summary["tests"]:
        for episode in test["episodes"]:
            del episode["wall_time"]
        tests[test["nodeid"].split("::")[-1]] = test
    return tests


def envs_built(pytester: pytest.Pytester) -> tuple[int, list[int]]:
    """The pytest process's pid, and the pids that built envs for episodes."""
    main = int((pytester.path / "main.pid").read_text())
    log = pytester.path / "builders.log"
    pids = [int(line) for line in log.read_text().split()] if log.exists() else []
    return main, pids


def videos(pytester: pytest.Pytester, test: str) -> list[str]:
    folder = pytester.path / "gymrec-results" / test
    return sorted(path.name for path in folder.glob("*.mp4"))


# -- one env against two async envs -------------------------------------------------------------

VERDICT_TESTS = """
import pytest
from agents import balance, cartpole, lean

@pytest.mark.gymrec(seeds=12, bounds=(0, 500))
def test_evaluated(gymrec):
    gymrec.evaluate(cartpole, lean).assert_return(at_least=400)

def test_sequential_fails(gymrec):
    gymrec.assert_return(cartpole, lean, at_least=475, tolerance=0.1, bounds=(0, 500))

def test_sequential_passes(gymrec):
    gymrec.assert_return(cartpole, balance, at_least=475, tolerance=0.1, bounds=(0, 500))
"""


def test_two_async_envs_give_the_episodes_verdicts_and_videos_of_one(
    pytester: pytest.Pytester, agents: None
) -> None:
    pytester.makepyfile(test_verdicts=VERDICT_TESTS)
    one = run(pytester, "--gymrec-json=one.json")
    one.assert_outcomes(passed=1, failed=2)
    main, pids = envs_built(pytester)
    assert set(pids) == {main}  # one env per evaluation, in the test's process
    # The second run must make its own videos and builders.log.
    (pytester.path / "builders.log").unlink()
    shutil.rmtree(pytester.path / "gymrec-results")

    two = run(
        pytester,
        "--gymrec-num-envs=2",
        "--gymrec-vectorization-mode=async",
        "--gymrec-json=two.json",
    )
    two.assert_outcomes(passed=1, failed=2)
    main, pids = envs_built(pytester)
    # Three evaluations, each on two envs in processes of their own, none in the test's.
    assert len(set(pids)) == len(pids) == 6
    assert main not in pids

    alone = read_summary(pytester.path / "one.json")
    parallel = read_summary(pytester.path / "two.json")
    assert (
        alone.keys()
        == parallel.keys()
        == {
            "test_evaluated",
            "test_sequential_fails",
            "test_sequential_passes",
        }
    )
    for name, test in alone.items():
        # Episodes in seed order with the same returns and lengths; the sequential test stops
        # at the same episode with the same verdict.
        assert parallel[name]["episodes"] == test["episodes"], name
        assert parallel[name]["verdicts"] == test["verdicts"], name
    lengths = {episode["length"] for episode in alone["test_evaluated"]["episodes"]}
    assert len(lengths) > 3  # episodes of different lengths: they finish out of seed order
    assert [v["outcome"] for v in alone["test_sequential_fails"]["verdicts"]] == ["fail"]

    # Failure videos by replay, as with one env: the same seeds, files on disk.
    for name in ("test_evaluated", "test_sequential_fails"):
        shown = parallel[name]["videos"]
        assert [v["seed"] for v in shown] == [v["seed"] for v in alone[name]["videos"]]
        assert len(shown) == 3
        assert all(v["missing"] is None for v in shown)
        folder = f"test_verdicts.py-{name}"
        assert videos(pytester, folder) == sorted(f"seed-{v['seed']}.mp4" for v in shown)
        for video in shown:
            assert (pytester.path / video["path"]).stat().st_size > 0


DYING_TESTS = """
import os
import gymnasium as gym
from agents import lean

class Fragile(gym.Wrapper):
    \"\"\"CartPole whose process ends at step 5 of seed 3 (a crash in native code, say).\"\"\"

    def reset(self, *, seed=None, options=None):
        self.seed_, self.steps = seed, 0
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        self.steps += 1
        if self.seed_ == 3 and self.steps == 5:
            os._exit(9)
        return self.env.step(action)

def fragile(render_mode=None):
    return Fragile(gym.make("CartPole-v1", render_mode=render_mode))

def test_dies(gymrec):
    gymrec.evaluate(fragile, lean, seeds=6, num_envs=2, vectorization_mode="async")

def test_after(gymrec):
    result = gymrec.evaluate("CartPole-v1", lean, seeds=6, num_envs=2, vectorization_mode="async")
    assert len(result) == 6
"""


def test_an_async_env_process_that_dies_fails_its_test_and_the_session_goes_on(
    pytester: pytest.Pytester, agents: None
) -> None:
    pytester.makepyfile(test_dying=DYING_TESTS)
    result = run(pytester, "--gymrec-json=summary.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*GymrecEnvError: fragile: the worker process running the episode for seed 3 ended "
            "(its process ended with exit code 9) at step 5*",
        ]
    )
    tests = read_summary(pytester.path / "summary.json")
    episodes = tests["test_dies"]["episodes"]
    assert [e["seed"] for e in episodes] == [0, 1, 2, 3]  # later seeds never count
    assert episodes[3]["error"] == "WorkerDied: its process ended with exit code 9"
    assert episodes[3]["length"] == 4
    assert all(e["error"] is None for e in episodes[:3])
    # Its steps so far replay here: the video shows the episode up to the crash.
    crashed = tests["test_dies"]["videos"][0]
    assert crashed["seed"] == 3
    assert crashed["missing"] is None
    assert (pytester.path / crashed["path"]).stat().st_size > 0


# -- where num_envs comes from ---------------------------------------------------------------

PRECEDENCE_TESTS = """
import pytest
from agents import builders, cartpole, lean

def envs_used(gymrec, **call):
    before = len(builders())
    result = gymrec.evaluate(cartpole, lean, seeds=3, **call)
    return len(builders()) - before, result

def test_plain(gymrec):
    used, _ = envs_used(gymrec)
    print(f"\\nPLAIN {used} envs from {gymrec.settings.source('num_envs')}")

@pytest.mark.gymrec(num_envs=4)
def test_marker(gymrec):
    used, result = envs_used(gymrec)
    # Three seeds on four envs: one stays idle, and the returns are those of one env.
    alone = gymrec.evaluate(cartpole, lean, seeds=3, num_envs=1)
    assert result.returns.tolist() == alone.returns.tolist()
    print(f"\\nMARKER {used} envs from {gymrec.settings.source('num_envs')}")

@pytest.mark.gymrec(num_envs=4)
def test_call(gymrec):
    used, _ = envs_used(gymrec, num_envs=1)
    print(f"\\nCALL {used} envs")
"""


def test_num_envs_precedence_ini_flag_marker_call(pytester: pytest.Pytester, agents: None) -> None:
    pytester.makepyfile(test_precedence=PRECEDENCE_TESTS)
    pytester.makeini("[pytest]\ngymrec_num_envs = 2\n")
    from_ini = run(pytester, "-s")
    from_ini.assert_outcomes(passed=3)
    marker = "@pytest.mark.gymrec on test_precedence.py::test_marker"
    from_ini.stdout.fnmatch_lines(
        [
            "*PLAIN 2 envs from ini option gymrec_num_envs in *tox.ini",
            f"*MARKER 4 envs from {marker}",
            "*CALL 1 envs",
        ],
        consecutive=False,
    )
    from_flag = run(pytester, "-s", "--gymrec-num-envs=3")
    from_flag.assert_outcomes(passed=3)
    from_flag.stdout.fnmatch_lines(
        ["*PLAIN 3 envs from --gymrec-num-envs", f"*MARKER 4 envs from {marker}", "*CALL 1 envs"]
    )


# -- bad input -------------------------------------------------------------------------------


def test_a_bad_ini_value_stops_pytest_before_gymnasium_loads(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ngymrec_num_envs = 0\n")
    pytester.makepyfile("def test_plain(): pass")
    script = textwrap.dedent(
        """
        import sys
        import pytest
        code = pytest.main(["-q", "-p", "no:cacheprovider"])
        print("HEAVY", sorted(m for m in ("gymnasium", "numpy") if m in sys.modules))
        sys.exit(int(code))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=pytester.path, capture_output=True, text=True
    )
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout
    assert "HEAVY []" in completed.stdout
    assert (
        "tox.ini = '0': 0 must be a whole number >= 1 (envs run at once; 1 runs episodes one "
        "by one)" in completed.stderr
    )


@pytest.mark.parametrize(
    ("args", "marker", "says"),
    [
        (
            ("--gymrec-vectorization-mode=threads",),
            "",
            "*'threads' must be 'sync' (envs step one after another in this process) or "
            "'async' (*) (in --gymrec-vectorization-mode threads)*",
        ),
        (
            ("--gymrec-num-envs=two",),
            "",
            "*'two' is not a whole number (in --gymrec-num-envs two)*",
        ),
        (
            (),
            "@pytest.mark.gymrec(num_envs=2.5)",
            "*@pytest.mark.gymrec on test_m.py::test_m: num_envs=2.5: 2.5 must be a whole "
            "number >= 1 (envs run at once; 1 runs episodes one by one)*",
        ),
    ],
)
def test_bad_flag_and_marker_values_are_usage_errors(
    pytester: pytest.Pytester, args: tuple[str, ...], marker: str, says: str
) -> None:
    pytester.makepyfile(test_m=f"import pytest\n{marker}\ndef test_m(gymrec): pass\n")
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])


# -- executors, make_vec and bad call arguments, in one session -----------------------------------

MORE_TESTS = """
import os
import threading
from concurrent.futures import ProcessPoolExecutor

import gymnasium as gym
import pytest
from agents import builders, cartpole, lean

def same_episodes(got, want):
    assert [e.to_dict() | {"wall_time": 0} for e in got.episodes] == [
        e.to_dict() | {"wall_time": 0} for e in want.episodes
    ]
    assert [e.actions for e in got.episodes] == [e.actions for e in want.episodes]

def test_pool_runs_the_episodes_of_one_env(gymrec):
    before = len(builders())
    with ProcessPoolExecutor(2) as pool:
        pooled = gymrec.evaluate(cartpole, lean, seeds=10, num_envs=2, executor=pool)
    workers = set(builders()[before:])
    assert workers and os.getpid() not in workers  # the envs ran in the pool's processes
    same_episodes(pooled, gymrec.evaluate(cartpole, lean, seeds=10))

def test_sequential_alone(gymrec):
    gymrec.assert_return(cartpole, lean, at_least=475, tolerance=0.1, bounds=(0, 500))

def test_sequential_pooled(gymrec):
    with ProcessPoolExecutor(2) as pool:
        gymrec.assert_return(
            cartpole, lean, at_least=475, tolerance=0.1, bounds=(0, 500), executor=pool,
            num_envs=2,
        )

def test_unpicklable_policy(gymrec):
    lock = threading.Lock()

    def guarded(obs):
        with lock:
            return lean(obs)

    with ProcessPoolExecutor(2) as pool:
        gymrec.evaluate("CartPole-v1", guarded, seeds=4, num_envs=2, executor=pool)

def test_no_envs(gymrec):
    gymrec.evaluate("CartPole-v1", lean, num_envs=0)

def test_unknown_mode(gymrec):
    gymrec.assert_return(
        "CartPole-v1", lean, at_least=475, tolerance=0.1, bounds=(0, 500),
        vectorization_mode="fork",
    )

def test_make_vec_hand_loop(gymrec):
    env = gymrec.make_vec("CartPole-v1", 2)
    assert env.num_envs == 2
    observations, _ = env.reset(seed=[0, 1])
    while len(gymrec.result) < 6:  # the default autoreset (NEXT_STEP) starts unseeded ones
        observations, *_ = env.step([lean(o) for o in observations])
    assert [e.return_ for e in gymrec.result.episodes] == list(env.return_queue)

def test_make_vec_reference(gymrec):
    gymrec.evaluate("CartPole-v1", lean, seeds=[0, 1])
"""


def test_executors_make_vec_and_bad_call_arguments(pytester: pytest.Pytester, agents: None) -> None:
    pytester.makepyfile(test_more=MORE_TESTS)
    result = run(pytester, "--gymrec-json=summary.json")
    result.assert_outcomes(passed=3, failed=5)
    failed = {
        line.split()[1].split("::")[-1] for line in result.outlines if line.startswith("FAILED ")
    }
    assert failed == {
        "test_sequential_alone",
        "test_sequential_pooled",
        "test_unpicklable_policy",
        "test_no_envs",
        "test_unknown_mode",
    }
    result.stdout.fnmatch_lines(
        [
            "*GymrecUsageError: gymrec.evaluate(): executor= sends the env and the policy to "
            "worker processes, but the policy cannot be pickled (TypeError: cannot pickle "
            "'_thread.lock' object). Define it as a module-level function*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*GymrecUsageError: gymrec.evaluate(): num_envs=0: 0 must be a whole number >= 1 "
            "(envs run at once; 1 runs episodes one by one)",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*GymrecUsageError: gymrec.assert_return(): vectorization_mode='fork': 'fork' must be *"]
    )
    tests = read_summary(pytester.path / "summary.json")
    # Bad arguments are refused before any episode runs: no episodes, no verdict.
    for name in ("test_unpicklable_policy", "test_no_envs", "test_unknown_mode"):
        assert name not in tests
    # The sequential test fed by the pool's chunks stops where one env stops, with its verdict.
    alone, pooled = tests["test_sequential_alone"], tests["test_sequential_pooled"]
    assert pooled["episodes"] == alone["episodes"]
    assert pooled["verdicts"] == alone["verdicts"]
    assert [v["outcome"] for v in pooled["verdicts"]] == ["fail"]
    shown = pooled["videos"]
    assert shown
    assert all(v["missing"] is None for v in shown)
    assert videos(pytester, "test_more.py-test_sequential_pooled") == sorted(
        f"seed-{v['seed']}.mp4" for v in shown
    )

    # make_vec: every finished episode recorded, with its seed where reset(seed=...) set it.
    hand = tests["test_make_vec_hand_loop"]["episodes"]
    assert len(hand) >= 6
    seeded = sorted((e for e in hand if e["seed"] is not None), key=lambda e: e["seed"])
    assert seeded == tests["test_make_vec_reference"]["episodes"]
    assert len(seeded) == 2  # the others started from autoresets, which take no seed


# -- the episodes a sequential test ran but did not use ----------------------------------------


def test_episodes_past_the_stop_are_counted_not_used() -> None:
    """Three envs in step (every episode is truncated at 20 steps) finish three episodes at a
    time; the test stops where one env stops, and the rest of that batch is counted, unused."""

    def balance(obs: Any) -> int:
        return int(obs[2] + 0.5 * obs[3] > 0)

    results = {}
    for num_envs in (1, 3):
        record = TestRecord(nodeid=f"t.py::t{num_envs}")
        gymrec = Gymrec(settings.defaults(), record, "pytest t.py")
        result = gymrec.assert_return(
            "CartPole-v1",
            balance,
            at_least=20,
            tolerance=0.1,
            bounds=(0, 20),
            num_envs=num_envs,
            max_episode_steps=20,
        )
        results[num_envs] = (result, record)
    (alone, alone_record), (together, record) = results[1], results[3]
    used = len(alone)
    assert [e.seed for e in together.episodes] == [e.seed for e in alone.episodes]
    assert [e.seed for e in record.episodes] == list(range(used))  # only used ones recorded
    assert record.verdicts[-1].to_record() == alone_record.verdicts[-1].to_record()
    assert alone_record.unused_episodes == 0
    assert record.unused_episodes == math.ceil(used / 3) * 3 - used
    assert used % 3 != 0  # else the count above would be 0 whatever was counted


def test_a_vector_env_handed_over_keeps_its_own_slots() -> None:
    """A num_envs from the ini or a marker is a default a built vector env overrides; a call
    that disagrees with it is an error."""
    record = TestRecord(nodeid="t.py::t")
    marker = settings.defaults().layered("@pytest.mark.gymrec on t", {"num_envs": 3})
    gymrec = Gymrec(marker, record, "pytest t.py")
    vector = gym.make_vec(
        "CartPole-v1",
        2,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.DISABLED},
    )

    def lean(obs: Any) -> int:
        return int(obs[2] > 0)

    try:
        result = gymrec.evaluate(vector, lean, seeds=5)
        alone = gymrec.evaluate("CartPole-v1", lean, seeds=5, num_envs=1)
        assert result.returns.tolist() == alone.returns.tolist()
        assert (result.env_label, result.env_spec) == ("CartPole-v1", alone.env_spec)
        with pytest.raises(GymrecUsageError, match=r"num_envs=3 but the vector env given has 2"):
            gymrec.evaluate(vector, lean, seeds=5, num_envs=3)
    finally:
        vector.close()
