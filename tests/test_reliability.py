"""Hostile command lines, huge counts, short tracebacks and reruns (issue 11), for real:
pytest runs through pytester in a subprocess, plain and with ``-n 2`` where workers matter."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.tracebacks import shorten

Run = Callable[..., pytest.RunResult]

PATH_FLAGS = sorted(setting.flag for setting in settings.SETTINGS.values() if setting.is_path)

#: A project whose ini sets the seeds; its test passes only when pytest read that ini.
INI_SEEDS = "[pytest]\ngymrec_seeds = 3\n"
READS_THE_INI = """
def test_seeds_from_the_ini(gymrec):
    assert gymrec.seeds == [0, 1, 2]
"""


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that exists outside the pytester project (a second CI run's output folder)."""
    return tmp_path_factory.mktemp("outside")


def test_every_path_setting_is_a_path_flag() -> None:
    assert PATH_FLAGS == [
        "--gymrec-github-summary",
        "--gymrec-json",
        "--gymrec-junit-attachment-root",
        "--gymrec-output",
    ]


@pytest.mark.parametrize("flag", PATH_FLAGS)
def test_a_path_flag_written_as_two_words_is_refused(
    pytester: pytest.Pytester, outside: Path, flag: str
) -> None:
    pytester.makeini(INI_SEEDS)
    pytester.makepyfile(READS_THE_INI)
    # Unrefused, pytest would take the existing folder for a test path, pick the rootdir from
    # it and run with the default seeds: a failure that has nothing to do with the agent.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", flag, str(outside))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: {flag} {outside} on the command line: write {flag}={outside} (one word).*"]
    )
    # The "=" form is one word: the project's ini is read, the test sees its seeds.
    pytester.runpytest_subprocess("-p", "no:cacheprovider", f"{flag}={outside}").assert_outcomes(
        passed=1
    )


def test_pytest_addopts_is_checked_too(
    pytester: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI_SEEDS)
    pytester.makepyfile(READS_THE_INI)
    json_path = outside / "gymrec.json"
    monkeypatch.setenv("PYTEST_ADDOPTS", f"--gymrec-json {json_path}")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--gymrec-json {json_path} in PYTEST_ADDOPTS: write *=*"])
    monkeypatch.setenv("PYTEST_ADDOPTS", f"--gymrec-json={json_path}")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert json.loads(json_path.read_text())["schema"] == 1


def test_a_path_after_double_dash_is_a_test_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_named_like_a_flag=READS_THE_INI)
    pytester.makeini(INI_SEEDS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--", "test_named_like_a_flag.py"
    )
    result.assert_outcomes(passed=1)


# -- huge counts ---------------------------------------------------------------------------------

#: Each case: files of the project, command-line arguments, and what the error must say (the
#: value and where it came from). Before the caps: OverflowError, MemoryError, INTERNALERROR.
HUGE = {
    "flag 2**64": (
        {},
        ["--gymrec-seeds=18446744073709551616"],
        "*argument --gymrec-seeds: 18446744073709551616 seeds is more than the 1_000_000 "
        "episodes a test may run*",
    ),
    "flag 10**9": (
        {},
        ["--gymrec-seeds=1000000000"],
        "*argument --gymrec-seeds: 1000000000 seeds is more than the 1_000_000*",
    ),
    "flag range": (
        {},
        ["--gymrec-seeds=0-4294967296"],
        "*argument --gymrec-seeds: seed 4294967296 is larger than 4294967295 (2**32 - 1)*",
    ),
    "flag 5000 digits": (
        {},
        ["--gymrec-seeds=1," + "9" * 5000],
        "*argument --gymrec-seeds: 999999999999... (5000 digits) is far too large*",
    ),
    "ini 2**64": (
        {"ini": "[pytest]\ngymrec_seeds = 18446744073709551616\n"},
        [],
        "*ini option gymrec_seeds in *tox.ini = '18446744073709551616': 18446744073709551616 "
        "seeds is more than*",
    ),
    "ini max_episodes": (
        {"ini": "[pytest]\ngymrec_max_episodes = 1000000000\n"},
        [],
        "*ini option gymrec_max_episodes in *tox.ini = '1000000000': 1000000000 must be at most "
        "1_000_000*",
    ),
    "marker 2**64": (
        {"marker": "seeds=2**64"},
        [],
        "*@pytest.mark.gymrec on test_huge.py::test_huge: seeds=18446744073709551616: "
        "18446744073709551616 seeds is more than*",
    ),
    "marker range": (
        {"marker": "seeds=range(10**9)"},
        [],
        "*@pytest.mark.gymrec on test_huge.py::test_huge: seeds=range(0, 1000000000): "
        "range(0, 1000000000) holds more than the 1_000_000 seeds*",
    ),
    "marker range 2**64": (
        {"marker": "seeds=range(2**64)"},
        [],
        "*seeds=range(0, 18446744073709551616): * holds more than the 1_000_000 seeds*",
    ),
    "marker big seed": (
        {"marker": "seeds=[1, 10**5000]"},
        [],
        "*seeds=<list of 2 items whose repr() raised ValueError>: seed a 5001-digit number is "
        "larger than 4294967295*",
    ),
    "marker num_envs": (
        {"marker": "num_envs=10**9"},
        [],
        "*@pytest.mark.gymrec on test_huge.py::test_huge: num_envs=1000000000: 1000000000 must "
        "be at most 1_000_000*",
    ),
    "marker alpha": (
        {"marker": "alpha=10**400"},
        [],
        "*alpha=a 401-digit number: alpha a 401-digit number must be in (0, 0.5]*",
    ),
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_a_huge_count_is_a_usage_error_naming_value_and_source(
    pytester: pytest.Pytester, case: str
) -> None:
    files, args, says = HUGE[case]
    if "ini" in files:
        pytester.makeini(files["ini"])
    pytester.makepyfile(
        test_huge=f"""
        import pytest

        @pytest.mark.gymrec({files.get("marker", "")})
        def test_huge(gymrec):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])
    output = result.stdout.str() + result.stderr.str()
    for crash in ("INTERNALERROR", "Traceback", "OverflowError", "MemoryError"):
        assert crash not in output


def test_huge_counts_in_a_call_fail_the_test_with_a_short_message(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_calls="""
        import pytest

        def test_evaluate(gymrec):
            gymrec.evaluate("CartPole-v1", lambda obs: 0, seeds=10**9)

        @pytest.mark.gymrec(bounds=(0, 500))
        def test_sequential_past_the_last_seed(gymrec):
            gymrec.assert_return(
                "CartPole-v1", lambda obs: 0, at_least=400, tolerance=0.1,
                seeds=[4294967290], max_episodes=10,
            )
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gymrec-video=off")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E * gymrec.evaluate(): seeds=1000000000: 1000000000 seeds is more than the "
            "1_000_000 episodes a test may run*",
            "E * gymrec.assert_return(): with max_episodes=10 (from gymrec.assert_return()), "
            "seeds would count up from those of gymrec.assert_return() to 4294967299, past "
            "4294967295, the largest seed*",
        ]
    )
    assert "MemoryError" not in result.stdout.str()


