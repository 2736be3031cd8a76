"""Small Gymnasium envs for the video tests, each misbehaving in one chosen way.

Used directly by the unit tests and copied into pytester folders (``video_envs.py``) by the
end-to-end tests, so it imports only gymnasium and numpy.
"""

from __future__ import annotations

import os
import pathlib
import time
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Painter(gym.Env[np.ndarray, int | np.int64]):
    """A deterministic env whose frames show the step number; options make it misbehave.

    Reward per step: the action plus the episode's start value (drawn from ``np_random`` at
    reset, so seeds and unseeded resets matter). ``frames`` picks the render fault: ``"ok"``,
    ``"none"`` (render returns None), ``"text"`` (a string), ``"float"`` (float frames),
    ``"grow"`` (the size changes at step 3), ``"raise"`` (render raises at step 2), ``"gray"``
    (2-D frames), ``"rgba"`` (4 channels), ``"abort"`` (render ends the process with
    os.abort(), as MuJoCo without a GL backend does), ``"abort-odd"`` (the same when the
    episode's start value is odd), ``"raise-then-abort"`` (the first render raises, later ones
    abort), ``"hang"`` (render never returns). ``when_rendering`` picks what changes when the env
    renders (as in a replay): ``"diverge"`` changes the rewards from step 3, ``"raise"`` makes
    step 2 raise. ``render_log`` names a file that gets one line per frame rendered.
    """

    # gym.make reads the class's metadata (render modes) before building; gymnasium declares it
    # an instance attribute, which __init__ sets per env (render_fps), so no ClassVar here.
    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 10}  # noqa: RUF012
    #: Frames rendered in this process (for "raise-then-abort").
    rendered: ClassVar[int] = 0

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        length: int = 8,
        size: tuple[int, int] = (24, 32),
        frames: str = "ok",
        when_rendering: str = "",
        render_log: str | None = None,
        fps: Any = 10,
    ) -> None:
        self.render_mode = render_mode
        self.length = length
        self.size = size
        self.frames = frames
        self.when_rendering = when_rendering
        self.render_log = render_log
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": fps}
        self.observation_space = spaces.Box(0.0, 1000.0, (1,), np.float64)
        self.action_space = spaces.Discrete(2)
        self.t = 0
        self.start = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.t = 0
        self.start = int(self.np_random.integers(0, 100))
        if options and "start" in options:
            self.start = int(options["start"])
        return np.array([float(self.start)]), {}

    def step(self, action: int | np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.t += 1
        rendering = self.render_mode is not None
        if rendering and self.when_rendering == "raise" and self.t == 2:
            raise RuntimeError("the physics engine crashed")
        reward = float(action) + self.start / 100
        if rendering and self.when_rendering == "diverge" and self.t >= 3:
            reward += 0.5
        terminated = self.t >= self.length
        return np.array([float(self.start + self.t)]), reward, terminated, False, {}

    def render(self) -> Any:
        if self.render_log is not None:
            with pathlib.Path(self.render_log).open("a") as log:
                log.write(f"{self.t}\n")
        Painter.rendered += 1
        if self.frames == "abort" or (self.frames == "abort-odd" and self.start % 2):
            os.abort()
        if self.frames == "raise-then-abort":
            if Painter.rendered == 1:
                raise RuntimeError("no OpenGL context")
            os.abort()
        if self.frames == "hang":
            time.sleep(3600)
        height, width = self.size
        if self.frames == "none":
            return None
        if self.frames == "text":
            return "a picture of the cart"
        if self.frames == "float":
            return np.zeros((height, width, 3), dtype=np.float32)
        if self.frames == "grow" and self.t >= 3:
            height, width = height + 2, width + 2
        if self.frames == "raise" and self.t == 2:
            raise ValueError("the renderer lost its context")
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[:, : min(width, 1 + self.t), 0] = 255  # a red bar that grows with the step
        image[:, :, 1] = (self.start * 2) % 256
        if self.frames == "gray":
            return image[:, :, 0].copy()
        if self.frames == "rgba":
            return np.concatenate([image, np.full((height, width, 1), 255, np.uint8)], axis=2)
        return image


ENV_ID = "GymrecPainter-v0"
if ENV_ID not in gym.registry:
    # By name, as Gymnasium's own envs are (helpers.video_envs, or video_envs in pytester).
    gym.register(ENV_ID, entry_point=f"{__name__}:Painter", max_episode_steps=1000)


def painter_factory(**kwargs: Any) -> Painter:
    """A zero-argument factory that passes ``render_mode`` on (as the docs ask)."""
    return Painter(**kwargs)


def stubborn_factory() -> Painter:
    """A zero-argument factory that takes no ``render_mode``: videos cannot be made from it."""
    return Painter()


def rendering_factory() -> gym.Env[np.ndarray, int | np.int64]:
    """A zero-argument factory without kwargs whose env renders rgb_array anyway."""
    return Painter(render_mode="rgb_array")
