"""The pytest plugin: options, collection of policy modules into items, and thin hooks that hand
off to the engine's Gate (discover, plan, render, check, compare, report)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from chartgate.report import redact  # noqa: F401 - draws the run's redaction key now, so pytest-xdist workers inherit it
from chartgate.discover.charts import Chart
from chartgate.core.confine import check_output_dir
from chartgate.core import exitcodes
from chartgate.core.errors import ChartgateError, InvalidConfig, InvalidWaiver
from chartgate.core.exitcodes import Exit
from chartgate.plan.releases import check_release_files
from chartgate.engine.gate import Gate, GateConfig, PlannedCheck
from chartgate.report.partial import Scope
from chartgate.check.loader import is_policy_file, load_policy_module
from chartgate.packs import PolicySources, expand_pack_argument, gate_arguments, installed_packs, pack_nodeid
from chartgate.check.definition import Outcome, policies_in
from chartgate.report.safe import printable
from chartgate.options import FLAGS, SETTINGS_TABLE, option_help
from chartgate.settings import SETTINGS
from chartgate.settings import config_file as settings_config_file
from chartgate.settings import gate_config as settings_gate_config
from chartgate.settings import policy_sources_for
from chartgate.core.stop import stop_all
from chartgate.check.verdict import result_is_blocking

GATE_KEY = pytest.StashKey["Gate | None"]()
CONFIG_KEY = pytest.StashKey[GateConfig]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Every option from the one table (chartgate.options): a setting's option has its key as dest."""
    group = parser.getgroup("chartgate", "chartgate release gate (defaults: [tool.chartgate] in pyproject.toml)")
    for setting in SETTINGS_TABLE:
        if setting.flag:
            group.addoption(setting.flag, dest=setting.key, help=option_help(setting), **_parsed_as(setting))
    for flag in FLAGS:
        kind = {"metavar": flag.metavar} if flag.metavar else {"action": "store_true"}
        group.addoption(flag.flag, dest=flag.dest, help=flag.help.replace("`", ""), **kind)
    parser.addini("chartgate_policy_dir", "without a [tool.chartgate] table: name of the directory whose .py "
                  "modules are policy modules", default="policies")


def _parsed_as(setting) -> dict:
    """argparse's reading of a setting's option: lists repeat, numbers convert, a switch that defaults
    to false is a bare flag, one that defaults to true takes `true|false`."""
    if setting.kind is list:
        return {"action": "append", "metavar": setting.metavar}
    if setting.kind is bool:
        if setting.default:
            return {"type": _yes_no, "metavar": "true|false"}
        return {"action": "store_const", "const": True}
    kind = {"metavar": setting.metavar} if setting.metavar else {}
    if setting.choices:
        kind = {"choices": setting.choices}
    if setting.kind in (int, float):
        kind["type"] = setting.kind
    return kind


def _yes_no(text: str) -> bool:
    import argparse
    if text.lower() in ("true", "yes", "1"):
        return True
    if text.lower() in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def build_config(config: pytest.Config) -> GateConfig:
    """The gate's configuration: [tool.chartgate] of the invocation directory, then the command line."""
    cli = {key: config.getoption(key, None) for key in SETTINGS}  # some settings are table-only
    return settings_gate_config(cli, config.invocation_params.dir,
                                config_path=config.getoption("chartgate_config"),
                                no_cache=config.getoption("chartgate_no_cache"),
                                update_golden=config.getoption("chartgate_update_golden"),
                                changed_since=config.getoption("chartgate_changed_since"),
                                shard=config.getoption("chartgate_shard"),
                                record_timings=config.getoption("chartgate_record_timings"),
                                plan_only=config.getoption("chartgate_plan"),
                                write_baseline=config.getoption("chartgate_write_baseline"))


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """A pasted node id of an installed pack's check (`chartgate_builtin/render.py::RENDER-001[web:default]`)
    names the module file again. pytest chose its rootdir and ini from the arguments before this
    runs: such an argument is no existing path, so it never pulls the rootdir out of the repository."""
    if not any("::" in a or a.endswith(".py") for a in args):
        return
    try:
        packs = list(installed_packs().values())
    except ChartgateError:
        return  # reported when the run's sources are configured
    here = early_config.invocation_params.dir
    args[:] = [expand_pack_argument(a, here, packs, early_config.rootpath) if not a.startswith("-") else a
               for a in args]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chartgate: a chartgate policy check (added to every policy item)")
    config.stash[GATE_KEY] = None
    worker = hasattr(config, "workerinput")
    _configure_sources(config, worker=worker)
    if not worker:
        config.stash[WORKER_RESULTS_KEY] = collector = WorkerResults()
        config.pluginmanager.register(collector, "chartgate-worker-results")
        if config.pluginmanager.hasplugin("xdist"):  # its hooks exist only where it is installed
            config.pluginmanager.register(WorkerSessions(collector), "chartgate-worker-sessions")
    config.stash[SIGNALS_KEY] = _stop_on_signals(worker=worker)


