"""Settings: one table, parsed from text (command line, ini) or values (marker, call).

Precedence, lowest to highest: default < ini < command line < ``@pytest.mark.gymrec`` < call
argument. Each resolved value remembers where it came from, so an error can name its source.
Pure: imports neither pytest nor gymnasium.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sized
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import GymrecUsageError

if TYPE_CHECKING:
    import concurrent.futures

#: Seeds when nothing says otherwise: ten episodes, env seeds 0..9.
DEFAULT_SEEDS: tuple[int, ...] = tuple(range(10))
#: Guard against episodes that never end (an env without a TimeLimit).
DEFAULT_MAX_STEPS = 100_000


#: Most episodes one test may run: its seeds, a sequential test's max_episodes, num_envs. A
#: test's episodes are all kept in memory (returns, lengths, replays of the worst), and a
#: million CartPole episodes already take hours; 10**9 would end in a MemoryError.
MAX_EPISODES = 1_000_000
#: Largest seed: 2**32 - 1. Gymnasium's own seeding takes any int >= 0, but many envs and
#: wrappers seed numpy's legacy RandomState or C libraries with it, which stop at 32 bits.
MAX_SEED = 2**32 - 1
#: Digits read from text at most: more than any seed or count allowed, and far fewer than the
#: 4300 past which int() refuses a string.
_MAX_DIGITS = 20
_DIGITS = re.compile(r"[0-9]+")


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"20"`` -> 0..19; ``"5-9"`` -> 5..9 (inclusive); ``"1,5,9"``; parts mix: ``"0-9,20"``.

    At most :data:`MAX_EPISODES` seeds, each at most :data:`MAX_SEED`.
    """
    text = text.strip()
    if not text:
        raise ValueError("the seed list is empty; give N (seeds 0..N-1), A-B or 1,5,9")
    if _DIGITS.fullmatch(text):
        count = _read_whole(text)
        if count == 0:
            raise ValueError("0 seeds: give at least 1 (N means seeds 0..N-1)")
        return tuple(range(_checked_count(count)))
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        first, dash, last = part.partition("-")
        if not (_DIGITS.fullmatch(first) and (not dash or _DIGITS.fullmatch(last))):
            raise ValueError(
                f"{part!r} is not a seed or a range; seeds are integers >= 0 written as "
                "N, A-B or 1,5,9"
            )
        start = _checked_seed(_read_whole(first))
        stop = _checked_seed(_read_whole(last)) if dash else start
        if start > stop:
            raise ValueError(f"range {part!r} is empty: write it as {stop}-{start}")
        _checked_count(len(seeds) + stop - start + 1)
        seeds.extend(range(start, stop + 1))
    return _unique(seeds)


