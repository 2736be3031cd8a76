"""The streaming encoder, replay and live capture, without pytest in the loop.

Every video written here is decoded back with imageio and its frame count and size checked.
"""

from __future__ import annotations

import functools
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest

from helpers import video_envs
from helpers.policies import raising_at_call
from helpers.recording import record_episodes, replayable_recorder
from helpers.video_envs import ENV_ID, Painter
from helpers.videos import decode
from pytest_gymrec.artifacts import VideoFolder
from pytest_gymrec.episodes import EpisodeRecorder, resolve_env
from pytest_gymrec.errors import GymrecUsageError, GymrecVideoWarning
from pytest_gymrec.record import Episode
from pytest_gymrec.video import (
    DEFAULT_FPS,
    FFMPEG_TIMEOUT_VARIABLE,
    MAX_FPS,
    MIN_FPS,
    LiveCapture,
    StreamingEncoder,
    VideoFault,
    fps_of,
    render_fps,
    replay,
    rgb_frame,
)


def frame(height: int, width: int, value: int = 0) -> np.ndarray:
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[:, : value % width] = 200
    return image


def record(
    env_id: Any, policy: Callable[[Any], Any], seeds: list[int], **kwargs: Any
) -> list[Episode]:
    """Episodes of ``policy`` recorded as ``gymrec.evaluate`` records them."""
    episodes: list[Episode] = []
    record_episodes(env_id, policy, seeds, episodes.append, max_steps=10_000, **kwargs)
    return episodes


def film(episode: Episode, folder: Path) -> tuple[Path, Any]:
    encoder, outcome = replay(
        episode, lambda fps, frames: StreamingEncoder(folder / ".scratch.mp4", fps)
    )
    return encoder.finish(folder / "video.mp4"), outcome


# -- encoder ---------------------------------------------------------------------------------


def test_encoder_streams_frames_into_a_playable_h264_mp4(tmp_path: Path) -> None:
    encoder = StreamingEncoder(tmp_path / ".partial.mp4", 25)
    for step in range(40):
        encoder.add(frame(48, 64, step))
    path = encoder.finish(tmp_path / "seed-0.mp4")
    assert path == tmp_path / "seed-0.mp4"
    assert not (tmp_path / ".partial.mp4").exists()
    assert decode(path) == (40, (48, 64, 3), 25.0)
    reader = imageio.get_reader(str(path), format="FFMPEG")
    metadata = reader.get_meta_data()
    reader.close()
    assert metadata["codec"] == "h264"
    assert metadata["pix_fmt"].startswith("yuv420p")


def test_odd_dimensions_are_padded_to_even(tmp_path: Path) -> None:
    encoder = StreamingEncoder(tmp_path / ".p.mp4", 30)
    for step in range(5):
        encoder.add(frame(33, 51, step))
    count, shape, _ = decode(encoder.finish(tmp_path / "odd.mp4"))
    assert (count, shape) == (5, (34, 52, 3))


def test_grayscale_and_rgba_frames_become_rgb(tmp_path: Path) -> None:
    for name, image in [
        ("gray", np.full((20, 30), 128, np.uint8)),
        ("rgba", np.full((20, 30, 4), 128, np.uint8)),
    ]:
        encoder = StreamingEncoder(tmp_path / f".{name}.mp4", 30)
        for _ in range(3):
            encoder.add(image)
        assert decode(encoder.finish(tmp_path / f"{name}.mp4"))[:2] == (3, (20, 30, 3))


def test_the_pixels_survive_encoding(tmp_path: Path) -> None:
    encoder = StreamingEncoder(tmp_path / ".p.mp4", 30)
    red = np.zeros((32, 32, 3), np.uint8)
    red[:, :, 0] = 220
    for _ in range(3):
        encoder.add(red)
    reader = imageio.get_reader(str(encoder.finish(tmp_path / "red.mp4")), format="FFMPEG")
    decoded = reader.get_data(0)
    reader.close()
    assert abs(int(decoded[:, :, 0].mean()) - 220) < 12
    assert decoded[:, :, 1].mean() < 20


