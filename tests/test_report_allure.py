"""Allure: videos and plots attached to their test, verdict numbers as parameters.

Real runs of allure-pytest through pytester; the result files it writes are read back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.report.allure import attach

#: What plugin.py's makereport wrapper does with this module, as a conftest. It records what
#: attach() returned, so a run without --alluredir can be checked too.
BRIDGE = """
import pytest
from pytest_gymrec.report import allure, plots

@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: runs after gymrec's wrapper
def pytest_runtest_makereport(item, call):
    report = yield
    data = getattr(report, "gymrec", None)
    if report.when != "call" or not isinstance(data, dict):
        return report
    root = item.config.invocation_params.dir
    plot = root / f"{item.name}-curve.png"
    plot.write_bytes(plots.learning_curve_png(data["episodes"], []))
    files = [root / video["path"] for video in data.get("videos", []) if video["path"]]
    attached = allure.attach([*files, plot], data["verdicts"])
    (root / f"attached-{item.name}.txt").write_text(str(attached))
    return report
"""

TESTS = """
import pytest
from policies import balance, push_left

@pytest.mark.gymrec(seeds=range(4), bounds=(0, 500))
def test_broken(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)

@pytest.mark.gymrec(seeds=range(8), bounds=(0, 500))
def test_good(gymrec):
    gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=450)
"""


def results(folder: Path) -> dict[str, dict[str, Any]]:
    """allure-pytest's test results by test name."""
    found = {}
    for path in folder.glob("*-result.json"):
        result = json.loads(path.read_text())
        found[str(result["name"])] = result
    return found


@pytest.mark.usefixtures("policies")
def test_allure_results_hold_the_videos_the_plot_and_the_numbers(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(BRIDGE)
    pytester.makepyfile(test_agent=TESTS)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--alluredir=allure-results")
    run.assert_outcomes(passed=1, failed=1)
    assert (pytester.path / "attached-test_broken.txt").read_text() == "4"
    assert (pytester.path / "attached-test_good.txt").read_text() == "1"
    folder = pytester.path / "allure-results"
    found = results(folder)
    broken = found["test_broken"]
    assert broken["status"] == "failed"

    attachments = broken["attachments"]
    assert sorted(a["type"] for a in attachments) == ["image/png", *["video/mp4"] * 3]
    videos = pytester.path / "gymrec-results" / "test_agent.py-test_broken"
    for attachment in attachments:
        made = videos if attachment["type"] == "video/mp4" else pytester.path
        assert (folder / attachment["source"]).read_bytes() == (
            made / attachment["name"]
        ).read_bytes()

    parameters = {p["name"]: p for p in broken["parameters"]}
    assert parameters["gymrec.verdict"]["value"] == "'fail'"
    assert float(parameters["gymrec.alpha"]["value"]) == 0.01
    assert 0 <= float(parameters["gymrec.low"]["value"]) <= 500
    # Excluded from Allure's history id: a rerun with other numbers is the same test.
    assert all(p.get("excluded") is True for p in parameters.values())

    good = found["test_good"]
    assert good["status"] == "passed"
    assert [a["name"] for a in good["attachments"]] == ["test_good-curve.png"]
    assert {p["name"] for p in good["parameters"]} >= {"gymrec.verdict", "gymrec.high"}


@pytest.mark.usefixtures("policies")
def test_without_alluredir_nothing_is_attached(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BRIDGE)
    pytester.makepyfile(test_agent=TESTS)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "test_good")
    run.assert_outcomes(passed=1)
    assert (pytester.path / "test_good-curve.png").is_file()
    assert (pytester.path / "attached-test_good.txt").read_text() == "0"


def test_a_file_that_is_neither_video_nor_plot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GymrecUsageError, match=r"'.*notes\.txt' is neither a video"):
        attach([tmp_path / "seed-1.mp4", tmp_path / "notes.txt"], [])
