"""What recording every episode costs per step, beside Gymnasium's RecordEpisodeStatistics.

Two evaluations, 20 seeds each: CartPole-v1 with int actions (a good policy, 10,000 steps) and
Pendulum-v1 with array actions (a damping policy, 4,000 steps). Each runs four ways in one
process, interleaved and repeated, and the medians are printed with the ratios:

- bare: ``gym.make`` and a plain loop;
- gymnasium: the loop under Gymnasium's ``RecordEpisodeStatistics``;
- gymrec: ``EpisodeRecorder`` keeping every episode's replay data (``gymrec.evaluate``);
- gymrec-bounded: the same with ``keep_replay=KeepReplay()`` (long loops).

"own cost" is gymrec's time per step above Gymnasium's. Then the action check alone: Gymnasium's
``space.contains`` per step against the recorder's end-of-episode pass (per step).

Reproduce: python benchmarks/bench_recorder.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RecordEpisodeStatistics

from pytest_gymrec.episodes import EpisodeRecorder, KeepReplay, ReplayChoice, run_episodes
from pytest_gymrec.record import Episode

SEEDS = range(20)


def balance(obs: Any) -> int:
    return int(obs[2] + 0.5 * obs[3] > 0)


def damp(obs: Any) -> np.ndarray:
    return np.array([np.clip(-2.0 * obs[2], -2.0, 2.0)], dtype=np.float32)


ENVS: dict[str, tuple[Callable[[Any], Any], int]] = {
    "CartPole-v1": (balance, 10_000),
    "Pendulum-v1": (damp, 4_000),
}


def plain_loop(env: Any, policy: Callable[[Any], Any]) -> None:
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            done = terminated or truncated


def recorder(env_id: str, keep_replay: ReplayChoice) -> Callable[[], None]:
    policy, steps = ENVS[env_id]

    def run() -> None:
        episodes: list[Episode] = []
        env = EpisodeRecorder(
            gym.make(env_id),
            on_episode=episodes.append,
            label=env_id,
            rebuild=None,
            max_steps=100_000,
            keep_replay=keep_replay,
        )
        run_episodes(env, policy, SEEDS, env_id)
        assert sum(episode.length for episode in episodes) == steps

    return run


def variants(env_id: str) -> dict[str, Callable[[], None]]:
    policy, _ = ENVS[env_id]
    return {
        "bare": lambda: plain_loop(gym.make(env_id), policy),
        "gymnasium": lambda: plain_loop(RecordEpisodeStatistics(gym.make(env_id)), policy),
        "gymrec": recorder(env_id, True),
        "gymrec-bounded": recorder(env_id, KeepReplay()),
    }


def check_costs(env_id: str) -> tuple[float, float]:
    """Microseconds per step: ``space.contains`` on each action, and the end-of-episode pass."""
    policy, _ = ENVS[env_id]
    env = EpisodeRecorder(
        gym.make(env_id), on_episode=lambda e: None, label=env_id, rebuild=None, max_steps=10**6
    )
    obs, _ = env.reset(seed=0)
    actions = []
    done = False
    while not done:
        action = policy(obs)
        actions.append(action)
        obs, _, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
    # The same episode again, stopped one step short: its stored actions and rewards stay in
    # the recorder, and the pass that runs at the end of an episode can be timed on them.
    obs, _ = env.reset(seed=0)
    for action in actions[:-1]:
        env.step(action)
    space = env.action_space
    number = 20
    contains = min(
        timeit.repeat(lambda: [space.contains(a) for a in actions], number=number, repeat=5)
    )
    ours = min(timeit.repeat(env._first_problem, number=number, repeat=5))  # private: timed alone
    steps = len(actions) * number
    return contains / steps * 1e6, ours / (steps - number) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    repeats = parser.parse_args().repeats
    for env_id, (_, steps) in ENVS.items():
        runs = variants(env_id)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeats):  # interleaved, so machine noise hits every variant alike
            for name, run in runs.items():
                start = time.process_time()
                run()
                times[name].append(time.process_time() - start)
        median = {name: statistics.median(values) for name, values in times.items()}
        print(f"\n{env_id}, 20 seeds, {steps:,} steps, median of {repeats} interleaved runs")
        print(
            f"{'variant':<16}{'seconds':>9}{'us/step':>9}{'vs bare':>9}{'vs gymnasium':>14}"
            f"{'own cost us/step':>18}"
        )
        for name, seconds in median.items():
            own = (seconds - median["gymnasium"]) / steps * 1e6
            print(
                f"{name:<16}{seconds:>9.4f}{seconds / steps * 1e6:>9.2f}"
                f"{seconds / median['bare']:>8.3f}x{seconds / median['gymnasium']:>13.3f}x"
                f"{own if name.startswith('gymrec') else float('nan'):>18.3f}"
            )
        contains, ours = check_costs(env_id)
        print(
            f"action check per step: space.contains {contains:.3f} us, "
            f"gymrec's end-of-episode pass {ours:.3f} us (actions and rewards)"
        )


if __name__ == "__main__":
    main()
