"""Envs in worker processes, one request at a time: the worker loop and the messages.

``parallel``'s async engine runs each slot's env in a process of its own and serves whichever
worker answers first, so no worker waits for the slowest of a lockstep batch (Gymnasium's
``AsyncVectorEnv`` steps all slots together). Each request is one message and each answer one
message back. An observation or action that is an array of its space's dtype and shape travels
as its raw bytes, with the reward and flags in a fixed header: pickling a small array costs
about as much as a whole CartPole step. Anything else is pickled, so every value arrives with
the type it left with (a float32 reward stays float32 and sums as it would one by one).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import pickle
import signal
import struct
import time
from typing import Any

import cloudpickle
import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import CloudpickleWrapper

from .episodes import _ARRAY_SPACES, EnvFactory, _describe_exception

# Requests (main -> worker), each the first byte of a message.
_RESET = b"R"  # + pickled seed
_STEP_INT = b"I"  # + the action, a Python int, as 8 signed bytes
_STEP_ARRAY = b"A"  # + the action's bytes (an array of the action space's dtype and shape)
_STEP_PICKLED = b"P"  # + the pickled action
_CLOSE = b"C"

# Answers (worker -> main).
_READY = b"H"  # + cloudpickled (observation space, action space, spec): the env is built
_ARRAY = b"A"  # + _HEADER + the observation's bytes
_PICKLED = b"P"  # + pickled (observation, reward, terminated, truncated)
_RAISED = b"E"  # + pickled (description, pickled exception or None)

#: Seconds workers get to close their envs and end once asked, before they are ended by force.
CLOSE_TIMEOUT = 5.0

#: Reward (as a float64), terminated, truncated.
_HEADER = struct.Struct("<d??")
_FLAGS = (bool, np.bool_)
_INT64 = range(-(2**63), 2**63)

#: The answer to a request: (observation, reward, terminated, truncated), or what the env raised.
Answer = tuple[Any, Any, Any, Any] | BaseException


class WorkerDied(Exception):
    """The worker process ended while a request was waiting for its answer."""


class _ArrayLayout:
    """The dtype and shape of a space's arrays, when it has one (Box, MultiBinary,
    MultiDiscrete): such values travel as raw bytes."""

    def __init__(self, space: gym.spaces.Space[Any]) -> None:
        array = isinstance(space, _ARRAY_SPACES)
        self.dtype: np.dtype[Any] | None = space.dtype if array else None
        self.shape: tuple[int, ...] = tuple(space.shape or ()) if array else ()

    def fits(self, value: Any) -> bool:
        return type(value) is np.ndarray and value.dtype == self.dtype and value.shape == self.shape

    def read(self, data: bytes, offset: int) -> np.ndarray[Any, Any]:
        # A writable copy, as an env's own array is: a policy may work on it in place.
        assert self.dtype is not None
        array: np.ndarray[Any, Any] = np.frombuffer(data, self.dtype, offset=offset)
        writable: np.ndarray[Any, Any] = array.reshape(self.shape).copy()
        return writable


# --------------------------------------------------------------------------------------------
# The worker process


def _serve(connection: multiprocessing.connection.Connection, factory: CloudpickleWrapper) -> None:
    """A worker's life: build the env, answer requests until told to close (or main is gone)."""
    # Ctrl-C reaches the whole process group: the main process handles it and closes us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        env = factory.fn()
    except Exception as exc:
        connection.send_bytes(_raised(exc))
        return
    try:
        try:
            # cloudpickle (a Gymnasium dependency): spaces and specs may hold lambdas.
            ready = _READY + cloudpickle.dumps((env.observation_space, env.action_space, env.spec))
        except Exception as exc:
            connection.send_bytes(_raised(_cannot_send("the env's spaces or spec", exc)))
            return
        connection.send_bytes(ready)
        _answer_requests(connection, env)
    except OSError:  # the main process is gone: nobody to answer
        return
    finally:
        with contextlib.suppress(Exception):
            env.close()


def _answer_requests(
    connection: multiprocessing.connection.Connection, env: gym.Env[Any, Any]
) -> None:
    observations = _ArrayLayout(env.observation_space)
    actions = _ArrayLayout(env.action_space)
    while True:
        try:
            request = connection.recv_bytes()
        except EOFError:  # the main process is gone
            return
        kind = request[:1]
        if kind == _CLOSE:
            return
        try:
            if kind == _RESET:
                seed = pickle.loads(request[1:])
                observation, _ = env.reset(seed=seed)
                # As run_episodes does: the env's own sampling follows the seed too.
                env.action_space.seed(seed)
                answer = _answer(observations, observation, 0.0, False, False)
            else:
                if kind == _STEP_INT:
                    action: Any = int.from_bytes(request[1:], "little", signed=True)
                elif kind == _STEP_ARRAY:
                    action = actions.read(request, 1)
                else:
                    action = pickle.loads(request[1:])
                observation, reward, terminated, truncated, _ = env.step(action)
                answer = _answer(observations, observation, reward, terminated, truncated)
        except Exception as exc:
            answer = _raised(exc)
        connection.send_bytes(answer)


