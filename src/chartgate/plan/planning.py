"""The plan of each chart of a run: what its generated scenarios start from, its declared scenarios
and covering rows, the rows it refuses through its own `fail`/`required` re-planned around, and what
it all costs in Helm runs.

Planning renders (the base probe, a chart's plan rows when it can refuse), through the renderer it is
given; a renderer that cannot be made (no usable Helm) leaves the plan as declared, and every check
then reports the missing Helm."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from chartgate.discover.capabilities import advertised_apis
from chartgate.core.errors import ChartFailed, ChartgateError
from chartgate.plan.estimate import RenderEstimate, estimate, guess_planning
from chartgate.plan.planner import (CombinationPlan, PlanConfig, can_refuse, describe_plans, plan_combinations,
                                    repair_scenarios)
from chartgate.plan.references import chart_references
from chartgate.plan.refusals import learn_and_cover
from chartgate.plan.releases import release_scenarios
from chartgate.plan.scenarios import ChartBase, Scenario, ScenarioKind, base_overlays, ci_values_files, plan_chart
from chartgate.plan.toggles import Toggle

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart
    from chartgate.discover.chartconfig import EffectiveSettings
    from chartgate.render.renderer import Renderer
    from chartgate.core.stop import StopSwitch
    from chartgate.core.timings import Timings


@dataclass(frozen=True)
class PlanningSettings:
    """The run's settings planning reads."""

    overlay_roots: tuple[Path, ...]
    kube_versions: tuple[str, ...]
    strength: int
    exhaustive_threshold: int
    render_budget: int  # helm runs per chart unless the chart's settings say otherwise
    other_helms: int  # Helm versions compared besides the primary (each renders the compared scenarios)
    workers: int
    plan_only: bool  # --plan: describe the plans, render only what planning needs


