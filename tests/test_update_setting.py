"""The on/off setting behind --gymrec-update-baselines: its converter (settings.py), and the
flag and ini line as pytest parses them."""

from __future__ import annotations

import pytest

from helpers.parsed_settings import flag_help, resolved
from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecUsageError

FLAG = "--gymrec-update-baselines"


@pytest.mark.parametrize("text", ["true", "True", " yes ", "on", "1"])
def test_switch_text_on(text: str) -> None:
    assert settings.parse_switch(text) is True


@pytest.mark.parametrize("text", ["false", "FALSE", "no", "off", "0"])
def test_switch_text_off(text: str) -> None:
    assert settings.parse_switch(text) is False


def test_switch_text_that_is_neither() -> None:
    with pytest.raises(ValueError, match="'sometimes' is not true or false"):
        settings.parse_switch("sometimes")


def test_switch_values() -> None:
    assert settings.coerce_switch(True) is True
    assert settings.coerce_switch("off") is False
    for bad in (1, None, 0.0):
        with pytest.raises(ValueError, match="must be True or False"):
            settings.coerce_switch(bad)


def test_the_update_flag_is_a_bare_switch_and_every_other_flag_takes_a_value(
    pytester: pytest.Pytester,
) -> None:
    flags = flag_help(pytester)
    assert FLAG in flags
    assert resolved(pytester, FLAG).update_baselines is True
    for flag in flags:
        if flag != FLAG:
            with pytest.raises(pytest.UsageError, match=f"argument {flag}: expected one argument"):
                pytester.parseconfig(flag)


def test_updating_is_off_unless_the_flag_or_its_ini_twin_turns_it_on(
    pytester: pytest.Pytester,
) -> None:
    default = resolved(pytester)
    assert (default.update_baselines, default.source("update_baselines")) == (False, "the default")
    flag = resolved(pytester, FLAG)
    assert (flag.update_baselines, flag.source("update_baselines")) == (True, FLAG)
    ini = resolved(pytester, ini="gymrec_update_baselines = yes")
    assert ini.update_baselines is True  # a switch not given keeps what the ini file says
    assert ini.source("update_baselines").startswith("ini option gymrec_update_baselines in ")
    assert resolved(pytester, FLAG, ini="gymrec_update_baselines = no").update_baselines is True


def test_a_bad_value_names_its_source() -> None:
    with pytest.raises(GymrecUsageError, match=r"the marker: update_baselines=2"):
        settings.defaults().layered("the marker", {"update_baselines": 2})
