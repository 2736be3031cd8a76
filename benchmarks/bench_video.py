"""What failure videos cost: passing tests, failing tests, memory.

Side by side in one run (interleaved and repeated where it is cheap enough), printing ratios:

1. A passing CartPole-v1 evaluation (20 seeds, a good policy: 10,000 steps), as the plugin runs
   it: ``gymrec.evaluate`` + ``assert_return`` + the report hook's video step, with video ``off``
   and with ``retain-on-failure``; and the same loop under Gymnasium's ``RecordVideo`` filming
   every episode (+ ``RecordEpisodeStatistics``), as in Gymnasium's "Recording Agents" guide.
2. Throughput of a failure video (replay of a recorded 500-step episode with rendering, frames
   streamed to ffmpeg) against rendering the same episode alone (no encoding).
3. Peak RSS of making one video of a 1,000-step and a 2,000-step MountainCarContinuous-v0
   episode, each in a fresh subprocess, above that interpreter's baseline (gymnasium, numpy
   and pygame loaded, one frame rendered); and of ``RecordVideo`` on the 1,000-step episode.
   ffmpeg is a separate process: its own peak RSS is printed too.
4. What filming in a child process costs a failing test: the three failure videos of a broken
   CartPole-v1 agent (about 10 steps each) and of a 500-step episode, filmed in one child
   process (the default) and in the test's process, interleaved; and the first failing test
   of a session, which also starts the fork server.

Needs moviepy for Gymnasium's RecordVideo: pip install -e ".[bench]".

Reproduce: SDL_VIDEODRIVER=dummy python benchmarks/bench_video.py [--repeats N]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym
from gymnasium.wrappers import RecordEpisodeStatistics, RecordVideo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.recording import record_episodes
from pytest_gymrec import failure_videos, settings, video
from pytest_gymrec.artifacts import VideoFolder, folder_for
from pytest_gymrec.fixture import Gymrec
from pytest_gymrec.record import Episode, TestRecord

SEEDS = range(20)
STEPS = 10_000  # 20 episodes of 500 steps with the policy below


def balance(obs: Any) -> int:
    return int(obs[2] + 0.5 * obs[3] > 0)


# -- 1. a passing evaluation -----------------------------------------------------------------


def passing_test(mode: str, output: Path) -> None:
    """What a passing test costs in the plugin: evaluate, check, the report hook's video step."""
    resolved = settings.defaults().layered(
        "benchmark", {"video": mode, "seeds": SEEDS, "bounds": (0, 500)}
    )
    nodeid = "bench_video.py::test_passing"
    record = TestRecord(nodeid, video_folder=folder_for(str(output), output, nodeid))
    fixture = Gymrec(resolved, record, reproduce="")
    result = fixture.evaluate("CartPole-v1", balance)
    result.assert_return(at_least=475)
    assert sum(result.lengths) == STEPS
    videos = failure_videos.produce(record, resolved.video, resolved.max_videos, test_failed=False)
    assert videos is None  # a passing test keeps (and renders) nothing
    fixture.close()


def record_video_every_episode(output: Path) -> None:
    """Gymnasium's guide: RecordVideo(episode_trigger=lambda x: True) + statistics."""
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    env = RecordVideo(env, video_folder=str(output), episode_trigger=lambda episode: True)
    env = RecordEpisodeStatistics(env)
    steps = 0
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(balance(obs))
            done = terminated or truncated
            steps += 1
    env.close()
    assert steps == STEPS


def timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_passing(repeats: int, recordvideo_repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"off": [], "retain-on-failure": [], "RecordVideo": []}
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch)
        for index in range(repeats):  # interleaved, so machine noise hits every variant alike
            times["off"].append(timed(lambda: passing_test("off", output / "off")))
            times["retain-on-failure"].append(
                timed(lambda: passing_test("retain-on-failure", output / "retain"))
            )
            if index < recordvideo_repeats:
                folder = output / f"recordvideo-{index}"
                times["RecordVideo"].append(
                    timed(functools.partial(record_video_every_episode, folder))
                )
        assert not (output / "retain").exists()  # nothing written for a passing test
    # RecordVideo films every episode (about a minute here): --recordvideo-repeats 0 skips it.
    return {name: statistics.median(values) for name, values in times.items() if values}


# -- 2. failure-video throughput -------------------------------------------------------------


def recorded_episodes(
    env_id: str, policy: Callable[[Any], Any], seeds: list[int], **make_kwargs: Any
) -> list[Episode]:
    """Episodes of ``policy`` on ``seeds``, recorded so they can be replayed for a video."""
    episodes: list[Episode] = []
    record_episodes(env_id, policy, seeds, episodes.append, max_steps=100_000, **make_kwargs)
    return episodes


def render_only(episode: Episode) -> int:
    """The replay's env work without the encoder: reset, step, render every frame."""
    assert episode.rebuild is not None
    env = episode.rebuild(render_mode="rgb_array")
    env.reset(seed=episode.seed)
    frames = 1
    env.render()
    for action in episode.actions:
        env.step(action)
        env.render()
        frames += 1
    env.close()
    return frames


