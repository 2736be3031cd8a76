"""Per-test folders, the choice of episodes to film, and what the reports show (no pytester)."""

from __future__ import annotations

import base64
import random
import re
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest

import pytest_gymrec.record as gymrec_record
from helpers.recording import record_episodes
from helpers.video_envs import ENV_ID, Painter
from helpers.videos import frame_count
from pytest_gymrec import baseline, filming
from pytest_gymrec.artifacts import MAX_SLUG_LENGTH, VideoFolder, display_path, folder_for, slug_for
from pytest_gymrec.failure_videos import (
    Videos,
    attach,
    choose,
    html_extras,
    junit_properties,
    produce,
    section_text,
)
from pytest_gymrec.record import Episode
from pytest_gymrec.settings import VideoMode

# -- slugs and folders -----------------------------------------------------------------------


def test_slugs_read_like_the_node_id() -> None:
    assert slug_for("tests/test_agent.py::test_holds") == "tests-test_agent.py-test_holds"
    assert slug_for("tests/test_agent.py::TestAgent::test_holds[seed-3]") == (
        "tests-test_agent.py-TestAgent-test_holds-seed-3"
    )
    assert slug_for("t.py::test_x[lr=0.1,gamma=+1]") == "t.py-test_x-lr=0.1,gamma=+1"


def test_slugs_of_different_node_ids_differ() -> None:
    node_ids = [
        "tests/test_a.py::test_x[1-2]",
        "tests/test_a.py::test_x[1/2]",
        "tests/test_a.py::test_x[1 2]",
        "tests/test_a.py::test_x[1:2]",
        "tests/a-b.py::test_x",
        "tests/a/b.py::test_x",
        "tests/test_a.py::test_x",
        "tests/test_a.py::test_x[]",
    ]
    slugs = [slug_for(node_id) for node_id in node_ids]
    assert len(set(slugs)) == len(slugs)
    assert all(all(char.isalnum() or char in "-_.,=+" for char in slug) for slug in slugs)


@pytest.mark.parametrize(
    ("first", "second"), [("-1", "1"), ("a--b", "a-b"), ("c.", "c"), ("..", "."), ("a b", "a-b")]
)
def test_ids_that_differ_only_in_punctuation_get_their_own_folders(first: str, second: str) -> None:
    assert slug_for(f"t.py::test_x[{first}]") != slug_for(f"t.py::test_x[{second}]")


#: Pieces hostile node ids are made of: separators, dots, characters no file name keeps,
#: what hashed names look like, Windows device names, lone surrogates, long runs.
HOSTILE_PIECES = [
    *"-_.,=+/:[]\\ \t\n\0~@#%$!?*'\"<>|",
    "::",
    "..",
    "--",
    "-.",
    "a",
    "A",
    "1",
    "é",
    "🤖",
    "\udcff",
    "con",
    "NUL",
    "test_x",
    "Test",
    "t.py",
    "0123456789",
    "-abcdef0123",
    "x" * 150,
]


def hostile_node_ids(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    ids: set[str] = set()
    while len(ids) < count:
        parts = rng.choices(HOSTILE_PIECES, k=rng.randint(0, 6))
        shape = rng.randrange(4)
        text = "".join(parts)
        if shape == 0:
            ids.add(text)
        elif shape == 1:
            ids.add(f"tests/test_{text}.py::test_x")
        elif shape == 2:
            ids.add(f"tests/test_a.py::test_x[{text}]")
        else:
            params = "".join(rng.choices(HOSTILE_PIECES, k=2))
            ids.add(f"tests/test_a.py::TestC::test_{text}[{params}]")
    return sorted(ids)


def test_many_hostile_node_ids_never_share_a_folder_and_stay_inside_it(tmp_path: Path) -> None:
    node_ids = hostile_node_ids(10_000, seed=11)
    slugs = {node_id: slug_for(node_id) for node_id in node_ids}
    workers = {slug_for(node_id, "gw1") for node_id in node_ids[:2000]}
    assert len(set(slugs.values())) == len(node_ids)
    assert len(workers | set(slugs.values())) == len(node_ids) + len(workers)
    for slug in [*slugs.values(), *workers]:
        assert 0 < len(slug) <= MAX_SLUG_LENGTH
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.,=+-]*", slug), slug
        assert not slug.endswith(".")
        assert Path(slug).name == slug
        assert (tmp_path / slug).resolve().parent == tmp_path.resolve()


