"""The engine's session: discover -> plan -> render -> check -> compare -> report.

Usable without pytest: `Gate(GateConfig(...)).run(policies)` evaluates every policy and writes the
reports. The pytest plugin drives the same object item by item.
"""

from __future__ import annotations

import glob
import os
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Iterable

from .capabilities import advertised_apis
from .charts import BrokenChart, Chart, discover
from .context import ChartContext, ScenarioContext
from .errors import ChartgateError, RenderError
from .golden import GoldenStore
from .helm import DEFAULT_TIMEOUT, Helm
from .kube import DEFAULT_KUBE_VERSION
from .policy import NotApplicable, Outcome, Policy, Result, file_sha256
from .render import Renderer, default_cache_dir
from .planner import DEFAULT_PLAN_THRESHOLD, CombinationPlan, PlanConfig, describe_plans, plan_combinations
from .releases import release_scenarios
from .scenarios import Scenario, plan_chart
from .selection import changed_charts, changed_files, parse_shard, shard
from .toolchain import DEFAULT_HELM_VERSION, locate
from .waivers import WaiverBook, load_waivers


GOLDEN_POLICY = "GOLD-001"  # the policy whose results decide which golden files are in use


@dataclass
class GateConfig:
    chart_roots: tuple[Path, ...] = (Path("fixtures/charts"),)
    overlay_roots: tuple[Path, ...] = (Path("fixtures/overlays"),)
    report_dir: Path = Path("reports")
    golden_dir: Path = Path("golden")
    update_golden: bool = False
    cache_dir: Path | None = field(default_factory=default_cache_dir)
    tools_dir: Path = Path(".tools")
    helm_versions: tuple[str, ...] = (DEFAULT_HELM_VERSION, "3.18.0")  # first is primary; others: HELM- matrix
    render_timeout: float = DEFAULT_TIMEOUT
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    kube_versions: tuple[str, ...] | None = None  # None: the platform file's kubernetesVersions
    platform_file: Path | None = None
    waivers_file: Path | None = None
    fail_on: str = "error"
    today: date | None = None  # for waiver expiry; None means the real date
    release_globs: tuple[str, ...] = ()  # Flux HelmRelease files, e.g. clusters/**/*.yaml
    changed_since: str | None = None
    shard: str | None = None  # "I/N"
    strength: int = 2  # t of the covering plan
    exhaustive_threshold: int = DEFAULT_PLAN_THRESHOLD


@dataclass
class PlannedCheck:
    """One policy applied to one chart (and scenario): a pytest item, a row in the report."""

    policy: Policy
    chart: str
    scenario: str | None

    @property
    def label(self) -> str:
        return f"{self.chart}:{self.scenario}" if self.scenario else self.chart


