"""Plain value types: one episode, and the result of an evaluation.

No pytest and no gymnasium here; numpy and the statistics are imported only when a check runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .stats import Verdict


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


@dataclasses.dataclass(frozen=True)
class CheckContext:
    """What a check needs from the test that runs it. Filled in by the ``gymrec`` fixture.

    ``record`` is called with every verdict so the plugin can report it, and ``enforce`` decides
    what an inconclusive verdict does.
    """

    alpha: float = 0.01
    bounds: tuple[float, float] | None = None
    bounds_source: str = "the call"
    #: Key for the deterministic random generator (the test's node id).
    rng_key: str = "gymrec"
    #: Command line that reruns the test with the same settings.
    reproduce: str | None = None
    record: Callable[[Verdict], None] | None = None


class EvalResult:
    """Episodes of one evaluation, with statistical checks on them.

    ``returns``, ``lengths`` and ``seeds`` are parallel lists in the order the episodes ran.
    """

    def __init__(
        self,
        episodes: Iterable[Episode] = (),
        *,
        env_label: str = "",
        context: CheckContext | None = None,
        env_spec: dict[str, Any] | None = None,
    ) -> None:
        self.episodes: list[Episode] = list(episodes)
        self.env_label = env_label
        self.context = context if context is not None else CheckContext()
        #: The env's spec as plain data (episodes.env_spec_data), for baselines; None if unknown.
        self.env_spec = env_spec

    @property
    def returns(self) -> list[float]:
        return [episode.return_ for episode in self.episodes]

    @property
    def lengths(self) -> list[int]:
        return [episode.length for episode in self.episodes]

    @property
    def seeds(self) -> list[int | None]:
        return [episode.seed for episode in self.episodes]

    def __len__(self) -> int:
        return len(self.episodes)

    def __repr__(self) -> str:
        return f"EvalResult(env={self.env_label!r}, episodes={len(self.episodes)})"

    def label(self) -> str:
        if self.env_label:
            return self.env_label
        labels = sorted({episode.env_label for episode in self.episodes if episode.env_label})
        return ", ".join(labels) if labels else "env"

    def assert_return(
        self,
        at_least: float | None = None,
        at_most: float | None = None,
        *,
        alpha: float | None = None,
        bounds: Sequence[float] | None = None,
        mode: str = "no-regression",
    ) -> Verdict:
        """Check the mean episode return against a line; raise ``GymrecFailure`` on a regression.

        ``mode="no-regression"`` (default) fails only on evidence that the mean return is below
        ``at_least`` (above ``at_most``): a good agent is failed with probability at most
        ``alpha``. ``mode="certify"`` passes only on evidence that the mean clears the line.
        With ``bounds=(lo, hi)`` the verdict uses betting confidence sequences (valid for any
        return distribution); without, Student's t with warnings where it is doubtful.
        """
        __tracebackhide__ = True
        from . import settings, stats

        context = self.context
        source = "assert_return()"
        resolved_bounds, bounds_source = (
            (settings.validate("bounds", bounds, source), source)
            if bounds is not None
            else (context.bounds, context.bounds_source)
        )
        verdict = stats.check_mean(
            self.returns,
            at_least=at_least,
            at_most=at_most,
            alpha=settings.validate("alpha", alpha, source) if alpha is not None else context.alpha,
            bounds=resolved_bounds,
            bounds_source=bounds_source,
            mode=stats.Mode.parse(mode, source),
            rng=stats.rng_for(context.rng_key),
            subject=stats.Subject(
                label=self.label(),
                seeds=tuple(self.seeds),
                reproduce=context.reproduce,
            ),
        )
        if context.record is not None:
            context.record(verdict)
        verdict.enforce()
        return verdict
