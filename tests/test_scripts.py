"""``pytest_gymrec.scripts.wrap`` in plain scripts, without pytest in the loop: Gymnasium's
statistics semantics, ``env.result``, live videos (decoded back), bad input, video faults, and
the two "Recording Agents" example scripts run as a user runs them (a subprocess)."""

from __future__ import annotations

import math
import os
import re
import stat
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import imageio_ffmpeg
import pytest
from gymnasium.wrappers import RecordEpisodeStatistics

from helpers.video_envs import ENV_ID
from helpers.videos import decode
from pytest_gymrec.errors import GymrecFailure, GymrecUsageError, GymrecVideoWarning
from pytest_gymrec.scripts import RecordedEnv, wrap
from pytest_gymrec.video import MIN_SECONDS, SHORT_CLIP


def live_frames(frames: int, fps: float) -> int:
    """Frames of a live video of ``frames`` rendered frames: a clip shorter than SHORT_CLIP
    seconds holds its last frame until it lasts MIN_SECONDS (watchable, said in its notes)."""
    if frames >= SHORT_CLIP * MIN_SECONDS * fps:
        return frames
    return math.ceil(MIN_SECONDS * fps - 1e-9)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def balance(obs: Any) -> int:
    return int(obs[2] + 0.5 * obs[3] > 0)


def run(env: Any, seeds: range, policy: Any = balance) -> list[dict[str, Any]]:
    """Gymnasium's loop; the ``info["episode"]`` of every episode."""
    infos = []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy(obs))
            done = terminated or truncated
        infos.append(info["episode"])
    return infos


def painter(**kwargs: Any) -> Any:
    return gym.make(ENV_ID, render_mode="rgb_array", **kwargs)


def test_wrap_has_record_episode_statistics_semantics() -> None:
    ours = wrap(gym.make("CartPole-v1", max_episode_steps=60))
    reference = RecordEpisodeStatistics(gym.make("CartPole-v1", max_episode_steps=60))
    flip = lambda obs: 1 - balance(obs)  # noqa: E731 (short episodes of various lengths)
    our_infos, their_infos = run(ours, range(6), flip), run(reference, range(6), flip)
    assert isinstance(ours, RecordEpisodeStatistics)
    assert [(i["r"], i["l"]) for i in our_infos] == [(i["r"], i["l"]) for i in their_infos]
    assert list(ours.return_queue) == list(reference.return_queue)
    assert list(ours.length_queue) == list(reference.length_queue)
    assert len(ours.time_queue) == 6
    assert ours.episode_count == reference.episode_count == 6


def test_env_result_holds_every_episode_and_its_checks_work_outside_pytest() -> None:
    env = wrap(gym.make("CartPole-v1", max_episode_steps=100))
    run(env, range(12))
    result = env.result
    assert len(result) == 12
    assert list(result.seeds) == list(range(12))
    assert list(result.returns) == [100.0] * 12
    assert result.env_spec is not None
    assert result.env_spec["id"] == "CartPole-v1"
    result.assert_return(at_least=95, bounds=(0, 100))
    with pytest.raises(GymrecFailure, match=r"mean return >= 150 FAILED"):
        result.assert_return(at_least=150, bounds=(0, 200))


def test_a_long_loop_keeps_statistics_and_no_replay_data() -> None:
    env = wrap(gym.make("CartPole-v1"))
    run(env, range(40), lambda obs: 0)
    assert len(env.result) == 40
    assert all(episode.length > 0 for episode in env.result.episodes)
    assert all(episode.actions == [] and episode.rewards == [] for episode in env.result.episodes)
    assert len(env.return_queue) == 40


def test_videos_stream_to_episode_n_files_as_episodes_finish(tmp_path: Path) -> None:
    folder = tmp_path / "videos"
    env = wrap(painter(length=6), video_folder=folder, video_trigger=lambda ep: ep % 3 == 0)
    run(env, range(4), lambda obs: 1)
    # Episodes 0 and 3 have ended: their videos are complete before close().
    assert sorted(path.name for path in folder.iterdir()) == ["episode-0.mp4", "episode-3.mp4"]
    env.close()
    assert [video.episode_index for video in env.videos] == [0, 3]
    for video in env.videos:
        assert video.path == folder / f"episode-{video.episode_index}.mp4"
        assert video.episode is env.result.episodes[video.episode_index]
        # The reset frame and one a step, at 10 fps: 0.7 s, held to a second.
        assert decode(video.path)[:2] == (live_frames(7, 10), (24, 32, 3))


def test_a_video_folder_alone_films_gymnasium_s_cubic_schedule(tmp_path: Path) -> None:
    env = wrap(painter(length=2), video_folder=tmp_path)
    run(env, range(10), lambda obs: 1)
    env.close()
    assert [video.episode_index for video in env.videos] == [0, 1, 8]


