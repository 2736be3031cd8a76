"""The gymrec settings as pytest itself parses them, in this process and without a test run:
the flags ``pytest --help`` lists, and what a command line and an ini file resolve to."""

from __future__ import annotations

import re

import pytest

from pytest_gymrec.plugin import BASE_SETTINGS_KEY
from pytest_gymrec.settings import Settings

#: An option line of ``pytest --help``: the flag, its metavar, and the help text that fits.
OPTION_LINE = re.compile(r"^  (--gymrec-[a-z-]+)(?:=\S+)?(.*)$")
#: argparse indents a help text that continues (or starts) on the next line by 24 columns.
CONTINUED = " " * 24


def flag_help(pytester: pytest.Pytester) -> dict[str, str]:
    """Each ``--gymrec-*`` flag of ``pytest --help``, with its help text."""
    found: dict[str, list[str]] = {}
    flag = None
    for line in pytester.runpytest_inprocess("--help").stdout.lines:
        match = OPTION_LINE.match(line)
        if match:
            flag = match[1]
            found[flag] = [match[2].strip()]
        elif flag is not None and line.startswith(CONTINUED):
            found[flag].append(line.strip())
        else:
            flag = None
    return {flag: " ".join(part for part in parts if part) for flag, parts in found.items()}


def resolved(pytester: pytest.Pytester, *args: str, ini: str = "") -> Settings:
    """The session's settings from ``args`` on the command line and ``ini`` lines."""
    pytester.makeini(f"[pytest]\n{ini}\n")
    return pytester.parseconfigure(*args).stash[BASE_SETTINGS_KEY]
