"""JUnit XML: attachment lines for Jenkins and GitLab, and a verdict's numbers as properties.

Jenkins' JUnit Attachments plugin and GitLab read ``[[ATTACHMENT|path]]`` lines in a test case's
``<system-out>``; pytest writes a test's "stdout" report sections there when ``junit_logging`` is
``system-out``, ``out-err`` or ``all``. Jenkins wants absolute paths (or paths relative to the
workspace); GitLab resolves them against the project directory, hence ``relative_to``.

Properties carry numbers as numbers (``gymrec.line`` = ``475.0``), not inside a sentence, so a CI
dashboard can plot them. Pure: no pytest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import cells


def attachment_lines(paths: Iterable[str | Path], relative_to: Path | None = None) -> str:
    """One ``[[ATTACHMENT|path]]`` line per file, newline-terminated; "" for no files.

    Paths are made absolute (against the current directory when relative). With
    ``relative_to``, each path inside that folder is written relative to it (GitLab resolves
    attachment paths against the project directory); a path outside it stays absolute, since
    no relative form of it would point inside the project.
    """
    lines = []
    for path in paths:
        absolute = Path(os.path.abspath(path))
        shown = absolute
        if relative_to is not None:
            root = Path(os.path.abspath(relative_to))
            if absolute.is_relative_to(root):
                shown = absolute.relative_to(root)
        # A path is one line of system-out: a newline in a file name would end the marker early.
        text = str(shown).replace("\n", " ")
        lines.append(f"[[ATTACHMENT|{text}]]\n")
    return "".join(lines)


def properties(verdict: dict[str, Any], prefix: str = "gymrec") -> list[tuple[str, object]]:
    """One verdict's JUnit properties, numbers as numbers.

    Names as in 0.1.0 (``gymrec.check``, ``gymrec.verdict``, ``gymrec.episodes``,
    ``gymrec.mean``, ``gymrec.interval``, ``gymrec.method``, ``gymrec.alpha``,
    ``gymrec.detects``) plus the numbers a dashboard needs: ``gymrec.low``, ``gymrec.high``,
    ``gymrec.line``, ``gymrec.tolerance`` or (paired) ``gymrec.margin`` and
    ``gymrec.detectable_drop``. For a paired check ``gymrec.mean`` is the mean change. A number
    that is absent, None or infinite (an interval unbounded on one side) is left out, since
    JUnit readers parse property values with their language's float parser and most reject
    "inf".
    """
    named: list[tuple[str, object]] = [
        ("check", f"{verdict['env']}: {verdict['check']}"),
        ("verdict", verdict["outcome"]),
        ("episodes", verdict["episodes"]),
        ("mean", _rounded(cells.finite(verdict.get("estimate")))),
        ("interval", cells.interval(verdict)),
        ("low", cells.finite(verdict.get("low"))),
        ("high", cells.finite(verdict.get("high"))),
        ("line", cells.finite(verdict.get("line"))),
        ("tolerance", cells.finite(verdict.get("tolerance"))),
        ("margin", cells.finite(verdict.get("margin"))),
        ("alpha", cells.finite(verdict.get("alpha"))),
        # Student t without bounds is only approximate: the property says so, as the message.
        (
            "method",
            f"{verdict['method']} (approximate)"
            if verdict.get("approximate")
            else verdict["method"],
        ),
        ("detects", cells.detects(verdict)),
        ("detectable_drop", cells.finite(verdict.get("detectable_drop"))),
    ]
    return [(f"{prefix}.{name}", value) for name, value in named if value is not None]


def all_properties(verdicts: Sequence[dict[str, Any]]) -> list[tuple[str, object]]:
    """Properties of all verdicts of one test: prefix ``gymrec`` for a single verdict,
    ``gymrec[0]``, ``gymrec[1]``, ... when there are several (as 0.1.0 names them)."""
    result: list[tuple[str, object]] = []
    for index, verdict in enumerate(verdicts):
        prefix = "gymrec" if len(verdicts) == 1 else f"gymrec[{index}]"
        result.extend(properties(verdict, prefix))
    return result


def _rounded(value: float | None) -> float | None:
    # 0.1.0 rounded the mean: float noise in the last digits is not information.
    return round(value, 6) if value is not None else None