@pytest.mark.parametrize(
    ("bad_frame", "reason"),
    [
        (None, "render() returned None for the first frame"),
        ("picture", "render() returned str for the first frame, not a numpy image array"),
        (np.zeros((4, 4, 3), np.float32), "render() returned a float32 array"),
        (np.zeros((4, 4, 2), np.uint8), "render() returned an array of shape (4, 4, 2)"),
        ([np.zeros((4, 4, 3), np.uint8)], "render() returned a list"),
    ],
)
def test_frames_that_are_not_images_are_refused_with_the_reason(
    bad_frame: object, reason: str
) -> None:
    with pytest.raises(VideoFault) as excinfo:
        rgb_frame(bad_frame, 0)
    assert reason in str(excinfo.value)


def test_a_frame_size_change_mid_episode_is_a_fault_and_leaves_no_file(tmp_path: Path) -> None:
    encoder = StreamingEncoder(tmp_path / ".p.mp4", 30)
    encoder.add(frame(20, 30))
    encoder.add(frame(20, 30))
    with pytest.raises(VideoFault, match=r"frame 2 is 32x22 pixels but the first frame was 30x20"):
        encoder.add(frame(22, 32))
    encoder.abort()
    assert list(tmp_path.iterdir()) == []


def test_no_frames_is_a_fault(tmp_path: Path) -> None:
    with pytest.raises(VideoFault, match="no frames were rendered"):
        StreamingEncoder(tmp_path / ".p.mp4", 30).finish(tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_missing_ffmpeg_is_a_fault_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-such-ffmpeg"))
    encoder = StreamingEncoder(tmp_path / ".p.mp4", 30)
    with pytest.raises(VideoFault, match=r"cannot start ffmpeg \(.*no-such-ffmpeg\)"):
        encoder.add(frame(8, 8))
    encoder.abort()
    assert list(tmp_path.iterdir()) == []


def fake_ffmpeg(folder: Path, script: str) -> Path:
    path = folder / "fake-ffmpeg"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def encoder_on_fake_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> tuple[StreamingEncoder, Path]:
    """An encoder whose ffmpeg is the shell ``script``, and the empty folder it writes into (to
    check that a failure leaves nothing there)."""
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake_ffmpeg(tmp_path, script)))
    out = tmp_path / "out"
    out.mkdir()
    return StreamingEncoder(out / ".p.mp4", 30), out


def test_an_ffmpeg_that_fails_at_the_end_is_reported_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads everything, then fails: what write_frames would have called a success.
    encoder, out = encoder_on_fake_ffmpeg(
        tmp_path, monkeypatch, 'cat > /dev/null\necho "Unknown encoder libx264" >&2\nexit 1\n'
    )
    encoder.add(frame(8, 8))
    with pytest.raises(VideoFault, match="ffmpeg exited with status 1: Unknown encoder libx264"):
        encoder.finish(out / "v.mp4")
    assert list(out.iterdir()) == []


def test_an_ffmpeg_that_dies_mid_stream_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder, out = encoder_on_fake_ffmpeg(
        tmp_path, monkeypatch, 'echo "out of memory" >&2\nexit 3\n'
    )

    def write_all() -> None:
        for _ in range(200):  # 200 x 192 kB: more than a pipe holds
            encoder.add(frame(256, 256))
        encoder.finish(out / "v.mp4")

    with pytest.raises(VideoFault, match="out of memory"):
        write_all()
    encoder.abort()
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("metadata_fps", "expected", "note"),
    [
        (50, 50.0, None),
        (12.5, 12.5, None),
        (None, DEFAULT_FPS, None),
        ("fast", DEFAULT_FPS, "render_fps='fast' in the env's metadata is not a positive number"),
        (0, DEFAULT_FPS, "render_fps=0 in the env's metadata is not a positive number"),
        (-5, DEFAULT_FPS, "render_fps=-5 "),
        (float("nan"), DEFAULT_FPS, "render_fps=nan "),
        (float("inf"), MAX_FPS, "render_fps=inf in the env's metadata is outside 1-240"),
        (True, DEFAULT_FPS, "render_fps=True "),
        (1e-9, MIN_FPS, "render_fps=1e-09 in the env's metadata is outside 1-240; filmed at 1 fps"),
        (1e12, MAX_FPS, "render_fps=1000000000000.0 in the env's metadata is outside 1-240"),
        (10**400, MAX_FPS, "outside 1-240"),
    ],
)
def test_fps_comes_from_render_fps_within_a_sane_range(
    metadata_fps: Any, expected: float, note: str | None
) -> None:
    fps, said = render_fps(Painter(fps=metadata_fps))
    assert fps == expected
    if note is None:
        assert said is None
    else:
        assert said is not None
        assert note in said
    assert fps_of(Painter(fps=metadata_fps)) == expected


