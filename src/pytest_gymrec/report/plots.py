"""PNG pictures of a verdict and of a training loop's learning curve (the ``plots`` extra).

A failing return check is read fastest as a picture: the returns, the line they had to clear,
their mean and its interval. Drawn with ``matplotlib.figure.Figure`` on the Agg canvas, never
through pyplot, whose global state (current figure, backend switching, figures kept alive until
closed) does not belong in a test process. matplotlib is imported inside the functions (about a
third of a second): only a failing test that gets a plot pays for it.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import GymrecUsageError
from ..formatting import fmt
from . import cells

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The one line shown instead of a plot when matplotlib is missing.
INSTALL_HINT = (
    "no plots: matplotlib is not installed; pip install matplotlib (or, in a clone of "
    "pytest-gymrec, pip install -e '.[plots]')"
)
#: Seeds named on a plot: the lowest returns, the most regressed seeds.
NAMED_SEEDS = 3
#: Paired plots label each seed on the x axis up to this many seeds.
_SEED_TICKS = 30
#: Unsuccessful seeds listed on a success-rate plot before "...".
LISTED_SEEDS = 12

_FIGURE_SIZE = (7.2, 4.0)  # inches at 100 dpi: 720 x 400 pixels, readable in pytest-html
_DPI = 100
_COLORS = {"fail": "#c62828", "pass": "#2e7d32", "inconclusive": "#ef6c00"}
_DISTRIBUTION_KINDS = {"mean": "mean", "length": "mean length", "quantile": "quantile"}


def unavailable() -> str | None:
    """None when plots can be drawn; otherwise one line that says how to get them.

    Looks the package up without importing it, so asking costs nothing.
    """
    return None if importlib.util.find_spec("matplotlib") is not None else INSTALL_HINT


def verdict_png(verdict: dict[str, Any]) -> bytes:
    """A picture of one verdict record (``Verdict`` plain data) as PNG bytes.

    By the verdict's ``kind``: ``mean``, ``length`` and ``quantile`` show the values' distribution
    with the line, the estimate and the interval; ``success_rate`` the rate with its interval
    and the unsuccessful seeds; ``paired`` the per-seed change against ``-margin`` with the most
    regressed seeds named; ``sequential`` both evidence paths against the episodes with their
    thresholds. Raises ImportError with :data:`INSTALL_HINT` when matplotlib is missing.
    """
    kind = verdict.get("kind")
    draw = _DRAWERS.get(kind) if isinstance(kind, str) else None
    if draw is None:
        raise GymrecUsageError(
            f"verdict_png(): verdict kind {kind!r} (of {verdict.get('env')!r}: "
            f"{verdict.get('check')!r}) is not one of {', '.join(sorted(_DRAWERS))}; pass a "
            "verdict record as pytest-gymrec puts it on the report"
        )
    figure = _figure()
    axes = figure.add_subplot()
    draw(axes, verdict)
    outcome = str(verdict.get("outcome", ""))
    axes.set_title(
        _plain(f"{outcome.upper()}: {verdict.get('env')}: {verdict.get('check')}"),
        color=_outcome_color(verdict),
        fontsize="medium",
    )
    return _png(figure)


def learning_curve_png(
    episodes: Sequence[dict[str, Any]], filmed_episode_numbers: Iterable[int]
) -> bytes:
    """Returns of a training loop's episodes (numbered from 0, as ``video_trigger`` counts them)
    with a moving average and the filmed episodes marked, as PNG bytes."""
    returns = [cells.finite(episode.get("return")) for episode in episodes]
    numbers = [number for number, value in enumerate(returns) if value is not None]
    values = [value for value in returns if value is not None]
    filmed = sorted({number for number in filmed_episode_numbers if 0 <= number < len(returns)})
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(numbers, values, color="#90a4ae", linewidth=0.8, label="return")
    window = max(1, len(values) // 20)
    if window > 1:
        averaged = _moving_average(values, window)
        axes.plot(
            numbers[window - 1 :], averaged, color="#1565c0", label=f"mean of {window} episodes"
        )
    marked = [(number, value) for number in filmed if (value := returns[number]) is not None]
    if filmed:
        axes.scatter(
            [number for number, _ in marked],
            [value for _, value in marked],
            marker="v",
            s=60,
            color=_COLORS["fail"],
            zorder=3,
            label=f"filmed ({len(filmed)})",
        )
    for number in filmed:
        axes.axvline(number, color=_COLORS["fail"], linewidth=0.6, alpha=0.4)
    axes.set_xlabel("episode")
    axes.set_ylabel("return")
    axes.set_title(f"learning curve: {len(returns)} episodes, {len(filmed)} filmed")
    axes.legend(loc="best", fontsize="small")
    return _png(figure)


# -- one drawer per kind of verdict ---------------------------------------------------------------


def _distribution(axes: Axes, verdict: dict[str, Any]) -> None:
    """Histogram of the values, each value as a tick below it, the lowest seeds named."""
    values, seeds = _values_and_seeds(verdict, "values")
    estimate = cells.finite(verdict.get("estimate"))
    line = cells.finite(verdict.get("line"))
    limits = _limits([*values, *(x for x in (estimate, line) if x is not None)])
    low, high = _interval(verdict, limits)
    # Over the bars (zorder), translucent: the interval is what the verdict was decided on.
    axes.axvspan(low, high, color="#64b5f6", alpha=0.3, zorder=3, label=_interval_label(verdict))
    if values:
        axes.hist(values, bins=min(30, max(5, len(values) // 3)), range=limits, color="#b0bec5")
        axes.plot(values, [0.0] * len(values), "|", color="black", markersize=12, zorder=4)
        lowest = sorted(range(len(values)), key=lambda position: values[position])[:NAMED_SEEDS]
        for rank, position in enumerate(lowest):
            axes.annotate(
                _seed_name(seeds[position]),
                (values[position], 0.0),
                xytext=(2, 10 + 11 * rank),  # stacked: the lowest values are often close
                textcoords="offset points",
                fontsize="x-small",
                zorder=5,
                bbox={"boxstyle": "square,pad=0.1", "color": "white", "alpha": 0.8},
            )
    name = _DISTRIBUTION_KINDS[str(verdict["kind"])]
    _mark_estimate(axes.axvline, estimate, verdict, name)
    if line is not None:
        axes.axvline(line, color="black", linestyle="--", label=f"line {fmt(line)}")
    axes.set_xlim(*limits)
    axes.set_xlabel("episode length" if verdict["kind"] == "length" else "episode return")
    axes.set_ylabel(f"episodes (of {len(values)})")
    axes.legend(loc="best", fontsize="small")


def _success_rate(axes: Axes, verdict: dict[str, Any]) -> None:
    """The rate on [0, 1] with its interval and line; the unsuccessful seeds listed."""
    values, seeds = _values_and_seeds(verdict, "values")
    estimate = cells.finite(verdict.get("estimate"))
    line = cells.finite(verdict.get("line"))
    low, high = _interval(verdict, (0.0, 1.0))
    axes.axvspan(low, high, color="#bbdefb", alpha=0.6, label=_interval_label(verdict))
    if estimate is not None:
        axes.plot(
            [estimate],
            [0.5],
            "o",
            markersize=10,
            color=_outcome_color(verdict),
            label=f"success rate {fmt(estimate)}",
        )
    if line is not None:
        axes.axvline(line, color="black", linestyle="--", label=f"line {fmt(line)}")
    failed = [seeds[position] for position, value in enumerate(values) if value < 0.5]
    listed = ", ".join(_seed_name(seed) for seed in failed[:LISTED_SEEDS])
    more = f" and {len(failed) - LISTED_SEEDS} more" if len(failed) > LISTED_SEEDS else ""
    text = f"{len(values) - len(failed)} of {len(values)} episodes successful"
    if failed:
        text += f"\nnot successful: {listed}{more}"
    axes.text(0.02, 0.1, _plain(text), transform=axes.transAxes, fontsize="small", va="bottom")
    axes.set_xlim(-0.02, 1.02)
    axes.set_ylim(0.0, 1.0)
    axes.set_yticks([])
    axes.set_xlabel("success rate")
    axes.legend(loc="upper left", fontsize="small")


def _paired(axes: Axes, verdict: dict[str, Any]) -> None:
    """Change of each seed (new - baseline) in seed order, against -margin."""
    values, seeds = _values_and_seeds(verdict, "values")
    baseline = verdict.get("baseline_values")
    if not isinstance(baseline, list) or len(baseline) != len(values):
        raise GymrecUsageError(
            f"verdict_png(): a paired verdict needs baseline_values with one value per seed "
            f"({len(values)}), got {baseline!r}; pass the verdict record as pytest-gymrec puts "
            "it on the report"
        )
    changes = [new - float(old) for new, old in zip(values, baseline, strict=True)]
    positions = list(range(len(changes)))
    colors = [
        _COLORS["fail"] if change < 0 else _COLORS["pass"] if change > 0 else "#9e9e9e"
        for change in changes
    ]
    axes.vlines(positions, 0.0, changes, colors=colors, linewidth=1)
    axes.scatter(positions, changes, color=colors, s=12, zorder=3)
    axes.axhline(0.0, color="#616161", linewidth=0.8)
    estimate = cells.finite(verdict.get("estimate"))
    ylimits = _limits([*changes, 0.0, *(x for x in (estimate,) if x is not None)])
    low, high = _interval(verdict, ylimits)
    axes.axhspan(low, high, color="#bbdefb", alpha=0.6, label=_interval_label(verdict))
    _mark_estimate(axes.axhline, estimate, verdict, "mean change")
    margin = cells.finite(verdict.get("margin"))
    if margin is not None:
        axes.axhline(-margin, color="black", linestyle="--", label=f"-margin {fmt(-margin)}")
        ylimits = (min(ylimits[0], -margin), max(ylimits[1], -margin))
    worst = sorted(positions, key=lambda position: changes[position])[:NAMED_SEEDS]
    for position in worst:
        if changes[position] < 0:
            right_half = position > len(changes) / 2  # keep the name inside the axes
            axes.annotate(
                f"{_seed_name(seeds[position])}: {fmt(changes[position])}",
                (position, changes[position]),
                xytext=(-5 if right_half else 5, -2),
                textcoords="offset points",
                fontsize="x-small",
                ha="right" if right_half else "left",
                va="top",
            )
    if len(changes) <= _SEED_TICKS:
        axes.set_xticks(positions, [_seed_label(seed) for seed in seeds], fontsize="x-small")
        axes.set_xlabel("seed")
    else:
        axes.set_xlabel(f"episode in seed order (of {len(changes)})")
    axes.set_ylim(*_padded(ylimits))
    axes.set_ylabel("change in return (new - baseline)")
    axes.legend(loc="best", fontsize="small")


def _sequential(axes: Axes, verdict: dict[str, Any]) -> None:
    """Evidence for a drop and for no drop after each episode, with both thresholds."""
    evidence = verdict.get("evidence")
    if not isinstance(evidence, dict):
        raise GymrecUsageError(
            f"verdict_png(): a sequential verdict needs its evidence (log-capital paths and "
            f"thresholds), got {evidence!r}; pass the verdict record as pytest-gymrec puts it "
            "on the report"
        )
    for key, label, color in (
        ("fail", "evidence of a drop", _COLORS["fail"]),
        ("pass", "evidence of no drop", _COLORS["pass"]),
    ):
        path = [cells.finite(value) for value in evidence.get(key) or []]
        episodes = [number for number, value in enumerate(path, start=1) if value is not None]
        axes.plot(
            episodes, [value for value in path if value is not None], color=color, label=label
        )
        threshold = cells.finite(evidence.get(f"{key}_threshold"))
        if threshold is not None:
            axes.axhline(
                threshold,
                color=color,
                linestyle="--",
                linewidth=1,
                label=f"{key} threshold {fmt(threshold)}",
            )
    used = len(verdict.get("values") or [])
    if used:
        axes.axvline(used, color="#616161", linewidth=0.8, label=f"stopped after {used} episodes")
    axes.set_xlabel("episodes")
    axes.set_ylabel("evidence (log capital)")
    axes.legend(loc="best", fontsize="small")


_DRAWERS = {
    **dict.fromkeys(_DISTRIBUTION_KINDS, _distribution),
    "success_rate": _success_rate,
    "paired": _paired,
    "sequential": _sequential,
}


# -- helpers ---------------------------------------------------------------------------------------


def _figure() -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return Figure(figsize=_FIGURE_SIZE, dpi=_DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # attaches itself: savefig draws with Agg, whatever the backend
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _values_and_seeds(verdict: dict[str, Any], key: str) -> tuple[list[float], list[int | None]]:
    """Finite values of ``verdict[key]`` with their seeds (None where unknown)."""
    raw = verdict.get(key)
    if not isinstance(raw, list):
        raise GymrecUsageError(
            f"verdict_png(): {key} of {verdict.get('env')!r}: {verdict.get('check')!r} must be "
            f"a list of numbers, got {raw!r}; pass the verdict record as pytest-gymrec puts it "
            "on the report"
        )
    seeds = verdict.get("seeds")
    if not isinstance(seeds, list) or len(seeds) != len(raw):
        seeds = [None] * len(raw)
    kept = [
        (float(value), seed)
        for value, seed in zip(raw, seeds, strict=True)
        if cells.finite(value) is not None
    ]
    return [value for value, _ in kept], [seed for _, seed in kept]


def _limits(values: Sequence[float]) -> tuple[float, float]:
    """The data range with 5% room each side (a unit range around a single value)."""
    if not values:
        return (0.0, 1.0)
    return _padded((min(values), max(values)))


def _padded(limits: tuple[float, float]) -> tuple[float, float]:
    low, high = limits
    room = (high - low) * 0.05 or max(abs(low), 1.0) * 0.5
    return (low - room, high + room)


def _interval(verdict: dict[str, Any], limits: tuple[float, float]) -> tuple[float, float]:
    """The interval clipped to the visible range (an unbounded end reaches the plot's edge)."""
    low = cells.finite(verdict.get("low"))
    high = cells.finite(verdict.get("high"))
    return (
        limits[0] if low is None else max(low, limits[0]),
        limits[1] if high is None else min(high, limits[1]),
    )


def _outcome_color(verdict: dict[str, Any]) -> str:
    return _COLORS.get(str(verdict.get("outcome")), "black")


def _mark_estimate(
    draw: Callable[..., object], estimate: float | None, verdict: dict[str, Any], name: str
) -> None:
    """The estimate as a line across the plot (``axes.axvline`` or ``axhline``), in the colour
    of the outcome."""
    if estimate is not None:
        draw(estimate, color=_outcome_color(verdict), linewidth=2, label=f"{name} {fmt(estimate)}")


def _interval_label(verdict: dict[str, Any]) -> str:
    alpha = cells.finite(verdict.get("alpha"))
    # Two one-sided bounds at level alpha each: a 1 - 2 alpha interval.
    level = f"{100 * (1 - 2 * alpha):g}% " if alpha is not None else ""
    return f"{level}interval {cells.interval(verdict)}"


def _seed_name(seed: int | None) -> str:
    return f"seed {seed}" if seed is not None else "unseeded"


def _seed_label(seed: int | None) -> str:
    return str(seed) if seed is not None else "-"


def _moving_average(values: Sequence[float], window: int) -> list[float]:
    averaged = []
    total = sum(values[:window])
    averaged.append(total / window)
    for position in range(window, len(values)):
        total += values[position] - values[position - window]
        averaged.append(total / window)
    return averaged


def _plain(text: str) -> str:
    # matplotlib reads $...$ as TeX math: a "$" in an env id or check must stay a dollar sign.
    return text.replace("$", r"\$")
