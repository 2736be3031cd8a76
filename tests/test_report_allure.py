"""Allure: videos and plots attached to their test, verdict numbers as parameters.

Real runs of allure-pytest through pytester; the result files it writes are read back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers.agent_tests import BROKEN_AND_GOOD
from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.report.allure import attach


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
    pytester.makepyfile(test_agent=BROKEN_AND_GOOD)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--alluredir=allure-results")
    run.assert_outcomes(passed=1, failed=1)
    folder = pytester.path / "allure-results"
    found = results(folder)
    broken = found["test_broken"]
    assert broken["status"] == "failed"

    attachments = broken["attachments"]
    assert sorted(a["type"] for a in attachments) == ["image/png", *["video/mp4"] * 3]
    videos = pytester.path / "gymrec-results" / "test_agent.py-test_broken"
    assert {a["name"] for a in attachments} >= {"verdict-0.png"}
    for attachment in attachments:
        made = videos  # the failure videos and the plot of the failing verdict
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
    assert good.get("attachments", []) == []  # a passing test is neither filmed nor plotted
    assert {p["name"] for p in good["parameters"]} >= {"gymrec.verdict", "gymrec.high"}


@pytest.mark.usefixtures("policies")
def test_without_alluredir_nothing_is_attached(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=BROKEN_AND_GOOD)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "test_broken")
    run.assert_outcomes(failed=1)
    # allure-pytest is installed but not writing results: the videos and plot are made as
    # usual and nothing else happens (no allure folder, no error in the section).
    assert (
        pytester.path / "gymrec-results" / "test_agent.py-test_broken" / "verdict-0.png"
    ).is_file()
    assert not (pytester.path / "allure-results").exists()
    assert "allure attachments missing" not in run.stdout.str()


def test_a_file_that_is_neither_video_nor_plot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GymrecUsageError, match=r"'.*notes\.txt' is neither a video"):
        attach([tmp_path / "seed-1.mp4", tmp_path / "notes.txt"], [])
