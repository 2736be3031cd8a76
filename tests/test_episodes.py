"""Running episodes on real Gymnasium envs, without pytest plugins: the recorder keeps
Gymnasium's own statistics semantics, and bad input is a clear error."""

from __future__ import annotations

import math
import re
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordEpisodeStatistics

from helpers.policies import balance, raising_at_call
from pytest_gymrec.episodes import (
    EpisodeRecorder,
    KeepReplay,
    action_problem,
    as_policy,
    resolve_env,
    run_episodes,
)
from pytest_gymrec.errors import GymrecEnvError, GymrecPolicyError, GymrecUsageError
from pytest_gymrec.record import Episode


def recorder_for(env: Any, episodes: list[Episode], max_steps: int = 100_000) -> EpisodeRecorder:
    return EpisodeRecorder(
        env, on_episode=episodes.append, label="test-env", rebuild=None, max_steps=max_steps
    )


class Endless(gym.Env[np.ndarray, Any]):
    """Never terminates; the reward is configurable to test the finiteness check. Any action:
    subclasses change the action space."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,))
    action_space: gym.spaces.Space[Any] = gym.spaces.Discrete(2)

    def __init__(self, reward: float = 1.0) -> None:
        self.reward = reward

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        return np.array([self.np_random.uniform(-1, 1)], dtype=np.float32), {}

    def step(self, action: Any) -> Any:
        return np.zeros(1, dtype=np.float32), self.reward, False, False, {}


def test_statistics_match_gymnasium_record_episode_statistics() -> None:
    ours: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1"), ours)
    reference = RecordEpisodeStatistics(gym.make("CartPole-v1"))
    infos = []
    for env in (recorder, reference):
        for seed in range(5):
            obs, _ = env.reset(seed=seed)
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(int(seed % 2 == 0) ^ balance(obs))
                done = terminated or truncated
            infos.append(info["episode"])
    assert list(recorder.return_queue) == list(reference.return_queue)
    assert list(recorder.length_queue) == list(reference.length_queue)
    assert len(recorder.time_queue) == 5
    assert [(i["r"], i["l"]) for i in infos[:5]] == [(i["r"], i["l"]) for i in infos[5:]]
    assert [e.return_ for e in ours] == list(reference.return_queue)
    assert [e.seed for e in ours] == [0, 1, 2, 3, 4]
    assert all(e.wall_time == i["t"] for e, i in zip(ours, infos[:5], strict=True))
    assert isinstance(recorder, RecordEpisodeStatistics)


def test_episode_keeps_what_a_replay_needs() -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1"), episodes)
    run_episodes(recorder, balance, [3], "CartPole-v1")
    (episode,) = episodes
    assert episode.length == len(episode.actions) == len(episode.rewards) == episode.return_
    assert episode.reset_rng_state is None  # seeded reset: the seed is enough
    # Replaying the actions from the same seed gives the same rewards.
    env = gym.make("CartPole-v1")
    env.reset(seed=3)
    rewards = [env.step(action)[1] for action in episode.actions]
    assert rewards == episode.rewards


def test_unseeded_reset_keeps_the_generator_state() -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1"), episodes)
    recorder.reset(seed=7)
    for _ in range(2):  # two unseeded episodes continue the generator
        obs, _ = recorder.reset()
        first_obs = obs
        done = False
        while not done:
            obs, _, terminated, truncated, _ = recorder.step(balance(obs))
            done = terminated or truncated
    state = episodes[-1].reset_rng_state
    assert state is not None
    assert episodes[-1].seed is None
    fresh = gym.make("CartPole-v1")
    fresh.reset(seed=0)
    fresh.unwrapped.np_random.bit_generator.state = state
    obs, _ = fresh.reset()
    np.testing.assert_array_equal(obs, first_obs)


def test_actions_are_copied() -> None:
    """A policy that reuses one array for every action must not rewrite recorded history."""
    buffer = np.zeros(1, dtype=np.float32)

    def reuse(obs: Any) -> np.ndarray:
        buffer[0] = float(obs[0])
        return buffer

    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("MountainCarContinuous-v0", max_episode_steps=5), episodes)
    run_episodes(recorder, reuse, [0], "MountainCarContinuous-v0")
    values = [float(action[0]) for action in episodes[0].actions]
    assert len(set(values)) > 1


def test_sb3_style_predict() -> None:
    class Model:
        def predict(self, obs: Any, deterministic: bool = False) -> tuple[int, None]:
            assert deterministic
            return balance(obs), None

    act = as_policy(Model(), "t")
    assert act(np.array([0, 0, 1, 0])) == 1

    class Broken:
        def predict(self, obs: Any, deterministic: bool = False) -> int:
            return 1

    with pytest.raises(GymrecPolicyError, match=r"must return \(action, state\)"):
        as_policy(Broken(), "t")(np.zeros(4))


def test_not_a_policy() -> None:
    with pytest.raises(GymrecUsageError, match="policy 42 must be a callable"):
        as_policy(42, "gymrec.evaluate()")


def test_policy_that_raises_names_seed_and_step() -> None:
    flaky = raising_at_call(4, "bad observation", action=0)
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1"), episodes)
    with pytest.raises(
        GymrecPolicyError, match=r"raised ValueError: bad observation at seed 0, step 4"
    ):
        run_episodes(recorder, flaky, [0, 1], "CartPole-v1")
    (partial,) = episodes
    assert partial.error == "ValueError: bad observation"
    assert partial.length == 3


def test_an_action_the_env_refuses_is_a_policy_error_naming_the_action_space() -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1"), episodes)
    with pytest.raises(
        GymrecPolicyError,
        match=r"action at step 1 of the episode for seed 0 is 7, outside the action space "
        r"Discrete\(2\): it is outside 0\.\.1",
    ):
        run_episodes(recorder, lambda obs: 7, [0], "CartPole-v1")
    assert episodes[0].error is not None
    assert episodes[0].length == 0


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (np.array([100.0], dtype=np.float32), r"value\[0\] 100\.0 is outside \[-2\.0, 2\.0\]"),
        (np.array([0.5, 0.5, 0.5]), r"its shape is \(3,\), not \(1,\)"),
        (np.array([np.nan]), r"value\[0\] nan is outside"),
        (np.array(["1.0"]), r"its dtype is <U3, not real numbers"),
        (1.0, r"its shape is \(\), not \(1,\)"),
    ],
    ids=["too-large", "3-vector", "nan", "text", "scalar"],
)
def test_an_action_outside_a_clipping_env_s_box_is_a_policy_error(action: Any, reason: str) -> None:
    """Pendulum-v1 clips its torque silently: the recorder must still refuse such actions."""
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("Pendulum-v1", max_episode_steps=10), episodes)
    calls = {"n": 0}

    def bad_at_step_3(obs: Any) -> Any:
        calls["n"] += 1
        return action if calls["n"] == 3 else np.array([0.5], dtype=np.float32)

    with pytest.raises(GymrecPolicyError) as raised:
        run_episodes(recorder, bad_at_step_3, [4], "Pendulum-v1")
    message = str(raised.value)
    assert "action at step 3 of the episode for seed 4 is" in message
    assert "outside the action space Box(-2.0, 2.0, (1,), float32)" in message
    assert re.search(reason, message), message
    (episode,) = episodes
    assert episode.error is not None
    assert "step 3" in episode.error


def test_box_actions_of_another_float_width_inside_the_bounds_are_accepted() -> None:
    """``space.contains`` refuses float64 on a float32 Box; envs cast, so the recorder does not."""
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("Pendulum-v1", max_episode_steps=5), episodes)
    run_episodes(recorder, lambda obs: np.array([-1.5]), [0], "Pendulum-v1")
    assert episodes[0].error is None
    assert [action.dtype for action in episodes[0].actions] == [np.dtype(np.float64)] * 5


def test_actions_are_checked_before_an_env_that_clips_them_in_place() -> None:
    """The recorder stores the action before the env sees it: in-place clipping hides nothing."""

    class ClipsInPlace(Endless):
        action_space = gym.spaces.Box(-1.0, 1.0, (2,))

        def step(self, action: Any) -> Any:
            np.clip(action, -1.0, 1.0, out=action)
            return super().step(0)

    recorder = recorder_for(ClipsInPlace(), [], max_steps=4)
    with pytest.raises(GymrecPolicyError, match=r"is array\(\[0\., 5\.\]\).*value\[1\] 5\.0"):
        run_episodes(recorder, lambda obs: np.array([0.0, 5.0]), [0], "ClipsInPlace")


def test_a_mid_episode_change_of_action_type_is_recorded_exactly() -> None:
    """float32 arrays, then float64 arrays, then a list: each replays as the policy sent it."""
    sent: list[Any] = []

    def changing(obs: Any) -> Any:
        step = len(sent)
        value = float(np.clip(-obs[2], -2, 2))
        action: Any = np.array([value], dtype=np.float32 if step < 3 else np.float64)
        if step >= 6:
            action = [value]
        sent.append(action)
        return action

    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("Pendulum-v1", max_episode_steps=8), episodes)
    run_episodes(recorder, changing, [1], "Pendulum-v1")
    (episode,) = episodes
    assert episode.error is None
    assert len(episode.actions) == 8
    for recorded, original in zip(episode.actions, sent, strict=True):
        assert type(recorded) is type(original)
        np.testing.assert_array_equal(recorded, original)
        if isinstance(original, np.ndarray):
            assert recorded.dtype == original.dtype


def test_replayed_box_actions_give_the_recorded_rewards() -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("Pendulum-v1", max_episode_steps=50), episodes)
    policy = lambda obs: np.array([np.clip(-2.0 * obs[2], -2, 2)], dtype=np.float32)  # noqa: E731
    run_episodes(recorder, policy, [5], "Pendulum-v1")
    (episode,) = episodes
    env = gym.make("Pendulum-v1", max_episode_steps=50)
    env.reset(seed=5)
    assert [float(env.step(action)[1]) for action in episode.actions] == episode.rewards


@pytest.mark.parametrize(
    ("action", "reason"),
    [(1.0, "it is float, not an integer"), (np.array([1]), "it is ndarray, not an integer")],
)
def test_a_discrete_action_that_is_not_an_integer_is_refused_before_the_env_steps(
    action: Any, reason: str
) -> None:
    stepped: list[Any] = []

    class Tolerant(Endless):
        def step(self, action: Any) -> Any:
            stepped.append(action)
            return super().step(action)

    recorder = recorder_for(Tolerant(), [], max_steps=10)
    with pytest.raises(GymrecPolicyError, match=rf"step 1 .* Discrete\(2\): {reason}"):
        run_episodes(recorder, lambda obs: action, [0], "Tolerant")
    assert stepped == []


def test_integer_actions_of_numpy_types_are_discrete_actions() -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1", max_episode_steps=6), episodes)
    policies = [np.int64(1), np.array(0), True, np.int32(1), 0, np.uint8(1)]
    iterator = iter(policies)
    run_episodes(recorder, lambda obs: next(iterator), [0], "CartPole-v1")
    assert episodes[0].error is None
    assert [int(action) for action in episodes[0].actions] == [1, 0, 1, 1, 0, 1]


def test_an_out_of_range_discrete_action_on_an_env_that_ignores_it_is_found_at_the_end() -> None:
    """An env that does not check its actions: the end-of-episode pass names the step."""

    class Ignores(Endless):
        def __init__(self) -> None:
            super().__init__()
            self.steps = 0

        def step(self, action: int | np.int64) -> Any:
            self.steps += 1
            return np.zeros(1, dtype=np.float32), 1.0, False, self.steps >= 5, {}

    actions = iter([0, 1, 5, 0, 1])
    recorder = recorder_for(Ignores(), [])
    with pytest.raises(GymrecPolicyError, match=r"action at step 3 of the episode for seed 9 is 5"):
        run_episodes(recorder, lambda obs: next(actions), [9], "Ignores")


class DictActions(Endless):
    action_space = gym.spaces.Dict(
        {"move": gym.spaces.Discrete(3), "speed": gym.spaces.Box(0.0, 1.0, (1,))}
    )

    def step(self, action: Any) -> Any:
        return super().step(0)


def test_actions_of_dict_spaces_are_checked_part_by_part() -> None:
    good = {"move": 1, "speed": np.array([0.5])}  # float64 in a float32 Box part: accepted
    bad = {"move": 1, "speed": np.array([1.5], dtype=np.float32)}
    actions = iter([good, good, bad, good])
    recorder = recorder_for(DictActions(), [], max_steps=3)
    with pytest.raises(
        GymrecPolicyError,
        match=r"step 3 .*: \['speed'\]: value\[0\] 1\.5 is outside \[0\.0, 1\.0\]",
    ):
        run_episodes(recorder, lambda obs: next(actions), [0], "DictActions")


@pytest.mark.parametrize(
    ("space", "action", "reason"),
    [
        (
            gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Box(0.0, 1.0, (1,)))),
            (1, np.array([2.0])),
            r"^\[1\]: value\[0\] 2\.0 is outside \[0\.0, 1\.0\]$",
        ),
        (
            gym.spaces.Tuple((gym.spaces.Discrete(2),)),
            (1, 1),
            r"^it is not a tuple of 1 actions$",
        ),
        (
            gym.spaces.Dict({"a": gym.spaces.Discrete(2)}),
            {"b": 1},
            r"^its keys are \['b'\], not \['a'\]$",
        ),
        (gym.spaces.MultiDiscrete([3, 4]), np.array([2, 4]), r"^value\[1\] 4 is outside \[0, 3\]$"),
        (gym.spaces.MultiBinary(2), np.array([0.0, 1.0]), r"^its dtype is float64, not integers$"),
        (gym.spaces.Discrete(3, start=-1), -2, r"^it is outside -1\.\.1$"),
        (gym.spaces.Discrete(3), np.bool_(True), r"^it is bool, not an integer$"),
    ],
    ids=[
        "tuple-part",
        "tuple-length",
        "dict-keys",
        "multidiscrete",
        "multibinary",
        "start",
        "npbool",
    ],
)
def test_action_problem_names_the_part_and_the_reason(space: Any, action: Any, reason: str) -> None:
    found = action_problem(space, action)
    assert found is not None
    assert re.search(reason, found), found


def test_action_problem_accepts_members() -> None:
    assert action_problem(gym.spaces.MultiDiscrete([3, 4]), np.array([2, 3])) is None
    assert action_problem(gym.spaces.Tuple((gym.spaces.Discrete(2),)), [1]) is None
    assert action_problem(gym.spaces.Box(-1.0, 1.0, (2, 2)), np.zeros((2, 2))) is None
    assert action_problem(gym.spaces.Discrete(2), True) is None  # a Python bool is an int


def test_actions_of_other_spaces_are_checked_with_contains() -> None:
    class TextActions(Endless):
        action_space = gym.spaces.Text(max_length=3)

        def step(self, action: Any) -> Any:
            return super().step(0)

    actions = iter(["ab", "abcdef", "a"])
    recorder = recorder_for(TextActions(), [], max_steps=2)
    with pytest.raises(GymrecPolicyError, match=r"step 2 .*space\.contains\(action\) is False"):
        run_episodes(recorder, lambda obs: next(actions), [0], "TextActions")


@pytest.mark.parametrize("reward", ["1.0", None, [1.0]], ids=["str", "None", "list"])
def test_a_reward_that_is_not_a_number_is_an_env_error_naming_it(reward: Any) -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(Endless(reward), episodes, max_steps=10)
    with pytest.raises(
        GymrecEnvError,
        match=rf"step 1 of the episode for seed 3 returned reward {re.escape(repr(reward))} "
        rf"\({type(reward).__name__}\), which is not a number",
    ):
        run_episodes(recorder, lambda obs: 0, [3], "Endless")
    assert episodes[0].error is not None
    assert "reward" in episodes[0].error


def test_an_array_reward_is_an_env_error_naming_the_step() -> None:
    recorder = recorder_for(Endless(np.array([1.0, 2.0])), [], max_steps=4)  # type: ignore[arg-type]
    with pytest.raises(GymrecEnvError, match=r"step 1 .* returned reward array\(\[1\., 2\.\]\)"):
        run_episodes(recorder, lambda obs: 0, [0], "Endless")


@pytest.mark.parametrize("reward", [math.nan, math.inf, -math.inf])
def test_non_finite_reward(reward: float) -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(Endless(reward), episodes, max_steps=20)
    with pytest.raises(GymrecEnvError, match=rf"step 1 for seed 2 returned reward {reward}"):
        run_episodes(recorder, lambda obs: 0, [2], "Endless")


def test_a_non_finite_reward_in_an_episode_that_ends_names_its_step() -> None:
    class NanAtStep4(Endless):
        def __init__(self) -> None:
            super().__init__()
            self.steps = 0

        def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
            self.steps = 0
            return super().reset(seed=seed, options=options)

        def step(self, action: int | np.int64) -> Any:
            self.steps += 1
            reward = math.nan if self.steps == 4 else 1.0
            return np.zeros(1, dtype=np.float32), reward, self.steps == 6, False, {}

    episodes: list[Episode] = []
    recorder = recorder_for(NanAtStep4(), episodes)
    with pytest.raises(GymrecEnvError, match=r"step 4 for seed 0 returned reward nan"):
        run_episodes(recorder, lambda obs: 0, [0, 1], "NanAtStep4")
    (episode,) = episodes
    # The episode stops at the step that broke the return, as a crash does (the same in a
    # vector run): nothing after a NaN means anything.
    assert episode.length == 4
    assert episode.error == "reward nan at step 4"
    assert len(recorder.length_queue) == 0  # Gymnasium's statistics count finished episodes


def test_episode_that_never_ends_hits_max_steps() -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(Endless(), episodes, max_steps=50)
    with pytest.raises(GymrecEnvError, match=r"did not end within max_steps=50 steps"):
        run_episodes(recorder, lambda obs: 0, [0], "Endless")
    assert episodes[0].length == 50


def test_step_before_reset() -> None:
    recorder = recorder_for(Endless(), [])
    with pytest.raises(GymrecUsageError, match="step\\(\\) called before reset\\(\\)"):
        recorder.step(0)


def test_resolve_env_variants() -> None:
    by_id = resolve_env("CartPole-v1", "t", {"max_episode_steps": 20})
    env = by_id.build()
    assert env.spec is not None
    assert env.spec.max_episode_steps == 20
    assert by_id.label == "CartPole-v1"
    assert by_id.instance is None
    by_spec = resolve_env(gym.spec("CartPole-v1"), "t")
    assert by_spec.label == "CartPole-v1"
    instance = gym.make("CartPole-v1")
    given = resolve_env(instance, "t")
    assert given.build() is instance
    assert given.factory is not None

    def make_cartpole() -> Any:
        return gym.make("CartPole-v1")

    from_factory = resolve_env(make_cartpole, "t")
    assert from_factory.label == "make_cartpole"
    assert isinstance(from_factory.build().unwrapped, gym.Env)


def test_unknown_env_id() -> None:
    with pytest.raises(GymrecEnvError, match=r"gymrec.evaluate\(\): cannot make env 'CartPol-v1'"):
        resolve_env("CartPol-v1", "gymrec.evaluate()").build()


def test_bad_make_kwargs() -> None:
    with pytest.raises(GymrecEnvError, match=r"gym.make\('CartPole-v1', colour='red'\) raised"):
        resolve_env("CartPole-v1", "t", {"colour": "red"}).build()


def test_bad_env_arguments() -> None:
    with pytest.raises(GymrecUsageError, match="must be an env id"):
        resolve_env(3.5, "t")
    with pytest.raises(GymrecUsageError, match=r"returned 'nope', not a gymnasium\.Env"):
        resolve_env(lambda: "nope", "t").build()
    with pytest.raises(GymrecUsageError, match="keyword arguments"):
        resolve_env(gym.make("CartPole-v1"), "t", {"max_episode_steps": 3})


# -- which episodes keep their replay data ---------------------------------------------------


class Lengths(gym.Env[np.ndarray, int | np.int64]):
    """Reward 1 a step; the episode for seed ``s`` lasts ``lengths[s]`` steps (its return)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self, lengths: dict[int, int]) -> None:
        self.lengths = lengths
        self.left = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.left = self.lengths[seed if seed is not None else 0]
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action: int | np.int64) -> Any:
        self.left -= 1
        return np.zeros(1, dtype=np.float32), 1.0, self.left == 0, False, {}


