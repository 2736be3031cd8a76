"""Short tracebacks for pytest-gymrec's own errors: the test's line and the message.

A usage error (an unknown env id, an action outside the action space, a sequential test
without bounds) is raised deep inside the plugin, often chained to the Gymnasium exception it
explains, and pytest would print every frame on the way: 109 lines for an unknown env id, the
plugin's own source for a missing argument. The message already names the value, where it came
from and how to fix it (Gymnasium's "Did you mean" included); what else helps is the line of
the test that made the call, and the user's own code where an exception went through it (a
policy that raised, an env of the project).

pytest's ``__tracebackhide__`` hides a frame only where a line in its function says so. Done
here once for every module of the package, it also covers frames no line marks and code added
later. Pure: the standard library only.
"""

from __future__ import annotations

import os
import site
import sysconfig
import types

from .errors import GymrecEnvError, GymrecFailure, GymrecPolicyError, GymrecUsageError

#: The plugin's deliberate errors: their messages stand on their own.
OWN_ERRORS = (GymrecFailure, GymrecUsageError, GymrecEnvError, GymrecPolicyError)

_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def _library_folders() -> tuple[str, ...]:
    """Folders of code that is not the user's: the standard library and installed packages."""
    folders = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    folders.update(site.getsitepackages())
    # Both spellings: a venv's paths may go through a symlink that code objects keep.
    both = {variant for folder in folders for variant in (folder, os.path.realpath(folder))}
    return tuple(os.path.join(folder, "") for folder in sorted(both))


_LIBRARIES = _library_folders()


def _file_of(entry: types.TracebackType) -> str:
    return os.path.abspath(entry.tb_frame.f_code.co_filename)


def _is_ours(entry: types.TracebackType) -> bool:
    return _file_of(entry).startswith(_PACKAGE)


def _is_users(entry: types.TracebackType) -> bool:
    name = entry.tb_frame.f_code.co_filename
    if name.startswith("<"):  # "<frozen importlib._bootstrap>", "<string>": not a file of theirs
        return False
    path = _file_of(entry)
    return not path.startswith(_PACKAGE) and not path.startswith(_LIBRARIES)


def _entries(traceback: types.TracebackType | None) -> list[types.TracebackType]:
    entries = []
    while traceback is not None:
        entries.append(traceback)
        traceback = traceback.tb_next
    return entries


def _without_ours(entries: list[types.TracebackType]) -> types.TracebackType | None:
    """The traceback of ``entries`` less the plugin's frames (rebuilt: entries are linked)."""
    rebuilt: types.TracebackType | None = None
    for entry in reversed(entries):
        if not _is_ours(entry):
            rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def _linked(exc: BaseException) -> BaseException | None:
    """The exception pytest prints above ``exc``: its cause, else its context unless hidden."""
    if exc.__cause__ is not None:
        return exc.__cause__
    return None if exc.__suppress_context__ else exc.__context__


def shorten(exc: BaseException) -> bool:
    """Cut the plugin's frames out of ``exc``'s traceback when it is one of the plugin's own
    errors raised through the user's code (a test's call), and the chained exceptions that
    never went through the user's code (Gymnasium's view of the same problem, already told by
    the message). In place; True when ``exc`` was shortened.

    Any other exception, a bug of the plugin's included, keeps every frame.
    """
    if not isinstance(exc, OWN_ERRORS):
        return False
    entries = _entries(exc.__traceback__)
    if not any(_is_users(entry) for entry in entries):
        return False  # not raised through a test's call (a fixture's setup): nothing to keep
    exc.__traceback__ = _without_ours(entries)
    seen = {id(exc)}
    current: BaseException = exc
    while (linked := _linked(current)) is not None and id(linked) not in seen:
        seen.add(id(linked))
        linked_entries = _entries(linked.__traceback__)
        if not any(_is_users(entry) for entry in linked_entries):
            current.__cause__ = None
            current.__suppress_context__ = True
            break
        # Raised in the user's code (a policy, a project's env) or a deliberate error: the
        # plugin's frames on the way tell nothing. Raised in the plugin's code: keep them all.
        if isinstance(linked, OWN_ERRORS) or not _is_ours(linked_entries[-1]):
            linked.__traceback__ = _without_ours(linked_entries)
        current = linked
    return True
