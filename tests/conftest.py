"""Shared test setup. Classic-control envs render headless through pygame's dummy video driver."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

#: Modes every end-to-end plugin test runs in: plain, and distributed over two xdist workers.
XDIST_MODES = {"plain": (), "xdist": ("-n", "2")}


@pytest.fixture(params=sorted(XDIST_MODES))
def xdist_args(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """Extra command-line arguments: none, or ``-n 2`` (parametrised: tests run both ways)."""
    return XDIST_MODES[request.param]


@pytest.fixture
def run_pytest(
    pytester: pytest.Pytester, xdist_args: tuple[str, ...]
) -> Callable[..., pytest.RunResult]:
    """Run pytest in a subprocess on the pytester folder, with and without ``-n 2``.

    A subprocess, so each run starts like a user's (entry point, fresh imports);
    ``-p no:cacheprovider`` keeps the runs from writing caches.
    """

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *xdist_args, *args)

    return run


POLICY_SOURCE = '''
def balance(obs):
    """A good CartPole-v1 policy: all 500 steps on almost every seed."""
    return int(obs[2] + 0.5 * obs[3] > 0)

def push_left(obs):
    """A broken CartPole-v1 policy: falls within about ten steps."""
    return 0
'''


@pytest.fixture
def policies(pytester: pytest.Pytester) -> None:
    """A ``policies`` module in the pytester folder with a good and a broken CartPole policy."""
    pytester.makepyfile(policies=POLICY_SOURCE)
