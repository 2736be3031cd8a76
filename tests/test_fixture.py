"""The object behind the ``gymrec`` fixture, used directly: which envs it owns and closes, and
how it refuses bad live-capture arguments."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest

from helpers.policies import balance
from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecEnvWarning, GymrecUsageError
from pytest_gymrec.fixture import Gymrec
from pytest_gymrec.record import TestRecord as Record


def make_fixture(**overrides: object) -> tuple[Gymrec, Record]:
    record = Record("test_f.py::test_f")
    chosen = settings.defaults().layered("the test", overrides) if overrides else None
    return Gymrec(chosen or settings.defaults(), record, "pytest test_f.py::test_f"), record


class CloseCounter(gym.Wrapper[Any, Any, Any, Any]):
    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.closed = 0

    def close(self) -> None:
        self.closed += 1
        super().close()


def test_evaluate_closes_what_it_built_but_not_what_it_was_given() -> None:
    gymrec, record = make_fixture(seeds=2)
    mine = CloseCounter(gym.make("CartPole-v1"))
    result = gymrec.evaluate(mine, balance)
    assert mine.closed == 0  # the user's env: theirs to close, and still usable
    assert result.seeds.tolist() == [0, 1]
    mine.reset(seed=0)
    built: list[CloseCounter] = []

    def factory() -> gym.Env[Any, Any]:
        built.append(CloseCounter(gym.make("CartPole-v1")))
        return built[-1]

    gymrec.evaluate(factory, balance)
    assert built[0].closed == 1
    assert [episode.seed for episode in record.episodes] == [0, 1, 0, 1]
    assert gymrec.result.episodes == []  # evaluate's episodes are not make/wrap episodes


def test_close_closes_every_made_and_wrapped_env_once(monkeypatch: pytest.MonkeyPatch) -> None:
    gymrec, _ = make_fixture()
    made = gymrec.make("CartPole-v1")
    made_closed: list[str] = []
    # Wrappers close down the chain: the base env's close() runs once per close of the chain.
    monkeypatch.setattr(made.unwrapped, "close", lambda: made_closed.append("made"))
    inner = CloseCounter(gym.make("CartPole-v1"))
    gymrec.wrap(inner)
    gymrec.close()
    gymrec.close()  # teardown may run it again: nothing is closed twice
    assert inner.closed == 1
    assert made_closed == ["made"]


def test_close_keeps_closing_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    gymrec, _ = make_fixture()
    failing = CloseCounter(gym.make("CartPole-v1"))
    later = CloseCounter(gym.make("CartPole-v1"))
    gymrec.wrap(later)
    gymrec.wrap(failing)

    def explode() -> None:
        raise OSError("display gone")

    monkeypatch.setattr(failing, "close", explode)
    # A failing close() is reported, never raised: the episodes and verdicts stand.
    with pytest.warns(GymrecEnvWarning, match="env.close\\(\\) raised OSError: display gone"):
        gymrec.close()
    assert later.closed == 1


def test_make_and_wrap_feed_result_and_record() -> None:
    gymrec, record = make_fixture()
    env = gymrec.make("CartPole-v1")
    obs, _ = env.reset(seed=4)
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(balance(obs))
        done = terminated or truncated
    assert gymrec.result.seeds.tolist() == [4]
    assert gymrec.result.returns.tolist() == [info["episode"]["r"]]
    assert record.episodes == gymrec.result.episodes
    assert gymrec.result.label() == "CartPole-v1"
    gymrec.close()


def test_wrap_needs_a_built_env() -> None:
    gymrec, _ = make_fixture()
    with pytest.raises(GymrecUsageError, match=r"gymrec\.wrap\(\) takes a built gymnasium\.Env"):
        gymrec.wrap("CartPole-v1")


def test_live_capture_arguments() -> None:
    gymrec, _ = make_fixture()
    with pytest.raises(GymrecUsageError, match="filming needs render_mode='rgb_array'"):
        gymrec.make("CartPole-v1", render_mode="human", video_trigger=lambda episode: True)
    with pytest.raises(GymrecUsageError, match="video_trigger=3 must be a callable"):
        gymrec.make("CartPole-v1", video_trigger=3)  # type: ignore[arg-type]
    gymrec.close()


def test_video_off_makes_no_live_capture() -> None:
    gymrec, record = make_fixture(video="off")
    env = gymrec.make("CartPole-v1", video_trigger=lambda episode: True)
    assert env.render_mode is None  # nothing forces rgb_array when nothing is filmed
    assert record.live_captures == []
    gymrec.close()
