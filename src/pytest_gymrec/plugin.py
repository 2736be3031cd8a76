"""pytest-gymrec's entry point: options, ini, marker, the ``gymrec`` fixture and report hooks.

pytest imports this module in every project on the machine, so it imports only the standard
library, pytest and the pure settings module: gymnasium, numpy and scipy load when a test uses
the fixture.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

from . import settings as gymrec_settings
from .errors import GymrecUsageError

if TYPE_CHECKING:
    from .fixture import Gymrec
    from .record import TestRecord

BASE_SETTINGS_KEY = pytest.StashKey[gymrec_settings.Settings]()
ITEM_SETTINGS_KEY = pytest.StashKey[gymrec_settings.Settings]()
RECORD_KEY = pytest.StashKey["TestRecord"]()
SESSION_KEY = pytest.StashKey["GymrecSession"]()

MARKER = (
    f"{gymrec_settings.marker_signature()}: settings of the gymrec fixture in this test, "
    "with the meaning of the --gymrec-* options of the same names (see pytest --help); also "
    "bounds=(lo, hi) of an episode's return and max_steps, the guard against episodes that "
    "never end."
)


def _argparse_type(setting: gymrec_settings.Setting) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return setting.coerce(text)
        except ValueError as exc:
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise argparse.ArgumentTypeError(f"{exc} (in {setting.flag} {shown})") from None

    parse.__name__ = setting.name  # argparse names the type in its error message
    return parse


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hooks

    pluginmanager.add_hookspecs(hooks)


def _hook_caller(item: pytest.Item, name: str) -> Callable[..., None]:
    """Calls hook ``name`` for ``item``; a conftest's hook that raises becomes a warning that
    names it, never a changed outcome (a tracker being down is not the agent's fault)."""
    # Looked up once: item.ihook finds the item's conftests anew on every access, and the
    # episode hook is called once an episode.
    hook = getattr(item.ihook, name)

    def call(**kwargs: Any) -> None:
        try:
            hook(item=item, **kwargs)
        except Exception as exc:
            import warnings

            warnings.warn(
                pytest.PytestWarning(
                    f"gymrec: a {name} hook raised {type(exc).__name__}: {exc}; the test's "
                    "outcome is unchanged"
                ),
                stacklevel=2,
            )

    return call


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gymrec", "regression tests of RL agents (pytest-gymrec)")
    for setting in gymrec_settings.SETTINGS.values():
        if not setting.on_command_line:
            continue
        # A switch takes no value; its default stays None so "not given" keeps the ini twin.
        value_arguments: dict[str, Any] = (
            {"action": "store_true"}
            if setting.action == "store_true"
            else {"type": _argparse_type(setting), "metavar": setting.metavar}
        )
        group.addoption(
            setting.flag,
            dest=setting.dest,
            default=None,
            help=setting.help,
            **value_arguments,
        )
        parser.addini(
            setting.ini_name, setting.help + f" (ini twin of {setting.flag})", default=None
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    _refuse_separated_paths(config)
    inipath = str(config.inipath) if config.inipath else "the ini file"
    ini_text = {
        name: str(config.getini(setting.ini_name))
        for name, setting in gymrec_settings.SETTINGS.items()
        if setting.on_command_line and config.getini(setting.ini_name) not in (None, "")
    }
    try:
        base = gymrec_settings.from_text(
            gymrec_settings.defaults(),
            lambda setting: f"ini option {setting.ini_name} in {inipath}",
            ini_text,
        )
    except GymrecUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    given = {
        name: config.getoption(setting.dest)
        for name, setting in gymrec_settings.SETTINGS.items()
        if setting.on_command_line and config.getoption(setting.dest) is not None
    }
    config.stash[BASE_SETTINGS_KEY] = gymrec_settings.from_parsed(base, given, "{flag}")
    session = GymrecSession(config, config.stash[BASE_SETTINGS_KEY])
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "gymrec-session")


def _refuse_separated_paths(config: pytest.Config) -> None:
    """A usage error for ``--gymrec-output DIR`` (two words) and the other path flags.

    pytest picks the rootdir and the ini file from the command line's paths before it loads
    plugins, when it cannot know that DIR is the value of a plugin's flag: an existing DIR
    outside the project (a second CI run's output folder) makes it ignore the project's ini,
    with its gymrec_* settings and addopts, silently. The ``=`` form is one word, never taken
    for a path. Refused whether or not the path exists yet: the first run would pass and the
    second change meaning.
    """
    path_flags = {s.flag for s in gymrec_settings.SETTINGS.values() if s.is_path}
    try:
        from_environment = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    except ValueError:  # pytest itself reports a PYTEST_ADDOPTS it cannot split
        from_environment = []
    for words, where in (
        (from_environment, "in PYTEST_ADDOPTS"),
        ([str(word) for word in config.invocation_params.args], "on the command line"),
    ):
        for position, word in enumerate(words[:-1]):
            if word == "--":  # everything after it is a test path
                break
            if word in path_flags:
                value = words[position + 1]
                raise pytest.UsageError(
                    f"{word} {value} {where}: write {word}={shlex.quote(value)} (one word). "
                    "Given as two words, the path looks like a test path to pytest, which picks "
                    "the rootdir and ini file from it before plugins load: a path outside the "
                    "project that exists makes pytest ignore this project's ini file silently."
                )


def _marker_settings(item: pytest.Item, base: gymrec_settings.Settings) -> gymrec_settings.Settings:
    # iter_markers yields the closest first; apply the farthest first so the closest wins.
    resolved = base
    for marker in reversed(list(item.iter_markers("gymrec"))):
        source = f"@pytest.mark.gymrec on {item.nodeid}"
        if marker.args:
            raise GymrecUsageError(
                f"{source}: takes keyword arguments only, got {marker.args!r}; "
                "write @pytest.mark.gymrec(seeds=..., alpha=...)"
            )
        resolved = resolved.layered(source, marker.kwargs)
    return resolved


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    base = config.stash[BASE_SETTINGS_KEY]
    for item in items:
        try:
            item.stash[ITEM_SETTINGS_KEY] = _marker_settings(item, base)
        except GymrecUsageError as exc:
            raise pytest.UsageError(str(exc)) from None


def _settings_of(item: pytest.Item) -> gymrec_settings.Settings:
    settings = item.stash.get(ITEM_SETTINGS_KEY, None)
    if settings is None:  # an item collected by another plugin after our collection hook
        settings = _marker_settings(item, item.config.stash[BASE_SETTINGS_KEY])
    return settings


def _reproduce(config: pytest.Config, nodeid: str) -> str:
    """The command line that reruns one test with the gymrec options of this run."""
    words = ["pytest", nodeid]
    for setting in gymrec_settings.SETTINGS.values():
        if setting.on_command_line and config.getoption(setting.dest) is not None:
            if setting.action == "store_true":
                words.append(setting.flag)
                continue
            text = _given_flag_text(config, setting.flag)
            if text is not None:
                # The "=" form: "--flag PATH" with an existing path can move pytest's rootdir.
                words.append(f"{setting.flag}={text}")
    return shlex.join(words)


def _given_flag_text(config: pytest.Config, flag: str) -> str | None:
    """The text given for ``flag`` on the command line, as the user wrote it."""
    arguments = list(config.invocation_params.args)
    for position, argument in enumerate(arguments):
        if argument == flag and position + 1 < len(arguments):
            return str(arguments[position + 1])
        if argument.startswith(flag + "="):
            return str(argument.split("=", 1)[1])
    return None


@pytest.fixture
def gymrec(request: pytest.FixtureRequest) -> Generator[Gymrec, None, None]:
    """Evaluate agents over seeds, wrap envs with episode statistics, and check returns."""
    from .fixture import Gymrec
    from .record import TestRecord

    item = request.node
    settings = _settings_of(item)
    record = TestRecord(nodeid=item.nodeid, video_folder=_video_folder(item, settings))
    on_episode = _hook_caller(item, "pytest_gymrec_episode")
    on_verdict = _hook_caller(item, "pytest_gymrec_verdict")
    record.on_episode = lambda episode: on_episode(episode=episode)
    record.on_verdict = lambda verdict: on_verdict(verdict=verdict)
    item.stash[RECORD_KEY] = record
    fixture = Gymrec(
        settings,
        record,
        _reproduce(request.config, item.nodeid),
        test_path=item.path,
        created_baselines=request.config.stash[SESSION_KEY].created_baselines,
        progress=_progress_line(request.config),
    )
    try:
        yield fixture
    finally:
        fixture.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    if call.excinfo is not None and not item.config.getoption("fulltrace", False):
        from .tracebacks import shorten

        # Before the report is made: its longrepr shows the test's line and the message.
        if shorten(call.excinfo.value):
            call.excinfo = pytest.ExceptionInfo.from_exception(call.excinfo.value)
    report = yield
    record = item.stash.get(RECORD_KEY, None)
    if record is None or report.when != "call":
        return report
    if not (record.verdicts or record.episodes):
        return report
    from .report import attach, junit
    from .report import data as reporting

    data = reporting.report_data(record)
    setattr(report, reporting.REPORT_ATTRIBUTE, data)
    # junitxml writes the properties of the teardown report, which copies the item's list.
    item.user_properties.extend(junit.all_properties(data["verdicts"]))
    failed = _explains_a_failure(report, call)
    lines = [_filming_with_progress(item, report, record, failed)]
    if failed:
        html = bool(item.config.getoption("htmlpath", None))
        lines.extend(attach.plots(record, data, html=html, report=report))
    files = attach.kept_files(data, item.config.invocation_params.dir)
    _announce_videos(item, record, data)
    if files and _junit_writes_stdout(item.config):
        # system-out of the JUnit test case: Jenkins' JUnit Attachments plugin and GitLab read
        # these lines; the terminal does not show them (the report is made already).
        root = _settings_of(item).junit_attachment_root
        item.add_report_section(
            "call",
            "stdout",
            attach.junit_lines(
                files, None if root is None else item.config.invocation_params.dir / root
            ),
        )
    lines.append(attach.allure(files, data) or "")  # files, and every verdict's numbers
    text = "\n".join(line for line in lines if line)
    if report.failed or hasattr(report, "wasxfail"):
        summary = reporting.section_text(record)
        report.sections.append(("gymrec", f"{summary}\n\n{text}" if text else summary))
    elif text:  # video=on: pytest prints it with -rP
        report.sections.append(("gymrec", text))
    return report


def _filming_with_progress(
    item: pytest.Item, report: pytest.TestReport, record: TestRecord, failed: bool
) -> str:
    """:func:`_attach_videos`, saying so in the terminal when filming takes a while (a long
    MuJoCo or Atari replay can take tens of seconds after the test itself ended)."""
    progress = _progress_line(item.config) if failed else None
    if progress is None:
        return _attach_videos(item, report, record, failed)
    import threading

    from .fixture import progress_seconds

    announce = threading.Timer(
        progress_seconds(), progress, args=(f"gymrec: filming the videos of {item.nodeid} ...",)
    )
    announce.daemon = True
    announce.start()
    try:
        return _attach_videos(item, report, record, failed)
    finally:
        announce.cancel()
        announce.join()  # a line being written is finished before the report goes on


def _progress_line(config: pytest.Config) -> Callable[[str], None] | None:
    """Writes a progress line in the terminal, on a line of its own (None on xdist workers,
    whose terminal is the controller's, and under -qq)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(config, "workerinput") or config.get_verbosity() < -1:
        return None

    capture = config.pluginmanager.get_plugin("capturemanager")

    def write(text: str) -> None:
        # The test's output is being captured: step outside it, as pytest's live logs do.
        suspended = (
            capture.global_and_fixture_disabled()
            if capture is not None
            else contextlib.nullcontext()
        )
        with suspended:
            reporter.ensure_newline()
            reporter.write_line(text)

    return write


def _junit_writes_stdout(config: pytest.Config) -> bool:
    """Whether junitxml writes a test's captured stdout (``-o junit_logging=system-out``)."""
    if not config.getoption("xmlpath", None):
        return False
    return str(config.getini("junit_logging")) in ("system-out", "out-err", "all")


def _announce_videos(item: pytest.Item, record: TestRecord, data: dict[str, Any]) -> None:
    """pytest_gymrec_video for every complete video this test kept."""
    call = _hook_caller(item, "pytest_gymrec_video")
    base_dir = item.config.invocation_params.dir
    by_seed = {episode.seed: episode for episode in record.episodes if episode.seed is not None}
    for video in data.get("videos", []):
        if not video.get("path") or video.get("missing"):
            continue
        seed = video.get("seed")
        call(path=base_dir / video["path"], episode=by_seed.get(seed) if seed is not None else None)


def _explains_a_failure(report: pytest.TestReport, call: pytest.CallInfo[None]) -> bool:
    """Whether this test failed in a way episodes can explain (videos, plots)."""
    from .errors import GymrecBaselineCreated

    # An xfail test that failed as expected reports "skipped" with wasxfail; keep its videos.
    failed = report.failed or (report.skipped and hasattr(report, "wasxfail"))
    if call.excinfo is not None and call.excinfo.errisinstance(GymrecBaselineCreated):
        return False  # only a new baseline to review: no episode explains anything
    return bool(failed)


def _video_folder(item: pytest.Item, settings: gymrec_settings.Settings) -> Any:
    """This test's folder under --gymrec-output (per worker only under ``--dist each``)."""
    from .artifacts import folder_for

    config = item.config
    each = bool(getattr(config, "workerinput", {}).get(_DIST_EACH_KEY, False))
    worker = os.environ.get("PYTEST_XDIST_WORKER") if each else None
    return folder_for(settings.output, config.invocation_params.dir, item.nodeid, worker)


#: workerinput key: True when every xdist worker runs every test (``--dist each``).
_DIST_EACH_KEY = "gymrec_dist_each"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """On the xdist controller: tell workers whether they all run the same tests.

    Workers see ``--dist no``, so they cannot tell by themselves; under ``--dist each`` two
    workers run the same test and need separate folders.
    """
    node.workerinput[_DIST_EACH_KEY] = node.config.getoption("dist", None) == "each"


def _attach_videos(
    item: pytest.Item, report: pytest.TestReport, record: TestRecord, failed: bool
) -> str:
    """Film the episodes that explain this test's outcome; the text for its gymrec section."""
    from . import failure_videos

    settings = _settings_of(item)
    return failure_videos.attach(
        report,
        record,
        item.user_properties,
        mode=settings.video,
        max_videos=settings.max_videos,
        test_failed=failed,
        base_dir=item.config.invocation_params.dir,
        html=bool(item.config.getoption("htmlpath", None)),
    )


class GymrecSession:
    """The session's report state, in one place: every call report's gymrec data (xdist
    workers' included) for the end-of-session tables and the ``--gymrec-json`` file, and the
    baselines created in this session.

    Registered per config (not a module global) so nested pytester sessions stay separate; on
    xdist workers it only keeps ``created_baselines``, since the controller receives every
    report.
    """

    def __init__(self, config: pytest.Config, settings: gymrec_settings.Settings) -> None:
        self.entries: list[dict[str, Any]] = []
        self.baseline_files: list[dict[str, str]] = []
        self.created_baselines: set[Any] = set()
        self.is_worker = hasattr(config, "workerinput")
        self.json_path = settings.json
        self.json_problem: str | None = None
        #: Reports that could not be written (the GitHub summary), said at the end.
        self.problems: list[str] = []
        self.root = config.rootpath
        self.invocation_dir = config.invocation_params.dir
        #: Where the GitHub job summary goes (and which setting named it), or None.
        self.github_summary: tuple[str, str] | None = None
        if settings.github_summary is not None:
            self.github_summary = (settings.github_summary, settings.source("github_summary"))
        elif os.environ.get("GITHUB_STEP_SUMMARY"):
            self.github_summary = (os.environ["GITHUB_STEP_SUMMARY"], "GITHUB_STEP_SUMMARY")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "gymrec", None)
        if report.when != "call" or not isinstance(data, dict) or self.is_worker:
            return
        # On the xdist controller the report arrived as JSON; the attribute is a plain dict.
        # xdist numbers items in collection order: the tables follow it, not completion order.
        order = getattr(report, "item_index", len(self.entries))
        self.entries.append({**data, "outcome": report.outcome, "order": order})
        for entry in data.get("baselines", ()):
            if isinstance(entry, dict) and {"path", "action"} <= entry.keys():
                self.baseline_files.append({"path": entry["path"], "action": entry["action"]})

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.json_path is None or self.is_worker:
            return
        from .report import data as reporting

        path = self.invocation_dir / self.json_path
        # The run's outcome is the tests', not the summary file's: say so and keep it.
        self.json_problem = reporting.write_json_summary(path, self.ordered())

    def ordered(self) -> list[dict[str, Any]]:
        return sorted(self.entries, key=lambda entry: entry["order"])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        entries = self.ordered()
        if any(entry["verdicts"] for entry in entries):
            from .report.terminal import verdict_table

            width = terminalreporter.config.get_terminal_writer().fullwidth
            terminalreporter.write_sep("=", "gymrec verdicts")
            for line in verdict_table(entries, width):
                terminalreporter.write_line(line)
        self._github_summary(entries, terminalreporter)
        lines = self._baseline_lines()
        if lines:
            terminalreporter.write_sep("=", "gymrec baselines")
            for line in lines:
                terminalreporter.write_line(line)
        for problem in self.problems:
            terminalreporter.write_line(problem, yellow=True, bold=True)
        if self.json_problem is not None:
            terminalreporter.write_line(self.json_problem, yellow=True, bold=True)
        elif self.json_path is not None and not self.is_worker:
            terminalreporter.write_line(f"gymrec: JSON summary written to {self.json_path}")

    def _baseline_lines(self) -> list[str]:
        """What happened to baseline files in this session (nothing to import when none did)."""
        if not self.baseline_files:
            return []
        from .baseline import summary_lines

        return summary_lines(self.baseline_files, self.root)

    def _github_summary(self, entries: list[dict[str, Any]], terminalreporter: Any) -> None:
        """Append the verdict table to GitHub Actions' job summary (or the file given)."""
        if self.is_worker or self.github_summary is None:
            return
        from .errors import GymrecUsageError
        from .report import github

        text = github.summary_markdown(entries)
        if not text:
            return
        path, source = self.github_summary
        try:
            github.append_summary(self.invocation_dir / path, text, source=source)
        except GymrecUsageError as exc:
            self.problems.append(str(exc))