def pytest_unconfigure(config: pytest.Config) -> None:
    import signal
    for signum, previous in config.stash.get(SIGNALS_KEY, {}).items():
        signal.signal(signum, previous)


SIGNALS_KEY = pytest.StashKey[dict]()  # the signal handlers chartgate replaced, restored at the end


def _stop_on_signals(*, worker: bool) -> dict:
    """SIGTERM (a CI timeout) and SIGINT (Ctrl-C) stop the run at once: nothing more is rendered or
    planned, the Helm processes running are killed (they run in sessions of their own: a signal to
    pytest does not reach them), the signal is passed on to pytest-xdist workers, and the session
    ends `incomplete`, never green."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        return {}
    stopping, replaced = [], {}

    def interrupt(signum, frame):
        stop_all(f"stopped by signal {signum}")
        _signal_children(signal.SIGTERM)
        if worker and stopping:
            return  # a worker's second signal (Ctrl-C reached it and the controller passed it on)
        stopping.append(signum)
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    for signum, default in ((signal.SIGTERM, signal.SIG_DFL), (signal.SIGINT, signal.default_int_handler)):
        previous = signal.getsignal(signum)
        if previous in (default, None):  # else someone else (an embedding program) handles it
            replaced[signum] = previous if previous is not None else default
            signal.signal(signum, interrupt)
    return replaced


def _signal_children(signum: int) -> None:
    """Pass a stop on to this process's children (pytest-xdist workers; Linux /proc, else nothing)."""
    import glob
    import os
    for path in glob.glob("/proc/self/task/*/children"):
        try:
            with open(path) as fh:
                pids = [int(pid) for pid in fh.read().split()]
        except (OSError, ValueError):
            continue
        for pid in pids:
            try:
                os.kill(pid, signum)
            except OSError:
                pass


SETUP_ERROR_KEY = pytest.StashKey[str]()  # a configuration error, reported once after collection


class SetupFailed(Exception):
    """The gate cannot be set up (bad configuration); collection stops quietly and it is reported once."""


def gate_config_for(config: pytest.Config) -> GateConfig:
    """The configuration, built on first use (only sessions that collect policy modules need it)."""
    if SETUP_ERROR_KEY in config.stash:
        raise SetupFailed(config.stash[SETUP_ERROR_KEY])
    if CONFIG_KEY not in config.stash:
        try:
            config.stash[CONFIG_KEY] = build_config(config)
        except ChartgateError as exc:
            config.stash[SETUP_ERROR_KEY] = str(exc)
            raise SetupFailed(str(exc)) from None
    return config.stash[CONFIG_KEY]


def gate_for(config: pytest.Config) -> Gate:
    """The session's Gate, created when the first policy module is collected."""
    gate = config.stash[GATE_KEY]
    if gate is None:
        gate = Gate(gate_config_for(config))
        try:
            gate.discovered
            gate.waivers
            gate.baseline  # a malformed baseline file, or --write-baseline on a shard: a configuration error
            gate._chart_setting_entries
            check_release_files(gate.release_files, [c for c in gate.discovered if isinstance(c, Chart)])
            gate.selected  # a bad --shard or --changed-since is a usage error now, not at the end
            check_output_dir(gate.config.golden_dir, "golden directory")
            check_output_dir(gate.config.report_dir, "report directory")
        except ChartgateError as exc:
            config.stash[SETUP_ERROR_KEY] = str(exc)
            raise SetupFailed(str(exc)) from None
        gate.keep_renders = bool(config.getoption("chartgate_evidence"))  # the bundle holds every render
        config.stash[GATE_KEY] = gate  # only a usable gate: sessionfinish must not hit the error again
    return gate


SOURCES_KEY = pytest.StashKey["PolicySources | None"]()  # None: no [tool.chartgate] governs the run
CLAIMED_KEY = pytest.StashKey[set]()  # resolved policy module files already collected


