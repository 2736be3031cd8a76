"""What reports show: the terminal section, JUnit properties, the end-of-session table.

Everything is turned into plain data (dicts of str/float/int) before it is put on a report,
because pytest-xdist moves reports between processes as JSON: objects would not survive.
Pure: no pytest, no numpy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..formatting import fmt, format_seeds
from .strict import strict_json

if TYPE_CHECKING:
    from ..record import TestRecord
    from ..verdict import Verdict

#: Name of the attribute that carries plain report data across xdist.
REPORT_ATTRIBUTE = "gymrec"
#: Rows of the per-episode listing under a failure.
LOWEST_EPISODES_SHOWN = 5


def report_data(record: TestRecord) -> dict[str, Any]:
    """The record as plain data for ``report.gymrec``."""
    return {
        "nodeid": record.nodeid,
        "verdicts": [verdict.to_record() for verdict in record.verdicts],
        "episodes": [episode.to_dict() for episode in record.episodes],
        "baselines": [dict(entry) for entry in record.baseline_files],
    }


#: Version of the JSON summary's layout; bumped when a field changes meaning.
JSON_SCHEMA = 1


def write_json_summary(path: Path, entries: Iterable[dict[str, Any]]) -> str | None:
    """Write the ``--gymrec-json`` file (strict JSON: no NaN or Infinity); the reason it could
    not be written, or None."""
    try:
        text = json.dumps(strict_json(json_summary(entries)), indent=2, allow_nan=False) + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        return (
            f"gymrec: could not write the JSON summary to {path}: {type(exc).__name__}: {exc}; "
            "the test outcomes stand (give --gymrec-json=PATH a writable file path)"
        )
    return None


def json_summary(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The ``--gymrec-json`` document: one entry per test that ran episodes or checks."""
    return {
        "schema": JSON_SCHEMA,
        "tests": sorted(entries, key=lambda entry: str(entry["nodeid"])),
    }


def section_text(record: TestRecord) -> str:
    """Text of the ``gymrec`` section printed under a failing test."""
    parts: list[str] = []
    if record.verdicts:
        # The full report of a failed verdict is the exception message above; one line each here.
        parts.append("\n".join(verdict_line(verdict) for verdict in record.verdicts))
    if record.episodes:
        parts.append(_episode_listing(record))
    return "\n\n".join(parts)


def verdict_line(verdict: Verdict) -> str:
    return (
        f"{verdict.outcome.value.upper()}: {verdict.label}: {verdict.check}; mean "
        f"{fmt(verdict.mean)} over {verdict.n} episodes, interval [{fmt(verdict.low)}, "
        f"{fmt(verdict.high)}] ({verdict.method}, alpha={fmt(verdict.alpha)})"
    )


def _episode_listing(record: TestRecord) -> str:
    episodes = record.episodes
    returns = [episode.return_ for episode in episodes]
    mean = sum(returns) / len(returns)
    lines = [
        f"{len(episodes)} episode{'s' * (len(episodes) != 1)} recorded in this test "
        f"(seeds {format_seeds([episode.seed for episode in episodes])}), mean return "
        f"{fmt(mean)}"
    ]
    crashed = [episode for episode in episodes if episode.error is not None]
    for episode in crashed:
        lines.append(f"  seed {episode.seed}: raised after {episode.length} steps: {episode.error}")
    lowest = sorted(
        (episode for episode in episodes if episode.error is None), key=lambda e: e.return_
    )[:LOWEST_EPISODES_SHOWN]
    if lowest:
        lines.append("lowest returns:")
        lines.extend(
            f"  seed {episode.seed}: return {fmt(episode.return_)}, {episode.length} steps, "
            f"{'terminated' if episode.terminated else 'truncated'} ({episode.env_label})"
            for episode in lowest
        )
    return "\n".join(lines)
