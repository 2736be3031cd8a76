"""Several episodes at once on real Gymnasium vector envs and real executors: the episodes are
exactly those of running the seeds one by one, in seed order, and bad input is a clear error."""

from __future__ import annotations

import concurrent.futures
import itertools
import multiprocessing
import multiprocessing.process
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv
from gymnasium.wrappers.vector import RecordEpisodeStatistics as VectorStatistics

from helpers.dask_cluster import dask_executor
from helpers.fresh_python import output_of
from helpers.parallel_envs import (
    Dice,
    LeanModel,
    Stopwatch,
    broken_factory,
    dice_factory,
    down_right,
    dying_factory,
    lean,
    lean_batched,
    noisy,
    typed_factory,
)
from helpers.recording import replayable_recorder
from pytest_gymrec import env_workers
from pytest_gymrec.checks import sequential
from pytest_gymrec.checks.sequential import SequentialTest
from pytest_gymrec.episodes import (
    EnvSource,
    EpisodeRecorder,
    as_policy,
    env_spec_data,
    resolve_env,
    run_episodes,
)
from pytest_gymrec.errors import GymrecEnvError, GymrecPolicyError, GymrecUsageError
from pytest_gymrec.parallel import (
    ParallelRun,
    VectorSource,
    make_vec,
    resolve_vector_env,
    run_episodes_parallel,
)
from pytest_gymrec.record import Episode
from pytest_gymrec.settings import Parallelism
from pytest_gymrec.verdict import Mode
from pytest_gymrec.video import StreamingEncoder, replay

DISABLED: dict[str, Any] = {"autoreset_mode": AutoresetMode.DISABLED}


def one_by_one(
    source: EnvSource, policy: Any, seeds: Iterable[int], max_steps: int = 1000
) -> tuple[list[Episode], BaseException | None]:
    """The reference: ``run_episodes`` on one env, as gymrec.evaluate runs it today."""
    episodes: list[Episode] = []
    recorder = replayable_recorder(source, episodes.append, max_steps=max_steps)
    try:
        run_episodes(recorder, as_policy(policy, "test"), seeds, source.label)
    except (GymrecEnvError, GymrecPolicyError) as exc:
        return episodes, exc
    return episodes, None


def in_parallel(
    source: EnvSource | VectorSource,
    policy: Any,
    seeds: Iterable[int],
    max_steps: int = 1000,
    **options: Any,
) -> tuple[list[Episode], BaseException | None]:
    episodes: list[Episode] = []
    try:
        run_episodes_parallel(
            source,
            as_policy(policy, "test"),
            seeds,
            max_steps=max_steps,
            keep=episodes.append,
            label=source.label,
            parallelism=Parallelism(**options),
        )
    except (GymrecEnvError, GymrecPolicyError) as exc:
        return episodes, exc
    return episodes, None


def same_as_reference(got: list[Episode], want: list[Episode]) -> None:
    """Everything but the wall time, including what a replay needs."""

    def key(episode: Episode) -> tuple[Any, ...]:
        return (
            episode.seed,
            repr(episode.return_),  # repr: a NaN return equals itself
            episode.length,
            episode.terminated,
            episode.truncated,
            episode.error,
            episode.env_label,
            [np.asarray(action).tolist() for action in episode.actions],
            repr(episode.rewards),
            episode.reset_rng_state,
            episode.reset_options,
            episode.rebuild,
        )

    assert [key(e) for e in got] == [key(e) for e in want]


SEEDS = [3, 1, 4, 15, 9, 2, 6]  # 7 seeds, not in order: none of 2 or 3 slots divides them


@pytest.mark.parametrize(
    ("num_envs", "mode"), [(1, "sync"), (2, "sync"), (3, "sync"), (2, "async"), (3, "async")]
)
def test_cartpole_episodes_are_those_of_one_env(num_envs: int, mode: str) -> None:
    source = resolve_env("CartPole-v1", "test")
    want, _ = one_by_one(source, lean, SEEDS)
    assert len({e.length for e in want}) > 3  # lengths differ, so slots finish out of order
    got, error = in_parallel(source, lean, SEEDS, num_envs=num_envs, vectorization_mode=mode)
    assert error is None
    same_as_reference(got, want)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_stochastic_env_matches_seed_by_seed(mode: str) -> None:
    source = resolve_env("FrozenLake-v1", "test", {"is_slippery": True})
    seeds = range(40)
    want, _ = one_by_one(source, down_right, seeds)
    assert 0 < sum(e.return_ for e in want) < 40  # the slippery ice decides some episodes
    got, _ = in_parallel(source, down_right, seeds, num_envs=3, vectorization_mode=mode)
    same_as_reference(got, want)


