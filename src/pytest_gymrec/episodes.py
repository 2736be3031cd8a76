"""Running policies on Gymnasium envs and recording every episode. Gymnasium, no pytest.

The recorder is a subclass of Gymnasium's ``RecordEpisodeStatistics``, so ``return_queue``,
``length_queue``, ``time_queue`` and ``info["episode"]`` are Gymnasium's. On top it keeps what a
replay needs (seed, RNG state at reset, actions, rewards) and checks every action against the
action space and every reward for being a finite number, at a cost measured against Gymnasium's
wrapper in benchmarks/bench_recorder.py: per step, an append for a Discrete action or the bytes
of an array action, and an append for the reward; the checks run once per episode, vectorised.
No rendering happens while tests run. ``keep_replay`` bounds which episodes keep their actions
and rewards once they end, so memory stays flat in long loops (benchmarks/bench_memory.py).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import heapq
import math
import numbers
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RecordEpisodeStatistics

from .errors import GymrecEnvError, GymrecPolicyError, GymrecUsageError, ask_yes_or_no
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


def _shown(value: Any) -> str:
    """``repr`` of an action or reward for a message, cut short when it is long."""
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


#: Integer types that are immutable, so a Discrete action of these types is stored as it is.
_PLAIN_INTS: frozenset[type] = frozenset({int, np.int64, np.int32, np.intp})
#: numpy dtype kinds of the members of a float Box, and of integer array spaces.
_REAL_KINDS = frozenset("biuf")
_INTEGER_KINDS = frozenset("biu")
_ARRAY_SPACES = (gym.spaces.Box, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)
#: One lookup fewer a step than ``math.isfinite``.
_isfinite = math.isfinite
_ArraySpace = gym.spaces.Box | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary
#: Inclusive low and high bounds in the space's shape, and the dtype kinds of its members.
_Bounds = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], frozenset[str]]


def _array_bounds(space: _ArraySpace) -> _Bounds:
    """The bounds and dtype kinds of an array space's members."""
    low: Any
    high: Any
    if isinstance(space, gym.spaces.Box):
        kinds = (
            _REAL_KINDS if space.dtype is not None and space.dtype.kind == "f" else (_INTEGER_KINDS)
        )
        low, high = space.low, space.high
    elif isinstance(space, gym.spaces.MultiDiscrete):
        kinds = _INTEGER_KINDS
        low, high = space.start, space.start + space.nvec - 1
    else:
        kinds = _INTEGER_KINDS
        low, high = 0, 1
    shape = tuple(space.shape)
    return np.broadcast_to(low, shape), np.broadcast_to(high, shape), kinds


def action_problem(space: gym.Space[Any], action: Any) -> str | None:
    """Why ``action`` is not in ``space``, or None when it is.

    ``space.contains`` decides, with one exception: a Box (also inside a Dict or Tuple) takes any
    real dtype whose values lie inside it. ``contains`` refuses ``float64`` actions on a
    ``float32`` Box, which is what hand-written numpy policies return and what every env casts;
    the values are what matters.
    """
    if isinstance(space, gym.spaces.Discrete):
        value = action[()] if isinstance(action, np.ndarray) and action.shape == () else action
        if isinstance(value, np.bool_) or not isinstance(value, (int, np.integer)):
            return f"it is {type(action).__name__}, not an integer"
        first = int(space.start)
        if not first <= int(value) < first + int(space.n):
            return f"it is outside {first}..{first + int(space.n) - 1}"
        return None
    if isinstance(space, _ARRAY_SPACES):
        return _array_problem(tuple(space.shape), _array_bounds(space), action)
    # Dict and Tuple: each part by the rules above (a float64 array in a float32 Box part too).
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(action, Mapping) or set(action) != set(space.spaces):
            keys = sorted(map(str, action)) if isinstance(action, Mapping) else None
            return f"its keys are {keys}, not {sorted(map(str, space.spaces))}"
        for key, part in space.spaces.items():
            reason = action_problem(part, action[key])
            if reason is not None:
                return f"[{key!r}]: {reason}"
        return None
    if isinstance(space, gym.spaces.Tuple):
        if not isinstance(action, (tuple, list)) or len(action) != len(space.spaces):
            return f"it is not a tuple of {len(space.spaces)} actions"
        for index, (part, value) in enumerate(zip(space.spaces, action, strict=True)):
            reason = action_problem(part, value)
            if reason is not None:
                return f"[{index}]: {reason}"
        return None
    try:
        inside = bool(space.contains(action))
    except Exception as exc:
        return f"space.contains raised {_describe_exception(exc)}"
    return None if inside else "space.contains(action) is False"


