"""Where running episodes side by side pays: speed-up against one env, per-seed results identical.

Three envs, each CartPole-v1 dynamics with a poor policy (episodes of 25-60 steps whose lengths
differ by seed, so slots finish out of order and the last episode runs alone):

- cartpole: CartPole-v1 as it is (about 7 us a step);
- cpu-1ms: plus 1 ms of CPU work a step (spun on the thread's CPU clock, so it is the same
  work however busy the machine is): a slow simulator;
- wait-1ms: plus a 1 ms sleep a step: an env waiting on something else (a robot, a server).

For each env, in one process, interleaved and repeated (median of the repeats): one env
(``run_episodes``, what ``gymrec.evaluate`` does with num_envs=1) against ``num_envs`` 2 and 4,
sync and async, and a ProcessPoolExecutor of 2 workers running whole episodes; every run's
per-seed returns are checked against the one-env run. With each env, the seed-order bound: the
most N envs could gain on these episode lengths if exchanges cost nothing (the last episodes run
alone). For cpu-1ms, three references without pytest-gymrec: what lockstep costs (Gymnasium's
AsyncVectorEnv stepping two such envs; pytest-gymrec's async mode does not step in lockstep, its
batched mode and vector envs the user built do); the leanest loop without lockstep (two such
envs in processes of their own, the policy here, raw bytes both ways, nothing recorded or
checked, the processes started before the clock: what the exchanges alone allow); and one step
in another process with its exchange, against the step alone. Then pytest-xdist ``-n 2`` against
plain pytest over a file of several tests (whole processes, interleaved), and the overhead per
seed of a Dask LocalCluster executor (2 process workers) and of a ProcessPoolExecutor against
running the same seeds here.

Reproduce: python benchmarks/bench_parallel.py [--repeats N] [--seeds N] [--quick] [--envs a,b]
(needs the ``test`` extra: pytest-xdist and dask[distributed]).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import os
import selectors
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.dask_cluster import dask_executor
from pytest_gymrec.episodes import EnvSource, EpisodeRecorder, resolve_env, run_episodes
from pytest_gymrec.parallel import run_episodes_parallel
from pytest_gymrec.record import Episode
from pytest_gymrec.settings import Parallelism

STEP_COST = 0.001


def spin() -> None:
    """STEP_COST seconds of CPU work, timed on the thread's CPU clock (the same work however
    busy the machine is)."""
    end = time.thread_time() + STEP_COST
    while time.thread_time() < end:
        pass


class CpuStep(gym.Wrapper[Any, Any, Any, Any]):
    """1 ms of CPU work per step: a slow simulator."""

    def step(self, action: Any) -> Any:
        spin()
        return self.env.step(action)


class WaitStep(gym.Wrapper[Any, Any, Any, Any]):
    """1 ms of waiting per step: an env that waits on something outside the process."""

    def step(self, action: Any) -> Any:
        time.sleep(STEP_COST)
        return self.env.step(action)


def cartpole(render_mode: str | None = None) -> gym.Env[Any, Any]:
    return gym.make("CartPole-v1", render_mode=render_mode)


def cpu_1ms(render_mode: str | None = None) -> gym.Env[Any, Any]:
    return CpuStep(cartpole(render_mode))


def wait_1ms(render_mode: str | None = None) -> gym.Env[Any, Any]:
    return WaitStep(cartpole(render_mode))


def lean(obs: Any) -> int:
    return int(obs[2] > 0)


ENVS: dict[str, Callable[..., gym.Env[Any, Any]]] = {
    "cartpole": cartpole,
    "cpu-1ms": cpu_1ms,
    "wait-1ms": wait_1ms,
}
VECTOR_CONFIGS = [(2, "sync"), (4, "sync"), (2, "async"), (4, "async")]


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def one_env(source: EnvSource, seeds: list[int]) -> list[Episode]:
    episodes: list[Episode] = []
    recorder = EpisodeRecorder(
        source.build(),
        on_episode=episodes.append,
        label=source.label,
        rebuild=source.factory,
        max_steps=10_000,
    )
    run_episodes(recorder, lean, seeds, source.label)
    recorder.close()
    return episodes


def side_by_side(source: EnvSource, seeds: list[int], **options: Any) -> list[Episode]:
    episodes: list[Episode] = []
    run_episodes_parallel(
        source,
        lean,
        seeds,
        max_steps=10_000,
        keep=episodes.append,
        label=source.label,
        parallelism=Parallelism(**options),
    )
    return episodes


def timed(run: Callable[[], list[Episode]]) -> tuple[float, list[float]]:
    start = time.perf_counter()
    episodes = run()
    return time.perf_counter() - start, [episode.return_ for episode in episodes]


def seed_order_bound(lengths: list[int], workers: int) -> float:
    """The most any ``workers`` envs can gain over one on episodes of these lengths, when each
    free env takes the next seed in order and a step costs the same everywhere with nothing
    paid for exchanges: total steps over the steps of the busiest env (the last episodes run
    alone)."""
    busy = [0] * workers
    for length in lengths:
        busy[busy.index(min(busy))] += length
    return sum(lengths) / max(busy)


def bench_vector(
    repeats: int, seeds: list[int], pool: concurrent.futures.Executor, names: list[str]
) -> list[tuple[str, str, float, float]]:
    """(env, config, median seconds, speed-up against one env)."""
    rows = []
    for name in names:
        factory = ENVS[name]
        source = resolve_env(factory, "bench")
        runs: dict[str, Callable[[], list[Episode]]] = {
            "1 env": functools.partial(one_env, source, seeds)
        }
        for num_envs, mode in VECTOR_CONFIGS:
            runs[f"{mode} x{num_envs}"] = functools.partial(
                side_by_side, source, seeds, num_envs=num_envs, vectorization_mode=mode
            )
        # Whole episodes in worker processes: no exchange between processes at every step.
        runs["process pool x2"] = functools.partial(
            side_by_side, source, seeds, num_envs=2, executor=pool, chunk_size=1
        )
        runs["process pool x2"]()  # warm up: the workers import gymnasium once
        times: dict[str, list[float]] = {label: [] for label in runs}
        reference: list[float] | None = None
        for repeat in range(repeats):
            labels = list(runs)
            labels = labels[repeat % len(labels) :] + labels[: repeat % len(labels)]
            for label in labels:
                seconds, returns = timed(runs[label])
                if reference is None:
                    reference = returns if label == "1 env" else one_env_returns(source, seeds)
                assert returns == reference, f"{name} {label}: per-seed returns differ"
                times[label].append(seconds)
        base = statistics.median(times["1 env"])
        for label, values in times.items():
            median = statistics.median(values)
            rows.append((name, label, median, base / median))
        lengths = [episode.length for episode in one_env(source, seeds)]
        bounds = ", ".join(f"x{n} {seed_order_bound(lengths, n):.2f}x" for n in (2, 4))
        print(f"  {name} done ({load()}); seed-order bound: {bounds}", flush=True)
    return rows


def one_env_returns(source: EnvSource, seeds: list[int]) -> list[float]:
    return [episode.return_ for episode in one_env(source, seeds)]


TEST_FILE = """
import pytest
from bench_parallel import {factory}, lean