@pytest.mark.parametrize("how", ["sync", "async", "pool"])
def test_a_policy_sampling_the_given_envs_action_space_matches_seed_by_seed(
    how: str, process_pool: concurrent.futures.Executor
) -> None:
    env = gym.make("CartPole-v1")
    source = resolve_env(env, "test")

    def random_policy(obs: Any) -> int:
        return int(env.action_space.sample())

    want, _ = one_by_one(source, random_policy, SEEDS)
    # With a pool, the env and the policy travel together: the copy it samples is the one stepped.
    if how == "pool":
        got, _ = in_parallel(
            source, random_policy, SEEDS, num_envs=3, executor=process_pool, chunk_size=2
        )
    else:
        got, _ = in_parallel(source, random_policy, SEEDS, num_envs=3, vectorization_mode=how)
    same_as_reference(got, want)
    assert len({tuple(e.actions[:8]) for e in got}) == len(SEEDS)  # really random per seed


def test_continuous_actions_in_the_space_dtype_match() -> None:
    source = resolve_env(dice_factory, "test")
    want, _ = one_by_one(source, noisy, range(10))
    got, _ = in_parallel(source, noisy, range(10), num_envs=4)
    same_as_reference(got, want)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_fewer_seeds_than_envs_leaves_slots_idle(mode: str) -> None:
    source = resolve_env("CartPole-v1", "test")
    want, _ = one_by_one(source, lean, [7, 8])
    got, _ = in_parallel(source, lean, [7, 8], num_envs=4, vectorization_mode=mode)
    same_as_reference(got, want)


# -- batched ----------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [lean_batched, LeanModel()], ids=["function", "sb3-predict"])
def test_batched_policy_sees_stacked_observations(policy: Any) -> None:
    source = resolve_env("CartPole-v1", "test")
    want, _ = one_by_one(source, lean, SEEDS)
    batch_sizes: list[int] = []
    act = as_policy(policy, "test")

    def spy(observations: Any) -> Any:
        batch_sizes.append(len(observations))
        return act(observations)

    got, _ = in_parallel(source, spy, SEEDS, num_envs=3, batched=True)
    same_as_reference(got, want)
    assert max(batch_sizes) == 3  # one call for all running slots
    assert batch_sizes[-1] == 1  # the last episode runs alone: idle slots are not shown


def test_batched_policy_with_a_wrong_count_fails_naming_the_counts() -> None:
    source = resolve_env("CartPole-v1", "test")
    got, error = in_parallel(source, lambda obs: [0], SEEDS, num_envs=3, batched=True)
    assert isinstance(error, GymrecPolicyError)
    assert "3 stacked observations of seeds [3, 1, 4]" in str(error)
    assert "it returned 1 actions" in str(error)
    assert [e.seed for e in got] == [3]
    assert got[0].error == "GymrecPolicyError: 1 actions for 3 observations"


# -- crashes end the run where running the seeds one by one would ---------------------------


def crashing_policy(obs: Any) -> int:
    if abs(float(obs[0])) > 0.12:
        raise RuntimeError("the cart left the track")
    return lean(obs)


@pytest.mark.parametrize(
    ("make", "policy", "max_steps"),
    [
        (lambda: resolve_env(dice_factory, "t", {"raise_at": (4, 2)}), noisy, 1000),
        (lambda: resolve_env(dice_factory, "t", {"nan_at": (15, 3)}), noisy, 1000),
        (lambda: resolve_env(dice_factory, "t", {"endless": True}), noisy, 20),
        (lambda: resolve_env("CartPole-v1", "t"), crashing_policy, 1000),
    ],
    ids=["env-raises", "nan-reward", "max-steps", "policy-raises"],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_crash_stops_at_the_same_seed_with_the_same_error(
    make: Callable[[], EnvSource], policy: Any, max_steps: int, mode: str
) -> None:
    source = make()
    want, want_error = one_by_one(source, policy, SEEDS, max_steps)
    assert want_error is not None
    assert want[-1].error is not None
    got, error = in_parallel(source, policy, SEEDS, max_steps, num_envs=3, vectorization_mode=mode)
    same_as_reference(got, want)
    assert type(error) is type(want_error)
    assert str(error) == str(want_error)


# -- async: envs in worker processes, each served as soon as it answers -----------------------


def worker_processes() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "pytest-gymrec env worker"]


