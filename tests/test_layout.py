"""The package's shape: no module imports another back (even lazily), and loading the plugin
or the package loads neither numpy nor gymnasium."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_gymrec
from helpers.fresh_python import output_of

PACKAGE = Path(pytest_gymrec.__file__).parent


def import_graph() -> dict[str, set[str]]:
    """Module -> package modules it imports anywhere (functions too), TYPE_CHECKING aside."""
    modules: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("pytest_gymrec", *path.relative_to(PACKAGE).with_suffix("").parts)
        modules[".".join(parts).removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}

    class Imports(ast.NodeVisitor):
        def __init__(self, module: str, package: str) -> None:
            self.module, self.package = module, package

        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if not node.level:
                return
            base = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}"
                graph[self.module].add(full if full in modules else target)

    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        Imports(name, package).visit(ast.parse(path.read_text()))
        graph[name].discard(name)
    return graph


def test_no_module_imports_another_back() -> None:
    graph = import_graph()
    assert "pytest_gymrec.checks.core" in graph  # the walk found the package

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            for following in graph.get(current, ()):
                if following == goal:
                    return True
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        return False

    cycles = sorted(
        (module, other)
        for module, imported in graph.items()
        for other in imported
        if other in graph and reaches(other, module)
    )
    assert cycles == []


def test_loading_the_plugin_and_the_package_loads_no_numpy_or_gymnasium() -> None:
    code = (
        "import sys\n"
        "import pytest_gymrec, pytest_gymrec.plugin\n"
        "heavy = sorted(m for m in ('numpy', 'gymnasium', 'scipy', 'matplotlib') "
        "if m in sys.modules)\n"
        "print(heavy)\n"
    )
    assert output_of(code).strip() == "[]"


def test_a_session_that_evaluates_nothing_loads_only_the_plugin_its_hooks_and_settings(
    pytester: pytest.Pytester,
) -> None:
    # Every pytest session with the plugin installed pays for what loads here, also one
    # that has no gymrec test: the public classes load on first use.
    pytester.makeconftest(
        "import sys\n"
        "def pytest_sessionfinish(session):\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('pytest_gymrec'))\n"
        "    print('LOADED', loaded)\n"
    )
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    loaded = (
        "LOADED ['pytest_gymrec', 'pytest_gymrec.errors', 'pytest_gymrec.hooks', "
        "'pytest_gymrec.plugin', 'pytest_gymrec.settings']"
    )
    assert loaded in result.stdout.str()


def test_the_public_names_load_on_first_use() -> None:
    code = (
        "import sys, pytest_gymrec\n"
        "before = 'pytest_gymrec.results' in sys.modules\n"
        "from pytest_gymrec import EvalResult, Verdict, wrap\n"
        "print(before, EvalResult.__module__, Verdict.__module__, wrap.__module__,\n"
        "      'EvalResult' in dir(pytest_gymrec))\n"
    )
    assert output_of(code).split() == [
        "False",
        "pytest_gymrec.results",
        "pytest_gymrec.verdict",
        "pytest_gymrec.scripts",
        "True",
    ]
