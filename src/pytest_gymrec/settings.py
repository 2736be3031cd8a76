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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import GymrecUsageError

#: Seeds when nothing says otherwise: ten episodes, env seeds 0..9.
DEFAULT_SEEDS: tuple[int, ...] = tuple(range(10))
#: Guard against episodes that never end (an env without a TimeLimit).
DEFAULT_MAX_STEPS = 100_000


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"20"`` -> 0..19; ``"5-9"`` -> 5..9 (inclusive); ``"1,5,9"``; parts mix: ``"0-9,20"``."""
    text = text.strip()
    if not text:
        raise ValueError("the seed list is empty; give N (seeds 0..N-1), A-B or 1,5,9")
    if text.isdigit():
        count = int(text)
        if count == 0:
            raise ValueError("0 seeds: give at least 1 (N means seeds 0..N-1)")
        return tuple(range(count))
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        first, dash, last = part.partition("-")
        if not (first.isdigit() and (not dash or last.isdigit())):
            raise ValueError(
                f"{part!r} is not a seed or a range; seeds are integers >= 0 written as "
                "N, A-B or 1,5,9"
            )
        if dash:
            start, stop = int(first), int(last)
            if start > stop:
                raise ValueError(f"range {part!r} is empty: write it as {stop}-{start}")
            seeds.extend(range(start, stop + 1))
        else:
            seeds.append(int(first))
    return _unique(seeds)


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
        return parse_seeds(str(int(value)))  # N means 0..N-1, as on the command line
    if not isinstance(value, Iterable):
        raise ValueError(f"seeds {value!r} must be N, 'A-B', '1,5,9' or an iterable of ints")
    seeds: list[int] = []
    for seed in value:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
            raise ValueError(f"seed {seed!r} is not an integer >= 0 (Gymnasium's reset(seed=...))")
        seeds.append(int(seed))
    if not seeds:
        raise ValueError("the seed list is empty; give at least one seed")
    return _unique(seeds)


def _level(value: object, name: str, meaning: str) -> float:
    """A probability bound in (0, 0.5] from text or a number; ``meaning`` says what it bounds."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{name} {value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} {value!r} is not a number")
    level = float(value)
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


def _whole(value: object, minimum: int, hint: str = "") -> int:
    """A whole number >= ``minimum`` from text or an int."""
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"{value!r} must be a whole number >= {minimum}{hint}")
    return int(value)


def coerce_positive_int(value: object) -> int:
    return _whole(value, 1)


def coerce_max_videos(value: object) -> int:
    return _whole(value, 0, " (0 films no episode)")


def coerce_bounds(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.replace(":", ",").split(",")
    try:
        lo, hi = (float(part) for part in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds {value!r} must be two numbers (lo, hi), e.g. (0, 500) for CartPole-v1"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"bounds {value!r} must be finite")
    if lo >= hi:
        raise ValueError(f"bounds {value!r} need lo < hi")
    return lo, hi


def _path(value: object, what: str, example: str) -> str:
    """A file or folder path (a str or os.PathLike), not empty."""
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{value!r} is not a path (a str or os.PathLike)")
    text = str(os.fspath(value)).strip()
    if not text:
        raise ValueError(f"the {what} is empty; give one such as {example}")
    return text


def coerce_json_path(value: object) -> str:
    return _path(value, "JSON summary's path", "gymrec.json")


def coerce_output(value: object) -> str:
    return _path(value, "output folder", "gymrec-results")


class VideoMode(enum.Enum):
    """When failure videos are produced (``--gymrec-video``)."""

    OFF = "off"
    ON = "on"
    RETAIN_ON_FAILURE = "retain-on-failure"


def coerce_video_mode(value: object) -> VideoMode:
    if isinstance(value, VideoMode):
        return value
    if isinstance(value, bool):  # video=False / video=True read naturally in a marker
        return VideoMode.ON if value else VideoMode.OFF
    if isinstance(value, str):
        try:
            return VideoMode(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(mode.value for mode in VideoMode)
    raise ValueError(f"video mode {value!r} is not one of: {choices}")


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
    if isinstance(value, VectorizationMode):
        return value
    if isinstance(value, str):
        try:
            return VectorizationMode(value.strip().lower())
        except ValueError:
            pass
    raise ValueError(f"{value!r} must be {_MODE_CHOICES}")


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
    return _whole(value, 1, _NUM_ENVS_HINT)


def check_num_envs(num_envs: object, source: str) -> int:
    """``num_envs`` from a Python value as a positive int, or a usage error naming the value and
    where it came from (text such as ``"2"`` is refused here: it belongs to an ini line)."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, numbers.Integral):
        raise GymrecUsageError(
            f"{source}: num_envs={num_envs!r} must be a whole number of envs run at once, "
            "e.g. num_envs=4 (1 runs episodes one by one)"
        )
    if num_envs < 1:
        raise GymrecUsageError(
            f"{source}: num_envs={num_envs!r} must be at least 1 (1 runs episodes one by one)"
        )
    return int(num_envs)


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
    if isinstance(value, Inconclusive):
        return value
    try:
        return Inconclusive(str(value).strip().lower())
    except ValueError:
        choices = " or ".join(repr(choice.value) for choice in Inconclusive)
        raise ValueError(f"inconclusive {value!r} must be {choices}") from None


class Blind(str, enum.Enum):
    """What a check that could not have failed (too few episodes for its bounds) does."""

    #: Fail: a test that cannot fail must not pass.
    FAIL = "fail"
    #: Pass, with a ``GymrecInconclusive`` warning that says how many episodes would do.
    WARN = "warn"


def coerce_blind(value: object) -> Blind:
    if isinstance(value, Blind):
        return value
    try:
        return Blind(str(value).strip().lower())
    except ValueError:
        choices = " or ".join(repr(choice.value) for choice in Blind)
        raise ValueError(f"blind {value!r} must be {choices}") from None


def parse_switch(text: str) -> bool:
    """An on/off setting from text (an ini line): true/false, yes/no, on/off, 1/0."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"{text!r} is not true or false (also accepted: yes/no, on/off, 1/0)")


def coerce_switch(value: object) -> bool:
    if isinstance(value, str):
        return parse_switch(value)
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} must be True or False")
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
            "env seeds, one episode each: N (0..N-1), A-B, or 1,5,9 (default: 10)",
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
            "(--gymrec-json PATH) or in the ini file",
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
            coerce_positive_int,
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
                raise GymrecUsageError(f"{source}: {name}={value!r} {refusal}")
            values[name] = validate(name, value, source)
        return self.replaced(values, dict.fromkeys(values, source))


def validate(name: str, value: object, source: str) -> Any:
    """A Python value for setting ``name`` from ``source``, or a usage error naming both."""
    try:
        return SETTINGS[name].coerce(value)
    except ValueError as exc:
        raise GymrecUsageError(f"{source}: {name}={value!r}: {exc}") from None


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
            raise GymrecUsageError(f"{source_of(setting)} = {text!r}: {exc}") from None
        sources[name] = source_of(setting)
    return base.replaced(values, sources)


def from_parsed(base: Settings, parsed: Mapping[str, Any], source: str) -> Settings:
    """``base`` overridden by values already parsed (command-line options that were given)."""
    return base.replaced(parsed, {name: source.format(flag=SETTINGS[name].flag) for name in parsed})
