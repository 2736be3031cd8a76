"""Everything a failing test's report carries besides its videos: a plot of each verdict, the
``[[ATTACHMENT|path]]`` lines Jenkins and GitLab read, and Allure attachments.

Called from the plugin's makereport hook with the report's plain data (``report.gymrec``), after
the videos were made. Nothing here may change a verdict: every step reports its own failure as a
line of the section text instead of raising.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from ..record import TestRecord


def plots(record: TestRecord, data: dict[str, Any], *, html: bool, report: Any) -> list[str]:
    """Draw a PNG of every verdict that did not pass (of every verdict when none failed), and
    the learning curve of a training loop that filmed episodes live; save them in the test's
    folder, embed them in pytest-html; return the section's lines."""
    from . import plots as drawing

    hint = drawing.unavailable()
    if hint is not None:
        return [hint]
    verdicts = [v for v in data.get("verdicts", []) if v.get("outcome") != "pass"] or list(
        data.get("verdicts", [])
    )
    pictures: list[tuple[str, bytes]] = []
    lines: list[str] = []
    try:
        for index, verdict in enumerate(verdicts):
            pictures.append((f"verdict-{index}", drawing.verdict_png(verdict)))
        filmed = [
            video["episode_index"]
            for video in data.get("videos", [])
            if video.get("source") == "live" and video.get("episode_index") is not None
        ]
        if filmed:
            pictures.append(
                ("learning-curve", drawing.learning_curve_png(data.get("episodes", []), filmed))
            )
    except Exception as exc:  # a plot must never turn a verdict into an internal error
        lines.append(f"plot missing: {type(exc).__name__}: {exc}")
    folder = record.video_folder
    saved: list[str] = []
    for stem, png in pictures:
        if folder is None:
            break
        try:
            path = folder.reserve(stem, ".png")
            path.write_bytes(png)
        except OSError as exc:
            lines.append(f"plot missing: {stem}.png could not be written: {exc}")
            continue
        saved.append(str(path))
        lines.append(f"plot: {path}")
        if html:
            _embed(report, png, stem)
    data["plots"] = saved
    return lines


def _embed(report: Any, png: bytes, name: str) -> None:
    try:
        from pytest_html import extras
    except ImportError:
        return
    content = base64.b64encode(png).decode("ascii")
    report.extras = [*getattr(report, "extras", []), extras.png(content, name=name)]


def kept_files(data: dict[str, Any], base_dir: Path) -> list[Path]:
    """Absolute paths of the videos and plots this test kept (missing videos left out)."""
    files = [
        base_dir / video["path"]
        for video in data.get("videos", [])
        if video.get("path") and not video.get("missing")
    ]
    files.extend(Path(path) for path in data.get("plots", []))
    return [path for path in files if path.is_file()]


def junit_lines(files: list[Path], relative_to: Path | None) -> str:
    from .junit import attachment_lines

    return attachment_lines(files, relative_to)


def allure(files: list[Path], data: dict[str, Any]) -> str | None:
    """Attach to Allure when allure-pytest is active; a line for the section when it failed."""
    from . import allure as bridge

    try:
        bridge.attach(files, data.get("verdicts", []))
    except Exception as exc:  # another plugin's fault must not change this test's outcome
        return f"allure attachments missing: {type(exc).__name__}: {exc}"
    return None
