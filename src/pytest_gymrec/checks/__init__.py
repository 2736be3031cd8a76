"""The checks: pure decisions (data in, Verdict out) and the one pipeline that enforces them.

Modules: ``core`` (one-sided bounds, detectable drop, validation), ``betting`` (bounded tests),
``mean``, ``rate``, ``quantile``, ``sequential``, ``paired`` (the decisions), ``pipeline``
(record, flag, enforce). Importing this package imports nothing heavy.
"""
