"""Failure videos end to end: real pytest runs through pytester (also with ``-n 2`` where xdist
carries what is tested from the workers: tests marked ``xdist_matters``).

Every video a run reports is decoded back with imageio (frame count = episode length + 1: the
reset frame and one per step).
"""

from __future__ import annotations

import inspect
import json
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import video_envs as painter_envs
from helpers.videos import frame_count

Run = Callable[..., pytest.RunResult]

pytestmark = pytest.mark.usefixtures("policies", "video_envs")


@pytest.fixture
def video_envs(pytester: pytest.Pytester) -> None:
    """``video_envs.py`` (the misbehaving Painter env) in the pytester folder."""
    pytester.makepyfile(video_envs=inspect.getsource(painter_envs))


def junit_properties(path: Path) -> dict[str, list[tuple[str, str]]]:
    root = ET.parse(path).getroot()
    return {
        str(case.get("name")): [
            (str(p.get("name")), str(p.get("value"))) for p in case.iter("property")
        ]
        for case in root.iter("testcase")
    }


def videos_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.mp4")) if folder.is_dir() else []


@pytest.mark.xdist_matters("videos filmed on a worker reach the JSON summary and JUnit XML")
def test_a_failing_test_gets_videos_in_every_report(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(
        test_videos="""
        import pytest
        import video_envs
        from policies import balance, push_left

        @pytest.mark.gymrec(seeds=range(5), bounds=(0, 500))
        def test_broken(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)

        # Five episodes cannot fail this line (blind): warn, this test is about videos.
        @pytest.mark.gymrec(seeds=range(5), blind="warn")
        def test_good(gymrec):
            result = gymrec.evaluate(video_envs.ENV_ID, lambda obs: 1, render_log="renders.log")
            result.assert_return(at_least=1, bounds=(0, 16))
        """
    )
    result = run_pytest("--junitxml=out.xml", "--gymrec-json=summary.json")
    result.assert_outcomes(passed=1, failed=1)
    folder = pytester.path / "gymrec-results" / "test_videos.py-test_broken"
    summary = json.loads((pytester.path / "summary.json").read_text())
    broken = next(t for t in summary["tests"] if t["nodeid"].endswith("test_broken"))
    lengths = {episode["seed"]: episode["length"] for episode in broken["episodes"]}
    lowest = sorted(broken["episodes"], key=lambda e: (e["return"], e["seed"]))[:3]

    # The files: the three lowest returns, complete, one frame per step plus the reset frame.
    assert len(broken["videos"]) == 3
    assert videos_in(folder) == sorted(f"seed-{video['seed']}.mp4" for video in broken["videos"])
    assert {video["return"] for video in broken["videos"]} == {e["return"] for e in lowest}
    for video in broken["videos"]:
        assert (
            video["path"] == f"gymrec-results/test_videos.py-test_broken/seed-{video['seed']}.mp4"
        )
        assert video["missing"] is None
        assert frame_count(pytester.path / video["path"]) == lengths[video["seed"]] + 1

    # The terminal section under the failure lists paths and returns.
    lines = ["*- gymrec -*", "videos (gymrec-results/test_videos.py-test_broken, filmed in * s):"]
    for video in broken["videos"]:
        lines += [
            f"  seed {video['seed']}: return {video['return']:g} ({video['length']} steps), "
            "lowest return",
            f"    {video['path']}",
        ]
    result.stdout.fnmatch_lines(lines)

    # JUnit XML: one property per video.
    properties = junit_properties(pytester.path / "out.xml")
    assert sorted(v for n, v in properties["test_broken"] if n == "gymrec.video") == sorted(
        video["path"] for video in broken["videos"]
    )
    assert not [n for n, _ in properties["test_good"] if n.startswith("gymrec.video")]

    # The passing test rendered nothing and left no folder.
    assert not (pytester.path / "renders.log").exists()
    assert [p.name for p in (pytester.path / "gymrec-results").iterdir()] == [folder.name]


def test_the_users_own_assert_and_xfail_keep_their_videos(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(
        test_outcomes="""
        import pytest
        import video_envs
        from policies import push_left

        @pytest.mark.gymrec(seeds=[3, 4])
        def test_own_assert(gymrec):
            result = gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0)
            assert min(result.returns) > 100, "my own check"

        @pytest.mark.xfail(reason="a known broken agent", strict=True)
        @pytest.mark.gymrec(seeds=10, bounds=(0, 500), max_videos=2)
        def test_known_broken(gymrec):
            gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)

        @pytest.mark.gymrec(seeds=[0, 1, 2], max_videos=2)
        def test_policy_crashes(gymrec):
            steps = []

            def policy(obs):
                steps.append(obs)
                if len(steps) == 12:  # step 4 of the second episode
                    raise ValueError("NaN in the network")
                return 1

            gymrec.evaluate(video_envs.ENV_ID, policy)

        @pytest.mark.gymrec(seeds=2)
        def test_skipped_after_running(gymrec):
            gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0, render_log="skip.log")
            pytest.skip("decided not to check")
        """
    )
    result = run_pytest("-rsx")
    result.assert_outcomes(failed=2, xfailed=1, skipped=1)
    root = pytester.path / "gymrec-results"
    crashed = root / "test_outcomes.py-test_policy_crashes"
    assert videos_in(crashed) == ["seed-0.mp4", "seed-1.mp4"]
    assert frame_count(crashed / "seed-1.mp4") == 4  # reset and 3 steps: up to the crash
    result.stdout.fnmatch_lines(
        [
            "videos (gymrec-results/test_outcomes.py-test_policy_crashes, filmed in * s):",
            "  seed 1: return * (3 steps), raised ValueError: NaN in the network",
            "    gymrec-results/test_outcomes.py-test_policy_crashes/seed-1.mp4"
            " (video up to the crash)",
            "  seed 0: return * (8 steps), lowest return",
        ]
    )
    assert videos_in(root / "test_outcomes.py-test_own_assert") == ["seed-3.mp4", "seed-4.mp4"]
    assert len(videos_in(root / "test_outcomes.py-test_known_broken")) == 2
    assert not (root / "test_outcomes.py-test_skipped_after_running").exists()
    assert not (pytester.path / "skip.log").exists()
    result.stdout.fnmatch_lines(
        ["*AssertionError: my own check*", "videos (*test_own_assert, filmed in * s):"]
    )


def test_video_modes_and_limits_from_ini_cli_and_marker(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makeini("[pytest]\ngymrec_video = on\ngymrec_max_videos = 2\n")
    pytester.makepyfile(
        test_modes="""
        import pytest
        import video_envs

        @pytest.mark.gymrec(seeds=4)
        def test_passing_with_video_on(gymrec):
            gymrec.evaluate(video_envs.ENV_ID, lambda obs: 1)

        @pytest.mark.gymrec(seeds=4, video="off")
        def test_failing_with_video_off(gymrec):
            gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0, render_log="off.log")
            assert False

        @pytest.mark.gymrec(seeds=4, max_videos=1, output="elsewhere")
        def test_marker_limits(gymrec):
            gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0)
            assert False
        """
    )
    result = run_pytest("-rP")
    result.assert_outcomes(passed=1, failed=2)
    root = pytester.path / "gymrec-results"
    assert len(videos_in(root / "test_modes.py-test_passing_with_video_on")) == 2
    assert not (root / "test_modes.py-test_failing_with_video_off").exists()
    assert not (pytester.path / "off.log").exists()
    assert len(videos_in(pytester.path / "elsewhere" / "test_modes.py-test_marker_limits")) == 1
    # -rP shows a passing test's sections: the videos of video=on are listed there.
    result.stdout.fnmatch_lines(
        ["videos (gymrec-results/test_modes.py-test_passing_with_video_on, filmed in * s):"]
    )

    # The command line overrides the ini file; the marker still overrides the command line.
    again = run_pytest("--gymrec-video=retain-on-failure", "--gymrec-max-videos=3")
    again.assert_outcomes(passed=1, failed=2)
    assert not (root / "test_modes.py-test_passing_with_video_on").exists()  # replaced: nothing
    assert len(videos_in(pytester.path / "elsewhere" / "test_modes.py-test_marker_limits")) == 1


FAULTS = """
import gymnasium as gym
import pytest
import video_envs

pytestmark = pytest.mark.gymrec(seeds=[0])

def evaluate_and_fail(gymrec, env, **kwargs):
    gymrec.evaluate(env, lambda obs: 0, **kwargs)
    assert False, "the agent is bad"

def test_render_none(gymrec):
    evaluate_and_fail(gymrec, video_envs.ENV_ID, frames="none")

def test_render_text(gymrec):
    evaluate_and_fail(gymrec, video_envs.ENV_ID, frames="text")

def test_frames_grow(gymrec):
    evaluate_and_fail(gymrec, video_envs.ENV_ID, frames="grow")

def test_replay_raises(gymrec):
    evaluate_and_fail(gymrec, video_envs.ENV_ID, when_rendering="raise")

def test_replay_diverges(gymrec):
    evaluate_and_fail(gymrec, video_envs.ENV_ID, when_rendering="diverge")

def test_built_env_without_spec(gymrec):
    evaluate_and_fail(gymrec, video_envs.Painter())

def test_factory_without_render_mode(gymrec):
    evaluate_and_fail(gymrec, video_envs.stubborn_factory)

def test_passing_despite_broken_frames(gymrec):
    gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0, frames="none")
"""


def test_video_faults_are_reported_and_never_change_the_verdict(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(test_faults=FAULTS)
    result = run_pytest("-p", "no:randomly")
    result.assert_outcomes(failed=7, passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines_random(
        [
            "*video missing: render() returned None for the first frame*",
            "*video missing: render() returned str for the first frame, not a numpy image array",
            "*video missing: frame 3 is 34x26 pixels but the first frame was 32x24*",
            "*video missing: the replay raised RuntimeError: the physics engine crashed at step 2",
            "*video missing: the env Painter cannot be rebuilt*video_trigger=...)",
            "*video missing: the env factory stubborn_factory takes no render_mode argument*",
            "*/test_faults.py-test_replay_diverges/seed-0-diverged.mp4",
            "*replay diverged at step 3: reward * in the replay, * in the test*",
        ]
    )
    assert result.stdout.str().count("AssertionError: the agent is bad") >= 7
    root = pytester.path / "gymrec-results"
    assert videos_in(root / "test_faults.py-test_replay_diverges") == ["seed-0-diverged.mp4"]
    assert frame_count(root / "test_faults.py-test_replay_diverges" / "seed-0-diverged.mp4") == 9
    # No half-written files anywhere.
    assert [p.name for p in root.rglob("*") if p.is_file()] == ["seed-0-diverged.mp4"]


BROKEN_AGENT = """
import pytest
from policies import push_left

@pytest.mark.gymrec(seeds=10, bounds=(0, 500), max_videos=2)
def test_broken(gymrec):
    gymrec.evaluate("CartPole-v1", push_left).assert_return(at_least=475)
"""


def fake_ffmpeg(folder: Path, script: str) -> Path:
    path = folder / "fake-ffmpeg"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.parametrize(
    ("ffmpeg", "says"),
    [
        ("missing", "*video missing: cannot start ffmpeg (*no-such-ffmpeg): FileNotFoundError*"),
        ("failing", "*video missing: ffmpeg exited with status 1: Unknown encoder 'libx264'"),
        (
            "hung",
            "*video missing: ffmpeg took no data for 1 s at frame * (killed; "
            "GYMREC_FFMPEG_TIMEOUT sets the limit)",
        ),
    ],
)
def test_a_missing_or_failing_ffmpeg_is_reported(
    pytester: pytest.Pytester,
    run_pytest: Run,
    monkeypatch: pytest.MonkeyPatch,
    ffmpeg: str,
    says: str,
) -> None:
    if ffmpeg == "missing":
        monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(pytester.path / "no-such-ffmpeg"))
    elif ffmpeg == "hung":  # never reads a frame: the pipe fills up and writes would block
        monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake_ffmpeg(pytester.path, "exec sleep 600")))
        monkeypatch.setenv("GYMREC_FFMPEG_TIMEOUT", "1")
    else:
        script = "cat > /dev/null\necho \"Unknown encoder 'libx264'\" >&2\nexit 1\n"
        monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake_ffmpeg(pytester.path, script)))
    pytester.makepyfile(test_broken=BROKEN_AGENT)
    result = run_pytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*GymrecFailure: gymrec: CartPole-v1*", says])
    assert not list((pytester.path / "gymrec-results").rglob("*.mp4"))


