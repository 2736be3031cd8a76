"""Gate CI on a CartPole-v1 agent's returns: the core of pytest-gymrec.

Each check here says which drop it can see, and sees one that matters: 10% of the line.
Fewer episodes than a check needs for that drop are not a pass: a check that could not fail at
all fails (GymrecBlindCheck), and one given ``tolerance=`` that could not catch that drop is
INCONCLUSIVE and says how many episodes would.

Run: pytest examples/test_cartpole.py
"""

from __future__ import annotations

import pytest
from agents import PDController, balance


def test_cartpole_holds(gymrec):
    # Sequential: runs episodes on seeds 0, 1, 2, ... until the verdict is clear (a good agent
    # stops after about 17). Fails an agent at or above 475 with probability <= alpha (0.01);
    # passes an agent that dropped by 10% (to 427.5 or lower) with probability <= beta (0.1).
    gymrec.assert_return(
        "CartPole-v1", balance, at_least=475, tolerance=0.1, bounds=(0, 500), max_episodes=400
    )


@pytest.mark.gymrec(seeds=150, bounds=(0, 500))
def test_cartpole_on_fixed_seeds(gymrec):
    # Fixed seeds: the same 150 episodes on every run (one per seed, reset(seed=s)). 150 is
    # what catching a 10% drop takes at the 0-500 bounds: with fewer seeds, tolerance=0.1
    # makes the check INCONCLUSIVE and names the number of episodes that would do.
    result = gymrec.evaluate("CartPole-v1", balance)
    result.assert_return(at_least=475, tolerance=0.1)


def test_sb3_style_model(gymrec):
    # Objects with .predict(obs, deterministic=True) work as they do in Stable-Baselines3.
    result = gymrec.assert_return(
        "CartPole-v1", PDController(), at_least=475, tolerance=0.1, bounds=(0, 500)
    )
    assert (result.returns == 500).all()  # numpy arrays: returns, lengths, seeds


@pytest.mark.gymrec(seeds=150)
def test_my_own_loop(gymrec):
    # A hand-written loop, as in Gymnasium's guides: Gymnasium's own episode statistics.
    env = gymrec.make("CartPole-v1")
    for seed in gymrec.seeds:
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            obs, _reward, terminated, truncated, info = env.step(balance(obs))
            done = terminated or truncated
    # info["episode"], env.return_queue (the last 100) are Gymnasium's; every episode is also
    # in gymrec.result, which the checks read.
    assert info["episode"]["r"] == env.return_queue[-1]
    assert len(gymrec.result.episodes) == len(gymrec.seeds)
    gymrec.result.assert_return(at_least=475, bounds=(0, 500), tolerance=0.1)


def pump(obs):
    """Acrobot: torque along the second joint's velocity pumps energy into the swing."""
    return 2 if obs[5] > 0 else 0


@pytest.mark.gymrec(seeds=50, bounds=(-500, 0))
def test_acrobot_swings_up(gymrec):
    # Negative returns work the same way: -1 a step until the tip swings above the line. A
    # tolerance is relative to |at_least|: 0.2 x |-200| = a drop of 40, to -240.
    result = gymrec.evaluate("Acrobot-v1", pump)
    result.assert_return(at_least=-200, tolerance=0.2)
