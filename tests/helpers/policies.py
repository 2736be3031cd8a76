"""CartPole-v1 policies for the tests, also copied into pytester folders as ``policies.py`` (the
``policies`` fixture), so this module imports nothing."""

from __future__ import annotations

from typing import Any


def balance(obs: Any) -> int:
    """A good CartPole-v1 policy: all 500 steps on almost every seed."""
    return int(obs[2] + 0.5 * obs[3] > 0)


def push_left(obs: Any) -> int:
    """A broken CartPole-v1 policy: falls within about ten steps."""
    return 0