def test_the_caps_are_inclusive() -> None:
    assert len(settings.parse_seeds(str(settings.MAX_EPISODES))) == settings.MAX_EPISODES
    with pytest.raises(ValueError, match="1000001 seeds is more than the 1_000_000"):
        settings.parse_seeds(str(settings.MAX_EPISODES + 1))
    assert settings.parse_seeds(f"0,{settings.MAX_SEED}") == (0, settings.MAX_SEED)
    assert settings.coerce_seeds([settings.MAX_SEED]) == (settings.MAX_SEED,)
    with pytest.raises(ValueError, match="seed 4294967296 is larger"):
        settings.coerce_seeds([settings.MAX_SEED + 1])
    with pytest.raises(ValueError, match="holds more than the 1_000_000 seeds"):
        settings.coerce_seeds(iter(range(settings.MAX_EPISODES + 1)))  # not Sized: counted
    assert settings.SETTINGS["max_episodes"].coerce("1000000") == settings.MAX_EPISODES
    assert settings.SETTINGS["num_envs"].coerce(settings.MAX_EPISODES) == settings.MAX_EPISODES
    assert settings.SETTINGS["max_videos"].coerce("10000000000") == 10**10  # means "all"


# -- short tracebacks ----------------------------------------------------------------------------

USAGE_ERRORS = """
import pytest

def good(obs):
    return int(obs[2] + 0.5 * obs[3] > 0)

def test_unknown_env(gymrec):
    gymrec.evaluate("CartPol-v1", good, seeds=2)

def test_invalid_action(gymrec):
    gymrec.evaluate("CartPole-v1", lambda obs: 7, seeds=2)

def test_sequential_without_bounds(gymrec):
    gymrec.assert_return("CartPole-v1", good, at_least=400, tolerance=0.1)

def divide(obs):
    return 1 / 0

def test_policy_raises(gymrec):
    gymrec.evaluate("CartPole-v1", lambda obs: divide(obs), seeds=2)
"""

#: The message and the user's line each failure section must end with.
ENDINGS = {
    "test_unknown_env": (
        'gymrec.evaluate("CartPol-v1", good, seeds=2)',
        "GymrecEnvError: gymrec.evaluate(): cannot make env 'CartPol-v1': Environment `CartPol` "
        "doesn't exist. Did you mean: `CartPole`?",
    ),
    "test_invalid_action": (
        'gymrec.evaluate("CartPole-v1", lambda obs: 7, seeds=2)',
        "GymrecPolicyError: CartPole-v1: the policy's action at step 1 of the episode for seed 0 "
        "is 7, outside the action space Discrete(2)",
    ),
    "test_sequential_without_bounds": (
        'gymrec.assert_return("CartPole-v1", good, at_least=400, tolerance=0.1)',
        "GymrecUsageError: gymrec.assert_return(): bounds=(lo, hi) are required",
    ),
    "test_policy_raises": (
        'gymrec.evaluate("CartPole-v1", lambda obs: divide(obs), seeds=2)',
        "GymrecPolicyError: CartPole-v1: the policy raised ZeroDivisionError: division by zero",
    ),
}