@pytest.mark.parametrize("metadata_fps", [1e-9, 1e12, 0, float("nan"), "fast"])
def test_an_extreme_render_fps_still_gives_a_video_and_says_why(
    tmp_path: Path, metadata_fps: Any
) -> None:
    # Built by a factory: gym.make's env checker would refuse 0 and NaN itself, naming
    # render_fps, before a frame is rendered.
    factory = functools.partial(video_envs.painter_factory, fps=metadata_fps, length=30)
    [episode] = record(factory, policy_one, [0])
    encoder, _ = replay(episode, lambda fps, frames: StreamingEncoder(tmp_path / ".x.mp4", fps))
    path = encoder.finish(tmp_path / "v.mp4")
    assert decode(path)[0] == 31
    assert any("render_fps=" in note for note in encoder.notes)


# -- short clips -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env_fps", "length", "frames_and_fps", "notes"),
    [
        pytest.param(
            50,
            7,
            (8, 8.0),  # all 8 frames, 1 s
            ["played at 8 fps instead of 50 so the 8-frame clip lasts 1 s"],
            id="a-short-replay-plays-slower-to-last-a-second",
        ),
        pytest.param(10, 30, (31, 10.0), [], id="a-long-enough-replay-plays-at-the-envs-rate"),
    ],
)
def test_a_replay_of_a_known_length_lasts_at_least_a_second(
    tmp_path: Path, env_fps: int, length: int, frames_and_fps: tuple[int, float], notes: list[str]
) -> None:
    [episode] = record(ENV_ID, policy_one, [0], fps=env_fps, length=length)
    encoder, _ = replay(
        episode,
        lambda fps, frames: StreamingEncoder(
            tmp_path / ".x.mp4", fps, min_seconds=1.0, expected_frames=frames
        ),
    )
    assert decode(encoder.finish(tmp_path / "v.mp4"))[::2] == frames_and_fps
    assert encoder.notes == notes


def test_a_short_clip_of_unknown_length_holds_its_last_frame(tmp_path: Path) -> None:
    encoder = StreamingEncoder(tmp_path / ".p.mp4", 20, min_seconds=1.0)
    for step in range(3):
        encoder.add(frame(16, 16, step * 5))
    count, _, fps = decode(encoder.finish(tmp_path / "v.mp4"))
    assert (count, fps) == (20, 20.0)
    assert encoder.frames == 3  # the episode's own frames
    assert encoder.notes == ["last frame held for 0.85 s so the clip lasts 1 s"]


# -- a hung ffmpeg ---------------------------------------------------------------------------


def test_an_ffmpeg_that_stops_reading_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FFMPEG_TIMEOUT_VARIABLE, "0.5")
    encoder, out = encoder_on_fake_ffmpeg(tmp_path, monkeypatch, "exec sleep 600\n")

    def send_frames() -> None:
        for _ in range(100):  # 100 x 720 kB: far more than the pipe holds
            encoder.add(frame(400, 600))

    with pytest.raises(VideoFault, match=r"ffmpeg took no data for 0.5 s at frame \d+ \(killed"):
        send_frames()
    process = encoder._process
    encoder.abort()
    assert process is not None
    assert process.poll() is not None  # killed, not left behind
    assert list(out.iterdir()) == []


def test_an_ffmpeg_that_never_finishes_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FFMPEG_TIMEOUT_VARIABLE, "0.5")
    encoder, out = encoder_on_fake_ffmpeg(
        tmp_path, monkeypatch, "cat > /dev/null\nexec sleep 600\n"
    )
    encoder.add(frame(8, 8))
    with pytest.raises(VideoFault, match=r"ffmpeg did not finish within 0.5 s of the last frame"):
        encoder.finish(out / "v.mp4")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_ffmpeg_timeout_is_a_reason_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(FFMPEG_TIMEOUT_VARIABLE, value)
    encoder = StreamingEncoder(tmp_path / ".p.mp4", 30)
    with pytest.raises(VideoFault, match=f"{FFMPEG_TIMEOUT_VARIABLE}='{value}' is not a positive"):
        encoder.add(frame(8, 8))
    encoder.abort()


