"""A long evaluation says how far it is, in the terminal, on lines of its own."""

from __future__ import annotations

import pytest

TESTS = """
import pytest
from policies import balance

@pytest.mark.gymrec(seeds=range(5), bounds=(0, 500))
def test_evaluates(gymrec):
    gymrec.evaluate("CartPole-v1", balance)
"""


@pytest.mark.usefixtures("policies")
def test_a_slow_evaluation_reports_progress(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_progress=TESTS)
    monkeypatch.setenv("GYMREC_PROGRESS_SECONDS", "0")  # every episode counts as "a while"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "gymrec: CartPole-v1: 1 of 5 episodes in * s",
            "gymrec: CartPole-v1: 5 of 5 episodes in * s",
        ]
    )


@pytest.mark.usefixtures("policies")
def test_a_quick_evaluation_prints_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_progress=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "episodes in" not in result.stdout.str()


@pytest.mark.usefixtures("policies")
def test_filming_that_takes_a_while_says_so(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_broken="""
        import pytest
        from policies import push_left

        @pytest.mark.gymrec(seeds=range(5), bounds=(0, 500), max_videos=1)
        def test_broken(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)
        """
    )
    monkeypatch.setenv("GYMREC_PROGRESS_SECONDS", "0")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["gymrec: filming the videos of test_broken.py::test_broken ..."])
    videos = pytester.path / "gymrec-results" / "test_broken.py-test_broken"
    assert len(list(videos.glob("seed-*.mp4"))) == 1  # filmed as usual
