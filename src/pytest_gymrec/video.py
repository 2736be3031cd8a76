"""Videos of episodes: a streaming H.264 encoder, replay of recorded episodes, live capture.

No pytest. Frames go straight into an ffmpeg process (imageio-ffmpeg's bundled binary) as they
are rendered, so memory stays flat however long an episode runs, and encoding in the ffmpeg
process overlaps rendering in this one.

Why not ``imageio_ffmpeg.write_frames``: it never looks at ffmpeg's exit status (a failed encode
looks like a success) and it lets ffmpeg print to the terminal. The process here is the same
command, with stderr kept for the error message and the exit status checked before a file is
called a video. Files are written under a temporary name and renamed when complete, so a reader
never sees half a video.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import select
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import gymnasium as gym
import numpy as np

from .artifacts import new_file
from .errors import GymrecUsageError, GymrecVideoWarning
from .record import Episode

#: Frames per second when an env's metadata has no usable ``render_fps``.
DEFAULT_FPS = 30.0
#: The encoder: H.264 in yuv420p (what browsers and QuickTime play), dimensions padded to even
#: numbers (4:2:0 needs them), the index at the front of the file so a browser can start playing
#: before the whole file arrives. "ultrafast" on one thread costs ffmpeg about 1.0-1.2 ms of CPU
#: per 600x400 frame (veryfast: 1.9 ms) against 1.1-1.2 ms to render it, so on a 2-core machine
#: ffmpeg keeps up on one core while the test renders on the other; files are about 2x larger
#: than veryfast's (some 80 kB for a 500-step CartPole episode), which does not matter here.
ENCODER_ARGS = (
    # Chroma subsampling by picking, not averaging, pixels: 15% less ffmpeg CPU per frame
    # (1.19 -> 1.01 ms measured), and no visible change on flat, rendered frames.
    "-sws_flags",
    "neighbor",
    "-vf",
    "pad=ceil(iw/2)*2:ceil(ih/2)*2",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-threads",
    "1",
    "-crf",
    "23",
    "-pix_fmt",
    "yuv420p",
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
)
#: Seconds ffmpeg may go without taking a frame, or take to finish the file after the last
#: frame, before it counts as hung; the environment variable overrides it.
FFMPEG_TIMEOUT = 60.0
FFMPEG_TIMEOUT_VARIABLE = "GYMREC_FFMPEG_TIMEOUT"
#: Frame rates a video may have; an env's ``render_fps`` outside is clamped (with a note).
MIN_FPS = 1.0
MAX_FPS = 240.0
#: Shortest clip worth watching: clips shorter than :data:`SHORT_CLIP` of it play slower
#: (replays, whose length is known in advance) or hold their last frame (live videos) until
#: they last this long, and say so. (A 0.9 s clip is left alone: "about a second" is enough.)
MIN_SECONDS = 1.0
SHORT_CLIP = 0.75
#: How far a replayed reward may be from the recorded one and still count as the same.
REWARD_REL_TOLERANCE = 1e-9
REWARD_ABS_TOLERANCE = 1e-12


class VideoFault(Exception):
    """A video could not be made. The message is the reason shown as ``video missing: ...``."""


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def ffmpeg_executable() -> str:
    """imageio-ffmpeg's ffmpeg (its bundled binary unless IMAGEIO_FFMPEG_EXE says otherwise)."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # a dependency, but an environment can still lack it
        raise VideoFault(
            f"imageio-ffmpeg is not importable ({exc}); pip install imageio-ffmpeg"
        ) from None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise VideoFault(f"no ffmpeg found: {exc}") from None


