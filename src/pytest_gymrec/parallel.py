"""Several episodes at once, with results identical per seed to running them one by one.

Four ways to run them, all behind :class:`ParallelRun` (an iterator over episodes in seed
order) and :func:`run_episodes_parallel` (the same, handing each episode to ``keep``):

- ``vectorization_mode="async"``: each env in a worker process of its own
  (:mod:`.env_workers`), served as soon as it answers, without lockstep (:class:`_ServedEngine`);
- ``vectorization_mode="sync"``, or ``batched=True`` (the policy gets the stacked observations
  of all running slots at once): a Gymnasium vector env (``SyncVectorEnv``/``AsyncVectorEnv``)
  of ``num_envs`` slots stepped in lockstep, built here from the env source or handed over by
  the user (:func:`resolve_vector_env`);
- an ``executor=`` (any ``concurrent.futures.Executor``, e.g. a Dask cluster's
  ``Client.get_executor()``) running chunks of seeds in its workers.

Why the vector path looks the way it does: Gymnasium's default autoresets (NEXT_STEP and
SAME_STEP) reset a finished sub-env without a seed, so only each slot's first episode would
follow ``reset(seed=...)``, and "the first N episodes to finish" over-represents short ones. So
slots run with autoreset DISABLED, every episode starts with a masked, seeded reset
``reset(seed=[...], options={"reset_mask": mask})``, statistics are kept per slot here (Gymnasium
1.4's vector ``RecordEpisodeStatistics`` is wrong under masked resets), and episodes are handed
on in seed order whatever order they finish in.

:func:`make_vec` is for hand-written vector loops: a vector wrapper whose per-episode statistics
are right under every autoreset mode.
"""

from __future__ import annotations

import abc
import collections
import concurrent.futures
import copy
import dataclasses
import functools
import math
import multiprocessing.connection
import pickle
import selectors
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from . import env_workers
from .env_workers import Answer, EnvWorker, WorkerDied
from .episodes import (
    EnvFactory,
    EnvSource,
    EpisodeRecorder,
    Policy,
    _describe_exception,
    _snapshot,
    env_spec_data,
    policy_crashed,
    resolve_env,
    run_episodes,
)
from .errors import GymrecEnvError, GymrecPolicyError, GymrecUsageError
from .record import Episode
from .settings import ONE_BY_ONE, Parallelism, check_num_envs

#: Info key under which a slot reports the exception its env raised (the vector env survives).
_ERROR_KEY = "gymrec_error"
#: Reset option that parks a slot: it stops touching its env until its next seeded reset.
_PARK_KEY = "gymrec_park"


# --------------------------------------------------------------------------------------------
# Arguments


@dataclasses.dataclass(frozen=True)
class EpisodeTerms:
    """What every episode needs wherever it runs (a slot, a worker): its step limit, its env's
    label, whether the policy takes batches, and how to rebuild its env for a replay (None in
    a worker: a factory is often a closure, and it is re-attached where the episodes arrive).
    """

    max_steps: int
    label: str
    batched: bool = False
    rebuild: EnvFactory | None = None


@dataclasses.dataclass
class _Unfinished:
    """The episode a slot is running, until it ends as an :class:`Episode`."""

    seed: int | None
    actions: list[Any] = dataclasses.field(default_factory=list)
    rewards: list[float] = dataclasses.field(default_factory=list)
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def add(self, action: Any, reward: float) -> None:
        self.actions.append(_snapshot(action))
        self.rewards.append(reward)

    def end(
        self,
        label: str,
        rebuild: EnvFactory | None,
        *,
        terminated: bool = False,
        truncated: bool = False,
        error: str | None = None,
    ) -> Episode:
        return Episode(
            seed=self.seed,
            return_=float(sum(self.rewards)),
            length=len(self.rewards),
            wall_time=time.perf_counter() - self.started,
            terminated=terminated,
            truncated=truncated,
            error=error,
            env_label=label,
            actions=self.actions,
            rewards=self.rewards,
            rebuild=rebuild,
        )


# --------------------------------------------------------------------------------------------
# Vector envs the user built


@dataclasses.dataclass(frozen=True)
class VectorSource:
    """A vector env the user built (not ours to close), and how to rebuild one of its slots."""

    label: str
    env: SyncVectorEnv | AsyncVectorEnv
    #: Builds one sub-env again for a replay (takes ``render_mode=``); None when unknown.
    factory: EnvFactory | None
    #: The sub-envs' spec (None when they have none).
    spec: gym.envs.registration.EnvSpec | None = None


def _is_sb3_vec_env(env: object) -> bool:
    # Duck-typed: importing stable_baselines3 to check would cost seconds and a dependency.
    return all(
        hasattr(env, name) for name in ("step_async", "step_wait", "env_method", "num_envs")
    ) and not isinstance(env, (gym.Env, VectorEnv))


_HOW_TO_BUILD = (
    "gym.make_vec(env_id, num_envs=N, vectorization_mode='sync' or 'async', "
    "vector_kwargs={'autoreset_mode': gym.vector.AutoresetMode.DISABLED}), or simply pass the "
    "env id with num_envs=N"
)


def resolve_vector_env(
    env: object, caller: str, make_kwargs: dict[str, Any] | None = None
) -> VectorSource | None:
    """A :class:`VectorSource` for a vector env that can seed each slot, None for anything else.

    Refuses (``GymrecUsageError``) vector envs whose episodes cannot be seeded one by one:
    native vector envs such as ``CartPoleVectorEnv``, Sync/Async vector envs with autoresets
    (they reset sub-envs without a seed), vector wrappers (they share state across slots) and
    Stable-Baselines3 VecEnvs.
    """
    if _is_sb3_vec_env(env):
        raise GymrecUsageError(
            f"{caller}: {type(env).__name__} is a Stable-Baselines3 VecEnv; it resets its "
            "sub-envs itself, so episodes cannot be seeded one by one. Pass the env id (or the "
            "env factory you gave it) with num_envs=N instead; an SB3 model works as the "
            "policy, with batched=True for one predict() call for all envs"
        )
    if not isinstance(env, VectorEnv):
        return None
    if make_kwargs:
        raise GymrecUsageError(
            f"{caller}: keyword arguments {sorted(make_kwargs)} are for gym.make, but a vector "
            "env was given already built; drop them"
        )
    name = type(env).__name__
    if env.unwrapped is not env:
        raise GymrecUsageError(
            f"{caller}: {name} wraps a vector env; vector wrappers share state across slots, so "
            "results would depend on which seeds run side by side. Wrap the sub-envs instead "
            "(gym.make_vec(..., wrappers=[...])) and pass the vector env unwrapped"
        )
    if not isinstance(env, (SyncVectorEnv, AsyncVectorEnv)):
        raise GymrecUsageError(
            f"{caller}: {name} cannot reset each of its sub-envs with its own seed, so results "
            f"would not match running the seeds one by one; build it with {_HOW_TO_BUILD}"
        )
    mode = env.metadata.get("autoreset_mode")
    if mode is not AutoresetMode.DISABLED:
        shown = mode.value if isinstance(mode, AutoresetMode) else mode
        raise GymrecUsageError(
            f"{caller}: {name} has autoreset_mode={shown}; its autoresets reset sub-envs without "
            "a seed, so only each slot's first episode would follow its seed. Build it with "
            f"{_HOW_TO_BUILD}"
        )
    specs = env.get_attr("spec")
    spec = specs[0] if specs else None
    factory = resolve_env(spec, caller).factory if spec is not None else None
    label = spec.id if spec is not None else name
    return VectorSource(label, env, factory, spec)


