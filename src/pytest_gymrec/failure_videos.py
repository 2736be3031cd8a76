"""Failure videos of one finished test: which episodes, filming them, what the reports show.

The plugin's ``pytest_runtest_makereport`` wrapper calls :func:`attach` with the call report.
Nothing here may change a test's verdict: every fault becomes ``video missing: <reason>``, and
the filming itself runs in a child process (:mod:`filming`), so even a renderer that crashes
the process costs only its video. No pytest import (the report is used through its public
attributes); gymnasium, numpy and ffmpeg are reached only when an episode is actually filmed.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifacts import VideoFolder, display_path
from .formatting import fmt
from .record import Episode
from .settings import VideoMode

if TYPE_CHECKING:
    from .record import TestRecord
    from .video import LiveVideo

#: Key of the video list in the plain report data (``report.gymrec``).
REPORT_KEY = "videos"
#: Key of the seconds spent filming in the same data (also in the JSON summary).
SECONDS_KEY = "filming_seconds"


@dataclasses.dataclass
class Clip:
    """The video of one episode, or why there is none."""

    seed: int | None
    return_: float
    length: int
    env_label: str
    #: Why this episode was filmed: "lowest return", "raised ...", a check's reason.
    why: str
    path: Path | None = None
    missing: str | None = None
    #: Step where the replay left the recorded run, and what differed.
    diverged_at: int | None = None
    divergence: str | None = None
    #: "replay" (re-simulated after the test) or "live" (filmed while it ran).
    source: str = "replay"
    #: Episode number in its env, for live videos.
    episode_index: int | None = None
    crashed: bool = False
    #: Filmed live, but the env was reset or closed before the episode ended.
    cut_short: bool = False
    #: How the clip plays (slowed, last frame held, frame rate clamped) and where it was
    #: filmed when that matters: one sentence each.
    notes: list[str] = dataclasses.field(default_factory=list)

    def title(self) -> str:
        if self.source == "live" and self.seed is None and self.episode_index is not None:
            return f"episode {self.episode_index}"
        return f"seed {self.seed}" if self.seed is not None else "unseeded episode"

    def to_dict(self, base_dir: Path) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "return": self.return_ if self.return_ == self.return_ else None,  # NaN: not JSON
            "length": self.length,
            "env": self.env_label,
            "why": self.why,
            "path": display_path(self.path, base_dir) if self.path is not None else None,
            "missing": self.missing,
            "diverged_at": self.diverged_at,
            "divergence": self.divergence,
            "source": self.source,
            "episode_index": self.episode_index,
            "notes": list(self.notes),
        }


@dataclasses.dataclass
class Videos:
    """Every video of one test."""

    folder: VideoFolder
    #: The chosen episodes (raised, flagged, lowest returns), at most max-videos.
    chosen: list[Clip]
    #: Episodes filmed live by a ``video_trigger`` that are not among the chosen.
    live: list[Clip]
    #: Episodes that qualified (raised or flagged), with why, but were left out by max-videos.
    left_out: list[tuple[Episode, str]] = dataclasses.field(default_factory=list)
    #: The max-videos setting that left them out.
    limit: int = 0
    #: Wall-clock seconds spent filming the chosen episodes (child processes included).
    seconds: float = 0.0

    @property
    def clips(self) -> list[Clip]:
        return [*self.chosen, *self.live]


def choose(
    episodes: Sequence[Episode], flagged: Sequence[tuple[Episode, str]], limit: int
) -> tuple[list[tuple[Episode, str]], list[tuple[Episode, str]]]:
    """Episodes to film, best first: those that raised, those a check flagged, the lowest returns.

    Returns the choice (at most ``limit``) and the raised or flagged episodes that did not fit,
    each with why it qualified.
    """
    seen: set[int] = set()
    must: list[tuple[Episode, str]] = []
    for episode in episodes:
        if episode.error is not None:
            must.append((episode, f"raised {episode.error}"))
    must.extend(flagged)
    chosen: list[tuple[Episode, str]] = []
    for episode, why in must:
        if id(episode) not in seen:
            seen.add(id(episode))
            chosen.append((episode, why))
    left_out = chosen[limit:]
    lowest = sorted(
        (episode for episode in episodes if id(episode) not in seen), key=lambda e: e.return_
    )
    chosen.extend((episode, "lowest return") for episode in lowest)
    return chosen[:limit], left_out


def _stem(episode: Episode, position: int, seed_counts: Counter[int | None]) -> str:
    if episode.seed is None:
        return f"episode-{position}-unseeded"
    if seed_counts[episode.seed] > 1:  # the same seed ran twice in this test
        return f"seed-{episode.seed}-episode-{position}"
    return f"seed-{episode.seed}"


def _clip(episode: Episode, why: str) -> Clip:
    return Clip(
        episode.seed,
        episode.return_,
        episode.length,
        episode.env_label,
        why,
        crashed=episode.error is not None,
    )


def film(
    chosen: Sequence[tuple[Episode, str, str]], folder: VideoFolder, *, isolate: bool = True
) -> list[Clip]:
    """Replay each ``(episode, why, file stem)`` with rendering into ``folder``.

    In one child process for all of them (``isolate``, see :mod:`filming`); faults end up in
    ``Clip.missing``.
    """
    clips = [_clip(episode, why) for episode, why, _ in chosen]
    from . import filming  # a child process and ffmpeg: only when something is filmed

    jobs: list[filming.Job] = []
    positions: list[int] = []
    for position, ((episode, _, stem), clip) in enumerate(zip(chosen, clips, strict=True)):
        if episode.length > 0 and not episode.actions:
            # A long training loop keeps replay data only for the episodes it may film.
            clip.missing = (
                "replay data not kept: this loop keeps actions only for the episodes it may "
                "film (KeepReplay); film it live with video_trigger"
            )
            continue
        try:
            target = folder.reserve(stem)
            diverged = folder.reserve(f"{stem}-diverged")
        except OSError as exc:
            clip.missing = f"cannot write to the output folder {folder.path}: {_oserror(exc)}"
            continue
        jobs.append(filming.Job(episode, target, diverged))
        positions.append(position)
    for position, result in zip(positions, filming.film(jobs, isolate=isolate), strict=True):
        clip = clips[position]
        clip.path, clip.missing = result.path, result.missing
        clip.diverged_at, clip.divergence = result.diverged_at, result.divergence
        clip.notes.extend(result.notes)
    return clips


def _oserror(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc}"


def _live_clip(live: LiveVideo, why: str) -> Clip:
    episode = live.episode
    return Clip(
        seed=episode.seed if episode is not None else None,
        return_=episode.return_ if episode is not None else float("nan"),
        length=episode.length if episode is not None else max(0, live.frames - 1),
        env_label=live.env_label,
        why=why,
        path=live.path,
        missing=live.missing,
        source="live",
        episode_index=live.episode_index,
        crashed=episode is not None and episode.error is not None,
        cut_short=live.cut_short,
        notes=list(live.notes),
    )


def _live_videos(record: TestRecord) -> list[LiveVideo]:
    videos: list[LiveVideo] = []
    for capture in record.live_captures:
        try:
            capture.finish_recording(cut_short=True)  # an episode the failure interrupted
        except Exception as exc:  # pragma: no cover - finish_recording reports its own faults
            for live in capture.videos:
                if live.path is None and live.missing is None:
                    live.missing = f"internal error finishing the video: {exc}"
        videos.extend(capture.videos)
    return videos


def produce(
    record: TestRecord,
    mode: VideoMode,
    max_videos: int,
    *,
    test_failed: bool,
    isolate: bool = True,
) -> Videos | None:
    """Film what this test should show, or clean up; None when the test keeps no videos.

    A passing test under ``video="on"`` that films live (``video_trigger``) keeps the videos
    it asked for and gets no replays on top. ``isolate=False`` films in this process.
    """
    folder = record.video_folder
    live_videos = _live_videos(record)
    if mode is VideoMode.OFF or folder is None:
        return None
    if mode is VideoMode.RETAIN_ON_FAILURE and not test_failed:
        with contextlib.suppress(OSError):
            folder.discard()  # live videos of a passing test, and files of an earlier failure
        return None
    episodes = record.episodes
    chosen: list[tuple[Episode, str]] = []
    left_out: list[tuple[Episode, str]] = []
    if not (record.live_captures and not test_failed):  # else: it films what it asked for
        chosen, left_out = choose(episodes, record.flagged, max_videos)
    live_by_episode = {id(live.episode): live for live in live_videos if live.episode is not None}
    positions = {id(episode): position for position, episode in enumerate(episodes, start=1)}
    seed_counts = Counter(episode.seed for episode in episodes)
    used: set[int] = set()
    clips: list[Clip | None] = []
    replays: list[tuple[Episode, str, str]] = []
    for episode, why in chosen:
        live = live_by_episode.get(id(episode))
        if live is not None and live.path is not None:
            used.add(id(live))
            clips.append(_live_clip(live, why))
            continue
        replays.append((episode, why, _stem(episode, positions.get(id(episode), 0), seed_counts)))
        clips.append(None)
    start = time.perf_counter()
    filmed = iter(film(replays, folder, isolate=isolate) if replays else [])
    seconds = time.perf_counter() - start if replays else 0.0
    others = [
        _live_clip(live, f"video_trigger: episode {live.episode_index}")
        for live in live_videos
        if id(live) not in used
    ]
    return Videos(
        folder,
        [clip if clip is not None else next(filmed) for clip in clips],
        others,
        left_out,
        limit=max_videos,
        seconds=seconds,
    )


# -- what the reports show -----------------------------------------------------------------------


def _returns_text(clip: Clip) -> str:
    steps = f"{clip.length} step{'s' * (clip.length != 1)}"
    if clip.return_ != clip.return_:  # NaN: a live episode that never ended
        return f"{steps} filmed, episode did not end"
    return f"return {fmt(clip.return_)} ({steps})"


def _clip_lines(clip: Clip, base_dir: Path) -> list[str]:
    head = f"  {clip.title()}: {_returns_text(clip)}, {clip.why}"
    if clip.path is None:
        return [
            head,
            f"    video missing: {clip.missing or 'no frames were filmed'}",
            *(f"    {note}" for note in clip.notes),
        ]
    notes = []
    if clip.crashed:
        notes.append("video up to the crash")
    if clip.cut_short:
        notes.append("the episode was cut short")
    if clip.source == "live":
        notes.append("filmed live")
    line = f"    {display_path(clip.path, base_dir)}"
    if notes:
        line += f" ({'; '.join(notes)})"
    lines = [head, line]
    if clip.diverged_at is not None:
        lines.append(
            f"    replay diverged at step {clip.diverged_at}: {clip.divergence} "
            "(the env is not deterministic given seed and actions; the video shows the replay)"
        )
    lines.extend(f"    {note}" for note in clip.notes)
    return lines


#: Episodes named per reason in the "not filmed" line before the rest is only counted.
NAMED_LEFT_OUT = 8


def _left_out_text(videos: Videos) -> str:
    """One line: how many raised or flagged episodes were not filmed, grouped by reason."""
    groups: dict[str, list[str]] = {}
    for episode, why in videos.left_out:
        # A check's reason is "<what>: <numbers of this episode>"; group by the what.
        reason = "raised" if episode.error is not None else why.split(": ", 1)[0]
        title = f"{episode.seed}" if episode.seed is not None else "unseeded"
        groups.setdefault(reason, []).append(title)
    parts = []
    for reason, titles in groups.items():
        shown = ", ".join(titles[:NAMED_LEFT_OUT])
        if len(titles) > NAMED_LEFT_OUT:
            shown += f" and {len(titles) - NAMED_LEFT_OUT} more"
        parts.append(f"seed{'s' * (len(titles) != 1)} {shown} ({reason})")
    count = len(videos.left_out)
    return (
        f"  {count} more episode{'s' * (count != 1)} not filmed (--gymrec-max-videos is "
        f"{videos.limit}): {'; '.join(parts)}"
    )


def section_text(videos: Videos, base_dir: Path) -> str:
    """The video part of the ``gymrec`` terminal section."""
    lines: list[str] = []
    if videos.chosen:
        took = f", filmed in {videos.seconds:.1f} s" if videos.seconds else ""
        lines.append(f"videos ({display_path(videos.folder.path, base_dir)}{took}):")
        for clip in videos.chosen:
            lines.extend(_clip_lines(clip, base_dir))
    if videos.left_out:
        lines.append(_left_out_text(videos))
    if videos.live:
        lines.append("filmed live (video_trigger):")
        for clip in videos.live:
            lines.extend(_clip_lines(clip, base_dir))
    return "\n".join(lines)


def junit_properties(videos: Videos, base_dir: Path) -> list[tuple[str, object]]:
    """``gymrec.video`` (a path), ``gymrec.video_missing`` and ``gymrec.video_diverged``."""
    properties: list[tuple[str, object]] = []
    for clip in videos.clips:
        if clip.path is not None:
            properties.append(("gymrec.video", display_path(clip.path, base_dir)))
        else:
            properties.append(("gymrec.video_missing", f"{clip.title()}: {clip.missing}"))
        if clip.diverged_at is not None:
            properties.append(
                (
                    "gymrec.video_diverged",
                    f"{clip.title()}: step {clip.diverged_at}: {clip.divergence}",
                )
            )
    return properties


def html_extras(videos: Videos, limit: int) -> list[dict[str, Any]]:
    """pytest-html ``extras.mp4`` entries (base64, so --self-contained-html embeds them)."""
    try:
        from pytest_html import extras
    except ImportError:  # the HTML report needs pytest-html anyway
        return []
    live = [clip for clip in videos.live if clip.path is not None][-limit:] if limit else []
    result = []
    for clip in [*videos.chosen, *live]:
        if clip.path is None:
            continue
        try:
            content = base64.b64encode(clip.path.read_bytes()).decode("ascii")
        except OSError:
            continue
        name = f"{clip.title()}: {_returns_text(clip)}"
        if clip.diverged_at is not None:
            name += f" (replay diverged at step {clip.diverged_at})"
        result.append(extras.mp4(content, name=name))
    return result


def attach(
    report: Any,
    record: TestRecord,
    user_properties: list[tuple[str, object]],
    *,
    mode: VideoMode,
    max_videos: int,
    test_failed: bool,
    base_dir: Path,
    html: bool,
) -> str:
    """Film and attach this test's videos to ``report``; return the terminal section's text.

    Sets ``report.gymrec["videos"]`` (plain data, survives xdist), adds JUnit properties to
    ``user_properties`` (the item's: junitxml writes the teardown report's copy of them) and,
    for pytest-html, ``extras.mp4`` entries to ``report.extras``.
    """
    try:
        videos = produce(record, mode, max_videos, test_failed=test_failed)
        if videos is None or not videos.clips:
            return ""
        data = getattr(report, "gymrec", None)
        if isinstance(data, dict):
            data[REPORT_KEY] = [clip.to_dict(base_dir) for clip in videos.clips]
            data[SECONDS_KEY] = round(videos.seconds, 3)
        user_properties.extend(junit_properties(videos, base_dir))
        if html:
            report.extras = [*getattr(report, "extras", []), *html_extras(videos, max_videos)]
        return section_text(videos, base_dir)
    except Exception as exc:  # never let a video turn a test's verdict into an internal error
        return f"videos missing: internal error in pytest-gymrec: {type(exc).__name__}: {exc}"