def _configure_sources(config: pytest.Config, *, worker: bool) -> None:
    """The run's policy sources (chartgate.packs), and the whole gate as pytest's arguments."""
    from chartgate.core.errors import ChartgateError
    config.stash[CLAIMED_KEY] = set()
    here = config.invocation_params.dir
    explicit = config.getoption("chartgate_config", None)
    try:
        sources = policy_sources_for(here, explicit)
        config_path = settings_config_file(here, explicit) if sources is not None else None
    except ChartgateError as exc:
        raise pytest.UsageError(f"chartgate: {exc}") from None
    config.stash[SOURCES_KEY] = sources
    if sources is None:
        return
    if not worker:
        _check_pytest_ini(config, config_path)
    arguments = gate_arguments(sources, config.args, here,
                               no_arguments=config.args_source is pytest.Config.ArgsSource.INVOCATION_DIR)
    if arguments is not None and not config.getoption("pyargs", False):
        config.args[:] = arguments


def _check_pytest_ini(config: pytest.Config, config_path: Path) -> None:
    """The repository's [tool.pytest.ini_options] must be the one pytest read: pytest picks its ini
    from the arguments' common directory, so a path outside the repository would silently drop it."""
    from chartgate.settings import tool_tables
    if "pytest" not in tool_tables(config_path):
        return
    if config.inipath is None or config.inipath.resolve() != config_path.resolve():
        raise pytest.UsageError(
            f"chartgate: pytest read its options from {config.inipath or 'no configuration file'}, not from "
            f"{config_path}, which holds this repository's [tool.chartgate] and [tool.pytest.ini_options]; "
            f"run pytest with paths inside the repository only, or pass `-c {config_path}`")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    config = parent.config
    sources = config.stash.get(SOURCES_KEY, None)
    if sources is not None and sources.is_module(file_path):
        resolved = file_path.resolve()
        claimed = config.stash.setdefault(CLAIMED_KEY, set())
        if resolved in claimed:
            return None  # the same module through two arguments: judged once
        claimed.add(resolved)
        nodeid = None
        if not file_path.is_relative_to(config.rootpath):  # an installed pack: <package>/<file>
            nodeid = pack_nodeid(file_path, sources.packs)
        return PolicyModule.from_parent(parent, path=file_path, nodeid=nodeid)
    policy_dir = config.getini("chartgate_policy_dir")
    if file_path.parent.name == policy_dir and is_policy_file(file_path):
        return PolicyModule.from_parent(parent, path=file_path)
    return None


class PolicyModule(pytest.File):
    """A policies/*.py module: one item per policy x chart (x scenario)."""

    def collect(self):
        module = load_policy_module(self.path)
        try:
            gate = gate_for(self.config)
        except SetupFailed:
            return  # reported once, after collection (pytest_collection_finish)
        owners = self.config.stash.setdefault(POLICY_OWNERS_KEY, {})
        for policy in policies_in(module):  # two packs (or a pack and the repository) claiming one id
            owner = owners.setdefault(policy.id, self.path.resolve())
            if owner != self.path.resolve():
                self.config.stash[SETUP_ERROR_KEY] = (
                    f"policy id {policy.id} is defined twice: in {owner} and in {self.path}; rename one, or "
                    "leave its pack out (`packs` under [tool.chartgate])")
                self.config.stash[GATE_KEY] = None  # nothing is judged, no report written
                return
        collected = self.config.stash.setdefault(COLLECTED_KEY, {})
        collected.setdefault(str(self.path), set())  # a module run, even when it plans no check
        try:  # two policies declaring one role, a waiver for the render policy: a configuration error
            checks = gate.planned_checks(policies_in(module))
        except (InvalidConfig, InvalidWaiver) as exc:
            self.config.stash[SETUP_ERROR_KEY] = str(exc)
            self.config.stash[GATE_KEY] = None  # nothing is judged, no report written
            return
        for check in checks:
            # A chart or scenario name with control characters must not reach the terminal raw.
            item = PolicyItem.from_parent(self, name=printable(f"{check.policy.id}[{check.label}]"), check=check)
            collected[str(self.path)].add(item.nodeid)
            yield item


COLLECTED_KEY = pytest.StashKey[dict]()  # policy module path -> node ids of the checks it planned
POLICY_OWNERS_KEY = pytest.StashKey[dict]()  # policy id -> the module file defining it


class ChartgateFindingWarning(UserWarning):
    """A finding of a warning-severity policy: reported, not blocking unless --fail-on warning."""


def is_blocking(result, config: pytest.Config) -> bool:
    gate_config = gate_config_for(config)
    return result_is_blocking(result, gate_config.fail_on, gate_config.fail_on_upstream)


