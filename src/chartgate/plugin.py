"""The pytest plugin: options, collection of policy modules into items, and thin hooks that hand
off to the engine's Gate (discover, plan, render, check, compare, report)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from .errors import ChartgateError
from .gate import Gate, GateConfig, PlannedCheck
from .loader import is_policy_file, load_policy_module
from .policy import Outcome, policies_in
from .settings import SETTINGS
from .settings import gate_config as settings_gate_config

GATE_KEY = pytest.StashKey["Gate | None"]()
CONFIG_KEY = pytest.StashKey[GateConfig]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chartgate", "chartgate release gate (defaults: [tool.chartgate] in pyproject.toml)")
    add = group.addoption
    add("--chart-root", action="append", dest="chart-roots", metavar="PATH",
        help="directory tree searched for charts (every dir with a Chart.yaml); repeatable. Default: fixtures/charts")
    add("--overlay-root", action="append", dest="overlay-roots", metavar="PATH",
        help="directory with <chart>/base.yaml and <chart>/*-values.yaml scenario overlays; repeatable. "
             "Default: fixtures/overlays")
    add("--release-overlay", action="append", dest="release-overlays", metavar="GLOB",
        help="glob of Flux HelmRelease files whose releases become scenarios; repeatable. "
             "Default: fixtures/clusters/**/*.yaml")
    add("--report-dir", dest="report-dir", metavar="DIR", help="where the reports are written (default: reports/)")
    add("--golden-dir", dest="golden-dir", metavar="DIR",
        help="golden kind summaries, <dir>/<chart>/<scenario>.yaml (default: golden/)")
    add("--update-golden", action="store_true", dest="chartgate_update_golden",
        help="rewrite drifted or missing golden files and delete orphaned ones")
    add("--cache-dir", dest="cache-dir", metavar="DIR",
        help="render cache (default: $XDG_CACHE_HOME/chartgate, else ~/.cache/chartgate)")
    add("--no-render-cache", action="store_true", dest="chartgate_no_cache",
        help="render everything afresh; do not read or write the render cache")
    add("--render-timeout", dest="render-timeout", type=float, metavar="SECONDS",
        help="kill a single `helm template` after this long (default: 120)")
    add("--platform-config", dest="platform-config", metavar="FILE",
        help="platform facts file (default: platform.yaml in the rootdir)")
    add("--waivers", dest="waivers", metavar="FILE", help="waivers file (default: waivers.yaml in the rootdir)")
    add("--fail-on", dest="fail-on", choices=("error", "warning"),
        help="lowest severity whose findings make the gate red (default: error)")
    add("--helm-version", action="append", dest="helm-versions", metavar="VERSION",
        help="pinned Helm version(s) to render with; the first is primary, the others are compared by "
             "HELM-001; repeatable (default: 4.1.4 and 3.18.0)")
    add("--strength", dest="strength", type=int, metavar="T",
        help="t of the t-wise covering plan over toggles x capabilities (default: 2, pairwise)")
    add("--exhaustive-threshold", dest="exhaustive-threshold", type=int, metavar="N",
        help="enumerate every combination when there are at most N (default: 32)")
    add("--plan", action="store_true", dest="chartgate_plan",
        help="print each chart's scenario plan (factors, size against the exhaustive size, estimated "
             "renders) and exit before rendering anything")
    add("--changed-since", dest="chartgate_changed_since", metavar="REV",
        help="only charts with files changed since git REV, plus the charts that depend on them")
    add("--shard", dest="chartgate_shard", metavar="I/N",
        help="run only shard I of N (charts split deterministically by name)")
    add("--evidence", dest="chartgate_evidence", metavar="PATH",
        help="also write an evidence bundle (tar.gz: reports, every rendered manifest, SHA256SUMS) to PATH")
    parser.addini("chartgate_policy_dir", "name of the directory whose .py modules are policy modules",
                  default="policies")


def build_config(config: pytest.Config) -> GateConfig:
    cli = {key: config.getoption(key) for key in SETTINGS}
    try:
        return settings_gate_config(cli, config.rootpath, no_cache=config.getoption("chartgate_no_cache"),
                                    update_golden=config.getoption("chartgate_update_golden"),
                                    changed_since=config.getoption("chartgate_changed_since"),
                                    shard=config.getoption("chartgate_shard"))
    except ChartgateError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chartgate: a chartgate policy check (added to every policy item)")
    config.stash[CONFIG_KEY] = build_config(config)
    config.stash[GATE_KEY] = None
    if not hasattr(config, "workerinput"):
        config.stash[WORKER_RESULTS_KEY] = collector = WorkerResults()
        config.pluginmanager.register(collector, "chartgate-worker-results")
    for root in config.getoption("chart-roots") or ():  # explicit ones only: defaults may not apply
        if not (Path.cwd() / root).is_dir():
            raise pytest.UsageError(f"--chart-root must be a directory, given: {root}")


def gate_for(config: pytest.Config) -> Gate:
    """The session's Gate, created when the first policy module is collected."""
    gate = config.stash[GATE_KEY]
    if gate is None:
        gate = Gate(config.stash[CONFIG_KEY])
        try:
            gate.discovered
            gate.waivers
        except ChartgateError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[GATE_KEY] = gate  # only a usable gate: sessionfinish must not hit the error again
    return gate


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    policy_dir = parent.config.getini("chartgate_policy_dir")
    if file_path.parent.name == policy_dir and is_policy_file(file_path):
        return PolicyModule.from_parent(parent, path=file_path)
    return None