# -- replay ----------------------------------------------------------------------------------


def policy_one(obs: Any) -> int:
    return 1


def test_replay_of_an_evaluated_episode_matches_and_has_a_frame_per_step(tmp_path: Path) -> None:
    [episode] = record(ENV_ID, policy_one, [7], length=12)
    path, outcome = film(episode, tmp_path)
    assert outcome.diverged_at is None
    assert outcome.frames == 13  # the reset frame and one per step, as RecordVideo films
    assert decode(path) == (13, (24, 32, 3), 10.0)


def test_replay_of_cartpole_matches_the_recorded_rewards(tmp_path: Path) -> None:
    episodes = record(
        "CartPole-v1", lambda obs: int(obs[2] + 0.5 * obs[3] > 0), [0], max_episode_steps=60
    )
    path, outcome = film(episodes[0], tmp_path)
    assert outcome.diverged_at is None
    assert decode(path)[:2] == (61, (400, 600, 3))


def test_replay_restores_the_generator_of_an_unseeded_reset(tmp_path: Path) -> None:
    episodes: list[Episode] = []
    env = replayable_recorder(resolve_env(ENV_ID, "test"), episodes.append, max_steps=100)
    env.reset(seed=3)
    for _ in range(3):  # the second and third episodes start from the generator's state
        for _ in range(8):
            env.step(1)
        env.reset()
    env.close()
    unseeded = episodes[1:]
    assert [episode.seed for episode in unseeded] == [None, None]
    assert len({episode.return_ for episode in unseeded}) == 2  # different starts
    for episode in unseeded:
        path, outcome = film(episode, tmp_path)
        assert outcome.diverged_at is None, outcome.divergence
        assert decode(path)[0] == 9


def test_replay_passes_the_reset_options(tmp_path: Path) -> None:
    episodes: list[Episode] = []
    env = replayable_recorder(resolve_env(ENV_ID, "test"), episodes.append, max_steps=100)
    env.reset(seed=1, options={"start": 77})
    for _ in range(8):
        env.step(0)
    env.close()
    assert episodes[0].return_ == pytest.approx(8 * 0.77)
    _, outcome = film(episodes[0], tmp_path)
    assert outcome.diverged_at is None


def test_a_replay_that_diverges_reports_the_first_step(tmp_path: Path) -> None:
    [episode] = record(ENV_ID, policy_one, [2], when_rendering="diverge")
    path, outcome = film(episode, tmp_path)
    assert outcome.diverged_at == 3
    assert "in the replay" in str(outcome.divergence)
    assert decode(path)[0] == 9  # the whole replay is still filmed


def test_a_replay_that_ends_at_another_step_diverges(tmp_path: Path) -> None:
    [episode] = record(ENV_ID, policy_one, [2], length=10)
    episode.actions = episode.actions[:6]  # as if the recorded run had ended at step 6
    episode.rewards = episode.rewards[:6]
    encoder, outcome = replay(
        episode, lambda fps, frames: StreamingEncoder(tmp_path / ".x.mp4", fps)
    )
    encoder.abort()
    assert outcome.diverged_at == 6
    assert "terminated at step 6; the replay did not end" in str(outcome.divergence)


def test_the_video_of_a_crashed_episode_runs_up_to_the_crash(tmp_path: Path) -> None:
    crashes_at_step_5 = raising_at_call(5, "policy bug", action=1)
    episodes: list[Episode] = []
    with pytest.raises(Exception, match="policy bug"):
        record_episodes(ENV_ID, crashes_at_step_5, [0], episodes.append, max_steps=100)
    [episode] = episodes
    assert episode.error is not None
    assert episode.length == 4
    path, outcome = film(episode, tmp_path)
    assert outcome.diverged_at is None
    assert decode(path)[0] == 5


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        ("none", "render() returned None for the first frame"),
        ("text", "render() returned str for the first frame"),
        ("float", "render() returned a float32 array"),
        ("grow", "frame 3 is 34x26 pixels but the first frame was 32x24"),
        ("raise", "render() raised ValueError: the renderer lost its context at step 2"),
    ],
)
def test_render_faults_are_reasons_and_leave_no_file(
    tmp_path: Path, frames: str, reason: str
) -> None:
    [episode] = record(ENV_ID, policy_one, [0], frames=frames)
    with pytest.raises(VideoFault) as excinfo:
        film(episode, tmp_path)
    assert reason in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


