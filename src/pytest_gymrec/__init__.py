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

    __version__: str


def __getattr__(name: str) -> object:
    """``wrap`` and ``KeepReplay`` load gymnasium, and the version lookup scans the installed
    distributions: each happens on first use, not when pytest loads the plugin."""
    if name == "__version__":
        try:
            return metadata.version("pytest-gymrec")
        except metadata.PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    if name == "wrap":
        from .scripts import wrap

        return wrap
    if name == "KeepReplay":
        from .episodes import KeepReplay

        return KeepReplay
    raise AttributeError(f"module 'pytest_gymrec' has no attribute {name!r}")


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