def test_an_unwritable_video_folder_warns_and_the_loop_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = wrap(painter(length=3), video_folder=blocker / "videos", video_trigger=lambda ep: True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(env, range(3), lambda obs: 1)
        env.close()
    # One warning per lost video, as its episode ends (not one per step, nor a repeat at close).
    assert [str(warning.message).split(" write")[0] for warning in caught] == [
        f"gymrec: no video of episode {n} of {ENV_ID}: cannot" for n in range(3)
    ]
    assert all(warning.category is GymrecVideoWarning for warning in caught)
    assert len(env.result) == 3
    assert all(video.missing is not None for video in env.videos)


def test_a_disk_that_fills_up_mid_run_costs_only_those_videos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ffmpeg works, then fails as on a full disk: later statistics and videos carry on."""
    counter = tmp_path / "calls"
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo x >> "{counter}"\n'
        f'if [ "$(wc -l < "{counter}")" -eq 2 ]; then\n'
        '  cat > /dev/null; echo "No space left on device" >&2; exit 1\n'
        "fi\n"
        f'exec "{imageio_ffmpeg.get_ffmpeg_exe()}" "$@"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    folder = tmp_path / "videos"
    env = wrap(painter(length=4), video_folder=folder, video_trigger=lambda ep: True)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(env, range(3), lambda obs: 1)
        env.close()
    (warning,) = caught
    assert warning.category is GymrecVideoWarning
    assert re.search(
        r"no video of episode 1 of .*: .*No space left on device", str(warning.message)
    )
    assert [video.path is not None for video in env.videos] == [True, False, True]
    assert sorted(path.name for path in folder.iterdir()) == ["episode-0.mp4", "episode-2.mp4"]
    assert len(env.result) == 3


def test_an_existing_video_folder_with_videos_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "episode-0.mp4").write_bytes(b"old")
    with pytest.warns(GymrecVideoWarning, match="already holds episode-"):
        wrap(painter(), video_folder=tmp_path, video_trigger=lambda ep: True).close()


def test_videos_need_rgb_array_frames() -> None:
    with pytest.raises(
        GymrecUsageError,
        match=r"video_folder='v' films episodes, but CartPole-v1 has render_mode=None; "
        r"build it with gym.make\('CartPole-v1', render_mode='rgb_array'\)",
    ):
        wrap(gym.make("CartPole-v1"), video_folder="v", video_trigger=lambda ep: True)


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (lambda ep: 1 / ep > 0, r"video_trigger raised ZeroDivisionError: division by zero for "),
        (lambda ep: None, r"video_trigger returned None \(NoneType\) for episode 0; it must "),
        (
            lambda ep: ep % 2,
            r"video_trigger returned 0 \(int\) for episode 0; it must take the episode number "
            "and return ",
        ),
    ],
    ids=["raises", "none", "int"],
)
def test_a_bad_video_trigger_is_a_usage_error_at_the_first_reset(
    tmp_path: Path, trigger: Any, message: str
) -> None:
    reset_calls = []

    class Counting(gym.Wrapper[Any, Any, Any, Any]):
        def reset(self, **kwargs: Any) -> Any:
            reset_calls.append(kwargs)
            return self.env.reset(**kwargs)

    env = wrap(Counting(painter()), video_folder=tmp_path, video_trigger=trigger)
    with pytest.raises(GymrecUsageError, match=message) as raised:
        env.reset(seed=0)
    assert "return True or False (e.g. video_trigger=lambda episode:" in str(raised.value)
    assert reset_calls == []  # refused before the env resets
    env.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wrap("CartPole-v1"), r"takes a built gymnasium.Env, got 'CartPole-v1'"),  # type: ignore[arg-type]
        (
            lambda: wrap(gym.make("CartPole-v1"), video_trigger=lambda ep: True),
            r"video_trigger=.* needs video_folder=",
        ),
        (
            lambda: wrap(painter(), video_folder=3),  # type: ignore[arg-type]
            r"video_folder=3 must be a path",
        ),
        (
            lambda: wrap(painter(), video_folder="v", video_trigger=250),  # type: ignore[arg-type]
            r"video_trigger=250 must be a callable episode_number -> bool",
        ),
    ],
    ids=["env-id", "trigger-without-folder", "folder-not-a-path", "trigger-not-callable"],
)
def test_bad_wrap_arguments(call: Any, message: str) -> None:
    with pytest.raises(GymrecUsageError, match=message):
        call()


def test_wrap_returns_a_recorded_env() -> None:
    env = wrap(gym.make("CartPole-v1"))
    assert isinstance(env, RecordedEnv)
    assert env.videos == []


# -- the Recording Agents guide's two halves, as scripts ---------------------------------------


def run_example(name: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed


def test_the_evaluation_script_films_every_episode(tmp_path: Path) -> None:
    completed = run_example(
        "record_evaluation.py",
        tmp_path,
        "--episodes=3",
        "--max-episode-steps=40",
        "--video-folder=eval-videos",
    )
    out = completed.stdout
    assert "Episode total rewards: deque([40.0, 40.0, 40.0], maxlen=100)" in out
    assert "Episode lengths: deque([40, 40, 40], maxlen=100)" in out
    assert "mean return >= 38 passed" in out
    videos = sorted((tmp_path / "eval-videos").iterdir())
    assert [path.name for path in videos] == ["episode-0.mp4", "episode-1.mp4", "episode-2.mp4"]
    for path in videos:
        assert decode(path)[:2] == (41, (400, 600, 3))


def test_the_training_script_films_periodically_and_logs_every_episode(tmp_path: Path) -> None:
    completed = run_example(
        "record_training.py", tmp_path, "--episodes=12", "--period=5", "--video-folder=train"
    )
    logged = re.findall(
        r"^episode-(\d+) \{'r': ([\d.]+), 'l': (\d+), 't': [\d.e-]+\}$",
        completed.stderr,
        flags=re.MULTILINE,
    )
    assert [int(number) for number, _, _ in logged] == list(range(12))
    assert all(float(r) == int(length) for _, r, length in logged)  # CartPole: 1 a step
    assert "12 episodes" in completed.stdout
    videos = sorted((tmp_path / "train").iterdir(), key=lambda path: len(path.name))
    assert [path.name for path in videos] == ["episode-0.mp4", "episode-5.mp4", "episode-10.mp4"]
    for path in videos:
        number = int(path.stem.split("-")[1])
        assert decode(path)[0] == live_frames(int(logged[number][2]) + 1, 50)  # CartPole: 50 fps
