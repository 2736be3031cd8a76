"""Gymnasium's "Recording Agents" guide, as tests: videos of episodes where you read results.

Run: pytest examples/test_recording_agents.py --html=report.html --self-contained-html
and open report.html: the deliberately broken agent at the end shows its failure videos.

Where Gymnasium's guide stacks ``RecordVideo`` and ``RecordEpisodeStatistics``, ``gymrec.make``
does both: ``video_trigger`` picks the episodes to film while they run (frames stream to the
encoder, nothing piles up in memory) and the env keeps Gymnasium's own statistics
(``return_queue``, ``length_queue``, ``time_queue``, ``info["episode"]``). Videos land in
``gymrec-results/<test>/``. Without ``video_trigger`` nothing is rendered while the test runs;
a failing test gets videos of its worst episodes afterwards by replaying them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from agents import balance

from pytest_gymrec import GymrecFailure

NUM_EVAL_EPISODES = 4
TRAINING_EPISODES = 50
TRAINING_PERIOD = 25  # film episodes 0 and 25


@pytest.mark.gymrec(video="on", seeds=NUM_EVAL_EPISODES)
def test_record_every_evaluation_episode(gymrec):
    # Gymnasium's guide: RecordVideo(env, episode_trigger=lambda x: True) for evaluation.
    # Episodes of 200 steps (Gymnasium's guide uses the default 500) keep the example quick.
    env = gymrec.make("CartPole-v1", max_episode_steps=200, video_trigger=lambda episode: True)
    for seed in gymrec.seeds:
        obs, _info = env.reset(seed=seed)
        episode_over = False
        while not episode_over:
            obs, _reward, terminated, truncated, _info = env.step(balance(obs))
            episode_over = terminated or truncated

    print(f"Episode time taken: {env.time_queue}")
    print(f"Episode total rewards: {env.return_queue}")
    print(f"Episode lengths: {env.length_queue}")
    assert len(env.return_queue) == NUM_EVAL_EPISODES
    # video="on" keeps the four videos whatever the verdict. Four episodes see only a collapse
    # (the verdict table says which drop: about 180 of 200); test_cartpole.py has the checks
    # that see a 10% drop.
    gymrec.result.assert_return(at_least=190, bounds=(0, 200))


@pytest.mark.gymrec(video="on", max_videos=1)
def test_record_periodically_during_training(gymrec):
    # Gymnasium's guide: RecordVideo(env, episode_trigger=lambda x: x % training_period == 0)
    # with statistics for every episode. The "training" is random search on a linear policy.
    env = gymrec.make("CartPole-v1", video_trigger=lambda episode: episode % TRAINING_PERIOD == 0)
    rng = np.random.default_rng(0)
    best_weights, best_return = np.zeros(4), -math.inf
    for episode in range(TRAINING_EPISODES):
        weights = best_weights + rng.normal(scale=0.5, size=4)
        obs, info = env.reset(seed=episode)
        episode_over = False
        while not episode_over:
            obs, _reward, terminated, truncated, info = env.step(int(weights @ obs > 0))
            episode_over = terminated or truncated
        statistics = info["episode"]  # Gymnasium's RecordEpisodeStatistics entry
        print(f"episode {episode}: return {statistics['r']}, length {statistics['l']}")
        if statistics["r"] >= best_return:
            best_weights, best_return = weights, statistics["r"]

    assert len(env.return_queue) == TRAINING_EPISODES
    # The trained policy, on seeds it never trained on (1000, 1001, ...), sequentially: it
    # stops once the evidence says the mean is at least 475, or has dropped by 10%.
    gymrec.assert_return(
        "CartPole-v1",
        lambda obs: int(best_weights @ obs > 0),
        at_least=475,
        tolerance=0.1,
        bounds=(0, 500),
        seeds=[1000],
    )


def always_left(obs):
    """A broken agent: pushes the cart left whatever happens, so the pole falls in ~10 steps."""
    return 0


@pytest.mark.xfail(
    raises=GymrecFailure, reason="a deliberately broken agent, to show failure videos", strict=True
)
@pytest.mark.gymrec(seeds=20, bounds=(0, 500))
def test_broken_agent_shows_failure_videos(gymrec):
    # Nothing is rendered while this runs. The verdict fails, so the three lowest-return episodes
    # are replayed with rendering and attached: terminal section, JUnit XML, pytest-html.
    result = gymrec.evaluate("CartPole-v1", always_left)
    result.assert_return(at_least=475)
