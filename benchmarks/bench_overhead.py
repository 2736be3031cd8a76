"""What a passing test file costs with pytest-gymrec against the same tests as plain loops.

Ten tests, CartPole-v1, 20 seeds each, a good policy: once with ``gymrec.evaluate`` and a
bounded ``assert_return`` (the verdict, its interval and the drop it could detect), once as the
plain loop people write today (``assert mean >= line``). Each file runs as a whole pytest
process (start-up, imports, collection: all of it), interleaved, and the CPU time of the child
process (user + system) is compared by medians.

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
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

POLICY = "def policy(obs):\n    return int(obs[2] + 0.5 * obs[3] > 0)\n"

GYMREC_TESTS = POLICY + textwrap.dedent(
    """
    import pytest

    @pytest.mark.gymrec(seeds=range(20), bounds=(0, 500))
    @pytest.mark.parametrize("case", range(10))
    def test_holds(gymrec, case):
        gymrec.evaluate("CartPole-v1", policy).assert_return(at_least=450)
    """
)

PLAIN_TESTS = POLICY + textwrap.dedent(
    """
    import gymnasium as gym
    import pytest

    @pytest.mark.parametrize("case", range(10))
    def test_holds(case):
        env = gym.make("CartPole-v1")
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
        assert sum(returns) / len(returns) >= 450
    """
)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--configuration", choices=("cached", "no-bytecode", "both"), default="both"
    )
    args = parser.parse_args()
    configurations = (
        ("cached", "no-bytecode") if args.configuration == "both" else (args.configuration,)
    )
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "test_gymrec.py").write_text(GYMREC_TESTS)
        (folder / "test_plain.py").write_text(PLAIN_TESTS)
        for configuration in configurations:
            env = environment(configuration, folder / "pycache")
            runs = {
                "gymrec": ("test_gymrec.py", ()),
                # The plain file runs without the plugin, as in a project that does not use it.
                "plain": ("test_plain.py", ("-p", "no:gymrec")),
            }
            for file, plugins in runs.values():  # warm-up: caches fill, files are read once
                child_cpu_seconds(folder, file, plugins, env)
            times: dict[str, list[float]] = {key: [] for key in runs}
            for _ in range(args.repeats):  # interleaved: load changes hit both alike
                for key, (file, plugins) in runs.items():
                    times[key].append(child_cpu_seconds(folder, file, plugins, env))
            rows.append((configuration, *(statistics.median(times[key]) for key in runs)))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores)")
    print(
        "| bytecode | plain loops, `assert mean >= 450` | gymrec.evaluate + bounded "
        "assert_return | ratio |"
    )
    print("|---|---:|---:|---:|")
    for configuration, gymrec, plain in rows:
        print(f"| {configuration} | {plain:.2f} s | {gymrec:.2f} s | {gymrec / plain:.2f}x |")


if __name__ == "__main__":
    main()
