"""Settings parse and validate without pytest: seeds, alpha, bounds, precedence, sources."""

from __future__ import annotations

import re

import pytest

from helpers.parsed_settings import flag_help, resolved
from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecUsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", (0, 1, 2)),
        ("5-8", (5, 6, 7, 8)),
        ("1,5,9", (1, 5, 9)),
        ("0-2, 10", (0, 1, 2, 10)),
        (" 7-7 ", (7,)),
    ],
)
def test_seed_syntax(text: str, expected: tuple[int, ...]) -> None:
    assert settings.parse_seeds(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("0", "0 seeds"),
        ("9-3", "write it as 3-9"),
        ("1,x", "'x' is not a seed"),
        ("-3", "'-3' is not a seed"),
        ("1,2,1", "seed 1 appears twice"),
        ("1.5", "'1.5' is not a seed"),
    ],
)
def test_bad_seed_text_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        settings.parse_seeds(text)


def test_seeds_from_python_values() -> None:
    assert settings.coerce_seeds(range(3, 6)) == (3, 4, 5)
    assert settings.coerce_seeds(4) == (0, 1, 2, 3)
    assert settings.coerce_seeds([9, 2]) == (9, 2)  # order is kept: it is the run order
    assert settings.coerce_seeds("2-3") == (2, 3)
    import numpy as np

    assert settings.coerce_seeds(np.arange(2)) == (0, 1)


@pytest.mark.parametrize("value", [[], [True], [1.5], [-1], object(), range(0)])
def test_bad_seed_values_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        settings.coerce_seeds(value)


@pytest.mark.parametrize("text", ["0", "0.6", "-0.1", "1", "nan", "abc"])
def test_alpha_must_be_a_probability_up_to_one_half(text: str) -> None:
    with pytest.raises(ValueError, match="alpha"):
        settings.coerce_alpha(text)


def test_alpha_accepts_usual_levels() -> None:
    assert settings.coerce_alpha("0.05") == 0.05
    assert settings.coerce_alpha(0.5) == 0.5
    with pytest.raises(ValueError, match="not a number"):
        settings.coerce_alpha(True)


def test_bounds() -> None:
    assert settings.coerce_bounds((0, 500)) == (0.0, 500.0)
    assert settings.coerce_bounds("-1,1") == (-1.0, 1.0)
    assert settings.coerce_bounds(None) is None
    with pytest.raises(ValueError, match="lo < hi"):
        settings.coerce_bounds((5, 5))
    with pytest.raises(ValueError, match="finite"):
        settings.coerce_bounds((0, float("inf")))
    with pytest.raises(ValueError, match="two numbers"):
        settings.coerce_bounds((1, 2, 3))


def test_positive_int() -> None:
    assert settings.coerce_positive_int("12") == 12
    for bad in ("0", "-4"):
        with pytest.raises(ValueError, match="must be a whole number >= 1"):
            settings.coerce_positive_int(bad)
    with pytest.raises(ValueError, match="'x' is not a whole number"):
        settings.coerce_positive_int("x")
    with pytest.raises(ValueError, match="must be a whole number >= 1"):
        settings.coerce_positive_int(2.5)


def test_precedence_and_sources() -> None:
    base = settings.defaults()
    assert base.seeds == settings.DEFAULT_SEEDS
    assert base.source("seeds") == "the default"
    ini = settings.from_text(base, lambda s: f"ini {s.ini_name}", {"seeds": "4", "alpha": "0.05"})
    cli = settings.from_parsed(ini, {"seeds": (7, 8)}, "{flag}")
    marker = cli.layered("@pytest.mark.gymrec on t", {"alpha": 0.2, "seeds": None})
    assert (marker.seeds, marker.alpha) == ((7, 8), 0.2)
    assert marker.source("seeds") == "--gymrec-seeds"
    assert marker.source("alpha") == "@pytest.mark.gymrec on t"
    assert ini.source("alpha") == "ini gymrec_alpha"
    call = marker.layered("gymrec.evaluate()", {"seeds": 2})
    assert call.seeds == (0, 1)
    assert marker.seeds == (7, 8)  # layers do not change what they were built on


def test_errors_name_the_source() -> None:
    base = settings.defaults()
    with pytest.raises(GymrecUsageError, match=r"ini option gymrec_alpha in x\.ini = '2'"):
        settings.from_text(base, lambda s: f"ini option {s.ini_name} in x.ini", {"alpha": "2"})
    with pytest.raises(GymrecUsageError, match=r"marker on t: unknown argument 'seed'; known"):
        base.layered("marker on t", {"seed": 3})
    with pytest.raises(GymrecUsageError, match=r"marker on t: bounds=\(3, 1\): .*lo < hi"):
        base.layered("marker on t", {"bounds": (3, 1)})


