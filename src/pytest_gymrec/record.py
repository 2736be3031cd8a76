"""The plain data every part reads: one episode, and everything one test produced.

No pytest, no numpy, no gymnasium: the checks, the videos and the reports all import this module,
and it imports none of them back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .artifacts import VideoFolder
    from .verdict import Verdict
    from .video import LiveCapture


@dataclasses.dataclass
class Episode:
    """One finished (or crashed) episode.

    ``return_`` carries PEP 8's trailing underscore because ``return`` is a keyword.
    The fields after ``truncated`` exist so the episode can be replayed for a video; they are not
    part of equality or repr, and are not serialised.
    """

    seed: int | None
    return_: float
    length: int
    wall_time: float
    terminated: bool
    truncated: bool
    #: ``"ValueError: ..."`` when the policy or the env raised during this episode, else None.
    error: str | None = None
    #: Free-form name of the env the episode ran on (an env id where there is one).
    env_label: str = ""
    #: Actions in order, kept so a failing episode can be re-simulated with rendering.
    actions: list[Any] = dataclasses.field(default_factory=list, repr=False, compare=False)
    #: Per-step rewards, kept so a replay can be checked step by step.
    rewards: list[float] = dataclasses.field(default_factory=list, repr=False, compare=False)
    #: ``np_random.bit_generator.state`` before an unseeded reset (None when reset got a seed).
    reset_rng_state: dict[str, Any] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    #: ``options`` passed to ``reset``.
    reset_options: dict[str, Any] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    #: Builds a fresh env like the one this episode ran on; takes ``render_mode=``.
    rebuild: Callable[..., Any] | None = dataclasses.field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The episode's statistics as JSON-ready plain data."""
        return {
            "seed": self.seed,
            "return": self.return_,
            "length": self.length,
            "wall_time": self.wall_time,
            "terminated": self.terminated,
            "truncated": self.truncated,
            "error": self.error,
        }


@dataclasses.dataclass
class TestRecord:
    """Everything one test produced, read by the report hooks."""

    __test__ = False  # not a test class, whatever its name says (pytest would try to collect it)

    nodeid: str
    episodes: list[Episode] = dataclasses.field(default_factory=list)
    verdicts: list[Verdict] = dataclasses.field(default_factory=list)
    #: Episodes a check singled out (a per-episode check failed, a seed regressed most against
    #: its baseline), with the reason; failure videos show these before the lowest returns.
    flagged: list[tuple[Episode, str]] = dataclasses.field(default_factory=list)
    #: Where this test's videos go (None: no videos, e.g. a Gymrec built outside pytest).
    video_folder: VideoFolder | None = None
    #: Envs filming episodes live (``video_trigger``); their videos are reported with the test.
    live_captures: list[LiveCapture] = dataclasses.field(default_factory=list)
    #: Baseline files this test wrote: {"path": absolute path, "action": created/rewritten/...}.
    baseline_files: list[dict[str, str]] = dataclasses.field(default_factory=list)
    #: Episodes a sequential test ran in parallel beyond the episode where its verdict was
    #: decided: reported, not used (using them would let the stop depend on finishing order).
    unused_episodes: int = 0

    #: Called with every episode and verdict as it is added (the plugin's hooks listen here).
    on_episode: Callable[[Episode], None] | None = dataclasses.field(default=None, repr=False)
    on_verdict: Callable[[Verdict], None] | None = dataclasses.field(default=None, repr=False)

    def add_episode(self, episode: Episode) -> None:
        self.episodes.append(episode)
        if self.on_episode is not None:
            self.on_episode(episode)

    def add_verdict(self, verdict: Verdict) -> None:
        self.verdicts.append(verdict)
        if self.on_verdict is not None:
            self.on_verdict(verdict)

    def flag(self, episode: Episode, reason: str) -> None:
        self.flagged.append((episode, reason))

    def note_baseline(self, path: str, action: str) -> None:
        self.baseline_files.append({"path": path, "action": action})