CRASHING_RENDERERS = """
import pytest
import video_envs

@pytest.mark.gymrec(seeds=[0, 1])
def test_renderer_aborts(gymrec):
    gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0, frames="abort")
    assert False, "the agent is bad"

@pytest.mark.gymrec(seeds=[0, 1, 2])
def test_renderer_raises_then_aborts(gymrec):
    # MuJoCo's Hopper-v5 without MUJOCO_GL: the first render() raises, the next one aborts.
    gymrec.evaluate(video_envs.ENV_ID, lambda obs: 1, frames="raise-then-abort")
    assert False, "the agent is bad"

@pytest.mark.gymrec(seeds=[0])
def test_runs_afterwards(gymrec):
    # The session is still alive after the aborting renderers: this test runs and passes.
    assert len(gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0)) == 1
"""


@pytest.mark.xdist_matters("missing videos from a worker reach the JSON summary and JUnit XML")
def test_a_renderer_that_aborts_the_process_costs_only_its_videos(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    pytester.makepyfile(test_crash=CRASHING_RENDERERS)
    result = run_pytest("-p", "no:randomly", "--junitxml=out.xml", "--gymrec-json=summary.json")
    # The session survived: every test ran, the verdicts are the tests' own, reports written.
    result.assert_outcomes(failed=2, passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.stdout.str().count("AssertionError: the agent is bad") >= 2
    result.stdout.fnmatch_lines_random(
        [
            "*video missing: the filming process died with SIGABRT",
            "*video missing: render() raised RuntimeError: no OpenGL context after reset",
            "*short test summary info*",
        ]
    )
    properties = junit_properties(pytester.path / "out.xml")
    missing = [v for n, v in properties["test_renderer_aborts"] if n == "gymrec.video_missing"]
    assert sorted(missing) == [
        f"seed {seed}: the filming process died with SIGABRT" for seed in (0, 1)
    ]
    summary = json.loads((pytester.path / "summary.json").read_text())
    aborted = next(t for t in summary["tests"] if t["nodeid"].endswith("test_renderer_aborts"))
    assert [video["path"] for video in aborted["videos"]] == [None, None]
    assert aborted["filming_seconds"] > 0
    assert not list((pytester.path / "gymrec-results").rglob("*.mp4"))  # no half files


def test_an_unwritable_output_folder_is_reported(
    pytester: pytest.Pytester, run_pytest: Run
) -> None:
    (pytester.path / "blocker").write_text("a file, not a folder")
    pytester.makepyfile(test_broken=BROKEN_AGENT)
    result = run_pytest("--gymrec-output=blocker/videos")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*video missing: cannot write to the output folder *blocker/videos/*NotADirectoryError*"]
    )


def test_a_rerun_replaces_only_that_tests_folder(
    pytester: pytest.Pytester, run_pytest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_rerun="""
        import os
        import pytest
        import video_envs

        def test_a(gymrec):
            gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0)
            assert os.environ.get("AGENT_FIXED") == "1"

        def test_b(gymrec):
            gymrec.evaluate(video_envs.ENV_ID, lambda obs: 0)
            assert False
        """
    )
    root = pytester.path / "gymrec-results"
    run_pytest("--gymrec-seeds=0-2").assert_outcomes(failed=2)
    folder_a, folder_b = root / "test_rerun.py-test_a", root / "test_rerun.py-test_b"
    assert len(videos_in(folder_a)) == 3
    before_b = {path.name: path.read_bytes() for path in folder_b.iterdir()}
    (folder_a / "my-notes.txt").write_text("the user's file stays")

    run_pytest("--gymrec-seeds=10,11", "-k", "test_a").assert_outcomes(failed=1)
    assert videos_in(folder_a) == ["seed-10.mp4", "seed-11.mp4"]  # old seeds gone
    assert {path.name: path.read_bytes() for path in folder_b.iterdir()} == before_b

    monkeypatch.setenv("AGENT_FIXED", "1")
    run_pytest("-k", "test_a").assert_outcomes(passed=1)
    assert videos_in(folder_a) == []  # a pass keeps no stale failure videos
    assert (folder_a / "my-notes.txt").exists()
    assert {path.name: path.read_bytes() for path in folder_b.iterdir()} == before_b


def test_live_capture_during_a_training_loop(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytester.makepyfile(
        test_training="""
        import pytest
        import video_envs

        def train(gymrec, episodes):
            env = gymrec.make(video_envs.ENV_ID, video_trigger=lambda episode: episode % 2 == 0)
            for episode in range(episodes):
                obs, info = env.reset(seed=episode)
                done = False
                while not done:
                    obs, reward, terminated, truncated, info = env.step(1)
                    done = terminated or truncated
            return env

        @pytest.mark.gymrec(video="on")
        def test_kept(gymrec):
            env = train(gymrec, 5)
            assert len(env.return_queue) == 5

        def test_passing_keeps_nothing(gymrec):
            train(gymrec, 3)

        def test_built_env_filmed_live(gymrec):
            # No spec, so no replay: the live videos are what the failure shows.
            env = gymrec.wrap(video_envs.Painter(render_mode="rgb_array"), video_trigger=bool)
            for seed in (5, 6):
                env.reset(seed=seed)
                for _ in range(8):
                    env.step(0)
            assert False, "the agent is bad"

        def test_failing_mid_episode(gymrec):
            env = train(gymrec, 2)
            env.reset(seed=99)  # episode 2, filmed
            env.step(1)
            assert False, "diverged during training"
        """
    )
    result = run_pytest()
    result.assert_outcomes(passed=2, failed=2)
    root = pytester.path / "gymrec-results"
    built = root / "test_training.py-test_built_env_filmed_live"
    # bool(0) is False: episode 0 is not filmed, episode 1 (seed 6) is.
    assert videos_in(built) == ["episode-1.mp4"]
    assert frame_count(built / "episode-1.mp4") == 9
    kept = root / "test_training.py-test_kept"
    assert "episode-0.mp4" in videos_in(kept)
    assert {"episode-2.mp4", "episode-4.mp4"} <= set(videos_in(kept))
    for name in ("episode-0.mp4", "episode-2.mp4", "episode-4.mp4"):
        assert frame_count(kept / name) == 9
    assert not (root / "test_training.py-test_passing_keeps_nothing").exists()
    failing = root / "test_training.py-test_failing_mid_episode"
    # The reset frame and one step, cut short; the last frame held to make a second.
    assert frame_count(failing / "episode-2.mp4") == 10
    # A passing test that films live gets the videos it asked for, and no replays.
    assert not [name for name in videos_in(kept) if name.startswith("seed-")]
    result.stdout.fnmatch_lines(
        [
            "videos (gymrec-results/test_training.py-test_built_env_filmed_live, filmed in * s):",
            "  seed 6: return *, lowest return",  # seed 6 returns less than seed 5
            "    gymrec-results/test_training.py-test_built_env_filmed_live/episode-1.mp4"
            " (filmed live)",
            "  seed 5: return *, lowest return",
            "    video missing: the env Painter cannot be rebuilt*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "filmed live (video_trigger):",
            "  episode 2: 1 step filmed, episode did not end, video_trigger: episode 2",
            "*/episode-2.mp4 (the episode was cut short; filmed live)",
            "    last frame held for 0.8 s so the clip lasts 1 s",
        ]
    )


