"""Plain value types: one episode, and the result of an evaluation.

No pytest and no gymnasium here; numpy and the statistics are imported only when a check runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import GymrecUsageError

if TYPE_CHECKING:
    from .stats import Subject, Verdict


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
    #: Called with an episode a check singled out and the reason (failure videos show these).
    flag: Callable[[Episode, str], None] | None = None
    #: ``--gymrec-inconclusive fail``: an INCONCLUSIVE verdict fails the test.
    inconclusive_fails: bool = False


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
        tolerance: float | None = None,
    ) -> Verdict:
        """Check the mean episode return against a line; raise ``GymrecFailure`` on a regression.

        ``mode="no-regression"`` (default) fails only on evidence that the mean return is below
        ``at_least`` (above ``at_most``): a good agent is failed with probability at most
        ``alpha``. ``mode="certify"`` passes only on evidence that the mean clears the line.
        With ``bounds=(lo, hi)`` the verdict uses betting confidence sequences (valid for any
        return distribution); without, Student's t with warnings where it is doubtful.
        ``tolerance=t`` declares the drop that matters (``t * |at_least|``): when this many
        episodes could not catch it, the report says so with the number of episodes that would.
        """
        __tracebackhide__ = True
        from . import checks, sequential, settings, stats

        context = self.context
        source = "assert_return()"
        resolved_bounds, bounds_source = (
            (settings.validate("bounds", bounds, source), source)
            if bounds is not None
            else (context.bounds, context.bounds_source)
        )
        resolved_alpha = self._alpha(alpha, source)
        resolved_mode = stats.Mode.parse(mode, source)
        relative = sequential.check_tolerance(tolerance, source) if tolerance is not None else None
        verdict = stats.check_mean(
            self.returns,
            at_least=at_least,
            at_most=at_most,
            alpha=resolved_alpha,
            bounds=resolved_bounds,
            bounds_source=bounds_source,
            mode=resolved_mode,
            rng=stats.rng_for(context.rng_key),
            subject=self._subject(),
        )
        if (
            relative is not None
            and at_least is not None
            and resolved_mode is stats.Mode.NO_REGRESSION
        ):
            verdict = checks.with_feasibility(
                verdict,
                self.returns,
                at_least=float(at_least),
                tolerance=relative,
                bounds=resolved_bounds,
                alpha=resolved_alpha / (2 if at_most is not None else 1),
                rng_key=context.rng_key,
            )
        self._record(verdict)
        verdict.enforce(inconclusive_fails=self.context.inconclusive_fails)
        return verdict

    def assert_success_rate(
        self,
        at_least: float,
        *,
        success: Callable[[Episode], bool],
        alpha: float | None = None,
        mode: str = "no-regression",
        tolerance: float | None = None,
    ) -> Verdict:
        """Check the rate of episodes for which ``success(episode)`` is true (exact binomial).

        Same semantics as :meth:`assert_return`: by default fail only on evidence that the rate
        is below ``at_least``. Unsuccessful episodes of a failing check are flagged, so failure
        videos show them first.
        """
        __tracebackhide__ = True
        from . import checks, sequential, stats

        source = "assert_success_rate()"
        successes = checks.successes_of(self.episodes, success, source)
        verdict = checks.check_success_rate(
            successes,
            at_least=at_least,
            alpha=self._alpha(alpha, source),
            mode=stats.Mode.parse(mode, source),
            subject=self._subject(),
            tolerance=(
                sequential.check_tolerance(tolerance, source) if tolerance is not None else None
            ),
            predicate_name=getattr(success, "__name__", type(success).__name__),
        )
        if verdict.outcome is not stats.Outcome.PASS:
            name = getattr(success, "__name__", "success")
            for episode, ok in zip(self.episodes, successes, strict=True):
                if not ok:
                    self._flag(episode, f"not a success ({name})")
        self._record(verdict)
        verdict.enforce(inconclusive_fails=self.context.inconclusive_fails)
        return verdict

    def assert_length(
        self,
        at_least: float | None = None,
        at_most: float | None = None,
        *,
        alpha: float | None = None,
        bounds: Sequence[float] | None = None,
        mode: str = "no-regression",
    ) -> Verdict:
        """Check the mean episode length, as :meth:`assert_return` checks the mean return.

        ``bounds`` here are bounds of the length (e.g. ``(0, 500)`` under a 500-step time
        limit); the return bounds of the test do not apply to lengths.
        """
        __tracebackhide__ = True
        from . import settings, stats

        source = "assert_length()"
        verdict = stats.check_mean(
            [float(length) for length in self.lengths],
            at_least=at_least,
            at_most=at_most,
            alpha=self._alpha(alpha, source),
            bounds=settings.validate("bounds", bounds, source) if bounds is not None else None,
            bounds_source=source,
            mode=stats.Mode.parse(mode, source),
            rng=stats.rng_for(self.context.rng_key + "/length"),
            subject=self._subject(),
            quantity="length",
        )
        self._record(verdict)
        verdict.enforce(inconclusive_fails=self.context.inconclusive_fails)
        return verdict

    def assert_quantile(
        self,
        q: float,
        *,
        at_least: float | None = None,
        at_most: float | None = None,
        of: str = "return",
        alpha: float | None = None,
        mode: str = "no-regression",
    ) -> Verdict:
        """Check the ``q``-quantile of returns (or ``of="length"``): distribution-free and exact.

        ``assert_quantile(0.1, at_least=200)`` fails only on evidence that more than 10% of
        episodes score below 200. Episodes on the wrong side of a failing line are flagged.
        """
        __tracebackhide__ = True
        from . import checks, stats

        source = "assert_quantile()"
        if of not in ("return", "length"):
            raise GymrecUsageError(f"{source}: of={of!r} must be 'return' or 'length'")
        values = self.returns if of == "return" else [float(n) for n in self.lengths]
        verdict, offending = checks.check_quantile(
            values,
            q,
            at_least=at_least,
            at_most=at_most,
            alpha=self._alpha(alpha, source),
            mode=stats.Mode.parse(mode, source),
            subject=self._subject(),
            quantity=of,
        )
        if verdict.outcome is not stats.Outcome.PASS:
            for index in offending:
                self._flag(self.episodes[index], f"{of} on the wrong side of {verdict.check}")
        self._record(verdict)
        verdict.enforce(inconclusive_fails=self.context.inconclusive_fails)
        return verdict

    # -- shared by the checks ----------------------------------------------------------------

    def _subject(self) -> Subject:
        from .stats import Subject

        return Subject(
            label=self.label(), seeds=tuple(self.seeds), reproduce=self.context.reproduce
        )

    def _alpha(self, alpha: float | None, source: str) -> float:
        from . import settings

        if alpha is None:
            return self.context.alpha
        value: float = settings.validate("alpha", alpha, source)
        return value

    def _flag(self, episode: Episode, reason: str) -> None:
        if self.context.flag is not None:
            self.context.flag(episode, reason)

    def _record(self, verdict: Verdict) -> None:
        if self.context.record is not None:
            self.context.record(verdict)