def _read_whole(digits: str) -> int:
    """The number written in ``digits`` (ASCII), or a ValueError when it is far too large."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > _MAX_DIGITS:
        raise ValueError(
            f"{significant[:12]}... ({len(significant)} digits) is far too large: a seed is at "
            f"most {MAX_SEED} and a test runs at most {MAX_EPISODES:_} episodes"
        )
    return int(significant)


def _checked_seed(seed: int) -> int:
    return _at_most(
        seed,
        MAX_SEED,
        f"seed {{}} is larger than {MAX_SEED} (2**32 - 1), the largest seed many envs accept "
        "(they seed numpy's RandomState or C code with 32 bits)",
    )


def _checked_count(count: int) -> int:
    return _at_most(
        count,
        MAX_EPISODES,
        f"{{}} seeds is more than the {MAX_EPISODES:_} episodes a test may run; give fewer "
        "seeds (a nightly sweep of 0-9999 is already a lot)",
    )


def _at_most(value: int, limit: int, too_large: str) -> int:
    """``value``, or a ValueError saying ``too_large`` (``{}`` stands for the value)."""
    if value > limit:
        raise ValueError(too_large.format(shown(value)))
    return value


def _digits(number: int) -> int:
    """Decimal digits of ``number`` (str() refuses past 4300 of them)."""
    return (
        len(str(abs(number)))
        if number.bit_length() <= 10_000
        else int(number.bit_length() * math.log10(2)) + 1
    )


def _unique(seeds: list[int]) -> tuple[int, ...]:
    seen: set[int] = set()
    for seed in seeds:
        if seed in seen:
            raise ValueError(f"seed {seed} appears twice; every episode needs its own seed")
        seen.add(seed)
    return tuple(seeds)


def coerce_seeds(value: object) -> tuple[int, ...]:
    """Seeds from Python: an int N, a string as on the command line, or an iterable of ints."""
    if isinstance(value, str):
        return parse_seeds(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        count = int(value)  # N means 0..N-1, as on the command line
        if count < 1:
            raise ValueError(f"{count} seeds: give at least 1 (N means seeds 0..N-1)")
        return tuple(range(_checked_count(count)))
    if not isinstance(value, Iterable):
        raise ValueError(f"seeds {shown(value)} must be N, 'A-B', '1,5,9' or an iterable of ints")
    if isinstance(value, Sized):
        try:
            too_many = len(value) > MAX_EPISODES
        except OverflowError:  # len(range(2**64))
            too_many = True
        if too_many:
            raise ValueError(
                f"{shown(value)} holds more than the {MAX_EPISODES:_} seeds a test may run; "
                "give fewer seeds"
            )
    seeds: list[int] = []
    # Counted one by one as well: a generator may never end.
    for seed in value:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
            raise ValueError(
                f"seed {shown(seed)} is not an integer >= 0 (Gymnasium's reset(seed=...))"
            )
        seeds.append(_checked_seed(int(seed)))
        if len(seeds) > MAX_EPISODES:
            raise ValueError(
                f"{shown(value)} holds more than the {MAX_EPISODES:_} seeds a test may run; "
                "give fewer seeds"
            )
    if not seeds:
        raise ValueError("the seed list is empty; give at least one seed")
    return _unique(seeds)


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (an int of thousands of
    digits has no repr at all: Python refuses to convert it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"a {_digits(value)}-digit number"
    try:
        text = repr(value)
    except Exception as exc:  # a huge int inside a list, a user's object whose __repr__ fails
        size = f" of {len(value)} items" if isinstance(value, Sized) else ""
        return f"<{type(value).__name__}{size} whose repr() raised {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _level(value: object, name: str, meaning: str) -> float:
    """A probability bound in (0, 0.5] from text or a number; ``meaning`` says what it bounds."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{name} {shown(value)} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} {shown(value)} is not a number")
    try:
        level = float(value)
    except OverflowError:  # an int past 1e308
        raise ValueError(f"{name} {shown(value)} must be in (0, 0.5]: {meaning}") from None
    if not (0.0 < level <= 0.5):
        raise ValueError(f"{name} {level!r} must be in (0, 0.5]: {meaning}")
    return level


def coerce_alpha(value: object) -> float:
    return _level(value, "alpha", "it bounds the false-failure rate (typical: 0.01 or 0.05)")


def coerce_beta(value: object) -> float:
    return _level(
        value,
        "beta",
        "it bounds the rate at which a sequential test passes an agent that dropped by the "
        "tolerance (typical: 0.1 or 0.05)",
    )


def _whole(value: object, minimum: int, hint: str = "", maximum: int | None = None) -> int:
    """A whole number in [``minimum``, ``maximum``] from text or an int."""
    if isinstance(value, str):
        digits = value.strip()
        if not _DIGITS.fullmatch(digits.removeprefix("-")):
            raise ValueError(f"{shown(value)} is not a whole number")
        value = -_read_whole(digits[1:]) if digits.startswith("-") else _read_whole(digits)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"{shown(value)} must be a whole number >= {minimum}{hint}")
    if maximum is not None and int(value) > maximum:
        raise ValueError(f"{shown(value)} must be at most {maximum:_}{hint}")
    return int(value)


def coerce_positive_int(value: object) -> int:
    return _whole(value, 1)


def coerce_max_episodes(value: object) -> int:
    return _whole(
        value, 1, f" (a test runs at most {MAX_EPISODES:_} episodes)", maximum=MAX_EPISODES
    )


def coerce_max_videos(value: object) -> int:
    return _whole(value, 0, " (0 films no episode)")


