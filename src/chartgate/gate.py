"""The engine's session: discover -> plan -> render -> check -> compare -> report.

Usable without pytest: `Gate(GateConfig(...)).run(policies)` evaluates every policy and writes the
reports. The pytest plugin drives the same object item by item.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import subprocess
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Iterable

from . import memo
from .applicability import not_applicable_here, unmet_requirement
from .capabilities import advertised_apis
from .chartconfig import ChartSettings, EffectiveSettings, parse_chart_settings, settings_for
from .charts import BrokenChart, Chart, discover
from .context import ChartContext, ScenarioContext
from .estimate import DEFAULT_RENDER_BUDGET, RenderEstimate, estimate, guess_planning
from .baseline import BaselineBook, fingerprints_of, load_baseline, stale_entries, write_baseline
from .errors import ChartFailed, ChartgateError, InvalidConfig, RenderError
from .ownership import SameRepoDependencies
from .verdict import blocking_results
from .golden import GoldenStore
from .helm import DEFAULT_TIMEOUT, Helm
from .kube import DEFAULT_KUBE_VERSION, newest
from .partial import Scope
from .planner import (DEFAULT_PLAN_THRESHOLD, CombinationPlan, PlanConfig, can_refuse, describe_plans,
                      plan_combinations, repair_scenarios)
from .refusals import learn_and_cover
from .definition import NotApplicable, Outcome, Policy, PolicyMisuse, Result, file_sha256, findings_of
from .provenance import attribute, scenario_inputs
from .references import chart_references
from .releases import release_scenarios
from .render import Renderer, default_cache_dir
from .resultcache import ResultCache, chart_key
from .scenarios import (ChartBase, Scenario, ScenarioKind, base_overlays, ci_values_files, full_kube_version,
                        plan_chart, safe_name)
from .selection import assignment, changed_charts, changed_files, parse_shard, with_dependents
from .stop import StopSwitch
from .timings import Timings, load_chart_costs, write_chart_costs
from .toggles import Classification, Toggle, discover_toggles
from .toolchain import DEFAULT_HELM_VERSIONS, locate
from .waivers import DEFAULT_MAX_DAYS as DEFAULT_MAX_WAIVER_DAYS, WaiverBook, load_waivers

GOLDEN_POLICY = "GOLD-001"  # the policy whose results decide which golden files are in use
RENDER_POLICY = "RENDER-001"  # the policy that reports a scenario that did not render
PREFETCH_DEPTH = 2  # charts rendered ahead of the one being judged
PREFETCH_RSS_MB = 700  # ... the second of them only while the process is smaller than this


def current_rss_mb() -> float:
    """This process's resident memory now (Linux /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def short_traceback(exc: BaseException, frames: int = 6) -> str:
    """The innermost frames of an exception: enough to find the line, short enough for a report."""
    import traceback
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-frames)).rstrip()


@dataclass
class GateConfig:
    chart_roots: tuple[Path, ...] = (Path("fixtures/charts"),)
    overlay_roots: tuple[Path, ...] = (Path("fixtures/overlays"),)
    report_dir: Path = Path("reports")
    golden_dir: Path = Path("golden")
    update_golden: bool = False
    cache_dir: Path | None = field(default_factory=default_cache_dir)
    tools_dir: Path | None = Path(".tools")  # None: only the user cache directory (and PATH)
    helm_versions: tuple[str, ...] = DEFAULT_HELM_VERSIONS  # first is primary; others: HELM- matrix
    render_timeout: float = DEFAULT_TIMEOUT
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    kube_versions: tuple[str, ...] | None = None  # None: the platform file's kubernetesVersions
    platform_file: Path | None = None
    waivers_file: Path | None = None
    fail_on: str = "error"
    today: date | None = None  # for waiver expiry; None means the real date
    max_waiver_days: int = DEFAULT_MAX_WAIVER_DAYS  # an expiry further ahead is a waiver error
    exclude_charts: tuple[str, ...] = ()  # globs on chart names: never judged, listed as excluded
    release_globs: tuple[str, ...] = ()  # Flux HelmRelease files, e.g. clusters/**/*.yaml
    changed_since: str | None = None
    shard: str | None = None  # "I/N"
    strength: int = 2  # t of the covering plan
    exhaustive_threshold: int = DEFAULT_PLAN_THRESHOLD
    render_budget: int = DEFAULT_RENDER_BUDGET  # helm runs per chart, planning included (estimate.py)
    chart_settings: tuple[ChartSettings, ...] = ()  # [tool.chartgate.charts."<glob>"]
    config_file: Path | None = None  # where [tool.chartgate] was read from (None: defaults only)
    timings_file: Path | None = None  # per-chart seconds of earlier runs: balances --shard
    record_timings: bool = False  # write this run's per-chart seconds into timings_file
    plan_only: bool = False  # --plan: describe the plans, render only what planning needs
    judge_test_hooks: bool = False  # posture rules (SEC-*) judge `helm test` hooks too
    baseline_file: Path | None = None  # findings accepted as they stand (baseline.py); used when it exists
    write_baseline: bool = False  # --write-baseline: write this run's findings to baseline_file
    fail_on_upstream: bool = True  # false: findings in vendored subcharts' templates do not block


