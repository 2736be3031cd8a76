"""Where a test's files go: one folder per test under the output folder. Standard library only.

A test's folder is named after its node id (``tests/test_agent.py::test_holds[seed-3]`` ->
``tests-test_agent-py-test_holds-seed-3``), shortened with a hash of the full node id when long
(as pytest-playwright does). Two tests never share a folder, so under xdist no worker touches
another worker's files; a rerun of a test clears that test's own files and nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

#: Longest folder name; longer node ids keep their start and end around a hash.
MAX_SLUG_LENGTH = 100
#: Characters kept as they are in a slug.
_SAFE = re.compile(r"[A-Za-z0-9_.-]")
#: Files this plugin writes into a test's folder (everything it may delete there).
OWN_FILE_PATTERNS = ("seed-*.mp4", "episode-*.mp4", ".*.partial.mp4")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def slug_for(nodeid: str, worker: str | None = None) -> str:
    """A folder name for ``nodeid``, unique per node id (and per worker when given).

    ``worker`` is for runs where every xdist worker runs every test (``--dist each``); in the
    usual case a node id runs in one worker and the slug needs no worker part.
    """
    source = nodeid if worker is None else f"{nodeid}@{worker}"
    head, bracket, params = nodeid.partition("[")
    if bracket and params.endswith("]"):
        params = params[:-1]
    # "/" and "::" become "-"; that is reversible only while the path itself has no "-".
    # Any other replaced character could make two node ids read the same (a parameter
    # "1/2" and "1-2"): then a hash of the exact node id keeps them apart.
    lossy = "-" in head or bool(bracket and (not nodeid.endswith("]") or not params))
    parts = [head.replace("::", "/").replace("/", "-")]
    if bracket:
        parts.append(params)
    pieces = []
    for part in parts:
        for char in part:
            if _SAFE.match(char):
                pieces.append(char)
            else:
                pieces.append("-")
                lossy = True
        pieces.append("-")
    slug = re.sub(r"-{2,}", "-", "".join(pieces)).strip("-.") or "test"
    if worker is not None:
        slug = f"{slug}-{re.sub(r'[^A-Za-z0-9_]', '-', worker)}"
    # Characters that had to be replaced could make two node ids read the same: a hash of the
    # exact node id keeps them apart. Long slugs keep head and tail around the hash.
    if lossy or len(slug) > MAX_SLUG_LENGTH:
        digest = _digest(source)
        if len(slug) + len(digest) + 1 > MAX_SLUG_LENGTH:
            keep = (MAX_SLUG_LENGTH - len(digest) - 2) // 2
            slug = f"{slug[:keep]}-{digest}-{slug[-keep:]}"
        else:
            slug = f"{slug}-{digest}"
    return slug


class VideoFolder:
    """One test's folder of videos. Created on the first file; cleared once per run of the test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._prepared = False
        self._reserved: set[str] = set()

    def __repr__(self) -> str:
        return f"VideoFolder({str(self.path)!r})"

    def prepare(self) -> Path:
        """Create the folder, deleting files a previous run of this test left. Raises OSError."""
        if not self._prepared:
            self._remove_own_files()
            self.path.mkdir(parents=True, exist_ok=True)
            self._prepared = True
        return self.path

    def reserve(self, stem: str, suffix: str = ".mp4") -> Path:
        """A file name in this folder not yet handed out in this run: ``stem``, ``stem-2``..."""
        name = stem
        counter = 1
        while name + suffix in self._reserved:
            counter += 1
            name = f"{stem}-{counter}"
        self._reserved.add(name + suffix)
        return self.prepare() / (name + suffix)

    def discard(self) -> None:
        """Delete this test's files and the folder if nothing else is left in it."""
        self._remove_own_files()
        self._prepared = False
        self._reserved.clear()

    def files(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(path for path in self.path.iterdir() if path.is_file())

    def _remove_own_files(self) -> None:
        if not self.path.is_dir():
            return
        # Only files this plugin writes: a user who points --gymrec-output at a folder that
        # holds their own files keeps them.
        for pattern in OWN_FILE_PATTERNS:
            for path in self.path.glob(pattern):
                path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: someone else's files live here
            self.path.rmdir()


def folder_for(output: str, base_dir: Path, nodeid: str, worker: str | None = None) -> VideoFolder:
    """The folder of test ``nodeid`` under ``output`` (relative paths start at ``base_dir``)."""
    root = Path(os.path.expanduser(output))
    if not root.is_absolute():
        root = base_dir / root
    return VideoFolder(root / slug_for(nodeid, worker))


def display_path(path: Path, base_dir: Path) -> str:
    """``path`` relative to ``base_dir`` when inside it (as users typed the output folder)."""
    try:
        return str(path.relative_to(base_dir))
    except ValueError:
        return str(path)
