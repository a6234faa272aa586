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
from .render import default_cache_dir

GATE_KEY = pytest.StashKey["Gate | None"]()
CONFIG_KEY = pytest.StashKey[GateConfig]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chartgate", "chartgate release gate")
    group.addoption("--chart-root", action="append", dest="chartgate_chart_roots", metavar="PATH", default=None,
                    help="directory tree searched for charts (every dir with a Chart.yaml); repeatable. "
                         "Default: fixtures/charts")
    group.addoption("--overlay-root", action="append", dest="chartgate_overlay_roots", metavar="PATH",
                    default=None, help="directory with <chart>/base.yaml and <chart>/*-values.yaml scenario "
                                       "overlays; repeatable. Default: fixtures/overlays")
    group.addoption("--report-dir", dest="chartgate_report_dir", metavar="DIR", default="reports",
                    help="where chartgate.json and the other reports are written (default: reports/)")
    group.addoption("--golden-dir", dest="chartgate_golden_dir", metavar="DIR", default="golden",
                    help="golden kind summaries, golden/<chart>/<scenario>.yaml (default: golden/)")
    group.addoption("--update-golden", action="store_true", dest="chartgate_update_golden",
                    help="rewrite drifted or missing golden files and delete orphaned ones")
    group.addoption("--cache-dir", dest="chartgate_cache_dir", metavar="DIR", default=None,
                    help="render cache (default: $XDG_CACHE_HOME/chartgate or ~/.cache/chartgate)")
    group.addoption("--no-render-cache", action="store_true", dest="chartgate_no_cache",
                    help="render everything afresh; do not read or write the render cache")
    group.addoption("--render-timeout", dest="chartgate_render_timeout", type=float, default=120.0,
                    metavar="SECONDS", help="kill a single `helm template` after this long (default: 120)")
    group.addoption("--platform-config", dest="chartgate_platform", metavar="FILE", default=None,
                    help="platform facts file (default: platform.yaml in the rootdir when present)")
    group.addoption("--waivers", dest="chartgate_waivers", metavar="FILE", default=None,
                    help="waivers file (default: waivers.yaml in the rootdir when present)")
    group.addoption("--fail-on", dest="chartgate_fail_on", choices=("error", "warning"), default="error",
                    help="lowest severity whose findings make the gate red (default: error)")
    parser.addini("chartgate_policy_dir", "name of the directory whose .py modules are policy modules",
                  default="policies")


def _resolve(root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def build_config(config: pytest.Config) -> GateConfig:
    root = config.rootpath
    opt = config.getoption
    platform = opt("chartgate_platform")
    if platform is None and (root / "platform.yaml").is_file():
        platform = "platform.yaml"
    waivers = opt("chartgate_waivers")
    if waivers is None and (root / "waivers.yaml").is_file():
        waivers = str(root / "waivers.yaml")
    cache = None if opt("chartgate_no_cache") else (
        _resolve(Path.cwd(), opt("chartgate_cache_dir")) if opt("chartgate_cache_dir") else default_cache_dir())
    return GateConfig(
        chart_roots=tuple(_resolve(Path.cwd(), p) for p in (opt("chartgate_chart_roots") or [str(root / "fixtures/charts")])),
        overlay_roots=tuple(_resolve(Path.cwd(), p) for p in (opt("chartgate_overlay_roots") or [str(root / "fixtures/overlays")])),
        report_dir=_resolve(Path.cwd(), opt("chartgate_report_dir")),
        golden_dir=_resolve(Path.cwd(), opt("chartgate_golden_dir")),
        update_golden=opt("chartgate_update_golden"),
        cache_dir=cache,
        tools_dir=root / ".tools",
        render_timeout=opt("chartgate_render_timeout"),
        platform_file=_resolve(root, platform) if platform else None,
        waivers_file=_resolve(Path.cwd(), waivers) if waivers else None,
        fail_on=opt("chartgate_fail_on"),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chartgate: a chartgate policy check (added to every policy item)")
    config.stash[CONFIG_KEY] = build_config(config)
    config.stash[GATE_KEY] = None


def gate_for(config: pytest.Config) -> Gate:
    """The session's Gate, created when the first policy module is collected."""
    gate = config.stash[GATE_KEY]
    if gate is None:
        gate = config.stash[GATE_KEY] = Gate(config.stash[CONFIG_KEY])
        try:
            gate.discovered
            gate.waivers
        except ChartgateError as exc:
            raise pytest.UsageError(str(exc)) from None
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
        self.user_properties.append(("chartgate_outcome", result.outcome.value))
        if result.outcome is Outcome.SKIPPED:
            pytest.skip(result.message or "not applicable")
        if result.outcome is Outcome.ERROR or (result.outcome is Outcome.FAILED and is_blocking(result, self.config)):
            raise PolicyFailed(result)
        if result.outcome is Outcome.FAILED:  # a warning below --fail-on: visible, not blocking
            from .terminal import describe_result
            warnings.warn(ChartgateFindingWarning(describe_result(result)), stacklevel=1)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PolicyFailed):
            from .terminal import describe_result
            return describe_result(excinfo.value.result)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.check.policy.id} {self.check.label}"


def pytest_collection_modifyitems(session, config, items):
    gate = config.stash[GATE_KEY]
    if gate is None:
        return
    checks = [item.check for item in items if isinstance(item, PolicyItem)]
    try:
        gate.prerender(checks)
    except ChartgateError:
        pass  # surfaced per item as an `error` result with the same message


def pytest_deselected(items):
    for item in items:
        if isinstance(item, PolicyItem) and item.check.policy.id == "GOLD-001":
            gate = item.config.stash[GATE_KEY]
            if gate is not None:
                gate.deselected_golden = True


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    gate = session.config.stash.get(GATE_KEY, None)
    if gate is None or not gate.results and not gate.broken:
        return
    summary = gate.finish()
    session.config.stash[SUMMARY_KEY] = summary
    if summary.red and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


SUMMARY_KEY = pytest.StashKey["GateSummary"]()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    summary = config.stash.get(SUMMARY_KEY, None)
    if summary is not None:
        from .terminal import write_summary
        write_summary(terminalreporter, summary)
