"""How much memory recording costs in a long loop, beside Gymnasium's RecordEpisodeStatistics.

Each variant runs in a fresh subprocess: one warm-up episode (imports, first allocations), then
the resident set size (VmRSS), then 200,000 Pendulum-v1 steps (1,000 episodes of 200 steps,
unseeded resets as in a training loop, float32 array actions), then VmRSS again. Printed: the
growth, and the peak (VmHWM) over the baseline.

- gymnasium: ``RecordEpisodeStatistics`` (keeps the last 100 returns, lengths and times);
- wrap: ``pytest_gymrec.scripts.wrap`` (every episode's statistics, no replay data);
- bounded: ``EpisodeRecorder(keep_replay=KeepReplay())`` (what a long loop in a test keeps);
- keep-all: ``EpisodeRecorder(keep_replay=True)`` (every episode's actions and rewards, as
  ``gymrec.evaluate`` keeps them for its finite seed list).

Reproduce: python benchmarks/bench_memory.py [--steps N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
from typing import Any

VARIANTS = ("gymnasium", "wrap", "bounded", "keep-all")


def rss_kib(field: str = "VmRSS") -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(variant: str, steps: int) -> dict[str, Any]:
    import gymnasium as gym
    import numpy as np
    from gymnasium.wrappers import RecordEpisodeStatistics

    from pytest_gymrec.episodes import EpisodeRecorder, KeepReplay
    from pytest_gymrec.record import Episode
    from pytest_gymrec.scripts import wrap

    base = gym.make("Pendulum-v1")
    episodes: list[Episode] = []
    env: Any
    if variant == "gymnasium":
        env = RecordEpisodeStatistics(base)
    elif variant == "wrap":
        env = wrap(base)
    else:
        env = EpisodeRecorder(
            base,
            on_episode=episodes.append,
            label="Pendulum-v1",
            rebuild=None,
            max_steps=10**6,
            keep_replay=KeepReplay() if variant == "bounded" else True,
        )

    def loop(total: int) -> None:
        done_steps = 0
        while done_steps < total:
            obs, _ = env.reset()
            done = False
            while not done:
                action = np.array([np.clip(-2.0 * obs[2], -2.0, 2.0)], dtype=np.float32)
                obs, _, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
                done_steps += 1

    env.reset(seed=0)
    loop(200)
    gc.collect()
    before = rss_kib()
    loop(steps)
    gc.collect()
    after = rss_kib()
    count: int | None = None  # Gymnasium's wrapper keeps the last 100 episodes' statistics
    if variant == "wrap":
        count = len(env.result)
    elif variant != "gymnasium":
        count = len(episodes)
    return {
        "growth_mb": (after - before) / 1024,
        "peak_mb": (rss_kib("VmHWM") - before) / 1024,
        "episodes_recorded": count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.steps)))
        return
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.repeats):  # interleaved: each variant in a fresh process every round
        for variant in VARIANTS:
            output = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--steps", str(args.steps)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            runs[variant].append(json.loads(output))
    print(
        f"Pendulum-v1, {args.steps:,} steps after a warm-up episode, RSS growth in MB "
        f"(median of {args.repeats} fresh processes; all runs in brackets)"
    )
    print(f"{'variant':<12}{'growth MB':>11}{'peak MB':>10}{'episodes recorded':>19}   runs")
    for variant, results in runs.items():
        growth = [result["growth_mb"] for result in results]
        peak = [result["peak_mb"] for result in results]
        recorded = results[0]["episodes_recorded"] or "-"
        print(
            f"{variant:<12}{statistics.median(growth):>11.1f}{statistics.median(peak):>10.1f}"
            f"{recorded:>19}   [{', '.join(f'{g:.1f}' for g in growth)}]"
        )


if __name__ == "__main__":
    main()
