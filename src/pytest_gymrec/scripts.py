"""pytest-gymrec in plain scripts: ``wrap`` for training and evaluation loops outside pytest.

``wrap(env)`` is the recorder the ``gymrec`` fixture uses, with Gymnasium's
``RecordEpisodeStatistics`` semantics (``info["episode"]``, ``return_queue``, ``length_queue``,
``time_queue``), every episode's statistics in ``env.result`` (an ``EvalResult`` whose checks
work outside pytest), and, with ``video_folder``, videos of the episodes ``video_trigger`` picks
streamed to ``video_folder/episode-N.mp4`` while they run (frames are never held in memory).

Memory stays flat in loops of any length: every episode keeps its statistics, and none keeps its
actions and rewards (outside pytest nothing replays episodes to film them; the episodes to see
are filmed live).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .episodes import EpisodeRecorder, env_spec_data, resolve_env
from .errors import GymrecUsageError, GymrecVideoWarning, ask_yes_or_no
from .record import Episode
from .results import EvalResult

if TYPE_CHECKING:
    import gymnasium as gym

    from .video import LiveCapture, LiveVideo

_CALLER = "pytest_gymrec.wrap()"
_EXAMPLE = "e.g. video_trigger=lambda episode: episode % 250 == 0"
_CUBES = frozenset(n**3 for n in range(10))


class RecordedEnv(EpisodeRecorder):
    """What :func:`wrap` returns: ``RecordEpisodeStatistics`` plus ``result`` and ``videos``."""

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        label: str,
        rebuild: Any,
        reserve: Callable[[str], Path] | None = None,
        video_trigger: Callable[[int], bool] | None = None,
    ) -> None:
        from .video import LiveCapture

        self.result = EvalResult(env_label=label, env_spec=env_spec_data(env))
        """Every episode so far (statistics only; see the module's note on memory)."""
        self._trigger = video_trigger
        self._capture: LiveCapture | None = None
        self._film_next = False
        if reserve is not None and video_trigger is not None:
            env = self._capture = LiveCapture(
                env, trigger=lambda episode: self._film_next, reserve=reserve, label=label
            )
        super().__init__(
            env,
            on_episode=self._keep,
            label=label,
            rebuild=rebuild,
            # No limit: an env without a TimeLimit runs as long as the script steps it.
            max_steps=sys.maxsize,
            keep_replay=False,
        )

    @property
    def videos(self) -> list[LiveVideo]:
        """The videos filmed so far, in episode order: each with its ``path`` or ``missing``."""
        return list(self._capture.videos) if self._capture is not None else []

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if self._capture is not None:
            # Asked here, before the env resets, so a bad trigger fails with its own message.
            self._film_next = self._ask_trigger(self._capture.episode_index + 1)
        return super().reset(seed=seed, options=options)

    def _ask_trigger(self, episode: int) -> bool:
        assert self._trigger is not None
        return ask_yes_or_no(
            self._trigger,
            episode,
            asked=f"{_CALLER}: video_trigger",
            of=f"episode {episode}",
            hint=f"it must take the episode number and return True or False ({_EXAMPLE})",
        )

    def _keep(self, episode: Episode) -> None:
        self.result.episodes.append(episode)
        if self._capture is not None:  # a video that could not be made warns there
            self._capture.link(episode)


def capped_cubic_video_schedule(episode: int) -> bool:
    """``RecordVideo``'s default trigger: episodes 0, 1, 8, 27, ..., 729, 1000, 2000, 3000, ...

    The same rule as ``gymnasium.utils.save_video.capped_cubic_video_schedule``, which cannot be
    imported without moviepy installed.
    """
    if episode < 1000:
        return episode in _CUBES
    return episode % 1000 == 0


def wrap(
    env: gym.Env[Any, Any],
    *,
    video_folder: str | os.PathLike[str] | None = None,
    video_trigger: Callable[[int], bool] | None = None,
) -> RecordedEnv:
    """Record every episode of ``env`` in a plain script, as Gymnasium's wrappers would.

    The returned env is a ``RecordEpisodeStatistics`` (``info["episode"]`` at the end of each
    episode, ``return_queue``, ``length_queue``, ``time_queue``) with ``env.result``, an
    ``EvalResult`` of every episode so far (``env.result.assert_return(...)`` raises
    ``GymrecFailure`` with the same report as in a test), and ``env.videos``.

    With ``video_folder``, the episodes ``video_trigger(episode_number)`` picks (numbered from
    0, as ``RecordVideo``'s ``episode_trigger``; default: Gymnasium's capped cubic schedule
    0, 1, 8, 27, ..., 1000, 2000, ...) are filmed while they run into
    ``video_folder/episode-N.mp4``; ``env`` must render ``rgb_array`` frames. A video that
    cannot be made (an unwritable folder, a full disk) is a ``GymrecVideoWarning`` and
    ``video.missing``; the loop and its statistics go on.
    """
    source = resolve_env(env, _CALLER)
    if source.instance is None:
        raise GymrecUsageError(
            f"{_CALLER} takes a built gymnasium.Env, got {env!r}; build it first, e.g. "
            "wrap(gym.make('CartPole-v1', render_mode='rgb_array'), video_folder='videos')"
        )
    if video_folder is None:
        if video_trigger is not None:
            raise GymrecUsageError(
                f"{_CALLER}: video_trigger={video_trigger!r} needs video_folder=... to say where "
                "the videos go"
            )
        return RecordedEnv(source.instance, label=source.label, rebuild=source.factory)
    if not isinstance(video_folder, (str, os.PathLike)):
        raise GymrecUsageError(
            f"{_CALLER}: video_folder={video_folder!r} must be a path (str or pathlib.Path)"
        )
    if video_trigger is None:
        video_trigger = capped_cubic_video_schedule
    elif not callable(video_trigger):
        raise GymrecUsageError(
            f"{_CALLER}: video_trigger={video_trigger!r} must be a callable episode_number -> "
            f"bool ({_EXAMPLE})"
        )
    mode = getattr(source.instance, "render_mode", None)
    if mode != "rgb_array":
        raise GymrecUsageError(
            f"{_CALLER}: video_folder={os.fspath(video_folder)!r} films episodes, but "
            f"{source.label} has render_mode={mode!r}; build it with "
            f"gym.make({source.label!r}, render_mode='rgb_array')"
        )
    folder = Path(video_folder)
    if any(folder.glob("episode-*.mp4")):
        warnings.warn(
            f"{_CALLER}: {folder} already holds episode-*.mp4 files; videos of this run "
            "overwrite those with the same episode number (choose another video_folder to keep "
            "them apart)",
            GymrecVideoWarning,
            stacklevel=2,
        )

    def reserve(stem: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{stem}.mp4"

    return RecordedEnv(
        source.instance,
        label=source.label,
        rebuild=source.factory,
        reserve=reserve,
        video_trigger=video_trigger,
    )
