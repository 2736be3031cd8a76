"""A verdict's numbers as the report tables (terminal, GitHub) and JUnit show them.

The report data is strict JSON, where an infinite interval end is None: every reader here takes
None (or a missing key) as "unbounded" or "not applicable". Pure: no pytest.
"""

from __future__ import annotations

import math
from typing import Any

from ..formatting import fmt

#: Header of the estimate column: paired rows show the mean change against the baseline.
ESTIMATE_COLUMN = "mean / change"


def finite(value: object) -> float | None:
    """``value`` as a float when it is a finite number; None otherwise (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def estimate(verdict: dict[str, Any]) -> str:
    """The mean (rate, quantile); for a paired check the mean change, signed."""
    value = finite(verdict.get("estimate"))
    if value is None:
        return "n/a"
    return f"+{fmt(value)}" if verdict.get("kind") == "paired" and value > 0 else fmt(value)


def interval(verdict: dict[str, Any]) -> str:
    """``[low, high]``; an unbounded end shows as -inf or inf."""
    low = finite(verdict.get("low"))
    high = finite(verdict.get("high"))
    return f"[{fmt(-math.inf if low is None else low)}, {fmt(math.inf if high is None else high)}]"


def outcome_and_check(verdict: dict[str, Any]) -> str:
    return f"{verdict['outcome']} ({verdict['check']})"


def videos_kept(videos: list[dict[str, Any]]) -> str:
    """How many videos a test kept, and how many it wanted but could not make."""
    kept = sum(1 for video in videos if video.get("path") and not video.get("missing"))
    missing = len(videos) - kept
    return f"{kept} ({missing} missing)" if missing else str(kept)


def detects(verdict: dict[str, Any]) -> str:
    """What a verdict could see: the smallest drop it catches with 80% probability, "nothing"
    when no drop within the bounds would be caught, "-" where the check states no such drop
    (certify mode, quantile checks)."""
    if verdict.get("blind"):
        return "nothing"
    drop = verdict.get("detectable_drop")
    return "-" if drop is None else f"drops >= {fmt(drop)}"