class PolicyModule(pytest.File):
    """A policies/*.py module: one item per policy x chart (x scenario)."""

    def collect(self):
        module = load_policy_module(self.path)
        gate = gate_for(self.config)
        for check in gate.planned_checks(policies_in(module)):
            yield PolicyItem.from_parent(self, name=f"{check.policy.id}[{check.label}]", check=check)


class ChartgateFindingWarning(UserWarning):
    """A finding of a warning-severity policy: reported, not blocking unless --fail-on warning."""


def is_blocking(result, config: pytest.Config) -> bool:
    return result.severity.value == "error" or config.stash[CONFIG_KEY].fail_on == "warning"


class PolicyFailed(Exception):
    def __init__(self, result):
        self.result = result


class PolicyItem(pytest.Item):
    def __init__(self, *, check: PlannedCheck, **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.add_marker(pytest.mark.chartgate)

    def runtest(self) -> None:
        result = gate_for(self.config).evaluate(self.check)
        if hasattr(self.config, "workerinput"):  # pytest-xdist: the controller writes the reports
            self.user_properties.append((XDIST_RESULT, {**result.to_dict(), "module_file": str(self.path)}))
        if result.outcome is Outcome.SKIPPED:
            pytest.skip(result.message or "not applicable")
        if result.outcome is Outcome.ERROR or (result.outcome is Outcome.FAILED and is_blocking(result, self.config)):
            raise PolicyFailed(result)
        if result.outcome is Outcome.FAILED:  # a warning below --fail-on: visible, not blocking
            from .terminal import describe_result
            warnings.warn(ChartgateFindingWarning(describe_result(result, _redactor(self.config))), stacklevel=1)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PolicyFailed):
            from .terminal import describe_result
            return describe_result(excinfo.value.result, _redactor(self.config))
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.check.policy.id} {self.check.label}"


def pytest_collection_finish(session: pytest.Session) -> None:
    """After selection (-k, node ids): print the plan, or render what the selected items need."""
    config = session.config
    gate = config.stash[GATE_KEY]
    if gate is None:
        return
    if config.getoption("chartgate_plan"):
        config.get_terminal_writer().line(gate.describe_plans())
        pytest.exit("--plan: nothing rendered", returncode=0)
    if hasattr(config, "workerinput"):
        return  # under pytest-xdist each worker renders lazily; the shared disk cache dedupes
    checks = [item.check for item in session.items if isinstance(item, PolicyItem)]
    try:
        gate.prerender(checks)
    except ChartgateError:
        pass  # surfaced per item as an `error` result with the same message


XDIST_RESULT = "chartgate_result"


class WorkerResults:
    """On a pytest-xdist controller: the results workers attach to their reports."""

    def __init__(self):
        self.results: list[dict] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        carried = [value for name, value in report.user_properties if name == XDIST_RESULT]
        if carried and report.when == "call":
            self.results.extend(carried)
        if carried:  # kept out of other plugins' output: pytest's --junitxml would print them unredacted
            report.user_properties = [(n, v) for n, v in report.user_properties if n != XDIST_RESULT]


WORKER_RESULTS_KEY = pytest.StashKey[WorkerResults]()


def _controller_gate(config: pytest.Config) -> Gate | None:
    """On an xdist controller: a gate that knows the charts and plans and holds the workers' results."""
    carried = config.stash[WORKER_RESULTS_KEY].results
    if not carried:
        return None
    gate = config.stash[GATE_KEY] = Gate(config.stash[CONFIG_KEY])
    policies = {}
    for path in sorted({data["module_file"] for data in carried}):
        policies.update({p.id: p for p in policies_in(load_policy_module(Path(path)))})
    for data in carried:
        gate.ingest(data, policies[data["policy"]])
    try:  # renders come from the shared cache: evidence and redaction need them
        gate.prerender(gate.planned_checks(policies.values()))
    except ChartgateError:
        pass
    return gate


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    if hasattr(session.config, "workerinput"):
        return  # the controller reports for the whole session
    gate = session.config.stash.get(GATE_KEY, None) or _controller_gate(session.config)
    if gate is None or not gate.results and not gate.broken:
        return
    summary = gate.finish()
    evidence = session.config.getoption("chartgate_evidence")
    if evidence:
        from .evidence import write_evidence
        summary.reports["evidence"] = write_evidence(gate, summary, session.config.invocation_params.dir / evidence)
    session.config.stash[SUMMARY_KEY] = summary
    if summary.red and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


SUMMARY_KEY = pytest.StashKey["GateSummary"]()


def _redactor(config: pytest.Config):
    """The session gate's redactor: terminal text must not leak what the reports redact."""
    from .redact import redactor_for
    return redactor_for(gate_for(config))


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    summary = config.stash.get(SUMMARY_KEY, None)
    if summary is not None:
        from .terminal import write_summary
        write_summary(terminalreporter, summary)
