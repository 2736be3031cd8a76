"""Test modules that more than one test file writes into its pytester folder.

Each needs the ``policies`` fixture (it imports ``policies``).
"""

from __future__ import annotations

#: A failing and a passing CartPole-v1 test, for the reports: the failing one gets videos and
#: a plot, the passing one nothing.
BROKEN_AND_GOOD = """
import pytest
from policies import balance, push_left

@pytest.mark.gymrec(seeds=range(4), bounds=(0, 500))
def test_broken(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)

@pytest.mark.gymrec(seeds=range(8), bounds=(0, 500))
def test_good(gymrec):
    gymrec.evaluate("CartPole-v1", balance).assert_return(at_least=450)
"""
