"""A failure video plays in a real browser: a pytest-html report opened in headless Chromium.

Chromium must be installed (Debian's ``chromium``; CI installs it). Locally the test is skipped
without it; with ``CI=true`` a missing Chromium is a failure, so CI cannot skip it silently.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess

import imageio_ffmpeg
import pytest

from helpers import browser

pytestmark = pytest.mark.usefixtures("policies")

BROKEN_AGENT = """
import pytest
from policies import push_left

@pytest.mark.gymrec(seeds=10, bounds=(0, 500), max_videos=2)
def test_broken(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)
"""

EMBEDDED_VIDEO = re.compile(r"data:video/mp4;base64,([A-Za-z0-9+/=]+)")


def with_videos_replaced(html: str, content: bytes) -> str:
    encoded = base64.b64encode(content).decode("ascii")
    return EMBEDDED_VIDEO.sub(lambda _: f"data:video/mp4;base64,{encoded}", html)


@pytest.mark.usefixtures("chromium")
def test_the_failure_video_plays_in_a_self_contained_html_report(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("pytest_html")
    pytester.makepyfile(test_broken=BROKEN_AGENT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--html=report.html", "--self-contained-html"
    )
    result.assert_outcomes(failed=1)
    report = pytester.path / "report.html"
    html = report.read_text()
    assert len(EMBEDDED_VIDEO.findall(html)) == 2

    probed = browser.evaluate_in_page(browser.page_url(report), browser.PROBE_VIDEOS)
    # pytest-html shows one video per test (with arrows to the next); all are embedded.
    assert len(probed["shown"]) == 1, probed
    assert len(probed["embedded"]) == 2, probed
    for video in [*probed["shown"], *probed["embedded"]]:
        assert video["status"] == "loaded", probed
        assert (video["videoWidth"], video["videoHeight"]) == (600, 400), probed
        assert video["duration"] > 0, probed

    # The check can fail: the same report with undecodable videos does not pass it.
    original = base64.b64decode(EMBEDDED_VIDEO.findall(html)[0])
    (pytester.path / "original.mp4").write_bytes(original)
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-i",
            "original.mp4",
            "-c:v",
            "mpeg4",  # MPEG-4 Part 2: a valid mp4 that browsers do not play
            "part2.mp4",
        ],
        cwd=pytester.path,
        check=True,
    )
    for name, content in [
        ("garbage", os.urandom(len(original))),
        ("mpeg4-part2", (pytester.path / "part2.mp4").read_bytes()),
    ]:
        broken = pytester.path / f"broken-{name}.html"
        broken.write_text(with_videos_replaced(html, content))
        failed = browser.evaluate_in_page(browser.page_url(broken), browser.PROBE_VIDEOS)
        videos = [*failed["shown"], *failed["embedded"]]
        assert len(videos) == 2, (name, failed)  # one shown, one distinct embedded
        assert all(video["videoWidth"] == 0 for video in videos), (name, failed)
        assert all(video["status"] != "loaded" for video in videos), (name, failed)
