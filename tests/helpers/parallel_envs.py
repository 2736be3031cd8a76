"""Envs and policies for the parallel tests, at module level so worker processes can import them
(an executor pickles functions by reference when their module is importable)."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
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

    ``raise_at=(seed, step)`` makes that step of that seed raise (``strange=True``: an exception
    that cannot be rebuilt from its pickle); ``exit_at`` makes the reset of that seed end the
    process (a dying worker), ``die_at=(seed, step)`` that step; ``endless`` never ends;
    ``nan_at`` returns a NaN reward at that (seed, step).
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
        die_at: tuple[int, int] | None = None,
        endless: bool = False,
        strange: bool = False,
    ) -> None:
        self.render_mode = render_mode
        self.raise_at = raise_at
        self.die_at = die_at
        self.strange = strange
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
            if self.strange:
                raise StrangeError(self.steps, "the table folded")
            raise ValueError(f"dice fell off the table at step {self.steps}")
        if self.die_at == (self.seed_, self.steps):
            os._exit(3)
        reward = float(self.np_random.normal() + float(action[0]))
        if self.nan_at == (self.seed_, self.steps):
            reward = float("nan")
        return self._obs(), reward, self.steps >= self.length and not self.endless, False, {}


class StrangeError(Exception):
    """An exception whose pickle cannot be loaded: its constructor takes other arguments than
    the ``args`` it keeps."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"{what} at step {step}")


def noisy(obs: Any) -> np.ndarray:
    """A Dice policy computed from the observation, in the action space's dtype."""
    return np.array([obs[0] * 0.5], dtype=np.float32)


def dice_factory(render_mode: str | None = None, **faults: Any) -> Dice:
    return Dice(render_mode, **faults)


def dying_factory(render_mode: str | None = None) -> Dice:
    """A Dice env whose reset of seed 5 ends the process it runs in."""
    return Dice(render_mode, exit_at=5)


def broken_factory(render_mode: str | None = None) -> gym.Env[Any, Any]:
    raise OSError("no simulator licence on this machine")


class Typed(gym.Env[Any, Any]):
    """Values of the types envs return besides a float32 array and a float reward, one ``kind``
    at a time; every episode is 3 to 8 steps, drawn from the env's generator.

    - ``float32-reward``: rewards are np.float32, so returns sum in float32;
    - ``float64-obs``: a float32 Box whose observations are float64 arrays;
    - ``dict-obs``: a Dict space of an int and an array;
    - ``int-reward``: Python int rewards, and np.bool_ flags;
    - ``list-obs``: observations are lists, not arrays;
    - ``lock-obs``: observations hold a lock (they cannot be pickled);
    - ``lock-space``: the observation space holds a lock.
    """

    action_space = spaces.Discrete(3)

    def __init__(self, kind: str, render_mode: str | None = None) -> None:
        self.kind = kind
        self.render_mode = render_mode
        box = spaces.Box(-5.0, 5.0, (2,), dtype=np.float32)
        if kind == "dict-obs":
            self.observation_space = spaces.Dict({"count": spaces.Discrete(100), "where": box})
        else:
            self.observation_space = box
        if kind == "lock-space":
            box.guard = threading.Lock()  # type: ignore[attr-defined]
        self.steps = 0
        self.length = 0

    def _obs(self) -> Any:
        where = self.np_random.uniform(-1, 1, 2)
        if self.kind == "dict-obs":
            return {"count": self.steps, "where": where.astype(np.float32)}
        if self.kind == "float64-obs":
            return where
        if self.kind == "list-obs":
            return where.astype(np.float32).tolist()
        if self.kind == "lock-obs":
            return where.astype(np.float32), threading.Lock()
        return where.astype(np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self.steps = 0
        self.length = int(self.np_random.integers(3, 9))
        return self._obs(), {}

    def step(self, action: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        self.steps += 1
        draw = self.np_random.normal() + int(action)
        reward: Any = float(draw)
        if self.kind == "float32-reward":
            reward = np.float32(draw / 3)
        elif self.kind == "int-reward":
            reward = int(draw * 10)
        ended: Any = self.steps >= self.length
        if self.kind == "int-reward":
            ended = np.bool_(ended)
        return self._obs(), reward, ended, False, {}


def typed_factory(kind: str) -> Callable[..., Typed]:
    return functools.partial(Typed, kind)


class Stopwatch(gym.Env[np.ndarray, Any]):
    """Episodes of 4 steps whose observation is (seed, step); the steps of ``slow_seed`` take
    ``delay`` seconds each (an env waiting on something), the others none."""

    observation_space = spaces.Box(0.0, np.inf, (2,), dtype=np.float64)
    action_space = spaces.Discrete(2)

    def __init__(
        self, render_mode: str | None = None, *, slow_seed: int = 0, delay: float = 0.2
    ) -> None:
        self.render_mode = render_mode
        self.slow_seed = slow_seed
        self.delay = delay
        self.seed_ = 0
        self.steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.seed_ = seed if seed is not None else -1
        self.steps = 0
        return np.array([self.seed_, 0.0]), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.seed_ == self.slow_seed:
            time.sleep(self.delay)
        self.steps += 1
        return np.array([self.seed_, self.steps], dtype=np.float64), 1.0, self.steps >= 4, False, {}
