"""Modules the tests share (envs, policies, report data, a browser driver); no tests here.

Importable as ``helpers.<module>``: ``pythonpath = ["tests"]`` in pyproject.toml puts tests/ on
``sys.path`` for pytest, and ``mypy_path`` does the same for mypy.
"""
