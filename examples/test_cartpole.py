"""Gate CI on a CartPole-v1 agent's returns: the core of pytest-gymrec.

Run: pytest examples/test_cartpole.py
"""

from __future__ import annotations

import pytest
from agents import PDController, balance


@pytest.mark.gymrec(seeds=range(20), bounds=(0, 500))
def test_cartpole_holds(gymrec):
    # One episode per seed, reset(seed=s): the same 20 episodes on every run.
    result = gymrec.evaluate("CartPole-v1", balance)
    # Fails only on evidence that the mean return is below 475 (flake rate <= alpha = 0.01).
    result.assert_return(at_least=475)


@pytest.mark.gymrec(seeds="0-29")
def test_sb3_style_model(gymrec):
    # Objects with .predict(obs, deterministic=True) work as they do in Stable-Baselines3.
    result = gymrec.evaluate("CartPole-v1", PDController(), bounds=(0, 500))
    result.assert_return(at_least=475)
    assert len(result.episodes) == 30


def test_my_own_loop(gymrec):
    # A hand-written loop, as in Gymnasium's guides: Gymnasium's own episode statistics.
    env = gymrec.make("CartPole-v1")
    for seed in gymrec.seeds:
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            obs, _reward, terminated, truncated, info = env.step(balance(obs))
            done = terminated or truncated
        print(f"seed {seed}: return {info['episode']['r']}, {info['episode']['l']} steps")
    assert len(env.return_queue) == len(gymrec.seeds)
    gymrec.result.assert_return(at_least=475, bounds=(0, 500))


@pytest.mark.gymrec(seeds=50, bounds=(-500, 0))
def test_acrobot_swings_up(gymrec):
    # Negative returns work the same way: -1 a step until the tip swings above the line.
    def pump(obs):
        # Torque with the second joint's angular velocity pumps energy into the swing.
        return 2 if obs[5] > 0 else 0

    result = gymrec.evaluate("Acrobot-v1", pump)
    result.assert_return(at_least=-200)