@pytest.mark.parametrize(
    "kind", ["float32-reward", "float64-obs", "dict-obs", "int-reward", "list-obs"]
)
def test_async_values_arrive_with_the_types_they_left_with(kind: str) -> None:
    """What the policy sees and what the episode records are those of one env, whatever the
    types (only arrays of the space's dtype and float rewards take the raw-bytes path)."""
    source = resolve_env(typed_factory(kind), "test")

    def watched(seen: list[tuple[str, str, bool]]) -> Callable[[Any], int]:
        def policy(obs: Any) -> int:
            value = obs["where"] if isinstance(obs, dict) else obs
            writable = bool(value.flags.writeable) if isinstance(value, np.ndarray) else True
            seen.append((type(obs).__name__, str(getattr(value, "dtype", "")), writable))
            if isinstance(value, np.ndarray):
                value += 1  # a policy may work on its observation in place
            return int(float(np.asarray(value)[0]) > 0.5) + 1

        return policy

    alone: list[tuple[str, str, bool]] = []
    side_by_side: list[tuple[str, str, bool]] = []
    want, _ = one_by_one(source, watched(alone), range(12))
    got, error = in_parallel(
        source, watched(side_by_side), range(12), num_envs=2, vectorization_mode="async"
    )
    assert error is None
    same_as_reference(got, want)
    assert sorted(side_by_side) == sorted(alone)  # the same views, in another order
    assert all(writable for _, _, writable in side_by_side)


def test_async_float32_rewards_sum_in_float32_as_one_by_one() -> None:
    source = resolve_env(typed_factory("float32-reward"), "test")
    want, _ = one_by_one(source, lambda obs: 2, range(5))
    in_float64 = [float(sum(np.float64(r) for r in e.rewards)) for e in want]
    assert [e.return_ for e in want] != in_float64  # so the check below can tell them apart
    got, _ = in_parallel(source, lambda obs: 2, range(5), num_envs=2, vectorization_mode="async")
    assert [e.return_ for e in got] == [e.return_ for e in want]


@pytest.mark.parametrize(
    ("kind", "where"),
    [
        ("lock-obs", "reset(seed=0) raised TypeError: the env's observation or reward"),
        (
            "lock-space",
            "building the env in a worker process for vectorization_mode='async' "
            "raised TypeError: the env's spaces or spec",
        ),
    ],
)
def test_what_cannot_be_pickled_fails_saying_to_use_sync(kind: str, where: str) -> None:
    source = resolve_env(typed_factory(kind), "test")
    alone, error = one_by_one(source, lambda obs: 0, range(3))
    assert error is None  # one by one nothing is pickled
    assert len(alone) == 3
    got, error = in_parallel(
        source, lambda obs: 0, range(3), num_envs=2, vectorization_mode="async"
    )
    assert isinstance(error, GymrecEnvError)
    message = str(error)
    assert where in message
    assert "cannot be pickled" in message
    assert "lock" in message
    assert "vectorization_mode='sync'" in message
    assert got == []
    assert worker_processes() == []


def test_a_slow_async_env_does_not_hold_the_others_back() -> None:
    """No lockstep: while seed 0's env waits 0.2 s a step, the other slot runs whole episodes.
    In lockstep each step of seed 0 would let the other slot take one step."""
    source = resolve_env(Stopwatch, "test", {"slow_seed": 0, "delay": 0.2})
    calls: list[tuple[int, int]] = []

    def policy(obs: Any) -> int:
        calls.append((int(obs[0]), int(obs[1])))
        return 0

    got, error = in_parallel(source, policy, range(9), num_envs=2, vectorization_mode="async")
    assert error is None
    assert [e.seed for e in got] == list(range(9))  # handed on in seed order all the same
    assert [e.length for e in got] == [4] * 9
    second_slow_step = calls.index((0, 1))
    finished_meanwhile = {seed for seed, step in calls[:second_slow_step] if step == 3}
    assert finished_meanwhile == set(range(1, 9))