class Gate:
    def __init__(self, config: GateConfig):
        self.config = config
        self.results: list[Result] = []
        self.started = datetime.now(timezone.utc)
        self._lock = threading.Lock()
        self._setup_error: ChartgateError | None = None  # see chart_context()
        self.golden = GoldenStore(Path(config.golden_dir), update=config.update_golden)
        self.policy_modules: dict[str, str] = {}  # module path -> sha256
        self.policy_ids: set[str] = set()  # every policy planned this session

    # -- discover / plan ------------------------------------------------------------------------
    @cached_property
    def discovered(self) -> list[Chart | BrokenChart]:
        for root in self.config.chart_roots:
            if not Path(root).is_dir():
                raise ChartgateError(f"--chart-root must be a directory, given: {root}")
        return discover(self.config.chart_roots)

    @cached_property
    def selected(self) -> set[str]:
        """Names of the charts this run covers, after --changed-since and --shard."""
        loaded = {c.name: c for c in self.discovered if isinstance(c, Chart)}
        names = {c.name for c in self.discovered}
        if self.config.changed_since:
            changed = changed_files(Path(self.config.chart_roots[0]), self.config.changed_since)
            names = changed_charts(loaded, changed) | {
                b.name for b in self.discovered if isinstance(b, BrokenChart)
                and any(b.path.resolve() in p.parents for p in changed)}
        if self.config.shard:
            names = shard(sorted(names), *parse_shard(self.config.shard))
        return names

    @cached_property
    def charts(self) -> dict[str, Chart]:
        return {c.name: c for c in self.discovered if isinstance(c, Chart) and c.name in self.selected}

    @cached_property
    def broken(self) -> dict[str, BrokenChart]:
        return {c.name: c for c in self.discovered if isinstance(c, BrokenChart) and c.name in self.selected}

    @cached_property
    def release_files(self) -> list[Path]:
        return sorted({Path(p) for pattern in self.config.release_globs
                       for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file()})

    @cached_property
    def combination_plans(self) -> dict[str, CombinationPlan]:
        """Per chart: the t-wise covering plan over toggles x capabilities, beside the declared scenarios."""
        config = PlanConfig(strength=self.config.strength, exhaustive_threshold=self.config.exhaustive_threshold,
                            kube_versions=self.kube_versions)
        plans = {}
        for name, chart in self.charts.items():
            declared = plan_chart(chart, tuple(self.config.overlay_roots), self.kube_versions)
            declared += release_scenarios(chart, self.release_files, advertised_apis(chart))
            plans[name] = plan_combinations(chart, self.config.overlay_roots, config, existing=declared)
        return plans

    @cached_property
    def plans(self) -> dict[str, list[Scenario]]:
        return {name: list(plan.existing) + list(plan.scenarios) for name, plan in self.combination_plans.items()}

    def describe_plans(self) -> str:
        return describe_plans(self.combination_plans[name] for name in sorted(self.combination_plans))

    @cached_property
    def platform(self):
        from .platform import load_platform
        return load_platform(self.config.platform_file)

    @cached_property
    def waivers(self) -> WaiverBook:
        path = self.config.waivers_file
        return WaiverBook(load_waivers(path) if path else [], today=self.config.today or date.today())

    @cached_property
    def kube_versions(self) -> tuple[str, ...]:
        return tuple(self.config.kube_versions or self.platform.kubernetes_versions or (DEFAULT_KUBE_VERSION,))

    def _helm(self, version: str, *, honour_override: bool) -> Helm:
        env = None if honour_override else {}
        location = locate(Path(self.config.tools_dir), version, env=env)
        helm = Helm(location, timeout=self.config.render_timeout)
        helm.version  # fail early, once, with a clear message if the binary is unusable
        return helm

    @cached_property
    def helm(self) -> Helm:
        """The primary Helm: HELM_BIN when set, else the first pinned version."""
        return self._helm(self.config.helm_versions[0], honour_override=True)

    @cached_property
    def renderer(self) -> Renderer:
        return Renderer(self.helm, self.config.cache_dir, workers=self.config.workers)

    @cached_property
    def matrix_renderers(self) -> dict[str, Renderer]:
        """Renderers for the other pinned Helm versions (compared by the HELM- policies)."""
        return {v: Renderer(self._helm(v, honour_override=False), self.config.cache_dir, workers=self.config.workers)
                for v in self.config.helm_versions[1:]}

    @cached_property
    def contexts(self) -> dict[str, ChartContext]:
        return {name: ChartContext(chart, self.plans[name], self.renderer, self.platform, self.golden,
                                   self.kube_versions, helm_versions=tuple(self.config.helm_versions),
                                   matrix_renderers=lambda: self.matrix_renderers)
                for name, chart in self.charts.items()}

    def planned_checks(self, policies: Iterable[Policy]) -> list[PlannedCheck]:
        checks = []
        for policy in policies:
            self.policy_ids.add(policy.id)
            for name in sorted(set(self.charts) | set(self.broken)):
                if name in self.broken or not policy.per_scenario:
                    checks.append(PlannedCheck(policy, name, None))
                    continue
                checks += [PlannedCheck(policy, name, s.name) for s in self.plans[name] if policy.applies_to(s)]
        return checks

    def prerender(self, checks: Iterable[PlannedCheck]) -> None:
        """Render every planned scenario of the charts these checks touch, in parallel."""
        charts = sorted({c.chart for c in checks if c.chart in self.charts})
        self.renderer.render_all((self.charts[name], s) for name in charts for s in self.plans[name])

    # -- check ----------------------------------------------------------------------------------
    def chart_context(self, name: str) -> ChartContext:
        """The chart's context. A setup failure (no usable Helm) is raised, remembered, raised again."""
        if self._setup_error is None:
            try:
                return self.contexts[name]
            except ChartgateError as exc:
                self._setup_error = exc
        raise self._setup_error

    def evaluate(self, check: PlannedCheck) -> Result:
        policy, chart_name = check.policy, check.chart
        if policy.module_path and policy.module_path not in self.policy_modules:
            self._hash_module(policy)
        if chart_name in self.broken:
            result = Result(policy, chart_name, check.scenario, Outcome.ERROR,
                            message=f"chart could not be loaded: {self.broken[chart_name].error}")
            return self._record(result)
        try:
            ctx = self.chart_context(chart_name)
        except ChartgateError as exc:  # Helm missing, tampered or unsupported: every check says so
            return self._record(Result(policy, chart_name, check.scenario, Outcome.ERROR, message=str(exc)))
        scenario = ctx.scenario(check.scenario) if check.scenario else None
        command = ""
        try:
            if scenario is not None:
                render = ctx.try_render(scenario)
                command = render.command
                if render.error is not None and not policy.judges_failed_renders:
                    raise render.error
                findings = list(policy.check(ScenarioContext(ctx, scenario, render)) or [])
            else:
                findings = list(policy.check(ctx) or [])
        except NotApplicable as exc:
            result = Result(policy, chart_name, check.scenario, Outcome.SKIPPED, message=str(exc))
        except RenderError as exc:
            result = Result(policy, chart_name, check.scenario, Outcome.ERROR, message=str(exc),
                            command=exc.command)
        except ChartgateError as exc:
            result = Result(policy, chart_name, check.scenario, Outcome.ERROR, message=str(exc))
        else:
            outcome = Outcome.FAILED if findings else Outcome.PASSED
            result = Result(policy, chart_name, check.scenario, outcome, findings, command=command)
        if scenario is not None:
            result.scenario_inputs = scenario.describe_inputs()
        return self._record(self.waivers.apply(result))

    def _record(self, result: Result) -> Result:
        with self._lock:
            self.results.append(result)
        return result

    def _hash_module(self, policy: Policy) -> None:
        import sys
        module = sys.modules.get(policy.module_path)
        path = getattr(module, "__file__", None)
        if path:
            self.policy_modules[policy.module_path] = file_sha256(path)

    # -- compare / report -----------------------------------------------------------------------
    def golden_orphans(self) -> list[Path]:
        """Orphans among the charts whose golden checks ran. A run is "full" (so golden directories of
        charts that no longer exist count too) when every planned golden check ran."""
        ran = [r for r in self.results if r.policy.id == GOLDEN_POLICY and r.outcome is not Outcome.SKIPPED]
        if not ran:
            return []
        golden_policy = ran[0].policy
        expected = {(name, s.name) for name, scenarios in self.plans.items() for s in scenarios
                    if golden_policy.applies_to(s)}
        done = {(r.chart, r.scenario) for r in ran}
        planned = {name: {s.name for s in scenarios} for name, scenarios in self.plans.items()}
        return self.golden.orphans(planned, {chart for chart, _ in done}, full_run=done >= expected,
                                   chart_roots=tuple(self.config.chart_roots))

    def ingest(self, data: dict, policy: Policy) -> Result:
        """Record a result evaluated elsewhere (a pytest-xdist worker), for the reports."""
        self.policy_ids.add(policy.id)
        if policy.module_path and policy.module_path not in self.policy_modules:
            self._hash_module(policy)
        return self._record(Result.from_dict(data, policy))

    def git_commit(self) -> str | None:
        root = Path(self.config.chart_roots[0])
        try:
            proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    def finish(self) -> "GateSummary":
        """Settle golden files, write every report; return what the terminal summary shows."""
        from .report import write_reports
        orphans = self.golden_orphans()
        removed: list[Path] = []
        if orphans and self.config.update_golden:
            self.golden.remove(orphans)
            removed, orphans = orphans, []
        summary = GateSummary(self, orphans=orphans, removed=removed, written=list(self.golden.written))
        summary.reports = write_reports(self, summary)
        return summary

    def run(self, policies: Iterable[Policy]) -> "GateSummary":
        """Evaluate everything without pytest (e.g. from a script)."""
        checks = self.planned_checks(policies)
        try:
            self.prerender(checks)
        except ChartgateError:
            pass  # e.g. no usable Helm: each check records it as an `error` result (see evaluate)
        for check in checks:
            self.evaluate(check)
        return self.finish()


@dataclass
class GateSummary:
    gate: Gate
    orphans: list[Path]
    removed: list[Path]
    written: list[Path]
    reports: dict[str, Path] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Result]:
        blocking_severities = {"error"} if self.gate.config.fail_on == "error" else {"error", "warning"}
        return [r for r in self.gate.results
                if r.outcome is Outcome.ERROR
                or (r.outcome is Outcome.FAILED and r.severity.value in blocking_severities)]

    @property
    def expired_waivers(self):
        return self.gate.waivers.expired

    @property
    def unused_waivers(self):
        return self.gate.waivers.unused(self.gate.results, self.gate.policy_ids, set(self.gate.charts))

    @property
    def red(self) -> bool:
        return bool(self.blocking or self.orphans or self.expired_waivers)

    def per_chart(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for r in self.gate.results:
            row = counts.setdefault(r.chart, {o.value: 0 for o in Outcome})
            row[r.outcome.value] += 1
        return dict(sorted(counts.items()))
