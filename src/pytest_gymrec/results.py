"""The result of an evaluation, with its checks. No pytest and no gymnasium.

Each check method validates its arguments, asks a pure decision of :mod:`.checks` and hands the
decision to :func:`.checks.pipeline.conclude`, the one place that records, flags and enforces.
numpy and the statistics load when a check runs or an array is read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .checks.pipeline import CheckContext
from .errors import GymrecUsageError
from .record import Episode

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .verdict import Mode, Subject, Verdict

__all__ = ["CheckContext", "EvalResult"]


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Resolved arguments of a paired comparison."""

    tolerance: float
    alpha: float
    bounds: tuple[float, float] | None
    bounds_source: str


class EvalResult:
    """Episodes of one evaluation, with statistical checks on them.

    ``returns``, ``lengths`` and ``seeds`` are read-only numpy arrays in the order the episodes
    ran (float64, int64, and int64 or object where an episode had no seed).
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

    @classmethod
    def from_returns(
        cls,
        returns: Iterable[float],
        *,
        seeds: Iterable[int | None] | None = None,
        lengths: Iterable[int] | None = None,
        env_label: str = "",
    ) -> EvalResult:
        """A result from returns you already have (``evaluate_policy``, a training log, another
        harness), so the same checks apply. ``seeds`` pair episodes with a baseline and fix the
        order a betting test reads them in; without them, episodes keep the given order."""
        from .checks import core

        caller = "EvalResult.from_returns()"
        values = [core.finite_number(value, "a return", caller) for value in returns]
        seed_list = list(seeds) if seeds is not None else [None] * len(values)
        length_list = list(lengths) if lengths is not None else [0] * len(values)
        for name, given in (("seeds", seed_list), ("lengths", length_list)):
            if len(given) != len(values):
                raise GymrecUsageError(
                    f"{caller}: {len(values)} returns but {len(given)} {name}; give one per "
                    "return, or none"
                )
        known = [seed for seed in seed_list if seed is not None]
        if len(set(known)) != len(known):
            raise GymrecUsageError(
                f"{caller}: seeds repeat; every episode needs its own seed (an episode is the "
                "unit of replication)"
            )
        episodes = [
            Episode(
                seed=None if seed is None else int(seed),
                return_=value,
                length=int(length),
                wall_time=0.0,
                terminated=True,
                truncated=False,
                env_label=env_label,
            )
            for value, seed, length in zip(values, seed_list, length_list, strict=True)
        ]
        return cls(episodes, env_label=env_label)

    @property
    def returns(self) -> npt.NDArray[np.float64]:
        return _frozen([episode.return_ for episode in self.episodes], "float64")

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        return _frozen([episode.length for episode in self.episodes], "int64")

    @property
    def seeds(self) -> npt.NDArray[Any]:
        seeds = [episode.seed for episode in self.episodes]
        return _frozen(seeds, "object" if None in seeds else "int64")

    def __len__(self) -> int:
        return len(self.episodes)

    def __repr__(self) -> str:
        return f"EvalResult(env={self.env_label!r}, episodes={len(self.episodes)})"

    def label(self) -> str:
        if self.env_label:
            return self.env_label
        labels = sorted({episode.env_label for episode in self.episodes if episode.env_label})
        return ", ".join(labels) if labels else "env"

    # -- checks ------------------------------------------------------------------------------

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
        With ``bounds=(lo, hi)`` the verdict is a betting test (valid for any return
        distribution); without, Student's t, which is only approximate. A check that could not
        fail with these episodes fails as blind (``GymrecBlindCheck``) and says how many
        episodes would do; ``tolerance=t`` declares the drop that matters (``t * |at_least|``):
        when these episodes would likely miss it, the verdict is INCONCLUSIVE.
        """
        __tracebackhide__ = True
        return self._check_mean(
            [episode.return_ for episode in self.episodes],
            "return",
            "assert_return()",
            at_least,
            at_most,
            alpha,
            bounds,
            mode,
            tolerance,
        )

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
        return self._check_mean(
            [float(episode.length) for episode in self.episodes],
            "length",
            "assert_length()",
            at_least,
            at_most,
            alpha,
            bounds,
            mode,
            None,
            own_bounds_only=True,
        )

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
        from .checks import core, rate

        caller = "assert_success_rate()"
        decision = rate.decide_success_rate(
            rate.successes_of(self.episodes, success, caller),
            at_least=at_least,
            alpha=self._alpha(alpha, caller),
            mode=self._mode(mode, caller),
            subject=self._subject(),
            tolerance=(core.check_tolerance(tolerance, caller) if tolerance is not None else None),
            predicate_name=getattr(success, "__name__", type(success).__name__),
        )
        return self._conclude(decision)

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
        from .checks import quantile

        caller = "assert_quantile()"
        if of not in ("return", "length"):
            raise GymrecUsageError(f"{caller}: of={of!r} must be 'return' or 'length'")
        values = [
            float(episode.return_ if of == "return" else episode.length)
            for episode in self.episodes
        ]
        decision = quantile.decide_quantile(
            values,
            q,
            at_least=at_least,
            at_most=at_most,
            alpha=self._alpha(alpha, caller),
            mode=self._mode(mode, caller),
            subject=self._subject(),
            quantity=of,
        )
        return self._conclude(decision)

    def assert_no_regression(
        self,
        baseline: EvalResult,
        *,
        tolerance: float = 0.05,
        alpha: float | None = None,
        bounds: Sequence[float] | None = None,
    ) -> Verdict:
        """Compare with ``baseline`` (another EvalResult, e.g. the previous checkpoint) seed by
        seed, in memory: fails only on evidence that the mean return dropped by more than
        ``tolerance`` (a fraction of the baseline's mean) on the seeds both share. Same
        decision and message as ``gymrec.assert_no_regression`` against a stored baseline."""
        __tracebackhide__ = True
        from .baseline import env_changes_between
        from .checks import paired

        caller = "EvalResult.assert_no_regression()"
        if not isinstance(baseline, EvalResult):
            raise GymrecUsageError(
                f"{caller}: baseline={baseline!r} must be an EvalResult (of the same env and "
                "seeds), e.g. old = gymrec.evaluate(env, old_policy, seeds=range(50))"
            )
        comparison = self.comparison_settings(caller, tolerance, alpha, bounds)
        label = self.label()
        new = paired.by_seed(self.episodes, label, caller)
        old = paired.by_seed(baseline.episodes, baseline.label(), caller)
        changes = env_changes_between(baseline.env_spec, baseline.label(), self.env_spec, label)
        if changes:
            listed = "; ".join(changes)
            raise GymrecUsageError(
                f"{caller}: the two results ran on different envs ({listed}), so a seed does not "
                "mean the same episode in both; compare results of the same env"
            )
        from .formatting import format_seeds

        return paired.compare(
            new,
            {seed: (episode.return_, episode.length) for seed, episode in old.items()},
            tolerance=comparison.tolerance,
            alpha=comparison.alpha,
            bounds=comparison.bounds,
            bounds_source=comparison.bounds_source,
            origin=paired.Origin(
                label=label,
                baseline=f"the baseline result ({baseline.label()}, in memory)",
                reproduce=self.context.reproduce,
            ),
            context=self.context,
            caller=caller,
            no_shared_seeds=(
                f"gymrec: {label}: no seed in common with the baseline result: it has seeds "
                f"{format_seeds(sorted(old))}, this run has {format_seeds(sorted(new))}; "
                "evaluate both on the same seeds"
            ),
        )

    # -- shared by the checks ----------------------------------------------------------------

    def comparison_settings(
        self, caller: str, tolerance: object, alpha: object, bounds: object
    ) -> Comparison:
        """Tolerance, alpha and bounds of a paired comparison (call arguments over the test's)."""
        from . import settings
        from .checks import core

        resolved_bounds, bounds_source = (
            (settings.validate("bounds", bounds, caller), caller)
            if bounds is not None
            else (self.context.bounds, self.context.bounds_source)
        )
        return Comparison(
            tolerance=core.check_tolerance(tolerance, caller, allow_zero=True),
            alpha=self._alpha(alpha, caller),
            bounds=resolved_bounds,
            bounds_source=bounds_source,
        )

    def _check_mean(
        self,
        values: list[float],
        quantity: str,
        caller: str,
        at_least: object,
        at_most: object,
        alpha: object,
        bounds: object,
        mode: object,
        tolerance: object,
        *,
        own_bounds_only: bool = False,
    ) -> Verdict:
        __tracebackhide__ = True
        from . import settings
        from .checks import core, mean

        if bounds is not None:
            resolved_bounds, bounds_source = settings.validate("bounds", bounds, caller), caller
        elif own_bounds_only:
            resolved_bounds, bounds_source = None, caller
        else:
            resolved_bounds, bounds_source = self.context.bounds, self.context.bounds_source
        decision = mean.decide_mean(
            values,
            at_least=at_least,
            at_most=at_most,
            alpha=self._alpha(alpha, caller),
            bounds=resolved_bounds,
            bounds_source=bounds_source,
            mode=self._mode(mode, caller),
            rng_key=self.context.rng_key,
            subject=self._subject(),
            quantity=quantity,
            tolerance=core.check_tolerance(tolerance, caller) if tolerance is not None else None,
            caller=caller,
        )
        return self._conclude(decision)

    def _conclude(self, decision: Any) -> Verdict:
        __tracebackhide__ = True
        from .checks.pipeline import conclude

        return conclude(decision, self.episodes, self.context)

    def _subject(self) -> Subject:
        from .verdict import Subject

        return Subject(
            label=self.label(),
            seeds=tuple(episode.seed for episode in self.episodes),
            reproduce=self.context.reproduce,
        )

    def _alpha(self, alpha: object, caller: str) -> float:
        from . import settings

        if alpha is None:
            return self.context.alpha
        value: float = settings.validate("alpha", alpha, caller)
        return value

    @staticmethod
    def _mode(mode: object, caller: str) -> Mode:
        from .verdict import Mode

        return Mode.parse(mode, caller)


def _frozen(values: list[Any], dtype: str) -> npt.NDArray[Any]:
    import numpy as np

    array: npt.NDArray[Any] = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array