class PolicyFailed(Exception):
    def __init__(self, result):
        self.result = result


class PolicyItem(pytest.Item):
    def __init__(self, *, check: PlannedCheck, **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.add_marker(pytest.mark.chartgate)

    def runtest(self) -> None:
        gate = gate_for(self.config)
        written_before = len(gate.golden.written)
        result = gate.evaluate(self.check)  # total: always a result, whatever the check raised
        if hasattr(self.config, "workerinput"):  # pytest-xdist: the controller writes the reports
            carried = {**result.to_dict(), "module_file": str(self.path),
                       "golden_written": [str(p) for p in gate.golden.written[written_before:]]}
            self.user_properties.append((XDIST_RESULT, carried))
        if result.outcome is Outcome.SKIPPED:
            pytest.skip(result.message or "not applicable")
        if result.outcome is Outcome.ERROR or (result.outcome is Outcome.FAILED and is_blocking(result, self.config)):
            raise PolicyFailed(result)
        if result.outcome is Outcome.FAILED:  # a warning below --fail-on: visible, not blocking
            from chartgate.report.terminal import describe_result
            warnings.warn(ChartgateFindingWarning(describe_result(result, _redactor(self.config), self.config.rootpath)),
                          stacklevel=1)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PolicyFailed):
            from chartgate.report.terminal import describe_result
            return describe_result(excinfo.value.result, _redactor(self.config), self.config.rootpath)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.check.policy.id} {self.check.label}"


SELECTED_KEY = pytest.StashKey[int]()  # policy items left after -k/-m/node-id selection


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """One chart at a time: its items together (policy order kept within a chart), so a chart's renders
    are made, judged and released before the next chart's - memory bounded by one chart, not the
    monorepo. Under pytest-xdist, `--dist loadgroup` keeps each chart on one worker."""
    if config.stash.get(GATE_KEY, None) is None:
        return
    position = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (item.check.chart, position[id(item)]) if isinstance(item, PolicyItem)
               else ("", position[id(item)]))
    if config.pluginmanager.hasplugin("xdist"):  # its marker is registered only where it is installed
        for item in items:
            if isinstance(item, PolicyItem):
                item.add_marker(pytest.mark.xdist_group(item.check.chart))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Render a chart's scenarios when its first item runs; release them after its last."""
    gate = item.config.stash.get(GATE_KEY, None) if isinstance(item, PolicyItem) else None
    if gate is not None:
        gate.begin_chart(item.check.chart)
    yield
    if gate is not None and not (isinstance(nextitem, PolicyItem) and nextitem.check.chart == item.check.chart):
        gate.end_chart(item.check.chart)


def pytest_collection_finish(session: pytest.Session) -> None:
    """After selection (-k, node ids): print the plan, or render what the selected items need."""
    config = session.config
    if SETUP_ERROR_KEY in config.stash:
        raise pytest.UsageError(f"chartgate: {config.stash[SETUP_ERROR_KEY]}\n"
                                "(nothing was judged and no report was written; previous reports are unchanged)")
    gate = config.stash[GATE_KEY]
    if gate is None:
        return
    config.stash[SELECTED_KEY] = sum(isinstance(item, PolicyItem) for item in session.items)
    _record_scope(session, gate)
    if config.getoption("chartgate_plan"):
        config.get_terminal_writer().line(gate.describe_plans())
        pytest.exit("--plan: nothing of the plans was rendered", returncode=0)
    # Rendering happens per chart, when its first item runs (see pytest_runtest_protocol); in a serial
    # session the next chart's renders are made while one chart is judged.
    for item in session.items:
        if isinstance(item, PolicyItem):
            gate.session_checks.setdefault(item.check.chart, []).append(item.check)
    if not hasattr(config, "workerinput"):
        gate.chart_order = list(gate.session_checks)  # items run chart by chart, in this order