def replayable(episodes: list[Episode]) -> list[int | None]:
    """Seeds of the episodes that still hold their actions and rewards."""
    for episode in episodes:
        assert len(episode.actions) == len(episode.rewards) in (0, episode.length)
    return [episode.seed for episode in episodes if episode.actions]


def lengths_recorder(
    lengths: list[int], episodes: list[Episode], keep_replay: Any
) -> EpisodeRecorder:
    """A recorder on a ``Lengths`` env whose episode for seed i lasts ``lengths[i]`` steps."""
    return EpisodeRecorder(
        Lengths(dict(enumerate(lengths))),
        on_episode=episodes.append,
        label="Lengths",
        rebuild=None,
        max_steps=1000,
        keep_replay=keep_replay,
    )


def run_lengths(lengths: list[int], keep_replay: Any) -> list[Episode]:
    episodes: list[Episode] = []
    recorder = lengths_recorder(lengths, episodes, keep_replay)
    run_episodes(recorder, lambda obs: 1, range(len(lengths)), "Lengths")
    assert [episode.return_ for episode in episodes] == [float(n) for n in lengths]
    return episodes


def test_keep_replay_true_keeps_every_episode_and_false_none() -> None:
    assert replayable(run_lengths([3, 1, 2], True)) == [0, 1, 2]
    assert replayable(run_lengths([3, 1, 2], False)) == []


