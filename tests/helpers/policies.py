"""Policies for the tests, also copied into pytester folders as ``policies.py`` (the ``policies``
fixture), so this module imports only the standard library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def balance(obs: Any) -> int:
    """A good CartPole-v1 policy: all 500 steps on almost every seed."""
    return int(obs[2] + 0.5 * obs[3] > 0)


def push_left(obs: Any) -> int:
    """A broken CartPole-v1 policy: falls within about ten steps."""
    return 0


def raising_at_call(call: int, message: str, action: int) -> Callable[[Any], int]:
    """A policy that returns ``action``, but raises ``ValueError(message)`` on its ``call``-th
    call (counting from 1, over all episodes): a policy bug in the middle of a run."""
    calls = 0

    def policy(obs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == call:
            raise ValueError(message)
        return action

    return policy
