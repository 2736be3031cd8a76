"""Unit tests of baseline files (pytest_gymrec.baseline): location, format, writes, errors."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from pytest_gymrec import baseline, settings
from pytest_gymrec.baseline import Baseline, BaselineEpisode
from pytest_gymrec.errors import GymrecBaselineError, GymrecUsageError
from pytest_gymrec.plugin import GymrecSession

TEST_FILE = Path("/project/tests/test_agent.py")


def make_baseline(returns: dict[int, float] | None = None, **overrides: Any) -> Baseline:
    returns = {0: 500.0, 1: 212.5, 2: -3.25} if returns is None else returns
    fields: dict[str, Any] = {
        "env": "CartPole-v1",
        "env_spec": {
            "id": "CartPole-v1",
            "version": 1,
            "max_episode_steps": 500,
            "kwargs": {"sutton_barto_reward": False},
            "additional_wrappers": [],
        },
        "episodes": tuple(
            BaselineEpisode(seed, value, int(abs(value))) for seed, value in returns.items()
        ),
        "bounds": (0.0, 500.0),
        "versions": {"gymnasium": "1.0.0", "pytest-gymrec": "0.1.0"},
        "test": "tests/test_agent.py::test_agent",
    }
    fields.update(overrides)
    return Baseline(**fields)


# -- where baselines live ----------------------------------------------------------------------


def test_path_of_a_plain_test() -> None:
    path = baseline.baseline_path(TEST_FILE, "tests/test_agent.py::test_holds")
    assert path == Path("/project/tests/gymrec_baselines/test_agent/test_holds.json")


def test_path_ignores_where_pytest_was_started() -> None:
    from_root = baseline.baseline_path(TEST_FILE, "tests/test_agent.py::test_holds")
    from_tests = baseline.baseline_path(TEST_FILE, "test_agent.py::test_holds")
    assert from_root == from_tests


def test_path_of_a_method_and_a_parametrization() -> None:
    path = baseline.baseline_path(TEST_FILE, "tests/test_agent.py::TestPPO::test_holds[v1-0.5]")
    assert path.name == "TestPPO.test_holds[v1-0.5].json"
    assert path.parent == Path("/project/tests/gymrec_baselines/test_agent")


def test_path_with_a_name() -> None:
    path = baseline.baseline_path(TEST_FILE, "test_agent.py::test_holds[a]", name="hard-levels")
    assert path.name == "test_holds[a]-hard-levels.json"


def test_unsafe_ids_are_sanitised_and_stay_distinct() -> None:
    slash = baseline.baseline_path(TEST_FILE, "test_agent.py::test_x[ppo/lr 1e-3]")
    underscore = baseline.baseline_path(TEST_FILE, "test_agent.py::test_x[ppo_lr_1e-3]")
    assert "/" not in slash.name
    assert " " not in slash.name
    assert re.fullmatch(r"test_x\[ppo-lr-1e-3\]-[0-9a-f]{10}\.json", slash.name)
    assert underscore.name == "test_x[ppo_lr_1e-3].json"
    assert slash.parent == underscore.parent


@pytest.mark.parametrize(
    ("first", "second"), [("-1", "1"), ("a--b", "a-b"), ("c.", "c"), ("..", ".")]
)
def test_ids_that_differ_only_in_punctuation_get_their_own_files(first: str, second: str) -> None:
    one = baseline.baseline_path(TEST_FILE, f"test_agent.py::test_x[{first}]")
    other = baseline.baseline_path(TEST_FILE, f"test_agent.py::test_x[{second}]")
    assert one != other
    named = baseline.baseline_path(TEST_FILE, "test_agent.py::test_x", name=first)
    assert named != baseline.baseline_path(TEST_FILE, "test_agent.py::test_x", name=second)


def test_a_name_never_reads_as_another_tests_file() -> None:
    with_name = baseline.baseline_path(TEST_FILE, "test_agent.py::test_x[a]", name="b")
    with_parameter = baseline.baseline_path(TEST_FILE, "test_agent.py::test_x[a]-b")
    plain_name = baseline.baseline_path(TEST_FILE, "test_agent.py::test_x", name="b")
    dashed_test = baseline.baseline_path(TEST_FILE, "test_agent.py::test_x-b")
    assert len({with_name, with_parameter, plain_name, dashed_test}) == 4
    assert with_name.name == "test_x[a]-b.json"
    assert plain_name.name == "test_x-b.json"


def test_long_ids_are_cut_but_stay_distinct() -> None:
    first = baseline.baseline_path(TEST_FILE, f"test_agent.py::test_x[{'a' * 300}1]")
    second = baseline.baseline_path(TEST_FILE, f"test_agent.py::test_x[{'a' * 300}2]")
    assert first != second
    assert len(first.name) <= baseline.LONGEST_NAME + len(".json")


def test_names_are_checked() -> None:
    assert baseline.check_name(None, "the call") is None
    assert baseline.check_name("hard", "the call") == "hard"
    for bad in ("", "  ", 3):
        with pytest.raises(GymrecBaselineError, match="non-empty string"):
            baseline.check_name(bad, "the call")


# -- the text format ---------------------------------------------------------------------------


def test_text_round_trips() -> None:
    original = make_baseline()
    assert baseline.from_text(baseline.to_text(original)) == original


def test_text_is_plain_json_with_sorted_keys() -> None:
    text = baseline.to_text(make_baseline())
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["schema"] == baseline.SCHEMA_VERSION
    assert text.endswith("\n")


def test_one_episode_per_line_sorted_by_seed() -> None:
    text = baseline.to_text(make_baseline({7: 1.0, 2: 2.0, 5: 3.0}))
    episode_lines = [line.strip().rstrip(",") for line in text.splitlines() if '"seed"' in line]
    assert [json.loads(line)["seed"] for line in episode_lines] == [2, 5, 7]


def test_a_changed_seed_is_a_one_line_diff() -> None:
    before = baseline.to_text(make_baseline({seed: 500.0 for seed in range(50)})).splitlines()
    changed = {seed: 500.0 for seed in range(50)}
    changed[17] = 123.0
    after = baseline.to_text(make_baseline(changed)).splitlines()
    assert len(before) == len(after)
    differing = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(differing) == 1
    assert '"seed": 17' in differing[0][1]


def test_returns_keep_full_precision() -> None:
    value = 0.1 + 0.2  # not representable in a short decimal
    restored = baseline.from_text(baseline.to_text(make_baseline({0: value})))
    assert restored.episodes[0].return_ == value


def test_a_baseline_without_spec_or_bounds() -> None:
    original = make_baseline(env_spec=None, bounds=None)
    assert baseline.from_text(baseline.to_text(original)) == original


# -- reading bad files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{ not json", "is not valid JSON"),
        ("<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> branch\n", "merge-conflict markers"),
        ("[1, 2]", "not an object"),
        ('{"env": "x", "episodes": []}', 'no integer "schema"'),
        ('{"schema": true, "env": "x", "episodes": []}', 'no integer "schema"'),
        ('{"schema": 0, "env": "x", "episodes": []}', "schema 0"),
        ('{"schema": 1, "episodes": []}', '"env"'),
        ('{"schema": 1, "env": "x", "episodes": {}}', '"episodes"'),
        ('{"schema": 1, "env": "x", "episodes": [3]}', "episode 1 of 1"),
        (
            '{"schema": 1, "env": "x", "episodes": [{"seed": -1, "return": 1, "length": 1}]}',
            "seed -1",
        ),
        (
            '{"schema": 1, "env": "x", "episodes": [{"seed": true, "return": 1, "length": 1}]}',
            "seed True",
        ),
        (
            '{"schema": 1, "env": "x", "episodes": [{"seed": 1, "return": 1, "length": 1}, '
            '{"seed": 1, "return": 2, "length": 1}]}',
            "seed 1 twice",
        ),
        (
            '{"schema": 1, "env": "x", "episodes": [{"seed": 1, "return": NaN, "length": 1}]}',
            "not a finite number",
        ),
        (
            '{"schema": 1, "env": "x", "episodes": [{"seed": 1, "return": "5", "length": 1}]}',
            "not a finite number",
        ),
        (
            '{"schema": 1, "env": "x", "episodes": [{"seed": 1, "return": 5, "length": 1.5}]}',
            "length 1.5",
        ),
        ('{"schema": 1, "env": "x", "episodes": [], "bounds": [5, 1]}', '"bounds"'),
        ('{"schema": 1, "env": "x", "episodes": [], "env_spec": 3}', '"env_spec"'),
        ('{"schema": 1, "env": "x", "episodes": [], "versions": {"a": 1}}', '"versions"'),
        # Crafted files: past the parser's recursion limit, past int()'s digit limit, and
        # nested just deep enough to load but not to be written back.
        ('{"schema": 1, "env": "x", "episodes": ' + "[" * 100_000 + "]" * 100_000 + "}", "deep"),
        (
            '{"schema": 1, "env": "x", "episodes": [{"seed": ' + "7" * 5000 + ', "return": 1, '
            '"length": 1}]}',
            "number that cannot be read",
        ),
        (
            '{"schema": 1, "env": "x", "episodes": [], "env_spec": '
            + '{"a": ' * 80
            + "1"
            + "}" * 81,
            "deep",
        ),
    ],
)
def test_bad_files_are_clear_errors_and_left_untouched(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "test_x.json"
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(GymrecBaselineError) as raised:
        baseline.load(path)
    message = str(raised.value)
    assert str(path) in message
    assert problem in message
    assert baseline.UPDATE_FLAG in message
    assert "left untouched" in message
    assert path.read_bytes() == before
    assert isinstance(raised.value, GymrecUsageError)


def test_newer_schema_says_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "test_x.json"
    data = json.loads(baseline.to_text(make_baseline()))
    data["schema"] = baseline.SCHEMA_VERSION + 1
    path.write_text(json.dumps(data), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(GymrecBaselineError, match="newer pytest-gymrec") as raised:
        baseline.load(path)
    assert "upgrade pytest-gymrec" in str(raised.value)
    assert path.read_bytes() == before


def test_binary_garbage_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "test_x.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(GymrecBaselineError, match="not UTF-8"):
        baseline.load(path)


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "test_x.json"
    path.mkdir()  # a folder where the file should be: reading fails on every platform
    with pytest.raises(GymrecBaselineError, match="cannot be read"):
        baseline.load(path)


def test_missing_file_is_none(tmp_path: Path) -> None:
    assert baseline.load(tmp_path / "absent.json") is None


# -- writing -----------------------------------------------------------------------------------


def test_save_creates_then_keeps_then_rewrites(tmp_path: Path) -> None:
    path = tmp_path / "gymrec_baselines" / "test_x" / "test_y.json"
    assert baseline.save(path, make_baseline()) == baseline.Saved.CREATED
    assert baseline.load(path) == make_baseline()
    modified = path.stat().st_mtime_ns
    assert baseline.save(path, make_baseline()) == baseline.Saved.UNCHANGED
    assert path.stat().st_mtime_ns == modified
    assert baseline.save(path, make_baseline({0: 1.0})) == baseline.Saved.REWRITTEN
    assert baseline.load(path) == make_baseline({0: 1.0})
    assert sorted(p.name for p in path.parent.iterdir()) == ["test_y.json"]  # no temp files


def test_save_replaces_a_corrupted_file(tmp_path: Path) -> None:
    path = tmp_path / "test_y.json"
    path.write_text("{ broken", encoding="utf-8")
    assert baseline.save(path, make_baseline()) == baseline.Saved.REWRITTEN
    assert baseline.load(path) == make_baseline()


def assert_only(folder: Path, names: list[str]) -> None:
    assert sorted(path.name for path in folder.iterdir()) == names  # no temporary file left


@pytest.mark.parametrize("failing", ["replace", "write", "fsync"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "test_y.json"
    baseline.save(path, make_baseline())
    before = path.read_bytes()

    def full_disk(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, full_disk)
    with pytest.raises(GymrecBaselineError) as raised:
        baseline.save(path, make_baseline({0: 1.0}))
    monkeypatch.undo()
    assert f"cannot write baseline {path}: No space left on device" in str(raised.value)
    assert path.read_bytes() == before
    assert_only(tmp_path, ["test_y.json"])


def test_a_directory_at_the_baseline_path_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "test_y.json"
    (path / "inside").mkdir(parents=True)
    with pytest.raises(GymrecBaselineError, match="is a directory") as raised:
        baseline.save(path, make_baseline())
    assert str(path) in str(raised.value)
    assert [p.name for p in path.iterdir()] == ["inside"]
    assert_only(tmp_path, ["test_y.json"])


def test_a_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "gymrec_baselines").write_text("a file where the folder should be")
    path = tmp_path / "gymrec_baselines" / "test_x" / "test_y.json"
    with pytest.raises(GymrecBaselineError, match="cannot write baseline") as raised:
        baseline.save(path, make_baseline())
    assert str(path) in str(raised.value)


def test_a_seed_too_long_to_write_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "test_y.json"
    huge = make_baseline({10**5000: 1.0})
    with pytest.raises(GymrecBaselineError, match="cannot be written as JSON"):
        baseline.save(path, huge)
    assert_only(tmp_path, [])


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_a_rewritten_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "test_y.json"
    baseline.save(path, make_baseline())
    path.chmod(mode)
    assert baseline.save(path, make_baseline({0: 1.0})) == baseline.Saved.REWRITTEN
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_new_file_gets_the_umask_default_mode(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "test_y.json"
    previous = os.umask(umask)
    try:
        baseline.save(path, make_baseline())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_link_at_the_temporary_name_is_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = tmp_path / "baselines"
    folder.mkdir()
    path = folder / "test_y.json"
    (folder / f"test_y.json.gymrec-{os.getpid()}.tmp").symlink_to(victim)
    baseline.save(path, make_baseline())
    assert victim.read_text() == "keep me"
    assert baseline.load(path) == make_baseline()
    assert_only(folder, ["test_y.json"])


def test_temporaries_of_processes_that_are_gone_are_removed(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    path = tmp_path / "test_y[a].json"  # a name that is also a glob pattern
    stale = tmp_path / f"test_y[a].json.gymrec-{gone.stdout.strip()}.tmp"
    stale.write_text("left by a killed run")
    alive = tmp_path / f"test_y[a].json.gymrec-{os.getppid()}.tmp"
    alive.write_text("another run, still writing")
    baseline.save(path, make_baseline())
    assert_only(tmp_path, sorted([path.name, alive.name]))


WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from pytest_gymrec import baseline

    def stalled_fsync(handle):
        print("writing", flush=True)
        time.sleep(60)

    os.fsync = stalled_fsync
    baseline.write_atomic(Path(sys.argv[1]), "the new text\\n")
    print("not reached", flush=True)
    """
)