def test_session_wide_settings_are_refused_per_test() -> None:
    base = settings.defaults()
    with pytest.raises(GymrecUsageError, match=r"marker on t: json='x.json' covers the whole"):
        base.layered("marker on t", {"json": "x.json"})
    assert base.layered("marker on t", {"json": None}).json is None  # None means "not set"
    signature = settings.marker_signature()
    assert signature.startswith("gymrec(*, seeds=None, alpha=None, bounds=None, max_steps=None")
    assert "json" not in signature
    assert "update_baselines" not in signature


#: Text a user might give each setting of the command line, none of them the default.
GIVEN_TEXT = {
    "seeds": "3-5",
    "alpha": "0.05",
    "json": "out.json",
    "video": "on",
    "output": "videos",
    "max_videos": "1",
    "max_episodes": "50",
    "beta": "0.2",
    "inconclusive": "fail",
    "blind": "warn",
    "num_envs": "2",
    "vectorization_mode": "async",
    "update_baselines": "true",
    "github_summary": "summary.md",
    "junit_attachment_root": "project",
}


def test_every_flag_has_help_and_an_ini_twin_of_the_same_name(pytester: pytest.Pytester) -> None:
    """What ``pytest --help`` lists works: ``--gymrec-max-videos=1`` and the ini line
    ``gymrec_max_videos = 1`` set the setting ``max_videos`` (the marker's key), each named as
    the value's source."""
    flags = flag_help(pytester)
    assert all(flags.values())  # every flag says what it does
    names = {flag: flag.removeprefix("--gymrec-").replace("-", "_") for flag in flags}
    assert sorted(names.values()) == sorted(GIVEN_TEXT)  # a new flag needs a value above
    # All at once: one configured session for the flags and one for the ini lines (each session
    # costs its plugins' set-up and tear-down).
    by_flag = resolved(
        pytester,
        *(
            flag if name == "update_baselines" else f"{flag}={GIVEN_TEXT[name]}"
            for flag, name in names.items()
        ),
    )
    by_ini = resolved(
        pytester, ini="\n".join(f"gymrec_{name} = {GIVEN_TEXT[name]}" for name in names.values())
    )
    default = settings.defaults()
    for flag, name in names.items():
        assert getattr(by_flag, name) == getattr(by_ini, name) != getattr(default, name), name
        assert by_flag.source(name) == flag
        assert by_ini.source(name).startswith(f"ini option gymrec_{name} in ")


def test_video_mode() -> None:
    video = settings.SETTINGS["video"].coerce
    assert video("Retain-On-Failure") is settings.VideoMode.RETAIN_ON_FAILURE
    assert video(" off ") is settings.VideoMode.OFF
    assert video(True) is settings.VideoMode.ON  # video=True reads naturally in a marker
    assert video(False) is settings.VideoMode.OFF
    assert video(settings.VideoMode.ON) is settings.VideoMode.ON
    for bad in ("always", 1, None):
        with pytest.raises(ValueError, match="is not one of: off, on, retain-on-failure"):
            video(bad)


def test_paths_say_which_path_is_empty() -> None:
    from pathlib import Path

    output = settings.SETTINGS["output"].coerce
    json_path = settings.SETTINGS["json"].coerce
    assert output(Path("videos") / "run-1") == str(Path("videos") / "run-1")
    assert json_path(" out.json ") == "out.json"
    with pytest.raises(ValueError, match="the output folder is empty; give one such as gymrec"):
        output("  ")
    with pytest.raises(ValueError, match="the JSON summary's path is empty"):
        json_path("")
    with pytest.raises(ValueError, match="3 is not a path"):
        output(3)


def test_whole_numbers_and_levels() -> None:
    max_videos = settings.SETTINGS["max_videos"].coerce
    assert max_videos("0") == 0  # no videos at all is a valid choice
    with pytest.raises(ValueError, match=r"-1 must be a whole number >= 0 \(0 films no episode\)"):
        max_videos(-1)
    max_episodes = settings.SETTINGS["max_episodes"].coerce
    assert max_episodes("400") == 400
    with pytest.raises(ValueError, match="must be a whole number >= 1"):
        max_episodes(0)
    beta = settings.SETTINGS["beta"].coerce
    assert beta("0.1") == 0.1
    with pytest.raises(ValueError, match=r"beta 0\.6 must be in \(0, 0\.5\]: it bounds the rate"):
        beta(0.6)
    with pytest.raises(ValueError, match="beta 'x' is not a number"):
        beta("x")


def test_inconclusive_choice() -> None:
    inconclusive = settings.SETTINGS["inconclusive"].coerce
    assert inconclusive("FAIL") is settings.Inconclusive.FAIL
    assert inconclusive(settings.Inconclusive.WARN) is settings.Inconclusive.WARN
    with pytest.raises(ValueError, match="inconclusive 'maybe' must be 'warn' or 'fail'"):
        inconclusive("maybe")


