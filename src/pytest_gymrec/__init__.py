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

if TYPE_CHECKING:
    from .episodes import KeepReplay
    from .record import Episode
    from .results import EvalResult
    from .scripts import wrap
    from .verdict import Kind, Mode, Outcome, Verdict

    __version__: str

#: Public names loaded on first use, and the module each lives in: pytest loads this package
#: with the plugin in every session, also in sessions that never evaluate an agent.
_LAZY = {
    "Episode": "record",
    "EvalResult": "results",
    "KeepReplay": "episodes",  # loads gymnasium
    "Kind": "verdict",
    "Mode": "verdict",
    "Outcome": "verdict",
    "Verdict": "verdict",
    "wrap": "scripts",  # loads gymnasium
}


def __getattr__(name: str) -> object:
    """The public classes load on first use, and the version lookup (which scans the installed
    distributions) too: not when pytest loads the plugin."""
    if name == "__version__":
        try:
            return metadata.version("pytest-gymrec")
        except metadata.PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # once: later lookups do not come here
        return value
    raise AttributeError(f"module 'pytest_gymrec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
