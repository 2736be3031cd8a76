"""Numbers and seed lists as people read them in a report. Pure Python: no numpy."""

from __future__ import annotations

import math
from collections.abc import Sequence


def fmt(value: float | None) -> str:
    """Numbers as people read them in a report: 475, 23.46, -1.2e+05."""
    if value is None:
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-2):
        return f"{value:.3g}"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_seeds(seeds: Sequence[int | None]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2,5,7-8"``, the syntax ``--gymrec-seeds`` reads."""
    unseeded = sum(seed is None for seed in seeds)
    numbers = sorted({seed for seed in seeds if seed is not None})
    parts: list[str] = []
    start = previous = None
    for seed in [*numbers, None]:
        if start is not None and (seed is None or previous is None or seed != previous + 1):
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            start = None
        if seed is not None and start is None:
            start = seed
        previous = seed
    text = ",".join(parts)
    if unseeded:
        text = f"{text} and {unseeded} unseeded" if text else f"{unseeded} unseeded"
    return text