def test_baseline_names_come_from_the_same_function() -> None:
    # Only the part after the file names a baseline (the file picks the folder).
    hostile = hostile_node_ids(5000, seed=12)
    node_ids = {f"test_a.py::{node_id.partition('::')[2]}" for node_id in hostile}
    names = hostile_node_ids(2000, seed=13)
    test_file = Path("/project/tests/test_a.py")
    paths = {baseline.baseline_path(test_file, node_id) for node_id in node_ids}
    named = {baseline.baseline_path(test_file, "test_a.py::test_x", name) for name in names}
    assert len(paths) == len(node_ids)
    assert len(named) == len(names)
    for path in paths | named:
        assert path.parent == test_file.parent / "gymrec_baselines" / "test_a"
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.,=+\[\]-]*\.json", path.name), path.name
        assert len(path.name) <= baseline.LONGEST_NAME + len(".json")


def test_long_node_ids_are_shortened_with_a_hash() -> None:
    long_a = "tests/test_agent.py::test_holds[" + "x" * 300 + "a]"
    long_b = "tests/test_agent.py::test_holds[" + "x" * 300 + "b]"
    slug_a, slug_b = slug_for(long_a), slug_for(long_b)
    assert len(slug_a) <= MAX_SLUG_LENGTH
    assert slug_a != slug_b
    assert slug_a.startswith("tests-test_agent.py-test_holds-")
    assert re.search(r"xa-[0-9a-f]{10}$", slug_a)


def test_worker_suffix_separates_workers_that_run_the_same_test() -> None:
    node_id = "tests/test_agent.py::test_holds"
    assert len({slug_for(node_id, "gw0"), slug_for(node_id, "gw1"), slug_for(node_id)}) == 3
    assert slug_for(node_id, "gw1").startswith("tests-test_agent.py-test_holds-gw1-")


def test_folder_for_resolves_relative_output_against_the_base(tmp_path: Path) -> None:
    folder = folder_for("out", tmp_path, "t.py::test_x")
    assert folder.path == tmp_path / "out" / "t.py-test_x"
    assert folder_for(str(tmp_path / "abs"), Path("/elsewhere"), "t.py::a").path.parent == (
        tmp_path / "abs"
    )
    assert display_path(folder.path, tmp_path) == "out/t.py-test_x"
    assert display_path(Path("/elsewhere/x"), tmp_path) == "/elsewhere/x"


def test_a_folder_is_created_lazily_and_cleared_once_per_run(tmp_path: Path) -> None:
    folder = VideoFolder(tmp_path / "test")
    assert not folder.path.exists()  # nothing filmed, nothing created
    folder.path.mkdir()
    (folder.path / "seed-9.mp4").write_bytes(b"old run")
    (folder.path / "notes.txt").write_text("the user's own file")
    first = folder.reserve("seed-1")
    first.write_bytes(b"new")
    second = folder.reserve("seed-1")
    assert second.name == "seed-1-2.mp4"
    assert sorted(path.name for path in folder.files()) == ["notes.txt", "seed-1.mp4"]
    folder.discard()
    assert [path.name for path in folder.files()] == ["notes.txt"]  # only our files go


def test_discarding_an_empty_folder_removes_it(tmp_path: Path) -> None:
    folder = VideoFolder(tmp_path / "test")
    folder.reserve("seed-0").write_bytes(b"x")
    folder.discard()
    assert not folder.path.exists()
    folder.discard()  # and again, with nothing there


def outside_files(root: Path) -> dict[str, bytes]:
    root.mkdir()
    files = {"seed-0.mp4": b"someone else's video", "notes.txt": b"someone else's notes"}
    for name, content in files.items():
        (root / name).write_bytes(content)
    return files


def test_a_link_planted_at_a_tests_folder_is_neither_cleared_nor_written(tmp_path: Path) -> None:
    outside = tmp_path / "shared"
    files = outside_files(outside)
    record = recorded(tmp_path, [0])
    assert record.video_folder is not None
    record.video_folder.path.parent.mkdir(parents=True)
    record.video_folder.path.symlink_to(outside, target_is_directory=True)
    for failed in (True, False):
        videos = produce(record, VideoMode.RETAIN_ON_FAILURE, 3, test_failed=failed)
        assert {path.name: path.read_bytes() for path in outside.iterdir()} == files
    assert videos is None  # the passing run: only a discard, which left the link alone
    videos = produce(record, VideoMode.ON, 3, test_failed=True)
    assert videos is not None
    [clip] = videos.chosen
    assert clip.path is None
    assert "is a symbolic link" in str(clip.missing)
    assert {path.name: path.read_bytes() for path in outside.iterdir()} == files
    assert record.video_folder.path.is_symlink()


