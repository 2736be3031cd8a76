"""Where a test's files go: one folder per test under the output folder. Standard library only.

A test's folder is named after its node id (``tests/test_agent.py::test_holds[seed-3]`` ->
``tests-test_agent.py-test_holds-seed-3``). When that spelling could stand for another node id
too (``[-1]`` and ``[1]`` differ only in punctuation, some characters cannot go into a file
name, a long id is cut), a hash of the exact node id is appended. Two tests never share a folder,
so under xdist no worker touches another worker's files, and a rerun of a test clears that
test's own files and nothing else. Baseline files are named by the same function
(:func:`safe_name`).

Clearing never follows a symbolic link: a link planted at a test's folder (say in a shared /tmp)
is refused, and links among a folder's files are removed as links, never through them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

#: Longest name :func:`safe_name` returns; longer names keep their start and end around a hash.
MAX_SLUG_LENGTH = 100
#: Hex digits of the hash that tells apart names whose spelling could be shared.
DIGEST_LENGTH = 10
#: Characters a name keeps as they are (besides the caller's ``keep``, and "-"); others become
#: "-". ("-" goes last in a character class, where it means itself.)
_NAME_CHARACTERS = "A-Za-z0-9_.,=+"
#: What every hashed name ends with; a name that already looks like this is hashed too, so a
#: name kept as it is can never equal another text's hashed name.
_HASHED = re.compile(rf"(?:^|-)[0-9a-f]{{{DIGEST_LENGTH}}}$")
#: Names Windows reserves for devices (with any extension).
_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{kind}{n}" for kind in ("COM", "LPT") for n in range(10)]
)
#: Files this plugin writes into a test's folder (everything it may delete there).
OWN_FILE_PATTERNS = ("seed-*.mp4", "episode-*.mp4", ".*.partial.mp4")


def digest(text: str) -> str:
    """A short hash of ``text`` (lone surrogates, as ``os.fsdecode`` makes them, included)."""
    data = text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH]


@functools.lru_cache(maxsize=8)
def _patterns(keep: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a plain name, a run of characters a name cannot keep) for names that also keep ``keep``."""
    allowed = f"{_NAME_CHARACTERS}{re.escape(keep)}-"
    # A plain name is not ".", "..", a hidden file, or something a command line reads as an option.
    return re.compile(rf"[A-Za-z0-9_][{allowed}]*"), re.compile(rf"[^{allowed}]+")


def _plain(name: str, keep: str, limit: int) -> bool:
    """True when ``name`` can be a path component as it is, on every common file system."""
    return (
        0 < len(name) <= limit
        and _patterns(keep)[0].fullmatch(name) is not None
        and not name.endswith(".")  # Windows drops trailing dots
        and _HASHED.search(name) is None
        and name.split(".")[0].upper() not in _DEVICES
    )


def safe_name(
    key: str,
    spelling: str | None = None,
    *,
    decode: Callable[[str], str | None] | None = None,
    keep: str = "",
    limit: int = MAX_SLUG_LENGTH,
) -> str:
    """One safe path component for ``key``; different keys never get the same component.

    ``spelling`` is how a reader should see ``key`` (default: ``key`` itself) and ``decode``
    reads a spelling back into its key (default: the spelling is the key). The spelling is
    used as it is when it is a plain file name (letters, digits, ``_.,=+-`` and the characters
    in ``keep``; not starting with ``.`` or ``-``; not too long; not a Windows device name) and
    decodes to ``key``. Otherwise the characters it cannot keep become ``-``, it is cut to fit,
    and ``-`` and a hash of ``key`` are appended.

    Why this is one-to-one: a name kept as it is decodes to its own key, so two keys cannot
    share one; a hashed name ends with the hash of its key; and no name kept as it is looks
    like a hashed one.
    """
    spelled = key if spelling is None else spelling
    decoded = decode(spelled) if decode is not None else spelled
    if decoded == key and _plain(spelled, keep, limit):
        return spelled
    cleaned = _patterns(keep)[1].sub("-", spelled)
    room = limit - DIGEST_LENGTH - 1
    if len(cleaned) > room:  # keep the start and the end: both tell tests apart
        head = (room - 1) // 2
        cleaned = f"{cleaned[:head]}-{cleaned[-(room - 1 - head) :]}"
    # Start with a letter, digit or "_" (not a hidden file, not an option); the hash follows.
    cleaned = re.sub(r"^[^A-Za-z0-9_]+", "", cleaned).rstrip("-.")
    return f"{cleaned or 'id'}-{digest(key)}"