def test_a_replay_that_raises_is_a_fault_with_the_step(tmp_path: Path) -> None:
    [episode] = record(ENV_ID, policy_one, [0], when_rendering="raise")
    with pytest.raises(
        VideoFault, match="the replay raised RuntimeError: the physics engine crashed at step 2"
    ):
        film(episode, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_env_that_cannot_be_rebuilt_is_a_fault(tmp_path: Path) -> None:
    [episode] = record(ENV_ID, policy_one, [0])
    episode.rebuild = None
    with pytest.raises(VideoFault, match=r"cannot be rebuilt.*video_trigger"):
        film(episode, tmp_path)


def test_a_factory_without_render_mode_is_a_fault_unless_it_renders_anyway(
    tmp_path: Path,
) -> None:
    [stubborn] = record(video_envs.stubborn_factory, policy_one, [0])
    with pytest.raises(VideoFault, match=r"takes no render_mode argument.*render_mode=None"):
        film(stubborn, tmp_path)
    [rendering] = record(video_envs.rendering_factory, policy_one, [0])
    path, _ = film(rendering, tmp_path)
    assert decode(path)[0] == 9
    [passing] = record(video_envs.painter_factory, policy_one, [0])
    path, _ = film(passing, tmp_path)
    assert decode(path)[0] == 9


# -- live capture ----------------------------------------------------------------------------


def live_env(
    folder: VideoFolder, trigger: Callable[[int], bool], max_steps: int = 100, **kwargs: Any
) -> tuple[EpisodeRecorder, LiveCapture, list[Episode]]:
    episodes: list[Episode] = []
    capture = LiveCapture(
        gym.make(ENV_ID, render_mode="rgb_array", **kwargs),
        trigger=trigger,
        reserve=folder.reserve,
        label=ENV_ID,
    )

    def keep(episode: Episode) -> None:
        episodes.append(episode)
        capture.link(episode)

    recorder = EpisodeRecorder(
        capture, on_episode=keep, label=ENV_ID, rebuild=None, max_steps=max_steps
    )
    return recorder, capture, episodes


def run_loop(env: EpisodeRecorder, episodes: int, steps: int | None = None) -> None:
    for seed in range(episodes):
        env.reset(seed=seed)
        done = False
        taken = 0
        while not done and (steps is None or taken < steps):
            _, _, terminated, truncated, _ = env.step(1)
            done = terminated or truncated
            taken += 1


def test_live_capture_films_the_triggered_episodes(tmp_path: Path) -> None:
    folder = VideoFolder(tmp_path / "test")
    env, capture, episodes = live_env(folder, lambda episode: episode % 3 == 0, length=6)
    run_loop(env, 7)
    env.close()
    assert [video.episode_index for video in capture.videos] == [0, 3, 6]
    for video in capture.videos:
        assert video.path is not None
        assert video.missing is None
        assert video.episode is episodes[video.episode_index]
        assert video.frames == 7
        # 7 frames at 10 fps: the last one is held so the clip lasts a second.
        assert decode(video.path) == (10, (24, 32, 3), 10.0)
        assert video.notes == ["last frame held for 0.3 s so the clip lasts 1 s"]
    assert sorted(path.name for path in folder.files()) == [
        "episode-0.mp4",
        "episode-3.mp4",
        "episode-6.mp4",
    ]


def test_an_episode_cut_short_by_reset_or_close_keeps_its_frames(tmp_path: Path) -> None:
    folder = VideoFolder(tmp_path / "test")
    env, capture, _ = live_env(folder, lambda episode: True, length=50)
    run_loop(env, 2, steps=4)  # reset after 4 steps, then close after 4 steps
    env.close()
    assert [(video.cut_short, video.frames) for video in capture.videos] == [(True, 5), (True, 5)]
    for video in capture.videos:
        assert video.path is not None
        assert decode(video.path)[0] == 10  # 5 frames, the last held for half a second


def test_live_capture_faults_do_not_stop_the_loop(tmp_path: Path) -> None:
    folder = VideoFolder(tmp_path / "test")
    env, capture, episodes = live_env(folder, lambda episode: True, frames="grow")
    with pytest.warns(GymrecVideoWarning, match="must keep one size"):
        run_loop(env, 2)
    env.close()
    assert len(episodes) == 2  # the loop ran to the end
    assert [video.path for video in capture.videos] == [None, None]
    assert all("must keep one size" in str(video.missing) for video in capture.videos)
    assert folder.files() == []


def test_live_capture_into_an_unwritable_folder_reports_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env, capture, episodes = live_env(VideoFolder(blocker / "test"), lambda episode: True)
    with pytest.warns(GymrecVideoWarning, match="no video of episode 0 of GymrecPainter-v0"):
        run_loop(env, 1)
    env.close()
    assert len(episodes) == 1
    assert "cannot write to the output folder" in str(capture.videos[0].missing)


def test_a_folder_that_goes_away_mid_run_costs_only_those_videos(tmp_path: Path) -> None:
    folder = VideoFolder(tmp_path / "test")
    env, capture, episodes = live_env(folder, lambda episode: True)
    run_loop(env, 1)
    for path in folder.files():
        path.unlink()
    folder.path.rmdir()
    folder.path.write_text("a file where the folder was")
    with pytest.warns(GymrecVideoWarning) as warned:
        run_loop(env, 2)
    env.close()
    assert [episode.seed for episode in episodes] == [0, 0, 1]  # statistics go on
    assert len(env.return_queue) == 3
    assert capture.videos[0].path is not None
    assert [video.path for video in capture.videos[1:]] == [None, None]
    assert len(warned) == 2
    assert all("cannot write to the output folder" in str(v.missing) for v in capture.videos[1:])


def test_a_disk_that_fills_up_mid_run_costs_only_those_videos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = VideoFolder(tmp_path / "test")
    env, capture, episodes = live_env(folder, lambda episode: True, size=(120, 160))
    run_loop(env, 1)
    # From now on ffmpeg takes a few frames, then finds the disk full.
    full = fake_ffmpeg(
        tmp_path,
        "head -c 100000 > /dev/null\n"
        'echo "Error writing output: No space left on device" >&2\nexit 1\n',
    )
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(full))
    with pytest.warns(GymrecVideoWarning, match="No space left on device"):
        run_loop(env, 3)
    env.close()
    assert len(episodes) == 4
    assert capture.videos[0].path is not None
    assert [video.path for video in capture.videos[1:]] == [None, None, None]
    assert all("No space left on device" in str(video.missing) for video in capture.videos[1:])
    assert sorted(path.name for path in folder.files()) == ["episode-0.mp4"]


