"""JUnit XML: ``[[ATTACHMENT|path]]`` lines Jenkins and GitLab read, numbers as properties."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from helpers.agent_tests import BROKEN_AND_GOOD
from helpers.report_records import paired_record, verdict_record
from pytest_gymrec.report.junit import all_properties, attachment_lines, properties

Run = Callable[..., pytest.RunResult]

ATTACHMENT = re.compile(r"^\[\[ATTACHMENT\|(.+)\]\]$", re.MULTILINE)


@pytest.mark.xdist_matters("attachment lines and properties cross from the workers to junitxml")
@pytest.mark.usefixtures("policies")
def test_jenkins_and_gitlab_find_every_video_and_plot(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(test_agent=BROKEN_AND_GOOD)
    result = run_pytest("--junitxml=out.xml", "-o", "junit_logging=system-out")
    result.assert_outcomes(passed=1, failed=1)
    cases = {
        case.get("name"): case for case in ET.parse(pytester.path / "out.xml").iter("testcase")
    }

    out = "".join(node.text or "" for node in cases["test_broken"].iter("system-out"))
    paths = [Path(text) for text in ATTACHMENT.findall(out)]
    assert sorted(path.suffix for path in paths) == [".mp4", ".mp4", ".mp4", ".png"]
    for path in paths:
        assert path.is_absolute()
        assert path.is_file()
        assert path.is_relative_to(pytester.path / "gymrec-results" / "test_agent.py-test_broken")
    with Image.open(next(path for path in paths if path.suffix == ".png")) as image:
        assert image.size == (720, 400)
    assert not ATTACHMENT.findall(
        "".join(node.text or "" for node in cases["test_good"].iter("system-out"))
    )

    numbers = {
        str(node.get("name")): str(node.get("value"))
        for node in cases["test_broken"].iter("property")
        if node.get("name") in {"gymrec.low", "gymrec.high", "gymrec.alpha"}
    }
    assert set(numbers) == {"gymrec.low", "gymrec.high", "gymrec.alpha"}
    assert float(numbers["gymrec.alpha"]) == 0.01
    assert 0 <= float(numbers["gymrec.low"]) <= float(numbers["gymrec.high"]) <= 500


def test_attachment_paths_are_absolute_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = attachment_lines(["out/seed-3.mp4", tmp_path / "plot.png"])
    assert text.splitlines(keepends=True) == [
        f"[[ATTACHMENT|{tmp_path / 'out' / 'seed-3.mp4'}]]\n",
        f"[[ATTACHMENT|{tmp_path / 'plot.png'}]]\n",
    ]
    assert attachment_lines([]) == ""


def test_relative_paths_resolve_against_the_given_root(tmp_path: Path) -> None:
    """GitLab reads attachment paths relative to the project directory."""
    project = tmp_path / "project"
    video = project / "gymrec-results" / "test_a.py-test_b" / "seed-3.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\x00")
    outside = tmp_path / "elsewhere.png"
    lines = ATTACHMENT.findall(attachment_lines([video, outside], relative_to=project))
    assert lines == ["gymrec-results/test_a.py-test_b/seed-3.mp4", str(outside)]
    assert (project / lines[0]).is_file()


def test_a_newline_in_a_file_name_cannot_end_the_marker(tmp_path: Path) -> None:
    text = attachment_lines([tmp_path / "a\nb.mp4"])
    assert ATTACHMENT.findall(text) == [str(tmp_path / "a b.mp4")]


def test_properties_carry_the_numbers_as_numbers() -> None:
    found = dict(properties(verdict_record(tolerance=0.1)))
    assert found["gymrec.line"] == 475.0
    assert found["gymrec.low"] == 180.25
    assert found["gymrec.high"] == 340.5
    assert found["gymrec.tolerance"] == 0.1
    assert found["gymrec.alpha"] == 0.01
    assert found["gymrec.detectable_drop"] == 61.25
    assert found["gymrec.mean"] == pytest.approx(262.5)
    assert found["gymrec.episodes"] == 20
    assert found["gymrec.verdict"] == "fail"
    assert found["gymrec.check"] == "CartPole-v1: mean return >= 475"
    assert found["gymrec.detects"] == "drops >= 61.25"
    assert found["gymrec.interval"] == "[180.25, 340.5]"
    assert "gymrec.margin" not in found


def test_unbounded_ends_and_missing_numbers_are_left_out() -> None:
    """JUnit readers parse values as floats; Java's parser refuses "inf"."""
    found = dict(properties(paired_record()))
    assert found["gymrec.margin"] == 25.0
    assert found["gymrec.mean"] == -64.5  # the mean change: (-380 - 440 - 470) / 20
    assert "gymrec.low" not in found  # -inf in memory; None once through strict JSON
    assert "gymrec.line" not in found
    assert found["gymrec.interval"] == "[-inf, -26.5]"
    assert dict(properties(paired_record(low=None))) == found
    for name, value in found.items():
        if isinstance(value, float):
            assert math.isfinite(value), name


def test_several_verdicts_are_numbered_as_in_0_1_0() -> None:
    one = all_properties([verdict_record()])
    assert {name.split(".")[0] for name, _ in one} == {"gymrec"}
    two = all_properties([verdict_record(), paired_record()])
    assert {name.split(".")[0] for name, _ in two} == {"gymrec[0]", "gymrec[1]"}
    assert dict(two)["gymrec[1].margin"] == 25.0


def test_the_method_says_when_a_verdict_is_only_approximate() -> None:
    exact = dict(properties(verdict_record()))
    assert not str(exact["gymrec.method"]).endswith("(approximate)")
    t_test = dict(properties({**verdict_record(), "method": "Student t", "approximate": True}))
    assert t_test["gymrec.method"] == "Student t (approximate)"