def test_stopping_ends_an_async_env_stuck_in_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sequential test decided while another env is in a step that takes a minute: closing
    gives it CLOSE_TIMEOUT seconds, then ends its process; nothing is left behind."""
    monkeypatch.setattr(env_workers, "CLOSE_TIMEOUT", 0.2)
    source = resolve_env(Stopwatch, "test", {"slow_seed": 1, "delay": 60.0})
    with ParallelRun(
        source,
        lambda obs: 0,
        [0, 1, 2],
        max_steps=10,
        label=source.label,
        parallelism=Parallelism(num_envs=2, vectorization_mode="async"),
    ) as run:
        first = next(iter(run))
    assert first.seed == 0
    assert all(e.seed == 2 for e in run.extra)  # seed 1 never finished
    assert worker_processes() == []


def test_an_async_worker_that_dies_mid_episode_fails_naming_the_seed_and_step() -> None:
    source = resolve_env(dice_factory, "test", {"die_at": (4, 2)})
    before, _ = one_by_one(source, noisy, SEEDS[:2])  # seeds 3 and 1 (one by one, 4 would die)
    got, error = in_parallel(source, noisy, SEEDS, num_envs=2, vectorization_mode="async")
    assert isinstance(error, GymrecEnvError)
    message = str(error)
    assert "the worker process running the episode for seed 4 ended" in message
    assert "exit code 3" in message
    assert "at step 2" in message
    assert "vectorization_mode='sync'" in message  # how to see the real error
    # The seeds before it are kept as they are one by one; the crashed one is partial.
    same_as_reference(got[:2], before)
    assert got[2].seed == 4
    assert got[2].length == 1
    assert got[2].error == "WorkerDied: its process ended with exit code 3"
    assert worker_processes() == []
    clean = resolve_env(dice_factory, "test")
    want, _ = one_by_one(clean, noisy, SEEDS)
    # The session goes on: new workers, the same episodes as one by one.
    again, error = in_parallel(clean, noisy, SEEDS, num_envs=2, vectorization_mode="async")
    assert error is None
    same_as_reference(again, want)


def test_an_async_worker_that_dies_at_reset_fails_naming_the_seed() -> None:
    got, error = in_parallel(
        resolve_env(dying_factory, "test"),
        noisy,
        [1, 2, 5, 6],
        num_envs=2,
        vectorization_mode="async",
    )
    assert [e.seed for e in got] == [1, 2]
    assert isinstance(error, GymrecEnvError)
    assert "the worker process running the episode for seed 5 ended" in str(error)
    assert "exit code 3) at reset(seed=5)" in str(error)
    assert worker_processes() == []


def test_an_env_factory_that_raises_in_a_worker_raises_as_one_by_one() -> None:
    source = resolve_env(broken_factory, "test")
    with pytest.raises(GymrecEnvError) as alone:
        source.build()
    got, error = in_parallel(source, noisy, SEEDS, num_envs=2, vectorization_mode="async")
    assert got == []
    assert type(error) is GymrecEnvError
    assert str(error) == str(alone.value)
    assert "no simulator licence" in str(alone.value)
    assert worker_processes() == []


def test_an_exception_that_does_not_unpickle_is_described_as_one_by_one() -> None:
    source = resolve_env(dice_factory, "test", {"raise_at": (4, 2), "strange": True})
    want, want_error = one_by_one(source, noisy, SEEDS)
    assert "StrangeError: the table folded at step 2" in str(want_error)
    got, error = in_parallel(source, noisy, SEEDS, num_envs=2, vectorization_mode="async")
    same_as_reference(got, want)
    assert str(error) == str(want_error)


def test_async_with_the_spawn_start_method_gives_the_same_episodes() -> None:
    """The env factory travels by cloudpickle where the start method needs it (spawn)."""
    code = """
import multiprocessing
multiprocessing.set_start_method("spawn")
from pytest_gymrec.episodes import EpisodeRecorder, resolve_env, run_episodes
from pytest_gymrec.parallel import run_episodes_parallel
from pytest_gymrec.settings import Parallelism

def lean(obs):
    return int(obs[2] > 0)

if __name__ == "__main__":
    source = resolve_env("CartPole-v1", "spawn", {"max_episode_steps": 60})
    alone = []
    recorder = EpisodeRecorder(
        source.build(), on_episode=alone.append, label="x", rebuild=None, max_steps=100
    )
    run_episodes(recorder, lean, range(6), "x")
    side_by_side = []
    run_episodes_parallel(
        source, lean, range(6), max_steps=100, keep=side_by_side.append, label="x",
        parallelism=Parallelism(num_envs=2, vectorization_mode="async"),
    )
    assert [e.return_ for e in side_by_side] == [e.return_ for e in alone]
    print(multiprocessing.get_start_method(), [e.length for e in side_by_side])
