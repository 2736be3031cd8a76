"""Filming a failing test's episodes in a child process, so that a renderer which crashes the
process (MuJoCo without a GL backend aborts in native code) costs only that video.

One child per failing test films all of its chosen episodes in turn and reports each result.
If the child dies, the episode it was filming is reported missing with the cause ("the filming
process died with SIGABRT"), and a new child films the episodes still to come. A child that
renders nothing for :data:`STALL_TIMEOUT` seconds is killed the same way.

The replay data (actions, seed, the env's rebuild factory) travels pickled by cloudpickle
(Gymnasium's own dependency), which also carries closures and lambdas; env ids registered in
this process are registered in the child too. What cannot be pickled (a factory holding an
open resource) is filmed in this process, with a note saying the crash protection is off.

The child comes from the "forkserver" context where there is one (a fork of a small server
that has imported gymnasium once: some 6 ms to fork, 30 ms until it films) and from "spawn"
elsewhere (a fresh interpreter: some 170 ms more). Either way the child starts clean (no
inherited threads, GL or pygame state), so its renderer starts from scratch too (pygame: about
0.1 s); it is given this process's environment, working folder and ``sys.path``. Measured in
``benchmarks/bench_video.py`` (part 4): about 0.1 s per failing test over filming in process.

No pytest; gymnasium and numpy only inside the functions that film.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import multiprocessing
import os
import signal
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifacts import new_file
from .record import Episode

if TYPE_CHECKING:
    from . import video

#: Seconds a filming child may go without rendering a frame before it counts as hung.
STALL_TIMEOUT = 120.0
#: How often (seconds) a child that is rendering says so.
HEARTBEAT_INTERVAL = 1.0
#: Shortest clip (seconds) of a failure video; see :class:`video.StreamingEncoder`.
MIN_SECONDS = 1.0


@dataclasses.dataclass
class Job:
    """One episode to film, and the file names reserved for it."""

    episode: Episode
    target: Path
    #: The name used instead when the replay leaves the recorded run.
    diverged_target: Path


@dataclasses.dataclass
class Filmed:
    """What became of one job (plain data: it comes back from the child pickled)."""

    path: Path | None = None
    missing: str | None = None
    diverged_at: int | None = None
    divergence: str | None = None
    #: How the clip plays (slowed, frame rate clamped), and where it was filmed when that
    #: matters (in this process, without crash protection).
    notes: list[str] = dataclasses.field(default_factory=list)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- filming one episode (here or in the child) --------------------------------------------------


def film_here(job: Job, heartbeat: Callable[[], None] | None = None) -> Filmed:
    """Replay ``job``'s episode into its file, in this process. Never raises (but a renderer
    may still end the process: that is what :func:`film` runs this in a child for)."""
    result = Filmed()
    try:
        from . import video
    except ImportError as exc:  # numpy/gymnasium broken in this environment
        result.missing = f"cannot load the video code: {exc}"
        return result

    def open_encoder(fps: float, expected_frames: int) -> video.StreamingEncoder:
        scratch = new_file(job.target.parent, f".{job.target.stem}.", ".partial.mp4")
        return video.StreamingEncoder(
            scratch,
            fps,
            min_seconds=MIN_SECONDS,
            expected_frames=expected_frames,
            on_frame=heartbeat,
        )

    try:
        encoder, outcome = video.replay(job.episode, open_encoder)
        target = job.target
        if outcome.diverged_at is not None:
            result.diverged_at, result.divergence = outcome.diverged_at, outcome.divergence
            target = job.diverged_target
        result.path = encoder.finish(target)
        result.notes.extend(encoder.notes)
    except video.VideoFault as fault:
        result.missing = str(fault)
    except OSError as exc:
        folder = job.target.parent
        result.missing = f"cannot write to the output folder {folder}: {_describe(exc)}"
    except Exception as exc:  # a bug of ours must not turn a test's verdict into an error
        result.missing = f"internal error in pytest-gymrec while filming: {_describe(exc)}"
    return result


# -- the child -------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Setup:
    """What the child needs to look like this process: environment, folder, import path, and
    the env ids registered here (some by test modules the child has not imported)."""

    environ: dict[str, str]
    cwd: str
    sys_path: list[str]
    #: id -> cloudpickled EnvSpec.
    specs: dict[str, bytes]
    #: File the child's stdout and stderr go to (its last lines explain a crash).
    output: str


def _child(connection: Connection, setup: _Setup, jobs: list[tuple[int, bytes]]) -> None:
    """Entry point of the filming child: film each job, report each result as it comes."""
    output = os.open(setup.output, os.O_WRONLY | os.O_APPEND)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    os.environ.clear()
    os.environ.update(setup.environ)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    with contextlib.suppress(OSError):
        os.chdir(setup.cwd)
    sys.path[:] = setup.sys_path
    import pickle

    import gymnasium as gym

    for env_id, blob in setup.specs.items():
        if env_id not in gym.registry:
            with contextlib.suppress(Exception):  # an env this child cannot import: unused
                gym.registry[env_id] = pickle.loads(blob)
    last_beat = time.monotonic()

    def heartbeat() -> None:
        nonlocal last_beat
        now = time.monotonic()
        if now - last_beat >= HEARTBEAT_INTERVAL:
            connection.send(("alive", None, None))
            last_beat = now

    for index, blob in jobs:
        connection.send(("started", index, None))
        try:
            job = pickle.loads(blob)
        except Exception as exc:  # e.g. a factory's module that only the parent can import
            connection.send(("unloadable", index, _describe(exc)))
            continue
        connection.send(("done", index, film_here(job, heartbeat)))
    connection.close()


# -- the parent ------------------------------------------------------------------------------------


_forkserver_preloaded = False


def _context() -> Any:
    """A context whose children start clean: forkserver (preloaded with gymnasium) or spawn."""
    global _forkserver_preloaded
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    if not _forkserver_preloaded:
        # Takes effect when the server starts (its first use): each child is then a fork of
        # a process that has imported gymnasium and numpy already.
        context.set_forkserver_preload(["pytest_gymrec.video"])
        _forkserver_preloaded = True
    return context


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While a child starts, hide this process's ``__main__`` from multiprocessing, which
    would otherwise run the main script again in the child: a script that calls
    ``pytest.main()`` without an ``if __name__ == "__main__"`` guard would start a whole test
    session in every filming child. Nothing the child runs lives in ``__main__`` (cloudpickle
    sends such functions by value)."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _setup(output: str) -> _Setup:
    import cloudpickle
    import gymnasium as gym

    specs: dict[str, bytes] = {}
    for env_id, spec in list(gym.registry.items()):
        with contextlib.suppress(Exception):  # an env that cannot travel cannot be filmed there
            specs[env_id] = cloudpickle.dumps(spec)
    return _Setup(dict(os.environ), os.getcwd(), list(sys.path), specs, output)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the filming process died with {name}"
    return f"the filming process exited with status {exitcode}"


def _tail(path: str) -> str:
    """The last lines the child printed (a native crash's own message), for the reason."""
    try:
        with open(path, "rb") as output:
            output.seek(0, os.SEEK_END)
            output.seek(max(0, output.tell() - 4096))
            text = output.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[-2:])


