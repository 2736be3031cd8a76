"""Exceptions and warnings raised by pytest-gymrec.

Kept in a module of their own so that every other module (and users) can import them without
importing numpy, scipy or gymnasium.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class GymrecFailure(AssertionError):
    """A statistical verdict found evidence of a regression.

    A subclass of ``AssertionError`` so pytest reports it as a test failure (not an error) and
    users can catch it like any assertion. The message is the whole small report.
    """


class GymrecBaselineCreated(GymrecFailure):
    """A missing baseline was written from this run; the test fails so that it gets reviewed.

    Nothing regressed, so no failure videos are made for it.
    """


class GymrecInconclusive(UserWarning):
    """The data could not decide the verdict either way (too few episodes, no usable spread)."""


class GymrecStatisticsWarning(UserWarning):
    """The verdict was computed, but its assumptions are doubtful for this data."""


class GymrecVideoWarning(UserWarning):
    """A video could not be made (it is reported as ``video missing: <reason>``); the test's
    verdict, and a training loop filmed live, go on unaffected."""


class GymrecUsageError(ValueError):
    """A value given to pytest-gymrec is invalid. The message names the value and its source."""


class GymrecEnvError(RuntimeError):
    """An environment could not be built, or misbehaved while an episode ran."""


class GymrecPolicyError(RuntimeError):
    """The policy raised, or returned something that is not an action."""


class GymrecBaselineError(GymrecUsageError):
    """A stored baseline file cannot be read. The message names the file and how to fix it."""


class GymrecBlindCheck(GymrecFailure):
    """The check could not have failed, however bad the agent: too few episodes for its bounds.

    A test that cannot fail must not pass; the message says how many episodes would make the
    check able to fail. ``--gymrec-blind warn`` turns this into a warning.
    """


class GymrecEnvWarning(UserWarning):
    """An env misbehaved where the results do not depend on it (``close()`` raised)."""


#: numpy's boolean scalar type, by module and name (numpy 1.x calls it bool_, 2.x bool).
NUMPY_BOOLS = {("numpy", "bool_"), ("numpy", "bool")}


def ask_yes_or_no(
    question: Callable[[Any], object], argument: object, *, asked: str, of: str, hint: str
) -> bool:
    """``question(argument)`` for a user's predicate that must answer True or False.

    ``asked`` names the predicate for the message ("video_trigger", "the success predicate
    is_solved"), ``of`` what it was asked about ("episode 3", "the episode with seed 7"), and
    ``hint`` says what it must do. A raise or an answer that is not a bool is a usage error.
    """
    try:
        answer = question(argument)
    except Exception as exc:
        raise GymrecUsageError(
            f"{asked} raised {type(exc).__name__}: {exc} for {of}; {hint}"
        ) from exc
    # numpy's bool is a bool too; recognised by name so this module needs no numpy.
    kind = type(answer)
    if not isinstance(answer, bool) and (kind.__module__, kind.__name__) not in NUMPY_BOOLS:
        raise GymrecUsageError(f"{asked} returned {answer!r} ({kind.__name__}) for {of}; {hint}")
    return bool(answer)