def test_links_among_a_folders_files_are_removed_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "shared"
    files = outside_files(outside)
    record = recorded(tmp_path, [0])
    assert record.video_folder is not None
    folder = record.video_folder.path
    folder.mkdir(parents=True)
    (folder / "seed-0.mp4").symlink_to(outside / "seed-0.mp4")
    (folder / "episode-3.mp4").symlink_to(outside / "notes.txt")
    videos = produce(record, VideoMode.ON, 3, test_failed=True)
    assert videos is not None
    [clip] = videos.chosen
    assert clip.path == folder / "seed-0.mp4"
    assert not clip.path.is_symlink()
    assert frame_count(clip.path) == clip.length + 1
    assert not (folder / "episode-3.mp4").exists()
    assert {path.name: path.read_bytes() for path in outside.iterdir()} == files


# -- choosing episodes -----------------------------------------------------------------------


def episode(seed: int | None, return_: float, error: str | None = None) -> Episode:
    return Episode(seed, return_, 10, 0.1, True, False, error=error, env_label="env")


def test_choice_order_raised_then_flagged_then_lowest_returns() -> None:
    episodes = [episode(seed, float(seed * 10)) for seed in range(8)]
    episodes[5].error = "ValueError: boom"
    flagged = [(episodes[6], "seed 6 dropped 40 against the baseline")]
    chosen, left_out = choose(episodes, flagged, 4)
    assert [(e.seed, why) for e, why in chosen] == [
        (5, "raised ValueError: boom"),
        (6, "seed 6 dropped 40 against the baseline"),
        (0, "lowest return"),
        (1, "lowest return"),
    ]
    assert left_out == []


def test_choice_is_capped_and_counts_what_did_not_fit() -> None:
    episodes = [episode(seed, 1.0, error="RuntimeError: x") for seed in range(5)]
    chosen, left_out = choose(episodes, [(episodes[0], "also flagged")], 3)
    assert [e.seed for e, _ in chosen] == [0, 1, 2]
    assert [(e.seed, why) for e, why in left_out] == [
        (3, "raised RuntimeError: x"),
        (4, "raised RuntimeError: x"),
    ]
    assert choose(episodes, [], 0) == ([], [(e, "raised RuntimeError: x") for e in episodes])


def test_what_was_left_out_is_counted_by_its_reason(tmp_path: Path) -> None:
    """Seeds that only regressed are not called episodes that raised (issue 12)."""
    episodes = [episode(seed, float(seed)) for seed in range(12)]
    episodes[11].error = "ValueError: boom"
    flagged = [
        (episodes[seed], f"regressed most against the baseline: return {seed} -> 0")
        for seed in range(10)
    ]
    chosen, left_out = choose(episodes, flagged, 1)
    assert [e.seed for e, _ in chosen] == [11]
    videos = Videos(VideoFolder(tmp_path / "t"), [], [], left_out, limit=1)
    assert section_text(videos, tmp_path) == (
        "  10 more episodes not filmed (--gymrec-max-videos is 1): seeds 0, 1, 2, 3, 4, 5, 6, "
        "7 and 2 more (regressed most against the baseline)"
    )
    mixed = Videos(VideoFolder(tmp_path / "t"), [], [], choose(episodes, flagged, 0)[1], limit=0)
    text = section_text(mixed, tmp_path)
    assert text.startswith("  11 more episodes not filmed (--gymrec-max-videos is 0): seed 11 ")
    assert "seed 11 (raised); seeds 0, 1," in text


def test_an_episode_flagged_twice_is_filmed_once() -> None:
    episodes = [episode(0, 5.0), episode(1, 1.0)]
    chosen, _ = choose(episodes, [(episodes[0], "a"), (episodes[0], "b")], 3)
    assert [(e.seed, why) for e, why in chosen] == [(0, "a"), (1, "lowest return")]


# -- producing and reporting -----------------------------------------------------------------


def recorded(
    tmp_path: Path, seeds: list[int], env: Any = ENV_ID, **kwargs: Any
) -> gymrec_record.TestRecord:
    record = gymrec_record.TestRecord(
        "t.py::test_x", video_folder=VideoFolder(tmp_path / "out" / "t")
    )
    record_episodes(
        env, lambda obs: 1 if obs[0] % 2 else 0, seeds, record.add_episode, max_steps=100, **kwargs
    )
    return record


