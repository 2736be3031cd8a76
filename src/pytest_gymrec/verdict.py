"""Verdicts as data, and the one renderer that turns them into text.

Every check (mean, length, success rate, quantile, sequential, paired) decides and hands back a
:class:`Verdict` whose parts are data: the numbers, the rule, what the check could see, ties,
the episodes it singled out, cautions, commands. :func:`render` writes the message that the
exception, the terminal and the reports show; wording changes here and nowhere else.

Pure: no numpy, no pytest.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence
from typing import Any, Generic, TypeVar, overload

from .errors import GymrecUsageError
from .formatting import fmt, format_seeds

T = TypeVar("T")

#: Power at which "the smallest drop this check catches" is stated.
POWER = 0.8


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    #: The check could not have failed, whatever the agent did: too few episodes for its bounds.
    BLIND = "blind"


#: How each outcome reads in a headline.
HEADLINES = {
    Outcome.PASS: "passed",
    Outcome.FAIL: "FAILED",
    Outcome.INCONCLUSIVE: "INCONCLUSIVE",
    Outcome.BLIND: "CANNOT FAIL",
}


class Mode(str, enum.Enum):
    """What a check asks of the data."""

    #: Fail only on evidence of a regression (flake rate at most alpha).
    NO_REGRESSION = "no-regression"
    #: Pass only on evidence that the line is cleared.
    CERTIFY = "certify"

    @classmethod
    def parse(cls, value: object, source: str) -> Mode:
        from .settings import choice_of

        choices = ", ".join(repr(mode.value) for mode in cls)
        try:
            return choice_of(cls, value, f"mode {{value}} is not one of {choices}")
        except ValueError as exc:
            raise GymrecUsageError(f"{source}: {exc}") from None


class Kind(str, enum.Enum):
    """Which check produced a verdict (reports draw each kind its own way)."""

    MEAN = "mean"
    LENGTH = "length"
    SUCCESS_RATE = "success_rate"
    QUANTILE = "quantile"
    SEQUENTIAL = "sequential"
    PAIRED = "paired"


@dataclasses.dataclass(frozen=True)
class Subject:
    """What was measured: an env label, the seeds, how to rerun it."""

    label: str
    seeds: tuple[int | None, ...]
    #: Command line that reruns the check, or None when not run under pytest.
    reproduce: str | None = None


@dataclasses.dataclass(frozen=True)
class Estimate:
    """The number a check is about and its interval: a mean, a rate, a quantile, a mean change."""

    #: What the number is, for the summary line: "mean return", "success rate", ...
    statistic: str
    #: How many values it comes from, counted in ``unit``: episodes, or the seeds a paired
    #: comparison shares.
    n: int
    value: float
    #: The interval's ends (each a one-sided bound); ``coverage`` is the two-sided level.
    low: float
    high: float
    coverage: float
    unit: str = "episode"


@dataclasses.dataclass(frozen=True)
class Sight:
    """What a no-regression check could see: the smallest shift it catches with POWER.

    ``drop`` None and ``needed`` set: blind, no shift within the bounds fails it below
    ``needed`` episodes. ``wanted`` is the drop the user declared (``tolerance``); when the
    check cannot catch it, ``wanted_needed`` episodes would.
    """

    line: float
    #: "below" for at_least lines, "above" for at_most lines.
    direction: str
    drop: float | None
    #: How the detectable drop imagined a regressed agent's values ("if returns spread like
    #: these"); empty when the computation assumes nothing about spread (exact tests).
    assumption: str = ""
    #: The detectable drop as the check states it, when not a plain shift of the line (a
    #: quantile check: "once 38% of episodes fall below 200").
    phrase: str = ""
    needed: int | None = None
    wanted: float | None = None
    wanted_needed: int | None = None
    #: Why no drop can be stated (e.g. returns without spread and no bounds).
    unknown: str = ""
    #: Probability with which ``drop`` is caught (POWER; a sequential test's is 1 - beta).
    power: float = POWER
    #: The smallest drop ANY valid test catches with ``power`` at this n on these bounds
    #: (stated when it explains a wide interval: the data, not the method, is the limit).
    floor: float | None = None


class _PartField(Generic[T]):
    """Read-only access to a field of one of a verdict's parts (``verdict.n`` is
    ``verdict.estimate.n``): the parts travel whole, their fields keep their old names."""

    def __init__(self, part: str, field: str = "") -> None:
        self._part = part
        self._field = field

    def __set_name__(self, owner: type, name: str) -> None:
        self._field = self._field or name

    @overload
    def __get__(self, verdict: None, owner: type) -> _PartField[T]: ...

    @overload
    def __get__(self, verdict: Verdict, owner: type) -> T: ...

    def __get__(self, verdict: Verdict | None, owner: type) -> _PartField[T] | T:
        if verdict is None:
            return self
        value: T = getattr(getattr(verdict, self._part), self._field)
        return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Verdict:
    """The outcome of one check and everything said about it, as data."""

    outcome: Outcome
    kind: Kind
    #: Short statement of the check, e.g. ``"mean return >= 475"``.
    check: str
    mode: Mode
    method: str
    #: Student t (no bounds): valid only approximately.
    approximate: bool = False
    #: The line of the check (at_least, or at_most when only that was given).
    line: float | None = None
    tolerance: float | None = None
    margin: float | None = None
    alpha: float
    #: What was measured (env, seeds, how to rerun it) and what came out, each carried whole.
    subject: Subject
    estimate: Estimate
    #: One rule line per side: the rule, then how the data met it.
    rules: tuple[str, ...] = ()
    sights: tuple[Sight, ...] = ()
    #: Lines between the rules and the listing: guarantees, evidence, baseline notes.
    facts: tuple[str, ...] = ()
    #: (count at hi, count at lo, hi, lo) when the check had bounds.
    ties: tuple[int, int, float, float] | None = None
    #: Title and (seed, text) rows of the episodes worth a look (lowest, most regressed).
    listing_title: str = ""
    listing: tuple[tuple[int | None, str], ...] = ()
    cautions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: Command that accepts this run as the new baseline (paired checks that failed).
    update_command: str | None = None
    #: Values the check used, in order (for plots and reports), and per-kind extras.
    values: tuple[float, ...] = ()
    baseline_values: tuple[float, ...] = ()
    evidence: dict[str, Any] | None = None
    #: Extra words in the headline's parenthesis, after the mode ("beta=0.1").
    headline_extra: str = ""
    #: The summary line's tail after the seeds ("stopped at episode 40 of at most 500").
    summary_extra: str = ""

    # The parts' fields, read under the names reports, tests and users know.
    label = _PartField[str]("subject")
    seeds = _PartField[tuple[int | None, ...]]("subject")
    reproduce = _PartField[str | None]("subject")
    statistic = _PartField[str]("estimate")
    n = _PartField[int]("estimate")
    unit = _PartField[str]("estimate")
    #: The estimate ("mean" by history: it is a rate or a quantile in those checks).
    mean = _PartField[float]("estimate", "value")
    low = _PartField[float]("estimate")
    high = _PartField[float]("estimate")
    coverage = _PartField[float]("estimate")

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    @property
    def blind(self) -> bool:
        """True when no shift within the bounds could have failed this check."""
        return self.outcome is Outcome.BLIND

    @property
    def detectable_drop(self) -> float | None:
        """The largest of the sides' smallest detectable drops (None if any side sees none)."""
        drops = [sight.drop for sight in self.sights]
        if not drops or any(drop is None for drop in drops):
            return None
        return max(drop for drop in drops if drop is not None)

    @property
    def episodes_needed(self) -> int | None:
        """Episodes that would make the check able to fail (blind), or see the declared drop."""
        counts = [
            count
            for sight in self.sights
            for count in (sight.needed, sight.wanted_needed)
            if count is not None
        ]
        return max(counts) if counts else None

    @property
    def message(self) -> str:
        return render(self)

    def to_record(self) -> dict[str, Any]:
        """Plain, strict-JSON data for reports (survives pytest-xdist's serialisation)."""
        return {
            "env": self.label,
            "check": self.check,
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "mode": self.mode.value,
            "method": self.method,
            "approximate": self.approximate,
            "alpha": self.alpha,
            "episodes": self.n,
            "mean": finite_or_none(self.mean),
            "estimate": finite_or_none(self.mean),
            "low": finite_or_none(self.low),
            "high": finite_or_none(self.high),
            "coverage": self.coverage,
            "line": finite_or_none(self.line),
            "tolerance": self.tolerance,
            "margin": finite_or_none(self.margin),
            "detectable_drop": finite_or_none(self.detectable_drop),
            "blind": self.blind,
            "episodes_needed": self.episodes_needed,
            "values": [finite_or_none(value) for value in self.values],
            "seeds": list(self.seeds),
            "baseline_values": list(self.baseline_values),
            "evidence": self.evidence,
        }


