"""The one path from a decision to the test's outcome: record, flag, enforce.

Every check is a pure decision (data in, :class:`Decision` out). :func:`conclude` then records
the verdict for the reports, flags the episodes the check singled out (failure videos show them
first) and enforces it: raise on FAIL, on a check that could not fail (unless ``--gymrec-blind
warn``) and on INCONCLUSIVE under ``--gymrec-inconclusive fail``; warn otherwise.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from ..errors import GymrecBlindCheck, GymrecFailure, GymrecInconclusive, GymrecStatisticsWarning
from ..record import Episode
from ..verdict import Outcome, Verdict, render

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Decision:
    """A verdict, and the episodes (by index into the checked list) it singles out."""

    verdict: Verdict
    flagged: tuple[tuple[int, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class CheckContext:
    """What a check needs from the test that runs it. Filled in by the ``gymrec`` fixture;
    outside pytest the defaults make a check raise or warn and record nothing."""

    alpha: float = 0.01
    bounds: tuple[float, float] | None = None
    bounds_source: str = "the call"
    #: Key for the deterministic random generator (the test's node id).
    rng_key: str = "gymrec"
    #: Command line that reruns the test with the same settings.
    reproduce: str | None = None
    record: Callable[[Verdict], None] | None = None
    #: Called with an episode a check singled out and the reason (failure videos show these).
    flag: Callable[[Episode, str], None] | None = None
    #: ``--gymrec-inconclusive fail``: an INCONCLUSIVE verdict fails the test.
    inconclusive_fails: bool = False
    #: ``--gymrec-blind fail`` (default): a check that could not fail fails the test.
    blind_fails: bool = True


def conclude(decision: Decision, episodes: Sequence[Episode], context: CheckContext) -> Verdict:
    """Record the verdict, flag its episodes when it did not pass, and enforce it."""
    __tracebackhide__ = True
    verdict = decision.verdict
    if context.record is not None:
        context.record(verdict)
    if verdict.outcome is not Outcome.PASS and context.flag is not None:
        for index, reason in decision.flagged:
            context.flag(episodes[index], reason)
    enforce(verdict, inconclusive_fails=context.inconclusive_fails, blind_fails=context.blind_fails)
    return verdict


def enforce(verdict: Verdict, *, inconclusive_fails: bool, blind_fails: bool) -> None:
    """Raise on FAIL (and BLIND, INCONCLUSIVE where the settings say so); warn otherwise."""
    __tracebackhide__ = True
    stacklevel = _user_stacklevel()
    for caution in verdict.cautions:
        warnings.warn(GymrecStatisticsWarning(caution), stacklevel=stacklevel)
    outcome = verdict.outcome
    if outcome is Outcome.FAIL or (outcome is Outcome.INCONCLUSIVE and inconclusive_fails):
        raise GymrecFailure(render(verdict))
    if outcome is Outcome.BLIND:
        if blind_fails:
            raise GymrecBlindCheck(render(verdict))
        warnings.warn(GymrecInconclusive(render(verdict)), stacklevel=stacklevel)
    if outcome is Outcome.INCONCLUSIVE:
        warnings.warn(GymrecInconclusive(render(verdict)), stacklevel=stacklevel)


def _user_stacklevel() -> int:
    """The stacklevel that makes a warning point at the first frame outside this package (the
    user's line), however deep the check sits."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