def _spelled(nodeid: str) -> str:
    """A node id as a folder name reads: "/" and "::" become "-", parameters follow a "-"."""
    head, bracket, params = nodeid.partition("[")
    spelled = head.replace("::", "-").replace("/", "-")
    return f"{spelled}-{params.removesuffix(']')}" if bracket else spelled


def _node_id_of(slug: str) -> str | None:
    """The node id a slug kept as it is stands for (the inverse of :func:`_spelled`).

    The path runs up to the first part ending in ``.py``, then come the test's name (after a
    ``Test...`` class name when there is one) and the parameters. Node ids this does not read
    back exactly (a folder name with "-", a nested class, a non-Python test) get a hash.
    """
    parts = slug.split("-")
    ends = [index for index, part in enumerate(parts) if part.endswith(".py")]
    if not ends:
        return None
    path, rest = "/".join(parts[: ends[0] + 1]), parts[ends[0] + 1 :]
    if not rest:
        return path
    names = [rest.pop(0)]
    if names[0].startswith("Test") and rest:
        names.append(rest.pop(0))
    nodeid = f"{path}::{'::'.join(names)}"
    return f"{nodeid}[{'-'.join(rest)}]" if rest else nodeid


def _never(_: str) -> None:
    return None


def slug_for(nodeid: str, worker: str | None = None) -> str:
    """A folder name for ``nodeid``, unique per node id (and per worker when given).

    ``worker`` is for runs where every xdist worker runs every test (``--dist each``); in the
    usual case a node id runs in one worker and the slug needs no worker part. With a worker
    the slug always carries a hash (of node id and worker), so it never equals a slug of a run
    without workers.
    """
    if worker is None:
        return safe_name(nodeid, _spelled(nodeid), decode=_node_id_of)
    return safe_name(f"{nodeid}\0{worker}", f"{_spelled(nodeid)}-{worker}", decode=_never)


class VideoFolder:
    """One test's folder of videos. Created on the first file; cleared once per run of the test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._prepared = False
        self._reserved: set[str] = set()

    def __repr__(self) -> str:
        return f"VideoFolder({str(self.path)!r})"

    def prepare(self) -> Path:
        """Create the folder, deleting files a previous run of this test left. Raises OSError,
        also when the folder's path is a symbolic link (nothing is deleted or written then)."""
        if not self._prepared:
            self._refuse_link()
            self._remove_own_files()
            self.path.mkdir(parents=True, exist_ok=True)
            self._refuse_link()  # planted between the check and mkdir (which follows links)
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
        if self.path.is_symlink() or not self.path.is_dir():
            return []
        return sorted(path for path in self.path.iterdir() if path.is_file())

    def _refuse_link(self) -> None:
        if self.path.is_symlink():
            raise OSError(
                f"{self.path} is a symbolic link; pytest-gymrec neither writes nor deletes "
                "through links (remove the link, or choose another --gymrec-output)"
            )

    def _remove_own_files(self) -> None:
        # A link at the folder's path is left alone: what it points to is not ours to clear.
        if self.path.is_symlink() or not self.path.is_dir():
            return
        # Only files this plugin writes: a user who points --gymrec-output at a folder that
        # holds their own files keeps them. unlink() removes a link itself, not its target.
        for pattern in OWN_FILE_PATTERNS:
            for path in self.path.glob(pattern):
                if path.is_symlink() or not path.is_dir():
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


def new_file(folder: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file of a new name ``<prefix><random><suffix>`` in ``folder``.

    Created exclusively (never through a link planted at the name) with the mode new files get
    here (the umask applies), unlike ``tempfile.mkstemp``'s 0600. Raises OSError.
    """
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(handle)
        return path
    raise FileExistsError(f"no free file name {prefix}...{suffix} in {folder}")