def coerce_bounds(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.replace(":", ",").split(",")
    try:
        lo, hi = (float(part) for part in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"bounds {shown(value)} must be two numbers (lo, hi), e.g. (0, 500) for CartPole-v1"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"bounds {shown(value)} must be finite")
    if lo >= hi:
        raise ValueError(f"bounds {shown(value)} need lo < hi")
    return lo, hi


def _path(value: object, what: str, example: str) -> str:
    """A file or folder path (a str or os.PathLike), not empty."""
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{shown(value)} is not a path (a str or os.PathLike)")
    text = str(os.fspath(value)).strip()
    if not text:
        raise ValueError(f"the {what} is empty; give one such as {example}")
    return text


def coerce_json_path(value: object) -> str:
    return _path(value, "JSON summary's path", "gymrec.json")


def coerce_output(value: object) -> str:
    return _path(value, "output folder", "gymrec-results")


def coerce_github_summary(value: object) -> str:
    return _path(value, "GitHub job summary's path", "summary.md")


def coerce_junit_attachment_root(value: object) -> str:
    return _path(value, "attachment root", ". (the project folder)")


class VideoMode(enum.Enum):
    """When failure videos are produced (``--gymrec-video``)."""

    OFF = "off"
    ON = "on"
    RETAIN_ON_FAILURE = "retain-on-failure"


Choice = TypeVar("Choice", bound=enum.Enum)


def choice_of(kind: type[Choice], value: object, refusal: str) -> Choice:
    """The member of ``kind`` that ``value`` names (text in any case, or the member itself),
    or a ValueError with ``refusal``: "{value}" in it stands for the value as given."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    raise ValueError(refusal.format(value=shown(value)))


def _either(kind: type[enum.Enum]) -> str:
    return " or ".join(repr(choice.value) for choice in kind)


def coerce_video_mode(value: object) -> VideoMode:
    if isinstance(value, bool):  # video=False / video=True read naturally in a marker
        return VideoMode.ON if value else VideoMode.OFF
    choices = ", ".join(mode.value for mode in VideoMode)
    return choice_of(VideoMode, value, f"video mode {{value}} is not one of: {choices}")


class VectorizationMode(enum.Enum):
    """How ``num_envs`` > 1 envs run (``--gymrec-vectorization-mode``), as in ``gym.make_vec``."""

    #: One after another in the test's process: pays off only for batched policies.
    SYNC = "sync"
    #: One process per env: pays off for slow steps (~100 us and more).
    ASYNC = "async"


_MODE_CHOICES = (
    "'sync' (envs step one after another in this process) or 'async' (one process per env: "
    "pays off for slow steps, ~100 us and more)"
)


def coerce_vectorization_mode(value: object) -> VectorizationMode:
    return choice_of(VectorizationMode, value, f"{{value}} must be {_MODE_CHOICES}")


def check_vectorization_mode(mode: object, source: str) -> str:
    """``"sync"`` or ``"async"`` from a Python value, or a usage error naming the value."""
    try:
        return coerce_vectorization_mode(mode).value
    except ValueError:
        raise GymrecUsageError(
            f"{source}: vectorization_mode={mode!r} must be {_MODE_CHOICES}"
        ) from None


_NUM_ENVS_HINT = " (envs run at once; 1 runs episodes one by one)"


def coerce_num_envs(value: object) -> int:
    # More envs than the most episodes a test runs could never all be used.
    return _whole(value, 1, _NUM_ENVS_HINT, maximum=MAX_EPISODES)


def check_num_envs(num_envs: object, source: str) -> int:
    """``num_envs`` from a Python value as a positive int, or a usage error naming the value and
    where it came from (text such as ``"2"`` is refused here: it belongs to an ini line)."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, numbers.Integral):
        raise GymrecUsageError(
            f"{source}: num_envs={shown(num_envs)} must be a whole number of envs run at once, "
            "e.g. num_envs=4 (1 runs episodes one by one)"
        )
    if num_envs < 1:
        raise GymrecUsageError(
            f"{source}: num_envs={shown(num_envs)} must be at least 1 (1 runs episodes one by one)"
        )
    if int(num_envs) > MAX_EPISODES:
        raise GymrecUsageError(
            f"{source}: num_envs={shown(num_envs)} must be at most {MAX_EPISODES:_}, the most "
            "episodes a test runs"
        )
    return int(num_envs)


@dataclasses.dataclass(frozen=True)
class Parallelism:
    """How episodes run several at a time: the ``num_envs=``, ``vectorization_mode=``,
    ``batched=`` and ``executor=`` of a gymrec call, carried together from the fixture to the
    engines (see ``parallel.ParallelRun``). The defaults run one env, episode by episode.
    """

    num_envs: int = 1
    vectorization_mode: str = "sync"
    batched: bool = False
    executor: concurrent.futures.Executor | None = None
    #: Seeds sent to an executor's worker at a time; None: about four chunks per worker.
    chunk_size: int | None = None

    @property
    def one_by_one(self) -> bool:
        """Nothing runs at once: one env, the policy called one observation at a time."""
        return self.num_envs == 1 and not self.batched and self.executor is None

    def checked(self, caller: str) -> Parallelism:
        """These options as the engines can trust them, or a usage error naming the value."""
        num_envs = check_num_envs(self.num_envs, caller)
        vectorization_mode = check_vectorization_mode(self.vectorization_mode, caller)
        chunk_size = self.chunk_size
        if chunk_size is not None and (
            isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
        ):
            raise GymrecUsageError(
                f"{caller}: chunk_size={chunk_size!r} must be a positive whole number of seeds "
                "sent to a worker at a time, or None to choose it from the number of seeds"
            )
        import concurrent.futures  # only when a call runs episodes: not at pytest start-up

        if self.executor is not None and not isinstance(self.executor, concurrent.futures.Executor):
            raise GymrecUsageError(
                f"{caller}: executor={self.executor!r} must be a concurrent.futures.Executor, "
                "e.g. ProcessPoolExecutor() or a Dask client's get_executor()"
            )
        return dataclasses.replace(self, num_envs=num_envs, vectorization_mode=vectorization_mode)


#: The default: one env, episode by episode.
ONE_BY_ONE = Parallelism()


#: Default miss rate of a sequential test at the declared drop (power 90%): a missed regression
#: is tested again on the next CI run (missed k runs in a row with probability at most 0.1**k),
#: while a flake costs trust at once, hence beta above alpha; and the pass threshold 1/beta = 10
#: lets a clearly good agent stop after few episodes.
DEFAULT_BETA = 0.1
#: Default episode cap of a sequential test (an agent between its two lines may need many).
DEFAULT_MAX_EPISODES = 500


class Inconclusive(str, enum.Enum):
    """What an INCONCLUSIVE verdict does to the test."""

    #: Pass, with a ``GymrecInconclusive`` warning that says what would resolve it.
    WARN = "warn"
    #: Fail, as a regression would.
    FAIL = "fail"


def coerce_inconclusive(value: object) -> Inconclusive:
    return choice_of(Inconclusive, value, f"inconclusive {{value}} must be {_either(Inconclusive)}")


class Blind(str, enum.Enum):
    """What a check that could not have failed (too few episodes for its bounds) does."""

    #: Fail: a test that cannot fail must not pass.
    FAIL = "fail"
    #: Pass, with a ``GymrecInconclusive`` warning that says how many episodes would do.
    WARN = "warn"


def coerce_blind(value: object) -> Blind:
    return choice_of(Blind, value, f"blind {{value}} must be {_either(Blind)}")


def parse_switch(text: str) -> bool:
    """An on/off setting from text (an ini line): true/false, yes/no, on/off, 1/0."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"{shown(text)} is not true or false (also accepted: yes/no, on/off, 1/0)")


def coerce_switch(value: object) -> bool:
    if isinstance(value, str):
        return parse_switch(value)
    if not isinstance(value, bool):
        raise ValueError(f"{shown(value)} must be True or False")
    return value


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting: how to read it (from command-line or ini text, or a marker's or call's
    Python value: one converter takes both), and its default."""

    name: str
    coerce: Callable[[object], Any]
    default: Any
    help: str
    metavar: str = "VALUE"
    #: False for settings that only make sense per test (marker and call only).
    on_command_line: bool = True
    #: argparse action of the flag: "store" takes a value, "store_true" is a bare switch.
    action: str = "store"
    #: Why a marker or a call may not set it (it is session-wide), or None when they may.
    session_only: str | None = None
    #: The value names a file or folder. Written "--flag PATH" (not "--flag=PATH") with a path
    #: that exists, pytest takes it for a test path and picks the rootdir and ini file from it
    #: before any plugin is loaded; the plugin refuses that form.
    is_path: bool = False

    @property
    def flag(self) -> str:
        return "--gymrec-" + self.name.replace("_", "-")

    @property
    def ini_name(self) -> str:
        return "gymrec_" + self.name

    @property
    def dest(self) -> str:
        return "gymrec_" + self.name


SETTINGS: dict[str, Setting] = {
    setting.name: setting
    for setting in (
        Setting(
            "seeds",
            coerce_seeds,
            DEFAULT_SEEDS,
            "env seeds, one episode each: N (0..N-1), A-B, or 1,5,9 (default: 10; at most "
            f"{MAX_EPISODES:_} seeds, each at most {MAX_SEED})",
            metavar="SEEDS",
        ),
        Setting(
            "alpha",
            coerce_alpha,
            0.01,
            "bound on the false-failure (flake) rate of each verdict, in (0, 0.5] (default: 0.01)",
            metavar="ALPHA",
        ),
        Setting(
            "json",
            coerce_json_path,
            None,
            "write a JSON summary of every evaluated test (verdicts and episodes) to this file",
            metavar="PATH",
            session_only="covers the whole session: set it on the command line "
            "(--gymrec-json=PATH) or in the ini file",
            is_path=True,
        ),
        Setting(
            "bounds",
            coerce_bounds,
            None,
            "known (lo, hi) bounds of an episode's return; enables betting confidence sequences",
            on_command_line=False,
        ),
        Setting(
            "max_steps",
            coerce_positive_int,
            DEFAULT_MAX_STEPS,
            "steps after which an episode that has not ended is an error",
            on_command_line=False,
        ),
        Setting(
            "video",
            coerce_video_mode,
            VideoMode.RETAIN_ON_FAILURE,
            "failure videos: off, on (every test using gymrec), or retain-on-failure "
            "(default: retain-on-failure; passing tests render nothing)",
            metavar="MODE",
        ),
        Setting(
            "output",
            coerce_output,
            "gymrec-results",
            "folder for videos, one subfolder per test (default: gymrec-results)",
            metavar="DIR",
            is_path=True,
        ),
        Setting(
            "max_videos",
            coerce_max_videos,
            3,
            "videos kept per failing test: episodes that raised, flagged episodes, then the "
            "lowest returns (default: 3)",
            metavar="K",
        ),
        Setting(
            "max_episodes",
            coerce_max_episodes,
            DEFAULT_MAX_EPISODES,
            "most episodes a sequential gymrec.assert_return() runs before it gives up as "
            f"inconclusive (default: {DEFAULT_MAX_EPISODES})",
            metavar="N",
        ),
        Setting(
            "beta",
            coerce_beta,
            DEFAULT_BETA,
            "bound on the rate at which a sequential test passes an agent that dropped by its "
            f"tolerance, in (0, 0.5] (default: {DEFAULT_BETA})",
            metavar="BETA",
        ),
        Setting(
            "inconclusive",
            coerce_inconclusive,
            Inconclusive.WARN,
            "what an inconclusive verdict does: 'warn' (pass with a GymrecInconclusive "
            "warning) or 'fail' (default: warn)",
            metavar="fail|warn",
        ),
        Setting(
            "blind",
            coerce_blind,
            Blind.FAIL,
            "what a check that could not have failed does (too few episodes for its bounds): "
            "'fail' (a test that cannot fail must not pass) or 'warn' (default: fail)",
            metavar="fail|warn",
        ),
        Setting(
            "num_envs",
            coerce_num_envs,
            1,
            "envs run at once by gymrec.evaluate() and gymrec.assert_return(), with returns "
            "identical per seed to one env; pays off for steps of ~100 us and more (default: 1)",
            metavar="N",
        ),
        Setting(
            "vectorization_mode",
            coerce_vectorization_mode,
            VectorizationMode.SYNC,
            "how num_envs > 1 envs run: 'sync' (one after another in the test's process) or "
            "'async' (one process per env) (default: sync)",
            metavar="sync|async",
        ),
        Setting(
            "update_baselines",
            coerce_switch,
            False,
            "rewrite the stored baselines of assert_no_regression() from this run instead of "
            "comparing against them",
            action="store_true",
            session_only="belongs on the command line (--gymrec-update-baselines) or in the ini "
            "file: in a committed marker it would rewrite the baseline on every run, and the "
            "test could never fail",
        ),
        Setting(
            "github_summary",
            coerce_github_summary,
            None,
            "append a Markdown table of the session's verdicts to this file (default: the file "
            "named by $GITHUB_STEP_SUMMARY when GitHub Actions sets it)",
            metavar="PATH",
            session_only="covers the whole session: set it on the command line "
            "(--gymrec-github-summary=PATH) or in the ini file",
            is_path=True,
        ),
        Setting(
            "junit_attachment_root",
            coerce_junit_attachment_root,
            None,
            "write the [[ATTACHMENT|path]] lines of JUnit XML relative to this folder for files "
            "inside it (GitLab resolves them against the project folder; default: absolute)",
            metavar="DIR",
            session_only="covers the whole session: set it on the command line "
            "(--gymrec-junit-attachment-root=DIR) or in the ini file",
            is_path=True,
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Resolved settings of one test, typed, each with its source (for error messages)."""

    seeds: tuple[int, ...]
    alpha: float
    json: str | None
    bounds: tuple[float, float] | None
    max_steps: int
    video: VideoMode
    output: str
    max_videos: int
    max_episodes: int
    beta: float
    inconclusive: Inconclusive
    blind: Blind
    update_baselines: bool
    num_envs: int
    vectorization_mode: VectorizationMode
    github_summary: str | None
    junit_attachment_root: str | None
    #: Where each value came from: "the default", "--gymrec-alpha", "ini option ...", ...
    sources: Mapping[str, str] = dataclasses.field(repr=False, compare=False)

    def source(self, name: str) -> str:
        return self.sources[name]

    def replaced(self, values: Mapping[str, Any], sources: Mapping[str, str]) -> Settings:
        """These settings with ``values`` (already converted) from ``sources``."""
        return dataclasses.replace(self, **values, sources={**self.sources, **sources})

    def layered(self, source: str, raw: Mapping[str, object]) -> Settings:
        """These settings overridden by Python values from ``source`` (a marker, a call)."""
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in SETTINGS:
                known = ", ".join(sorted(SETTINGS))
                raise GymrecUsageError(
                    f"{source}: unknown argument {name!r}; known arguments: {known}"
                )
            if value is None:
                continue
            refusal = SETTINGS[name].session_only
            if refusal is not None:
                raise GymrecUsageError(f"{source}: {name}={shown(value)} {refusal}")
            values[name] = validate(name, value, source)
        return self.replaced(values, dict.fromkeys(values, source))


def validate(name: str, value: object, source: str) -> Any:
    """A Python value for setting ``name`` from ``source``, or a usage error naming both."""
    try:
        return SETTINGS[name].coerce(value)
    except ValueError as exc:
        raise GymrecUsageError(f"{source}: {name}={shown(value)}: {exc}") from None


def marker_signature() -> str:
    """``gymrec(*, seeds=None, ...)``: the keys a marker may set, for ``pytest --markers``."""
    keys = ", ".join(
        f"{name}=None" for name, setting in SETTINGS.items() if setting.session_only is None
    )
    return f"gymrec(*, {keys})"


def defaults() -> Settings:
    return Settings(
        **{name: setting.default for name, setting in SETTINGS.items()},
        sources=dict.fromkeys(SETTINGS, "the default"),
    )


def from_text(
    base: Settings, source_of: Callable[[Setting], str], raw: Mapping[str, str]
) -> Settings:
    """``base`` overridden by text values (ini lines); ``source_of`` names where each came from."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, text in raw.items():
        setting = SETTINGS[name]
        try:
            values[name] = setting.coerce(text)
        except ValueError as exc:
            raise GymrecUsageError(f"{source_of(setting)} = {shown(text)}: {exc}") from None
        sources[name] = source_of(setting)
    return base.replaced(values, sources)


def from_parsed(base: Settings, parsed: Mapping[str, Any], source: str) -> Settings:
    """``base`` overridden by values already parsed (command-line options that were given)."""
    return base.replaced(parsed, {name: source.format(flag=SETTINGS[name].flag) for name in parsed})
