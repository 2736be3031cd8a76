"""Agents the examples evaluate: any callable ``obs -> action``, or an object with
``predict(obs, deterministic=True) -> (action, state)`` as in Stable-Baselines3."""

from __future__ import annotations

from typing import Any


def balance(obs: Any) -> int:
    """A good CartPole-v1 controller: push towards the side the pole is falling to."""
    return int(obs[2] + 0.5 * obs[3] > 0)


class PDController:
    """The same controller in Stable-Baselines3's shape, as a trained model would be."""

    def __init__(self, angle_gain: float = 1.0, velocity_gain: float = 0.5) -> None:
        self.angle_gain = angle_gain
        self.velocity_gain = velocity_gain

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
        return int(self.angle_gain * obs[2] + self.velocity_gain * obs[3] > 0), None
