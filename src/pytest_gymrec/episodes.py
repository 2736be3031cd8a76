"""Running policies on Gymnasium envs and recording every episode. Gymnasium, no pytest.

The recorder is a subclass of Gymnasium's ``RecordEpisodeStatistics``, so ``return_queue``,
``length_queue``, ``time_queue`` and ``info["episode"]`` are Gymnasium's own. On top it keeps
what a replay needs (seed, RNG state at reset, actions, rewards), which costs two list appends a
step: no rendering happens while tests run.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RecordEpisodeStatistics

from .errors import GymrecEnvError, GymrecPolicyError, GymrecUsageError
from .record import Episode

Policy = Callable[[Any], Any]
EnvFactory = Callable[..., gym.Env[Any, Any]]


def _describe_exception(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclasses.dataclass(frozen=True)
class EnvSource:
    """Where an env comes from: how to build it (again) and what to call it."""

    label: str
    #: Builds a new env; accepts ``render_mode=`` (None when the env cannot be rebuilt).
    factory: EnvFactory | None
    #: An env the user handed over (not ours to close).
    instance: gym.Env[Any, Any] | None = None

    def build(self) -> gym.Env[Any, Any]:
        if self.instance is not None:
            return self.instance
        assert self.factory is not None
        return self.factory()


def _make(
    spec_or_id: str | gym.envs.registration.EnvSpec, caller: str, kwargs: dict[str, Any]
) -> EnvFactory:
    name = spec_or_id if isinstance(spec_or_id, str) else spec_or_id.id

    def factory(**extra: Any) -> gym.Env[Any, Any]:
        try:
            return gym.make(spec_or_id, **{**kwargs, **extra})
        except gym.error.Error as exc:
            raise GymrecEnvError(
                f"{caller}: cannot make env {name!r}: {exc} "
                "(is the id spelled right, and the package that registers it imported?)"
            ) from exc
        except Exception as exc:
            arguments = ", ".join(f"{key}={value!r}" for key, value in {**kwargs, **extra}.items())
            raise GymrecEnvError(
                f"{caller}: gym.make({name!r}{', ' if arguments else ''}{arguments}) raised "
                f"{_describe_exception(exc)}"
            ) from exc

    return factory


def resolve_env(env: object, caller: str, make_kwargs: dict[str, Any] | None = None) -> EnvSource:
    """An env id, an ``EnvSpec``, a zero-argument factory or a ``gymnasium.Env``."""
    kwargs = dict(make_kwargs or {})
    if isinstance(env, str):
        return EnvSource(env, _make(env, caller, kwargs))
    if isinstance(env, gym.envs.registration.EnvSpec):
        return EnvSource(env.id, _make(env, caller, kwargs))
    if isinstance(env, gym.Env):
        if kwargs:
            raise GymrecUsageError(
                f"{caller}: keyword arguments {sorted(kwargs)} are for gym.make, but the env "
                "was given already built; pass its id instead, or drop the arguments"
            )
        spec = env.spec
        rebuild = _make(spec, caller, {}) if spec is not None else None
        return EnvSource(
            spec.id if spec is not None else type(env.unwrapped).__name__, rebuild, instance=env
        )
    if callable(env):
        label = getattr(env, "__name__", None) or type(env).__name__

        def from_factory(**extra: Any) -> gym.Env[Any, Any]:
            try:
                built = env(**{**kwargs, **extra})
            except Exception as exc:
                raise GymrecEnvError(
                    f"{caller}: the env factory {label} raised {_describe_exception(exc)}"
                ) from exc
            if not isinstance(built, gym.Env):
                raise GymrecUsageError(
                    f"{caller}: the env factory {label} returned {built!r}, not a gymnasium.Env"
                )
            return built

        return EnvSource(label, from_factory)
    raise GymrecUsageError(
        f"{caller}: env {env!r} must be an env id such as 'CartPole-v1', an EnvSpec, a "
        "zero-argument factory, or a gymnasium.Env"
    )


def as_policy(policy: object, caller: str) -> Policy:
    """A callable ``obs -> action``, or an SB3-style object with ``.predict(obs, ...)``."""
    predict = getattr(policy, "predict", None)
    if callable(predict):
        name = type(policy).__name__

        def act(observation: Any) -> Any:
            output = predict(observation, deterministic=True)
            if not (isinstance(output, tuple) and len(output) == 2):
                raise GymrecPolicyError(
                    f"{name}.predict(obs, deterministic=True) returned {output!r}; it must return "
                    "(action, state) as in Stable-Baselines3"
                )
            return output[0]

        return act
    if callable(policy):
        return policy
    raise GymrecUsageError(
        f"{caller}: policy {policy!r} must be a callable obs -> action or have "
        ".predict(obs, deterministic=True)"
    )


def _snapshot(action: Any) -> Any:
    """Copy an action if it is mutable: policies may reuse one buffer for every step."""
    if isinstance(action, (int, float, np.generic, str)):
        return action
    if isinstance(action, np.ndarray):
        return action.copy()
    return copy.deepcopy(action)


class EpisodeRecorder(RecordEpisodeStatistics):
    """``RecordEpisodeStatistics`` that also records each episode for checks and replay."""

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        on_episode: Callable[[Episode], None],
        label: str,
        rebuild: EnvFactory | None,
        max_steps: int,
        buffer_length: int = 100,
    ) -> None:
        super().__init__(env, buffer_length=buffer_length)
        self._on_episode = on_episode
        self._label = label
        self._rebuild = rebuild
        self._max_steps = max_steps
        self._seed: int | None = None
        self._options: dict[str, Any] | None = None
        self._actions: list[Any] = []
        self._rewards: list[float] = []
        self._running = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        # An unseeded reset draws from the env's generator: keep its state so a replay can too.
        self._rng_state: dict[str, Any] | None = (
            copy.deepcopy(dict(self.env.unwrapped.np_random.bit_generator.state))
            if seed is None
            else None
        )
        result = super().reset(seed=seed, options=options)
        self._seed = seed
        self._options = copy.deepcopy(options)
        self._actions = []
        self._rewards = []
        self._running = True
        return result

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        if not self._running:
            raise GymrecUsageError(
                f"{self._label}: step() called before reset() or after the episode ended; "
                "call env.reset(seed=...) first"
            )
        if self.episode_lengths >= self._max_steps:
            message = (
                f"{self._label}: the episode for seed {self._seed} did not end within "
                f"max_steps={self._max_steps} steps; give the env a TimeLimit "
                "(gym.make(..., max_episode_steps=N)) or raise max_steps in "
                "@pytest.mark.gymrec(max_steps=...)"
            )
            self._finish(error=f"GymrecEnvError: did not end within {self._max_steps} steps")
            raise GymrecEnvError(message)
        try:
            obs, reward, terminated, truncated, info = super().step(action)
        except Exception as exc:
            self._finish(error=_describe_exception(exc))
            raise GymrecEnvError(
                f"{self._label}: step {self.episode_lengths + 1} of the episode for seed "
                f"{self._seed} raised {_describe_exception(exc)} with action {action!r}; "
                f"the action space is {self.action_space}"
            ) from exc
        self._actions.append(_snapshot(action))
        try:
            value = float(reward)
        except (TypeError, ValueError):
            self._finish(error=f"non-scalar reward {reward!r}")
            raise GymrecEnvError(
                f"{self._label}: step {self.episode_lengths} for seed {self._seed} returned "
                f"reward {reward!r}, which is not a number"
            ) from None
        self._rewards.append(value)
        if not math.isfinite(value):
            self._finish(error=f"reward {value} at step {self.episode_lengths}")
            raise GymrecEnvError(
                f"{self._label}: step {self.episode_lengths} for seed {self._seed} returned "
                f"reward {value}; returns must be finite (check the env's reward and the "
                "actions the policy sends)"
            )
        if terminated or truncated:
            statistics = info[self._stats_key]
            self._finish(
                terminated=bool(terminated),
                truncated=bool(truncated),
                wall_time=float(statistics["t"]),
            )
        return obs, reward, terminated, truncated, info

    def record_crash(self, exc: BaseException) -> None:
        """The policy raised mid-episode: keep the partial episode (its video shows the crash)."""
        if self._running:
            self._finish(error=_describe_exception(exc))

    def _finish(
        self,
        *,
        terminated: bool = False,
        truncated: bool = False,
        wall_time: float | None = None,
        error: str | None = None,
    ) -> None:
        self._running = False
        if wall_time is None:
            wall_time = time.perf_counter() - self.episode_start_time
        self._on_episode(
            Episode(
                seed=self._seed,
                return_=float(sum(self._rewards)),
                length=len(self._rewards),
                wall_time=wall_time,
                terminated=terminated,
                truncated=truncated,
                error=error,
                env_label=self._label,
                actions=self._actions,
                rewards=self._rewards,
                reset_rng_state=self._rng_state,
                reset_options=self._options,
                rebuild=self._rebuild,
            )
        )


def run_episodes(
    recorder: EpisodeRecorder,
    policy: Policy,
    seeds: Iterable[int],
    label: str,
) -> None:
    """One episode per seed: ``reset(seed=s)``, ``action_space.seed(s)``, step until done."""
    for seed in seeds:
        observation, _ = recorder.reset(seed=seed)
        recorder.action_space.seed(seed)
        done = False
        while not done:
            try:
                action = policy(observation)
            except Exception as exc:
                recorder.record_crash(exc)
                raise GymrecPolicyError(
                    f"{label}: the policy raised {_describe_exception(exc)} at seed {seed}, "
                    f"step {recorder.episode_lengths + 1}"
                ) from exc
            observation, _, terminated, truncated, _ = recorder.step(action)
            done = terminated or truncated


def _plain(value: Any) -> Any:
    """``value`` as JSON data that is the same in every process for the same env arguments.

    What JSON cannot hold becomes text: functions and classes their import path, other objects
    their repr, or their type when the repr holds a memory address (which changes every run).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray)):
        return _plain(value.tolist())
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    qualified_name = getattr(value, "__qualname__", None)
    if callable(value) and isinstance(qualified_name, str):
        return f"{getattr(value, '__module__', '?')}.{qualified_name}"
    text = repr(value)
    if " at 0x" in text:
        return f"<{type(value).__module__}.{type(value).__qualname__} object>"
    return text


def env_spec_data(env: gym.Env[Any, Any]) -> dict[str, Any] | None:
    """What of an env's ``EnvSpec`` decides its dynamics, as plain data; None without a spec.

    ``render_mode`` is left out: rendering does not change what happens in an episode, and a
    run that records videos must still pair with one that did not.
    """
    spec = env.spec
    if spec is None:
        return None
    kwargs = {key: value for key, value in spec.kwargs.items() if key != "render_mode"}
    wrappers = [
        {"name": wrapper.name, "kwargs": wrapper.kwargs} for wrapper in spec.additional_wrappers
    ]
    data: dict[str, Any] = _plain(
        {
            "id": spec.id,
            "version": spec.version,
            "max_episode_steps": spec.max_episode_steps,
            "kwargs": kwargs,
            "additional_wrappers": wrappers,
        }
    )
    return data