"""
    method, lengths = output_of(code).split(" ", 1)
    assert method == "spawn"
    assert len(eval(lengths)) == 6


# -- vector envs the user built ---------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: gym.make_vec("CartPole-v1", 3, vectorization_mode="sync", vector_kwargs=DISABLED),
        lambda: SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 3, **DISABLED),
        lambda: AsyncVectorEnv([lambda: gym.make("CartPole-v1")] * 2, **DISABLED),
    ],
    ids=["make_vec-sync", "SyncVectorEnv", "AsyncVectorEnv"],
)
def test_a_built_vector_env_gives_the_same_episodes(build: Callable[[], Any]) -> None:
    env = build()
    try:
        vector = resolve_vector_env(env, "test")
        assert vector is not None
        assert vector.label == "CartPole-v1"
        want, _ = one_by_one(resolve_env("CartPole-v1", "test"), lean, SEEDS)
        got, _ = in_parallel(vector, lean, SEEDS)
        assert [e.rebuild for e in got] == [vector.factory] * len(SEEDS)
        for episode in got:
            episode.rebuild = None
        for episode in want:
            episode.rebuild = None
        same_as_reference(got, want)
        got_again, _ = in_parallel(vector, lean_batched, SEEDS[:2], batched=True)
        assert [e.return_ for e in got_again] == [e.return_ for e in want[:2]]
    finally:
        env.close()


class FakeSB3VecEnv:
    """What identifies a Stable-Baselines3 VecEnv (installing SB3 would pull in torch)."""

    num_envs = 2

    def step_async(self, actions: Any) -> None: ...

    def step_wait(self) -> None: ...

    def env_method(self, name: str) -> None: ...


BUILD_ONE = "vector_kwargs={'autoreset_mode': gym.vector.AutoresetMode.DISABLED})"


@pytest.mark.parametrize(
    ("build", "expected", "fix"),
    [
        (
            lambda: gym.make_vec("CartPole-v1", 2, vectorization_mode="sync"),
            "autoreset_mode=NextStep",
            BUILD_ONE,
        ),
        (
            lambda: gym.make_vec(
                "CartPole-v1",
                2,
                vectorization_mode="async",
                vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
            ),
            "autoreset_mode=SameStep",
            BUILD_ONE,
        ),
        (
            lambda: gym.make_vec("CartPole-v1", 2, vectorization_mode="vector_entry_point"),
            "CartPoleVectorEnv cannot reset each of its sub-envs with its own seed",
            BUILD_ONE,
        ),
        (
            lambda: VectorStatistics(
                gym.make_vec("CartPole-v1", 2, "sync", vector_kwargs=DISABLED)
            ),
            "vector wrappers share state across slots",
            "pass the vector env unwrapped",
        ),
        (
            FakeSB3VecEnv,
            "FakeSB3VecEnv is a Stable-Baselines3 VecEnv",
            "Pass the env id (or the env factory you gave it) with num_envs=N",
        ),
    ],
    ids=["next-step", "same-step", "native", "wrapped", "sb3"],
)
def test_vector_envs_that_cannot_seed_each_slot_are_refused(
    build: Callable[[], Any], expected: str, fix: str
) -> None:
    env = build()
    with pytest.raises(GymrecUsageError) as caught:
        resolve_vector_env(env, "gymrec.evaluate()")
    message = str(caught.value)
    assert message.startswith("gymrec.evaluate(): ")
    assert expected in message
    assert fix in message
    if hasattr(env, "close"):
        env.close()


def test_plain_envs_are_not_vector_envs() -> None:
    assert resolve_vector_env("CartPole-v1", "test") is None
    assert resolve_vector_env(gym.make("CartPole-v1"), "test") is None


# -- executors ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def process_pool() -> Iterable[concurrent.futures.ProcessPoolExecutor]:
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        yield pool


@pytest.mark.parametrize("batched", [False, True])
def test_a_process_pool_gives_the_same_episodes_in_seed_order(
    process_pool: concurrent.futures.Executor, batched: bool
) -> None:
    source = resolve_env("CartPole-v1", "test")
    want, _ = one_by_one(source, lean, SEEDS)
    got, _ = in_parallel(
        source,
        lean_batched if batched else lean,
        SEEDS,
        batched=batched,
        num_envs=2,
        executor=process_pool,
        chunk_size=2,
    )
    same_as_reference(got, want)  # the rebuild factory is the local one again


def test_an_executor_crash_stops_at_the_same_seed(
    process_pool: concurrent.futures.Executor,
) -> None:
    source = resolve_env(dice_factory, "t", {"raise_at": (4, 2)})
    want, want_error = one_by_one(source, noisy, SEEDS)
    got, error = in_parallel(source, noisy, SEEDS, num_envs=2, executor=process_pool, chunk_size=1)
    same_as_reference(got, want)
    assert str(error) == str(want_error)


def test_a_worker_that_dies_fails_naming_its_seeds() -> None:
    source = resolve_env(dying_factory, "test")
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        got, error = in_parallel(source, noisy, [1, 2, 5, 6], executor=pool, chunk_size=2)
    assert [e.seed for e in got] == [1, 2]
    assert isinstance(error, GymrecEnvError)
    assert "could not run the chunk of seeds [5, 6]" in str(error)
    assert "BrokenProcessPool" in str(error)


def test_an_unpicklable_policy_is_a_usage_error(process_pool: concurrent.futures.Executor) -> None:
    lock = threading.Lock()

    def locked(obs: Any) -> int:
        with lock:
            return lean(obs)

    with pytest.raises(GymrecUsageError) as caught:
        in_parallel(resolve_env("CartPole-v1", "test"), locked, SEEDS, executor=process_pool)
    message = str(caught.value)
    assert "the policy cannot be pickled" in message
    assert "lock" in message
    assert "module-level function" in message


def test_a_dask_cluster_gives_the_same_episodes() -> None:
    pytest.importorskip("distributed")
    source = resolve_env("CartPole-v1", "test")
    want, _ = one_by_one(source, lean, SEEDS)
    with dask_executor() as executor:
        got, _ = in_parallel(source, lean, SEEDS, num_envs=2, executor=executor, chunk_size=2)
    same_as_reference(got, want)


@pytest.mark.parametrize(
    "options",
    [{"num_envs": 2}, {"num_envs": 2, "vectorization_mode": "async"}, {"executor": "pool"}],
    ids=["sync", "async", "pool"],
)
def test_the_spec_for_baselines_is_that_of_the_env_one_by_one(
    options: dict[str, Any], process_pool: concurrent.futures.Executor
) -> None:
    if options.get("executor") == "pool":
        options = {"executor": process_pool}
    source = resolve_env("CartPole-v1", "test", {"max_episode_steps": 80})
    with ParallelRun(
        source, lean, [1, 2], max_steps=100, label=source.label, parallelism=Parallelism(**options)
    ) as run:
        list(run)
    want = env_spec_data(source.build())
    assert want is not None
    assert want["max_episode_steps"] == 80
    assert run.env_spec_data() == want


# -- the sequential test stops part-way ----------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"num_envs": 3},
        {"num_envs": 3, "vectorization_mode": "async"},
        {"num_envs": 2, "executor": "pool"},
    ],
    ids=["sync", "async", "pool"],
)
def test_stopping_early_returns_the_episodes_that_ran_beyond(
    options: dict[str, Any], process_pool: concurrent.futures.Executor
) -> None:
    if options.get("executor") == "pool":
        options = {**options, "executor": process_pool, "chunk_size": 1}
    source = resolve_env("CartPole-v1", "test")
    seeds = list(range(30))
    want, _ = one_by_one(source, lean, seeds)
    used: list[Episode] = []
    with ParallelRun(
        source, lean, seeds, max_steps=1000, label=source.label, parallelism=Parallelism(**options)
    ) as run:
        for episode in run:
            used.append(episode)
            if len(used) == 4:
                break
    same_as_reference(used, want[:4])
    if "executor" not in options and "vectorization_mode" not in options:
        # Sync slots step in lockstep, so what finished ahead is fixed; processes' timing is not.
        assert run.extra
    assert all(e.seed is not None and e.seed > 3 for e in run.extra)
    assert [e.seed for e in run.extra] == sorted(e.seed for e in run.extra if e.seed is not None)
    same_as_reference(run.extra, [want[e.seed] for e in run.extra if e.seed is not None])
    assert len(run.extra) < len(seeds) - 4  # it stopped: not every seed ran


def sequential_test(at_least: float) -> SequentialTest:
    caller = "gymrec.assert_return()"
    plan = sequential.plan(
        at_least=at_least,
        tolerance=0.1,
        bounds=(0.0, 500.0),
        bounds_source="the call",
        alpha=0.05,
        beta=0.05,
        mode=Mode.NO_REGRESSION,
        caller=caller,
    )
    return SequentialTest(plan, "the call", caller)


@pytest.mark.parametrize("at_least", [30.0, 60.0], ids=["passes", "fails"])
def test_the_sequential_test_stops_at_the_same_seed_with_the_same_verdict(
    at_least: float,
) -> None:
    """The wiring for gymrec.assert_return: feed episodes in seed order, stop when decided."""
    source = resolve_env("CartPole-v1", "test")
    order = list(range(200))
    alone = sequential_test(at_least)  # as gymrec.assert_return runs it today
    recorder = EpisodeRecorder(
        source.build(),
        on_episode=lambda episode: alone.add(episode.return_, episode.seed),
        label=source.label,
        rebuild=None,
        max_steps=1000,
    )
    run_episodes(
        recorder, lean, itertools.takewhile(lambda _: not alone.decided, order), source.label
    )
    side_by_side = sequential_test(at_least)
    with ParallelRun(
        source, lean, order, max_steps=1000, label=source.label, parallelism=Parallelism(num_envs=3)
    ) as run:
        for episode in run:
            side_by_side.add(episode.return_, episode.seed)
            if side_by_side.decided:
                break
    assert alone.outcome is not None
    assert side_by_side.outcome is alone.outcome
    assert side_by_side.seeds == alone.seeds
    assert len(alone.seeds) < 100  # it stopped early
    # Episodes other slots finished ahead of the stopping point are reported, not used.
    assert all(e.seed is not None and e.seed >= len(alone.seeds) for e in run.extra)


# -- failure videos replay parallel episodes --------------------------------------------------


def test_an_async_episode_replays_without_divergence(tmp_path: Path) -> None:
    source = resolve_env("CartPole-v1", "test")
    got, _ = in_parallel(source, lean, SEEDS[:3], num_envs=3, vectorization_mode="async")
    encoder, outcome = replay(
        got[2],
        lambda fps, frames: StreamingEncoder(tmp_path / ".x.mp4", fps, expected_frames=frames),
    )
    encoder.finish(tmp_path / "seed.mp4")
    assert outcome.diverged_at is None
    assert outcome.frames == got[2].length + 1


# -- make_vec: statistics right under every autoreset mode ---------------------------------


def hand_loop(env: Any, steps: int, masked: bool) -> list[dict[str, Any]]:
    """A hand-written vector loop; with ``masked``, finished slots get seeded masked resets.
    Returns the ``options`` dicts it passed to reset."""
    passed = []
    next_seed = 100
    env.reset(seed=0)  # slots get seeds 0, 1, 2
    env.action_space.seed(0)
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated | truncated
        if masked and done.any():
            seeds: list[int | None] = [None] * 3
            for slot in map(int, np.flatnonzero(done)):
                seeds[slot] = next_seed
                next_seed += 1
            options = {"reset_mask": done}
            env.reset(seed=seeds, options=options)
            passed.append(options)
    return passed


def replayed_return(episode: Episode) -> float:
    """The return of the episode's actions from reset(seed=episode.seed) on a fresh env."""
    env = gym.make("CartPole-v1")
    env.reset(seed=episode.seed)
    total = 0.0
    for action in episode.actions:
        _, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
    assert terminated or truncated
    return total


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_make_vec_statistics_match_gymnasiums_under_autoresets(mode: AutoresetMode) -> None:
    episodes: list[Episode] = []
    ours = make_vec("CartPole-v1", 3, keep=episodes.append, vector_kwargs={"autoreset_mode": mode})
    reference = VectorStatistics(
        gym.make_vec("CartPole-v1", 3, "sync", vector_kwargs={"autoreset_mode": mode})
    )
    for env in (ours, reference):
        hand_loop(env, 300, masked=False)
    assert len(episodes) > 10
    assert list(ours.return_queue) == list(reference.return_queue)
    assert list(ours.length_queue) == list(reference.length_queue)
    # Only each slot's first episode started from reset(seed=...); autoresets are unseeded.
    assert sorted(e.seed for e in episodes if e.seed is not None) == [0, 1, 2]
    assert all(e.rebuild is None for e in episodes if e.seed is None)
    for episode in episodes:
        if episode.seed is not None:
            assert replayed_return(episode) == episode.return_
    ours.close()
    reference.close()


