"""Pictures of verdicts: real PNGs from matplotlib's Agg canvas, decoded back with Pillow."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from helpers.report_records import paired_record, sequential_record, verdict_record
from pytest_gymrec.errors import GymrecUsageError
from pytest_gymrec.report import plots

RED = (0xC6, 0x28, 0x28)  # a failing verdict's estimate; regressed seeds; filmed episodes
GREEN = (0x2E, 0x7D, 0x32)  # a passing verdict's estimate; improved seeds
ORANGE = (0xEF, 0x6C, 0x00)  # an inconclusive verdict's estimate


def colours(png: bytes) -> set[tuple[int, int, int]]:
    """Every colour in the image; also checks it is a 720 x 400 PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (720, 400)
        found = image.convert("RGB").getcolors(maxcolors=720 * 400)
    assert found is not None
    return {colour for _, colour in found}


@pytest.mark.parametrize("kind", ["mean", "length", "quantile"])
@pytest.mark.parametrize(
    ("outcome", "shown", "absent"), [("fail", RED, GREEN), ("pass", GREEN, RED)]
)
def test_a_distribution_shows_the_estimate_in_the_colour_of_the_outcome(
    kind: str, outcome: str, shown: tuple[int, int, int], absent: tuple[int, int, int]
) -> None:
    found = colours(plots.verdict_png(verdict_record(kind=kind, outcome=outcome)))
    assert len(found) > 50  # text, bars, lines: not a blank canvas
    assert shown in found
    assert absent not in found


def test_an_inconclusive_verdict_is_drawn_in_its_own_colour() -> None:
    found = colours(plots.verdict_png(verdict_record(outcome="inconclusive")))
    assert ORANGE in found
    assert RED not in found


def test_unbounded_interval_ends_reach_the_edge_of_the_plot() -> None:
    """After strict JSON an infinite end is None; both forms draw."""
    for low, high in [(None, 300.0), (float("-inf"), 300.0), (100.0, None)]:
        assert len(colours(plots.verdict_png(verdict_record(low=low, high=high)))) > 50


def test_a_success_rate_is_drawn_on_zero_to_one() -> None:
    record = verdict_record(
        kind="success_rate",
        check="success rate >= 0.9 (terminated)",
        estimate=0.7,
        low=0.45,
        high=0.88,
        line=0.9,
        values=[1.0] * 14 + [0.0] * 6,
    )
    assert RED in colours(plots.verdict_png(record))


def test_a_paired_comparison_shows_regressed_and_improved_seeds() -> None:
    only_worse = colours(plots.verdict_png(paired_record()))
    assert RED in only_worse
    assert GREEN not in only_worse  # no seed improved, and the verdict failed
    record = paired_record()
    record["values"] = [*record["values"][:-1], 520.0]  # the last seed now improves
    assert GREEN in colours(plots.verdict_png(record))


def test_a_paired_verdict_without_baseline_values_is_refused() -> None:
    with pytest.raises(GymrecUsageError, match=r"baseline_values with one value per seed \(20\)"):
        plots.verdict_png(paired_record(baseline_values=[500.0]))


def test_a_sequential_verdict_shows_both_evidence_paths() -> None:
    found = colours(plots.verdict_png(sequential_record()))
    assert {RED, GREEN} <= found
    with pytest.raises(GymrecUsageError, match="needs its evidence"):
        plots.verdict_png(sequential_record(evidence=None))


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(GymrecUsageError, match=r"verdict kind 'median' \(of 'CartPole-v1'"):
        plots.verdict_png(verdict_record(kind="median"))


def test_a_dollar_sign_in_a_label_is_text_not_tex() -> None:
    # Unescaped, matplotlib would parse "$\x$" as TeX and fail on the unknown command.
    assert len(colours(plots.verdict_png(verdict_record(env="Pong$\\x$-v5")))) > 50


def test_non_finite_returns_are_left_out_of_the_picture() -> None:
    values = [*verdict_record()["values"][:-1], float("nan")]
    assert RED in colours(plots.verdict_png(verdict_record(values=values)))


def test_a_learning_curve_marks_the_filmed_episodes() -> None:
    episodes = [{"return": min(500.0, 10.0 + 0.5 * n + (n % 7) * 5.0)} for n in range(1000)]
    marked = colours(plots.learning_curve_png(episodes, [0, 250, 500, 750]))
    assert RED in marked
    unmarked = colours(plots.learning_curve_png(episodes, []))
    assert RED not in unmarked
    assert len(unmarked) > 50


#: A Python without matplotlib: None in sys.modules is how the import system spells "absent".
WITHOUT_MATPLOTLIB = """
import sys
sys.modules["matplotlib"] = None
from pytest_gymrec.report import plots
from helpers.report_records import verdict_record
print(plots.unavailable())
try:
    plots.verdict_png(verdict_record())
except ImportError as exc:
    print(f"ImportError: {exc}")
"""


def test_without_matplotlib_one_line_says_how_to_get_plots() -> None:
    assert plots.unavailable() is None
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_MATPLOTLIB],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    hint = plots.INSTALL_HINT
    assert "pip install matplotlib" in hint
    assert done.stdout.splitlines() == [hint, f"ImportError: {hint}"]
