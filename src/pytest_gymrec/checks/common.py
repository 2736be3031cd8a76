"""Small pieces every check module uses: a test's deterministic generator, and the search for
the fewest episodes that make a check do something. Standard library and numpy only."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

#: Largest episode count any "how many episodes would it take" search considers.
EPISODE_SEARCH_LIMIT = 1 << 16


def rng_for(key: str) -> np.random.Generator:
    """A generator determined by ``key`` (a node id): the same verdict on every run."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def smallest_n(enough: Callable[[int], bool], start: int = 1) -> int | None:
    """Smallest n >= ``start`` for which ``enough(n)`` holds, for an ``enough`` that stays true
    once true: doubling finds a sufficient n, bisection walks back to the smallest. None when
    no n up to EPISODE_SEARCH_LIMIT is enough."""
    n = start
    while not enough(n):
        n *= 2
        if n > EPISODE_SEARCH_LIMIT:
            return None
    low = max(start - 1, n // 2)
    while n - low > 1:
        middle = (low + n) // 2
        if enough(middle):
            n = middle
        else:
            low = middle
    return n