def test_text_and_values_convert_alike() -> None:
    """One converter serves the command line (text) and markers (values): same results."""
    pairs = {
        "seeds": ("3", 3),
        "alpha": ("0.05", 0.05),
        "bounds": ("0,500", (0, 500)),
        "max_steps": ("7", 7),
        "video": ("on", True),
        "max_videos": ("2", 2),
        "update_baselines": ("true", True),
        "num_envs": ("4", 4),
        "vectorization_mode": (" Async ", settings.VectorizationMode.ASYNC),
    }
    for name, (text, value) in pairs.items():
        convert = settings.SETTINGS[name].coerce
        assert convert(text) == convert(value), name


def test_num_envs_and_vectorization_mode_defaults_run_one_env() -> None:
    base = settings.defaults()
    assert base.num_envs == 1
    assert base.vectorization_mode is settings.VectorizationMode.SYNC
    assert base.source("num_envs") == "the default"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0", "0 must be a whole number >= 1 (envs run at once; 1 runs episodes one by one)"),
        (0, "0 must be a whole number >= 1"),
        (-2, "-2 must be a whole number >= 1"),
        (2.5, "2.5 must be a whole number >= 1"),
        (True, "True must be a whole number >= 1"),
        ("two", "'two' is not a whole number"),
    ],
)
def test_bad_num_envs_says_what_is_wrong(value: object, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        settings.SETTINGS["num_envs"].coerce(value)


@pytest.mark.parametrize("value", ["threads", "", None, 2, True])
def test_bad_vectorization_mode_names_the_choices(value: object) -> None:
    with pytest.raises(ValueError, match=rf"^{re.escape(repr(value))} must be 'sync' \(envs step"):
        settings.SETTINGS["vectorization_mode"].coerce(value)


def test_parallel_settings_layer_and_name_their_source() -> None:
    ini = settings.from_text(
        settings.defaults(),
        lambda s: f"ini option {s.ini_name} in tox.ini",
        {"num_envs": "3", "vectorization_mode": "async"},
    )
    assert (ini.num_envs, ini.vectorization_mode) == (3, settings.VectorizationMode.ASYNC)
    cli = settings.from_parsed(ini, {"num_envs": 2}, "{flag}")
    assert cli.source("num_envs") == "--gymrec-num-envs"
    assert cli.source("vectorization_mode") == "ini option gymrec_vectorization_mode in tox.ini"
    marker = cli.layered("@pytest.mark.gymrec on t", {"vectorization_mode": "sync"})
    assert marker.vectorization_mode is settings.VectorizationMode.SYNC
    call = marker.layered("gymrec.evaluate()", {"num_envs": 4, "vectorization_mode": None})
    assert (call.num_envs, call.source("num_envs")) == (4, "gymrec.evaluate()")
    assert call.vectorization_mode is settings.VectorizationMode.SYNC  # None: not set here
    with pytest.raises(
        GymrecUsageError,
        match=r"^ini option gymrec_num_envs in tox\.ini = '0': 0 must be a whole number >= 1",
    ):
        settings.from_text(
            settings.defaults(), lambda s: f"ini option {s.ini_name} in tox.ini", {"num_envs": "0"}
        )
    with pytest.raises(GymrecUsageError, match=r"^gymrec\.evaluate\(\): num_envs=1\.5: 1\.5 must"):
        marker.layered("gymrec.evaluate()", {"num_envs": 1.5})
    with pytest.raises(
        GymrecUsageError, match=r"^marker on t: vectorization_mode='threads': 'threads' must be"
    ):
        marker.layered("marker on t", {"vectorization_mode": "threads"})
    assert "num_envs=None, vectorization_mode=None" in settings.marker_signature()


def test_parallel_checks_for_python_values() -> None:
    """The checks behind ParallelRun's own arguments: Python values only, errors naming the
    caller (text such as "2" belongs to an ini line, not to a call)."""
    import numpy as np

    assert settings.check_num_envs(np.int64(3), "f()") == 3
    assert settings.check_vectorization_mode(settings.VectorizationMode.ASYNC, "f()") == "async"
    assert settings.check_vectorization_mode("sync", "f()") == "sync"
    with pytest.raises(GymrecUsageError, match=r"^f\(\): num_envs='2' must be a whole number"):
        settings.check_num_envs("2", "f()")
    with pytest.raises(GymrecUsageError, match=r"^f\(\): num_envs=0 must be at least 1"):
        settings.check_num_envs(0, "f()")
    with pytest.raises(GymrecUsageError, match=r"^f\(\): vectorization_mode='fork' must be"):
        settings.check_vectorization_mode("fork", "f()")
