"""Report documents load in strict JSON parsers: no NaN, no Infinity."""

from __future__ import annotations

import json
import math

import pytest

from helpers.report_records import entry, paired_record, verdict_record
from pytest_gymrec.report.strict import strict_json


def refuse_constant(name: str) -> None:
    raise ValueError(f"not JSON: {name}")


def test_infinite_and_nan_numbers_become_null_at_any_depth() -> None:
    document = {
        "schema": 1,
        "tests": [entry("t.py::test_a", paired_record(), verdict_record(estimate=math.nan))],
    }
    text = json.dumps(strict_json(document), allow_nan=False)
    loaded = json.loads(text, parse_constant=refuse_constant)
    paired, broken = loaded["tests"][0]["verdicts"]
    assert paired["low"] is None
    assert paired["high"] == -26.5
    assert broken["estimate"] is None
    assert paired["values"][-3:] == [120.0, 30.0 * 2, 30.0]


def test_plain_python_json_would_write_infinity() -> None:
    # Why strict_json exists: the standard library writes a token strict parsers refuse.
    with pytest.raises(ValueError, match="not JSON: -Infinity"):
        json.loads(json.dumps(paired_record()), parse_constant=refuse_constant)


def test_tuples_become_lists_and_other_values_stay() -> None:
    assert strict_json({"bounds": (0.0, math.inf), "n": 3, "why": None, "ok": True}) == {
        "bounds": [0.0, None],
        "n": 3,
        "why": None,
        "ok": True,
    }
