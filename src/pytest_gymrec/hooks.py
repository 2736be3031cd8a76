"""Hook specifications for conftests and plugins: send episodes, verdicts and videos elsewhere.

Added with ``pytest_addhooks`` (as pytest-xdist keeps its specs in a module of their own). Each
hook is called in the process where the test runs (on an xdist worker too), so a tracker
writing files or logging runs there. A hook that raises is reported as a warning naming it and
never changes the test's outcome. Recipes for TensorBoard and Weights & Biases: README, "Hooks".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .record import Episode
    from .verdict import Verdict


@pytest.hookspec
def pytest_gymrec_episode(item: pytest.Item, episode: Episode) -> None:
    """Called when an episode of ``item`` finishes (or crashes), in the order they finish."""


@pytest.hookspec
def pytest_gymrec_verdict(item: pytest.Item, verdict: Verdict) -> None:
    """Called with every verdict of ``item``, passing or not, before it is enforced."""


@pytest.hookspec
def pytest_gymrec_video(item: pytest.Item, path: Path, episode: Episode | None) -> None:
    """Called with every video kept for ``item`` (a failure video or a live one), once the
    file is complete; ``episode`` is the episode it shows when known."""
