"""Unit tests of the on/off setting behind --gymrec-update-baselines (settings.py)."""

from __future__ import annotations

import pytest

from pytest_gymrec import settings
from pytest_gymrec.errors import GymrecUsageError


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


def test_the_update_setting_is_an_off_by_default_flag() -> None:
    setting = settings.SETTINGS["update_baselines"]
    assert setting.flag == "--gymrec-update-baselines"
    assert setting.ini_name == "gymrec_update_baselines"
    assert setting.action == "store_true"
    assert settings.defaults().update_baselines is False
    assert all(
        other.action == "store" for name, other in settings.SETTINGS.items() if name != setting.name
    )


def test_a_bad_value_names_its_source() -> None:
    with pytest.raises(GymrecUsageError, match=r"the marker: update_baselines=2"):
        settings.defaults().layered("the marker", {"update_baselines": 2})