def test_a_failing_test_films_the_lowest_returns(tmp_path: Path) -> None:
    record = recorded(tmp_path, list(range(6)))
    videos = produce(record, VideoMode.RETAIN_ON_FAILURE, 2, test_failed=True)
    assert videos is not None
    lowest = sorted(record.episodes, key=lambda e: e.return_)[:2]
    assert [clip.seed for clip in videos.chosen] == [e.seed for e in lowest]
    for clip in videos.chosen:
        assert clip.path is not None
        assert clip.path.name == f"seed-{clip.seed}.mp4"
        assert frame_count(clip.path) == clip.length + 1
    assert sorted(path.name for path in videos.folder.files()) == sorted(
        f"seed-{e.seed}.mp4" for e in lowest
    )


def test_a_passing_test_renders_nothing_and_removes_an_old_folder(tmp_path: Path) -> None:
    log = tmp_path / "renders.log"
    record = recorded(tmp_path, [0, 1], render_log=str(log))
    assert record.video_folder is not None
    record.video_folder.path.mkdir(parents=True)
    (record.video_folder.path / "seed-0.mp4").write_bytes(b"from an earlier failure")
    assert produce(record, VideoMode.RETAIN_ON_FAILURE, 3, test_failed=False) is None
    assert not record.video_folder.path.exists()
    assert not log.exists()  # not one frame rendered


def test_video_on_films_a_passing_test_and_off_films_nothing(tmp_path: Path) -> None:
    record = recorded(tmp_path, [0, 1])
    videos = produce(record, VideoMode.ON, 3, test_failed=False)
    assert videos is not None
    assert len([clip for clip in videos.chosen if clip.path is not None]) == 2
    log = tmp_path / "off.log"
    quiet = recorded(tmp_path / "off", [0], render_log=str(log))
    assert produce(quiet, VideoMode.OFF, 3, test_failed=True) is None
    assert not log.exists()


def test_duplicate_and_missing_seeds_get_distinct_names(tmp_path: Path) -> None:
    record = recorded(tmp_path, [4])
    record.episodes.extend(recorded(tmp_path / "again", [4]).episodes)
    record.episodes[1].seed = 4
    videos = produce(record, VideoMode.ON, 3, test_failed=True)
    assert videos is not None
    names = sorted(clip.path.name for clip in videos.chosen if clip.path is not None)
    assert names == ["seed-4-episode-1.mp4", "seed-4-episode-2.mp4"]


def test_a_diverged_replay_is_labelled_in_the_name_and_the_text(tmp_path: Path) -> None:
    record = recorded(tmp_path, [0], when_rendering="diverge")
    videos = produce(record, VideoMode.RETAIN_ON_FAILURE, 3, test_failed=True)
    assert videos is not None
    [clip] = videos.chosen
    assert clip.path is not None
    assert clip.path.name == "seed-0-diverged.mp4"
    assert clip.diverged_at == 3
    text = section_text(videos, tmp_path)
    assert "replay diverged at step 3:" in text
    assert ("gymrec.video_diverged", f"seed 0: step 3: {clip.divergence}") in junit_properties(
        videos, tmp_path
    )


def test_faults_are_reported_missing_and_the_others_still_filmed(tmp_path: Path) -> None:
    record = recorded(tmp_path, [0, 1])
    record.episodes[0].rebuild = None
    videos = produce(record, VideoMode.ON, 3, test_failed=True)
    assert videos is not None
    broken, fine = sorted(videos.chosen, key=lambda clip: clip.path is not None)
    assert broken.path is None
    assert "cannot be rebuilt" in str(broken.missing)
    assert fine.path is not None
    text = section_text(videos, tmp_path)
    assert "video missing: the env" in text
    assert f"seed {broken.seed}: return" in text
    properties = junit_properties(videos, tmp_path)
    assert ("gymrec.video", display_path(fine.path, tmp_path)) in properties
    assert any(name == "gymrec.video_missing" for name, _ in properties)


def test_an_unwritable_output_folder_is_a_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder should be")
    record = recorded(tmp_path, [0])
    record.video_folder = VideoFolder(blocker / "t")
    videos = produce(record, VideoMode.RETAIN_ON_FAILURE, 3, test_failed=True)
    assert videos is not None
    [clip] = videos.chosen
    assert clip.path is None
    assert "cannot write to the output folder" in str(clip.missing)
    assert "NotADirectoryError" in str(clip.missing)