@dataclass
class PlannedCheck:
    """One policy applied to one chart (and scenario): a pytest item, a row in the report."""

    policy: Policy
    chart: str
    scenario: str | None
    disabled: str | None = None  # why the chart's configuration turns the policy off

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
        self.timings = Timings()
        self.shard_assignment: dict[str, int] = {}  # chart -> shard, under --shard
        self.keep_renders = False  # the evidence bundle wants every render at the end
        self._begun: set[str] = set()
        # The order charts are judged in (one at a time); known in a serial session, so the next
        # chart's renders are made while this one is judged. Empty: no rendering ahead.
        self.chart_order: list[str] = []
        self._prefetched: dict = {}
        # The checks this session runs, per chart (set before judging): with every one of them cached,
        # a chart is served from the result cache without loading a render.
        self.session_checks: dict[str, list[PlannedCheck]] = {}
        self._from_cache: set[str] = set()
        self.scope = Scope()  # what part of the whole gate this run judges (see partial.py)
        # Flipped by a signal, -x or a crashed worker: nothing more is rendered or planned (see stop.py).
        self.stop = StopSwitch()

    # -- discover / plan ------------------------------------------------------------------------
    @cached_property
    def discovered(self) -> list[Chart | BrokenChart]:
        for root in self.config.chart_roots:
            if not Path(root).is_dir():
                raise ChartgateError(f"--chart-root must be a directory, given: {root}")
        with self.timings.phase("discover"):
            return discover(self.config.chart_roots)

    @cached_property
    def excluded(self) -> dict[str, tuple[Path, str]]:
        """Charts `exclude-charts` leaves out (loaded or not): name -> (path, the glob). Never judged,
        always listed in the reports."""
        found = {}
        for chart in self.discovered:
            pattern = next((g for g in self.config.exclude_charts if fnmatch.fnmatchcase(chart.name, g)), None)
            if pattern is not None:
                found[chart.name] = (chart.path, pattern)
        return found

    @cached_property
    def selected(self) -> set[str]:
        """Names of the charts this run covers, after exclude-charts, --changed-since and --shard."""
        loaded = {c.name: c for c in self.discovered if isinstance(c, Chart) and c.name not in self.excluded}
        names = {c.name for c in self.discovered} - set(self.excluded)
        if self.config.changed_since:
            changed = changed_files(Path(self.config.chart_roots[0]), self.config.changed_since)
            kept = self._changed_selection(loaded, changed) | {
                b.name for b in self.discovered if isinstance(b, BrokenChart)
                and any(b.path.resolve() in p.parents for p in changed)} - set(self.excluded)
            self.scope.charts_left_out, names = sorted(names - kept), kept
        if self.config.shard:
            index, total = parse_shard(self.config.shard)
            placed = assignment(sorted(names), total, load_chart_costs(self.config.timings_file))
            self.shard_assignment = placed
            names = {name for name, where in placed.items() if where == index}
        return names

    def _changed_selection(self, loaded: dict[str, Chart], changed: set[Path]) -> set[str]:
        """Charts a change can affect: its own files (and its dependents, see selection.py), its cluster
        overlays, the HelmReleases that install it - and every chart when the platform file, the
        waivers, the configuration or any Python file outside the charts (a policy module, chartgate
        itself) changed."""
        global_files = {Path(p).resolve() for p in (self.config.platform_file, self.config.waivers_file,
                                                     self.config.config_file) if p}
        chart_dirs = [c.path.resolve() for c in loaded.values() if c.path is not None]
        for path in changed:
            inside_chart = any(d == path or d in path.parents for d in chart_dirs)
            if path in global_files or (path.suffix == ".py" and not inside_chart):
                return set(loaded)
        touched = set(changed_charts(loaded, changed))
        for root in self.config.overlay_roots:
            root = Path(root).resolve()
            touched |= {path.relative_to(root).parts[0] for path in changed
                        if root in path.parents and len(path.relative_to(root).parts) > 1} & set(loaded)
        releases = [p for p in self.release_files if p.resolve() in changed]
        if releases:
            touched |= {name for name, chart in loaded.items()
                        if release_scenarios(chart, releases, advertised_apis(chart))}
        return with_dependents(loaded, touched)

    @cached_property
    def charts(self) -> dict[str, Chart]:
        charts = {c.name: c for c in self.discovered if isinstance(c, Chart) and c.name in self.selected}
        for name, chart in charts.items():
            chosen = self.chart_settings(name).profile
            if chosen:
                chart.profile = chosen
        return charts

    def chart_settings(self, name: str) -> EffectiveSettings:
        """The per-chart configuration that applies to `name` (platform file first, then pyproject)."""
        return settings_for(name, self._chart_setting_entries)

    @cached_property
    def _chart_setting_entries(self) -> tuple[ChartSettings, ...]:
        from_platform = parse_chart_settings(self.platform.raw.get("charts") or {}, self.platform.source)
        return from_platform + tuple(self.config.chart_settings)

    @cached_property
    def broken(self) -> dict[str, BrokenChart]:
        return {c.name: c for c in self.discovered if isinstance(c, BrokenChart) and c.name in self.selected}

    @cached_property
    def release_files(self) -> list[Path]:
        return sorted({Path(p) for pattern in self.config.release_globs
                       for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file()})

    @cached_property
    def toggles(self) -> dict[str, list[Toggle]]:
        classification = Classification.of(self.platform)
        with self.timings.phase("plan"):
            return {name: discover_toggles(chart, classification) for name, chart in self.charts.items()}

    @cached_property
    def bases(self) -> dict[str, ChartBase]:
        """Per chart, what generated scenarios start from: the cluster overlay, plus the first
        `ci/*-values.yaml` when the chart's own `required`/`fail` refuses to render without input.
        Probing renders each chart's defaults once (the `default` scenario's render, when it works)."""
        roots = tuple(self.config.overlay_roots)
        bases = {name: ChartBase(base_overlays(chart, roots)) for name, chart in self.charts.items()}
        # Only a chart that ships ci/*-values.yaml can be layered on one: only those are probed.
        probes = {name: Scenario("default", ScenarioKind.DEFAULT, bases[name].files)
                  for name, chart in self.charts.items() if ci_values_files(chart)}
        if not probes:
            return bases
        try:
            with self.timings.phase("render"):
                renders = dict(zip(probes, self.renderer.render_all((self.charts[n], s) for n, s in probes.items())))
        except ChartgateError:  # no usable Helm: every check reports it (see evaluate)
            return bases
        for name, probe in probes.items():
            render, ci = renders[name], ci_values_files(self.charts[name])
            if isinstance(render.error, ChartFailed):
                bases[name] = ChartBase(probe.values_files + (ci[0],), render.error.helm_message.strip(), ci[0])
        return bases

    @cached_property
    def combination_plans(self) -> dict[str, CombinationPlan]:
        """Per chart: the t-wise covering plan over toggles x capabilities, beside the declared scenarios."""
        config = PlanConfig(strength=self.config.strength, exhaustive_threshold=self.config.exhaustive_threshold,
                            kube_versions=self.kube_versions)
        plans = {}
        bases = self.bases  # its probe renders are the render phase's, not the plan's
        with self.timings.phase("plan"):
            for name, chart in self.charts.items():
                constraints = self.chart_settings(name).constraints
                declared = plan_chart(chart, tuple(self.config.overlay_roots), self.kube_versions,
                                      base=bases[name], toggles=self.toggles[name], constraints=constraints)
                declared += release_scenarios(chart, self.release_files, advertised_apis(chart))
                plans[name] = plan_combinations(chart, (), config, existing=declared, base_files=bases[name].files,
                                                toggles=self.toggles[name], constraints=constraints)
        self._replan_infeasible(plans)
        # --plan's render estimates (a gate run estimates only the charts planned around refusals, for
        # their budget: PROP-001's draws alone cost about 0.2 s a chart).
        for name, plan in plans.items() if self.config.plan_only else ():
            try:
                plan.estimate = self.render_estimate(name, plan)
            except ChartgateError:  # no usable Helm: nothing will render, every check reports it
                break
        return plans

    def _replan_infeasible(self, plans: dict[str, CombinationPlan]) -> None:
        """Let the plan cover the space without the rows a chart refuses through its own fail/required.

        Only charts whose templates can refuse (call `fail` or `required`) are examined: their plan
        rows are rendered now (the renders are needed anyway; the cache keeps them), a refused row is
        recorded as infeasible, and each combination only it covered gets a row of its own - recorded
        as infeasible in turn when the chart refuses that too."""
        if self.config.plan_only:
            return
        examined = {name: plan for name, plan in plans.items() if plan.scenarios and can_refuse(self.charts[name])}
        if not examined:
            return
        try:
            jobs = [(self.charts[name], s) for name, plan in examined.items() for s in plan.scenarios]
            with self.timings.phase("render"):
                renders = self.renderer.render_all(jobs)
        except ChartgateError:
            return  # no usable Helm: every check reports it
        refused: dict[str, dict[str, str]] = {}
        for (chart, scenario), render in zip(jobs, renders):
            if render.refused:
                refused.setdefault(chart.name, {})[scenario.name] = render.error.helm_message.strip()
        for name, lost in refused.items():
            self.stop.check()
            plan = examined[name]
            plan.infeasible = sorted(lost.items())
            self._cover_around_refusals(name, plan, lost)

    def _cover_around_refusals(self, name: str, plan: CombinationPlan, lost: dict[str, str]) -> None:
        """Learn the chart's guards from its refused rows and cover what they lost with rows that avoid
        them, within the chart's render budget (see refusals.py); what is left is listed, never dropped."""
        chart, base = self.charts[name], self.bases[name].files
        constraints = self.chart_settings(name).constraints

        def render(rows: list[dict]) -> list[str | None]:
            with self.timings.phase("render"):
                renders = self.renderer.render_all((chart, s) for s in repair_scenarios(plan, rows, base, constraints))
            return [r.error.helm_message.strip() if r.refused else None for r in renders]

        assignments = {s.name: s.extra["assignment"] for s in plan.scenarios}
        rendered = [row for n, row in assignments.items() if n not in lost] + [{f.name: f.levels[0] for f in plan.factors}]
        refused = [(assignments[n], message) for n, message in sorted(lost.items()) if n in assignments]
        coverage = learn_and_cover(plan.space, plan.strength, rendered, refused, render,
                                   self.render_estimate(name, plan).planning_allowance,
                                   batch=max(1, self.config.workers))
        plan.coverage = coverage
        plan.repairs = repair_scenarios(plan, coverage.rows, base, constraints)
        plan.infeasible_combinations = [combination for combination, _ in coverage.infeasible]
        plan.scenarios = plan.scenarios + plan.repairs
        plan.estimate = self.render_estimate(name, plan)  # after planning: what it spent, what is judged

    def render_estimate(self, name: str, plan: CombinationPlan) -> RenderEstimate:
        """Every render the run makes for the chart as planned so far, and its budget (estimate.py)."""
        chart, coverage = self.charts[name], plan.coverage
        limit = self.chart_settings(name).render_budget or self.config.render_budget
        found = estimate(self.renderer, chart, [*plan.existing, *plan.scenarios],
                         other_helms=len(self.config.helm_versions) - 1, limit=limit, toggles=self.toggles[name])
        if coverage is not None:  # planned around refusals: what it rendered beyond the rows it kept
            planning = coverage.renders - len(coverage.rows)
        elif self.config.plan_only and plan.scenarios and can_refuse(chart):  # --plan renders nothing
            planning = min(found.planning_allowance, guess_planning(chart, plan))
        else:
            planning = 0
        return replace(found, planning=planning)

    @cached_property
    def plans(self) -> dict[str, list[Scenario]]:
        return {name: list(plan.existing) + list(plan.scenarios) for name, plan in self.combination_plans.items()}

    @property
    def planned(self) -> bool:
        """May reports read the plans? Not when a stop came before planning finished: planning renders,
        and after a stop nothing is rendered - the charts are then reported without a plan."""
        return "combination_plans" in self.__dict__ or not self.stop.requested

    def describe_plans(self) -> str:
        known: dict[str, list[str]] = {}
        try:
            for name in sorted(self.combination_plans):
                default = next((s for s in self.plans[name] if s.name == "default"), None)
                known_default = self.renderer.cached_render(self.charts[name], default) if default else None
                if known_default is None or not known_default.ok:
                    continue  # refusals only mean "infeasible" where the defaults render
                for scenario in self.plans[name]:
                    render = self.renderer.cached_render(self.charts[name], scenario)
                    if render is not None and render.refused:
                        known.setdefault(name, []).append(scenario.name)
        except ChartgateError:
            known = {}
        unresolved = {name: chart_references(chart).unresolved for name, chart in self.charts.items()}
        return describe_plans((self.combination_plans[name] for name in sorted(self.combination_plans)), known,
                              unresolved)

    @cached_property
    def platform(self):
        from .platform import load_platform
        return load_platform(self.config.platform_file)

    @cached_property
    def waivers(self) -> WaiverBook:
        path, today = self.config.waivers_file, self.config.today or date.today()
        return WaiverBook(load_waivers(path, today, self.config.max_waiver_days) if path else [], today=today)

    @cached_property
    def baseline(self) -> BaselineBook:
        """The repository's baseline (none until `chartgate baseline` wrote one); every finding accepted
        when this run writes a new one."""
        path = self.config.baseline_file
        if self.config.write_baseline:
            refused = self.baseline_refusal()
            if refused:
                raise InvalidConfig(f"--write-baseline: {refused}")
            return BaselineBook(set(), accept_all=True)
        return BaselineBook(load_baseline(path) if path is not None and Path(path).is_file() else set())

    def baseline_refusal(self, incomplete: str | None = None) -> str | None:
        """Why this run must not write the baseline: a partial or incomplete run would shrink it."""
        if self.config.baseline_file is None:
            return "no baseline file is configured (`baseline-file` under [tool.chartgate])"
        if incomplete:
            return f"the run is incomplete ({incomplete}); the baseline was not written"
        if self.config.shard or self.config.changed_since:
            return ("--shard and --changed-since judge part of the gate; a baseline is written from a run "
                    "over every chart, or it would lose the entries of the charts left out")
        return None

    @cached_property
    def same_repo(self) -> SameRepoDependencies:
        return SameRepoDependencies(self)

    @cached_property
    def kube_versions(self) -> tuple[str, ...]:
        return tuple(self.config.kube_versions or self.platform.kubernetes_versions or (DEFAULT_KUBE_VERSION,))

    def _helm(self, version: str, *, honour_override: bool) -> Helm:
        env = None if honour_override else {k: v for k, v in os.environ.items() if k != "HELM_BIN"}
        location = locate(self.config.tools_dir, version, env=env)
        helm = Helm(location, timeout=self.config.render_timeout, stop=self.stop)
        helm.version  # fail early, once, with a clear message if the binary is unusable
        return helm

    @cached_property
    def helm(self) -> Helm:
        """The primary Helm: HELM_BIN when set, else the first pinned version."""
        return self._helm(self.config.helm_versions[0], honour_override=True)

    @property
    def target_kube_version(self) -> str:
        """The Kubernetes version scenarios render for unless they name one: the newest target."""
        return full_kube_version(newest(self.kube_versions))

    @cached_property
    def renderer(self) -> Renderer:
        renderer = Renderer(self.helm, self.config.cache_dir, workers=self.config.workers,
                            kube_version=self.target_kube_version)
        renderer.observers.append(lambda render: self.timings.charge(render.chart, render.seconds))
        return renderer

    @cached_property
    def matrix_renderers(self) -> dict[str, Renderer]:
        """Renderers for the other pinned Helm versions (compared by the HELM- policies)."""
        return {v: Renderer(self._helm(v, honour_override=False), self.config.cache_dir, workers=self.config.workers,
                            kube_version=self.target_kube_version)
                for v in self.config.helm_versions[1:]}

    @cached_property
    def contexts(self) -> dict[str, ChartContext]:
        contexts = {}
        for name, chart in self.charts.items():
            ctx = ChartContext(chart, self.plans[name], self.renderer, self.platform, self.golden,
                               self.kube_versions, helm_versions=tuple(self.config.helm_versions),
                               matrix_renderers=lambda: self.matrix_renderers, base=self.bases[name],
                               chart_roots=tuple(Path(r).resolve() for r in self.config.chart_roots),
                               judge_test_hooks=self.config.judge_test_hooks)
            ctx.__dict__["toggles"] = self.toggles[name]  # discovered once, for the plan and the policies
            contexts[name] = ctx
        return contexts

    def planned_checks(self, policies: Iterable[Policy]) -> list[PlannedCheck]:
        checks = []
        for policy in policies:
            self.policy_ids.add(policy.id)
            for name in sorted(set(self.charts) | set(self.broken)):
                disabled = self.chart_settings(name).disabled_reason(policy.id) if name in self.charts else None
                if name in self.broken or not policy.per_scenario or disabled:
                    checks.append(PlannedCheck(policy, name, None, disabled))
                    continue
                checks += [PlannedCheck(policy, name, s.name) for s in self.plans[name] if policy.applies_to(s)]
        return checks

    # -- one chart at a time: render, check, summarise, release --------------------------------------
    def begin_chart(self, name: str) -> None:
        """Render every planned scenario of one chart, in parallel, before its checks run - and start
        rendering the next chart in the background, so Helm works while this chart is judged."""
        if name not in self.charts or name in self._begun:
            return
        self._begun.add(name)
        from .redact import redactor_for
        try:  # the renderer first: a redactor attached to none would learn no render at all
            self.renderer
        except ChartgateError:
            pass  # no usable Helm: each check reports it
        redactor_for(self)  # learns each render as it is made, so releasing forgets nothing it needs
        if name not in self._prefetched and self._served_by_cache(name):
            self._serve_from_cache(name)  # nothing to render: every result is cached
            self._prefetch_after(name)
            return
        ahead = self._prefetched.pop(name, None)
        try:
            if ahead is not None:
                ahead.result()
            else:
                self._render_chart(name)
        except Exception:  # noqa: BLE001 - no usable Helm, or a bug: each check renders (and reports) itself
            pass
        self._prefetch_after(name)

    def _prefetch_after(self, name: str) -> None:
        """Render the next chart in the background - and the one after it while this process is
        small, so Helm keeps both cores busy while Python judges (memory stays near one chart's
        renders for big charts, which is what the limit protects)."""
        if self.stop.requested:
            return
        following = self.chart_order[self.chart_order.index(name) + 1:] if name in self.chart_order else []
        for depth, upcoming in enumerate(following[:PREFETCH_DEPTH]):
            if depth and current_rss_mb() > PREFETCH_RSS_MB:
                break
            if upcoming not in self._prefetched and upcoming in self.charts and not self._served_by_cache(upcoming):
                self._prefetched[upcoming] = self._background.submit(self._render_chart, upcoming)

    def _render_chart(self, name: str) -> None:
        """A chart's planned scenarios; then, for checks comparing Helm versions, the same scenarios
        under the other Helm versions (so those checks find their renders made, too)."""
        self.stop.check()  # queued before a stop
        chart = self.charts[name]
        with self.timings.phase("render"):
            self.renderer.render_all((chart, s) for s in self.plans[name])
            compared = {c.scenario for c in self.session_checks.get(name, ())
                        if c.scenario and "helm-matrix" in c.policy.requires and not c.disabled}
            if compared:
                scenarios = [s for s in self.plans[name] if s.name in compared]
                for renderer in self.matrix_renderers.values():
                    renderer.render_all((chart, s) for s in scenarios)

    @cached_property
    def _background(self):
        from concurrent.futures import ThreadPoolExecutor
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="chartgate-prefetch")

    def end_chart(self, name: str) -> None:
        """The chart's checks are done: drop its renders and everything computed from them (reports
        keep summaries; the disk cache keeps the renders), unless the evidence bundle needs them."""
        self._begun.discard(name)
        if "renderer" not in self.__dict__:
            return
        self._keep_chart_state(name)
        if self.keep_renders:
            return
        self.renderer.release(name)
        if "matrix_renderers" in self.__dict__:
            for renderer in self.matrix_renderers.values():
                renderer.release(name)
        if "contexts" in self.__dict__ and name in self.contexts:
            self.contexts[name].release()
        memo.clear_all()

    def prerender(self, checks: Iterable[PlannedCheck]) -> None:
        """Render every planned scenario of the charts these checks touch, in parallel."""
        charts = sorted({c.chart for c in checks if c.chart in self.charts})
        with self.timings.phase("render"):
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
        """The verdict of one check. Total: whatever the check (or the engine) raises becomes a result,
        so nothing is ever missing from the reports."""
        __tracebackhide__ = True
        policy = check.policy
        try:
            with self.timings.phase(f"check:{policy.family}", chart=check.chart):
                result = self._cached_judgement(check)
            result = self.same_repo.apply(check, result)
            result = self.waivers.apply(result)
            result = self._apply_baseline(check, result)
        except Exception as exc:  # noqa: BLE001 - a bug must turn the gate red, never drop a result
            result = Result(policy, check.chart, check.scenario, Outcome.ERROR, cause="policy-error",
                            message=f"{policy.id} raised {type(exc).__name__}: {exc}\n{short_traceback(exc)}")
        return self._record(result)

    def _apply_baseline(self, check: PlannedCheck, result: Result) -> Result:
        """Mark the findings the baseline holds; fingerprints name the scenario's release and namespace
        (default: the chart's name) as placeholders, so they survive a renamed release."""
        plans = self.plans if "combination_plans" in self.__dict__ else {}
        scenario = next((s for s in plans.get(check.chart, ()) if s.name == check.scenario), None)
        if not result.findings:
            return result
        from .redact import redactor_for
        redactor = redactor_for(self)

        def scrub(text: str) -> str:  # the baseline is committed: a field holding a secret is left out
            return text if redactor.text(text) == text else "<redacted>"
        return self.baseline.apply(result, (scenario and scenario.release) or check.chart,
                                   (scenario and scenario.namespace) or check.chart, scrub)

    def _cached_judgement(self, check: PlannedCheck) -> Result:
        """The check's result from the result cache when nothing it can see changed, else judged now."""
        key, module, extra = self._cache_coordinates(check)
        cached = self.result_cache.get(key, check.policy.id, module, check.scenario, extra) if module else None
        if cached is not None:
            return Result.from_dict(cached, check.policy)
        result = self._judge(check)
        if module and not (check.policy.cache_extra is not None and result.outcome is not Outcome.PASSED):
            # What the check read, as it stands after the check (it may have written it: a new golden
            # file). A failure of such a check is not cached: it may depend on how the run treats what
            # it read (--update-golden rewrites a drifted golden file, a check-only run reports it).
            extra = self._cache_coordinates(check)[2]
            self.result_cache.put(key, check.policy.id, module, check.scenario, result.to_dict(), extra)
        return result

    def _cache_coordinates(self, check: PlannedCheck) -> tuple[str | None, str, str]:
        """(chart key, policy module sha256, what else the check reads) of a check's cached result."""
        policy = check.policy
        module = self._module_sha(policy)
        key = self._result_key(check.chart) if not check.disabled else None
        extra = ""
        if key is not None and policy.cache_extra is not None:
            try:
                extra = policy.cache_extra(self.chart_context(check.chart), check.scenario)
            except ChartgateError:
                key = None
        return key, module, extra

    def _served_by_cache(self, name: str) -> bool:
        """Every check this session runs on the chart has a cached result, and the chart's render
        summaries and redaction state are cached too: its renders need not be loaded at all."""
        checks = self.session_checks.get(name)
        key = self._result_key(name)
        if not checks or key is None:
            return False
        renders, secrets = self.result_cache.chart_state(key)
        if not secrets or any(s.name not in renders for s in self.plans[name]):
            return False
        for check in checks:
            if check.disabled:
                continue
            key, module, extra = self._cache_coordinates(check)
            if not module or not self.result_cache.peek(key, check.policy.id, module, check.scenario, extra):
                return False
        return True

    def _serve_from_cache(self, name: str) -> None:
        from .redact import redactor_for
        from .render import RenderSummary
        renders, secrets = self.result_cache.chart_state(self._result_key(name))
        for scenario in self.plans[name]:
            self.renderer.remember(self.charts[name], scenario, RenderSummary.from_dict(renders[scenario.name]))
        redactor_for(self).absorb(secrets)
        self._from_cache.add(name)

    def _keep_chart_state(self, name: str) -> None:
        """Before a chart's renders are released: what the reports and the redactor need of them, for a
        later run that finds every result cached."""
        key = self._result_key(name)
        if key is None or name in self._from_cache:
            return
        from .redact import Redactor, learn_render
        chart, renders, learned = self.charts[name], {}, Redactor()
        for scenario in self.plans[name]:
            summary = self.renderer.summary(chart, scenario)
            if summary is None:
                return  # a partial run (-k): not every scenario was rendered
            renders[scenario.name] = summary.to_dict()
        for render in self.renderer.renders():
            if render.chart == name:
                learn_render(learned, render)
        self.result_cache.put_chart_state(key, renders, learned.export() or {"literals": [], "names": []})

    @cached_property
    def result_cache(self) -> ResultCache:
        return ResultCache(self.config.cache_dir)

    def _result_key(self, name: str) -> str | None:
        """Everything a check of chart `name` can observe (see resultcache.py), or None (no caching)."""
        if self.config.cache_dir is None or name not in self.charts:
            return None
        keys = self.__dict__.setdefault("_result_keys", {})
        if name not in keys:
            chart = self.charts[name]
            try:
                helm = [self.helm.location.sha256, *self.config.helm_versions[1:]]
            except ChartgateError:
                return None
            plan = [{"name": s.name, "kind": s.kind.value, **s.describe_inputs(), "release": s.release,
                     "namespace": s.namespace, "toggle": s.toggle,
                     "values": [file_sha256(p) for p in s.values_files]} for s in self.plans[name]]
            settings = self.chart_settings(name)
            # Every file a check of the chart can read beside its tree, by content (resultcache.py).
            files = [chart.blueprint_path, self.config.platform_file, self.config.waivers_file,
                     self.config.config_file, *(p for s in self.plans[name] for p in s.values_files),
                     *(s.extra.get("source") for s in self.plans[name])]
            keys[name] = chart_key(chart_digest=chart.digest, plan=plan, platform=self.platform.raw,
                                   kube_versions=self.kube_versions, helm=helm, target_kube=self.target_kube_version,
                                   settings={"profile": chart.profile, "enable": settings.enable,
                                             "disable": settings.disable,
                                             "constraints": sorted(settings.constraints),
                                             "judge_test_hooks": self.config.judge_test_hooks}, files=files)
        return keys[name]

    def save_caches(self) -> None:
        self.result_cache.save()

    def _judge(self, check: PlannedCheck) -> Result:
        policy, chart_name = check.policy, check.chart

        def result(outcome: Outcome, findings=(), **kw) -> Result:
            return Result(policy, chart_name, check.scenario, outcome, list(findings), **kw)

        if chart_name in self.broken:
            return self._chart_failure(check, f"chart could not be loaded: {self.broken[chart_name].error}\n"
                                       "No waiver covers this: fix the chart, or exclude it with `exclude-charts` "
                                       "under [tool.chartgate] (the reports list excluded charts).")
        if check.disabled:
            return result(Outcome.SKIPPED, message=check.disabled, cause="disabled")
        try:
            ctx = self.chart_context(chart_name)
        except ChartgateError as exc:  # Helm missing, tampered or unsupported: the chart cannot be judged
            return self._chart_failure(check, str(exc))
        try:
            unmet = unmet_requirement(policy, ctx, self.chart_settings(chart_name).opted_in(policy.id))
        except ChartgateError as exc:  # a rule the configuration asks for cannot run on this chart
            return result(Outcome.ERROR, message=str(exc), cause="configuration")
        if unmet:
            return result(Outcome.SKIPPED, message=unmet, cause="not-applicable")
        scenario = ctx.scenario(check.scenario) if check.scenario else None
        render = ctx.try_render(scenario) if scenario is not None else None
        inputs = scenario_inputs(ctx, scenario) if scenario is not None else None
        command = render.command if render is not None else ""
        if render is not None and render.error is not None:
            if ctx.infeasible(render):
                return result(Outcome.SKIPPED, cause="infeasible", cause_scenario=scenario.name,
                              scenario_inputs=inputs, command=command,
                              message=f"infeasible input: the chart refuses it with its own "
                                      f"`fail`/`required`: {render.error.helm_message}")
            if not policy.judges_failed_renders:
                return result(Outcome.SKIPPED, cause="render-failed", cause_scenario=scenario.name,
                              scenario_inputs=inputs, command=command,
                              message="scenario did not render, see RENDER-001")
        missing = not_applicable_here(policy, ctx, scenario, render)
        if missing:
            return result(Outcome.SKIPPED, message=missing, cause="not-applicable", scenario_inputs=inputs)
        findings: list = []
        try:
            with ctx.recording() as rendered:  # what a chart-level check looked at: its findings' provenance
                checked = policy.check(ScenarioContext(ctx, scenario, render)) if scenario is not None \
                    else policy.check(ctx)
                for finding in findings_of(policy, checked):  # one by one: findings before a NotApplicable count
                    findings.append(finding)
        except NotApplicable as exc:
            if not findings:
                return result(Outcome.SKIPPED, message=str(exc), cause="not-applicable", scenario_inputs=inputs)
        except RenderError as exc:
            planned = self._planned_render(ctx, exc.scenario)
            if planned is not None and ctx.infeasible(planned):
                return result(Outcome.SKIPPED, cause="infeasible", cause_scenario=exc.scenario,
                              scenario_inputs=inputs, message=f"needs scenario {exc.scenario}, an infeasible "
                              f"input (the chart refuses it with its own `fail`/`required`): {exc.helm_message}")
            if planned is not None:
                return result(Outcome.SKIPPED, cause="render-failed", cause_scenario=exc.scenario,
                              scenario_inputs=inputs, message=f"scenario {exc.scenario} did not render, see RENDER-001")
            return result(Outcome.ERROR, message=str(exc), command=exc.command, scenario_inputs=inputs)
        except PolicyMisuse as exc:  # the check is wrong, not the chart; the message names the policy
            said = str(exc) if str(exc).startswith(f"{policy.id}: ") else f"{policy.id}: {exc}"
            return result(Outcome.ERROR, message=said, cause="policy-error", scenario_inputs=inputs)
        except ChartgateError as exc:
            return result(Outcome.ERROR, message=str(exc), scenario_inputs=inputs)
        outcome = Outcome.FAILED if findings else Outcome.PASSED
        if scenario is None and findings:  # every chart-level finding names its scenarios and commands
            findings, reproduce = attribute(ctx, findings, rendered)
            return result(outcome, findings, reproduce=reproduce)
        return result(outcome, findings, command=command, scenario_inputs=inputs)

    @staticmethod
    def _chart_failure(check: PlannedCheck, message: str) -> Result:
        """One cause, one finding: the chart cannot be judged at all (it cannot be loaded, or there is no
        usable Helm). The check that judges the chart's renders - a policy declaring
        `judges_failed_renders`, on the chart or its default scenario - reports it as an `error`; every
        other check is skipped with that cause, and counted. The gate is red even when the reporting
        check did not run (GateSummary.unreported_render_failures)."""
        reports = check.policy.judges_failed_renders and check.scenario in (None, "default")
        if reports:
            return Result(check.policy, check.chart, check.scenario, Outcome.ERROR, message=message,
                          cause="chart-failed")
        return Result(check.policy, check.chart, check.scenario, Outcome.SKIPPED, cause="chart-failed",
                      message=f"not judged: {message} (reported once for the chart, by its render check)")

    @staticmethod
    def _planned_render(ctx: ChartContext, scenario_name: str):
        """The render of a *planned* scenario of this chart (None for ad-hoc variants)."""
        if any(s.name == scenario_name for s in ctx.scenarios):
            return ctx.try_render(scenario_name)
        return None

    def _record(self, result: Result) -> Result:
        with self._lock:
            self.results.append(result)
        return result

    def _module_sha(self, policy: Policy) -> str:
        """sha256 of the policy's module file (hashed once; "" when it has no file), kept for the report."""
        if policy.module_path and policy.module_path not in self.policy_modules:
            import sys
            path = getattr(sys.modules.get(policy.module_path), "__file__", None)
            if path:
                self.policy_modules[policy.module_path] = file_sha256(path)
        return self.policy_modules.get(policy.module_path, "")

    # -- compare / report -----------------------------------------------------------------------
    @property
    def selection_is_partial(self) -> bool:
        """Some discovered chart is left out or unusable: never judge what the run did not see."""
        return bool(self.config.shard or self.config.changed_since or self.broken)

    def golden_orphans(self, incomplete: str | None = None) -> list[Path]:
        """Golden files no planned scenario produces - judged only where the run saw everything.

        A chart's files are judged only when every one of its planned golden checks ran (rendered,
        or recorded as infeasible); a chart directory whose chart no longer exists only on a run
        that covered every discovered chart and every golden check. An incomplete run (interrupted,
        stopped early), a shard, --changed-since, a deselection or a broken chart never makes
        another chart's golden files orphans, so `--update-golden` never deletes them."""
        if incomplete:
            return []
        golden = [r for r in self.results if r.policy.id == GOLDEN_POLICY]
        if not golden:
            return []
        judged = {(r.chart, r.scenario) for r in golden
                  if r.outcome in (Outcome.PASSED, Outcome.FAILED, Outcome.WAIVED, Outcome.BASELINED)
                  or r.cause == "infeasible"}
        golden_policy = golden[0].policy
        expected = {name: {(name, s.name) for s in scenarios if golden_policy.applies_to(s)}
                    for name, scenarios in self.plans.items()}
        complete_charts = {name for name, wanted in expected.items() if wanted and wanted <= judged}
        planned = {name: {s.name for s in scenarios} for name, scenarios in self.plans.items()}
        full_run = not self.selection_is_partial and complete_charts == {n for n, w in expected.items() if w}
        orphans = self.golden.orphans(planned, complete_charts, full_run=full_run,
                                      chart_roots=tuple(self.config.chart_roots))
        excluded = {safe_name(name) for name in self.excluded}  # kept for when the chart is fixed
        return [p for p in orphans if p.parent.name not in excluded]

    def ingest(self, data: dict, policy: Policy) -> Result:
        """Record a result evaluated elsewhere (a pytest-xdist worker), for the reports."""
        self.policy_ids.add(policy.id)
        self._module_sha(policy)  # the report names each module's sha256
        return self._record(Result.from_dict(data, policy))

    def git_commit(self) -> str | None:
        root = Path(self.config.chart_roots[0])
        try:
            proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    def finish(self, incomplete: str | None = None) -> "GateSummary":
        """Settle golden files, write every report; return what the terminal summary shows.

        `incomplete` says why the session did not judge everything it planned (interrupted, stopped
        at the first failure, nothing selected): the reports then say `incomplete` and the gate is red."""
        from .report import write_reports
        if incomplete:  # nothing more is rendered; the Helm processes still running are killed
            self.stop.request(incomplete)
        orphans = self.golden_orphans(incomplete)
        removed: list[Path] = []
        if orphans and self.config.update_golden:  # only files chartgate wrote; any other stays an orphan
            removed = self.golden.remove(orphans)
            orphans = [p for p in orphans if p not in removed]
        if "_background" in self.__dict__:  # an interrupted run does not wait for the next chart's renders
            self._background.shutdown(wait=False, cancel_futures=True)
        self.save_caches()
        self.selected  # noqa: B018 - records the charts --changed-since leaves out (self.scope)
        self.scope.charts_discovered, self.scope.changed_since = len(self.discovered), self.config.changed_since
        partial = self.scope.to_dict()
        if self.config.record_timings and self.config.timings_file and not incomplete and not partial:
            write_chart_costs(self.config.timings_file, self.timings.chart_seconds)  # a whole run's seconds only
        summary = GateSummary(self, orphans=orphans, removed=removed, written=list(self.golden.written),
                              incomplete=incomplete, partial=partial)
        if self.config.write_baseline:
            self._write_baseline(summary)
        with self.timings.phase("report"):
            summary.reports = write_reports(self, summary)
        return summary

    def _write_baseline(self, summary: "GateSummary") -> None:
        """The baseline from this run's findings - only from a whole, complete run: a partial one would
        drop the entries of what it did not judge."""
        refused = self.baseline_refusal(summary.incomplete)
        if refused is None and summary.partial:
            refused = ("the run judged only part of the gate (a selection, a left-out or broken chart: see the "
                       "report's `partial`); the baseline was not written - run `chartgate baseline` over the "
                       "whole gate")
        errors = [r for r in self.results if r.outcome is Outcome.ERROR]
        if refused is None and errors:
            first = errors[0]
            refused = (f"{len(errors)} check(s) could not judge (first: {first.policy.id} on {first.chart}: "
                       f"{first.message.splitlines()[0] if first.message else 'error'}); their findings are "
                       "unknown and the baseline would lose them - fix the errors, then run `chartgate baseline`; "
                       "the baseline was not written")
        if refused is None:
            count = write_baseline(self.config.baseline_file, fingerprints_of(self.results))
            summary.baseline_written = (str(self.config.baseline_file), count)
        else:
            summary.baseline_refused = refused

    def run(self, policies: Iterable[Policy]) -> "GateSummary":
        """Evaluate everything without pytest (e.g. from a script), one chart at a time."""
        checks = sorted(self.planned_checks(policies), key=lambda c: c.chart)  # stable: policy order kept
        self.chart_order = list(dict.fromkeys(c.chart for c in checks))
        for check in checks:
            self.session_checks.setdefault(check.chart, []).append(check)
        for index, check in enumerate(checks):
            self.begin_chart(check.chart)
            self.evaluate(check)
            if index + 1 == len(checks) or checks[index + 1].chart != check.chart:
                self.end_chart(check.chart)
        return self.finish()