def _answer(
    layout: _ArrayLayout, observation: Any, reward: Any, terminated: Any, truncated: Any
) -> bytes:
    if (
        layout.fits(observation)
        and isinstance(reward, float)  # float64 (np.float64 is a float): sums the same
        and type(terminated) in _FLAGS
        and type(truncated) in _FLAGS
    ):
        header = _HEADER.pack(reward, bool(terminated), bool(truncated))
        values: bytes = observation.tobytes()
        return _ARRAY + header + values
    try:
        return _PICKLED + pickle.dumps((observation, reward, terminated, truncated))
    except Exception as exc:
        return _raised(_cannot_send("the env's observation or reward", exc))


def _cannot_send(what: str, exc: Exception) -> TypeError:
    return TypeError(
        f"{what} cannot be pickled to send to the test's process ({_describe_exception(exc)}); "
        "run it with vectorization_mode='sync', which sends nothing between processes"
    )


def _raised(exc: BaseException) -> bytes:
    try:
        pickled: bytes | None = pickle.dumps(exc)
    except Exception:
        pickled = None
    return _RAISED + pickle.dumps((_describe_exception(exc), pickled))


# --------------------------------------------------------------------------------------------
# The main process's end


class EnvWorker:
    """One env in a worker process: send a request, read its answer when it is ready.

    Started with the default start method, as Gymnasium's ``AsyncVectorEnv`` is; the factory
    is cloudpickled only where the start method needs it (not with fork).
    """

    def __init__(self, factory: EnvFactory) -> None:
        context = multiprocessing.get_context()
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve,
            args=(child_end, CloudpickleWrapper(factory)),
            daemon=True,
            name="pytest-gymrec env worker",
        )
        self.process.start()
        child_end.close()  # ours closed: a worker that dies is seen as the end of its pipe
        self._observations: _ArrayLayout | None = None
        self._actions: _ArrayLayout | None = None

    def ready(self) -> tuple[gym.spaces.Space[Any], gym.spaces.Space[Any], Any]:
        """Wait for the env to be built: its spaces and spec, or what building it raised."""
        message = self._receive()
        if message[:1] != _READY:
            raise _unpack_raised(message)
        observation_space, action_space, spec = pickle.loads(message[1:])
        self._observations = _ArrayLayout(observation_space)
        self._actions = _ArrayLayout(action_space)
        return observation_space, action_space, spec

    def fileno(self) -> int:
        return self.connection.fileno()

    def reset(self, seed: int) -> None:
        self._send(_RESET + pickle.dumps(seed))

    def step(self, action: Any) -> None:
        assert self._actions is not None
        if type(action) is int and action in _INT64:
            self._send(_STEP_INT + action.to_bytes(8, "little", signed=True))
        elif self._actions.fits(action):
            self._send(_STEP_ARRAY + action.tobytes())
        else:
            self._send(_STEP_PICKLED + pickle.dumps(action))

    def answer(self) -> Answer:
        """The answer to the last request (call once it is ready, or it waits)."""
        message = self._receive()
        kind = message[:1]
        if kind == _ARRAY:
            assert self._observations is not None
            reward, terminated, truncated = _HEADER.unpack_from(message, 1)
            observation = self._observations.read(message, 1 + _HEADER.size)
            return observation, reward, terminated, truncated
        if kind == _PICKLED:
            answer: tuple[Any, Any, Any, Any] = pickle.loads(message[1:])
            return answer
        return _unpack_raised(message)

    def _send(self, message: bytes) -> None:
        try:
            self.connection.send_bytes(message)
        except OSError:
            raise self._died() from None

    def _receive(self) -> bytes:
        try:
            return self.connection.recv_bytes()
        except (EOFError, OSError):
            raise self._died() from None

    def _died(self) -> WorkerDied:
        self.process.join(timeout=1.0)
        return WorkerDied(f"its process ended with exit code {self.process.exitcode}")

    def ask_to_close(self) -> None:
        """Ask the worker to close its env and end (it first answers a request it is on)."""
        with contextlib.suppress(OSError):
            self.connection.send_bytes(_CLOSE)

    def close(self, deadline: float) -> None:
        """Close the env and end the worker; end it by force if it has not ended by
        ``deadline`` (``time.monotonic()``): an env stuck in a step."""
        self.ask_to_close()
        self.process.join(timeout=max(0.0, deadline - time.monotonic()))
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=CLOSE_TIMEOUT)
        self.connection.close()


def _unpack_raised(message: bytes) -> BaseException:
    """The exception a worker reported, as close to the original as the main process can load.

    One that does not load again here (say, a custom exception whose constructor takes other
    arguments) becomes a stand-in with the same type name and text, so messages read the same.
    """
    description, pickled = pickle.loads(message[1:])
    if pickled is not None:
        try:
            exc = pickle.loads(pickled)
        except Exception:
            exc = None
        if isinstance(exc, BaseException) and _describe_exception(exc) == description:
            return exc
    name, _, text = description.partition(": ")
    stand_in: type[Exception] = type(name, (Exception,), {"__module__": "env worker"})
    return stand_in(text) if text else stand_in()
