"""Episodes recorded as ``gymrec.evaluate`` records them: on an env its source can build again,
so that every episode can be replayed (filmed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pytest_gymrec.episodes import EnvSource, EpisodeRecorder, Policy, resolve_env, run_episodes
from pytest_gymrec.record import Episode


def replayable_recorder(
    source: EnvSource, on_episode: Callable[[Episode], None], *, max_steps: int
) -> EpisodeRecorder:
    """A recorder on a new env from ``source``, which it can rebuild to replay an episode."""
    return EpisodeRecorder(
        source.build(),
        on_episode=on_episode,
        label=source.label,
        rebuild=source.factory,
        max_steps=max_steps,
    )


def record_episodes(
    env: object,
    policy: Policy,
    seeds: Iterable[int],
    on_episode: Callable[[Episode], None],
    *,
    max_steps: int,
    **make_kwargs: Any,
) -> None:
    """One episode of ``policy`` per seed on ``env`` (an id, spec, factory or env; built with
    ``make_kwargs``), each handed to ``on_episode``; the env is closed after the last one."""
    source = resolve_env(env, "test", make_kwargs)
    recorder = replayable_recorder(source, on_episode, max_steps=max_steps)
    run_episodes(recorder, policy, seeds, source.label)
    recorder.close()
