"""The hooks a conftest implements to send episodes, verdicts and videos to a tracker: called
where the test runs (xdist workers too), never able to change an outcome; and the README's
TensorBoard recipe run for real (tensorboardX writes event files offline, read back here)."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., pytest.RunResult]

LOGGING_CONFTEST = """
import json, os

def _log(kind, **fields):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"hooks-{worker}.jsonl", "a") as stream:
        stream.write(json.dumps({"kind": kind, "worker": worker, **fields}) + "\\n")

def pytest_gymrec_episode(item, episode):
    _log("episode", test=item.name, seed=episode.seed, ret=episode.return_)

def pytest_gymrec_verdict(item, verdict):
    _log("verdict", test=item.name, outcome=verdict.outcome.value, check=verdict.check)

def pytest_gymrec_video(item, path, episode):
    _log("video", test=item.name, path=str(path), exists=path.is_file(),
         seed=None if episode is None else episode.seed)
"""

TESTS = """
import pytest
from policies import balance, push_left

@pytest.mark.gymrec(seeds=range(8), bounds=(0, 500), max_videos=2)
def test_good(gymrec):
    gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=450)

@pytest.mark.gymrec(seeds=range(5), bounds=(0, 500), max_videos=2)
def test_broken(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)
"""


def logged(pytester: pytest.Pytester) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(pytester.path.glob("hooks-*.jsonl"))
        for line in path.read_text().splitlines()
    ]


@pytest.mark.xdist_matters("the hooks run on the workers, where the tests run")
def test_hooks_see_every_episode_verdict_and_video(
    pytester: pytest.Pytester, run_pytest: Run, policies: None, xdist_args: tuple[str, ...]
) -> None:
    pytester.makeconftest(LOGGING_CONFTEST)
    pytester.makepyfile(test_agent=TESTS)
    run_pytest().assert_outcomes(passed=1, failed=1)
    events = logged(pytester)
    episodes = [e for e in events if e["kind"] == "episode"]
    assert sorted((e["test"], e["seed"]) for e in episodes) == sorted(
        [("test_good", s) for s in range(8)] + [("test_broken", s) for s in range(5)]
    )
    verdicts = {e["test"]: e["outcome"] for e in events if e["kind"] == "verdict"}
    assert verdicts == {"test_good": "pass", "test_broken": "fail"}
    videos = [e for e in events if e["kind"] == "video"]
    # Only the failing test films, two episodes, and each file is complete when announced.
    assert [e["test"] for e in videos] == ["test_broken", "test_broken"]
    assert all(e["exists"] and str(e["path"]).endswith(".mp4") for e in videos)
    assert all(isinstance(e["seed"], int) for e in videos)
    if xdist_args:  # called where the test runs: on the workers
        assert {e["worker"] for e in events} <= {"gw0", "gw1"}


def test_a_hook_that_raises_changes_no_outcome(pytester: pytest.Pytester, policies: None) -> None:
    pytester.makeconftest(
        "def pytest_gymrec_verdict(item, verdict):\n    raise ConnectionError('tracker down')\n"
    )
    pytester.makepyfile(test_agent=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "pytest_gymrec_verdict hook raised ConnectionError: tracker down" in output
    assert "the test's outcome is unchanged" in output


TENSORBOARD_CONFTEST = """
from tensorboardX import SummaryWriter

_writers = {}

def _writer(item):
    if item.nodeid not in _writers:
        _writers[item.nodeid] = SummaryWriter(logdir=f"runs/{item.name}")
    return _writers[item.nodeid]

def pytest_gymrec_episode(item, episode):
    writer = _writer(item)
    writer.add_scalar("episode/return", episode.return_, global_step=episode.seed)
    writer.flush()

def pytest_gymrec_verdict(item, verdict):
    writer = _writer(item)
    writer.add_scalar("verdict/mean", verdict.mean, global_step=0)
    writer.add_text("verdict/message", verdict.message, global_step=0)
    writer.flush()
"""


def scalars(event_file: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars in a TensorBoard event file (TFRecord framing: length, crc, data, crc)."""
    from tensorboardX.proto import event_pb2

    found: dict[str, list[tuple[int, float]]] = {}
    data = event_file.read_bytes()
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        record = data[offset + 12 : offset + 12 + length]
        offset += 12 + length + 4
        event = event_pb2.Event()
        event.ParseFromString(record)
        for value in event.summary.value:
            if value.HasField("simple_value"):
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def test_tensorboard_recipe_writes_returns_and_verdicts(
    pytester: pytest.Pytester, policies: None
) -> None:
    pytest.importorskip("tensorboardX")
    pytester.makeconftest(TENSORBOARD_CONFTEST)
    pytester.makepyfile(test_agent=TESTS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1, failed=1)
    good = scalars(next((pytester.path / "runs" / "test_good").glob("events.out.tfevents.*")))
    assert [step for step, _ in good["episode/return"]] == list(range(8))
    assert all(value > 400 for _, value in good["episode/return"])
    assert good["verdict/mean"][0][1] > 400
    broken = scalars(next((pytester.path / "runs" / "test_broken").glob("events.out.*")))
    assert len(broken["episode/return"]) == 5
    assert broken["verdict/mean"][0][1] < 50
