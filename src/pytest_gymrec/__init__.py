"""pytest-gymrec: regression tests of reinforcement-learning agents on Gymnasium environments.

The ``gymrec`` fixture and the ``--gymrec-*`` options come with the pytest plugin (entry point
``pytest_gymrec.plugin``). This package exports what a test or a plain script uses directly.
Importing it imports neither numpy nor gymnasium: they load when an evaluation or a check runs.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

from .errors import (
    GymrecBaselineCreated,
    GymrecBaselineError,
    GymrecBlindCheck,
    GymrecEnvError,
    GymrecEnvWarning,
    GymrecFailure,
    GymrecInconclusive,
    GymrecPolicyError,
    GymrecStatisticsWarning,
    GymrecUsageError,
    GymrecVideoWarning,
)
from .record import Episode
from .results import EvalResult
from .verdict import Kind, Mode, Outcome, Verdict

if TYPE_CHECKING:
    from .episodes import KeepReplay
    from .scripts import wrap


def __getattr__(name: str) -> object:
    """``wrap`` and ``KeepReplay`` load gymnasium: imported on first use, not with the package."""
    if name == "wrap":
        from .scripts import wrap

        return wrap
    if name == "KeepReplay":
        from .episodes import KeepReplay

        return KeepReplay
    raise AttributeError(f"module 'pytest_gymrec' has no attribute {name!r}")


try:
    __version__ = metadata.version("pytest-gymrec")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Episode",
    "EvalResult",
    "GymrecBaselineCreated",
    "GymrecBaselineError",
    "GymrecBlindCheck",
    "GymrecEnvError",
    "GymrecEnvWarning",
    "GymrecFailure",
    "GymrecInconclusive",
    "GymrecPolicyError",
    "GymrecStatisticsWarning",
    "GymrecUsageError",
    "GymrecVideoWarning",
    "KeepReplay",
    "Kind",
    "Mode",
    "Outcome",
    "Verdict",
    "__version__",
    "wrap",
]
