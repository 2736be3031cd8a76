"""Run a snippet in a fresh interpreter: what a module loads is only visible from outside."""

from __future__ import annotations

import subprocess
import sys


def output_of(code: str) -> str:
    """The standard output of ``python -c code``; fails the test with its stderr if it fails."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout
