"""What recording every episode costs while tests pass.

Runs the same CartPole-v1 evaluation (20 seeds, a good policy: 10,000 steps) three ways in one
process, interleaved and repeated, and prints the median time of each and the ratios:

- bare: ``gym.make`` and a plain loop;
- gymnasium: the loop under Gymnasium's ``RecordEpisodeStatistics``;
- gymrec: ``pytest_gymrec.episodes`` (``RecordEpisodeStatistics`` plus seed, RNG state, actions
  and rewards of every episode, kept for replays and reports).

Reproduce: python benchmarks/bench_recorder.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium.wrappers import RecordEpisodeStatistics

from pytest_gymrec.episodes import EpisodeRecorder, run_episodes
from pytest_gymrec.results import Episode

SEEDS = range(20)


def balance(obs: Any) -> int:
    return int(obs[2] + 0.5 * obs[3] > 0)


def plain_loop(env: Any) -> None:
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(balance(obs))
            done = terminated or truncated


def bare() -> None:
    plain_loop(gym.make("CartPole-v1"))


def gymnasium_statistics() -> None:
    plain_loop(RecordEpisodeStatistics(gym.make("CartPole-v1")))


def gymrec_recorder() -> None:
    episodes: list[Episode] = []
    recorder = EpisodeRecorder(
        gym.make("CartPole-v1"),
        on_episode=episodes.append,
        label="CartPole-v1",
        rebuild=None,
        max_steps=100_000,
    )
    run_episodes(recorder, balance, SEEDS, "CartPole-v1")
    assert sum(episode.length for episode in episodes) == 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    repeats = parser.parse_args().repeats
    variants: dict[str, Callable[[], None]] = {
        "bare": bare,
        "gymnasium": gymnasium_statistics,
        "gymrec": gymrec_recorder,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):  # interleaved, so machine noise hits every variant alike
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"CartPole-v1, 20 seeds, 10,000 steps, median of {repeats} interleaved runs")
    print(f"{'variant':<12}{'seconds':>10}{'steps/s':>12}{'vs bare':>10}{'vs gymnasium':>14}")
    for name, seconds in median.items():
        print(
            f"{name:<12}{seconds:>10.4f}{10_000 / seconds:>12,.0f}"
            f"{seconds / median['bare']:>10.2f}x{seconds / median['gymnasium']:>13.2f}x"
        )


if __name__ == "__main__":
    main()
