"""Allure: a test's videos and plots as attachments, its verdicts' numbers as parameters.

allure-pytest is not a dependency: it is imported only here, inside :func:`attach`, which does
nothing when it is missing or not writing results (no ``--alluredir``). Called on the process
that runs the test (an xdist worker included), while allure-pytest's result for that test is
still open: from ``pytest_runtest_makereport``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import GymrecUsageError
from .junit import all_properties

#: Attachment type (a name in ``allure.attachment_type``) of each kind of file we make.
_ATTACHMENT_TYPES = {".mp4": "MP4", ".png": "PNG"}


def attach(paths: Iterable[str | Path], verdict_records: Sequence[dict[str, Any]]) -> int:
    """Attach each file to the running test (``.mp4`` as video/mp4, ``.png`` as image/png) and
    add each verdict's numbers as parameters (the JUnit property names: ``gymrec.line``, ...).

    Returns the number of files attached: 0 when allure-pytest is not installed or not active.
    A file that no longer exists is skipped (allure would fail the report while copying it).
    """
    files = [Path(path) for path in paths]
    for file in files:
        if file.suffix.lower() not in _ATTACHMENT_TYPES:
            raise GymrecUsageError(
                f"report.allure.attach(): {str(file)!r} is neither a video (.mp4) nor a plot "
                "(.png); pass only the files pytest-gymrec made for this test"
            )
    try:
        import allure
        import allure_commons
    except ImportError:
        return 0
    if not allure_commons.plugin_manager.hook.attach_file.get_hookimpls():
        return 0  # installed, but nothing listens: pytest runs without --alluredir
    attached = 0
    for file in files:
        if not file.is_file():
            continue
        kind = getattr(allure.attachment_type, _ATTACHMENT_TYPES[file.suffix.lower()])
        # allure-python-commons ships py.typed but leaves attach.file unannotated.
        allure.attach.file(str(file), name=file.name, attachment_type=kind)  # type: ignore[no-untyped-call]
        attached += 1
    for name, value in all_properties(verdict_records):
        # excluded: the numbers change from run to run; Allure must not count each run as a
        # different test (parameters take part in its history id unless excluded).
        allure.dynamic.parameter(name, value, excluded=True)
    return attached
