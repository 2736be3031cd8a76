"""The GitHub Actions job summary, rendered by cmarkgfm (GitHub's own Markdown) and read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.github_markdown import rendered
from helpers.report_records import entry, paired_record, verdict_record
from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.report.github import COLUMNS, DEFAULT_BUDGET, append_summary, summary_markdown

#: Test ids with every character that means something in a GitHub Markdown table cell.
AWKWARD_IDS = [
    "tests/test_agent.py::test_holds[a|b]",
    "tests/test_agent.py::test_html[<script>alert(1)</script>]",
    "tests/test_agent.py::test_marks[$x$ *y* _z_ `c` ~s~ &amp; \\ [l](u)]",
    "tests/test_agent.py::test_newline[one\ntwo]",
]


def test_the_table_reads_back_cell_by_cell() -> None:
    entries = [
        entry(AWKWARD_IDS[0], verdict_record(), videos=3),
        entry(AWKWARD_IDS[1], verdict_record(outcome="pass", estimate=480.0, low=470.0)),
        entry(AWKWARD_IDS[2], paired_record()),
        entry(AWKWARD_IDS[3], verdict_record(outcome="inconclusive", env="Env|v1", high=None)),
    ]
    entries[0]["videos"][1].update(path=None, missing="renderer crashed")
    tables = rendered(summary_markdown(entries))
    [table] = tables.tables
    assert table[0] == list(COLUMNS)
    assert table[1:] == [
        [
            AWKWARD_IDS[0],
            "CartPole-v1",
            "20",
            "262.5",
            "[180.25, 340.5]",
            "fail (mean return >= 475)",
            "drops >= 61.25",
            "2 (1 missing)",
        ],
        [
            AWKWARD_IDS[1],
            "CartPole-v1",
            "20",
            "480",
            "[470, 340.5]",
            "pass (mean return >= 475)",
            "drops >= 61.25",
            "0",
        ],
        [
            AWKWARD_IDS[2],
            "CartPole-v1",
            "20",
            "-64.5",
            "[-inf, -26.5]",
            "fail (mean change vs baseline >= -25)",
            "drops >= 61.25",
            "0",
        ],
        [
            "tests/test_agent.py::test_newline[one two]",
            "Env|v1",
            "20",
            "262.5",
            "[180.25, inf]",
            "inconclusive (mean return >= 475)",
            "drops >= 61.25",
            "0",
        ],
    ]
    assert tables.bold == [
        "fail (mean return >= 475)",
        "fail (mean change vs baseline >= -25)",
    ]


def test_the_count_line_and_heading() -> None:
    entries = [
        entry("t.py::test_a", verdict_record(), paired_record(outcome="pass", estimate=3.0)),
        entry("t.py::test_b", verdict_record(outcome="pass")),
        {**entry("t.py::test_c"), "verdicts": []},
    ]
    text = summary_markdown(entries)
    assert text.startswith("### pytest-gymrec verdicts\n\n1 fail, 2 pass (3 verdicts in 2 tests)\n")
    # A paired row's change carries its sign; the column name says it may be a change.
    assert rendered(text).tables[0][2][3] == "+3"
    assert summary_markdown([{**entry("t.py::test_c"), "verdicts": []}]) == ""


def test_a_huge_session_stays_under_the_budget_and_keeps_its_failures() -> None:
    nodeid = "tests/" + "deep/" * 20 + "test_agent.py::test_holds[{}]"
    entries = [
        entry(nodeid.format(n), verdict_record(outcome="pass" if n % 100 else "fail"), videos=3)
        for n in range(5000)
    ]
    text = summary_markdown(entries)
    assert len(text.encode("utf-8")) <= DEFAULT_BUDGET
    rows = rendered(text).tables[0][1:]
    failing = [row for row in rows if row[5].startswith("fail")]
    assert len(failing) == 50  # every failure is listed
    assert 0 < len(rows) < 5000
    # Rows keep the session's order.
    shown = [row[0] for row in rows]
    assert shown == [e["nodeid"] for e in entries if e["nodeid"] in set(shown)]
    assert f"{5000 - len(rows)} more verdicts not shown, passing ones first" in text


def test_a_small_budget_drops_failures_last_and_from_the_end() -> None:
    entries = [entry(f"t.py::test_{n}", verdict_record()) for n in range(100)]
    text = summary_markdown(entries, budget=4096)
    assert len(text.encode("utf-8")) <= 4096
    rows = rendered(text).tables[0][1:]
    assert [row[0] for row in rows] == [f"t.py::test_{n}" for n in range(len(rows))]


def test_appending_keeps_what_other_steps_wrote(tmp_path: Path) -> None:
    path = tmp_path / "step_summary.md"
    path.write_text("Coverage: 93%")  # another tool's summary, no trailing newline
    text = summary_markdown([entry("t.py::test_a", verdict_record())])
    append_summary(path, text)
    append_summary(path, text)
    content = path.read_text(encoding="utf-8")
    assert content.startswith("Coverage: 93%\n### pytest-gymrec verdicts")
    assert len(rendered(content).tables) == 2


def test_an_unwritable_summary_path_names_its_source(tmp_path: Path) -> None:
    with pytest.raises(GymrecUsageError, match=r"from --gymrec-github-summary\): IsADirectory"):
        append_summary(tmp_path, "x", source="--gymrec-github-summary")