@pytest.mark.parametrize("part", range({tests}))
def test_part(gymrec, part):
    seeds = range(part * {per_test}, (part + 1) * {per_test})
    result = gymrec.evaluate({factory}, lean, seeds=seeds)
    assert len(result) == {per_test}
"""


def bench_xdist(repeats: int, tests: int, per_test: int) -> list[tuple[str, str, float, float]]:
    """Whole pytest processes: plain against -n 2, over ``tests`` tests of ``per_test`` seeds."""
    rows = []
    here = Path(__file__).resolve().parent
    for name in ("cartpole", "cpu-1ms"):
        factory = ENVS[name].__name__
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "test_split.py"
            path.write_text(TEST_FILE.format(factory=factory, tests=tests, per_test=per_test))
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here), folder])}
            base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
            commands = {"pytest": base, "pytest -n 2": [*base, "-n", "2"]}
            times: dict[str, list[float]] = {label: [] for label in commands}
            for repeat in range(repeats):
                order = list(commands) if repeat % 2 == 0 else list(commands)[::-1]
                for label in order:
                    start = time.perf_counter()
                    done = subprocess.run(commands[label], env=env, cwd=folder, capture_output=True)
                    times[label].append(time.perf_counter() - start)
                    assert done.returncode == 0, done.stdout.decode()[-2000:]
        base_time = statistics.median(times["pytest"])
        for label, values in times.items():
            median = statistics.median(values)
            rows.append((name, f"{label} ({tests} tests)", median, base_time / median))
        print(f"  xdist {name} done ({load()})", flush=True)
    return rows


def bench_executors(repeats: int, seeds: list[int]) -> list[tuple[str, float, float]]:
    """(executor and chunk size, median seconds, overhead per seed in ms) on CartPole."""
    source = resolve_env(cartpole, "bench")
    rows = []
    reference = one_env_returns(source, seeds)
    with dask_executor() as dask, concurrent.futures.ProcessPoolExecutor(2) as pool:
        executors = {"dask": dask, "process pool": pool}
        runs: dict[str, Callable[[], list[Episode]]] = {
            "here": functools.partial(one_env, source, seeds)
        }
        for name, executor in executors.items():
            for chunk_size in (1, 8):
                runs[f"{name}, chunk {chunk_size}"] = functools.partial(
                    side_by_side,
                    source,
                    seeds,
                    num_envs=2,
                    executor=executor,
                    chunk_size=chunk_size,
                )
        for run in runs.values():  # warm up: imports in the workers
            run()
        times: dict[str, list[float]] = {label: [] for label in runs}
        for repeat in range(repeats):
            labels = list(runs)
            labels = labels[repeat % len(labels) :] + labels[: repeat % len(labels)]
            for label in labels:
                seconds, returns = timed(runs[label])
                assert returns == reference, f"{label}: per-seed returns differ"
                times[label].append(seconds)
    here = statistics.median(times["here"])
    for label, values in times.items():
        median = statistics.median(values)
        # What the executor adds per seed, over running the seeds here one by one.
        rows.append((label, median, (median - here) / len(seeds) * 1000))
    return rows


def bench_lockstep(steps: int, repeats: int) -> tuple[float, float, float]:
    """What lockstep costs, without pytest-gymrec: Gymnasium's own AsyncVectorEnv loop over two
    CPU-bound 1 ms envs (ms a vector step, and ms of main-process CPU a vector step) against
    one such env stepped alone (ms a step). Two lockstep envs can be at most
    2 x (one step) / (vector step) times as fast as one."""
    import numpy as np
    from gymnasium.vector import AsyncVectorEnv, AutoresetMode

    def vector_run() -> tuple[float, float]:
        env = AsyncVectorEnv([cpu_1ms, cpu_1ms], autoreset_mode=AutoresetMode.DISABLED)
        observations, _ = env.reset(seed=[0, 1])
        start, cpu = time.perf_counter(), time.process_time()
        for step in range(steps):
            actions = np.array([lean(observation) for observation in observations])
            observations, _, terminated, truncated, _ = env.step(actions)
            ended = terminated | truncated
            if ended.any():
                seeds: list[int | None] = [2 + 2 * step, 3 + 2 * step]
                observations, _ = env.reset(seed=seeds, options={"reset_mask": ended})
        wall, main_cpu = time.perf_counter() - start, time.process_time() - cpu
        env.close()
        return wall / steps * 1000, main_cpu / steps * 1000

    def single_run() -> float:
        env = cpu_1ms()
        observation, _ = env.reset(seed=0)
        start = time.perf_counter()
        for step in range(steps):
            observation, _, terminated, truncated, _ = env.step(lean(observation))
            if terminated or truncated:
                observation, _ = env.reset(seed=step + 1)
        env.close()
        return (time.perf_counter() - start) / steps * 1000

    vector_times, main_times, single_times = [], [], []
    for _ in range(repeats):
        vector_ms, main_ms = vector_run()
        vector_times.append(vector_ms)
        main_times.append(main_ms)
        single_times.append(single_run())
    return (
        statistics.median(vector_times),
        statistics.median(main_times),
        statistics.median(single_times),
    )


def _bare_worker(connection: Any) -> None:
    """A cpu-1ms env answering raw bytes: the reward, the two flags, the observation."""
    env = cpu_1ms()
    reward: Any
    while True:
        request = connection.recv_bytes()
        if request[:1] == b"R":
            seed = int(request[1:])
            observation, _ = env.reset(seed=seed)
            reward, terminated, truncated = 0.0, False, False
        elif request[:1] == b"S":
            observation, reward, terminated, truncated, _ = env.step(request[1])
        else:
            return
        connection.send_bytes(
            _BARE.pack(float(reward), terminated, truncated) + observation.tobytes()
        )


_BARE = struct.Struct("<d??")


def bench_bare_loop(seeds: list[int], repeats: int) -> float:
    """Speed-up over one env of the leanest loop without lockstep: two cpu-1ms envs in processes
    of their own, the policy here, raw bytes both ways, no recording, no checks, and the
    processes started before the clock starts. What the exchanges alone allow."""
    import multiprocessing

    import numpy as np

    def loop() -> tuple[float, list[float]]:
        pipes, processes = [], []
        for _ in range(2):
            here, there = multiprocessing.Pipe()
            process = multiprocessing.Process(target=_bare_worker, args=(there,), daemon=True)
            process.start()
            pipes.append(here)
            processes.append(process)
        selector = selectors.DefaultSelector()
        for here in pipes:
            selector.register(here, selectors.EVENT_READ, here)
        todo = list(seeds)
        running: dict[Any, list[Any]] = {}
        returns: dict[int, float] = {}
        start = time.perf_counter()
        for here in pipes:
            seed = todo.pop(0)
            running[here] = [seed, 0.0]
            here.send_bytes(b"R%d" % seed)
        while running:
            for key, _ in selector.select():
                here = key.data
                data = here.recv_bytes()
                reward, terminated, truncated = _BARE.unpack_from(data)
                running[here][1] += reward
                if terminated or truncated:
                    seed, total = running.pop(here)
                    returns[seed] = total
                    if todo:
                        seed = todo.pop(0)
                        running[here] = [seed, 0.0]
                        here.send_bytes(b"R%d" % seed)
                    continue
                observation = np.frombuffer(data, np.float32, offset=_BARE.size)
                here.send_bytes(bytes([ord("S"), lean(observation)]))
        elapsed = time.perf_counter() - start
        for here, process in zip(pipes, processes, strict=True):
            here.send_bytes(b"C")
            process.join()
        return elapsed, [returns[seed] for seed in seeds]

    source = resolve_env(cpu_1ms, "bench")
    reference = one_env_returns(source, seeds)
    speedups = []
    for _ in range(repeats):
        alone, _ = timed(functools.partial(one_env, source, seeds))
        elapsed, returns = loop()
        assert returns == reference, "bare loop: per-seed returns differ"
        speedups.append(alone / elapsed)
    return statistics.median(speedups)


def _spin_and_answer(connection: Any) -> None:
    while connection.recv_bytes():
        spin()
        connection.send_bytes(b"a")


def bench_exchange(count: int = 500) -> float:
    """Milliseconds a request takes when the other process spins 1 ms of CPU before answering:
    1 ms plus what an exchange with a process on another core costs (the process that waits
    sleeps, and waking it is the expensive part on a virtual machine)."""
    import multiprocessing

    here, there = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_spin_and_answer, args=(there,), daemon=True)
    process.start()
    start = time.perf_counter()
    for _ in range(count):
        here.send_bytes(b"q")
        here.recv_bytes()
    elapsed = time.perf_counter() - start
    here.send_bytes(b"")
    process.join()
    return elapsed / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no xdist/Dask")
    parser.add_argument(
        "--envs", default=",".join(ENVS), help=f"comma-separated, of {', '.join(ENVS)}"
    )
    options = parser.parse_args()
    repeats = 2 if options.quick else options.repeats
    seeds = list(range(options.seeds))
    print(f"{os.cpu_count()} cores; at start: {load()}")
    print(f"{len(seeds)} seeds, {repeats} interleaved repeats, medians\n")
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        vector = bench_vector(repeats, seeds, pool, options.envs.split(","))
    print(f"\n{'env':10} {'run':22} {'median s':>9} {'speed-up':>9}")
    for name, label, median, speedup in vector:
        print(f"{name:10} {label:22} {median:9.3f} {speedup:8.2f}x")
    if "cpu-1ms" in options.envs.split(","):
        vector_ms, main_ms, single_ms = bench_lockstep(300, repeats)
        print(
            f"\nlockstep without pytest-gymrec (Gymnasium AsyncVectorEnv x2, cpu-1ms): "
            f"{vector_ms:.3f} ms a vector step ({main_ms:.3f} ms of it main-process CPU), "
            f"one env {single_ms:.3f} ms a step: at most {2 * single_ms / vector_ms:.2f}x"
        )
        bare = bench_bare_loop(seeds, repeats)
        print(
            f"the leanest loop without lockstep (no pytest-gymrec, processes started before "
            f"the clock), 2 envs: {bare:.2f}x"
        )
        exchange = statistics.median(bench_exchange() for _ in range(repeats))
        print(f"a 1 ms CPU-bound step in another process, exchange included: {exchange:.3f} ms")
    if options.quick:
        return
    # Enough work per test that starting two workers (each importing everything) can pay.
    xdist = bench_xdist(max(3, repeats // 2), tests=4, per_test=16)
    for name, label, median, speedup in xdist:
        print(f"{name:10} {label:22} {median:9.3f} {speedup:8.2f}x")
    executors = bench_executors(repeats, list(range(64)))
    print(f"\n{'executor (CartPole, 64 seeds)':30} {'median s':>9} {'ms/seed added':>14}")
    for label, median, overhead in executors:
        print(f"{label:30} {median:9.3f} {overhead:14.2f}")
    print(f"\nat end: {load()}")


if __name__ == "__main__":
    main()