def _record_scope(session: pytest.Session, gate: Gate) -> None:
    """What of the whole gate was selected: checks collected but not selected (-k, -m, --deselect,
    node ids, --lf), and policy modules of the same pack not collected at all."""
    from chartgate.report.partial import modules_not_run
    collected = session.config.stash.get(COLLECTED_KEY, {})
    selected = {item.nodeid for item in session.items if isinstance(item, PolicyItem)}
    every = set().union(*collected.values()) if collected else set()
    here = session.config.invocation_params.dir

    sources = session.config.stash.get(SOURCES_KEY, None)  # the whole gate: every enabled pack + own

    def shown(path) -> str:  # as the user would type it: below the invocation directory, or a pack's
        if Path(path).is_relative_to(here):
            return os.path.relpath(path, here)
        return (pack_nodeid(Path(path), sources.packs) if sources is not None else None) or str(path)

    gate.scope.collected = len(every)
    gate.scope.deselected = sorted(every - selected)
    gate.scope.modules_run = [shown(p) for p in sorted(collected)]
    whole = sources.modules() if sources is not None else ()
    gate.scope.modules_not_run = [shown(p) for p in modules_not_run({Path(p) for p in collected}, whole)]


XDIST_RESULT = "chartgate_result"
XDIST_SESSION = "chartgate"  # key in a worker's workeroutput: did it run a chartgate session, and how


class WorkerResults:
    """On a pytest-xdist controller: the results workers attach to their reports, and what each
    worker says about its session (so a run that selected nothing is still reported; see
    WorkerSessions)."""

    def __init__(self):
        self.results: list[dict] = []
        self.sessions: list[dict] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        carried = [value for name, value in report.user_properties if name == XDIST_RESULT]
        if carried and report.when == "call":
            self.results.extend(carried)
        if carried:  # kept out of other plugins' output: pytest's --junitxml would print them unredacted
            report.user_properties = [(n, v) for n, v in report.user_properties if n != XDIST_RESULT]


class WorkerSessions:
    """pytest-xdist's own hooks, registered only when xdist is installed: pytest refuses a plugin
    implementing a hook nobody declared, so without the `[parallel]` extra they would stop every run."""

    def __init__(self, collector: WorkerResults):
        self.collector = collector

    def pytest_testnodedown(self, node, error) -> None:
        info = getattr(node, "workeroutput", {}).get(XDIST_SESSION)
        if info:
            self.collector.sessions.append(info)


WORKER_RESULTS_KEY = pytest.StashKey[WorkerResults]()


def _controller_gate(session: pytest.Session) -> Gate | None:
    """On an xdist controller: a gate that knows the charts and plans and holds the workers' results."""
    config = session.config
    collector = config.stash[WORKER_RESULTS_KEY]
    carried = collector.results
    interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
    if not carried and not collector.sessions and not (interrupted and _names_policy_modules(config)):
        return None  # not a chartgate session (e.g. chartgate's own test suite)
    gate = config.stash[GATE_KEY] = Gate(gate_config_for(config))
    policies = {}
    for path in sorted({data["module_file"] for data in carried}):
        policies.update({p.id: p for p in policies_in(load_policy_module(Path(path)))})
    for data in carried:
        gate.ingest(data, policies[data["policy"]])
        gate.golden.written.extend(Path(p) for p in data.get("golden_written", ()))
    incomplete = incomplete_reason(gate, session.testscollected, session.exitstatus)
    if incomplete:  # before anything below reads the plans: planning renders, and the run has stopped
        gate.stop.request(incomplete)
    gate.teach_redactor()
    for session in collector.sessions:  # secrets the workers' renders taught them
        gate.redactor.absorb(session.get("redaction") or {})
    scope = next((s["scope"] for s in collector.sessions if s.get("scope")), None)
    if scope:
        gate.scope = Scope(**scope)
    config.stash[CONTROLLER_POLICIES_KEY] = list(policies.values())  # the evidence bundle renders them
    return gate


CONTROLLER_POLICIES_KEY = pytest.StashKey[list]()  # on an xdist controller: the policies the workers ran


def _names_policy_modules(config: pytest.Config) -> bool:
    """Do the command-line paths hold policy modules? An xdist controller interrupted before any worker
    reported knows its session is a chartgate one only from its arguments."""
    sources = config.stash.get(SOURCES_KEY, None)
    for arg in config.args if sources is not None else ():
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if any(path.is_relative_to(d) or d.is_relative_to(path) for d in sources.directories()):
            return True
    policy_dir = config.getini("chartgate_policy_dir")
    for arg in config.args:
        path = config.invocation_params.dir / arg.split("::")[0]
        candidates = [path] if path.is_file() else [*path.glob("*.py"), *path.rglob(f"{policy_dir}/*.py")]
        if any(p.parent.name == policy_dir and is_policy_file(p) for p in candidates):
            return True
    return False