def finite_or_none(value: float | None) -> float | None:
    """JSON has no Infinity or NaN (strict parsers reject them): an open end becomes null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


# --------------------------------------------------------------------------------------------
# The renderer


def render(verdict: Verdict) -> str:
    """The verdict's message: headline, summary, rules, what it saw, listing, commands."""
    lines = [_headline(verdict), _summary(verdict), *verdict.rules]
    lines.extend(line for sight in verdict.sights for line in _sight_lines(verdict, sight))
    lines.extend(verdict.facts)
    if verdict.ties is not None:
        at_hi, at_lo, hi, lo = verdict.ties
        lines.append(f"tied at a bound: {at_hi} of {verdict.n} at {fmt(hi)}, {at_lo} at {fmt(lo)}")
    if verdict.listing:
        shown = ", ".join(
            f"seed {'?' if seed is None else seed}: {text}" for seed, text in verdict.listing
        )
        lines.append(f"{verdict.listing_title}: {shown}")
    lines.extend(f"caution: {caution}" for caution in verdict.cautions)
    lines.extend(verdict.notes)
    if verdict.reproduce:
        lines.append(f"reproduce: {verdict.reproduce}")
    if verdict.outcome is Outcome.FAIL and verdict.update_command:
        lines.append(
            f"if the drop is intended, accept this run as the baseline: {verdict.update_command}"
        )
    return "\n".join(lines)


