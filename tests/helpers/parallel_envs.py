"""Envs and policies for the parallel tests, at module level so worker processes can import them
(an executor pickles functions by reference when their module is importable)."""

from __future__ import annotations

import os
import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


def lean(obs: Any) -> int:
    """A poor CartPole-v1 policy: episodes of 25-60 steps whose lengths differ by seed."""
    return int(obs[2] > 0)


def lean_batched(observations: Any) -> Any:
    """``lean`` for a batch: one action per row."""
    return (np.asarray(observations)[:, 2] > 0).astype(np.int64)


class LeanModel:
    """Stable-Baselines3's predict contract: batched obs in, (actions, state) out."""

    def predict(self, observation: Any, deterministic: bool = False) -> tuple[Any, None]:
        assert deterministic
        return lean_batched(observation), None


def down_right(obs: Any) -> int:
    """A FrozenLake policy: alternate down (1) and right (2) by square; slippery ice randomises."""
    return 1 if int(obs) % 2 == 0 else 2


class Dice(gym.Env[np.ndarray, np.ndarray]):
    """Rewards drawn from the env's generator; ends after a seed-dependent number of steps.

    ``raise_at=(seed, step)`` makes that step of that seed raise; ``exit_at`` makes the reset of
    that seed end the process (a dying worker); ``endless`` never ends; ``nan_at`` returns a NaN
    reward at that (seed, step).
    """

    observation_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
    action_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        raise_at: tuple[int, int] | None = None,
        exit_at: int | None = None,
        nan_at: tuple[int, int] | None = None,
        endless: bool = False,
    ) -> None:
        self.render_mode = render_mode
        self.raise_at = raise_at
        self.exit_at = exit_at
        self.nan_at = nan_at
        self.endless = endless
        self.seed_: int | None = None
        self.steps = 0
        self.length = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None and seed == self.exit_at:
            # Die a little later, so the pool has surely read the chunk this worker finished.
            time.sleep(0.3)
            os._exit(3)
        self.seed_ = seed
        self.steps = 0
        self.length = int(self.np_random.integers(3, 12))
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return self.np_random.uniform(-1, 1, 2).astype(np.float32)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.steps += 1
        if self.raise_at == (self.seed_, self.steps):
            raise ValueError(f"dice fell off the table at step {self.steps}")
        reward = float(self.np_random.normal() + float(action[0]))
        if self.nan_at == (self.seed_, self.steps):
            reward = float("nan")
        return self._obs(), reward, self.steps >= self.length and not self.endless, False, {}


def noisy(obs: Any) -> np.ndarray:
    """A Dice policy computed from the observation, in the action space's dtype."""
    return np.array([obs[0] * 0.5], dtype=np.float32)


def dice_factory(render_mode: str | None = None, **faults: Any) -> Dice:
    return Dice(render_mode, **faults)


def dying_factory(render_mode: str | None = None) -> Dice:
    """A Dice env whose reset of seed 5 ends the process it runs in."""
    return Dice(render_mode, exit_at=5)