class Planning:
    """The plans of `charts`, computed once each, on first use."""

    def __init__(self, charts: Mapping[str, "Chart"], settings: PlanningSettings, *,
                 chart_settings: Callable[[str], "EffectiveSettings"], toggles: Mapping[str, list[Toggle]],
                 release_files: list[Path], renderer: Callable[[], "Renderer"], timings: "Timings",
                 stop: "StopSwitch"):
        self.charts, self.settings, self.toggles = charts, settings, toggles
        self._chart_settings, self._release_files = chart_settings, release_files
        self._renderer, self.timings, self.stop = renderer, timings, stop

    @cached_property
    def bases(self) -> dict[str, ChartBase]:
        """Per chart, what generated scenarios start from: the cluster overlay, plus the first
        `ci/*-values.yaml` when the chart's own `required`/`fail` refuses to render without input.
        Probing renders each chart's defaults once (the `default` scenario's render, when it works)."""
        roots = tuple(self.settings.overlay_roots)
        bases = {name: ChartBase(base_overlays(chart, roots)) for name, chart in self.charts.items()}
        # Only a chart that ships ci/*-values.yaml can be layered on one: only those are probed.
        probes = {name: Scenario("default", ScenarioKind.DEFAULT, bases[name].files)
                  for name, chart in self.charts.items() if ci_values_files(chart)}
        if not probes:
            return bases
        try:
            with self.timings.phase("render"):
                renders = dict(zip(probes, self._renderer().render_all((self.charts[n], s) for n, s in probes.items())))
        except ChartgateError:  # no usable Helm: every check reports it
            return bases
        for name, probe in probes.items():
            render, ci = renders[name], ci_values_files(self.charts[name])
            if isinstance(render.error, ChartFailed):
                bases[name] = ChartBase(probe.values_files + (ci[0],), render.error.helm_message.strip(), ci[0])
        return bases

    @cached_property
    def combination_plans(self) -> dict[str, CombinationPlan]:
        """Per chart: the t-wise covering plan over toggles x capabilities, beside the declared scenarios."""
        settings = self.settings
        config = PlanConfig(strength=settings.strength, exhaustive_threshold=settings.exhaustive_threshold,
                            kube_versions=settings.kube_versions)
        plans = {}
        bases = self.bases  # its probe renders are the render phase's, not the plan's
        with self.timings.phase("plan"):
            for name, chart in self.charts.items():
                constraints = self._chart_settings(name).constraints
                declared = plan_chart(chart, tuple(settings.overlay_roots), settings.kube_versions,
                                      base=bases[name], toggles=self.toggles[name], constraints=constraints)
                declared += release_scenarios(chart, self._release_files, advertised_apis(chart))
                plans[name] = plan_combinations(chart, (), config, existing=declared, base_files=bases[name].files,
                                                toggles=self.toggles[name], constraints=constraints)
        self._replan_infeasible(plans)
        # --plan's render estimates (a gate run estimates only the charts planned around refusals, for
        # their budget: the property-based policy's draws alone cost about 0.2 s a chart).
        for name, plan in plans.items() if settings.plan_only else ():
            try:
                plan.estimate = self.render_estimate(name, plan)
            except ChartgateError:  # no usable Helm: nothing will render, every check reports it
                break
        return plans

    @cached_property
    def plans(self) -> dict[str, list[Scenario]]:
        return {name: list(plan.existing) + list(plan.scenarios) for name, plan in self.combination_plans.items()}

    def _replan_infeasible(self, plans: dict[str, CombinationPlan]) -> None:
        """Let the plan cover the space without the rows a chart refuses through its own fail/required.

        Only charts whose templates can refuse (call `fail` or `required`) are examined: their plan
        rows are rendered now (the renders are needed anyway; the cache keeps them), a refused row is
        recorded as infeasible, and each combination only it covered gets a row of its own - recorded
        as infeasible in turn when the chart refuses that too."""
        if self.settings.plan_only:
            return
        examined = {name: plan for name, plan in plans.items() if plan.scenarios and can_refuse(self.charts[name])}
        if not examined:
            return
        try:
            jobs = [(self.charts[name], s) for name, plan in examined.items() for s in plan.scenarios]
            with self.timings.phase("render"):
                renders = self._renderer().render_all(jobs)
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
        constraints = self._chart_settings(name).constraints

        def render(rows: list[dict]) -> list[str | None]:
            with self.timings.phase("render"):
                renders = self._renderer().render_all((chart, s) for s in repair_scenarios(plan, rows, base, constraints))
            return [r.error.helm_message.strip() if r.refused else None for r in renders]

        assignments = {s.name: s.extra["assignment"] for s in plan.scenarios}
        rendered = [row for n, row in assignments.items() if n not in lost] + [{f.name: f.levels[0] for f in plan.factors}]
        refused = [(assignments[n], message) for n, message in sorted(lost.items()) if n in assignments]
        coverage = learn_and_cover(plan.space, plan.strength, rendered, refused, render,
                                   self.render_estimate(name, plan).planning_allowance,
                                   batch=max(1, self.settings.workers))
        plan.coverage = coverage
        plan.repairs = repair_scenarios(plan, coverage.rows, base, constraints)
        plan.infeasible_combinations = [combination for combination, _ in coverage.infeasible]
        plan.scenarios = plan.scenarios + plan.repairs
        plan.estimate = self.render_estimate(name, plan)  # after planning: what it spent, what is judged

    def render_estimate(self, name: str, plan: CombinationPlan) -> RenderEstimate:
        """Every render the run makes for the chart as planned so far, and its budget (estimate.py)."""
        chart, coverage = self.charts[name], plan.coverage
        limit = self._chart_settings(name).render_budget or self.settings.render_budget
        found = estimate(self._renderer(), chart, [*plan.existing, *plan.scenarios],
                         other_helms=self.settings.other_helms, limit=limit, toggles=self.toggles[name])
        if coverage is not None:  # planned around refusals: what it rendered beyond the rows it kept
            planning = coverage.renders - len(coverage.rows)
        elif self.settings.plan_only and plan.scenarios and can_refuse(chart):  # --plan renders nothing
            planning = min(found.planning_allowance, guess_planning(chart, plan))
        else:
            planning = 0
        return replace(found, planning=planning)

    def describe(self) -> str:
        """--plan's text: every chart's plan, with the rows the render cache already knows it refuses."""
        known: dict[str, list[str]] = {}
        plans = self.combination_plans
        try:
            renderer = self._renderer()
            for name in sorted(plans):
                default = next((s for s in self.plans[name] if s.name == "default"), None)
                known_default = renderer.cached_render(self.charts[name], default) if default else None
                if known_default is None or not known_default.ok:
                    continue  # refusals only mean "infeasible" where the defaults render
                for scenario in self.plans[name]:
                    render = renderer.cached_render(self.charts[name], scenario)
                    if render is not None and render.refused:
                        known.setdefault(name, []).append(scenario.name)
        except ChartgateError:
            known = {}
        unresolved = {name: chart_references(chart).unresolved for name, chart in self.charts.items()}
        return describe_plans((plans[name] for name in sorted(plans)), known, unresolved)
