"""One check judged: its chart and scenario made ready, applicability decided, the policy's check run,
and whatever it raises turned into a result - so nothing is ever missing from the reports.

A scenario that did not render is reported by the render policy (the one declaring `role="render"`);
every other check of it is skipped with that cause, naming that policy."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Callable, Mapping

from chartgate.check.applicability import not_applicable_here, unmet_requirement
from chartgate.check.context import ChartContext, ScenarioContext
from chartgate.check.definition import RENDER_ROLE, NotApplicable, Outcome, PolicyMisuse, Result, findings_of
from chartgate.core.errors import ChartgateError, RenderError
from chartgate.check.provenance import attribute, scenario_inputs

if TYPE_CHECKING:
    from chartgate.discover.chartconfig import EffectiveSettings
    from chartgate.discover.charts import BrokenChart


def short_traceback(exc: BaseException, frames: int = 6) -> str:
    """The innermost frames of an exception: enough to find the line, short enough for a report."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-frames)).rstrip()


class Judge:
    """Judges the checks of a run: `context(chart)` gives a chart's context (raising ChartgateError when
    the chart cannot be judged, e.g. no usable Helm); `render_check()` names the render policy."""

    def __init__(self, *, broken: Mapping[str, "BrokenChart"], context: Callable[[str], ChartContext],
                 chart_settings: Callable[[str], "EffectiveSettings"], render_check: Callable[[], str]):
        self.broken, self.context, self.chart_settings = broken, context, chart_settings
        self.render_check = render_check

    def __call__(self, check) -> Result:
        policy, chart_name = check.policy, check.chart

        def result(outcome: Outcome, findings=(), **kw) -> Result:
            return Result(policy, chart_name, check.scenario, outcome, list(findings), **kw)

        if chart_name in self.broken:
            return self.chart_failure(check, f"chart could not be loaded: {self.broken[chart_name].error}\n"
                                      "No waiver covers this: fix the chart, or exclude it with `exclude-charts` "
                                      "under [tool.chartgate] (the reports list excluded charts).")
        if check.disabled:
            return result(Outcome.SKIPPED, message=check.disabled, cause="disabled")
        try:
            ctx = self.context(chart_name)
        except ChartgateError as exc:  # Helm missing, tampered or unsupported: the chart cannot be judged
            return self.chart_failure(check, str(exc))
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
                              message=f"scenario did not render, see {self.render_check()}")
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
            planned = _planned_render(ctx, exc.scenario)
            if planned is not None and ctx.infeasible(planned):
                return result(Outcome.SKIPPED, cause="infeasible", cause_scenario=exc.scenario,
                              scenario_inputs=inputs, message=f"needs scenario {exc.scenario}, an infeasible "
                              f"input (the chart refuses it with its own `fail`/`required`): {exc.helm_message}")
            if planned is not None:
                return result(Outcome.SKIPPED, cause="render-failed", cause_scenario=exc.scenario,
                              scenario_inputs=inputs,
                              message=f"scenario {exc.scenario} did not render, see {self.render_check()}")
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
    def chart_failure(check, message: str) -> Result:
        """One cause, one finding: the chart cannot be judged at all (it cannot be loaded, or there is no
        usable Helm). The render policy (`role="render"`), on the chart or its default scenario, reports
        it as an `error`; every other check is skipped with that cause, and counted. The gate is red even
        when the render policy did not run (verdict.unreported_render_failures)."""
        reports = check.policy.role == RENDER_ROLE and check.scenario in (None, "default")
        if reports:
            return Result(check.policy, check.chart, check.scenario, Outcome.ERROR, message=message,
                          cause="chart-failed")
        return Result(check.policy, check.chart, check.scenario, Outcome.SKIPPED, cause="chart-failed",
                      message=f"not judged: {message} (reported once for the chart, by its render check)")


def _planned_render(ctx: ChartContext, scenario_name: str):
    """The render of a *planned* scenario of this chart (None for ad-hoc variants)."""
    if any(s.name == scenario_name for s in ctx.scenarios):
        return ctx.try_render(scenario_name)
    return None
