"""The reports people read, checked end to end (issue 12): real pytest runs through pytester,
then each report read back the way its reader does: the terminal at 80 and 100 columns, the
GitHub job summary rendered as GitHub renders it, the JSON summary by a strict parser, JUnit
attachment lines as Jenkins and GitLab resolve them, and the pytest-html report in headless
Chromium (the plot decoded, the video playing)."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from helpers import browser
from helpers.github_markdown import rendered
from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.report.github import COLUMNS

Run = Callable[..., pytest.RunResult]

pytestmark = pytest.mark.usefixtures("policies")

#: A passing and a failing test (no videos: these tests read the tables, not the films).
TWO_TESTS = """
import pytest
from policies import balance, push_left

pytestmark = pytest.mark.gymrec(seeds=6, bounds=(0, 500), video="off")

def test_good(gymrec):
    gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=450)

def test_broken(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=450)
"""


def section(output: str, title: str) -> list[str]:
    """The lines of the ``=== title ===`` section of pytest's output, up to the next one."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(rf"=+ {title} =+", line))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.fullmatch(r"=+ .* =+", lines[i])),
        len(lines),
    )
    return lines[start + 1 : end]


# -- the terminal table --------------------------------------------------------------------------

#: Six tests with long ids; the first sleeps so that under ``-n 2`` the others finish first.
SIX_TESTS = """
import time
import pytest
from policies import balance, push_left

CASES = ["first-and-slowest", "second", "third-broken", "fourth", "fifth", "sixth"]

@pytest.mark.gymrec(seeds=4, bounds=(0, 500), video="off")
@pytest.mark.parametrize("case", CASES)
def test_an_agent_with_a_rather_long_descriptive_name_for_the_table(gymrec, case):
    if case == "first-and-slowest":
        time.sleep(1.5)
    policy = push_left if case == "third-broken" else balance
    gymrec.evaluate("CartPole-v1", policy).assert_return(at_least=400)
"""
CASES = ["first-and-slowest", "second", "third-broken", "fourth", "fifth", "sixth"]


@pytest.mark.parametrize("width", [80, 100])
def test_the_verdict_table_fits_the_terminal_in_collection_order(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    pytester.makepyfile(test_table=SIX_TESTS)
    monkeypatch.setenv("COLUMNS", str(width))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=5, failed=1)
    table = section(result.stdout.str(), "gymrec verdicts")
    assert table, result.stdout.str()
    for line in table:
        assert len(line) <= width, (width, line)
    # Completion order puts the slow first case late; the table keeps collection order.
    order = [case for line in table for case in CASES if f"[{case}]" in line]
    assert order == CASES, table
    broken = next(i for i, line in enumerate(table) if "[third-broken]" in line)
    assert " fail " in " ".join(table[broken : broken + 3])


# -- the GitHub job summary ----------------------------------------------------------------------


def check_summary(path: Path, earlier: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith(earlier)  # other steps' summaries are kept: the table is appended
    [table] = rendered(text).tables
    assert table[0] == list(COLUMNS)
    rows = {row[0]: row for row in table[1:]}
    assert set(rows) == {"test_two.py::test_good", "test_two.py::test_broken"}
    verdict = COLUMNS.index("verdict")
    assert rows["test_two.py::test_good"][verdict].startswith("pass")
    assert rows["test_two.py::test_broken"][verdict].startswith("fail")
    assert rows["test_two.py::test_broken"][COLUMNS.index("episodes")] == "6"


@pytest.mark.xdist_matters("the controller writes the summary once, from the workers' reports")
def test_the_github_summary_goes_where_github_actions_says(
    pytester: pytest.Pytester, run_pytest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_two=TWO_TESTS)
    summary = pytester.path / "step-summary.md"
    earlier = "## Lint\n\nall good\n"
    summary.write_text(earlier, encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run_pytest().assert_outcomes(passed=1, failed=1)
    check_summary(summary, earlier)  # written once, by the controller under -n 2


@pytest.mark.parametrize("where", ["flag", "ini"])
def test_the_github_summary_setting_wins_over_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    pytester.makepyfile(test_two=TWO_TESTS)
    from_environment = pytester.path / "from-environment.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(from_environment))
    args = ["-p", "no:cacheprovider"]
    if where == "flag":
        args.append("--gymrec-github-summary=reports/summary.md")
    else:
        pytester.makeini("[pytest]\ngymrec_github_summary = reports/summary.md\n")
    (pytester.path / "reports").mkdir()
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1, failed=1)
    check_summary(pytester.path / "reports" / "summary.md", "")
    assert not from_environment.exists()


def test_an_unwritable_summary_is_reported_and_the_outcome_kept(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_two=TWO_TESTS.replace("push_left).", "balance)."))
    (pytester.path / "a-folder").mkdir()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--gymrec-github-summary=a-folder"
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["cannot append the GitHub job summary to *a-folder* (from --gymrec-github-summary)*"]
    )