def test_a_renderer_that_aborts_the_process_costs_only_its_videos(tmp_path: Path) -> None:
    record = recorded(tmp_path, list(range(6)), frames="abort-odd")
    starts = {episode.seed: int(episode.return_ / 8 * 100 - 100) for episode in record.episodes}
    videos = produce(record, VideoMode.ON, 6, test_failed=True)
    assert videos is not None
    assert len(videos.chosen) == 6
    odd = [clip for clip in videos.chosen if starts[clip.seed] % 2]
    even = [clip for clip in videos.chosen if not starts[clip.seed] % 2]
    assert odd
    assert even
    for clip in odd:
        assert clip.path is None
        assert clip.missing == "the filming process died with SIGABRT"
    for clip in even:  # filmed by the next child after each crash
        assert clip.path is not None
        assert frame_count(clip.path) >= clip.length + 1
    assert sorted(path.name for path in videos.folder.files()) == sorted(
        f"seed-{clip.seed}.mp4" for clip in even
    )  # no unfinished file of a crashed child is left
    text = section_text(videos, tmp_path)
    assert "video missing: the filming process died with SIGABRT" in text


def test_a_renderer_that_raises_then_aborts_costs_only_videos(tmp_path: Path) -> None:
    """MuJoCo's Hopper without MUJOCO_GL: the first render() raises, the next one aborts."""
    record = recorded(tmp_path, [0, 1, 2], frames="raise-then-abort")
    videos = produce(record, VideoMode.ON, 3, test_failed=True)
    assert videos is not None
    raised = "render() raised RuntimeError: no OpenGL context after reset"
    # The third episode is filmed by a fresh child, whose first render raises again.
    assert [clip.missing for clip in videos.chosen] == [
        raised,
        "the filming process died with SIGABRT",
        raised,
    ]


def test_a_hung_renderer_is_killed_after_the_stall_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filming, "STALL_TIMEOUT", 1.0)
    record = recorded(tmp_path, [0, 1], frames="hang")
    videos = produce(record, VideoMode.ON, 2, test_failed=True)
    assert videos is not None
    for clip in videos.chosen:
        assert clip.path is None
        assert "the filming process rendered nothing for 1 s and was killed" in str(clip.missing)


def test_a_factory_that_cannot_be_pickled_is_filmed_here_with_a_note(tmp_path: Path) -> None:
    lock = threading.Lock()  # cannot be pickled, so neither can the factory

    def locked_painter(**kwargs: Any) -> Painter:
        with lock:
            return Painter(**kwargs)

    record = recorded(tmp_path, [0], env=locked_painter)
    videos = produce(record, VideoMode.ON, 1, test_failed=True)
    assert videos is not None
    [clip] = videos.chosen
    assert clip.path is not None
    assert frame_count(clip.path) == clip.length + 1
    [note] = clip.notes
    assert note.startswith("filmed in the test process: the episode's env factory cannot be")
    assert "a renderer that crashes the process would end the test run" in note
    assert note in section_text(videos, tmp_path)


def test_a_factory_the_child_cannot_import_is_filmed_here_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phantom = types.ModuleType("gymrec_phantom_module")  # importable only in this process

    def phantom_painter(**kwargs: Any) -> Painter:
        return Painter(**kwargs)

    phantom_painter.__module__ = phantom.__name__
    phantom_painter.__qualname__ = "phantom_painter"
    vars(phantom)["phantom_painter"] = phantom_painter
    monkeypatch.setitem(sys.modules, phantom.__name__, phantom)
    record = recorded(tmp_path, [0], env=phantom_painter)
    videos = produce(record, VideoMode.ON, 1, test_failed=True)
    assert videos is not None
    [clip] = videos.chosen
    assert clip.path is not None
    [note] = clip.notes
    assert "the filming process cannot load the episode (ModuleNotFoundError" in note


def test_one_child_films_all_of_a_tests_videos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    real = filming._run_child

    def counting(*args: Any) -> Any:
        started.append(1)
        return real(*args)

    monkeypatch.setattr(filming, "_run_child", counting)
    record = recorded(tmp_path, list(range(4)))
    videos = produce(record, VideoMode.ON, 4, test_failed=True)
    assert videos is not None
    assert all(clip.path is not None for clip in videos.chosen)
    assert started == [1]


