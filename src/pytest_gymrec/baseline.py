"""Baseline files: where they live, what they hold, and how they are read and written.

A baseline is the per-seed record of a known-good run that ``assert_no_regression`` pairs a new
run with. One JSON file per test (per parametrization, per ``name=``), beside the tests:
``<test dir>/gymrec_baselines/<module>/<test>[<param id>][-<name>].json``, so pytest-xdist
workers never write the same file and a code review shows exactly which seeds changed.

The format is JSON with sorted keys and one episode per line (a changed seed is a one-line diff).
Writes go to a temporary file in the same folder and are renamed over the old file, so a reader
never sees half a file. A file that does not parse, or that a newer pytest-gymrec wrote, is an
error naming the file, and the file is left as it was.

Standard library only at import: the comparison (numpy) loads when a test compares.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import errno
import glob
import json
import math
import os
import re
import signal
import stat
import threading
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifacts import safe_name
from .errors import GymrecBaselineCreated, GymrecBaselineError, GymrecFailure
from .formatting import format_seeds

if TYPE_CHECKING:
    from .record import TestRecord
    from .results import EvalResult
    from .verdict import Verdict

#: Version of the file layout. Raise it when a change would make an older reader misread a file.
SCHEMA_VERSION = 1
#: Folder beside the test modules that holds the baselines.
FOLDER = "gymrec_baselines"
#: The flag that rewrites baselines (named in every message that it fixes).
UPDATE_FLAG = "--gymrec-update-baselines"
#: Longest file name (without ".json"); longer ones are cut and made unique by a hash.
LONGEST_NAME = 120

#: Deepest nesting of lists and objects a baseline file may have (a real one has about 5).
MAX_DEPTH = 64


@dataclasses.dataclass(frozen=True)
class BaselineEpisode:
    seed: int
    return_: float
    length: int


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The contents of one baseline file."""

    #: The env's label (its id when it has one).
    env: str
    #: ``id``, ``version``, ``max_episode_steps``, ``kwargs``, ``additional_wrappers`` of the
    #: env's ``EnvSpec`` as plain data; None when the env had no spec (built by a factory).
    env_spec: Mapping[str, Any] | None
    episodes: tuple[BaselineEpisode, ...]
    bounds: tuple[float, float] | None = None
    #: Versions of gymnasium and pytest-gymrec that recorded it (for messages only).
    versions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Node id of the test that wrote it (for people reading the file).
    test: str = ""

    @property
    def seeds(self) -> list[int]:
        return [episode.seed for episode in self.episodes]