@dataclass
class GateSummary:
    gate: Gate
    orphans: list[Path]
    removed: list[Path]
    written: list[Path]
    reports: dict[str, Path] = field(default_factory=dict)
    incomplete: str | None = None  # why the run did not judge everything it planned
    partial: dict | None = None  # what of the whole gate the run did not select (partial.Scope)
    baseline_written: tuple[str, int] | None = None  # (file, entries) under --write-baseline
    baseline_refused: str | None = None  # why --write-baseline wrote nothing

    @property
    def stale_baseline(self) -> list[dict]:
        """Baseline entries nothing in this run matched (reported; never red). None when writing one."""
        if self.gate.config.write_baseline:
            return []
        return stale_entries(self.gate.baseline.entries, self.gate.results)

    @property
    def verdict(self) -> str:
        """`passed`, `failed`, `partial` or `incomplete`. Only `passed` is green: a partial run that
        found nothing blocking judged only part of the gate, so it says `partial`."""
        if self.incomplete:
            return "incomplete"
        if self.red:
            return "failed"
        return "partial" if self.partial else "passed"

    @property
    def unreported_render_failures(self) -> list[tuple[str, str]]:
        """(chart, scenario) that did not render, where policies were skipped for it but RENDER-001
        did not run to report it (e.g. deselected with -k): still a red gate."""
        reported = {(r.chart, r.scenario) for r in self.gate.results if r.policy.id == RENDER_POLICY
                    and r.outcome in (Outcome.FAILED, Outcome.ERROR, Outcome.WAIVED)}
        unreported = {(r.chart, r.cause_scenario) for r in self.gate.results
                      if r.cause == "render-failed" and (r.chart, r.cause_scenario) not in reported}
        # A chart that could not be judged at all, whose one error did not run (deselected, disabled).
        failed_charts = {r.chart for r in self.gate.results if r.cause == "chart-failed"}
        reporting = {r.chart for r in self.gate.results if r.cause == "chart-failed" and r.outcome is Outcome.ERROR}
        unreported |= {(chart, "all scenarios") for chart in failed_charts - reporting}
        return sorted(unreported)

    @property
    def blocking(self) -> list[Result]:
        return blocking_results(self.gate.results, self.gate.config.fail_on, self.gate.config.fail_on_upstream)

    @property
    def expired_waivers(self):
        return self.gate.waivers.expired

    @property
    def unused_waivers(self):
        # Every discovered chart counts as known: under --shard a waiver for another shard's chart is not
        # "unknown" (and not unused either, since this run did not judge that chart).
        return self.gate.waivers.unused(self.gate.results, self.gate.policy_ids, {c.name for c in self.gate.discovered})

    @property
    def red(self) -> bool:
        return bool(self.incomplete or self.blocking or self.orphans or self.expired_waivers
                    or self.unreported_render_failures)

    def per_chart(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for r in self.gate.results:
            row = counts.setdefault(r.chart, {o.value: 0 for o in Outcome})
            row[r.outcome.value] += 1
        return dict(sorted(counts.items()))
