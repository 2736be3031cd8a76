"""Small pieces every check module uses: a test's deterministic generator, and the search for
the fewest episodes that make a check do something (it lives with the betting tests, its first
user). numpy only."""

from __future__ import annotations

import hashlib

import numpy as np

from .betting import EPISODE_SEARCH_LIMIT, smallest_n

__all__ = ["EPISODE_SEARCH_LIMIT", "rng_for", "smallest_n"]


def rng_for(key: str) -> np.random.Generator:
    """A generator determined by ``key`` (a node id): the same verdict on every run."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))
