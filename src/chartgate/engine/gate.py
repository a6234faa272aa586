"""The engine's session: discover -> plan -> render -> check -> compare -> report.

Usable without pytest: `Gate(GateConfig(...)).run(policies)` evaluates every policy and writes the
reports. The pytest plugin drives the same object item by item. The Gate wires the parts, each in its
own module: discovery and per-chart settings (discovery.py), planning (planning.py), the render scheduler
(scheduler.py), judging one check (judging.py), the result store and its cache (resultstore.py), the
golden orphan rules (golden.py) and the run's provenance (provenance.py).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Iterable

from chartgate.core import memo
from chartgate.check.baseline import BaselineBook, baseline_refusal, fingerprints_of, load_baseline, write_baseline
from chartgate.discover.chartconfig import ChartSettings, EffectiveSettings
from chartgate.check.context import ChartContext
from chartgate.engine.discovery import Discovery
from chartgate.check.definition import RENDER_ROLE, ROLES, Outcome, Policy, Result, file_sha256
from chartgate.core.errors import ChartgateError, InvalidConfig
from chartgate.plan.estimate import DEFAULT_RENDER_BUDGET
from chartgate.compare.golden import GoldenStore, golden_orphans
from chartgate.render.helm import DEFAULT_TIMEOUT, Helm
from chartgate.check.judging import Judge, short_traceback
from chartgate.core.kube import newest
from chartgate.check.ownership import SameRepoDependencies
from chartgate.report.partial import Scope
from chartgate.plan.planner import DEFAULT_PLAN_THRESHOLD, CombinationPlan
from chartgate.plan.planning import Planning, PlanningSettings
from chartgate.check.provenance import git_commit
from chartgate.report.redact import Redactor, chart_secrets, learn_inputs, learn_render
from chartgate.report.record import GateSummary  # noqa: F401 - what finish() returns: a view over the run record
from chartgate.engine.recorder import record_run
from chartgate.report import write_reports
from chartgate.render.renderer import Renderer, default_cache_dir
from chartgate.check.resultcache import ResultCache
from chartgate.check.resultstore import KeyInputs, ResultStore
from chartgate.plan.scenarios import ChartBase, Scenario, full_kube_version
from chartgate.render.scheduler import RenderScheduler, render_chart
from chartgate.core.stop import StopSwitch
from chartgate.core.timings import Timings, write_chart_costs
from chartgate.plan.toggles import Classification, Toggle, discover_toggles
from chartgate.render.toolchain import DEFAULT_HELM_VERSIONS, locate
from chartgate.check.verdict import unreported_render_failures
from chartgate.check.waivers import DEFAULT_MAX_DAYS as DEFAULT_MAX_WAIVER_DAYS, WaiverBook, load_waivers

__all__ = ["Gate", "GateConfig", "GateSummary", "PlannedCheck", "short_traceback"]


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
        self.roles: dict[str, Policy] = {}  # role -> the policy declaring it (definition.ROLES)
        self.timings = Timings()
        self.keep_renders = False  # the evidence bundle wants every render at the end
        # The checks this session runs, per chart (set before judging): with every one of them cached,
        # a chart is served from the result cache without loading a render.
        self.session_checks: dict[str, list[PlannedCheck]] = {}
        self.scope = Scope()  # what part of the whole gate this run judges (see partial.py)
        # Flipped by a signal, -x or a crashed worker: nothing more is rendered or planned (see stop.py).
        self.stop = StopSwitch()
        # The run's one redactor, handed to every writer: taught the inputs by teach_redactor(), each
        # render as it is made (see `renderer`), and what cached results and xdist workers learned.
        self.redactor = Redactor()
        self._taught: set[str] = set()  # which inputs the redactor has learned: "charts", "plans"

    # -- discover (discovery.py) ----------------------------------------------------------------
    @cached_property
    def discovery(self) -> Discovery:
        return Discovery(self.config, self.timings)

    discovered = property(lambda self: self.discovery.discovered)
    excluded = property(lambda self: self.discovery.excluded)
    charts = property(lambda self: self.discovery.charts)
    broken = property(lambda self: self.discovery.broken)
    release_files = property(lambda self: self.discovery.release_files)
    platform = property(lambda self: self.discovery.platform)
    kube_versions = property(lambda self: self.discovery.kube_versions)
    _chart_setting_entries = property(lambda self: self.discovery.setting_entries)
    shard_assignment = property(lambda self: self.discovery.shard_assignment)  # chart -> shard, under --shard

    @property
    def selected(self) -> set[str]:
        """Names of the charts this run covers, after exclude-charts, --changed-since and --shard."""
        names = self.discovery.selected
        if self.config.changed_since:
            self.scope.charts_left_out = self.discovery.charts_left_out
        return names

    def chart_settings(self, name: str) -> EffectiveSettings:
        """The per-chart configuration that applies to `name` (platform file first, then pyproject)."""
        return self.discovery.chart_settings(name)

    @property
    def target_kube_version(self) -> str:
        """The Kubernetes version scenarios render for unless they name one: the newest target."""
        return full_kube_version(newest(self.kube_versions))

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
        return baseline_refusal(self.config.baseline_file, incomplete,
                                partial=bool(self.config.shard or self.config.changed_since))

    @cached_property
    def same_repo(self) -> SameRepoDependencies:
        return SameRepoDependencies(self)

    # -- plan (planning.py) ---------------------------------------------------------------------
    @cached_property
    def toggles(self) -> dict[str, list[Toggle]]:
        classification = Classification.of(self.platform)
        with self.timings.phase("plan"):
            return {name: discover_toggles(chart, classification) for name, chart in self.charts.items()}

    @cached_property
    def planning(self) -> Planning:
        c = self.config
        settings = PlanningSettings(tuple(c.overlay_roots), self.kube_versions, c.strength, c.exhaustive_threshold,
                                    c.render_budget, len(c.helm_versions) - 1, c.workers, c.plan_only)
        return Planning(self.charts, settings, chart_settings=self.chart_settings, toggles=self.toggles,
                        release_files=self.release_files, renderer=lambda: self.renderer, timings=self.timings,
                        stop=self.stop)

    @cached_property
    def bases(self) -> dict[str, ChartBase]:
        return self.planning.bases

    @cached_property
    def combination_plans(self) -> dict[str, CombinationPlan]:
        return self.planning.combination_plans

    @cached_property
    def plans(self) -> dict[str, list[Scenario]]:
        self.combination_plans  # noqa: B018 - held by the gate too: `planned` and the reports look for it
        return self.planning.plans

    @property
    def planned(self) -> bool:
        """May reports read the plans? Not when a stop came before planning finished: planning renders,
        and after a stop nothing is rendered - the charts are then reported without a plan."""
        return "combination_plans" in self.__dict__ or not self.stop.requested

    def describe_plans(self) -> str:
        return self.planning.describe()

    def planned_checks(self, policies: Iterable[Policy]) -> list[PlannedCheck]:
        checks = []
        for policy in policies:
            self._note_policy(policy)
            for name in sorted(set(self.charts) | set(self.broken)):
                disabled = self.chart_settings(name).disabled_reason(
                    policy.id, always_judged=policy.always_judged) if name in self.charts else None
                if name in self.broken or not policy.per_scenario or disabled:
                    checks.append(PlannedCheck(policy, name, None, disabled))
                    continue
                checks += [PlannedCheck(policy, name, s.name) for s in self.plans[name] if policy.applies_to(s)]
        self.teach_redactor()  # before any result is described: the terminal redacts as the reports do
        return checks

    def teach_redactor(self) -> None:
        """Teach the run's redactor the charts' values and names, and - once planned - the scenarios'
        values files, `--set` inputs, releases and namespaces. Each input is learned once; after a stop
        before planning, the charts without their plans (planning renders, and nothing more is)."""
        if "charts" not in self._taught:
            learn_inputs(self.redactor, self.charts.values(), (), self.broken)
            self._taught.add("charts")
        if "plans" not in self._taught and self.planned:
            learn_inputs(self.redactor, (), (s for plan in self.plans.values() for s in plan))
            self._taught.add("plans")

    def _note_policy(self, policy: Policy, *, planned: bool = True) -> None:
        """Remember the policy and the role it declares: one policy a role, and no waiver for the
        render policy (a configuration error naming both policies, or the waiver's file and line)."""
        self.policy_ids.add(policy.id)
        if policy.role in ROLES:
            holder = self.roles.setdefault(policy.role, policy)
            if holder.id != policy.id:
                raise InvalidConfig(f"policies {holder.id} ({holder.module_path}) and {policy.id} "
                                    f"({policy.module_path}) both declare role={policy.role!r}; one policy a run "
                                    "has each role: leave one of their modules or packs out")
            if planned:
                self.waivers.refuse(policy)

    def render_check(self) -> str:
        """How messages name the render policy (the one declaring `role="render"`)."""
        holder = self.roles.get(RENDER_ROLE)
        return holder.id if holder is not None else "the render check"

    # -- render (scheduler.py) ------------------------------------------------------------------
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

    @cached_property
    def renderer(self) -> Renderer:
        renderer = Renderer(self.helm, self.config.cache_dir, workers=self.config.workers,
                            kube_version=self.target_kube_version)
        renderer.observers.append(lambda render: self.timings.charge(render.chart, render.seconds))
        # Learned as made, so releasing a chart's renders after its checks forgets nothing the reports need.
        renderer.observers.append(lambda render: learn_render(self.redactor, render))
        return renderer

    @cached_property
    def matrix_renderers(self) -> dict[str, Renderer]:
        """Renderers for the other pinned Helm versions (compared by the HELM- policies)."""
        return {v: Renderer(self._helm(v, honour_override=False), self.config.cache_dir, workers=self.config.workers,
                            kube_version=self.target_kube_version)
                for v in self.config.helm_versions[1:]}

    @cached_property
    def scheduler(self) -> RenderScheduler:
        return RenderScheduler(self._render_chart, cached=self.store.served_by_cache, serve=self.store.serve,
                               stop=self.stop)

    @property
    def chart_order(self) -> list[str]:
        """The order charts are judged in (known in a serial session: the next is rendered meanwhile)."""
        return self.scheduler.order

    @chart_order.setter
    def chart_order(self, order: list[str]) -> None:
        self.scheduler.order = [name for name in order if name in self.charts]

    def _render_chart(self, name: str) -> None:
        """A chart's planned scenarios, and those compared across Helm versions under the others."""
        compared = {c.scenario for c in self.session_checks.get(name, ())
                    if c.scenario and "helm-matrix" in c.policy.requires and not c.disabled}
        with self.timings.phase("render"):
            render_chart(self.charts[name], self.plans[name], self.renderer, compared,
                         lambda: self.matrix_renderers.values())

    def begin_chart(self, name: str) -> None:
        """Render every planned scenario of one chart, in parallel, before its checks run - and start
        rendering the next chart in the background, so Helm works while this chart is judged."""
        if name not in self.charts or not self.scheduler.claim(name):
            return
        self.teach_redactor()
        self.scheduler.begin(name)

    def end_chart(self, name: str) -> None:
        """The chart's checks are done: drop its renders and everything computed from them (reports
        keep summaries; the disk cache keeps the renders), unless the evidence bundle needs them."""
        self.scheduler.end(name)
        if "renderer" not in self.__dict__:
            return
        self.store.keep_chart_state(name)
        if self.keep_renders:
            return
        for renderer in (self.renderer, *self.__dict__.get("matrix_renderers", {}).values()):
            renderer.release(name)
        if "contexts" in self.__dict__ and name in self.contexts:
            self.contexts[name].release()
        memo.clear_all()

    def prerender(self, checks: Iterable[PlannedCheck]) -> None:
        """Render every planned scenario of the charts these checks touch, in parallel."""
        charts = sorted({c.chart for c in checks if c.chart in self.charts})
        with self.timings.phase("render"):
            self.renderer.render_all((self.charts[name], s) for name in charts for s in self.plans[name])

    # -- check (judging.py, resultstore.py) -----------------------------------------------------
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

    def chart_context(self, name: str) -> ChartContext:
        """The chart's context. A setup failure (no usable Helm) is raised, remembered, raised again."""
        if self._setup_error is None:
            try:
                return self.contexts[name]
            except ChartgateError as exc:
                self._setup_error = exc
        raise self._setup_error

    @cached_property
    def judge(self) -> Judge:
        return Judge(broken=self.broken, context=self.chart_context, chart_settings=self.chart_settings,
                     render_check=self.render_check)

    @cached_property
    def store(self) -> ResultStore:
        c = self.config
        inputs = KeyInputs(c.cache_dir, tuple(c.helm_versions[1:]), self.kube_versions, self.target_kube_version,
                           (c.platform_file, c.waivers_file, c.config_file), c.judge_test_hooks)
        return ResultStore(inputs, charts=self.charts, plans=lambda: self.plans, platform=lambda: self.platform.raw,
                           helm_sha256=lambda: self.helm.location.sha256, chart_settings=self.chart_settings,
                           module_sha=self._module_sha, context=self.chart_context, renderer=lambda: self.renderer,
                           checks=self.session_checks, secrets_of=lambda name: chart_secrets(self.renderer, name),
                           absorb=self.redactor.absorb)

    @property
    def result_cache(self) -> ResultCache:
        return self.store.cache

    def save_caches(self) -> None:
        self.store.save()

    def evaluate(self, check: PlannedCheck) -> Result:
        """The verdict of one check. Total: whatever the check (or the engine) raises becomes a result,
        so nothing is ever missing from the reports."""
        __tracebackhide__ = True
        policy = check.policy
        try:
            with self.timings.phase(f"check:{policy.family}", chart=check.chart):
                result = self.store.judged(check, self.judge)
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
        def scrub(text: str) -> str:  # the baseline is committed: a field holding a secret is left out
            return text if self.redactor.text(text) == text else "<redacted>"
        return self.baseline.apply(result, (scenario and scenario.release) or check.chart,
                                   (scenario and scenario.namespace) or check.chart, scrub)

    def _record(self, result: Result) -> Result:
        with self._lock:
            self.results.append(result)
        return result

    def _module_sha(self, policy: Policy) -> str:
        """sha256 of the policy's module file (hashed once; "" when it has no file), kept for the report."""
        if policy.module_path and policy.module_path not in self.policy_modules:
            path = getattr(sys.modules.get(policy.module_path), "__file__", None)
            if path:
                self.policy_modules[policy.module_path] = file_sha256(path)
        return self.policy_modules.get(policy.module_path, "")

    def ingest(self, data: dict, policy: Policy) -> Result:
        """Record a result evaluated elsewhere (a pytest-xdist worker), for the reports."""
        self._note_policy(policy, planned=False)
        self._module_sha(policy)  # the report names each module's sha256
        return self._record(Result.from_dict(data, policy))

    # -- compare / report -----------------------------------------------------------------------
    @property
    def selection_is_partial(self) -> bool:
        """Some discovered chart is left out or unusable: never judge what the run did not see."""
        return bool(self.config.shard or self.config.changed_since or self.broken)

    def golden_orphans(self, incomplete: str | None = None) -> list[Path]:
        """Golden files no planned scenario produces (golden.py), none at all on an incomplete run."""
        if incomplete:
            return []
        return golden_orphans(self.golden, self.results, lambda: self.plans,
                              partial_selection=self.selection_is_partial,
                              chart_roots=tuple(self.config.chart_roots), excluded=self.excluded)

    def git_commit(self) -> str | None:
        return git_commit(Path(self.config.chart_roots[0]))

    def finish(self, incomplete: str | None = None) -> GateSummary:
        """Settle golden files, record the run once (`recorder.record_run`) and write every report from
        that record; return the summary (a view over the record) the terminal and the plugin read.

        `incomplete` says why the session did not judge everything it planned (interrupted, stopped
        at the first failure, nothing selected): the reports then say `incomplete` and the gate is red."""
        if incomplete:  # nothing more is rendered; the Helm processes still running are killed
            self.stop.request(incomplete)
        orphans = self.golden_orphans(incomplete)
        removed: list[Path] = []
        if orphans and self.config.update_golden:  # only files chartgate wrote; any other stays an orphan
            removed = self.golden.remove(orphans)
            orphans = [p for p in orphans if p not in removed]
        self.scheduler.shutdown()  # an interrupted run does not wait for the next chart's renders
        self.save_caches()
        self.selected  # noqa: B018 - records the charts --changed-since leaves out (self.scope)
        self.scope.charts_discovered, self.scope.changed_since = len(self.discovered), self.config.changed_since
        partial = self.scope.to_dict()
        if self.config.record_timings and self.config.timings_file and not incomplete and not partial:
            write_chart_costs(self.config.timings_file, self.timings.chart_seconds)  # a whole run's seconds only
        written, refused = self._write_baseline(incomplete, partial) if self.config.write_baseline else (None, None)
        self.teach_redactor()  # a run stopped before planning: the charts' values at least
        with self.timings.phase("report"):
            record = record_run(self, incomplete=incomplete, partial=partial, orphans=orphans, removed=removed,
                                unreported=unreported_render_failures(self.results),
                                baseline_written=written, baseline_refused=refused)
            return GateSummary(record, reports=write_reports(record))

    def _write_baseline(self, incomplete: str | None, partial: dict | None) -> tuple[tuple[str, int] | None, str | None]:
        """The baseline from this run's findings - only from a whole, complete run: a partial one would
        drop the entries of what it did not judge. Returns (file, entries) written, or why it was refused."""
        refused = self.baseline_refusal(incomplete)
        if refused is None and partial:
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
        if refused is not None:
            return None, refused
        count = write_baseline(self.config.baseline_file, fingerprints_of(self.results))
        return (str(self.config.baseline_file), count), None

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