def test_dist_each_gives_every_worker_its_own_folder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN_AGENT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--dist", "each")
    result.assert_outcomes(failed=2)
    root = pytester.path / "gymrec-results"
    names = sorted(p.name for p in root.iterdir())
    assert len(names) == 2
    assert names[0].startswith("test_broken.py-test_broken-gw0-")
    assert names[1].startswith("test_broken.py-test_broken-gw1-")
    for folder in root.iterdir():
        assert len(videos_in(folder)) == 2


@pytest.mark.xdist_matters("pytest-html writes on the controller from the extras the workers send")
def test_pytest_html_gets_the_videos(pytester: pytest.Pytester, run_pytest: Run) -> None:
    pytest.importorskip("pytest_html")
    pytester.makepyfile(test_broken=BROKEN_AGENT)
    run_pytest("--html=report.html").assert_outcomes(failed=1)
    ours = sorted((pytester.path / "gymrec-results").rglob("*.mp4"))
    assets = sorted((pytester.path / "assets").glob("*.mp4"))
    assert len(ours) == len(assets) == 2
    assert sorted(p.read_bytes() for p in ours) == sorted(p.read_bytes() for p in assets)
    run_pytest("--html=embedded.html", "--self-contained-html").assert_outcomes(failed=1)
    html = (pytester.path / "embedded.html").read_text()
    assert html.count("data:video/mp4;base64,") == 2


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("ini", "*ini option gymrec_video in *tox.ini = 'loud': video mode 'loud' is not one of*"),
        ("marker", "*test_m.py::test_m: video='loud': video mode 'loud' is not one of*"),
    ],
)
def test_bad_video_values_name_their_source(
    pytester: pytest.Pytester, where: str, says: str
) -> None:
    if where == "ini":
        pytester.makeini("[pytest]\ngymrec_video = loud\n")
    marker = '@pytest.mark.gymrec(video="loud")' if where == "marker" else ""
    pytester.makepyfile(test_m=f"import pytest\n{marker}\ndef test_m(gymrec):\n    pass\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])


def test_video_trigger_with_another_render_mode_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_trigger="""
        import gymnasium as gym
        import video_envs

        def test_human(gymrec):
            gymrec.make("CartPole-v1", render_mode="human", video_trigger=lambda e: True)

        def test_wrap_without_frames(gymrec):
            gymrec.wrap(gym.make(video_envs.ENV_ID), video_trigger=lambda e: True)

        def test_not_callable(gymrec):
            gymrec.make(video_envs.ENV_ID, video_trigger=250)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random(
        [
            "*GymrecUsageError: gymrec.make('CartPole-v1', render_mode='human', video_trigger=...)"
            ": filming needs render_mode='rgb_array'*",
            "*GymrecUsageError: video_trigger needs an env with render_mode='rgb_array'; "
            "GymrecPainter-v0 has render_mode=None*",
            "*GymrecUsageError: video_trigger=250 must be a callable episode_number -> bool*",
        ]
    )
