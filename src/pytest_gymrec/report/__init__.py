"""Reports people read, built from the plain report data (``report.gymrec`` dicts).

Every module here is a set of pure functions over JSON-ready dicts (a test's entry with its
verdicts, episodes, videos and plots), so they work the same on an xdist controller, which only
ever sees that data. ``plots`` (matplotlib) and ``allure`` (allure-pytest) import their
third-party package inside the functions that need it; nothing here imports pytest or gymnasium.

- :mod:`.strict`: JSON without NaN or Infinity (strict parsers reject them).
- :mod:`.cells`: a verdict's numbers as the tables and JUnit show them.
- :mod:`.plots`: PNG pictures of a verdict and of a training loop's learning curve.
- :mod:`.junit`: ``[[ATTACHMENT|path]]`` lines and a verdict's numbers as JUnit properties.
- :mod:`.allure`: videos and plots attached to the running test in allure-pytest.
- :mod:`.github`: the GitHub Actions job summary (Markdown).
- :mod:`.terminal`: the end-of-session verdict table, fitted to the terminal width.
"""
