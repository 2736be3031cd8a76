"""The fixture object's assert_no_regression on real Gymnasium envs, without a pytest run.

Covers what the pytester suite does not reach cheaply: the env spec of gymrec.make() loops, and
spec data that must be identical in every process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from helpers.policies import balance
from pytest_gymrec import settings
from pytest_gymrec.episodes import env_spec_data
from pytest_gymrec.errors import GymrecFailure, GymrecUsageError
from pytest_gymrec.fixture import Gymrec
from pytest_gymrec.record import TestRecord as Record


def fixture_for(tmp_path: Path | None, nodeid: str = "test_x.py::test_y") -> Gymrec:
    test_path = tmp_path / "test_x.py" if tmp_path is not None else None
    return Gymrec(settings.defaults(), Record(nodeid), "pytest " + nodeid, test_path=test_path)


def test_a_make_loop_result_carries_the_spec(tmp_path: Path) -> None:
    gymrec = fixture_for(tmp_path)
    env = gymrec.make("CartPole-v1", max_episode_steps=50)
    for seed in range(12):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(balance(obs))
            done = terminated or truncated
    gymrec.close()
    with pytest.raises(GymrecFailure, match="review and commit it"):
        gymrec.assert_no_regression(gymrec.result, bounds=(0, 50))
    path = tmp_path / "gymrec_baselines" / "test_x" / "test_y.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["env_spec"]["max_episode_steps"] == 50
    assert stored["env"] == "CartPole-v1"
    assert len(stored["episodes"]) == 12


def test_evaluate_results_pass_against_their_own_baseline(tmp_path: Path) -> None:
    first = fixture_for(tmp_path)
    result = first.evaluate("CartPole-v1", balance, seeds=range(15))
    assert result.env_spec is not None
    assert result.env_spec["id"] == "CartPole-v1"
    with pytest.raises(GymrecFailure):
        first.assert_no_regression(result, bounds=(0, 500))
    again = fixture_for(tmp_path)
    verdict = again.assert_no_regression(
        again.evaluate("CartPole-v1", balance, seeds=range(15)), bounds=(0, 500)
    )
    assert verdict is not None
    assert verdict.passed


def test_render_mode_does_not_change_the_spec() -> None:
    plain = gym.make("CartPole-v1")
    rendering = gym.make("CartPole-v1", render_mode="rgb_array")
    assert env_spec_data(plain) == env_spec_data(rendering)
    assert env_spec_data(plain) != env_spec_data(gym.make("CartPole-v1", max_episode_steps=10))


def test_spec_data_is_the_same_in_every_process() -> None:
    """Arguments without a JSON form are kept by name, never by memory address."""
    spec = gym.spec("CartPole-v1")
    spec_with_objects = gym.envs.registration.EnvSpec(
        id="CartPoleWithObjects-v0",
        entry_point=spec.entry_point,
        max_episode_steps=20,
        kwargs={
            "sutton_barto_reward": np.bool_(False),
            "weights": np.array([1.0, 2.0]),
            "shaping": functools.partial(balance),
            "policy": balance,
        },
    )

    class Stand:  # an env stand-in with only a spec (the ignore below)
        def __init__(self, **kwargs: object) -> None:
            self.spec = spec_with_objects

    data = env_spec_data(Stand())  # type: ignore[arg-type]
    assert data is not None
    kwargs = data["kwargs"]
    assert kwargs["sutton_barto_reward"] is False
    assert kwargs["weights"] == [1.0, 2.0]
    assert kwargs["policy"] == "helpers.policies.balance"
    assert "0x" not in json.dumps(data)
    assert json.loads(json.dumps(data)) == data


def test_outside_a_test_the_baseline_has_no_home() -> None:
    gymrec = fixture_for(None)
    result = gymrec.evaluate("CartPole-v1", balance, seeds=2)
    with pytest.raises(GymrecUsageError, match="needs the test's file"):
        gymrec.assert_no_regression(result)


def test_bad_names_are_refused(tmp_path: Path) -> None:
    gymrec = fixture_for(tmp_path)
    result = gymrec.evaluate("CartPole-v1", balance, seeds=2)
    with pytest.raises(GymrecUsageError, match="non-empty string"):
        gymrec.assert_no_regression(result, name="")


def test_a_marker_cannot_switch_updates_on() -> None:
    with pytest.raises(GymrecUsageError, match="could never fail"):
        settings.defaults().layered(
            "@pytest.mark.gymrec on test_x.py::test_y", {"update_baselines": True}
        )