def incomplete_reason(gate: Gate, selected: int | None, exitstatus, collect_only: bool = False) -> str | None:
    """Why this session did not judge everything it planned, or None when it did. `selected` is None
    when collection (planning) did not finish."""
    if not gate.discovered:
        roots = ", ".join(str(r) for r in gate.config.chart_roots)
        return f"no chart found under {roots} (a chart is a directory holding a Chart.yaml)"
    judged = len(gate.results)
    if collect_only and selected:
        return f"collected only (--collect-only/--co): {selected} checks collected, none judged"
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        if not selected:
            return "interrupted while planning, before any check was judged"
        return f"interrupted: {judged} of {selected} checks judged"
    if selected is None:
        return "collection (planning) did not finish: nothing judged"
    if selected == 0:
        if gate.config.shard and not gate.selected:
            return None  # more shards than charts: this shard has none, legitimately (merge counts it)
        return "nothing selected: -k, -m or the node ids given deselected every check"
    if judged < selected:
        return f"stopped early (-x/--maxfail, or a crashed worker): {judged} of {selected} checks judged"
    return None


@pytest.hookimpl(tryfirst=True)  # on an xdist controller: before xdist waits (up to 10s) for its workers
def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    """Report, and map the session's exit status (chartgate.core.exitcodes). pytest lets an exception
    raised here end the process with status 1 - "blocking findings" - so a failure to finish is
    caught: a configuration error is 4, anything else (a chartgate bug) 3."""
    try:
        _finish_session(session)
    except ChartgateError as exc:
        session.config.get_terminal_writer().line(printable(f"chartgate: {exc}"), red=True)
        session.exitstatus = Exit.USAGE
    except Exception:  # noqa: BLE001
        import traceback
        session.config.get_terminal_writer().line(
            printable(f"chartgate: internal error while finishing the run:\n{traceback.format_exc()}"), red=True)
        session.exitstatus = Exit.INTERNAL


def _finish_session(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        gate = config.stash.get(GATE_KEY, None)
        if gate is not None:  # tell the controller a chartgate session ran here, even with no results
            gate.teach_redactor()
            # What this worker's renders taught the redactor: the controller never sees those renders.
            config.workeroutput[XDIST_SESSION] = {"charts": len(gate.discovered),
                                                  "redaction": gate.redactor.export(),
                                                  "scope": vars(gate.scope)}  # every worker collects alike
            gate.save_caches()  # each worker caches the results it judged (the controller only ingests)
        return  # the controller reports for the whole session
    if config.getoption("chartgate_plan", False):
        return
    gate = config.stash.get(GATE_KEY, None)
    selected = config.stash.get(SELECTED_KEY, None)  # None in a serial session: collection did not finish
    if gate is None:  # an xdist controller: the workers' collection
        try:
            gate = _controller_gate(session)
        except SetupFailed:  # a configuration error the workers met too: a usage error, not a crash
            session.exitstatus = Exit.USAGE
            return
        selected = session.testscollected
    if gate is None:
        return
    incomplete = incomplete_reason(gate, selected, session.exitstatus, config.getoption("collectonly", False))
    if not incomplete and config.getoption("chartgate_evidence") and CONTROLLER_POLICIES_KEY in config.stash:
        try:  # an xdist controller's bundle holds every render: from the shared cache (never after a stop)
            gate.prerender(gate.planned_checks(config.stash[CONTROLLER_POLICIES_KEY]))
        except ChartgateError:
            pass
    summary = gate.finish(incomplete)
    evidence = config.getoption("chartgate_evidence")
    if evidence:
        from chartgate.report.evidence import write_evidence
        summary.reports["evidence"] = write_evidence(summary, config.invocation_params.dir / evidence)
    config.stash[SUMMARY_KEY] = summary
    if not gate.discovered:  # no chart under the roots: a configuration error (it still wrote reports)
        session.exitstatus = Exit.USAGE
    else:  # the one mapping of chartgate.core.exitcodes, shared with `chartgate check` and `chartgate merge`
        session.exitstatus = exitcodes.for_session(session.exitstatus, summary.verdict, summary.record.blocking_seen)


SUMMARY_KEY = pytest.StashKey["GateSummary"]()
#: The exit status of a partial or incomplete run that saw nothing blocking (see chartgate.core.exitcodes).
EXIT_NOT_WHOLE = Exit.NOT_WHOLE


def _redactor(config: pytest.Config):
    """The session gate's one redactor: terminal text must not leak what the reports redact."""
    return gate_for(config).redactor


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    summary = config.stash.get(SUMMARY_KEY, None)
    if summary is not None:
        from chartgate.report.terminal import write_summary
        write_summary(terminalreporter, summary)