def failure_sections(output: str) -> dict[str, list[str]]:
    """Each failing test's traceback section: the lines under its ``___ name ___`` header up
    to the next header, its gymrec section or the end of the failures."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        header = re.fullmatch(r"_{3,} (\S+) _{3,}", line)
        if header:
            current = sections.setdefault(header.group(1), [])
        elif re.match(r"^(-{3,} gymrec -{3,}|={3,} )", line):
            current = None
        elif current is not None:
            current.append(line)
    return sections


@pytest.mark.xdist_matters("the report, and its traceback, is made on a worker")
def test_usage_errors_show_the_users_line_and_the_message(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(test_usage=USAGE_ERRORS)
    result = run_pytest("--gymrec-video=off")
    result.assert_outcomes(failed=4)
    sections = failure_sections(result.stdout.str())
    assert set(sections) == set(ENDINGS)
    for name, (call, message) in ENDINGS.items():
        lines = [line for line in sections[name] if line.strip()]
        assert len(lines) < 25, (name, lines)
        text = "\n".join(lines)
        # Neither the plugin's frames nor Gymnasium's: 109 lines for an unknown id before.
        assert "site-packages" not in text, (name, text)
        assert "pytest_gymrec/" not in text, (name, text)
        # The last frame shown is the test's own call, then the message, then where it was.
        marked = [line for line in lines if line.startswith(">")]
        assert marked[-1].lstrip(">").strip() == call, (name, lines)
        after = lines[lines.index(marked[-1]) + 1 :]
        shown = " ".join(line.removeprefix("E").strip() for line in after if line.startswith("E"))
        assert shown.startswith("pytest_gymrec.errors." + message), (name, lines)
        assert after[-1].startswith("test_usage.py:"), (name, lines)
    # A policy's own exception went through the user's code: its frames stay, chained above.
    policy = "\n".join(sections["test_policy_raises"])
    assert "return 1 / 0" in policy
    assert "E       ZeroDivisionError: division by zero" in policy
    assert "The above exception was the direct cause of the following exception:" in policy


def test_full_trace_keeps_every_frame(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_usage=USAGE_ERRORS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--gymrec-video=off", "--full-trace", "-k", "unknown_env"
    )
    result.assert_outcomes(failed=1, deselected=3)
    output = result.stdout.str()
    assert "gymnasium/envs/registration.py" in output  # Gymnasium's NameNotFound, chained
    assert "pytest_gymrec/fixture.py" in output


def frames(exc: BaseException) -> list[str]:
    names = []
    traceback = exc.__traceback__
    while traceback is not None:
        names.append(Path(traceback.tb_frame.f_code.co_filename).name)
        traceback = traceback.tb_next
    return names


def test_only_the_plugins_own_errors_are_shortened() -> None:
    with pytest.raises(GymrecUsageError) as usage:
        settings.defaults().layered("a marker", {"alpha": 2})
    assert frames(usage.value) == ["test_reliability.py", "settings.py", "settings.py"]
    assert shorten(usage.value)
    assert frames(usage.value) == ["test_reliability.py"]
    # Any other exception raised in the plugin's code (a bug) keeps every frame.
    with pytest.raises(ValueError, match="'x' is not a seed") as bug:
        settings.SETTINGS["seeds"].coerce("x")
    before = frames(bug.value)
    assert not shorten(bug.value)
    assert frames(bug.value) == before == ["test_reliability.py", "settings.py", "settings.py"]


# -- reruns --------------------------------------------------------------------------------------

NEW_BASELINE = """
from policies import balance

def test_new(gymrec):
    gymrec.assert_no_regression(gymrec.evaluate("CartPole-v1", balance, seeds=4))
"""


@pytest.mark.usefixtures("policies")
@pytest.mark.xdist_matters("the rerun runs on a worker, whose session set must remember the file")
def test_a_rerun_of_a_created_baseline_still_fails(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    """pytest-rerunfailures reruns a test in the same session: the baseline its first attempt
    wrote has not been reviewed, so the rerun must not pass against it."""
    pytester.makepyfile(test_new=NEW_BASELINE)
    result = run_pytest("--reruns=1", "--gymrec-video=off")
    assert result.parseoutcomes() == {"failed": 1, "rerun": 1}
    created = pytester.path / "gymrec_baselines" / "test_new" / "test_new.json"
    assert json.loads(created.read_text())["episodes"]
    # Reviewed and committed, the next session compares against it and passes.
    again = run_pytest("--reruns=1", "--gymrec-video=off")
    assert again.parseoutcomes() == {"passed": 1}