def test_sigterm_mid_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "test_y.json"
    path.write_text("the old text\n")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    try:
        assert writer.stdout.readline() == "writing\n"
        assert len(list(tmp_path.iterdir())) == 2  # the temporary file exists now
        writer.send_signal(signal.SIGTERM)
        assert writer.wait(timeout=30) == -signal.SIGTERM  # still ended by the signal
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    assert path.read_text() == "the old text\n"
    assert_only(tmp_path, ["test_y.json"])


def test_the_rename_is_the_only_moment_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the new text is written, the target still holds the complete old file."""
    path = tmp_path / "test_y.json"
    baseline.save(path, make_baseline())
    old_text = path.read_text(encoding="utf-8")
    seen_at_rename: list[str] = []
    real_replace = os.replace

    def observing_replace(source: str, target: str) -> None:
        seen_at_rename.append(Path(target).read_text(encoding="utf-8"))
        assert Path(source).parent == path.parent  # same folder: a rename, not a copy
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", observing_replace)
    baseline.save(path, make_baseline({0: 1.0}))
    assert seen_at_rename == [old_text]


def test_installed_versions_names_both_packages() -> None:
    versions = baseline.installed_versions()
    assert set(versions) == {"gymnasium", "pytest-gymrec"}
    assert versions["pytest-gymrec"] != "unknown"


# -- messages and the summary ------------------------------------------------------------------


def test_created_message_names_path_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "test_y.json"
    message = baseline.created_message(path, make_baseline(), "pytest t.py --x")
    assert str(path) in message
    assert "review and commit it" in message
    assert "pytest t.py --x" in message


def test_summary_lines_group_by_action(tmp_path: Path) -> None:
    entries = [
        {"path": str(tmp_path / "b.json"), "action": baseline.Saved.REWRITTEN.value},
        {"path": str(tmp_path / "a.json"), "action": baseline.Saved.REWRITTEN.value},
        {"path": str(tmp_path / "c.json"), "action": baseline.Saved.CREATED.value},
        {"path": "/elsewhere/d.json", "action": baseline.Saved.UNCHANGED.value},
    ]
    assert baseline.summary_lines(entries, tmp_path) == [
        "created (review and commit): 1 file",
        "  c.json",
        f"rewritten ({baseline.UPDATE_FLAG}): 2 files",
        "  a.json",
        "  b.json",
        "unchanged: 1 file (identical data)",
    ]
    assert baseline.summary_lines([], tmp_path) == []


def test_session_state_reads_plain_report_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)  # no job summary here, even in CI
    # Stand-ins with only the attributes the session reads (the ignores below): plain data, as
    # reports arrive from xdist workers.
    config = types.SimpleNamespace(
        rootpath=tmp_path, invocation_params=types.SimpleNamespace(dir=tmp_path)
    )
    summary = GymrecSession(config, settings.defaults())  # type: ignore[arg-type]
    entry = {"path": str(tmp_path / "x.json"), "action": baseline.Saved.CREATED.value}
    call = types.SimpleNamespace(
        when="call", outcome="failed", gymrec={"verdicts": [], "baselines": [entry]}
    )
    setup = types.SimpleNamespace(when="setup", gymrec={"baselines": [entry]})
    summary.pytest_runtest_logreport(call)  # type: ignore[arg-type]
    summary.pytest_runtest_logreport(setup)  # type: ignore[arg-type]
    summary.pytest_runtest_logreport(types.SimpleNamespace(when="call"))  # type: ignore[arg-type]
    assert summary.baseline_files == [entry]

    written: list[str] = []
    reporter = types.SimpleNamespace(
        write_sep=lambda sep, title: written.append(f"[{title}]"),
        write_line=written.append,
    )
    summary.pytest_terminal_summary(reporter)
    assert written == ["[gymrec baselines]", "created (review and commit): 1 file", "  x.json"]