def installed_versions() -> dict[str, str]:
    """Versions of the packages whose change can change returns, for the baseline file."""
    versions = {}
    for package in ("gymnasium", "pytest-gymrec"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


# --------------------------------------------------------------------------------------------
# Where a test's baseline lives


def _baseline_key(stem_spelling: str) -> str | None:
    """The key a file name kept as it is stands for: ``Class.test[params]-name`` read back."""
    match = re.fullmatch(r"([^\[\]-]+)(?:\[([^\[\]]*)\])?(?:-(.*))?", stem_spelling, re.DOTALL)
    if match is None:
        return None
    test, parameters, name = match.groups()
    key = "::".join(test.split("."))
    if parameters is not None:
        key += f"[{parameters}]"
    return key if name is None else f"{key}\0{name}"


def baseline_path(test_path: Path, nodeid: str, name: str | None = None) -> Path:
    """``<test dir>/gymrec_baselines/<module>/<Class.test>[<param id>][-<name>].json``.

    ``nodeid`` is pytest's node id (``tests/test_x.py::TestC::test_y[ppo-0.5]``); only the part
    after the file is used, so the location does not depend on where pytest was started. The
    names come from :func:`artifacts.safe_name`, as the video folders' do: two ids (or names)
    that differ in any character never share a file; when the readable name could stand for
    another id, it carries a hash of the exact one.
    """
    _, separator, after_file = nodeid.partition("::")
    qualified, bracket, parameters = after_file.partition("[")
    test_name = ".".join(part for part in qualified.split("::") if part) or test_path.stem
    spelling = test_name
    if bracket:
        spelling += f"[{parameters.removesuffix(']')}]"
    if name is not None:
        spelling += f"-{name}"
    key = after_file if separator else test_path.stem
    if name is not None:
        key += f"\0{name}"
    stem = safe_name(key, spelling, decode=_baseline_key, keep="[]", limit=LONGEST_NAME)
    module = safe_name(test_path.stem, limit=LONGEST_NAME)
    return test_path.parent / FOLDER / module / f"{stem}.json"


def check_name(name: object, source: str) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise GymrecBaselineError(
            f"{source}: name={name!r} must be a non-empty string; it tells apart the baselines "
            "of several assert_no_regression() calls in one test"
        )
    return name


# --------------------------------------------------------------------------------------------
# Text form


def _indented(value: Any) -> str:
    """A JSON value for a top-level key: nested lines indented under the key.

    Lists of plain values (the bounds) stay on one line.
    """
    if isinstance(value, list) and not any(isinstance(item, (list, dict)) for item in value):
        return json.dumps(value, allow_nan=False)
    return json.dumps(value, sort_keys=True, indent=2, allow_nan=False).replace("\n", "\n  ")


def to_text(baseline: Baseline) -> str:
    """Readable JSON: sorted keys, one episode per line, sorted by seed."""
    header: dict[str, Any] = {
        "bounds": list(baseline.bounds) if baseline.bounds is not None else None,
        "env": baseline.env,
        "env_spec": baseline.env_spec,
        "schema": SCHEMA_VERSION,
        "test": baseline.test,
        "versions": dict(baseline.versions),
    }
    episodes = sorted(baseline.episodes, key=lambda episode: episode.seed)
    episode_lines = ",\n".join(
        "    "
        + json.dumps(
            {"length": episode.length, "return": episode.return_, "seed": episode.seed},
            sort_keys=True,
            allow_nan=False,
        )
        for episode in episodes
    )
    entries = {key: _indented(value) for key, value in header.items()}
    entries["episodes"] = f"[\n{episode_lines}\n  ]" if episodes else "[]"
    body = ",\n".join(f"  {json.dumps(key)}: {entries[key]}" for key in sorted(entries))
    return "{\n" + body + "\n}\n"


def _depth(value: object) -> int:
    """How deeply lists and objects nest in ``value`` (without recursion: a crafted file may
    nest as deep as the parser allows, and writing it back would recurse past the limit)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


class _Problem(Exception):
    """Why a file's contents are not a baseline (turned into a GymrecBaselineError)."""


def from_text(text: str) -> Baseline:
    """Parse a baseline; raises ``_Problem`` saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        conflict = any(line.startswith(("<<<<<<<", ">>>>>>>")) for line in text.splitlines())
        hint = " (it holds unresolved merge-conflict markers)" if conflict else ""
        raise _Problem(
            f"is not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise _Problem(f"nests lists or objects more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # an integer of more digits than int() converts (sys limit)
        raise _Problem(f"holds a number that cannot be read: {exc}") from None
    if _depth(data) > MAX_DEPTH:
        raise _Problem(f"nests lists or objects more than {MAX_DEPTH} levels deep")
    if not isinstance(data, dict):
        raise _Problem(f"holds a JSON {type(data).__name__}, not an object")
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise _Problem(f'has no integer "schema" version (found {schema!r})')
    if schema > SCHEMA_VERSION:
        raise _Problem(
            f"was written by a newer pytest-gymrec (schema {schema}; this version reads schema "
            f"{SCHEMA_VERSION} and older); upgrade pytest-gymrec"
        )
    if schema < 1:
        raise _Problem(f"has schema {schema}, which no pytest-gymrec writes")
    return Baseline(
        env=_field(data, "env", str),
        env_spec=_spec(data.get("env_spec")),
        episodes=_episodes(data.get("episodes")),
        bounds=_bounds(data.get("bounds")),
        versions=_versions(data.get("versions", {})),
        test=_field(data, "test", str, default=""),
    )


def _field(data: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind):
        raise _Problem(f'has "{key}": {value!r}, which is not a {kind.__name__}')
    return value


def _spec(value: object) -> Mapping[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise _Problem(f'has "env_spec": {value!r}, which is neither an object nor null')
    return value


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bounds(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(_number(part) for part in value)
        and value[0] < value[1]
    ):
        return float(value[0]), float(value[1])
    raise _Problem(f'has "bounds": {value!r}; it must be null or [lo, hi] with lo < hi')


def _versions(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Problem(f'has "versions": {value!r}, which is not an object of strings')
    return dict(value)


def _episodes(value: object) -> tuple[BaselineEpisode, ...]:
    if not isinstance(value, list):
        raise _Problem(f'has "episodes": {value!r}, which is not a list')
    episodes: list[BaselineEpisode] = []
    seen: set[int] = set()
    for position, entry in enumerate(value, start=1):
        where = f"episode {position} of {len(value)}"
        if not isinstance(entry, dict):
            raise _Problem(f"has {where} = {entry!r}, which is not an object")
        seed, return_, length = entry.get("seed"), entry.get("return"), entry.get("length")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise _Problem(f"has {where} with seed {seed!r}; seeds are integers >= 0")
        if seed in seen:
            raise _Problem(f"has seed {seed} twice; each seed may appear once")
        seen.add(seed)
        if not _number(return_):
            raise _Problem(f"has seed {seed} with return {return_!r}, not a finite number")
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise _Problem(f"has seed {seed} with length {length!r}, not an integer >= 0")
        assert isinstance(return_, (int, float))
        episodes.append(BaselineEpisode(seed=seed, return_=float(return_), length=length))
    return tuple(episodes)


# --------------------------------------------------------------------------------------------
# Files


def _unreadable(path: Path, problem: str) -> GymrecBaselineError:
    return GymrecBaselineError(
        f"gymrec: baseline {path} {problem}. The file was left untouched: fix it by hand (or "
        f"restore it from version control), or rewrite it from this run with {UPDATE_FLAG}"
    )


def load(path: Path) -> Baseline | None:
    """The baseline stored at ``path``; None when there is none yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unreadable(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unreadable(path, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        return from_text(text)
    except _Problem as problem:
        raise _unreadable(path, str(problem)) from None


def _unwritable(path: Path, reason: str) -> GymrecBaselineError:
    return GymrecBaselineError(
        f"gymrec: cannot write baseline {path}: {reason}. The old file (if any) was left as it "
        f"was and no temporary file remains; fix the cause and rerun with {UPDATE_FLAG}"
    )


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _temporary_name(path: Path, pid: int) -> Path:
    """The temporary file beside a baseline being written. Visible and owned: one left behind
    (the process was killed hard) says whose it is, and the next write removes it once that
    process is gone."""
    return path.with_name(f"{path.name}.gymrec-{pid}.tmp")


class _Terminated(BaseException):
    """SIGTERM arrived while a temporary file existed (raised by our handler, caught below)."""


@contextlib.contextmanager
def _sigterm_cleans_up() -> Iterator[None]:
    """While the body runs, SIGTERM unwinds it (so ``finally`` removes the temporary file)
    and is then delivered again, ending the process as it would have.

    Only where SIGTERM would kill the process outright (Python's default); a handler somebody
    installed is left in charge. Signals can only be handled in the main thread.
    """
    if (
        not hasattr(signal, "SIGTERM")
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    terminated = False
    try:
        yield
    except _Terminated:
        terminated = True
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if terminated:
        signal.raise_signal(signal.SIGTERM)
        raise SystemExit(128 + signal.SIGTERM)  # not reached: the default action ends us


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files of ``path`` that processes which no longer run left behind."""
    for stale in path.parent.glob(glob.escape(path.name) + ".gymrec-*.tmp"):
        pid_text = stale.name[len(path.name) + len(".gymrec-") : -len(".tmp")]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                stale.unlink()
        except (OSError, OverflowError):  # alive (another user's) or not a pid: leave it
            pass


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    The temporary file lives in the same folder, so the final ``os.replace`` is a rename within
    one file system (atomic on POSIX and Windows). A rewritten file keeps its mode; a new one
    gets the umask's. Any failure (a full disk, a directory at ``path``, no permission) is a
    :class:`GymrecBaselineError` naming the file; the old file is untouched and the temporary
    file removed, also when SIGTERM arrives mid-write.
    """
    data = text.encode("utf-8")
    temporary = _temporary_name(path, os.getpid())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        try:
            mode: int | None = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = None
        _remove_stale_temporaries(path)
        with _sigterm_cleans_up():
            try:
                # O_EXCL: never write through a link planted at the temporary name.
                temporary.unlink(missing_ok=True)
                handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                try:
                    if mode is not None and hasattr(os, "fchmod"):
                        os.fchmod(handle, mode)
                    _write_all(handle, data)
                    os.fsync(handle)
                finally:
                    os.close(handle)
                os.replace(temporary, path)
            finally:
                with contextlib.suppress(OSError):
                    temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise _unwritable(path, _reason(exc)) from None


class Saved(str, enum.Enum):
    """What :func:`save` did to a baseline file (its value is carried, as plain text, to the
    end-of-session summary)."""

    CREATED = "created"
    REWRITTEN = "rewritten"
    UNCHANGED = "unchanged"


def save(path: Path, baseline: Baseline) -> Saved:
    """Store ``baseline`` at ``path``; says whether it created, rewrote or left the file.

    An identical file is not rewritten, so an update run leaves no spurious changes behind.
    Raises :class:`GymrecBaselineError` naming the file when it cannot be written.
    """
    try:
        text = to_text(baseline)
    except (ValueError, RecursionError) as exc:  # an int too long for str(), a crafted spec
        raise _unwritable(path, f"its data cannot be written as JSON ({exc})") from None
    try:
        old: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    except IsADirectoryError:
        raise _unwritable(path, "it is a directory") from None
    except (OSError, UnicodeDecodeError):
        old = ""  # unreadable: the user asked for a rewrite, so replace it
    if old == text:
        return Saved.UNCHANGED
    write_atomic(path, text)
    return Saved.CREATED if old is None else Saved.REWRITTEN


# --------------------------------------------------------------------------------------------
# Messages


def created_message(path: Path, baseline: Baseline, update_command: str) -> str:
    seeds = baseline.seeds
    return (
        f"gymrec: no baseline yet for {baseline.env}: created {path} from this run "
        f"({len(seeds)} seeds); review and commit it, then rerun to compare against it.\n"
        f"(A failure, so a missing file is never silently accepted in CI; "
        f"`{update_command}` writes baselines without failing.)"
    )


# --------------------------------------------------------------------------------------------
# The env must be the same for seeds to pair


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):  # an empty mapping adds nothing: {} == absent
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def env_changes(stored: Baseline, label: str, spec: Mapping[str, Any] | None) -> list[str]:
    """What differs between the baseline's env and this run's (empty when they pair)."""
    return env_changes_between(stored.env_spec, stored.env, spec, label)


def env_changes_between(
    old_spec: Mapping[str, Any] | None,
    old_label: str,
    new_spec: Mapping[str, Any] | None,
    new_label: str,
) -> list[str]:
    """What differs between two runs' envs: their specs when both have one, else their labels."""
    if old_spec is not None and new_spec is not None:
        old = _flatten(_json_normalised(old_spec))
        now = _flatten(_json_normalised(new_spec))
        return [
            f"{key}: {_shown(old, key)} -> {_shown(now, key)}"
            for key in sorted(old.keys() | now.keys())
            if key not in old or key not in now or old[key] != now[key]
        ]
    if old_label != new_label:
        return [f"env: {old_label!r} -> {new_label!r}"]
    return []


def _json_normalised(data: Mapping[str, Any]) -> dict[str, Any]:
    """Tuples become lists, keys strings: a spec compares equal to its stored JSON form."""
    normalised: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    return normalised


def _shown(flat: Mapping[str, Any], key: str) -> str:
    return repr(flat[key]) if key in flat else "(absent)"


def env_changed_message(
    label: str, path: Path, changes: list[str], update_command: str | None
) -> str:
    listed = "\n".join(f"  {change}" for change in changes)
    rerun = update_command or f"rerun with {UPDATE_FLAG}"
    return (
        f"gymrec: {label}: the env differs from the one baseline {path} was recorded on, so "
        f"seeds no longer mean the same episodes and pairing is invalid:\n{listed}\n"
        f"if the change is intended, rewrite the baseline: {rerun}"
    )


# --------------------------------------------------------------------------------------------
# End-of-session summary lines (the plugin collects the entries)


def summary_lines(entries: Sequence[Mapping[str, str]], root: Path) -> list[str]:
    """Lines listing the baseline files this session created or rewrote."""

    def shown(path: str) -> str:
        try:
            return str(Path(path).relative_to(root))
        except ValueError:
            return path

    lines = []
    for action, heading in (
        (Saved.CREATED, "created (review and commit)"),
        (Saved.REWRITTEN, f"rewritten ({UPDATE_FLAG})"),
    ):
        paths = sorted({shown(entry["path"]) for entry in entries if entry["action"] == action})
        if paths:
            lines.append(f"{heading}: {len(paths)} file{'s' * (len(paths) != 1)}")
            lines.extend(f"  {path}" for path in paths)
    unchanged = {entry["path"] for entry in entries if entry["action"] == Saved.UNCHANGED}
    if unchanged:
        count = len(unchanged)
        lines.append(f"unchanged: {count} file{'s' * (count != 1)} (identical data)")
    return lines


# --------------------------------------------------------------------------------------------
# The workflow of assert_no_regression: create, update, or compare


def check_against_file(
    result: EvalResult,
    *,
    path: Path,
    record: TestRecord,
    update: bool,
    created_this_session: set[Path],
    tolerance: object,
    alpha: object,
    bounds: object,
) -> Verdict | None:
    """Write, rewrite or compare against the baseline at ``path`` (see Gymrec's method).

    A file created earlier in this session (by a first attempt that pytest-rerunfailures
    retries) still fails: nobody has reviewed it yet.
    """
    __tracebackhide__ = True
    from .checks import core, paired

    caller = "gymrec.assert_no_regression()"
    comparison = result.comparison_settings(caller, tolerance, alpha, bounds)
    label = result.label()
    new = paired.by_seed(result.episodes, label, caller)
    seeds = sorted(new)
    core.checked_values(
        [new[s].return_ for s in seeds],
        seeds,
        comparison.bounds,
        comparison.bounds_source,
        "return",
        f"{caller}: this run",
    )
    reproduce = result.context.reproduce
    update_command = (
        f"{reproduce} {UPDATE_FLAG}" if reproduce and UPDATE_FLAG not in reproduce else reproduce
    )
    current = Baseline(
        env=label,
        env_spec=result.env_spec,
        episodes=tuple(BaselineEpisode(s, new[s].return_, new[s].length) for s in seeds),
        bounds=comparison.bounds,
        versions=installed_versions(),
        test=record.nodeid,
    )
    if update:
        record.note_baseline(str(path), save(path, current).value)
        return None
    stored = load(path) if path not in created_this_session else None
    if stored is None:
        if path not in created_this_session:
            record.note_baseline(str(path), save(path, current).value)
            created_this_session.add(path)
        raise GymrecBaselineCreated(created_message(path, current, update_command or UPDATE_FLAG))
    changes = env_changes(stored, label, result.env_spec)
    if changes:
        raise GymrecFailure(env_changed_message(label, path, changes, update_command))
    bounds_used, bounds_source = comparison.bounds, comparison.bounds_source
    if bounds_used is None and stored.bounds is not None:
        bounds_used, bounds_source = stored.bounds, f"baseline {path}"
    recorded_with = stored.versions.get("gymnasium")
    now_with = current.versions.get("gymnasium")
    notes = (
        (
            f"note: the baseline was recorded with gymnasium {recorded_with}, this run uses "
            f"{now_with}; env dynamics can change between releases",
        )
        if recorded_with and now_with and recorded_with != now_with
        else ()
    )
    rerun = update_command or f"rerun with {UPDATE_FLAG}"
    stored_seeds = stored.seeds
    return paired.compare(
        new,
        {episode.seed: (episode.return_, episode.length) for episode in stored.episodes},
        tolerance=comparison.tolerance,
        alpha=comparison.alpha,
        bounds=bounds_used,
        bounds_source=bounds_source,
        origin=paired.Origin(
            label=label,
            baseline=str(path),
            reproduce=reproduce,
            update_command=update_command,
            record_hint=f"record them with {UPDATE_FLAG}",
            notes=notes,
        ),
        context=result.context,
        caller=caller,
        no_shared_seeds=(
            f"gymrec: {label}: no seed in common with baseline {path}: it holds seeds "
            f"{format_seeds(stored_seeds)}, this run has {format_seeds(seeds)}; run the "
            f"baseline's seeds (--gymrec-seeds={format_seeds(stored_seeds)}), or record these "
            f"seeds as the baseline: {rerun}"
        ),
    )
