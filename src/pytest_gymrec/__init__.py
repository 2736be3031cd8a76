"""pytest-gymrec: regression tests of reinforcement-learning agents on Gymnasium environments.

The ``gymrec`` fixture and the ``--gymrec-*`` options come with the pytest plugin (entry point
``pytest_gymrec.plugin``). This package exports what a test or a plain script uses directly.
Importing it imports neither numpy nor gymnasium: they load when an evaluation or a check runs.
"""

from __future__ import annotations

from importlib import metadata

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
)
from .record import Episode
from .results import EvalResult
from .verdict import Kind, Mode, Outcome, Verdict

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
    "Kind",
    "Mode",
    "Outcome",
    "Verdict",
    "__version__",
]