@pytest.mark.parametrize("name", ["github_summary", "junit_attachment_root"])
def test_report_settings_are_session_wide(name: str) -> None:
    flag = settings.SETTINGS[name].flag
    with pytest.raises(GymrecUsageError, match=rf"covers the whole session: .*\({flag}="):
        settings.defaults().layered("@pytest.mark.gymrec on t", {name: "x"})
    with pytest.raises(GymrecUsageError, match="is empty"):
        settings.from_text(settings.defaults(), lambda setting: "ini", {name: " "})


# -- the JSON summary ----------------------------------------------------------------------------


def refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON (RFC 8259): strict parsers refuse it")


def numbers_in(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [number for item in value.values() for number in numbers_in(item)]
    if isinstance(value, list):
        return [number for item in value for number in numbers_in(item)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


@pytest.mark.xdist_matters("the verdicts reach the controller as JSON from the workers")
def test_the_json_summary_is_strict_json(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_json="""
        import pytest
        from policies import balance, push_left

        @pytest.mark.gymrec(seeds=8, video="off")
        def test_quantile(gymrec):
            # 8 episodes cannot bound a 10th percentile from below: the interval starts at -inf.
            gymrec.evaluate("CartPole-v1", balance).assert_quantile(0.1, at_least=20)

        @pytest.mark.gymrec(seeds=6, bounds=(0, 500), video="off")
        def test_broken(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=450)
        """
    )
    run_pytest("--gymrec-json=gymrec.json").assert_outcomes(passed=1, failed=1)
    text = (pytester.path / "gymrec.json").read_text(encoding="utf-8")
    document = json.loads(text, parse_constant=refuse_constant)
    tests = {entry["nodeid"]: entry for entry in document["tests"]}
    [quantile] = tests["test_json.py::test_quantile"]["verdicts"]
    assert quantile["kind"] == "quantile"
    assert quantile["low"] is None  # -inf: no number says "unbounded" in JSON
    assert quantile["high"] == pytest.approx(500.0)
    [broken] = tests["test_json.py::test_broken"]["verdicts"]
    assert broken["outcome"] == "fail"
    assert 0 <= broken["low"] <= broken["high"] < broken["line"] == 450
    assert all(math.isfinite(number) for number in numbers_in(document))


# -- JUnit attachment lines ----------------------------------------------------------------------

ATTACHMENT = re.compile(r"^\[\[ATTACHMENT\|(.+)\]\]$", re.MULTILINE)


@pytest.mark.parametrize("where", ["flag", "ini"])
def test_attachment_lines_relative_to_the_root_setting(
    pytester: pytest.Pytester, where: str
) -> None:
    pytester.makepyfile(
        test_junit="""
        import pytest
        from policies import push_left

        @pytest.mark.gymrec(seeds=4, bounds=(0, 500), max_videos=1)
        def test_broken(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=450)
        """
    )
    args = ["-p", "no:cacheprovider", "--junitxml=out/junit.xml", "-o", "junit_logging=system-out"]
    if where == "flag":
        args.append("--gymrec-junit-attachment-root=.")
    else:
        pytester.makeini("[pytest]\ngymrec_junit_attachment_root = .\n")
    pytester.runpytest_subprocess(*args).assert_outcomes(failed=1)
    [case] = ET.parse(pytester.path / "out" / "junit.xml").iter("testcase")
    out = "".join(node.text or "" for node in case.iter("system-out"))
    paths = ATTACHMENT.findall(out)
    assert sorted(Path(path).suffix for path in paths) == [".mp4", ".png"]
    for path in paths:
        # GitLab resolves them against the project folder, where pytest ran.
        assert not Path(path).is_absolute(), path
        assert path.startswith("gymrec-results/test_junit.py-test_broken/"), path
        assert (pytester.path / path).is_file()


# -- pytest-html: every kind of verdict drawn, seen in a browser --------------------------------

#: One failing test per kind of verdict (verdict.Kind); videos only where they are checked.
EVERY_KIND = """
import pytest
from policies import balance, push_left

pytestmark = pytest.mark.gymrec(seeds=8, bounds=(0, 500), video="off")

@pytest.mark.gymrec(video="retain-on-failure", max_videos=1)
def test_mean(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=400)

def test_length(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_length(at_least=400, bounds=(0, 500))

def test_success_rate(gymrec):
    result = gymrec.evaluate("CartPole-v1", push_left)
    result.assert_success_rate(0.9, success=lambda episode: episode.return_ >= 475)

def test_quantile(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_quantile(0.5, at_least=400)

def test_sequential(gymrec):
    gymrec.assert_return("CartPole-v1", push_left, at_least=400, tolerance=0.1)

@pytest.mark.gymrec(video="retain-on-failure", max_videos=1)
def test_paired(gymrec):
    good = gymrec.evaluate("CartPole-v1", balance)
    gymrec.evaluate("CartPole-v1", push_left).assert_no_regression(good)
"""
KINDS = ["mean", "length", "success_rate", "quantile", "sequential", "paired"]

#: Waits for every PNG the page shows, and for a fresh image of every PNG embedded as a data:
#: URI (pytest-html shows one media item per test at a time), and reports their sizes.
PROBE_IMAGES = r"""
(async () => {
  const probe = async (image) => {
    const timeout = new Promise((_, reject) => setTimeout(() => reject("timeout"), 15000));
    let status = "loaded";
    try {
      await Promise.race([image.decode(), timeout]);
    } catch (error) {
      status = String(error);
    }
    return {status, naturalWidth: image.naturalWidth, naturalHeight: image.naturalHeight};
  };
  const shown = [];
  for (const image of document.querySelectorAll("img")) {
    if ((image.getAttribute("src") || "").startsWith("data:image/png")) {
      shown.push(await probe(image));
    }
  }
  const uris = [...new Set(
    document.documentElement.innerHTML.match(/data:image\/png;base64,[A-Za-z0-9+\/=]+/g) || []
  )];
  const embedded = [];
  for (const uri of uris) {
    const image = new Image();
    image.src = uri;
    embedded.push(await probe(image));
  }
  return {shown, embedded};
})()
"""
EMBEDDED_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def html_extras(report: Path) -> dict[str, list[dict[str, Any]]]:
    """Every test's extras, as pytest-html 4 stores them in the report's JSON blob."""
    blob = re.search(r'data-jsonblob="([^"]*)"', report.read_text(encoding="utf-8"))
    assert blob is not None
    tests = json.loads(unescape(blob.group(1)))["tests"]
    return {
        nodeid: [extra for attempt in attempts for extra in attempt.get("extras", [])]
        for nodeid, attempts in tests.items()
    }


@pytest.mark.usefixtures("chromium")
def test_every_kind_of_verdict_is_drawn_in_the_html_report_and_seen_in_a_browser(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_kinds=EVERY_KIND)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--html=report.html", "--self-contained-html"
    )
    result.assert_outcomes(failed=len(KINDS))
    report = pytester.path / "report.html"
    extras = html_extras(report)
    for kind in KINDS:
        mime_types = [extra.get("mime_type") for extra in extras[f"test_kinds.py::test_{kind}"]]
        assert mime_types.count("image/png") == 1, (kind, mime_types)
    assert [extra.get("mime_type") for extra in extras["test_kinds.py::test_mean"]] == [
        "video/mp4",
        "image/png",
    ]
    # The paired test's left-out seeds only regressed: they are not called episodes that raised.
    result.stdout.fnmatch_lines(
        [
            "videos (gymrec-results/test_kinds.py-test_paired, filmed in * s):",
            "  seed *: return *",
            "    gymrec-results/test_kinds.py-test_paired/seed-*.mp4",
            "  * more episodes not filmed (--gymrec-max-videos is 1): seeds * (regressed most "
            "against the baseline)",
        ]
    )
    assert "raised or were flagged" not in result.stdout.str()

    images = browser.evaluate_in_page(browser.page_url(report), PROBE_IMAGES)
    assert len(images["embedded"]) == len(KINDS), images
    assert images["shown"], images  # tests whose first media item is the plot show it
    for image in [*images["shown"], *images["embedded"]]:
        assert image["status"] == "loaded", images
        assert (image["naturalWidth"], image["naturalHeight"]) == (720, 400), images
    videos = browser.evaluate_in_page(browser.page_url(report), browser.PROBE_VIDEOS)
    # Both tests with a video show it first; their clips are the same bytes (seed 4, the same
    # policy), embedded twice but probed once.
    assert len(videos["shown"]) == 2, videos
    assert len(videos["embedded"]) == 1, videos
    for video in [*videos["shown"], *videos["embedded"]]:
        assert video["status"] == "loaded", videos
        assert video["videoWidth"] > 0, videos
        assert video["duration"] > 0, videos

    # The check can fail: the same report with PNG bytes that do not decode does not pass it.
    html = report.read_text(encoding="utf-8")
    garbage = base64.b64encode(os.urandom(2000)).decode("ascii")
    broken = pytester.path / "broken.html"
    broken.write_text(EMBEDDED_PNG.sub(f"data:image/png;base64,{garbage}", html), "utf-8")
    failed = browser.evaluate_in_page(browser.page_url(broken), PROBE_IMAGES)
    assert failed["embedded"], failed
    for image in [*failed["shown"], *failed["embedded"]]:
        assert image["naturalWidth"] == 0, failed
        assert image["status"] != "loaded", failed