def replay_and_encode(episode: Episode, folder: Path) -> int:
    encoder, outcome = video.replay(
        episode, lambda fps, frames: video.StreamingEncoder(folder / ".scratch.mp4", fps)
    )
    assert outcome.diverged_at is None
    encoder.finish(folder / "seed-0.mp4")
    return outcome.frames


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_throughput(repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Frames per second of each variant, and CPU milliseconds per frame of each process."""
    episode = recorded_episodes("CartPole-v1", balance, [0])[0]
    assert episode.length == 500
    rates: dict[str, list[float]] = {"render only": [], "replay + encode": []}
    cpu: dict[str, list[float]] = {"render only": [], "replay + encode": [], "ffmpeg": []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            frames = render_only(episode)
            rates["render only"].append(frames / (time.perf_counter() - start))
            cpu["render only"].append((time.process_time() - start_cpu) / frames * 1000)
            start, start_cpu, start_children = (
                time.perf_counter(),
                time.process_time(),
                children_cpu(),
            )
            frames = replay_and_encode(episode, Path(scratch))
            rates["replay + encode"].append(frames / (time.perf_counter() - start))
            cpu["replay + encode"].append((time.process_time() - start_cpu) / frames * 1000)
            cpu["ffmpeg"].append((children_cpu() - start_children) / frames * 1000)
    return (
        {name: statistics.median(values) for name, values in rates.items()},
        {name: statistics.median(values) for name, values in cpu.items()},
    )


# -- 3. peak memory, each measurement in a fresh interpreter ---------------------------------


def still(obs: Any) -> list[float]:
    return [0.0]  # MountainCarContinuous never reaches the flag: the episode runs to the limit


def memory_kb(field: str, pid: int | str = "self") -> int:
    """A field of /proc/<pid>/status (VmRSS: resident now, VmHWM: its peak), in kB.

    Not ``ru_maxrss``: after fork and exec a child inherits its parent's peak there, so the
    numbers of a fresh interpreter (and of ffmpeg) would include the benchmark's own.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_child(mode: str, steps: int) -> None:
    """Runs in a subprocess: prints memory figures (kB) as JSON."""
    env_id = "MountainCarContinuous-v0"
    episode = recorded_episodes(env_id, still, [0], max_episode_steps=steps)[0]
    assert episode.length == steps
    warm = gym.make(env_id, render_mode="rgb_array")
    warm.reset(seed=0)
    warm.render()  # pygame loaded and one frame drawn: part of the baseline
    warm.close()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    baseline = memory_kb("VmRSS")
    ffmpeg_peak = 0
    with tempfile.TemporaryDirectory() as scratch:
        if mode == "gymrec":
            encoder, outcome = video.replay(
                episode, lambda fps, frames: video.StreamingEncoder(Path(scratch) / ".v.mp4", fps)
            )
            process = encoder._process  # the benchmark peeks at ffmpeg's memory before it exits
            assert process is not None
            ffmpeg_peak = memory_kb("VmHWM", process.pid)
            encoder.finish(Path(scratch) / "v.mp4")
            frames = outcome.frames
        else:
            env = RecordVideo(
                gym.make(env_id, render_mode="rgb_array", max_episode_steps=steps),
                video_folder=str(Path(scratch) / "recordvideo"),
                episode_trigger=lambda index: True,
            )
            env.reset(seed=0)
            frames = 1
            done = False
            while not done:
                _, _, terminated, truncated, _ = env.step([0.0])
                done = terminated or truncated
                frames += 1
            env.close()  # type: ignore[no-untyped-call]
    peak = memory_kb("VmHWM")
    print(json.dumps({"baseline": baseline, "peak": peak, "ffmpeg": ffmpeg_peak, "frames": frames}))


def measure_rss(mode: str, steps: int) -> dict[str, int]:
    completed = subprocess.run(
        [sys.executable, __file__, "--rss-child", mode, str(steps)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, int] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# -- 4. filming in a child process -------------------------------------------------------------


def push_left(obs: Any) -> int:
    return 0


def film_once(episodes: list[Episode], folder: Path, *, isolate: bool) -> float:
    chosen = [(episode, "lowest return", f"seed-{episode.seed}") for episode in episodes]
    start = time.perf_counter()
    clips = failure_videos.film(chosen, VideoFolder(folder), isolate=isolate)
    seconds = time.perf_counter() - start
    assert all(clip.path is not None for clip in clips), [clip.missing for clip in clips]
    return seconds


def bench_isolation(repeats: int) -> tuple[float, dict[str, dict[str, float]]]:
    """Seconds of the first isolated filming, then medians per case and variant."""
    cases = {
        "3 short episodes": recorded_episodes("CartPole-v1", push_left, [0, 1, 2]),
        "1 episode of 500 steps": recorded_episodes("CartPole-v1", balance, [0]),
    }
    medians: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        first = film_once(cases["3 short episodes"], Path(scratch, "first"), isolate=True)
        for name, episodes in cases.items():
            times: dict[str, list[float]] = {"child process": [], "in process": []}
            for index in range(repeats):  # interleaved
                for variant, isolate in (("child process", True), ("in process", False)):
                    folder = Path(scratch, f"{name}-{variant}-{index}")
                    times[variant].append(film_once(episodes, folder, isolate=isolate))
            medians[name] = {
                variant: statistics.median(values) for variant, values in times.items()
            }
    return first, medians


# -- report ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--recordvideo-repeats", type=int, default=2)
    parser.add_argument("--rss-child", nargs=2, metavar=("MODE", "STEPS"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--only-isolation", action="store_true", help="run only part 4 (filming in a child)"
    )
    arguments = parser.parse_args()
    if arguments.rss_child:
        rss_child(arguments.rss_child[0], int(arguments.rss_child[1]))
        return

    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    if arguments.only_isolation:
        report_isolation(arguments.repeats)
        return
    passing = bench_passing(arguments.repeats, arguments.recordvideo_repeats)
    print(
        f"\n1. passing CartPole-v1 evaluation, 20 seeds, {STEPS:,} steps "
        f"(median of {arguments.repeats}; RecordVideo: {arguments.recordvideo_repeats})"
    )
    print(f"{'variant':<22}{'seconds':>10}{'steps/s':>12}{'vs video off':>14}")
    for name, seconds in passing.items():
        print(
            f"{name:<22}{seconds:>10.3f}{STEPS / seconds:>12,.0f}{seconds / passing['off']:>13.2f}x"
        )
    overhead = passing["retain-on-failure"] / passing["off"]
    print(f"retain-on-failure / off = {overhead:.3f} (target <= 1.1: {verdict(overhead <= 1.1)})")
    if "RecordVideo" in passing:
        speedup = passing["RecordVideo"] / passing["retain-on-failure"]
        print(
            f"RecordVideo / retain-on-failure = {speedup:.0f}x "
            f"(target >= 50x: {verdict(speedup >= 50)})"
        )

    throughput, cpu_ms = bench_throughput(arguments.repeats)
    print(f"\n2. failure video of a 500-step CartPole-v1 episode (median of {arguments.repeats})")
    print(f"{'variant':<22}{'frames/s':>10}{'CPU ms/frame, this process':>30}")
    for name, rate in throughput.items():
        print(f"{name:<22}{rate:>10,.0f}{cpu_ms[name]:>30.2f}")
    print(f"{'(ffmpeg process)':<22}{'':>10}{cpu_ms['ffmpeg']:>30.2f}")
    ratio = throughput["replay + encode"] / throughput["render only"]
    print(f"replay + encode / render only = {ratio:.3f} (target >= 0.8: {verdict(ratio >= 0.8)})")
    print(
        "  (ffmpeg runs in parallel on another core: it keeps up while its CPU per frame is "
        "below the renderer's and a core is free)"
    )

    print("\n3. peak RSS of one MountainCarContinuous-v0 episode video (fresh interpreter each)")
    print(f"{'variant':<26}{'frames':>8}{'baseline MB':>13}{'above it MB':>13}{'ffmpeg MB':>11}")
    above: dict[str, float] = {}
    rows = {
        "gymrec, 1,000 steps": measure_rss("gymrec", 1000),
        "gymrec, 2,000 steps": measure_rss("gymrec", 2000),
        "RecordVideo, 1,000 steps": measure_rss("recordvideo", 1000),
    }
    for name, row in rows.items():
        above[name] = (row["peak"] - row["baseline"]) / 1024
        ffmpeg = f"{row['ffmpeg'] / 1024:.0f}" if row["ffmpeg"] else "-"
        print(
            f"{name:<26}{row['frames']:>8}{row['baseline'] / 1024:>13.0f}"
            f"{above[name]:>13.1f}{ffmpeg:>11}"
        )
    above_1000, above_2000 = above["gymrec, 1,000 steps"], above["gymrec, 2,000 steps"]
    print(
        f"gymrec 1,000 steps: {above_1000:.1f} MB above baseline "
        f"(target <= 150: {verdict(above_1000 <= 150)})"
    )
    growth = above_2000 - above_1000
    print(
        f"gymrec 2,000 vs 1,000 steps: {growth:+.1f} MB (target within 20: "
        f"{verdict(abs(growth) <= 20)})"
    )
    report_isolation(arguments.repeats)


def report_isolation(repeats: int) -> None:
    first, medians = bench_isolation(repeats)
    print(
        "\n4. failure videos filmed in a child process vs in the test's process "
        f"(median of {repeats})"
    )
    print(f"{'case':<26}{'child s':>10}{'in process s':>14}{'overhead ms':>13}")
    for name, row in medians.items():
        overhead = (row["child process"] - row["in process"]) * 1000
        print(f"{name:<26}{row['child process']:>10.3f}{row['in process']:>14.3f}{overhead:>13.0f}")
    print(f"first failing test of a session (starts the fork server too): {first:.3f} s")


if __name__ == "__main__":
    main()
