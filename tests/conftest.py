"""Shared test setup. Classic-control envs render headless through pygame's dummy video driver."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable

import pytest

from helpers import browser
from helpers import policies as policies_module

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

#: Modes of an end-to-end plugin test: plain, and distributed over two xdist workers.
XDIST_MODES: dict[str, tuple[str, ...]] = {"plain": (), "xdist": ("-n", "2")}

XDIST_MARKER = "xdist_matters"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{XDIST_MARKER}(reason): run this pytester test plain and with -n 2; the reason says "
        "what xdist changes for it (data crossing from the workers, hooks run on them, ...)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``xdist_matters`` run both ways; every other pytester run is plain.

    A second, distributed run costs two worker start-ups and finds nothing new where xdist
    changes nothing, so it is kept only where the behaviour under test goes through xdist.
    """
    marker = metafunc.definition.get_closest_marker(XDIST_MARKER)
    if marker is None:
        return
    if len(marker.args) != 1 or not str(marker.args[0]).strip():
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: @pytest.mark.{XDIST_MARKER} needs one reason: what "
            "xdist changes for this test"
        )
    if "xdist_args" not in metafunc.fixturenames:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: @pytest.mark.{XDIST_MARKER} needs the run_pytest "
            "(or xdist_args) fixture, which adds -n 2"
        )
    metafunc.parametrize("xdist_args", sorted(XDIST_MODES), indirect=True)


@pytest.fixture
def xdist_args(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """Extra command-line arguments: none, or ``-n 2`` in the xdist half of a test marked
    ``xdist_matters``."""
    return XDIST_MODES[getattr(request, "param", "plain")]


@pytest.fixture
def run_pytest(
    pytester: pytest.Pytester, xdist_args: tuple[str, ...]
) -> Callable[..., pytest.RunResult]:
    """Run pytest in a subprocess on the pytester folder (with ``-n 2`` where xdist matters).

    A subprocess, so each run starts like a user's (entry point, fresh imports);
    ``-p no:cacheprovider`` keeps the runs from writing caches.
    """

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *xdist_args, *args)

    return run


@pytest.fixture
def policies(pytester: pytest.Pytester) -> None:
    """A ``policies`` module in the pytester folder with a good and a broken CartPole policy."""
    pytester.makepyfile(policies=inspect.getsource(policies_module))


@pytest.fixture
def chromium() -> str:
    """Debian's chromium for the pytest-html checks: CI must have it (its .ci/run installs it);
    elsewhere a missing browser skips the check."""
    executable = browser.chromium_executable()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and CI must run the browser check")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return executable