def test_filming_here_and_in_a_child_give_the_same_videos(tmp_path: Path) -> None:
    record = recorded(tmp_path, [3], when_rendering="diverge")
    isolated = produce(record, VideoMode.ON, 1, test_failed=True)
    assert isolated is not None
    [child] = isolated.chosen
    assert child.path is not None
    child_bytes = child.path.read_bytes()
    record.video_folder = VideoFolder(tmp_path / "here")
    here = produce(record, VideoMode.ON, 1, test_failed=True, isolate=False)
    assert here is not None
    [local] = here.chosen
    assert local.path is not None
    assert (local.path.name, local.diverged_at, local.divergence) == (
        child.path.name,
        child.diverged_at,
        child.divergence,
    )
    assert frame_count(local.path) == frame_count(child.path)
    assert len(child_bytes) > 0


UNGUARDED_SCRIPT = """
import os
import sys
from pathlib import Path

print("the main script ran", flush=True)
if os.environ.get("UNGUARDED_RAN"):  # re-run in a child: stop before it recurses
    raise SystemExit(0)
os.environ["UNGUARDED_RAN"] = "1"
sys.path.insert(0, sys.argv[2])
from pytest_gymrec.artifacts import VideoFolder
from pytest_gymrec.episodes import EpisodeRecorder, resolve_env, run_episodes
from pytest_gymrec.failure_videos import film
from helpers.video_envs import ENV_ID

episodes = []
source = resolve_env(ENV_ID, "script", {})
recorder = EpisodeRecorder(
    source.build(), on_episode=episodes.append, label=ENV_ID, rebuild=source.factory, max_steps=50
)
run_episodes(recorder, lambda obs: 1, [0], ENV_ID)
[clip] = film([(episodes[0], "lowest return", "seed-0")], VideoFolder(Path(sys.argv[1])))
print("video:", clip.path, clip.missing, flush=True)
"""


def test_a_main_script_without_a_guard_is_not_run_again(tmp_path: Path) -> None:
    script = tmp_path / "run_tests.py"  # as a user might call pytest.main() from a script
    script.write_text(UNGUARDED_SCRIPT)
    tests = Path(__file__).parent
    ran = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "out"), str(tests)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert ran.stdout.count("the main script ran") == 1
    assert f"video: {tmp_path / 'out' / 'seed-0.mp4'} None" in ran.stdout


def test_html_extras_embed_the_videos_as_base64_mp4(tmp_path: Path) -> None:
    pytest.importorskip("pytest_html")
    record = recorded(tmp_path, [0, 1])
    videos = produce(record, VideoMode.ON, 3, test_failed=True)
    assert videos is not None
    extras = html_extras(videos, 3)
    assert len(extras) == 2
    for extra, clip in zip(extras, videos.chosen, strict=True):
        assert extra["format_type"] == "video"
        assert extra["mime_type"] == "video/mp4"
        assert clip.path is not None
        assert base64.b64decode(extra["content"]) == clip.path.read_bytes()
        assert extra["name"].startswith(f"seed {clip.seed}: return ")


def test_attach_fills_every_report_channel(tmp_path: Path) -> None:
    record = recorded(tmp_path, [0, 1])
    report = types.SimpleNamespace(gymrec={"nodeid": record.nodeid}, extras=[])
    properties: list[tuple[str, object]] = []
    text = attach(
        report,
        record,
        properties,
        mode=VideoMode.RETAIN_ON_FAILURE,
        max_videos=1,
        test_failed=True,
        base_dir=tmp_path,
        html=True,
    )
    [entry] = report.gymrec["videos"]
    assert entry["path"] == "out/t/" + f"seed-{entry['seed']}.mp4"
    assert entry["missing"] is None
    assert properties == [("gymrec.video", entry["path"])]
    assert len(report.extras) == 1
    assert re.match(r"videos \(out/t, filmed in \d+\.\d s\):", text)
    assert report.gymrec["filming_seconds"] > 0
    assert entry["path"] in text


def test_attach_never_raises(tmp_path: Path) -> None:
    record = recorded(tmp_path, [0])
    record.episodes = None  # type: ignore[assignment]  # a bug somewhere, simulated
    text = attach(
        types.SimpleNamespace(),
        record,
        [],
        mode=VideoMode.ON,
        max_videos=3,
        test_failed=True,
        base_dir=tmp_path,
        html=False,
    )
    assert text.startswith("videos missing: internal error in pytest-gymrec: TypeError")