# --------------------------------------------------------------------------------------------
# One slot of a vector env we build


class _Slot(gym.Wrapper[Any, Any, Any, Any]):
    """A sub-env of our vector envs: seeds its action space on reset as ``run_episodes`` does,
    reports an exception as data (so the other slots go on and we know which seed raised) and
    can be parked (an idle slot steps for free instead of running throwaway episodes)."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self._last: Any = None
        self._parked = False

    @property
    def spec(self) -> gym.envs.registration.EnvSpec | None:  # type: ignore[override]
        # Gymnasium's Wrapper overrides Env's attribute with a property the same way.
        # Transparent: a baseline must pair with runs of the same env one by one.
        return self.env.spec

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if options is not None and options.get(_PARK_KEY):
            self._parked = True
            if self._last is None:  # never reset: the batch needs a valid observation
                self._last, _ = self.env.reset()
            return self._last, {}
        self._parked = False
        try:
            # A masked reset leaves {} behind once it popped "reset_mask"; run_episodes passes None.
            observation, info = self.env.reset(seed=seed, options=options or None)
        except Exception as exc:
            self._parked = True
            if self._last is None:
                self._last = self.observation_space.sample()
            return self._last, {_ERROR_KEY: _describe_exception(exc)}
        self.action_space.seed(seed)
        self._last = observation
        return observation, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        if self._parked:
            return self._last, 0.0, False, False, {}
        try:
            observation, reward, terminated, truncated, info = self.env.step(action)
        except Exception as exc:
            self._parked = True
            return self._last, 0.0, False, True, {_ERROR_KEY: _describe_exception(exc)}
        self._last = observation
        return observation, reward, terminated, truncated, info


def _slot_env(factory: EnvFactory) -> gym.Env[Any, Any]:
    return _Slot(factory())


# --------------------------------------------------------------------------------------------
# The action space a policy may sample from


class _SpaceStates:
    """Per-slot RNG states of the action space of the env the user handed over.

    One by one, ``run_episodes`` seeds that space at every reset, so a policy such as
    ``lambda obs: env.action_space.sample()`` draws the same actions for the same seed. With
    several slots that one space is shared: its generators are switched to the slot's state
    around each policy call so every seed still gets its own stream.
    """

    def __init__(self, space: gym.spaces.Space[Any], num_envs: int) -> None:
        self._space = space
        self._spaces = list(_subspaces(space))
        self._states: list[list[Any]] = [[] for _ in range(num_envs)]

    def start(self, slot: int, seed: int) -> None:
        self._space.seed(seed)
        self._states[slot] = self._save()

    def enter(self, slot: int) -> None:
        for space, state in zip(self._spaces, self._states[slot], strict=True):
            space.np_random.bit_generator.state = state

    def leave(self, slot: int) -> None:
        self._states[slot] = self._save()

    def _save(self) -> list[Any]:
        return [space.np_random.bit_generator.state for space in self._spaces]


def _subspaces(space: gym.spaces.Space[Any]) -> Iterator[gym.spaces.Space[Any]]:
    """``space`` and every space inside it (Dict, Tuple, Sequence, Graph, OneOf hold others)."""
    yield space
    for value in vars(space).values():
        if isinstance(value, gym.spaces.Space):
            yield from _subspaces(value)
        elif isinstance(value, (dict, list, tuple)):
            for child in value.values() if isinstance(value, dict) else value:
                if isinstance(child, gym.spaces.Space):
                    yield from _subspaces(child)


# --------------------------------------------------------------------------------------------
# Engines: each runs seeds and fills ``finished``/``errors`` keyed by the seed's position


class _Engine(abc.ABC):
    def __init__(self, seeds: Sequence[int], terms: EpisodeTerms) -> None:
        self.seeds = seeds
        self._terms = terms
        #: Finished (or crashed) episodes by position in ``seeds``, waiting to be handed on.
        self.finished: dict[int, Episode] = {}
        #: The error raised at a position (after its crashed episode, if it has one).
        self.errors: dict[int, Exception] = {}
        #: Positions from here on are not started (a crash or a stop happened before).
        self.limit = len(seeds)

    @abc.abstractmethod
    def advance(self) -> bool:
        """Make progress; False when nothing is running and nothing can start."""

    def crash(self, position: int, error: Exception) -> None:
        """Nothing after ``position`` counts: running it one by one would have stopped here."""
        self.errors[position] = error
        self.limit = min(self.limit, position + 1)

    def stop(self) -> None:
        self.limit = 0

    def reset_raised(self, position: int, description: str) -> GymrecEnvError:
        """The error when the reset that starts ``position``'s episode raised."""
        return GymrecEnvError(
            f"{self._terms.label}: reset(seed={self.seeds[position]}) raised {description}"
        )

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the engine started (envs, pending chunks)."""


class _VectorEngine(_Engine):
    """Seeds over the slots of a vector env with autoreset DISABLED, one masked reset per start."""

    def __init__(
        self,
        env: SyncVectorEnv | AsyncVectorEnv,
        seeds: Sequence[int],
        policy: Policy,
        terms: EpisodeTerms,
        *,
        owned: bool,
        space_states: _SpaceStates | None,
    ) -> None:
        super().__init__(seeds, terms)
        self._env = env
        self._owned = owned
        self._policy = policy
        self._space_states = space_states
        n = env.num_envs
        #: The sub-envs' spec (our slots pass their env's spec through).
        self.spec: gym.envs.registration.EnvSpec | None = env.get_attr("spec")[0]
        self._single_obs_space = env.single_observation_space
        self._single_action_space = env.single_action_space
        # Idle slots of a vector env we did not build run throwaway episodes: they need valid
        # actions, drawn from a copy so no generator the episodes use is touched.
        self._idle_space = copy.deepcopy(env.single_action_space)
        self._idle_space.seed(0)
        self._actions_out = _empty(self._single_action_space, n)
        self._batch_spaces: dict[int, gym.spaces.Space[Any]] = {}
        self._next = 0
        self._position: list[int | None] = [None] * n
        self._needs_reset = [True] * n
        self._first_reset = True
        self._observations: list[Any] = [None] * n
        #: The episode each slot runs (a stale one while the slot is free).
        self._in_progress = [_Unfinished(None) for _ in range(n)]

    # -- starting episodes -----------------------------------------------------------------

    def _reset_slots(self) -> None:
        n = self._env.num_envs
        waiting = [slot for slot in range(n) if self._needs_reset[slot]]
        if not waiting:
            return
        seeds: list[int | None] = [None] * n
        starting = np.zeros(n, dtype=np.bool_)
        idle = np.zeros(n, dtype=np.bool_)
        for slot in waiting:
            self._needs_reset[slot] = False
            if self._next < self.limit:
                self._position[slot] = self._next
                seeds[slot] = self.seeds[self._next]
                starting[slot] = True
                self._next += 1
            else:
                idle[slot] = True
        if not self._owned or self._first_reset:
            # An idle slot of a vector env we did not build runs throwaway episodes from an
            # unseeded reset. The first reset covers every slot: SyncVectorEnv cannot batch the
            # observations of slots that were never reset.
            starting |= idle
        if not self._owned:
            idle[:] = False
        if starting.all():
            observations, info = self._env.reset(seed=cast(Any, seeds))
        elif starting.any():
            # A fresh dict each time: SyncVectorEnv.reset pops "reset_mask" from it.
            observations, info = self._env.reset(
                seed=cast(Any, seeds), options={"reset_mask": starting}
            )
        if starting.any():
            self._first_reset = False
            self._store_observations(observations, starting)
            self._after_reset(info, starting)
        if idle.any():
            observations, _ = self._env.reset(options={"reset_mask": idle, _PARK_KEY: True})
            self._store_observations(observations, idle)

    def _store_observations(self, observations: Any, mask: Any) -> None:
        for slot, observation in enumerate(iterate(self._env.observation_space, observations)):
            if mask[slot]:
                self._observations[slot] = observation

    def _after_reset(self, info: dict[str, Any], started: Any) -> None:
        errors = info.get(_ERROR_KEY)
        for slot in map(int, np.flatnonzero(started)):
            position = self._position[slot]
            if position is None:
                continue
            if errors is not None and info[f"_{_ERROR_KEY}"][slot]:
                self._abandon(slot)
                self.crash(position, self.reset_raised(position, str(errors[slot])))
                continue
            seed = self.seeds[position]
            self._in_progress[slot] = _Unfinished(seed)
            if self._space_states is not None:
                self._space_states.start(slot, seed)
            if not self._owned and isinstance(self._env, SyncVectorEnv):
                # As run_episodes does (our own slots do it themselves; an async one's space
                # lives in its process, out of reach).
                self._env.envs[slot].action_space.seed(seed)

    # -- one step of every running slot -------------------------------------------------------

    def advance(self) -> bool:
        if self._next >= self.limit and all(
            position is None or position >= self.limit for position in self._position
        ):
            return False
        self._reset_slots()
        running = sorted(
            (position, slot)
            for slot, position in enumerate(self._position)
            if position is not None and position < self.limit
        )
        if not running:
            return False
        actions = (
            self._batched_actions(running) if self._terms.batched else self._actions_of(running)
        )
        running = [(p, s) for p, s in running if self._position[s] == p and p < self.limit]
        for position, slot in running:
            max_steps = self._terms.max_steps
            if self._position[slot] == position and self._steps(slot) >= max_steps:
                self._fail(
                    slot,
                    f"GymrecEnvError: did not end within {max_steps} steps",
                    GymrecEnvError(
                        f"{self._terms.label}: the episode for seed {self.seeds[position]} did "
                        f"not end within max_steps={max_steps} steps; give the env a TimeLimit "
                        "(gym.make(..., max_episode_steps=N)) or raise max_steps in "
                        "@pytest.mark.gymrec(max_steps=...)"
                    ),
                )
        running = [(p, s) for p, s in running if self._position[s] == p and p < self.limit]
        if not running:
            return True
        batch = self._action_batch(running, actions)
        if batch is None:
            return True
        try:
            observations, rewards, terminated, truncated, info = self._env.step(batch)
        except Exception as exc:
            # The vector env itself raised (our slots report their env's exceptions as data):
            # a sub-env of a vector env we did not build, or batching what the slots returned.
            position, slot = running[0]
            description = _describe_exception(exc)
            self._fail(
                slot,
                description,
                GymrecEnvError(
                    f"{self._terms.label}: a step of the vector env raised {description} while it "
                    f"ran seeds {[self.seeds[p] for p, _ in running]}; it cannot tell which "
                    "sub-env raised, so the first of them is blamed (run with num_envs=1 to find "
                    "the seed)"
                ),
            )
            for _, other in running[1:]:
                self._abandon(other)
            self.stop()  # the vector env may be broken now
            return True
        taken = list(iterate(self._env.action_space, batch))
        self._observations = list(iterate(self._env.observation_space, observations))
        for slot, held in enumerate(self._position):
            if held is None and (terminated[slot] or truncated[slot]):
                self._needs_reset[slot] = True  # a throwaway episode ended: reset before stepping
        errors = info.get(_ERROR_KEY)
        for position, slot in running:
            if self._position[slot] != position:
                continue
            if errors is not None and info[f"_{_ERROR_KEY}"][slot]:
                description = str(errors[slot])
                self._fail(
                    slot,
                    description,
                    GymrecEnvError(
                        f"{self._terms.label}: step {self._steps(slot) + 1} of the episode for "
                        f"seed {self.seeds[position]} raised {description} with action "
                        f"{actions[slot]!r}; the action space is {self._single_action_space}"
                    ),
                )
                continue
            self._record_step(
                position, slot, taken[slot], rewards[slot], terminated[slot], truncated[slot]
            )
        return True

    def _actions_of(self, running: list[tuple[int, int]]) -> dict[int, Any]:
        actions: dict[int, Any] = {}
        for position, slot in running:
            if self._position[slot] != position or position >= self.limit:
                continue
            if self._space_states is not None:
                self._space_states.enter(slot)
            try:
                actions[slot] = self._policy(self._observations[slot])
            except Exception as exc:
                description = _describe_exception(exc)
                self._fail(
                    slot,
                    description,
                    GymrecPolicyError(
                        f"{self._terms.label}: the policy raised {description} at seed "
                        f"{self.seeds[position]}, step {self._steps(slot) + 1}"
                    ),
                )
            finally:
                if self._space_states is not None:
                    self._space_states.leave(slot)
        return actions

    def _batched_actions(self, running: list[tuple[int, int]]) -> dict[int, Any]:
        slots = [slot for _, slot in running]
        observations = concatenate(
            self._single_obs_space,
            [self._observations[slot] for slot in slots],
            _empty(self._single_obs_space, len(slots)),
        )
        seeds = [self.seeds[position] for position, _ in running]
        try:
            output = self._policy(observations)
        except Exception as exc:
            description = _describe_exception(exc)
            self._fail_batch(
                running,
                description,
                GymrecPolicyError(
                    f"{self._terms.label}: the batched policy raised {description} on the "
                    f"observations of seeds {seeds} (steps "
                    f"{[self._steps(slot) + 1 for slot in slots]})"
                ),
            )
            return {}
        space = self._batch_spaces.get(len(slots))
        if space is None:
            space = self._batch_spaces[len(slots)] = batch_space(
                self._single_action_space, len(slots)
            )
        try:
            actions = list(iterate(space, output))
        except Exception:
            actions = None
        if actions is None or len(actions) != len(slots):
            got = "not a sequence of actions" if actions is None else f"{len(actions)} actions"
            self._fail_batch(
                running,
                f"GymrecPolicyError: {got} for {len(slots)} observations",
                GymrecPolicyError(
                    f"{self._terms.label}: with batched=True the policy gets the {len(slots)} "
                    f"stacked observations of seeds {seeds} and must return one action for "
                    f"each, in order; it returned {got}: {output!r}"
                ),
            )
            return {}
        return dict(zip(slots, actions, strict=True))

    def _action_batch(self, running: list[tuple[int, int]], actions: dict[int, Any]) -> Any:
        """Every slot's action in one batch; idle slots get a throwaway one."""
        items = [
            actions[slot] if slot in actions else self._idle_space.sample()
            for slot in range(self._env.num_envs)
        ]
        try:
            return concatenate(self._single_action_space, items, self._actions_out)
        except Exception as exc:
            culprit = next(
                (
                    (position, slot)
                    for position, slot in running
                    if not _fits(self._single_action_space, actions[slot])
                ),
                running[0],
            )
            position, slot = culprit
            description = _describe_exception(exc)
            self._fail(
                slot,
                description,
                GymrecEnvError(
                    f"{self._terms.label}: step {self._steps(slot) + 1} of the episode for seed "
                    f"{self.seeds[position]} raised {description} with action "
                    f"{actions[slot]!r}; the action space is {self._single_action_space}"
                ),
            )
            return None

    def _record_step(
        self,
        position: int,
        slot: int,
        action: Any,
        reward: Any,
        terminated: Any,
        truncated: Any,
    ) -> None:
        value = float(reward)
        self._in_progress[slot].add(action, value)
        step = self._steps(slot)
        if not math.isfinite(value):
            self._fail(
                slot,
                f"reward {value} at step {step}",
                GymrecEnvError(
                    f"{self._terms.label}: step {step} for seed {self.seeds[position]} returned "
                    f"reward {value}; returns must be finite (check the env's reward and the "
                    "actions the policy sends)"
                ),
            )
        elif terminated or truncated:
            self._finish(slot, terminated=bool(terminated), truncated=bool(truncated))

    # -- ending episodes -----------------------------------------------------------------------

    def _finish(
        self,
        slot: int,
        *,
        terminated: bool = False,
        truncated: bool = False,
        error: str | None = None,
    ) -> None:
        position = self._position[slot]
        assert position is not None
        self.finished[position] = self._in_progress[slot].end(
            self._terms.label,
            self._terms.rebuild,
            terminated=terminated,
            truncated=truncated,
            error=error,
        )
        self._abandon(slot)

    def _steps(self, slot: int) -> int:
        """Steps the episode in ``slot`` has taken so far."""
        return len(self._in_progress[slot].rewards)

    def _abandon(self, slot: int) -> None:
        self._position[slot] = None
        self._needs_reset[slot] = True

    def _fail(self, slot: int, text: str, error: Exception) -> None:
        position = self._position[slot]
        assert position is not None
        self._finish(slot, error=text)
        self.crash(position, error)

    def _fail_batch(self, running: list[tuple[int, int]], text: str, error: Exception) -> None:
        # One call served every slot, so every running episode ends with the same error.
        for _, slot in running:
            self._finish(slot, error=text)
        self.crash(running[0][0], error)

    def crash(self, position: int, error: Exception) -> None:
        super().crash(position, error)
        # Episodes after the crash are abandoned mid-way: one by one, they would never have run.
        for slot, other in enumerate(self._position):
            if other is not None and other >= self.limit:
                self._abandon(slot)

    def stop(self) -> None:
        super().stop()
        for slot, other in enumerate(self._position):
            if other is not None:
                self._abandon(slot)

    def close(self) -> None:
        if self._owned:
            self._env.close()