def ffmpeg_timeout() -> float:
    """Seconds of :data:`FFMPEG_TIMEOUT`, or of ``GYMREC_FFMPEG_TIMEOUT`` when set."""
    text = os.environ.get(FFMPEG_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return FFMPEG_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise VideoFault(
            f"{FFMPEG_TIMEOUT_VARIABLE}={text!r} is not a positive number of seconds; unset it "
            f"for the default of {FFMPEG_TIMEOUT:.0f} s"
        )
    return value


def render_fps(env: Any) -> tuple[float, str | None]:
    """The frame rate to film ``env`` at, and a note when its ``render_fps`` could not be used.

    ``metadata["render_fps"]`` when it is a number in [1, 240]; a positive number outside that
    range is clamped (ffmpeg refuses rates near 0 or in the billions); anything else (0, NaN,
    a string) and a missing value give 30, as Gymnasium does.
    """
    metadata = getattr(env, "metadata", None)
    value = metadata.get("render_fps") if isinstance(metadata, dict) else None
    if value is None:
        return DEFAULT_FPS, None
    try:
        fps = float(value)
    except OverflowError:  # an int beyond float's range
        fps = math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        fps = math.nan
    if isinstance(value, bool) or math.isnan(fps) or fps <= 0:
        return DEFAULT_FPS, (
            f"render_fps={value!r} in the env's metadata is not a positive number; filmed at "
            f"{DEFAULT_FPS:g} fps"
        )
    if not MIN_FPS <= fps <= MAX_FPS:
        clamped = min(max(fps, MIN_FPS), MAX_FPS)
        return clamped, (
            f"render_fps={value!r} in the env's metadata is outside {MIN_FPS:g}-{MAX_FPS:g}; "
            f"filmed at {clamped:g} fps"
        )
    return fps, None


def fps_of(env: Any) -> float:
    """The frame rate :func:`render_fps` chooses for ``env`` (without the note)."""
    return render_fps(env)[0]


def rgb_frame(frame: object, index: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """``frame`` as a C-contiguous (height, width, 3) uint8 array, or a fault saying why not."""
    where = "the first frame" if index == 0 else f"frame {index}"
    if frame is None:
        raise VideoFault(
            f"render() returned None for {where}: the env gives no frames with "
            "render_mode='rgb_array'"
        )
    if isinstance(frame, list):
        raise VideoFault(
            f"render() returned a list for {where} (render_mode 'rgb_array_list'?); "
            "videos need render_mode='rgb_array'"
        )
    if not isinstance(frame, np.ndarray):
        raise VideoFault(
            f"render() returned {type(frame).__name__} for {where}, not a numpy image array"
        )
    if frame.dtype != np.uint8:
        raise VideoFault(
            f"render() returned a {frame.dtype} array for {where}; frames must be uint8 RGB"
        )
    if frame.ndim == 2:  # grayscale
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise VideoFault(
            f"render() returned an array of shape {frame.shape} for {where}; frames must be "
            "(height, width, 3) RGB or (height, width, 4) RGBA"
        )
    if frame.shape[2] == 4:
        frame = frame[:, :, :3]
    return np.ascontiguousarray(frame)


#: Whether a write to ffmpeg can wait for its pipe with a timeout (select() on pipes: POSIX).
_CAN_WAIT_FOR_PIPES = os.name == "posix"
#: fcntl command to resize a pipe (Linux; not named in Python's fcntl module before 3.10).
_F_SETPIPE_SZ = 1031


def _widen_pipe(process: subprocess.Popen[bytes], frame_bytes: int) -> None:
    """Let the pipe to ffmpeg hold a whole frame, so the renderer can hand one over and go on
    rendering the next while ffmpeg encodes it, instead of waiting for ffmpeg to drain a 64 kB
    pipe on every frame. Best effort: where the pipe cannot grow, frames still go through."""
    if process.stdin is None or not sys.platform.startswith("linux"):
        return
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(process.stdin.fileno(), _F_SETPIPE_SZ, min(frame_bytes, 1 << 20))


class StreamingEncoder:
    """Frames in, an H.264 mp4 out, one frame at a time.

    ffmpeg starts with the first frame (which fixes the size). :meth:`finish` checks ffmpeg's
    exit status and moves the finished file to its name; :meth:`abort` deletes everything.
    An ffmpeg that stops taking frames, or does not finish, for :func:`ffmpeg_timeout` seconds
    is killed and the video reported missing: a hung encoder never hangs the test run.

    ``min_seconds``: a clip shorter than this plays slower when ``expected_frames`` is known
    when the first frame arrives (replays), else its last frame is held; :attr:`notes` says
    which. 0 films every frame as it comes. ``on_frame`` is called before each frame (a
    filming child tells its parent it is still rendering).
    """

    def __init__(
        self,
        scratch: Path,
        fps: float,
        *,
        min_seconds: float = 0.0,
        expected_frames: int | None = None,
        on_frame: Callable[[], None] | None = None,
    ) -> None:
        self.scratch = scratch
        #: The frame rate of the file (``fps`` lowered for a short replay).
        self.fps = fps
        self.frames = 0
        #: (height, width) of the frames as rendered (before padding to even numbers).
        self.shape: tuple[int, int] | None = None
        #: What a viewer should know about how the clip plays (slowed, last frame held).
        self.notes: list[str] = []
        self._min_seconds = min_seconds
        self._short_clip = SHORT_CLIP * min_seconds
        self._expected_frames = expected_frames
        self._on_frame = on_frame
        self._last: np.ndarray[Any, np.dtype[np.uint8]] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stdin: int | None = None
        self._stderr: IO[bytes] | None = None
        self._timeout = FFMPEG_TIMEOUT
        self._closed = False

    def add(self, frame: object) -> None:
        """Validate one rendered frame and send it to ffmpeg. Raises :class:`VideoFault`."""
        if self._closed:
            raise VideoFault("internal error: frame added to a finished video")
        if self._on_frame is not None:
            self._on_frame()
        image = rgb_frame(frame, self.frames)
        shape = (int(image.shape[0]), int(image.shape[1]))
        if self._process is None:
            self._start(shape)
        elif shape != self.shape:
            assert self.shape is not None
            raise VideoFault(
                f"frame {self.frames} is {shape[1]}x{shape[0]} pixels but the first frame was "
                f"{self.shape[1]}x{self.shape[0]}; an episode's frames must keep one size"
            )
        self._send(image)
        self._last = image
        self.frames += 1

    def finish(self, destination: Path) -> Path:
        """Close the stream, check ffmpeg succeeded, and move the video to ``destination``."""
        if self._process is None:
            self._closed = True
            raise VideoFault("no frames were rendered")
        self._hold_last_frame()
        process = self._process
        self._close_stdin()
        self._closed = True
        try:
            status = process.wait(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            self._cleanup()
            raise VideoFault(
                f"ffmpeg did not finish within {self._timeout:g} s of the last frame (killed; "
                f"{FFMPEG_TIMEOUT_VARIABLE} sets the limit)"
            ) from None
        if status != 0:
            message = self._failure(f"ffmpeg exited with status {status}")
            self._cleanup()
            raise VideoFault(message)
        self._close_stderr()
        try:
            if not self.scratch.is_file() or self.scratch.stat().st_size == 0:
                raise VideoFault(f"ffmpeg reported success but wrote no file at {self.scratch}")
            os.replace(self.scratch, destination)
        except OSError as exc:
            self._cleanup()
            raise VideoFault(f"cannot move the video to {destination}: {_describe(exc)}") from None
        return destination

    def abort(self) -> None:
        """Stop ffmpeg and delete the unfinished file (safe to call more than once)."""
        self._closed = True
        self._close_stdin()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._cleanup()

    def _start(self, shape: tuple[int, int]) -> None:
        height, width = shape
        self.shape = shape
        self._timeout = ffmpeg_timeout()
        self._slow_down_short_clip()
        rate = str(Fraction(self.fps).limit_denominator(1001))
        command = [
            ffmpeg_executable(),
            "-y",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{width}x{height}",
            "-r",
            rate,
            "-i",
            "-",
            "-an",
            *ENCODER_ARGS,
            str(self.scratch),
        ]
        try:
            # stderr goes to a file, not a pipe: a pipe nobody reads can fill up and stall ffmpeg.
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in finish/abort)
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
            )
        except OSError as exc:
            self._close_stderr()
            raise VideoFault(f"cannot start ffmpeg ({command[0]}): {_describe(exc)}") from None
        assert self._process.stdin is not None
        # Frames go to the pipe's descriptor directly: the file object's buffer would only
        # copy them, and a non-blocking descriptor lets a write give up on a stalled ffmpeg.
        self._stdin = self._process.stdin.fileno()
        if _CAN_WAIT_FOR_PIPES:
            os.set_blocking(self._stdin, False)
        _widen_pipe(self._process, frame_bytes=height * width * 3)

    def _slow_down_short_clip(self) -> None:
        expected = self._expected_frames
        if expected is None or expected <= 0 or expected / self.fps >= self._short_clip:
            return
        slowed = max(expected / self._min_seconds, MIN_FPS)
        self.notes.append(
            f"played at {slowed:g} fps instead of {self.fps:g} so the {expected}-frame clip "
            f"lasts {expected / slowed:g} s"
        )
        self.fps = slowed

    def _hold_last_frame(self) -> None:
        """Repeat the last frame until the clip lasts ``min_seconds`` (live videos, replays
        that ended early)."""
        needed = math.ceil(self._min_seconds * self.fps - 1e-9)
        if self._last is None or self.frames >= self._short_clip * self.fps:
            return
        held = needed - self.frames
        for _ in range(held):
            self._send(self._last)
        self.notes.append(
            f"last frame held for {held / self.fps:.2g} s so the clip lasts "
            f"{needed / self.fps:.2g} s"
        )

    def _send(self, image: np.ndarray[Any, np.dtype[np.uint8]]) -> None:
        """Write one frame to ffmpeg, giving up when it takes nothing for the timeout."""
        assert self._process is not None
        if self._stdin is None:
            raise VideoFault("internal error: frame sent after ffmpeg's input was closed")
        data = image.data.cast("B")
        waited_since: float | None = None
        try:
            while data:
                try:
                    written = os.write(self._stdin, data)
                except BlockingIOError:
                    written = 0
                if written:
                    data = data[written:]
                    waited_since = None
                    continue
                now = time.monotonic()
                if waited_since is None:
                    waited_since = now
                elif now - waited_since >= self._timeout:
                    self._process.kill()
                    raise VideoFault(
                        f"ffmpeg took no data for {self._timeout:g} s at frame {self.frames} "
                        f"(killed; {FFMPEG_TIMEOUT_VARIABLE} sets the limit)"
                    )
                select.select([], [self._stdin], [], self._timeout - (now - waited_since))
        except OSError as exc:  # BrokenPipeError: ffmpeg stopped reading
            message = self._failure(f"ffmpeg stopped at frame {self.frames} ({exc})")
            raise VideoFault(message) from None

    def _failure(self, headline: str) -> str:
        if self._process is not None and self._process.poll() is None:
            self._close_stdin()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        detail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            detail = "; ".join(line.strip() for line in lines[-3:] if line.strip())
        return f"{headline}: {detail}" if detail else headline

    def _close_stdin(self) -> None:
        if self._process is not None and self._process.stdin is not None:
            with contextlib.suppress(OSError):  # the exit status says what went wrong
                self._process.stdin.close()
        self._stdin = None

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _cleanup(self) -> None:
        self._close_stderr()
        with contextlib.suppress(OSError):
            self.scratch.unlink(missing_ok=True)


# -- replay --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Replay:
    """How a replay went: frames encoded, and the first step where it left the recorded run."""

    frames: int
    #: 1-based step of the first divergence (0: at reset), None when the replay matched.
    diverged_at: int | None = None
    divergence: str | None = None


def rebuild_for_frames(episode: Episode) -> gym.Env[Any, Any]:
    """A fresh env like the episode's, rendering ``rgb_array`` frames, or a fault saying why not."""
    if episode.rebuild is None:
        raise VideoFault(
            f"the env {episode.env_label or ''} cannot be rebuilt (it was handed over already "
            "built and has no spec); pass its id or a factory, or film it live with "
            "gymrec.wrap(env, video_trigger=...)"
        )
    env: gym.Env[Any, Any]
    try:
        env = episode.rebuild(render_mode="rgb_array")
    except Exception as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        if not (isinstance(cause, TypeError) and "render_mode" in str(cause)):
            raise VideoFault(f"rebuilding the env raised {_describe(exc)}") from None
        # A zero-argument factory that takes no render_mode: perhaps it sets one itself.
        try:
            env = episode.rebuild()
        except Exception as retry_exc:
            raise VideoFault(f"rebuilding the env raised {_describe(retry_exc)}") from None
        if getattr(env, "render_mode", None) != "rgb_array":
            mode = getattr(env, "render_mode", None)
            _close_quietly(env)
            raise VideoFault(
                f"the env factory {episode.env_label} takes no render_mode argument and builds "
                f"envs with render_mode={mode!r}; give it a render_mode=None parameter passed "
                "on to gym.make, or film it live with gymrec.make/wrap(..., video_trigger=...)"
            ) from None
    mode = getattr(env, "render_mode", None)
    if mode != "rgb_array":
        _close_quietly(env)
        raise VideoFault(
            f"the rebuilt env has render_mode={mode!r} although 'rgb_array' was asked for; "
            "its metadata['render_modes'] must include 'rgb_array' for videos"
        )
    return env


def _close_quietly(env: Any) -> None:
    with contextlib.suppress(Exception):
        env.close()


def _reset_like(env: gym.Env[Any, Any], episode: Episode) -> None:
    options = copy.deepcopy(episode.reset_options)
    if episode.seed is None and episode.reset_rng_state is not None:
        # An unseeded reset drew from the env's generator: put the generator back where it was.
        env.reset(options=copy.deepcopy(options))
        env.unwrapped.np_random.bit_generator.state = copy.deepcopy(episode.reset_rng_state)
        env.reset(seed=None, options=options)
    else:
        env.reset(seed=episode.seed, options=options)


def _render(env: gym.Env[Any, Any], index: int) -> Any:
    try:
        return env.render()
    except Exception as exc:
        where = "after reset" if index == 0 else f"at step {index}"
        raise VideoFault(f"render() raised {_describe(exc)} {where}") from None


#: Opens the encoder of a replay, given the frame rate and the number of frames expected.
OpenEncoder = Callable[[float, int], StreamingEncoder]


def replay(episode: Episode, open_encoder: OpenEncoder) -> tuple[StreamingEncoder, Replay]:
    """Re-run ``episode``'s actions on a rebuilt env, sending every frame to an encoder.

    The reset frame and one frame per step are rendered, as Gymnasium's ``RecordVideo`` does.
    Each step's reward is compared with the recorded one; the first difference (or an episode
    that ends at another step than the recorded one) is reported, and the replay goes on with
    the recorded actions so the video shows what the replay did. The encoder is returned
    unfinished: its file name depends on whether the replay diverged.

    Warnings are silenced: the test already ran this env and showed its warnings, and under
    ``filterwarnings = error`` a repeated one would otherwise cost the video.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _replay(episode, open_encoder)


def _replay(episode: Episode, open_encoder: OpenEncoder) -> tuple[StreamingEncoder, Replay]:
    env = rebuild_for_frames(episode)
    encoder: StreamingEncoder | None = None
    try:
        fps, note = render_fps(env)
        encoder = open_encoder(fps, len(episode.actions) + 1)
        if note is not None:
            encoder.notes.append(note)
        try:
            _reset_like(env, episode)
        except Exception as exc:
            raise VideoFault(f"the replay's reset raised {_describe(exc)}") from None
        encoder.add(_render(env, 0))
        diverged_at: int | None = None
        divergence: str | None = None
        ended = False
        terminated = truncated = False
        for step, action in enumerate(episode.actions, start=1):
            try:
                _, reward, terminated, truncated, _ = env.step(action)
            except Exception as exc:
                raise VideoFault(f"the replay raised {_describe(exc)} at step {step}") from None
            encoder.add(_render(env, step))
            recorded = episode.rewards[step - 1] if step - 1 < len(episode.rewards) else None
            if diverged_at is None and recorded is not None and not _same(reward, recorded):
                diverged_at = step
                divergence = f"reward {reward!r} in the replay, {recorded!r} in the test"
            ended = bool(terminated or truncated)
            if ended and step < len(episode.actions):
                if diverged_at is None:
                    diverged_at = step
                    divergence = (
                        f"the replay ended at step {step}; the test's episode ran "
                        f"{len(episode.actions)} steps"
                    )
                break
        ending = (bool(terminated), bool(truncated))
        recorded_ending = (episode.terminated, episode.truncated)
        if (
            diverged_at is None
            and episode.error is None
            and episode.actions
            and ending != recorded_ending
        ):
            diverged_at = len(episode.actions)
            divergence = (
                f"the test's episode {_ending(episode.terminated, episode.truncated)} at "
                f"step {len(episode.actions)}; the replay {_ending(terminated, truncated)}"
            )
        return encoder, Replay(encoder.frames, diverged_at, divergence)
    except BaseException:
        if encoder is not None:
            encoder.abort()
        raise
    finally:
        _close_quietly(env)


def _same(reward: Any, recorded: float) -> bool:
    try:
        value = float(reward)
    except (TypeError, ValueError):
        return False
    return math.isclose(
        value, recorded, rel_tol=REWARD_REL_TOLERANCE, abs_tol=REWARD_ABS_TOLERANCE
    ) or (math.isnan(value) and math.isnan(recorded))


def _ending(terminated: bool, truncated: bool) -> str:
    if terminated:
        return "terminated"
    if truncated:
        return "was truncated"
    return "did not end"


# -- live capture --------------------------------------------------------------------------------


@dataclasses.dataclass
class LiveVideo:
    """A video filmed while an episode ran (``video_trigger``)."""

    #: Episode number in this env, counted from 0 at the first reset (as ``RecordVideo``).
    episode_index: int
    env_label: str
    path: Path | None = None
    frames: int = 0
    #: Why there is no video (a fault), else None.
    missing: str | None = None
    #: The recorded episode, once it has ended (None while it runs or if it was abandoned).
    episode: Episode | None = None
    #: True when the env was reset or closed before the episode ended.
    cut_short: bool = False
    #: How the clip plays, when that is not obvious (the frame rate clamped, last frame held).
    notes: list[str] = dataclasses.field(default_factory=list)


class LiveCapture(gym.Wrapper[Any, Any, Any, Any]):
    """Films the episodes ``trigger(episode_index)`` picks while they run, frame by frame.

    Faults (an env that gives no frames, a failing ffmpeg, an unwritable folder, a disk that
    fills up) never reach the training loop: the video is reported missing with the reason, a
    :class:`GymrecVideoWarning` says so at once, and stepping goes on.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        trigger: Callable[[int], bool],
        reserve: Callable[[str], Path],
        label: str,
        min_seconds: float = MIN_SECONDS,
    ) -> None:
        super().__init__(env)
        if env.render_mode != "rgb_array":
            raise GymrecUsageError(
                f"video_trigger needs an env with render_mode='rgb_array'; {label} has "
                f"render_mode={env.render_mode!r} (gymrec.make adds it for you; build the "
                "env with render_mode='rgb_array' before gymrec.wrap)"
            )
        self._trigger = trigger
        self._reserve = reserve
        self._label = label
        self._min_seconds = min_seconds
        self.episode_index = -1
        self.videos: list[LiveVideo] = []
        self._encoder: StreamingEncoder | None = None
        self._destination: Path | None = None
        self._current: LiveVideo | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self.finish_recording(cut_short=True)
        result = self.env.reset(seed=seed, options=options)
        self.episode_index += 1
        self._current = None
        try:
            chosen = bool(self._trigger(self.episode_index))
        except Exception as exc:
            raise GymrecUsageError(
                f"video_trigger raised {_describe(exc)} for episode {self.episode_index}; it "
                "must take the episode number and return True to film that episode"
            ) from exc
        if chosen:
            self._start()
        return result

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self._encoder is not None:
            self._film()
        if terminated or truncated:
            self.finish_recording(cut_short=False)
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        try:
            self.finish_recording(cut_short=True)
        finally:
            super().close()

    def link(self, episode: Episode) -> None:
        """Attach the recorded episode to the video of the episode that just ended."""
        if self._current is not None and self._current.episode is None:
            self._current.episode = episode

    def finish_recording(self, *, cut_short: bool) -> None:
        """Complete the video being filmed, if any (reset, close, or the end of the test)."""
        encoder, video, destination = self._encoder, self._current, self._destination
        self._encoder = None
        if encoder is None or video is None or destination is None:
            return
        video.cut_short = cut_short
        try:
            video.path = encoder.finish(destination)
            video.frames = encoder.frames
            video.notes.extend(encoder.notes)
        except VideoFault as fault:
            self._missing(video, str(fault))
        except Exception as exc:  # a bug of ours must not end the user's loop
            encoder.abort()
            self._missing(video, f"internal error in pytest-gymrec: {_describe(exc)}")

    def _start(self) -> None:
        video = LiveVideo(self.episode_index, self._label)
        self.videos.append(video)
        self._current = video
        try:
            destination = self._reserve(f"episode-{self.episode_index}")
            scratch = new_file(destination.parent, f".{destination.stem}.", ".partial.mp4")
        except OSError as exc:
            self._missing(video, f"cannot write to the output folder: {_describe(exc)}")
            return
        self._destination = destination
        fps, note = render_fps(self.env)
        if note is not None:
            video.notes.append(note)
        self._encoder = StreamingEncoder(scratch, fps, min_seconds=self._min_seconds)
        self._film()

    def _film(self) -> None:
        encoder = self._encoder
        assert encoder is not None
        assert self._current is not None
        try:
            encoder.add(_render(self.env, encoder.frames))
        except Exception as exc:  # VideoFault, or a bug of ours: never the user's loop's end
            encoder.abort()
            self._encoder = None
            reason = str(exc) if isinstance(exc, VideoFault) else _describe(exc)
            self._missing(self._current, reason)

    def _missing(self, video: LiveVideo, reason: str) -> None:
        video.missing = reason
        message = (
            f"gymrec: no video of episode {video.episode_index} of {self._label}: {reason}; "
            "the episode and its statistics are recorded as usual"
        )
        # Under -W error a warning raises; the loop must go on regardless.
        with contextlib.suppress(GymrecVideoWarning):
            warnings.warn(message, GymrecVideoWarning, stacklevel=2)