def _headline(verdict: Verdict) -> str:
    extra = f", {verdict.headline_extra}" if verdict.headline_extra else ""
    return (
        f"gymrec: {verdict.label}: {verdict.check} {HEADLINES[verdict.outcome]} "
        f"({verdict.mode.value}, alpha={fmt(verdict.alpha)}{extra})"
    )


def _summary(verdict: Verdict) -> str:
    n = verdict.n
    extra = f", {verdict.summary_extra}" if verdict.summary_extra else ""
    approximate = "; approximate: valid only for near-normal means" if verdict.approximate else ""
    return (
        f"{verdict.statistic} {fmt(verdict.mean)} over {n} {plural(n, verdict.unit)} (seeds "
        f"{format_seeds(verdict.seeds)}){extra}; {100 * verdict.coverage:g}% interval "
        f"[{fmt(verdict.low)}, {fmt(verdict.high)}] ({verdict.method}{approximate})"
    )


def _sight_lines(verdict: Verdict, sight: Sight) -> list[str]:
    n = verdict.n
    shift = "drop" if sight.direction == "below" else "rise"
    lines = []
    if sight.drop is not None:
        if sight.phrase:
            lines.append(
                f"detectable: caught with {sight.power:.0%} probability at n={n} "
                f"{sight.phrase}; fewer may pass"
            )
        else:
            to = sight.line - sight.drop if sight.direction == "below" else sight.line + sight.drop
            assumption = f" {sight.assumption}" if sight.assumption else ""
            lines.append(
                f"detectable: a {shift} of {fmt(sight.drop)} {sight.direction} "
                f"{fmt(sight.line)} (to {fmt(to)}) is caught with {sight.power:.0%} probability "
                f"at n={n}{assumption}; smaller {shift}s may pass"
            )
            if sight.floor is not None and sight.drop < 2 * sight.floor:  # the data is the limit
                lines.append(
                    f"floor: no valid test catches a {shift} smaller than {fmt(sight.floor)} "
                    f"with {sight.power:.0%} probability at n={n} on these bounds (a little "
                    "mass at the best value can hide it); more episodes lower it"
                )
    elif sight.unknown:
        lines.append(f"detectable: unknown: {sight.unknown}")
    elif verdict.outcome is Outcome.BLIND or sight.needed is not None:
        more = (
            f"; at least {sight.needed} {plural(sight.needed, 'episode')} would make it able to "
            "fail"
            if sight.needed is not None
            else "; no practical number of episodes would"
        )
        lines.append(
            f"blind: with n={n} no {shift} {sight.direction} {fmt(sight.line)} within the bounds "
            f"would fail this check, not even every episode at the worst value{more}"
        )
    if sight.wanted is not None and (sight.drop is None or sight.drop > sight.wanted):
        more = (
            f"about {sight.wanted_needed} episodes would catch it with {POWER:.0%} probability"
            if sight.wanted_needed is not None
            else "no practical number of episodes would"
        )
        to = sight.line - sight.wanted if sight.direction == "below" else sight.line + sight.wanted
        lines.append(
            f"cannot see: with n={n} a {shift} of {fmt(sight.wanted)} (the tolerance, to "
            f"{fmt(to)}) is likely to pass unnoticed; {more}"
        )
    return lines


def plural(count: int | None, noun: str) -> str:
    return noun if count == 1 else noun + "s"


def lowest_listing(
    values: Sequence[float], seeds: Sequence[int | None], shown: int = 3
) -> tuple[tuple[int | None, str], ...]:
    """(seed, value) rows of the lowest values, lowest first (ties in the given order)."""
    order = sorted(range(len(values)), key=lambda index: values[index])[:shown]
    return tuple(
        (seeds[index] if index < len(seeds) else None, fmt(values[index])) for index in order
    )
