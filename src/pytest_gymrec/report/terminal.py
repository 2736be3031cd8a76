"""The end-of-session verdict table, fitted to the terminal's width.

One line per verdict when that fits; otherwise two: the test id (shortened from the left, where
node ids repeat the folder) with the env and check, then the numbers, indented (three when the
check does not fit beside the id). Rows keep the
order they are given in (the plugin passes collection order: under xdist reports arrive in
completion order, which differs from run to run). Pure: no pytest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import cells

#: A test id is never shortened below this many characters (the test's name is at its end).
MIN_TEST_WIDTH = 24
_GAP = "  "
_INDENT = "  "
_ELLIPSIS = "…"


def verdict_table(entries: Iterable[dict[str, Any]], width: int) -> list[str]:
    """Lines of the table (header first), none longer than ``width``; [] without verdicts.

    Columns: test, env, episodes, mean / change (a paired row's mean change against the
    baseline, signed), interval, verdict (outcome and check), detects (as in the JSON).
    """
    rows = [(str(entry["nodeid"]), verdict) for entry in entries for verdict in entry["verdicts"]]
    if not rows:
        return []
    wide = _aligned(
        [
            ("test", "env", "episodes", cells.ESTIMATE_COLUMN, "interval", "verdict", "detects"),
            *(
                (
                    nodeid,
                    str(verdict["env"]),
                    *_numbers(verdict),
                    cells.outcome_and_check(verdict),
                    cells.detects(verdict),
                )
                for nodeid, verdict in rows
            ),
        ]
    )
    if max(len(line) for line in wide) <= width:
        return wide
    return [_cut(line, max(width, 1)) for line in _two_line(rows, width)]


def _two_line(rows: Sequence[tuple[str, dict[str, Any]]], width: int) -> list[str]:
    """Per verdict: the test id and "env: check", then the numbers, indented. A check too long
    to share a line with the id gets a line of its own."""
    labels = [f"{verdict['env']}: {verdict['check']}" for _, verdict in rows]
    # Room for the ids beside the shortest check; longer checks move to a line of their own.
    id_width = min(
        max(len(nodeid) for nodeid, _ in rows),
        max(MIN_TEST_WIDTH, width // 2, width - len(_GAP) - min(len(label) for label in labels)),
    )
    numbers = _aligned(
        [
            ("episodes", cells.ESTIMATE_COLUMN, "interval", "verdict", "detects"),
            *(
                (*_numbers(verdict), str(verdict["outcome"]), cells.detects(verdict))
                for _, verdict in rows
            ),
        ]
    )
    lines = [f"{'test'.ljust(id_width)}{_GAP}env: check", _INDENT + numbers[0]]
    for (nodeid, _), label, line in zip(rows, labels, numbers[1:], strict=True):
        if id_width + len(_GAP) + len(label) <= width:
            lines.append(f"{_shorten_left(nodeid, id_width).ljust(id_width)}{_GAP}{label}")
        else:
            lines += [_shorten_left(nodeid, width), _INDENT + label]
        lines.append(_INDENT + line)
    return lines


def _numbers(verdict: dict[str, Any]) -> tuple[str, str, str]:
    """episodes, estimate, interval."""
    return (str(verdict["episodes"]), cells.estimate(verdict), cells.interval(verdict))


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        _GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _shorten_left(text: str, width: int) -> str:
    """``text`` with its start replaced by "…" to fit ``width`` (the end names the test)."""
    return text if len(text) <= width else _ELLIPSIS + text[len(text) - width + 1 :]


def _cut(line: str, width: int) -> str:
    """``line`` cut at ``width`` with "…" (only a terminal narrower than the numbers needs it)."""
    return line if len(line) <= width else line[: width - 1] + _ELLIPSIS