def test_keep_replay_bounded_keeps_the_lowest_returns_and_the_last() -> None:
    episodes = run_lengths([5, 3, 4, 1, 2, 6, 1], KeepReplay(lowest=2, raised=1, last=1))
    # The two lowest returns are seeds 3 and 6 (1 each); seed 6 is also the last.
    assert replayable(episodes) == [3, 6]
    # Among equal returns the earlier episode stays, as failure videos pick them.
    episodes = run_lengths([5, 3, 4, 1, 2, 6, 1], KeepReplay(lowest=1, raised=0, last=0))
    assert replayable(episodes) == [3]
    episodes = run_lengths([5, 3, 4, 1, 2, 6], KeepReplay(lowest=2, raised=0, last=1))
    assert replayable(episodes) == [3, 4, 5]


def test_keep_replay_bounded_keeps_episodes_that_raised() -> None:
    episodes: list[Episode] = []
    recorder = lengths_recorder([3, 3, 9], episodes, KeepReplay(lowest=1, raised=1, last=0))
    crash_at_step_2 = raising_at_call(2, "boom", action=1)
    with pytest.raises(GymrecPolicyError):
        run_episodes(recorder, crash_at_step_2, [0], "Lengths")
    run_episodes(recorder, lambda obs: 1, [1, 2], "Lengths")
    assert [e.error is not None for e in episodes] == [True, False, False]
    assert replayable(episodes) == [0, 1]
    assert episodes[0].actions == [1]  # the step before the crash