def _empty(space: gym.spaces.Space[Any], n: int) -> Any:
    """A batch of ``n`` items of ``space`` to concatenate into."""
    return create_empty_array(space, n)


def _fits(space: gym.spaces.Space[Any], action: Any) -> bool:
    try:
        concatenate(space, [action], _empty(space, 1))
    except Exception:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Async: envs in worker processes, each served as soon as it answers


class _Answered(gym.Env[Any, Any]):
    """This process's stand-in for a worker's env: ``reset`` and ``step`` give (or raise) the
    answer the worker sent, which the engine put here just before. An :class:`EpisodeRecorder`
    around it records and checks each episode exactly as ``run_episodes`` does."""

    def __init__(
        self,
        observation_space: gym.spaces.Space[Any],
        action_space: gym.spaces.Space[Any],
        spec: gym.envs.registration.EnvSpec | None,
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.spec = spec
        self.answer: Answer = RuntimeError("no answer yet")

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        answer = self.answer
        if isinstance(answer, BaseException):
            raise answer
        return answer[0], {}

    def step(self, action: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        answer = self.answer
        if isinstance(answer, BaseException):
            raise answer
        observation, reward, terminated, truncated = answer
        return observation, reward, terminated, truncated, {}


@dataclasses.dataclass(eq=False)
class _Served:
    """One slot of the async engine: its worker, and the episode it runs there."""

    index: int
    worker: EnvWorker
    env: _Answered
    recorder: EpisodeRecorder
    #: Position in the seeds of the episode the slot runs; None while free.
    position: int | None = None
    #: A request is out: its answer must be read before the next one is sent.
    waiting: bool = False
    #: The request out is the episode's reset (else a step with ``action``).
    resetting: bool = False
    #: The action sent, as the policy returned it (copied: a policy may reuse its buffer).
    action: Any = None
    alive: bool = True


class _ServedEngine(_Engine):
    """Seeds over envs in worker processes, each worker served as soon as it answers.

    No lockstep: while one worker steps its env, the policy already acts on what another
    answered, so no slot waits for the slowest of a batch. Each slot's episodes go through an
    :class:`EpisodeRecorder` here (around :class:`_Answered`), which records and checks them
    as ``run_episodes`` does, so they are the same episodes, errors included.
    """

    def __init__(
        self,
        factory: EnvFactory,
        num_envs: int,
        seeds: Sequence[int],
        policy: Policy,
        terms: EpisodeTerms,
        space_states: _SpaceStates | None,
    ) -> None:
        super().__init__(seeds, terms)
        self._policy = policy
        self._space_states = space_states
        self._next = 0
        # Idle slots would cost a process each and do nothing.
        workers = [EnvWorker(factory) for _ in range(max(1, min(num_envs, len(seeds))))]
        self._slots: list[_Served] = []
        try:
            for index, worker in enumerate(workers):
                observation_space, action_space, spec = self._ready(worker)
                env = _Answered(observation_space, action_space, spec)
                recorder = EpisodeRecorder(
                    env,
                    on_episode=functools.partial(self._keep, index),
                    label=terms.label,
                    rebuild=terms.rebuild,
                    max_steps=terms.max_steps,
                )
                self._slots.append(_Served(index, worker, env, recorder))
        except BaseException:
            deadline = time.monotonic() + env_workers.CLOSE_TIMEOUT
            for worker in workers:
                worker.close(deadline)
            raise
        #: The env's spec, as the workers built it.
        self.spec: gym.envs.registration.EnvSpec | None = self._slots[0].env.spec
        self._answers = _AnswerWatch(self._slots)

    def _ready(self, worker: EnvWorker) -> tuple[Any, Any, Any]:
        try:
            return worker.ready()
        except WorkerDied as died:
            raise GymrecEnvError(
                f"{self._terms.label}: the worker process for vectorization_mode='async' ended "
                f"while building the env ({died}); build it with vectorization_mode='sync' to "
                "see why"
            ) from None
        except (GymrecEnvError, GymrecUsageError):
            raise  # the env factory's own error, as one by one
        except Exception as exc:
            raise GymrecEnvError(
                f"{self._terms.label}: building the env in a worker process for "
                f"vectorization_mode='async' raised {_describe_exception(exc)}"
            ) from None

    def _keep(self, index: int, episode: Episode) -> None:
        position = self._slots[index].position
        assert position is not None
        self.finished[position] = episode

    def advance(self) -> bool:
        for slot in self._slots:
            if slot.alive and slot.position is None and not slot.waiting:
                if self._next >= self.limit:
                    break
                self._start(slot)
        running = [
            slot for slot in self._slots if slot.position is not None and slot.position < self.limit
        ]
        if not running:
            if self._next < self.limit and not any(slot.alive for slot in self._slots):
                self.crash(
                    self._next,
                    GymrecEnvError(f"{self._terms.label}: every env worker process has ended"),
                )
                return True
            return False
        for slot in self._answers.ready():
            self._receive(slot)
        return True

    def _start(self, slot: _Served) -> None:
        slot.position = self._next
        self._next += 1
        slot.resetting = True
        self._send(slot, slot.worker.reset, self.seeds[slot.position])

    def _send(self, slot: _Served, request: Callable[[Any], None], argument: Any) -> None:
        try:
            request(argument)
        except WorkerDied as died:
            self._died(slot, died)
            return
        slot.waiting = True

    def _receive(self, slot: _Served) -> None:
        try:
            answer = slot.worker.answer()
        except WorkerDied as died:
            self._died(slot, died)
            return
        slot.waiting = False
        position = slot.position
        if position is None or position >= self.limit:
            slot.position = None  # abandoned after a crash or a stop: the answer is not used
            return
        slot.env.answer = answer
        seed = self.seeds[position]
        recorder = slot.recorder
        try:
            if slot.resetting:
                slot.resetting = False
                try:
                    observation, _ = recorder.reset(seed=seed)
                except Exception as exc:
                    raise self.reset_raised(position, _describe_exception(exc)) from None
                if self._space_states is not None:
                    self._space_states.start(slot.index, seed)
            else:
                observation, _, terminated, truncated, _ = recorder.step(slot.action)
                if terminated or truncated:
                    slot.position = None  # the recorder handed the episode to _keep
                    return
            action = self._act(slot, observation, seed)
            if recorder.episode_lengths >= self._terms.max_steps:
                recorder.step(action)  # refuses, as one by one: the episode did not end in time
            slot.action = _snapshot(action)
        except (GymrecEnvError, GymrecPolicyError, GymrecUsageError) as error:
            slot.position = None
            self.crash(position, error)
            return
        self._send(slot, slot.worker.step, action)

    def _act(self, slot: _Served, observation: Any, seed: int) -> Any:
        states = self._space_states
        if states is not None:
            states.enter(slot.index)
        try:
            return self._policy(observation)
        except Exception as exc:
            raise policy_crashed(slot.recorder, exc, self._terms.label, seed) from exc
        finally:
            if states is not None:
                states.leave(slot.index)

    def _died(self, slot: _Served, died: WorkerDied) -> None:
        """A worker's process ended: its episode fails naming the seed, the run stops there."""
        slot.alive = slot.waiting = False
        self._answers.forget(slot)
        position = slot.position
        if position is None or position >= self.limit:
            slot.position = None
            return
        seed = self.seeds[position]
        if slot.resetting:
            where = f"at reset(seed={seed})"
        else:
            where = f"at step {slot.recorder.episode_lengths + 1}"
            slot.recorder.record_crash(died)  # the episode so far, for the report
        slot.position = None
        self.crash(
            position,
            GymrecEnvError(
                f"{self._terms.label}: the worker process running the episode for seed {seed} "
                f"ended ({died}) {where}: the env crashed it "
                "(a crash in native code, os._exit, or killed by the OS, e.g. out of memory); "
                "run that seed with vectorization_mode='sync' to see the error"
            ),
        )

    def close(self) -> None:
        for slot in self._slots:
            slot.worker.ask_to_close()
        # One deadline for all: workers stuck in a step wait together, not one after another.
        deadline = time.monotonic() + env_workers.CLOSE_TIMEOUT
        for slot in self._slots:
            slot.worker.close(deadline)
        self._answers.close()


class _AnswerWatch:
    """Waits until some workers have answered: a selector registered once (about 1 us a wait)
    where pipes can be selected, ``multiprocessing.connection.wait`` on Windows."""

    def __init__(self, slots: list[_Served]) -> None:
        self._slots = {slot.worker.connection: slot for slot in slots}
        self._selector: selectors.BaseSelector | None = None
        if sys.platform != "win32":
            self._selector = selectors.DefaultSelector()
            for connection, slot in self._slots.items():
                self._selector.register(connection, selectors.EVENT_READ, slot)

    def ready(self) -> list[_Served]:
        """The slots whose worker answered (or ended), waiting for at least one."""
        if self._selector is not None:
            return [key.data for key, _ in self._selector.select()]
        waiting = [c for c, slot in self._slots.items() if slot.waiting]
        return [self._slots[c] for c in multiprocessing.connection.wait(waiting)]  # type: ignore[index]

    def forget(self, slot: _Served) -> None:
        if self._selector is not None:
            self._selector.unregister(slot.worker.connection)
        del self._slots[slot.worker.connection]

    def close(self) -> None:
        if self._selector is not None:
            self._selector.close()


# --------------------------------------------------------------------------------------------
# Executors: seed chunks in the executor's workers


@dataclasses.dataclass
class ChunkResult:
    """What a worker sends back for a chunk of seeds: its episodes as data, and the error that
    stopped the chunk (as ``run_episodes`` raised it), if any."""

    episodes: list[Episode]
    error: Exception | None = None
    #: The spec of the env the worker built (for baselines), None when it has none.
    spec: gym.envs.registration.EnvSpec | None = None


def run_chunk(payload: bytes, seeds: list[int], terms: EpisodeTerms) -> ChunkResult:
    """Run one chunk of seeds in a worker; module-level so any executor can pickle it.

    Errors come back as data after the episodes that ran, as ``run_episodes`` raises them (an
    error of another kind is named with its seed): a raised exception would lose the episodes.
    """
    result = ChunkResult([])
    label = terms.label
    try:
        try:
            source, policy = pickle.loads(payload)
        except Exception as exc:
            raise GymrecUsageError(
                f"{label}: the worker could not load the env or the policy "
                f"({_describe_exception(exc)}); the modules that define them must be importable "
                "in the workers (install the package there or put it on PYTHONPATH)"
            ) from None
        if terms.batched:
            with ParallelRun(
                source,
                policy,
                seeds,
                max_steps=terms.max_steps,
                label=label,
                parallelism=Parallelism(batched=True),
            ) as run:
                result.episodes.extend(run)
                result.spec = run.spec
        else:
            env = source.build()
            result.spec = env.spec
            recorder = EpisodeRecorder(
                env,
                on_episode=result.episodes.append,
                label=label,
                rebuild=None,
                max_steps=terms.max_steps,
            )
            try:
                run_episodes(recorder, policy, seeds, label)
            finally:
                recorder.close()
    except (GymrecEnvError, GymrecPolicyError, GymrecUsageError) as exc:
        result.error = exc
    except Exception as exc:  # e.g. a reset that raised: one by one, it would end the run too
        seed = seeds[min(len(result.episodes), len(seeds) - 1)]
        result.error = GymrecEnvError(
            f"{label}: the episode for seed {seed} raised {_describe_exception(exc)} in a worker"
        )
    for episode in result.episodes:
        episode.rebuild = None  # a closure: re-attached where the result arrives
    return result


def _payload(source: EnvSource, policy: Policy, caller: str) -> bytes:
    """The env source and the policy, pickled together so a policy that samples from the env
    the user handed over samples from the very copy the worker steps."""
    import cloudpickle  # a Gymnasium dependency; pickles lambdas and closures by value

    try:
        return bytes(cloudpickle.dumps((source, policy)))
    except Exception as exc:
        description = _describe_exception(exc)
    try:
        cloudpickle.dumps(policy)
    except Exception:
        what = "the policy"
    else:
        what = "the env"
    raise GymrecUsageError(
        f"{caller}: executor= sends the env and the policy to worker processes, but {what} "
        f"cannot be pickled ({description}). Define it as a module-level function or class, "
        "or an object whose state pickles (a lambda or closure works only if everything it "
        "captures pickles: not locks, open files, sockets or live renderers); pass the env as "
        "an id, an EnvSpec or a module-level factory; or drop executor="
    )


class _ExecutorEngine(_Engine):
    """Chunks of seeds submitted in seed order, two per worker in flight at a time."""

    def __init__(
        self,
        executor: concurrent.futures.Executor,
        seeds: Sequence[int],
        payload: bytes,
        terms: EpisodeTerms,
        parallelism: Parallelism,
    ) -> None:
        super().__init__(seeds, terms)
        self._executor = executor
        self._payload = payload
        workers = parallelism.num_envs
        # Two chunks per worker: a worker finds its next chunk waiting when one ends.
        self._in_flight = 2 * workers
        self._chunk_size = parallelism.chunk_size or max(1, math.ceil(len(seeds) / (4 * workers)))
        self._next = 0
        self._running: dict[concurrent.futures.Future[ChunkResult], int] = {}
        #: The env's spec, as the first chunk to return reports it.
        self.spec: gym.envs.registration.EnvSpec | None = None

    def _submit(self) -> None:
        while len(self._running) < self._in_flight and self._next < self.limit:
            start = self._next
            chunk = list(self.seeds[start : min(start + self._chunk_size, self.limit)])
            self._next += len(chunk)
            # The factory stays here: it is often a closure, which a worker could not unpickle.
            terms = dataclasses.replace(self._terms, rebuild=None)
            future = self._executor.submit(run_chunk, self._payload, chunk, terms)
            self._running[future] = start

    def advance(self) -> bool:
        self._submit()
        if not self._running:
            return False
        done, _ = concurrent.futures.wait(
            self._running, return_when=concurrent.futures.FIRST_COMPLETED
        )
        for future in sorted(done, key=self._running.__getitem__):
            start = self._running.pop(future)
            self._receive(start, future)
        return True

    def _receive(self, start: int, future: concurrent.futures.Future[ChunkResult]) -> None:
        if start >= self.limit:
            return
        try:
            result = future.result()
        except Exception as exc:
            chunk = list(self.seeds[start : start + self._chunk_size])
            self.crash(
                start,
                GymrecEnvError(
                    f"{self._terms.label}: the executor could not run the chunk of seeds {chunk}: "
                    f"{_describe_exception(exc)} (when a worker process dies, e.g. killed by "
                    "the OS or by a crash in native code, its chunk is lost; the episodes of "
                    "earlier seeds are kept)"
                ),
            )
            return
        if self.spec is None:
            self.spec = result.spec
        for offset, episode in enumerate(result.episodes):
            episode.rebuild = self._terms.rebuild
            self.finished[start + offset] = episode
        if result.error is not None:
            crashed = result.episodes and result.episodes[-1].error is not None
            self.crash(start + len(result.episodes) - (1 if crashed else 0), result.error)

    def crash(self, position: int, error: Exception) -> None:
        super().crash(position, error)
        for future, start in list(self._running.items()):
            if start >= self.limit and future.cancel():
                del self._running[future]

    def stop(self) -> None:
        super().stop()
        for future in list(self._running):
            if future.cancel():
                del self._running[future]

    def collect_done(self) -> None:
        """Take in the chunks that already finished, without waiting for the others."""
        for future, start in list(self._running.items()):
            if future.done() and not future.cancelled():
                del self._running[future]
                self._receive(start, future)

    def close(self) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# The public runner


class ParallelRun:
    """Episodes on ``seeds`` from several envs at once, handed on in seed order.

    Iterating yields each episode in seed order as soon as every earlier one is in, so a
    consumer may stop at any point (the sequential test stops once its verdict is clear). The
    episodes are those ``run_episodes`` gives one by one: same seed, return, length, flags,
    actions, rewards and error text, with ``reset_rng_state`` None and ``rebuild`` the source's
    factory (so failure videos replay them). When an episode crashes, it is yielded and the
    next step of the iteration raises the same error ``run_episodes`` would; episodes of later
    seeds that already ran are not yielded.

    :meth:`close` stops everything and returns the episodes that finished beyond the last one
    yielded ("ran, not used"). Use it as a context manager::

        with ParallelRun(
            source, policy, seeds, max_steps=..., label=..., parallelism=Parallelism(num_envs=4)
        ) as run:
            for episode in run:
                ...
        extra = run.extra

    ``source`` is an :class:`EnvSource` (``episodes.resolve_env``) or a :class:`VectorSource`
    (:func:`resolve_vector_env`). ``parallelism`` (:class:`Parallelism`) says how they run:
    ``num_envs`` slots in a ``SyncVectorEnv`` (``vectorization_mode="sync"``), or each in a
    worker process of its own, served as soon as it answers (``"async"``; with ``batched=True``
    an ``AsyncVectorEnv`` in lockstep); with a :class:`VectorSource` its own slots are used.
    With ``executor``, ``num_envs`` is the number of workers to keep busy: chunks of
    ``chunk_size`` seeds (default: about four chunks per worker) run in the executor's workers,
    two per worker submitted at a time (so stopping early wastes at most those). Each chunk
    pickles the env source and the policy anew (cloudpickle) and builds one env.
    ``batched=True`` calls the policy once a step with the stacked observations of every running
    slot; it must return one action per observation (an SB3 model's ``predict`` does). A policy
    that samples from the action space of the env the user handed over (``lambda obs:
    env.action_space.sample()``) draws what it would draw one by one: the space's generators are
    switched per slot around each call (not with ``batched=True``).
    """

    def __init__(
        self,
        source: EnvSource | VectorSource,
        policy: Policy,
        seeds: Iterable[int],
        *,
        max_steps: int,
        label: str,
        parallelism: Parallelism = ONE_BY_ONE,
        caller: str = "gymrec.evaluate()",
    ) -> None:
        parallelism = parallelism.checked(caller)
        num_envs = parallelism.num_envs
        terms = EpisodeTerms(max_steps, label, parallelism.batched, source.factory)
        seeds = list(seeds)
        self.extra: list[Episode] = []
        self._consumed = 0
        self._engine: _Engine
        if parallelism.executor is not None:
            if isinstance(source, VectorSource):
                raise GymrecUsageError(
                    f"{caller}: executor= runs episodes in its own workers, so it needs the env "
                    "as an id, an EnvSpec or a factory, not a built vector env"
                )
            if source.instance is not None and source.factory is None:
                raise GymrecUsageError(
                    f"{caller}: executor= needs to build the env in its workers, and the "
                    f"{source.label} env given has no spec to rebuild it from; pass its id or "
                    "a module-level factory"
                )
            self._engine = _ExecutorEngine(
                parallelism.executor, seeds, _payload(source, policy, caller), terms, parallelism
            )
            return
        space_states = None
        if isinstance(source, VectorSource):
            if num_envs not in (1, source.env.num_envs):
                raise GymrecUsageError(
                    f"{caller}: num_envs={num_envs} but the vector env given has "
                    f"{source.env.num_envs} slots; drop num_envs or make them agree"
                )
            env, owned = source.env, False
        else:
            if source.factory is None:
                raise GymrecUsageError(
                    f"{caller}: num_envs={num_envs} needs {num_envs} copies of the env, and the "
                    f"{source.label} env given has no spec to build them from; pass its id or a "
                    "zero-argument factory"
                )
            if source.instance is not None and not parallelism.batched:
                space_states = _SpaceStates(source.instance.action_space, num_envs)
            if parallelism.vectorization_mode == "async" and not parallelism.batched:
                self._engine = _ServedEngine(
                    source.factory, num_envs, seeds, policy, terms, space_states
                )
                return
            factory = functools.partial(_slot_env, source.factory)
            sync = parallelism.vectorization_mode == "sync"
            vector_type = SyncVectorEnv if sync else AsyncVectorEnv
            env = vector_type([factory] * num_envs, autoreset_mode=AutoresetMode.DISABLED)
            owned = True
        self._engine = _VectorEngine(
            env, seeds, policy, terms, owned=owned, space_states=space_states
        )

    @property
    def spec(self) -> gym.envs.registration.EnvSpec | None:
        """The spec of the env the episodes ran on (with an executor: once a chunk returned)."""
        engine = self._engine
        assert isinstance(engine, (_ExecutorEngine, _ServedEngine, _VectorEngine))
        return engine.spec

    def env_spec_data(self) -> dict[str, Any] | None:
        """``episodes.env_spec_data`` of the env the episodes ran on, for baselines."""
        return spec_data(self.spec)

    def __iter__(self) -> Iterator[Episode]:
        engine = self._engine
        while self._consumed < engine.limit or self._consumed in engine.errors:
            position = self._consumed
            while position not in engine.finished and position not in engine.errors:
                if not engine.advance():
                    return
            episode = engine.finished.pop(position, None)
            if episode is not None:
                self._consumed = position + 1
                yield episode
            if position in engine.errors:
                self._consumed = position + 1
                raise engine.errors[position]

    def close(self) -> list[Episode]:
        """Stop, release the envs, and return (and keep in :attr:`extra`) the episodes that
        finished beyond the last one yielded, in seed order."""
        engine = self._engine
        if isinstance(engine, _ExecutorEngine):
            engine.collect_done()
        engine.stop()
        engine.close()
        self.extra = [
            engine.finished[position]
            for position in sorted(engine.finished)
            if position >= self._consumed
        ]
        engine.finished.clear()
        return self.extra

    def __enter__(self) -> ParallelRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_episodes_parallel(
    source: EnvSource | VectorSource,
    policy: Policy,
    seeds: Iterable[int],
    *,
    max_steps: int,
    keep: Callable[[Episode], None],
    label: str,
    parallelism: Parallelism = ONE_BY_ONE,
    caller: str = "gymrec.evaluate()",
    until: Callable[[], bool] = lambda: False,
) -> tuple[dict[str, Any] | None, list[Episode]]:
    """``run_episodes`` with several envs at once: ``keep`` gets every episode in seed order
    until ``until()`` holds (a sequential test that decided).

    Identical per seed to ``run_episodes`` (see :class:`ParallelRun`), including the error
    raised after a crashed episode was kept. Returns the env's spec as plain data and the
    episodes that finished beyond the last one handed on (several envs run past a stop).
    """
    with ParallelRun(
        source,
        policy,
        seeds,
        max_steps=max_steps,
        label=label,
        parallelism=parallelism,
        caller=caller,
    ) as run:
        for episode in run:
            keep(episode)
            if until():
                break
    return run.env_spec_data(), run.extra


def spec_data(spec: gym.envs.registration.EnvSpec | None) -> dict[str, Any] | None:
    """``episodes.env_spec_data`` from a spec, without an env to read it from."""
    # env_spec_data reads nothing but the env's ``spec``.
    return env_spec_data(cast(Any, types.SimpleNamespace(spec=spec)))


# --------------------------------------------------------------------------------------------
# Hand-written vector loops


class VectorEpisodeRecorder(gym.vector.VectorWrapper):
    """Per-episode statistics of a vector env, right under every autoreset mode.

    Each finished episode goes to ``keep`` (in the order they finish) and to ``return_queue``,
    ``length_queue`` and ``time_queue``; ``info["episode"]`` (``r``, ``l``, ``t``, with the mask
    ``info["_episode"]``) is set as Gymnasium's vector ``RecordEpisodeStatistics`` sets it. An
    episode started by ``reset(seed=...)`` carries its seed and can be replayed for a video; one
    started by an autoreset (NEXT_STEP, SAME_STEP) was reset without a seed: its seed is None.
    Unlike Gymnasium 1.4's wrapper, a masked ``reset(options={"reset_mask": mask})`` starts
    episodes only in the masked slots, and the caller's ``options`` dict is left as it was.
    """

    def __init__(
        self,
        env: VectorEnv[Any, Any, Any],
        *,
        keep: Callable[[Episode], None],
        label: str,
        rebuild: EnvFactory | None,
        seeds: bool = True,
        buffer_length: int = 100,
    ) -> None:
        super().__init__(env)
        #: False for vector envs that seed all slots from one generator (no per-slot seed).
        self._slot_seeds = seeds
        self._keep = keep
        #: The env id (named in warnings about this env).
        self.label = label
        self._rebuild = rebuild
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self._mode = mode if isinstance(mode, AutoresetMode) else AutoresetMode(mode)
        n = env.num_envs
        #: The episode each slot runs, None before its first reset.
        self._in_progress: list[_Unfinished | None] = [None] * n
        #: NEXT_STEP: the slot ended last step, so this step is its (unseeded) reset.
        self._autoreset = np.zeros(n, dtype=np.bool_)
        self.return_queue: collections.deque[float] = collections.deque(maxlen=buffer_length)
        self.length_queue: collections.deque[int] = collections.deque(maxlen=buffer_length)
        self.time_queue: collections.deque[float] = collections.deque(maxlen=buffer_length)
        #: The sub-envs' spec, for baselines (None for native vector envs: no sub-envs).
        self.sub_env_spec: gym.envs.registration.EnvSpec | None = (
            env.get_attr("spec")[0] if isinstance(env, (SyncVectorEnv, AsyncVectorEnv)) else None
        )

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        n = self.num_envs
        mask = np.ones(n, dtype=np.bool_)
        if options is not None:
            options = dict(options)  # the vector env pops "reset_mask": not from the caller's
            if "reset_mask" in options:
                mask = np.asarray(options["reset_mask"], dtype=np.bool_)
        if seed is None or not self._slot_seeds:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(n)]
        else:
            seeds = list(seed)
        result = self.env.reset(seed=cast(Any, seed), options=options)
        for slot in np.flatnonzero(mask):
            self._start(int(slot), seeds[slot])
            self._autoreset[slot] = False
        return result

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        observations, rewards, terminated, truncated, info = self.env.step(actions)
        n = self.num_envs
        ended = np.zeros(n, dtype=np.bool_)
        returns = np.zeros(n)
        lengths = np.zeros(n, dtype=np.int64)
        times = np.zeros(n)
        for slot, action in enumerate(iterate(self.action_space, actions)):
            if self._mode is AutoresetMode.NEXT_STEP and self._autoreset[slot]:
                self._start(slot, None)  # this step was the reset; the action was ignored
                continue
            running = self._in_progress[slot]
            if running is None:
                continue
            running.add(action, float(rewards[slot]))
            if terminated[slot] or truncated[slot]:
                self._in_progress[slot] = None
                episode = self._finish(running, bool(terminated[slot]), bool(truncated[slot]))
                ended[slot] = True
                returns[slot], lengths[slot], times[slot] = (
                    episode.return_,
                    episode.length,
                    episode.wall_time,
                )
                if self._mode is AutoresetMode.SAME_STEP:
                    self._start(slot, None)
        self._autoreset = np.logical_or(terminated, truncated)
        if ended.any():
            info = {
                **info,
                "episode": {"r": returns, "l": lengths, "t": times},
                "_episode": ended,
            }
        return observations, rewards, terminated, truncated, info

    def _start(self, slot: int, seed: int | None) -> None:
        self._in_progress[slot] = _Unfinished(seed)

    def _finish(self, running: _Unfinished, terminated: bool, truncated: bool) -> Episode:
        # An autoreset drew its start from the env's generator, which we cannot see here (it
        # may live in another process): such an episode cannot be replayed.
        rebuild = self._rebuild if running.seed is not None else None
        episode = running.end(self.label, rebuild, terminated=terminated, truncated=truncated)
        # To the microsecond, as Gymnasium's RecordEpisodeStatistics reports it.
        episode.wall_time = round(episode.wall_time, 6)
        self.return_queue.append(episode.return_)
        self.length_queue.append(episode.length)
        self.time_queue.append(episode.wall_time)
        self._keep(episode)
        return episode


def make_vec(
    env_id: str | gym.envs.registration.EnvSpec,
    num_envs: int,
    *,
    keep: Callable[[Episode], None],
    vectorization_mode: str = "sync",
    caller: str = "gymrec.make_vec()",
    **kwargs: Any,
) -> VectorEpisodeRecorder:
    """``gym.make_vec`` with per-episode statistics and recording (:class:`VectorEpisodeRecorder`).

    ``vector_kwargs`` and ``wrappers`` go to ``gym.make_vec`` as there (e.g.
    ``vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.DISABLED}``); other keyword
    arguments go to the env. Every finished episode is handed to ``keep``.
    """
    num_envs = check_num_envs(num_envs, caller)
    if not isinstance(env_id, (str, gym.envs.registration.EnvSpec)):
        raise GymrecUsageError(
            f"{caller}: env_id={env_id!r} must be an env id such as 'CartPole-v1' or an EnvSpec"
        )
    if vectorization_mode not in ("sync", "async", "vector_entry_point"):
        raise GymrecUsageError(
            f"{caller}: vectorization_mode={vectorization_mode!r} must be 'sync', 'async' or "
            "'vector_entry_point' (as in gym.make_vec)"
        )
    vector_kwargs = kwargs.pop("vector_kwargs", None)
    wrappers = list(kwargs.pop("wrappers", None) or [])
    source = resolve_env(env_id, caller, kwargs)
    try:
        env = gym.make_vec(
            env_id,
            num_envs=num_envs,
            vectorization_mode=vectorization_mode,
            vector_kwargs=vector_kwargs,
            wrappers=wrappers or None,
            **kwargs,
        )
    except gym.error.Error as exc:
        raise GymrecEnvError(
            f"{caller}: cannot make vector env {source.label!r}: {exc} "
            "(is the id spelled right, and the package that registers it imported?)"
        ) from exc
    assert source.factory is not None
    if vectorization_mode == "vector_entry_point":
        # A native vector env seeds all slots from one generator: no slot has a seed to replay.
        return VectorEpisodeRecorder(env, keep=keep, label=source.label, rebuild=None, seeds=False)
    rebuild = functools.partial(_wrapped, source.factory, wrappers) if wrappers else source.factory
    return VectorEpisodeRecorder(env, keep=keep, label=source.label, rebuild=rebuild)


def _wrapped(
    factory: EnvFactory,
    wrappers: list[Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]]],
    **extra: Any,
) -> gym.Env[Any, Any]:
    env = factory(**extra)
    for wrapper in wrappers:
        env = wrapper(env)
    return env
