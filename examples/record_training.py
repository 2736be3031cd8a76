"""Gymnasium's "Recording Agents" guide, second half (training), as a plain script.

Where the guide stacks ``RecordVideo(episode_trigger=lambda x: x % training_period == 0)`` and
``RecordEpisodeStatistics``, ``pytest_gymrec.wrap`` does both: the chosen episodes are filmed
while they run into ``<video-folder>/episode-N.mp4`` (frames stream to the encoder; none are
held in memory) and every episode's statistics reach the logger through ``info["episode"]``.
Memory stays flat however long training runs: ``env.result`` keeps every episode's statistics
and no episode's actions.

The "training" is random search on a linear CartPole policy, to keep the example small.

Run: python examples/record_training.py [--episodes 1000] [--period 250]
"""

from __future__ import annotations

import argparse
import logging

import gymnasium as gym
import numpy as np

import pytest_gymrec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000, help="training episodes")
    parser.add_argument("--period", type=int, default=250, help="film every N-th episode")
    parser.add_argument("--video-folder", default="cartpole-agent")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    training_period = args.period
    num_training_episodes = args.episodes

    env = gym.make("CartPole-v1", render_mode="rgb_array")
    env = pytest_gymrec.wrap(
        env,
        video_folder=args.video_folder,
        video_trigger=lambda episode: episode % training_period == 0,
    )

    rng = np.random.default_rng(0)
    best_weights, best_return = np.zeros(4), -np.inf
    for episode_num in range(num_training_episodes):
        weights = best_weights + rng.normal(scale=0.5, size=4)  # replace with your training
        obs, info = env.reset(seed=episode_num)
        episode_over = False
        while not episode_over:
            action = int(weights @ obs > 0)
            obs, _reward, terminated, truncated, info = env.step(action)
            episode_over = terminated or truncated
        logging.info("episode-%d %s", episode_num, info["episode"])
        if info["episode"]["r"] >= best_return:
            best_weights, best_return = weights, info["episode"]["r"]
    env.close()

    returns = np.asarray(env.result.returns)
    print(f"{len(returns)} episodes, mean return of the last 10: {returns[-10:].mean():.1f}")
    for video in env.videos:
        print(f"video of episode {video.episode_index}: {video.path or video.missing}")


if __name__ == "__main__":
    main()
