"""The object behind the ``gymrec`` fixture. No pytest; gymnasium only once an env is needed."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import os
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checks.pipeline import CheckContext
from .errors import GymrecEnvWarning, GymrecUsageError
from .record import Episode, TestRecord
from .results import EvalResult
from .settings import MAX_SEED, Blind, Inconclusive, Parallelism, Settings

if TYPE_CHECKING:
    from .episodes import EnvSource, EpisodeRecorder, Policy, ReplayChoice
    from .parallel import VectorEpisodeRecorder, VectorSource
    from .verdict import Verdict
    from .video import LiveCapture


#: Seeds per executor chunk in a sequential test: each worker runs at most two chunks past the
#: episode where the verdict is decided (the report counts them as run, not used).
SEQUENTIAL_CHUNK_SIZE = 4


class Gymrec:
    """Evaluate agents, wrap envs with statistics, and check returns. One per test."""

    def __init__(
        self,
        settings: Settings,
        record: TestRecord,
        reproduce: str,
        *,
        test_path: Path | None = None,
        created_baselines: set[Path] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self._settings = settings
        self._record = record
        self._reproduce = reproduce
        #: The test's file: baselines live beside it.
        self._test_path = test_path
        self._baseline_paths: set[Path] = set()
        #: Baselines created in this session (shared by the session's tests): a rerun of a
        #: test that created one must not pass against a file nobody reviewed.
        self._created_baselines = created_baselines if created_baselines is not None else set()
        #: Writes a progress line for evaluations that take a while (the terminal's, or None).
        self._progress = progress
        self._envs: list[Any] = []
        self.result = EvalResult(context=self._context(settings))
        """Episodes of every env made with :meth:`make` or :meth:`wrap` in this test."""

    # -- what the test reads -----------------------------------------------------------------

    @property
    def seeds(self) -> list[int]:
        """The resolved seed list (ini < command line < marker)."""
        return list(self._settings.seeds)

    @property
    def settings(self) -> Settings:
        return self._settings

    # -- running -------------------------------------------------------------------------------

    def evaluate(
        self,
        env: Any,
        policy: Policy | Any,
        *,
        seeds: Iterable[int] | int | str | None = None,
        max_steps: int | None = None,
        bounds: tuple[float, float] | None = None,
        num_envs: int | None = None,
        vectorization_mode: str | None = None,
        batched: bool = False,
        executor: concurrent.futures.Executor | None = None,
        **make_kwargs: Any,
    ) -> EvalResult:
        """Run one episode per seed and return the episodes as an :class:`EvalResult`.

        Each episode calls ``reset(seed=s)`` and seeds the action space with ``s``, so an
        evaluation is reproducible. ``env`` is an env id, an ``EnvSpec``, a zero-argument
        factory, a ``gymnasium.Env`` or a Sync/Async vector env built with autoreset DISABLED;
        ``make_kwargs`` go to ``gym.make``.

        ``num_envs=N`` runs N envs at once (``vectorization_mode`` "sync" or "async", as in
        ``gym.make_vec``); ``batched=True`` calls the policy once a step with the stacked
        observations of every running env (one action per row back, as SB3's ``predict``);
        ``executor=`` (any ``concurrent.futures.Executor``, e.g. a Dask client's
        ``get_executor()``) runs chunks of seeds in its workers, keeping ``num_envs`` of them
        busy. Whatever runs them, the episodes are those of one env, seed by seed, in seed order.
        """
        from .episodes import as_policy

        caller = "gymrec.evaluate()"
        call = self._layered(caller, seeds, max_steps, num_envs, vectorization_mode, bounds=bounds)
        source = self._source(env, caller, make_kwargs)
        act = as_policy(policy, caller)
        episodes: list[Episode] = []

        def keep(episode: Episode) -> None:
            episodes.append(episode)
            self._record.add_episode(episode)

        spec, _ = self._episodes(
            source, act, call.seeds, call, caller, keep, batched=batched, executor=executor
        )
        return EvalResult(
            episodes, env_label=source.label, context=self._context(call), env_spec=spec
        )

    def make(
        self, env_id: Any, *, video_trigger: Callable[[int], bool] | None = None, **kwargs: Any
    ) -> EpisodeRecorder:
        """``gym.make`` plus Gymnasium's episode statistics; closed at teardown.

        The env has ``return_queue``, ``length_queue``, ``time_queue`` and sets
        ``info["episode"]`` as Gymnasium's ``RecordEpisodeStatistics`` does, and every episode
        also lands in :attr:`result`. ``video_trigger(episode_number) -> bool`` films the
        episodes it picks while they run (numbered from 0, as ``RecordVideo``'s
        ``episode_trigger``); the env is made with ``render_mode="rgb_array"`` for that.
        """
        from .episodes import resolve_env

        if video_trigger is not None and self._films_live():
            mode = kwargs.setdefault("render_mode", "rgb_array")
            if mode != "rgb_array":
                raise GymrecUsageError(
                    f"gymrec.make({env_id!r}, render_mode={mode!r}, video_trigger=...): filming "
                    "needs render_mode='rgb_array'; drop render_mode (gymrec sets it) or the "
                    "video_trigger"
                )
        source = resolve_env(env_id, "gymrec.make()", kwargs)
        if source.instance is not None:
            return self.wrap(source.instance, video_trigger=video_trigger)
        return self._track(source.build(), source.label, source.factory, video_trigger)

    def wrap(
        self, env: Any, *, video_trigger: Callable[[int], bool] | None = None
    ) -> EpisodeRecorder:
        """Add episode statistics and recording to an env you built; closed at teardown.

        ``video_trigger`` films the episodes it picks while they run; the env must have been
        built with ``render_mode="rgb_array"``.
        """
        from .episodes import resolve_env

        source = resolve_env(env, "gymrec.wrap()")
        if source.instance is None:
            raise GymrecUsageError(
                f"gymrec.wrap() takes a built gymnasium.Env, got {env!r}; "
                "use gymrec.make() for an env id"
            )
        return self._track(source.instance, source.label, source.factory, video_trigger)

    def make_vec(
        self, env_id: Any, num_envs: int | None = None, **kwargs: Any
    ) -> VectorEpisodeRecorder:
        """``gym.make_vec`` plus per-episode statistics, for hand-written vector loops; closed at
        teardown.

        The vector env has ``return_queue``, ``length_queue``, ``time_queue`` and sets
        ``info["episode"]`` as Gymnasium's vector ``RecordEpisodeStatistics`` does, but right
        under every autoreset mode and masked resets; every finished episode also lands in
        :attr:`result`, with its seed when ``reset(seed=...)`` started it (an autoreset starts
        one without a seed: it cannot be replayed for a video). ``num_envs`` and
        ``vectorization_mode`` default to the gymrec settings; ``vector_kwargs`` and
        ``wrappers`` go to ``gym.make_vec``, other keyword arguments to the env.
        """
        from . import parallel

        caller = "gymrec.make_vec()"
        if num_envs is None:
            num_envs = self._settings.num_envs
        kwargs.setdefault("vectorization_mode", self._settings.vectorization_mode.value)

        def keep(episode: Episode) -> None:
            self.result.episodes.append(episode)
            self._record.add_episode(episode)

        env = parallel.make_vec(env_id, num_envs, keep=keep, caller=caller, **kwargs)
        self._note_spec(parallel.spec_data(env.sub_env_spec))
        self._envs.append(env)
        return env

    def close(self) -> None:
        """Close every env this fixture made or wrapped (teardown calls it); an env whose
        close() raises is reported as a warning, and the others are still closed."""
        while self._envs:
            env = self._envs.pop()
            close_warning_on_error(env, getattr(env, "label", type(env).__name__))

    # -- checks --------------------------------------------------------------------------------

    def assert_return(
        self,
        env: Any,
        policy: Policy | Any,
        *,
        at_least: float,
        tolerance: float,
        bounds: tuple[float, float] | None = None,
        alpha: float | None = None,
        beta: float | None = None,
        max_episodes: int | None = None,
        seeds: Iterable[int] | int | str | None = None,
        mode: str = "no-regression",
        max_steps: int | None = None,
        num_envs: int | None = None,
        vectorization_mode: str | None = None,
        batched: bool = False,
        executor: concurrent.futures.Executor | None = None,
        **make_kwargs: Any,
    ) -> EvalResult:
        """Run episodes until the verdict is clear, at most ``max_episodes`` (sequential).

        FAIL when the evidence that the mean return is below ``at_least`` reaches 1/alpha (a
        good agent fails with probability at most alpha, at whatever episode the test stops);
        PASS when the evidence that it is above ``at_least - tolerance * |at_least|`` reaches
        1/beta (an agent that dropped that far passes with probability at most beta).
        Otherwise INCONCLUSIVE: a warning, or a failure under ``--gymrec-inconclusive fail``.
        ``bounds=(lo, hi)`` of a return are required (here or in the marker). Episodes run on
        ``seeds`` in order, then on consecutive seeds after them; without ``seeds``, on
        consecutive seeds from the first configured seed. Returns the episodes the verdict used
        as an :class:`EvalResult`; to check episodes of :meth:`make`/:meth:`wrap` envs, use
        ``gymrec.result.assert_return(...)``.

        ``num_envs``, ``vectorization_mode``, ``batched`` and ``executor`` run episodes several
        at a time as in :meth:`evaluate`; the test still reads them one by one in seed order and
        stops at the same episode with the same verdict. Episodes that finished beyond that
        point are not used (that would make the stopping point depend on which episodes
        happened to finish first); their count is reported with the test.
        """
        __tracebackhide__ = True
        from .checks import sequential
        from .checks.pipeline import conclude
        from .episodes import as_policy
        from .verdict import Mode, Subject

        caller = "gymrec.assert_return()"
        call = self._layered(
            caller,
            seeds,
            max_steps,
            num_envs,
            vectorization_mode,
            bounds=bounds,
            alpha=alpha,
            beta=beta,
            max_episodes=max_episodes,
        )
        plan = sequential.plan(
            at_least=at_least,
            tolerance=tolerance,
            bounds=call.bounds,
            bounds_source=call.source("bounds"),
            alpha=call.alpha,
            beta=call.beta,
            mode=Mode.parse(mode, caller),
            caller=caller,
        )
        order = sequential.seed_order(
            given=list(call.seeds) if seeds is not None else None,
            start=call.seeds[0],
            max_episodes=call.max_episodes,
            max_episodes_source=call.source("max_episodes"),
            seeds_source=call.source("seeds"),
            caller=caller,
        )
        if order[-1] > MAX_SEED:  # seeds count up from the given ones, past the last allowed
            raise GymrecUsageError(
                f"{caller}: with max_episodes={call.max_episodes} (from "
                f"{call.source('max_episodes')}), seeds would count up from those of "
                f"{call.source('seeds')} to {order[-1]}, past {MAX_SEED}, the largest seed; give "
                "smaller seeds or fewer max_episodes"
            )
        source = self._source(env, caller, make_kwargs)
        act = as_policy(policy, caller)
        test = sequential.SequentialTest(plan, call.source("bounds"), caller)
        episodes: list[Episode] = []

        def keep(episode: Episode) -> None:
            episodes.append(episode)
            self._record.add_episode(episode)
            if episode.error is None:
                test.add(episode.return_, episode.seed)

        spec, unused = self._episodes(
            source,
            act,
            order,
            call,
            caller,
            keep,
            batched=batched,
            executor=executor,
            # Small chunks: an executor's workers run at most two chunks each past the stop.
            chunk_size=SEQUENTIAL_CHUNK_SIZE,
            until=lambda: test.decided,
        )
        self._record.unused_episodes += len(unused)
        context = self._context(call)
        decision = test.decide(
            Subject(label=source.label, seeds=tuple(test.seeds), reproduce=self._reproduce),
            call.max_episodes,
        )
        conclude(decision, episodes, context)
        return EvalResult(episodes, env_label=source.label, context=context, env_spec=spec)

    def assert_no_regression(
        self,
        result: EvalResult,
        *,
        tolerance: float = 0.05,
        alpha: float | None = None,
        bounds: tuple[float, float] | None = None,
        name: str | None = None,
    ) -> Verdict | None:
        """Compare ``result`` seed by seed with this test's stored baseline.

        Fails only on evidence that the mean return dropped by more than ``tolerance`` (a
        fraction of the baseline's mean) on the seeds both runs share; an agent within the
        margin fails with probability at most ``alpha``. Without a stored baseline, writes one
        and fails ("review and commit it"); with ``--gymrec-update-baselines``, rewrites it and
        returns None. ``name`` tells apart several baselines of one test.
        """
        __tracebackhide__ = True
        from . import baseline

        source = "gymrec.assert_no_regression()"
        if self._test_path is None:
            raise GymrecUsageError(
                f"{source} needs the test's file to place its baseline; it works inside a test "
                "that uses the gymrec fixture"
            )
        path = baseline.baseline_path(
            self._test_path, self._record.nodeid, baseline.check_name(name, source)
        )
        if path in self._baseline_paths:
            raise GymrecUsageError(
                f"{source}: this test already compared against {path}; give each call its "
                "own name=... so each gets its own baseline"
            )
        self._baseline_paths.add(path)
        from .results import EvalResult

        if not isinstance(result, EvalResult):
            raise GymrecUsageError(
                f"{source} takes the EvalResult of gymrec.evaluate() (or gymrec.result), got "
                f"{result!r}"
            )
        return baseline.check_against_file(
            result,
            path=path,
            record=self._record,
            update=self._settings.update_baselines,
            created_this_session=self._created_baselines,
            tolerance=tolerance,
            alpha=alpha,
            bounds=bounds,
        )

    # -- internals -----------------------------------------------------------------------------

    def _layered(
        self,
        caller: str,
        seeds: object,
        max_steps: object,
        num_envs: object,
        vectorization_mode: object,
        **check: object,
    ) -> Settings:
        """The test's settings overridden by a call's: the run arguments every call that runs
        episodes takes (which seeds, the step limit, envs at once) and those of its ``check``."""
        run = {
            "seeds": seeds,
            "max_steps": max_steps,
            "num_envs": num_envs,
            "vectorization_mode": vectorization_mode,
        }
        return self._settings.layered(caller, {**run, **check})

    def _source(
        self, env: Any, caller: str, make_kwargs: dict[str, Any]
    ) -> EnvSource | VectorSource:
        """Where the episodes run: a vector env the user built, or an env to build."""
        import gymnasium as gym

        from .episodes import resolve_env

        if isinstance(env, (str, gym.envs.registration.EnvSpec, gym.Env)):
            # The usual case: no vector env, so the vector machinery is not even imported.
            return resolve_env(env, caller, make_kwargs)
        from .parallel import resolve_vector_env

        # Vector envs first: an SB3 VecEnv gets its own error rather than "not an env".
        vector = resolve_vector_env(env, caller, make_kwargs)
        return vector if vector is not None else resolve_env(env, caller, make_kwargs)

    def _episodes(
        self,
        source: EnvSource | VectorSource,
        act: Policy,
        seeds: Iterable[int],
        call: Settings,
        caller: str,
        keep: Callable[[Episode], None],
        *,
        batched: bool,
        executor: concurrent.futures.Executor | None,
        chunk_size: int | None = None,
        until: Callable[[], bool] = lambda: False,
    ) -> tuple[dict[str, Any] | None, list[Episode]]:
        """Episodes on ``seeds``, each handed to ``keep`` in seed order until ``until()`` holds;
        the env's spec as plain data, and the episodes that finished beyond the last one handed
        on (in seed order: several envs at once may run past the stop)."""
        keep = self._reporting_progress(keep, source.label, seeds)
        from .episodes import EnvSource

        parallelism = Parallelism(
            num_envs=call.num_envs,
            vectorization_mode=call.vectorization_mode.value,
            batched=batched,
            executor=executor,
            chunk_size=chunk_size,
        )
        if isinstance(source, EnvSource) and parallelism.one_by_one:
            # One env, seed by seed, exactly as before num_envs existed; the vector machinery
            # is not even imported.
            planned = itertools.takewhile(lambda _: not until(), seeds)
            return self._run(source, act, planned, call.max_steps, keep), []
        from .parallel import VectorSource, run_episodes_parallel

        if isinstance(source, VectorSource) and call.source("num_envs") != caller:
            # A num_envs from the ini, the command line or a marker is a default; the vector
            # env the call hands over has its own number of slots. Only the call can clash.
            parallelism = dataclasses.replace(parallelism, num_envs=1)
        return run_episodes_parallel(
            source,
            act,
            seeds,
            max_steps=call.max_steps,
            keep=keep,
            label=source.label,
            parallelism=parallelism,
            caller=caller,
            until=until,
        )

    def _reporting_progress(
        self, keep: Callable[[Episode], None], label: str, seeds: Iterable[int]
    ) -> Callable[[Episode], None]:
        """``keep``, plus a progress line once an evaluation has run PROGRESS_SECONDS and then
        every PROGRESS_SECONDS, so a long evaluation does not look hung."""
        if self._progress is None:
            return keep
        report = self._progress
        total = f" of {len(seeds)}" if isinstance(seeds, (list, tuple, range)) else ""
        start = time.monotonic()
        interval = progress_seconds()
        state = {"done": 0, "next": start + interval}

        def counted(episode: Episode) -> None:
            keep(episode)
            state["done"] += 1
            now = time.monotonic()
            if now >= state["next"]:
                report(f"gymrec: {label}: {state['done']}{total} episodes in {now - start:.0f} s")
                state["next"] = now + interval

        return counted

    def _run(
        self,
        source: EnvSource,
        act: Policy,
        seeds: Iterable[int],
        max_steps: int,
        keep: Callable[[Episode], None],
    ) -> dict[str, Any] | None:
        """Episodes on ``seeds``, each handed to ``keep``; the env's spec as plain data.

        An env the fixture built is closed afterwards, one the user handed over is not.
        """
        from .episodes import env_spec_data, run_episodes

        built = source.build()
        recorder = self._recorder(built, source.label, source.factory, max_steps, keep)
        try:
            run_episodes(recorder, act, seeds, source.label)
        finally:
            # The episodes are recorded already: a failing close() must neither replace the
            # evaluation's result nor hide the error that ended it.
            if source.instance is None:
                close_warning_on_error(recorder, source.label)
        return env_spec_data(built)

    def _track(
        self,
        env: Any,
        label: str,
        rebuild: Any,
        video_trigger: Callable[[int], bool] | None = None,
    ) -> EpisodeRecorder:
        capture = self._live_capture(env, label, video_trigger)

        def keep(episode: Episode) -> None:
            self.result.episodes.append(episode)
            self._record.add_episode(episode)
            if capture is not None:
                capture.link(episode)

        from .episodes import env_spec_data

        # result.label() names the envs from the episodes' own labels.
        recorder = self._recorder(
            env if capture is None else capture,
            label,
            rebuild,
            self._settings.max_steps,
            keep,
            keep_replay=self._loop_replay_choice(),
        )
        self._note_spec(env_spec_data(env))
        self._envs.append(recorder)
        return recorder

    def _note_spec(self, spec: dict[str, Any] | None) -> None:
        """Record the spec of an env about to join :attr:`result` (before it is tracked)."""
        # One spec per result: a result that mixes envs has none (baselines then pair by label).
        if not self._envs:
            self.result.env_spec = spec
        elif spec != self.result.env_spec:
            self.result.env_spec = None

    def _films_live(self) -> bool:
        from .settings import VideoMode

        return bool(self._settings.video is not VideoMode.OFF)

    def _live_capture(
        self, env: Any, label: str, video_trigger: Callable[[int], bool] | None
    ) -> LiveCapture | None:
        """Wrap ``env`` to film the episodes ``video_trigger`` picks (not with video=off)."""
        if video_trigger is None or not self._films_live():
            return None
        if not callable(video_trigger):
            raise GymrecUsageError(
                f"video_trigger={video_trigger!r} must be a callable episode_number -> bool, "
                "e.g. lambda episode: episode % 250 == 0"
            )
        from .artifacts import VideoFolder, slug_for
        from .video import LiveCapture

        if self._record.video_folder is None:  # a Gymrec made outside the plugin
            self._record.video_folder = VideoFolder(
                Path(self._settings.output) / slug_for(self._record.nodeid)
            )
        capture = LiveCapture(
            env, trigger=video_trigger, reserve=self._record.video_folder.reserve, label=label
        )
        self._record.live_captures.append(capture)
        return capture

    def _recorder(
        self,
        env: Any,
        label: str,
        rebuild: Any,
        max_steps: int,
        keep: Any,
        keep_replay: ReplayChoice = True,
    ) -> EpisodeRecorder:
        from .episodes import EpisodeRecorder

        return EpisodeRecorder(
            env,
            on_episode=keep,
            label=label,
            rebuild=rebuild,
            max_steps=max_steps,
            keep_replay=keep_replay,
        )

    def _loop_replay_choice(self) -> ReplayChoice:
        """What a make()/wrap() loop keeps for replays: a loop may run for hours, so only the
        episodes failure videos may show (evaluate() runs a known list of seeds: all)."""
        from .episodes import KeepReplay
        from .settings import VideoMode

        if self._settings.video is VideoMode.OFF:
            return False
        return KeepReplay(lowest=self._settings.max_videos, raised=self._settings.max_videos)

    def _context(self, settings: Settings) -> CheckContext:
        return CheckContext(
            alpha=settings.alpha,
            bounds=settings.bounds,
            bounds_source=settings.source("bounds"),
            rng_key=self._record.nodeid,
            reproduce=self._reproduce,
            record=self._record.add_verdict,
            flag=self._record.flag,
            inconclusive_fails=settings.inconclusive is Inconclusive.FAIL,
            blind_fails=settings.blind is Blind.FAIL,
        )


def close_warning_on_error(env: Any, label: str) -> None:
    """``env.close()``, with an exception turned into a GymrecEnvWarning naming the env."""
    try:
        env.close()
    except Exception as exc:
        warnings.warn(
            GymrecEnvWarning(
                f"{label}: env.close() raised {type(exc).__name__}: {exc}; the episodes already "
                "recorded and the verdicts stand"
            ),
            stacklevel=2,
        )


#: Seconds of evaluation after which (and between which) a progress line is written; the
#: environment variable GYMREC_PROGRESS_SECONDS changes it.
PROGRESS_SECONDS = 5.0


def progress_seconds() -> float:
    text = os.environ.get("GYMREC_PROGRESS_SECONDS")
    try:
        return float(text) if text else PROGRESS_SECONDS
    except ValueError:
        return PROGRESS_SECONDS
