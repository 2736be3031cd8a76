"""What a passing test file costs with pytest-gymrec against the same tests as plain loops.

Ten tests of 20 seeds each, a good policy, on CartPole-v1 (500-step episodes: the file the
issue measured) and on FrozenLake-v1 (6-step episodes: what is fixed per test shows): once
with ``gymrec.evaluate`` and a bounded ``assert_return`` (the verdict, its interval and the
drop it could detect), once as the plain loop people write today (``assert mean >= line``).
Each file runs as a whole pytest process (start-up, imports, collection: all of it),
interleaved, and the CPU time of the child process (user + system) is compared by medians.

Then, in this process, what one bounded verdict costs at n = 20, 100 and 1000.

Two configurations, because pytest rewrites the asserts of every module of a plugin's package
and caches the result as bytecode:

* ``cached``: bytecode may be written (Python's default), after one warm-up run of each file:
  how a developer's machine and a CI job that runs pytest more than once see it;
* ``no-bytecode``: ``PYTHONDONTWRITEBYTECODE=1``, so every pytest process compiles the plugin's
  modules from source again (installed packages such as gymnasium keep the bytecode pip
  compiled; the plugin's rewritten modules cannot be cached).

    python benchmarks/bench_overhead.py --repeats 7
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Case:
    """One test file's env, a good policy for it and the line it clears."""

    label: str
    policy: str
    make: str  # the arguments of gym.make / gymrec.evaluate after the policy
    bounds: tuple[float, float]
    line: float

    def gymrec_tests(self) -> str:
        return self.policy + textwrap.dedent(
            f"""
            import pytest

            @pytest.mark.gymrec(seeds=range(20), bounds={self.bounds})
            @pytest.mark.parametrize("case", range(10))
            def test_holds(gymrec, case):
                result = gymrec.evaluate({self.make.replace(", ", ", policy, ", 1)})
                result.assert_return(at_least={self.line})
            """
        )

    def plain_tests(self) -> str:
        return self.policy + textwrap.dedent(
            f"""
            import gymnasium as gym
            import pytest

            @pytest.mark.parametrize("case", range(10))
            def test_holds(case):
                env = gym.make({self.make})
                returns = []
                for seed in range(20):
                    obs, _ = env.reset(seed=seed)
                    env.action_space.seed(seed)
                    total, done = 0.0, False
                    while not done:
                        obs, reward, terminated, truncated, _ = env.step(policy(obs))
                        total += float(reward)
                        done = terminated or truncated
                    returns.append(total)
                env.close()
                assert sum(returns) / len(returns) >= {self.line}
            """
        )


CASES = {
    # 500-step episodes of a cheap env: the file the issue measured.
    "cartpole": Case(
        "CartPole-v1, 500-step episodes",
        "def policy(obs):\n    return int(obs[2] + 0.5 * obs[3] > 0)\n",
        '"CartPole-v1", ',
        (0, 500),
        450,
    ),
    # 6-step episodes: the episodes cost almost nothing, so what is fixed per test shows.
    "frozenlake": Case(
        "FrozenLake-v1 (not slippery), 6-step episodes",
        "PATH = {0: 2, 1: 2, 2: 1, 6: 1, 10: 1, 14: 2}\n"
        "def policy(obs):\n    return PATH[int(obs)]\n",
        '"FrozenLake-v1", is_slippery=False',
        (0, 1),
        0.9,
    ),
}


def child_cpu_seconds(
    folder: Path, name: str, plugins: tuple[str, ...], env: dict[str, str]
) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, name],
        cwd=folder,
        check=True,
        capture_output=True,
        env=env,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def environment(configuration: str, cache: Path) -> dict[str, str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if configuration == "no-bytecode":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        # Bytecode of the plugin's source tree goes here, not into the checkout.
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def verdict_costs(repeats: int) -> list[tuple[str, int, float]]:
    """(returns, n, ms per bounded verdict) in this process: what each passing test pays for
    its verdict (the interval, the blind check and the simulated detectable drop)."""
    import time

    import numpy as np

    from pytest_gymrec import EvalResult

    rows = []
    for n in (20, 100, 1000):
        shapes = {
            "all at 500": np.full(n, 500.0),
            "spread 380-500": np.random.default_rng(n).uniform(380.0, 500.0, n),
        }
        for shape, returns in shapes.items():
            result = EvalResult.from_returns(returns.tolist(), seeds=range(n), env_label="x")
            times = []
            for _ in range(repeats):
                start = time.process_time()
                result.assert_return(at_least=350, bounds=(0, 500))
                times.append(time.process_time() - start)
            rows.append((shape, n, statistics.median(times) * 1000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--configuration", choices=("cached", "no-bytecode", "both"), default="both"
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated, of " + ", ".join(CASES)
    )
    args = parser.parse_args()
    configurations = (
        ("cached", "no-bytecode") if args.configuration == "both" else (args.configuration,)
    )
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for key in args.cases.split(","):
            case = CASES[key]
            (folder / f"test_gymrec_{key}.py").write_text(case.gymrec_tests())
            (folder / f"test_plain_{key}.py").write_text(case.plain_tests())
            for configuration in configurations:
                env = environment(configuration, folder / "pycache")
                runs = {
                    "gymrec": (f"test_gymrec_{key}.py", ()),
                    # The plain file runs without the plugin, as in a project that does not
                    # use it.
                    "plain": (f"test_plain_{key}.py", ("-p", "no:gymrec")),
                }
                for file, plugins in runs.values():  # warm-up: caches fill, files read once
                    child_cpu_seconds(folder, file, plugins, env)
                times: dict[str, list[float]] = {run: [] for run in runs}
                for _ in range(args.repeats):  # interleaved: load changes hit both alike
                    for run, (file, plugins) in runs.items():
                        times[run].append(child_cpu_seconds(folder, file, plugins, env))
                medians = {run: statistics.median(values) for run, values in times.items()}
                rows.append((case.label, configuration, medians["plain"], medians["gymrec"]))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores)")
    print(
        "| file (10 tests, 20 seeds each) | bytecode | plain loops, `assert mean >= line` "
        "| gymrec.evaluate + bounded assert_return | ratio |"
    )
    print("|---|---|---:|---:|---:|")
    for label, configuration, plain, gymrec in rows:
        print(
            f"| {label} | {configuration} | {plain:.2f} s | {gymrec:.2f} s | "
            f"{gymrec / plain:.2f}x |"
        )
    print("\n| returns | n | CPU ms per bounded verdict (median) |\n|---|---:|---:|")
    for shape, n, milliseconds in verdict_costs(args.repeats):
        print(f"| {shape} | {n} | {milliseconds:.1f} |")


if __name__ == "__main__":
    main()
