"""Running episodes on real Gymnasium envs, without pytest plugins: the recorder keeps
Gymnasium's own statistics semantics, and bad input is a clear error."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordEpisodeStatistics

from pytest_gymrec.episodes import (
    EpisodeRecorder,
    as_policy,
    resolve_env,
    run_episodes,
)
from pytest_gymrec.errors import GymrecEnvError, GymrecPolicyError, GymrecUsageError
from pytest_gymrec.record import Episode


def balance(obs: Any) -> int:
    return int(obs[2] + 0.5 * obs[3] > 0)


def recorder_for(env: Any, episodes: list[Episode], max_steps: int = 100_000) -> EpisodeRecorder:
    return EpisodeRecorder(
        env, on_episode=episodes.append, label="test-env", rebuild=None, max_steps=max_steps
    )


class Endless(gym.Env[np.ndarray, int]):
    """Never terminates; the reward is configurable to test the finiteness check."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self, reward: float = 1.0) -> None:
        self.reward = reward

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        return np.array([self.np_random.uniform(-1, 1)], dtype=np.float32), {}

    def step(self, action: int) -> Any:
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
    calls = {"n": 0}

    def flaky(obs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 4:
            raise ValueError("bad observation")
        return 0

    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1"), episodes)
    with pytest.raises(
        GymrecPolicyError, match=r"raised ValueError: bad observation at seed 0, step 4"
    ):
        run_episodes(recorder, flaky, [0, 1], "CartPole-v1")
    (partial,) = episodes
    assert partial.error == "ValueError: bad observation"
    assert partial.length == 3


def test_invalid_action_names_the_action_space() -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(gym.make("CartPole-v1"), episodes)
    with pytest.raises(GymrecEnvError, match=r"with action 7; the action space is Discrete\(2\)"):
        run_episodes(recorder, lambda obs: 7, [0], "CartPole-v1")
    assert episodes[0].error is not None


@pytest.mark.parametrize("reward", [math.nan, math.inf, -math.inf])
def test_non_finite_reward(reward: float) -> None:
    episodes: list[Episode] = []
    recorder = recorder_for(Endless(reward), episodes)
    with pytest.raises(GymrecEnvError, match=rf"step 1 for seed 2 returned reward {reward}"):
        run_episodes(recorder, lambda obs: 0, [2], "Endless")


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