def test_under_warnings_as_errors_the_loop_still_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env, capture, episodes = live_env(VideoFolder(blocker / "test"), lambda episode: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_loop(env, 2)
    env.close()
    assert len(episodes) == 2
    assert all(video.missing for video in capture.videos)


def test_live_capture_memory_does_not_hold_frames(tmp_path: Path) -> None:
    # Frames go to ffmpeg as they come: nothing in the wrapper grows with the episode.
    folder = VideoFolder(tmp_path / "test")
    env, capture, _ = live_env(folder, lambda episode: True, max_steps=1000, length=300)
    env.reset(seed=0)
    for _ in range(150):
        env.step(1)
    sizes_mid = {
        name: len(value) for name, value in vars(capture).items() if isinstance(value, list)
    }
    for _ in range(149):
        env.step(1)
    sizes_late = {
        name: len(value) for name, value in vars(capture).items() if isinstance(value, list)
    }
    assert sizes_mid == sizes_late
    env.step(1)
    env.close()
    assert capture.videos[0].frames == 301


def test_live_capture_needs_rgb_array_frames() -> None:
    with pytest.raises(GymrecUsageError, match=r"render_mode='rgb_array'; .* has render_mode=None"):
        LiveCapture(
            gym.make(ENV_ID),
            trigger=lambda episode: True,
            reserve=lambda stem: Path(stem),
            label=ENV_ID,
        )


def test_a_trigger_that_raises_is_a_usage_error(tmp_path: Path) -> None:
    env, _, _ = live_env(VideoFolder(tmp_path / "t"), lambda episode: 1 / 0 > 0)
    with pytest.raises(GymrecUsageError, match="video_trigger raised ZeroDivisionError"):
        env.reset(seed=0)
    env.close()
