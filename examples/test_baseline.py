"""Seed-sweep regression check: compare agents with their last good versions, seed by seed.

Each parameter set has its own committed baseline under ``gymrec_baselines/test_baseline/``
(per-seed returns and lengths, the env spec, the versions that recorded it). The test pairs this
run's episodes with the baseline's by env seed and fails only on evidence that the mean return
dropped by more than 5% of the baseline's mean.

The seeds are not pinned in a marker (a marker would beat the command line): they come from
``--gymrec-seeds`` or the ini option ``gymrec_seeds``, ten seeds (0-9) by default. The committed
baselines hold 200 seeds, so the same test serves a quick run on every change and a nightly
sweep; each compares on the seeds it shares with the baseline and reports the others::

    pytest examples/test_baseline.py                          # seeds 0-9: catches a collapse
    pytest examples/test_baseline.py --gymrec-seeds=0-199     # nightly: all 200 seeds

After an intended change of an agent or an env, rewrite the baselines from a 200-seed run (an
update stores exactly the seeds of the run that wrote it)::

    pytest examples/test_baseline.py --gymrec-seeds=0-199 --gymrec-update-baselines
    git diff examples/gymrec_baselines                        # one line per changed seed
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from agents import balance


def pump(obs: Any) -> int:
    """Acrobot: torque along the second joint's velocity pumps energy into the swing."""
    return 2 if obs[5] > 0 else 0


#: env id -> (agent, bounds of an episode's return). Acrobot's returns are negative (-1 a step).
AGENTS: dict[str, tuple[Callable[[Any], int], tuple[float, float]]] = {
    "Acrobot-v1": (pump, (-500.0, 0.0)),
    "CartPole-v1": (balance, (0.0, 500.0)),
}


@pytest.mark.parametrize("env_id", sorted(AGENTS))
def test_no_regression_against_last_release(gymrec: Any, env_id: str) -> None:
    policy, bounds = AGENTS[env_id]
    result = gymrec.evaluate(env_id, policy, bounds=bounds)
    gymrec.assert_no_regression(result, tolerance=0.05)
