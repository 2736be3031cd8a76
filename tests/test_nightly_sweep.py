"""The README's seed-sweep advice, run as written on a copy of examples/test_baseline.py with
its committed 200-seed baselines: the quick run pairs ten seeds, the nightly
``--gymrec-seeds=0-199`` pairs all two hundred (a marker does not pin the seeds)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def sweep_project(pytester: pytest.Pytester) -> pytest.Pytester:
    for name in ("test_baseline.py", "agents.py", "conftest.py"):
        shutil.copy(EXAMPLES / name, pytester.path / name)
    shutil.copytree(EXAMPLES / "gymrec_baselines", pytester.path / "gymrec_baselines")
    return pytester


def paired_seeds(pytester: pytest.Pytester, *args: str) -> dict[str, int]:
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--gymrec-json=summary.json", *args
    )
    result.assert_outcomes(passed=2)
    tests = json.loads((pytester.path / "summary.json").read_text())["tests"]
    return {
        entry["nodeid"].split("[")[1].rstrip("]"): entry["verdicts"][0]["episodes"]
        for entry in tests
    }


def test_a_quick_run_pairs_ten_seeds_and_the_nightly_sweep_all(
    sweep_project: pytest.Pytester,
) -> None:
    assert paired_seeds(sweep_project) == {"Acrobot-v1": 10, "CartPole-v1": 10}
    nightly = paired_seeds(sweep_project, "--gymrec-seeds=0-199")
    assert nightly == {"Acrobot-v1": 200, "CartPole-v1": 200}
    # Nothing was rewritten: the sweep compared against the committed files.
    for path in (sweep_project.path / "gymrec_baselines").rglob("*.json"):
        relative = path.relative_to(sweep_project.path)
        assert path.read_bytes() == (EXAMPLES / relative).read_bytes()
