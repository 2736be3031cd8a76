"""The GitHub Actions job summary: one Markdown table of the session's verdicts.

GitHub renders the file named by ``$GITHUB_STEP_SUMMARY`` (GitHub Flavored Markdown) on the run's
page and refuses a step's summary over 1 MiB, so the table is cut to a byte budget, failing and
inconclusive verdicts kept first. Pure: no pytest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import GymrecUsageError
from . import cells

#: Bytes of Markdown this plugin writes at most: a quarter of GitHub's 1 MiB limit per step,
#: which other steps' tools share.
DEFAULT_BUDGET = 256 * 1024
#: Column names, in order. Paired rows show the mean change against the baseline.
COLUMNS = (
    "test",
    "env",
    "episodes",
    cells.ESTIMATE_COLUMN,
    "interval",
    "verdict",
    "detects",
    "videos kept",
)
_ALIGN = ("---", "---", "---:", "---:", "---", "---", "---", "---:")
#: Characters that mean something to GitHub Flavored Markdown inside a table cell; a backslash
#: makes each one literal (``$`` starts math on GitHub, ``~`` strikethrough, ``<`` raw HTML).
_SPECIAL = frozenset("\\`*_[]<>|~&$")


def summary_markdown(entries: Iterable[dict[str, Any]], budget: int = DEFAULT_BUDGET) -> str:
    """A heading, a count line and one table row per verdict, in the entries' order.

    ``entries`` are the tests' report data (``nodeid``, ``verdicts``, ``videos``); tests without
    verdicts add no row. Returns "" when no test has a verdict. Past ``budget`` bytes (UTF-8),
    passing rows are left out first, then the last rows, and a note says how many.
    """
    rows: list[tuple[str, str]] = []  # (outcome, Markdown row)
    tests = 0
    for entry in entries:
        verdicts = entry.get("verdicts") or []
        tests += bool(verdicts)
        videos = cells.videos_kept(entry.get("videos") or [])
        for verdict in verdicts:
            outcome = str(verdict["outcome"])
            shown = escape(cells.outcome_and_check(verdict))
            row = [
                *map(escape, (str(entry["nodeid"]), str(verdict["env"]))),
                *map(escape, (str(verdict["episodes"]), cells.estimate(verdict))),
                escape(cells.interval(verdict)),
                f"**{shown}**" if outcome == "fail" else shown,  # markup added after escaping
                escape(cells.detects(verdict)),
                escape(videos),
            ]
            rows.append((outcome, "| " + " | ".join(row) + " |"))
    if not rows:
        return ""
    counts = Counter(outcome for outcome, _ in rows)
    head = [
        "### pytest-gymrec verdicts",
        "",
        ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        + f" ({len(rows)} verdict{'s' * (len(rows) != 1)} in {tests} test{'s' * (tests != 1)})",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "| " + " | ".join(_ALIGN) + " |",
    ]
    kept = _fit(rows, budget - _size(head) - _NOTE_ROOM)
    lines = [*head, *(row for position, (_, row) in enumerate(rows) if position in kept)]
    left_out = len(rows) - len(kept)
    if left_out:
        lines += [
            "",
            f"{left_out} more verdict{'s' * (left_out != 1)} not shown, passing ones first, to "
            f"keep this summary under {budget} bytes; the terminal table and --gymrec-json list "
            "them all.",
        ]
    return "\n".join(lines) + "\n"


def append_summary(path: str | Path, text: str, *, source: str = "GITHUB_STEP_SUMMARY") -> None:
    """Append ``text`` to the summary file at ``path`` (named by ``source`` in errors).

    A blank line first when the file already has content: other steps' tools write there too,
    and a table needs a blank line before it to be a table.
    """
    target = Path(path)
    try:
        separate = target.is_file() and target.stat().st_size > 0
        with target.open("a", encoding="utf-8") as stream:
            stream.write(("\n" if separate else "") + text)
    except OSError as exc:
        raise GymrecUsageError(
            f"cannot append the GitHub job summary to {str(path)!r} (from {source}): "
            f"{type(exc).__name__}: {exc}; point {source} at a writable file"
        ) from None


def escape(text: str) -> str:
    """``text`` as literal content of one GitHub Markdown table cell (one line, no markup)."""
    one_line = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    return "".join(f"\\{char}" if char in _SPECIAL else char for char in one_line)


#: Bytes kept free for the note that says how many rows were left out.
_NOTE_ROOM = 300


def _fit(rows: list[tuple[str, str]], room: int) -> set[int]:
    """Positions of the rows kept within ``room`` bytes: passing rows go first, last first."""
    kept = set(range(len(rows)))
    total = sum(_size([row]) for _, row in rows)
    passing = [position for position, (outcome, _) in enumerate(rows) if outcome == "pass"]
    others = [position for position, (outcome, _) in enumerate(rows) if outcome != "pass"]
    for position in [*reversed(passing), *reversed(others)]:
        if total <= room:
            break
        kept.discard(position)
        total -= _size([rows[position][1]])
    return kept


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)  # + 1: the newline
