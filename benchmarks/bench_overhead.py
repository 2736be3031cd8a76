"""What a passing test file costs with pytest-gymrec against the same tests as plain loops.

Ten tests, CartPole-v1, 20 seeds each, a good policy: once with ``gymrec.evaluate`` and a
bounded ``assert_return`` (the verdict, its interval and the drop it could detect), once as the
plain loop people write today (``assert mean >= line``). Each file runs as a whole pytest
process (start-up, imports, collection: all of it), interleaved, and the CPU time of the child
process (user + system) is compared by medians.

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


def child_cpu_seconds(folder: Path, name: str, plugins: tuple[str, ...]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, name],
        cwd=folder,
        check=True,
        capture_output=True,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "test_gymrec.py").write_text(GYMREC_TESTS)
        (folder / "test_plain.py").write_text(PLAIN_TESTS)
        gymrec: list[float] = []
        plain: list[float] = []
        for _ in range(args.repeats):  # interleaved: load changes hit both alike
            gymrec.append(child_cpu_seconds(folder, "test_gymrec.py", ()))
            # The plain file runs without the plugin, as in a project that does not use it.
            plain.append(child_cpu_seconds(folder, "test_plain.py", ("-p", "no:gymrec")))
    g, p = statistics.median(gymrec), statistics.median(plain)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores)")
    print("| file (10 tests, CartPole-v1, 20 seeds each) | CPU s (median) | ratio |")
    print("|---|---|---|")
    print(f"| plain loops, `assert mean >= 450` | {p:.2f} | 1.00x |")
    print(f"| gymrec.evaluate + bounded assert_return | {g:.2f} | {g / p:.2f}x |")


if __name__ == "__main__":
    main()
