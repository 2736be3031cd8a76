"""Gymnasium's "Recording Agents" guide, first half (evaluation), as a plain script.

Where the guide stacks ``RecordVideo(episode_trigger=lambda x: True)`` and
``RecordEpisodeStatistics``, ``pytest_gymrec.wrap`` does both: every episode is filmed while it
runs into ``<video-folder>/episode-N.mp4`` and keeps Gymnasium's statistics (``time_queue``,
``return_queue``, ``length_queue``, ``info["episode"]``). On top, ``env.result`` checks the
returns the way a test would: ``assert_return`` fails only on evidence of a regression.

Run: python examples/record_evaluation.py [--episodes 4] [--video-folder cartpole-agent]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
from agents import balance  # replace with your agent

import pytest_gymrec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4, help="evaluation episodes")
    parser.add_argument("--video-folder", default="cartpole-agent")
    parser.add_argument("--max-episode-steps", type=int, default=500)
    args = parser.parse_args()
    num_eval_episodes = args.episodes

    env = gym.make("CartPole-v1", render_mode="rgb_array", max_episode_steps=args.max_episode_steps)
    env = pytest_gymrec.wrap(
        env, video_folder=args.video_folder, video_trigger=lambda episode: True
    )

    for episode_num in range(num_eval_episodes):
        obs, _info = env.reset(seed=episode_num)  # a seed per episode: reproducible
        episode_over = False
        while not episode_over:
            action = balance(obs)
            obs, _reward, terminated, truncated, _info = env.step(action)
            episode_over = terminated or truncated
    env.close()

    print(f"Episode time taken: {env.time_queue}")
    print(f"Episode total rewards: {env.return_queue}")
    print(f"Episode lengths: {env.length_queue}")
    for video in env.videos:
        print(f"video of episode {video.episode_index}: {video.path or video.missing}")
    # Raises GymrecFailure (an AssertionError) with this report on evidence of a regression.
    verdict = env.result.assert_return(
        at_least=0.95 * args.max_episode_steps, bounds=(0, args.max_episode_steps)
    )
    print(verdict.message)


if __name__ == "__main__":
    main()