def _array_problem(shape: tuple[int, ...], bounds: _Bounds, action: Any) -> str | None:
    low, high, kinds = bounds
    try:
        values = np.asarray(action)
    except Exception as exc:
        return f"it is not an array ({_describe_exception(exc)})"
    if values.dtype.kind not in kinds:
        wanted = "real numbers" if kinds is _REAL_KINDS else "integers"
        return f"its dtype is {values.dtype}, not {wanted}"
    if values.shape != shape:
        return f"its shape is {values.shape}, not {shape}"
    outside = ~((values >= low) & (values <= high))
    if outside.any():
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        where = f"[{', '.join(map(str, index))}]" if index else ""
        return (
            f"value{where} {values[index].item()!r} is outside "
            f"[{low[index].item()!r}, {high[index].item()!r}]"
        )
    return None


@dataclasses.dataclass(frozen=True)
class KeepReplay:
    """Keep the replay data (actions and rewards) of a bounded set of episodes.

    At any time at most ``lowest + raised + last`` episodes hold replay data: the ``lowest``
    lowest returns (earlier first among ties), the first ``raised`` episodes that raised, and
    the ``last`` most recent ones. These are the episodes failure videos film (after those a
    check flags, which are known only after the loop). Every other episode keeps its statistics
    and loses ``actions``, ``rewards`` and ``reset_rng_state`` as it leaves the set, so memory
    stays flat in loops of any length.
    """

    lowest: int = 3
    raised: int = 3
    last: int = 0

    def __post_init__(self) -> None:
        for name in ("lowest", "raised", "last"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise GymrecUsageError(
                    f"KeepReplay({name}={value!r}): {name} must be a whole number >= 0"
                )


#: What ``keep_replay`` takes: True keeps every episode's replay data (for evaluations over a
#: given seed list), False none (loops filmed live), a ``KeepReplay`` a bounded set, and a
#: callable ``episode -> bool`` decides for each episode when it ends, for good.
ReplayChoice = bool | KeepReplay | Callable[[Episode], bool]


class _ReplayKeeper:
    """Applies a ``ReplayChoice`` as episodes end: which keep replay data, which lose it."""

    def __init__(self, choice: ReplayChoice, label: str) -> None:
        if not isinstance(choice, (bool, KeepReplay)) and not callable(choice):
            raise GymrecUsageError(
                f"{label}: keep_replay={choice!r} must be True, False, a KeepReplay(...) or a "
                "callable episode -> bool"
            )
        self._choice = choice
        self._label = label
        self._count = 0
        #: Max-heap of the lowest returns: (-return, -order, episode); the top leaves first.
        self._lowest: list[tuple[float, int, Episode]] = []
        self._raised = 0
        self._last: collections.deque[Episode] = collections.deque()
        #: id(episode) -> number of the sets above that hold it.
        self._holders: dict[int, int] = {}

    def admit(self, episode: Episode) -> tuple[bool, list[Episode]]:
        """Whether ``episode`` keeps its replay data, and kept episodes that now lose theirs."""
        choice = self._choice
        if isinstance(choice, bool):
            return choice, []
        if not isinstance(choice, KeepReplay):
            return self._ask(choice, episode), []
        self._count += 1
        leaving: list[Episode] = []
        if episode.error is not None:
            if self._raised < choice.raised:
                self._raised += 1
                self._hold(episode)
        elif choice.lowest:
            self._hold(episode)
            heapq.heappush(self._lowest, (-episode.return_, -self._count, episode))
            if len(self._lowest) > choice.lowest:
                leaving.append(heapq.heappop(self._lowest)[2])
        if choice.last:
            self._hold(episode)
            self._last.append(episode)
            if len(self._last) > choice.last:
                leaving.append(self._last.popleft())
        dropped = [old for old in leaving if self._release(old)]
        kept = self._holders.get(id(episode), 0) > 0
        return kept, [old for old in dropped if old is not episode]

    def _hold(self, episode: Episode) -> None:
        self._holders[id(episode)] = self._holders.get(id(episode), 0) + 1

    def _release(self, episode: Episode) -> bool:
        """One set let go of ``episode``; True when no set holds it any more."""
        left = self._holders[id(episode)] - 1
        if left:
            self._holders[id(episode)] = left
            return False
        del self._holders[id(episode)]
        return True

    def _ask(self, choice: Callable[[Episode], bool], episode: Episode) -> bool:
        return ask_yes_or_no(
            choice,
            episode,
            asked=f"{self._label}: keep_replay",
            of=f"the episode of seed {episode.seed}",
            hint="it must take an Episode and return True or False",
        )


class _Problem(Exception):
    """The first thing wrong in an episode: ``text`` for the episode, ``error`` to raise."""

    def __init__(self, step: int, text: str, error: Exception) -> None:
        super().__init__(text)
        self.step = step
        self.text = text
        self.error = error


class EpisodeRecorder(RecordEpisodeStatistics):
    """``RecordEpisodeStatistics`` that also records each episode for checks and replay.

    ``step`` does what Gymnasium's ``RecordEpisodeStatistics.step`` does (same attributes, same
    ``info["episode"]``) in one frame, then stores the action the cheapest safe way for the
    kind of action space. Actions are checked against the action space and rewards for being
    finite numbers in one vectorised pass when the episode ends; errors name the step.
    ``keep_replay`` decides which episodes keep their actions and rewards once they end.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        on_episode: Callable[[Episode], None],
        label: str,
        rebuild: EnvFactory | None,
        max_steps: int,
        buffer_length: int = 100,
        keep_replay: ReplayChoice = True,
    ) -> None:
        super().__init__(env, buffer_length=buffer_length)
        self._on_episode = on_episode
        self._label = label
        self._rebuild = rebuild
        self._max_steps = max_steps
        self._keeper = _ReplayKeeper(keep_replay, label)
        self._seed: int | None = None
        self._options: dict[str, Any] | None = None
        self._rng_state: dict[str, Any] | None = None
        #: This episode's actions as objects (Discrete, other spaces, mixed array episodes).
        self._actions: list[Any] = []
        #: This episode's actions of an array space, one row of ``_dtype`` bytes after another:
        #: appending to one buffer keeps no object alive per step (``tobytes`` is also the
        #: cheapest safe copy; policies may reuse one array for every action).
        self._bytes = bytearray()
        self._rewards: list[Any] = []
        #: step() refuses to run once episode_lengths reaches this: 0 between episodes.
        self._limit = 0
        space = self.action_space
        self._space = space
        #: Which fast path step() takes: Discrete, an array space (Box, Multi*), or neither.
        self._discrete = isinstance(space, gym.spaces.Discrete)
        self._array = isinstance(space, _ARRAY_SPACES)
        self._first = self._end = 0
        self._shape: tuple[int, ...] = ()
        self._bounds: _Bounds | None = None
        if isinstance(space, gym.spaces.Discrete):
            self._first = int(space.start)
            self._end = self._first + int(space.n)
        elif isinstance(space, _ARRAY_SPACES):
            self._shape = tuple(space.shape)
            self._bounds = _array_bounds(space)
        #: dtype of the rows in ``_bytes``, set by the episode's first action; None in an episode
        #: whose actions went to ``_actions`` (an action of another dtype came, see _store_array).
        self._dtype: np.dtype[Any] | None = None
        self._mixed = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        # An unseeded reset draws from the env's generator: keep its state so a replay can too.
        rng_state = (
            copy.deepcopy(dict(self.env.unwrapped.np_random.bit_generator.state))
            if seed is None
            else None
        )
        result = super().reset(seed=seed, options=options)
        self._rng_state = rng_state
        self._seed = seed
        self._options = copy.deepcopy(options)
        self._actions = []
        self._bytes = bytearray()
        self._rewards = []
        self._dtype = None
        self._mixed = False
        self._limit = self._max_steps
        return result

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        # The hot path: one frame, fast paths for Discrete and array actions, no per-step
        # checks beyond what storing needs (the episode is checked in one pass at its end).
        done = self.episode_lengths
        if done >= self._limit:
            self._refuse_step()
        if self._discrete:
            if type(action) in _PLAIN_INTS:
                self._actions.append(action)
            else:
                self._store_checked(action, done + 1)
        elif self._array:
            if (
                type(action) is np.ndarray
                and action.dtype is self._dtype
                and action.shape == self._shape
            ):
                self._bytes += action.tobytes()
            else:
                self._store_checked(action, done + 1)
        else:
            self._actions.append(_snapshot(action))
        reward: Any  # SupportsFloat by the type; anything in practice, checked here
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        except Exception as exc:
            self._env_raised(exc, action)
        try:
            total = self.episode_returns + reward
        except Exception:
            self._not_a_number(reward)
        self.episode_returns = total
        self._rewards.append(reward)
        self.episode_lengths = done + 1
        try:
            finite = _isfinite(total)
        except Exception:  # not one real number: the episode's end check names the reward
            finite = True
        if not finite:  # a NaN or infinite reward ends the episode at its step
            problem = self._reward_problem()
            if problem is not None:
                self._fail(problem.text, problem.error)
        if terminated or truncated:
            self._ended(info, terminated, truncated)
        return obs, reward, terminated, truncated, info

    def record_crash(self, exc: BaseException) -> None:
        """The policy raised mid-episode: keep the partial episode (its video shows the crash)."""
        if self._limit:
            self._finish(error=_describe_exception(exc))

    # -- off the hot path ------------------------------------------------------------------------

    def _refuse_step(self) -> NoReturn:
        if not self._limit:
            raise GymrecUsageError(
                f"{self._label}: step() called before reset() or after the episode ended; "
                "call env.reset(seed=...) first"
            )
        self._fail(
            f"GymrecEnvError: did not end within {self._max_steps} steps",
            GymrecEnvError(
                f"{self._label}: the episode for seed {self._seed} did not end within "
                f"max_steps={self._max_steps} steps; give the env a TimeLimit "
                "(gym.make(..., max_episode_steps=N)) or raise max_steps in "
                "@pytest.mark.gymrec(max_steps=...)"
            ),
        )

    def _store_checked(self, action: Any, step: int) -> None:
        """An action off the fast path: check it now, then store it."""
        if (
            self._dtype is None
            and not self._mixed
            and type(action) is np.ndarray
            and action.shape == self._shape
            and self._bounds is not None
            and action.dtype.kind in self._bounds[2]
        ):
            # The episode's first array action sets the dtype of the rows; its bounds are
            # checked with the others' when the episode ends.
            self._dtype = action.dtype
            self._bytes += action.tobytes()
            return
        reason = self._problem_of(action)
        if reason is not None:
            self._fail_now(self._bad_action(step, action, reason))
        if self._discrete:
            self._actions.append(int(action))  # np.integer subclasses, 0-d arrays, bools
            return
        if not self._mixed and isinstance(action, np.ndarray) and action.dtype == self._dtype:
            self._bytes += action.tobytes()  # an equal dtype that is not the same object
            return
        if not self._mixed:
            # From here on this episode keeps its actions as objects: the rows so far become
            # arrays, and with _dtype None every later action comes here.
            self._actions = self._stored_rows()
            self._bytes = bytearray()
            self._dtype = None
            self._mixed = True
        self._actions.append(_snapshot(action))

    def _problem_of(self, action: Any) -> str | None:
        if self._bounds is not None:
            return _array_problem(self._shape, self._bounds, action)
        return action_problem(self._space, action)

    def _bad_action(self, step: int, action: Any, reason: str) -> _Problem:
        return _Problem(
            step,
            f"GymrecPolicyError: action {_shown(action)} at step {step} is outside the action "
            f"space {self._space} ({reason})",
            GymrecPolicyError(
                f"{self._label}: the policy's action at step {step} of the episode for seed "
                f"{self._seed} is {_shown(action)}, outside the action space {self._space}: "
                f"{reason}. Envs often clip or ignore such actions silently; the policy must "
                "return actions inside the action space"
            ),
        )

    def _env_raised(self, exc: Exception, action: Any) -> NoReturn:
        step = self.episode_lengths + 1
        self._fail(
            _describe_exception(exc),
            GymrecEnvError(
                f"{self._label}: step {step} of the episode for seed {self._seed} raised "
                f"{_describe_exception(exc)} with action {_shown(action)}; the action space is "
                f"{self._space}"
            ),
            cause=exc,
        )

    def _not_a_number(self, reward: Any) -> NoReturn:
        step = self.episode_lengths + 1
        self._fail(
            f"GymrecEnvError: reward {_shown(reward)} at step {step} is not a number",
            GymrecEnvError(
                f"{self._label}: step {step} of the episode for seed {self._seed} returned "
                f"reward {_shown(reward)} ({type(reward).__name__}), which is not a number; "
                "an env's reward must be a real number"
            ),
        )

    def _ended(self, info: dict[str, Any], terminated: bool, truncated: bool) -> None:
        """Gymnasium's bookkeeping at the end of an episode, then the episode's checks."""
        assert self._stats_key not in info
        episode_time_length = round(time.perf_counter() - self.episode_start_time, 6)
        info[self._stats_key] = {
            "r": self.episode_returns,
            "l": self.episode_lengths,
            "t": episode_time_length,
        }
        self.time_queue.append(episode_time_length)
        self.return_queue.append(self.episode_returns)
        self.length_queue.append(self.episode_lengths)
        self.episode_count += 1
        self.episode_start_time = time.perf_counter()
        problem = self._first_problem()
        if problem is not None:
            self._finish(error=problem.text)
            raise problem.error
        self._finish(
            terminated=bool(terminated), truncated=bool(truncated), wall_time=episode_time_length
        )

    def _fail(self, text: str, error: Exception, cause: BaseException | None = None) -> NoReturn:
        """End the episode with an error: the earliest problem found in it, else ``error``."""
        problem = self._first_problem()
        if problem is not None:
            text, error = problem.text, problem.error
        self._finish(error=text)
        raise error from cause

    def _fail_now(self, problem: _Problem) -> NoReturn:
        self._finish(error=problem.text)
        raise problem.error

    def _first_problem(self) -> _Problem | None:
        """The earliest bad action or reward of this episode, checked in one pass each."""
        action = self._action_problem()
        reward = self._reward_problem()
        if action is not None and (reward is None or action.step <= reward.step):
            return action
        return reward

    def _action_problem(self) -> _Problem | None:
        outside: Any
        if self._discrete and self._actions:
            try:
                values = np.fromiter(self._actions, np.int64, len(self._actions))
            except OverflowError:  # an int beyond int64: outside any Discrete space
                return self._first_bad_action(self._actions)
            outside = (values < self._first) | (values >= self._end)
        elif self._array and self._dtype is not None:
            assert self._bounds is not None
            low, high, _ = self._bounds
            rows = self._rows()
            inside = (rows >= low) & (rows <= high)
            outside = ~inside.reshape(len(rows), -1).all(axis=1)
        else:
            return self._first_bad_action(self._actions)
        if not outside.any():
            return None
        index = int(np.argmax(outside))
        return self._first_bad_action(self._stored_actions()[index:], first_step=index + 1)

    def _first_bad_action(self, actions: list[Any], first_step: int = 1) -> _Problem | None:
        for step, action in enumerate(actions, start=first_step):
            reason = self._problem_of(action)
            if reason is not None:
                return self._bad_action(step, action, reason)
        return None

    def _rows(self) -> np.ndarray[Any, Any]:
        """The actions in ``_bytes``, one row a step (a view: the buffer stays as it is)."""
        assert self._dtype is not None
        return np.frombuffer(self._bytes, self._dtype).reshape((-1, *self._shape))

    def _stored_rows(self) -> list[Any]:
        """The actions in ``_bytes`` as arrays of their own (writable: a replay steps with
        them, and an env may write into its action)."""
        if self._dtype is None:
            return []
        return list(self._rows().copy())

    def _stored_actions(self) -> list[Any]:
        """This episode's actions so far, as the policy returned them (what a replay uses)."""
        if self._array and not self._mixed:
            return self._stored_rows()
        return list(self._actions)

    def _reward_problem(self) -> _Problem | None:
        total = self.episode_returns
        if isinstance(total, numbers.Real) and math.isfinite(total):
            return None
        for step, reward in enumerate(self._rewards, start=1):
            if not isinstance(reward, numbers.Real) or isinstance(reward, np.ndarray):
                return _Problem(
                    step,
                    f"GymrecEnvError: reward {_shown(reward)} at step {step} is not a number",
                    GymrecEnvError(
                        f"{self._label}: step {step} of the episode for seed {self._seed} "
                        f"returned reward {_shown(reward)} ({type(reward).__name__}), which is "
                        "not a real number; an env's reward must be one number"
                    ),
                )
            if not math.isfinite(reward):
                return _Problem(
                    step,
                    f"reward {reward} at step {step}",
                    GymrecEnvError(
                        f"{self._label}: step {step} for seed {self._seed} returned reward "
                        f"{reward}; returns must be finite (check the env's reward and the "
                        "actions the policy sends)"
                    ),
                )
        step = len(self._rewards)
        return _Problem(
            step,
            f"return {total} is not finite",
            GymrecEnvError(
                f"{self._label}: the return of the episode for seed {self._seed} reached "
                f"{total} by step {step} although every reward is finite (the sum overflowed)"
            ),
        )

    def _return(self) -> float:
        """The episode's return so far; NaN when the env's rewards do not add up to a number
        (the episode then ends with an error that says which reward)."""
        try:
            return float(self.episode_returns)
        except (TypeError, ValueError):
            return math.nan

    def _finish(
        self,
        *,
        terminated: bool = False,
        truncated: bool = False,
        wall_time: float | None = None,
        error: str | None = None,
    ) -> None:
        self._limit = 0
        if wall_time is None:
            wall_time = time.perf_counter() - self.episode_start_time
        episode = Episode(
            # Which episode it was and how to run it again, then how it went.
            seed=self._seed,
            env_label=self._label,
            reset_options=self._options,
            rebuild=self._rebuild,
            return_=self._return(),
            length=len(self._rewards),
            wall_time=wall_time,
            terminated=terminated,
            truncated=truncated,
            error=error,
        )
        keep, dropped = self._keeper.admit(episode)
        for old in dropped:
            old.actions, old.rewards, old.reset_rng_state = [], [], None
        if keep:
            # A step that raised stored its action but has no reward: the replay stops before.
            episode.actions = self._stored_actions()[: episode.length]
            episode.rewards = np.asarray(self._rewards, dtype=np.float64).tolist()
            episode.reset_rng_state = self._rng_state
        self._actions = []
        self._bytes = bytearray()
        self._rewards = []
        self._on_episode(episode)


def run_episodes(
    recorder: EpisodeRecorder,
    policy: Policy,
    seeds: Iterable[int],
    label: str,
) -> None:
    """One episode per seed: ``reset(seed=s)``, ``action_space.seed(s)``, step until done."""
    step = recorder.step
    for seed in seeds:
        observation, _ = recorder.reset(seed=seed)
        recorder.action_space.seed(seed)
        done = False
        while not done:
            try:
                action = policy(observation)
            except Exception as exc:
                raise policy_crashed(recorder, exc, label, seed) from exc
            observation, _, terminated, truncated, _ = step(action)
            done = terminated or truncated


def policy_crashed(
    recorder: EpisodeRecorder, exc: Exception, label: str, seed: int
) -> GymrecPolicyError:
    """The policy raised mid-episode: keep the partial episode and say where it happened."""
    recorder.record_crash(exc)
    return GymrecPolicyError(
        f"{label}: the policy raised {_describe_exception(exc)} at seed {seed}, "
        f"step {recorder.episode_lengths + 1}"
    )


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