def _run_child(
    blobs: dict[int, bytes], results: dict[int, Filmed], unloadable: dict[int, str]
) -> tuple[int | None, str]:
    """Film ``blobs`` in one child; fill ``results`` (and ``unloadable``) as they arrive.

    Returns when the child is done, dead or hung: the job it was filming then (reported
    missing with the cause) or None, and why the child ended ("" when it finished). Jobs it
    never started stay out of ``results``.
    """
    context = _context()
    handle, output = tempfile.mkstemp(prefix="gymrec-filming-", suffix=".log")
    os.close(handle)
    receiver: Connection | None = None
    process: Any = None
    current: int | None = None
    try:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_child,
            args=(sender, _setup(output), sorted(blobs.items())),
            name="gymrec-filming",
            daemon=True,
        )
        with _main_module_hidden():
            process.start()
        sender.close()
        stalled = False
        while True:
            if not receiver.poll(STALL_TIMEOUT):
                stalled = True
                process.kill()
                break
            try:
                kind, index, payload = receiver.recv()
            except EOFError:  # the child is gone, cleanly or not
                break
            if kind == "started":
                current = index
            elif kind == "done":
                results[index] = payload
                current = None
            elif kind == "unloadable":
                unloadable[index] = payload
                current = None
        process.join()
        if stalled:
            reason = (
                f"the filming process rendered nothing for {STALL_TIMEOUT:g} s and was killed "
                "(a renderer or ffmpeg hung)"
            )
        elif process.exitcode == 0:
            reason = ""
        else:
            reason = _death(process.exitcode)
            detail = _tail(output)
            if detail:
                reason += f" ({detail})"
        if current is not None:
            results[current] = Filmed(missing=reason or "the filming process stopped early")
        return current, reason
    finally:
        if process is not None and process.is_alive():
            process.kill()
            process.join()
        if receiver is not None:
            receiver.close()
        with contextlib.suppress(OSError):
            os.unlink(output)


def _clear_scratch(job: Job) -> None:
    """Delete the unfinished file of a job whose child died (it wrote under a fresh name)."""
    with contextlib.suppress(OSError):
        for scratch in job.target.parent.glob(f".{glob.escape(job.target.stem)}.*.partial.mp4"):
            scratch.unlink()


def film(jobs: Sequence[Job], *, isolate: bool = True) -> list[Filmed]:
    """Film every job; results in the jobs' order. Never raises.

    With ``isolate`` (the default), in child processes as the module says; episodes that cannot
    be sent to a child are filmed here, with a note.
    """
    if not isolate:
        return [film_here(job) for job in jobs]
    results: dict[int, Filmed] = {}
    here: dict[int, str] = {}
    blobs: dict[int, bytes] = {}
    try:
        import cloudpickle
    except ImportError as exc:
        here = {index: f"cloudpickle is not importable ({exc})" for index in range(len(jobs))}
    else:
        for index, job in enumerate(jobs):
            if job.episode.rebuild is None:  # nothing to render: the reason needs no child
                results[index] = film_here(job)
                continue
            try:
                blobs[index] = cloudpickle.dumps(job)
            except Exception as exc:
                here[index] = f"the episode's env factory cannot be pickled ({_describe(exc)})"
    while blobs:
        unloadable: dict[int, str] = {}
        try:
            cut_off, ended = _run_child(blobs, results, unloadable)
        except Exception as exc:  # no child could be started: film here, with a note
            for index in blobs:
                if index not in results:
                    here.setdefault(index, f"no filming process could start ({_describe(exc)})")
            break
        if cut_off is not None:
            _clear_scratch(jobs[cut_off])
        for index, reason in unloadable.items():
            here[index] = f"the filming process cannot load the episode ({reason})"
        left = {i: blob for i, blob in blobs.items() if i not in results and i not in here}
        if len(left) == len(blobs):  # the child ended before its first episode
            for index in left:
                here[index] = f"the filming process ended before filming ({ended})"
            break
        blobs = left
    for index, reason in sorted(here.items()):
        result = film_here(jobs[index])
        result.notes.append(
            f"filmed in the test process: {reason}; a renderer that crashes the process would "
            "end the test run"
        )
        results[index] = result
    return [results[index] for index in range(len(jobs))]
