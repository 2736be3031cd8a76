"""What reports show, built from a TestRecord without running pytest."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from helpers.report_records import NUMBER_HEADER_WORDS
from pytest_gymrec.checks.mean import decide_mean
from pytest_gymrec.formatting import fmt
from pytest_gymrec.record import Episode, TestRecord
from pytest_gymrec.report import cells
from pytest_gymrec.report import data as reporting
from pytest_gymrec.report.junit import all_properties
from pytest_gymrec.report.terminal import verdict_table
from pytest_gymrec.verdict import Mode, Subject, Verdict


def episode(seed: int | None, return_: float, **kw: Any) -> Episode:
    return Episode(
        seed=seed,
        return_=return_,
        length=int(return_),
        wall_time=0.5,
        terminated=return_ < 500,
        truncated=return_ >= 500,
        env_label="CartPole-v1",
        **kw,
    )


def verdict(values: list[float], at_least: float, mode: Mode = Mode.NO_REGRESSION) -> Verdict:
    return decide_mean(
        np.asarray(values),
        at_least=at_least,
        at_most=None,
        alpha=0.01,
        bounds=(0.0, 500.0),
        mode=mode,
        rng_key="t",
        subject=Subject("CartPole-v1", tuple(range(len(values)))),
    ).verdict


def record_with(episodes: list[Episode], verdicts: list[Verdict]) -> TestRecord:
    record = TestRecord(nodeid="tests/test_agent.py::test_holds")
    for episode_ in episodes:
        record.add_episode(episode_)
    for verdict in verdicts:
        record.add_verdict(verdict)
    return record


def test_section_lists_verdicts_crashes_and_the_lowest_returns() -> None:
    episodes = [episode(seed, float(500 - 40 * seed)) for seed in range(8)]
    episodes.append(episode(8, 3.0, error="ValueError: bad obs"))
    failed = verdict([e.return_ for e in episodes], 475)
    text = reporting.section_text(record_with(episodes, [failed]))
    lines = text.splitlines()
    assert lines[0].startswith("FAIL: CartPole-v1: mean return >= 475; mean ")
    assert "over 9 episodes, interval [" in lines[0]
    assert "(betting test, bounds (0, 500), alpha=0.01)" in lines[0]
    assert "9 episodes recorded in this test (seeds 0-8), mean return 320.33" in text
    assert "  seed 8: raised after 3 steps: ValueError: bad obs" in lines
    listing = lines[lines.index("lowest returns:") + 1 :]
    # The crashed episode is listed as crashed, not among the lowest returns; five are shown.
    assert [line.split(":")[0].strip() for line in listing] == [
        "seed 7",
        "seed 6",
        "seed 5",
        "seed 4",
        "seed 3",
    ]
    assert listing[0] == "  seed 7: return 220, 220 steps, terminated (CartPole-v1)"


def test_section_without_verdicts_lists_episodes() -> None:
    """A test that failed on the user's own assert still shows what ran."""
    text = reporting.section_text(record_with([episode(None, 500.0)], []))
    assert text.splitlines() == [
        "1 episode recorded in this test (seeds 1 unseeded), mean return 500",
        "lowest returns:",
        "  seed None: return 500, 500 steps, truncated (CartPole-v1)",
    ]


def test_junit_properties_one_set_per_verdict() -> None:
    one = verdict([500.0] * 20, 475)
    properties = dict(all_properties(reporting.report_data(record_with([], [one]))["verdicts"]))
    assert properties["gymrec.verdict"] == "pass"
    assert properties["gymrec.check"] == "CartPole-v1: mean return >= 475"
    assert properties["gymrec.episodes"] == 20
    assert properties["gymrec.mean"] == 500.0
    assert properties["gymrec.interval"] == f"[{fmt(one.low)}, 500]"
    assert 0 < one.low < 475
    assert properties["gymrec.alpha"] == 0.01
    two = all_properties(
        reporting.report_data(record_with([], [one, verdict([10.0] * 20, 475)]))["verdicts"]
    )
    names = [name for name, _ in two]
    assert "gymrec[0].verdict" in names
    assert dict(two)["gymrec[1].verdict"] == "fail"
    assert not any(name.startswith("gymrec.") for name in names)


def test_report_data_survives_json() -> None:
    """xdist moves report attributes between processes as JSON."""
    record = record_with([episode(1, 20.0)], [verdict([20.0] * 12, 475)])
    record.note_baseline("/x/gymrec_baselines/t.json", "created")
    data = reporting.report_data(record)
    assert json.loads(json.dumps(data)) == data
    assert data["episodes"][0]["return"] == 20.0
    assert data["verdicts"][0]["outcome"] == "fail"
    assert data["baselines"] == [{"path": "/x/gymrec_baselines/t.json", "action": "created"}]


def test_summary_table_is_aligned_and_json_summary_sorted() -> None:
    entries = [
        reporting.report_data(record_with([], [verdict([500.0] * 20, 475)])),
        {**reporting.report_data(record_with([], [verdict([9.0] * 10, 475)])), "nodeid": "a::b"},
    ]
    lines = verdict_table(entries, 200)
    assert lines[0].split() == ["test", "env", *NUMBER_HEADER_WORDS]
    starts = [line.index("CartPole-v1") for line in lines[1:]]
    assert len(set(starts)) == 1  # the env column lines up
    assert lines[1].startswith("tests/test_agent.py::test_holds")
    assert "fail (mean return >= 475)  drops >= " in lines[2]
    document = reporting.json_summary(entries)
    assert document["schema"] == reporting.JSON_SCHEMA
    assert [entry["nodeid"] for entry in document["tests"]] == [
        "a::b",
        "tests/test_agent.py::test_holds",
    ]


def test_detects_says_what_a_verdict_could_see() -> None:
    seeing = verdict([490.0 + seed % 10 for seed in range(40)], 475).to_record()
    assert seeing["detectable_drop"] is not None
    assert cells.detects(seeing) == f"drops >= {fmt(seeing['detectable_drop'])}"
    # Ten episodes cannot be evidence against a mean of 50 on (0, 500): the check is blind.
    blind = verdict([0.0] * 10, 50).to_record()
    assert blind["blind"] is True
    assert cells.detects(blind) == "nothing"
    certify = verdict([500.0] * 30, 475, Mode.CERTIFY).to_record()
    assert cells.detects(certify) == "-"
    properties = dict(all_properties([verdict([0.0] * 10, 50).to_record()]))
    assert properties["gymrec.detects"] == "nothing"