def test_keep_replay_bounded_holds_a_bounded_number_of_episodes_in_a_long_loop() -> None:
    lengths = [1 + (seed * 7919) % 13 for seed in range(300)]
    episodes = run_lengths(lengths, KeepReplay(lowest=3, raised=3, last=2))
    assert len(replayable(episodes)) <= 5
    kept = set(replayable(episodes))
    assert {298, 299} <= kept  # the last two
    lowest = sorted(range(300), key=lambda seed: lengths[seed])[:3]
    assert set(lowest) <= kept


def test_keep_replay_callable_decides_per_episode() -> None:
    episodes = run_lengths([5, 1, 4], lambda episode: episode.return_ > 3)
    assert replayable(episodes) == [0, 2]


@pytest.mark.parametrize(
    ("keep_replay", "message"),
    [
        ("all", r"keep_replay='all' must be True, False, a KeepReplay\(...\) or a callable"),
        (lambda episode: "yes", r"keep_replay returned 'yes' \(str\) for the episode of seed 0"),
        (lambda episode: 1 / 0, r"keep_replay raised ZeroDivisionError"),
    ],
)
def test_bad_keep_replay(keep_replay: Any, message: str) -> None:
    with pytest.raises(GymrecUsageError, match=message):
        run_lengths([2], keep_replay)


@pytest.mark.parametrize("field", ["lowest", "raised", "last"])
@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_keep_replay_counts_are_whole_numbers(field: str, value: Any) -> None:
    with pytest.raises(GymrecUsageError, match=rf"KeepReplay\({field}={value!r}\)"):
        KeepReplay(**{field: value})
