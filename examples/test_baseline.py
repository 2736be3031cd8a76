"""Seed-sweep regression check: compare agents with their last good versions, seed by seed.

Each parameter set has its own committed baseline under ``gymrec_baselines/test_baseline/``
(per-seed returns and lengths, the env spec, the versions that recorded it). The test pairs this
run's episodes with the baseline's by env seed and fails only on evidence that the mean return
dropped by more than 5% of the baseline's mean.

After an intended change of an agent or an env::

    pytest examples/test_baseline.py --gymrec-update-baselines   # rewrites the baselines
    git diff examples/gymrec_baselines                            # one line per changed seed

A nightly job can sweep more seeds (``--gymrec-seeds 0-199``); the comparison uses the seeds
both runs share and reports the others.
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


@pytest.mark.gymrec(seeds=range(30))
@pytest.mark.parametrize("env_id", sorted(AGENTS))
def test_no_regression_against_last_release(gymrec: Any, env_id: str) -> None:
    policy, bounds = AGENTS[env_id]
    result = gymrec.evaluate(env_id, policy, bounds=bounds)
    gymrec.assert_no_regression(result, tolerance=0.05)
