"""Report data shaped as the plugin puts it on ``report.gymrec``, for the report/ unit tests."""

from __future__ import annotations

import math
from typing import Any

#: The verdict table's header over its number columns, word by word (``str.split``): after
#: "test" and "env" on a wide terminal, on a line of its own on a narrow one.
NUMBER_HEADER_WORDS = ["episodes", "mean", "/", "change", "interval", "verdict", "detects"]

#: A CartPole-v1 return check that failed: 20 seeds, returns falling from 500 to 25.
FAILING_RETURNS = [500.0 - 25.0 * seed for seed in range(20)]


def verdict_record(**changes: Any) -> dict[str, Any]:
    """A failing ``mean`` verdict over :data:`FAILING_RETURNS`; ``changes`` replace fields."""
    values = changes.get("values", FAILING_RETURNS)
    record: dict[str, Any] = {
        "env": "CartPole-v1",
        "check": "mean return >= 475",
        "kind": "mean",
        "outcome": "fail",
        "mode": "no-regression",
        "method": "betting confidence sequence, bounds (0, 500)",
        "alpha": 0.01,
        "episodes": len(values),
        "estimate": sum(values) / len(values),
        "low": 180.25,
        "high": 340.5,
        "line": 475.0,
        "tolerance": None,
        "margin": None,
        "detectable_drop": 61.25,
        "blind": False,
        "episodes_needed": None,
        "values": list(values),
        "seeds": list(range(len(values))),
    }
    record.update(changes)
    return record


def paired_record(**changes: Any) -> dict[str, Any]:
    """A failing paired comparison: seeds 17-19 lost most of their return."""
    baseline = [500.0] * 20
    new = [500.0] * 17 + [120.0, 60.0, 30.0]
    change = [b - a for a, b in zip(baseline, new, strict=True)]
    paired = {
        "kind": "paired",
        "check": "mean change vs baseline >= -25",
        "estimate": sum(change) / len(change),
        "low": -math.inf,
        "high": -26.5,
        "line": None,
        "margin": 25.0,
        "values": new,
        "baseline_values": baseline,
    }
    return verdict_record(**{**paired, **changes})


def sequential_record(**changes: Any) -> dict[str, Any]:
    """A sequential check that stopped at 60 episodes with evidence of a drop."""
    values = [300.0 + (seed % 5) * 10.0 for seed in range(60)]
    sequential = {
        "kind": "sequential",
        "check": "mean return >= 475 (sequential, tolerance 0.1)",
        "estimate": sum(values) / len(values),
        "tolerance": 0.1,
        "values": values,
        "seeds": list(range(60)),
        "evidence": {
            "fail": [0.09 * episode for episode in range(1, 61)],
            "pass": [-0.03 * episode for episode in range(1, 61)],
            "fail_threshold": math.log(100.0),
            "pass_threshold": math.log(100.0),
        },
    }
    return verdict_record(**{**sequential, **changes})


def entry(nodeid: str, *verdicts: dict[str, Any], videos: int = 0) -> dict[str, Any]:
    """A test's report data with ``verdicts`` and ``videos`` kept videos."""
    return {
        "nodeid": nodeid,
        "outcome": "failed" if any(v["outcome"] == "fail" for v in verdicts) else "passed",
        "duration": 1.5,
        "verdicts": list(verdicts),
        "episodes": [],
        "videos": [
            {
                "path": f"/out/seed-{seed}.mp4",
                "seed": seed,
                "why": "lowest return",
                "return": 25.0,
                "missing": None,
            }
            for seed in range(videos)
        ],
        "filming_seconds": 0.0,
        "plots": [],
    }
