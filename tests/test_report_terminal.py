"""The end-of-session verdict table at the widths terminals have."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.report_records import (
    NUMBER_HEADER_WORDS,
    entry,
    paired_record,
    sequential_record,
    verdict_record,
)
from pytest_gymrec.report.cells import detects
from pytest_gymrec.report.terminal import verdict_table

LONG_ID = "tests/agents/test_cartpole_regression.py::test_holds_against_release[ppo-block-3]"


def session() -> list[dict[str, Any]]:
    """Four tests in collection order (not alphabetical): long ids, a paired and a sequential
    check whose text is long, a blind check."""
    return [
        entry("tests/test_z.py::test_last_alphabetically", verdict_record()),
        entry(LONG_ID, verdict_record(), paired_record(outcome="pass", estimate=3.25)),
        entry("tests/test_a.py::test_seq", sequential_record(outcome="inconclusive")),
        entry("tests/test_b.py::test_blind", verdict_record(blind=True, detectable_drop=None)),
    ]


@pytest.mark.parametrize("width", [80, 100])
def test_every_line_fits_and_nothing_but_the_id_start_is_lost(width: int) -> None:
    lines = verdict_table(session(), width)
    assert all(len(line) <= width for line in lines), [x for x in lines if len(x) > width]
    text = "\n".join(lines)
    for item in session():
        # The test's own name survives shortening (ids lose their start, with "…").
        assert item["nodeid"].split("::")[-1] in text
        for verdict in item["verdicts"]:
            assert f"{verdict['env']}: {verdict['check']}" in text
            assert detects(verdict) in text
    assert "…" in text  # LONG_ID does not fit beside its check at these widths


@pytest.mark.parametrize("width", [80, 100, 250])
def test_rows_follow_the_given_order(width: int) -> None:
    text = "\n".join(verdict_table(session(), width))
    positions = [
        text.index(name)
        for name in ["test_last_alphabetically", "against_release", "test_seq", "test_blind"]
    ]
    assert positions == sorted(positions)


def test_a_wide_terminal_gets_one_line_per_verdict() -> None:
    lines = verdict_table(session(), 250)
    assert len(lines) == 1 + 5
    header = lines[0].split()
    assert header[:3] == ["test", "env", "episodes"]
    assert "mean / change" in lines[0]
    paired = next(line for line in lines if "vs baseline" in line)
    assert paired.startswith(LONG_ID)
    assert " +3.25 " in paired  # a change, signed
    assert "pass (mean change vs baseline >= -25)" in paired
    blind = next(line for line in lines if "test_blind" in line)
    assert blind.rstrip().endswith("nothing")


def test_a_narrow_terminal_puts_the_numbers_under_the_test() -> None:
    lines = verdict_table(session(), 80)
    assert lines[1].split() == NUMBER_HEADER_WORDS
    paired_at = next(n for n, line in enumerate(lines) if "vs baseline" in line)
    numbers = lines[paired_at + 1].split()
    assert numbers[:2] == ["20", "+3.25"]
    assert numbers == ["20", "+3.25", "[-inf,", "-26.5]", "pass", "drops", ">=", "61.25"]
    # The id, shortened from the left, keeps its end.
    assert any(
        line.startswith("…") and "test_holds_against_release[ppo-block-3]" in line for line in lines
    )


def test_ids_longer_than_the_terminal_are_shortened_from_the_left() -> None:
    nodeid = "tests/" + "very_deep/" * 12 + "test_agent.py::test_holds"
    lines = verdict_table([entry(nodeid, verdict_record())], 60)
    assert all(len(line) <= 60 for line in lines)
    assert any(
        line.startswith("…") and line.endswith("test_agent.py::test_holds") for line in lines
    )


def test_no_verdicts_no_table() -> None:
    assert verdict_table([{**entry("t.py::test_a"), "verdicts": []}], 80) == []