def test_make_vec_with_masked_seeded_resets_records_every_seed() -> None:
    episodes: list[Episode] = []
    ours = make_vec("CartPole-v1", 3, keep=episodes.append, vector_kwargs=DISABLED)
    gymnasiums = VectorStatistics(gym.make_vec("CartPole-v1", 3, "sync", vector_kwargs=DISABLED))
    passed = hand_loop(ours, 300, masked=True)
    assert all("reset_mask" in options for options in passed)  # the caller's dicts are intact
    hand_loop(gymnasiums, 300, masked=True)
    assert len(episodes) > 10
    seeds = [e.seed for e in episodes]
    assert len(set(seeds)) == len(seeds)  # one episode per seeded reset
    assert {0, 1, 2} <= set(seeds)
    assert all(seed in {0, 1, 2} or (seed is not None and seed >= 100) for seed in seeds)
    # Each episode is exactly its seed's episode under its recorded actions, replayed alone.
    for episode in episodes:
        assert replayed_return(episode) == episode.return_ == episode.length
    # Gymnasium 1.4's wrapper gets these wrong (its reset pops the mask from the dict it got).
    assert list(gymnasiums.return_queue) != [e.return_ for e in episodes][-100:]
    ours.close()
    gymnasiums.close()


def test_make_vec_on_a_native_vector_env_records_episodes_without_seeds() -> None:
    episodes: list[Episode] = []
    ours = make_vec("CartPole-v1", 3, keep=episodes.append, vectorization_mode="vector_entry_point")
    reference = VectorStatistics(
        gym.make_vec("CartPole-v1", 3, vectorization_mode="vector_entry_point")
    )
    for env in (ours, reference):
        hand_loop(env, 200, masked=False)
    assert len(episodes) > 5
    assert list(ours.return_queue) == list(reference.return_queue)
    # One generator seeds every slot: no episode has a seed of its own to replay.
    assert {(e.seed, e.rebuild) for e in episodes} == {(None, None)}
    assert ours.sub_env_spec is None
    ours.close()
    reference.close()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"num_envs": 0}, "num_envs=0 must be at least 1"),
        ({"vectorization_mode": "threads"}, "vectorization_mode='threads' must be 'sync'"),
        ({"env_id": gym.make("CartPole-v1")}, "must be an env id such as 'CartPole-v1'"),
    ],
)
def test_make_vec_bad_arguments_are_usage_errors(arguments: dict[str, Any], expected: str) -> None:
    call: dict[str, Any] = {"env_id": "CartPole-v1", "num_envs": 2, **arguments}
    with pytest.raises(GymrecUsageError, match=r"^gymrec\.make_vec\(\): ") as caught:
        make_vec(keep=print, **call)
    assert expected in str(caught.value)


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"num_envs": 0}, "num_envs=0 must be at least 1"),
        ({"num_envs": "2"}, "num_envs='2' must be a whole number"),
        ({"num_envs": 2.0}, "num_envs=2.0 must be a whole number"),
        ({"num_envs": True}, "num_envs=True must be a whole number"),
        ({"num_envs": 2, "vectorization_mode": "threads"}, "vectorization_mode='threads' must"),
        ({"executor": "dask"}, "executor='dask' must be a concurrent.futures.Executor"),
        ({"num_envs": 2, "chunk_size": 0}, "chunk_size=0 must be a positive"),
    ],
)
def test_bad_arguments_are_usage_errors(options: dict[str, Any], expected: str) -> None:
    with pytest.raises(GymrecUsageError, match=r"^gymrec\.evaluate\(\): ") as caught:
        run_episodes_parallel(
            resolve_env("CartPole-v1", "t"),
            lean,
            [1],
            max_steps=10,
            keep=print,
            label="x",
            parallelism=Parallelism(**options),
        )
    assert expected in str(caught.value)


def test_a_built_env_without_spec_cannot_be_copied_into_slots() -> None:
    source = resolve_env(Dice(), "test")
    with pytest.raises(GymrecUsageError, match="no spec to build them from; pass its id"):
        ParallelRun(
            source, noisy, [1], max_steps=10, label="Dice", parallelism=Parallelism(num_envs=2)
        )
