"""Where a chart-level finding comes from: the scenarios it was seen in and how to reproduce each.

A per-scenario result carries its scenario, inputs and `helm template` command. A chart-level check
(the SEC rules, CAP-002, HYG-*, ...) judges many renders at once, so the engine attributes each of
its findings here, for every chart-level policy alike:

- a finding that names its `scenarios` (podspec.report_once does) keeps them;
- otherwise it is attributed to the renders the check asked for that hold its resource (same
  resource id and template), in plan order; a finding on a chart file (values.yaml) or on an object
  no recorded render holds is attributed to the chart's `default` scenario, else to the first render
  the check asked for.

The result's `reproduce` maps each scenario named to its command and inputs - every result's inputs
include `values`, what differs from the chart's defaults (the report redacts all of it, like every
other command and value).

The run's own provenance beside it: the commit of the charts' repository (`git_commit`)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from chartgate.core.errors import ChartgateError
from chartgate.core.values import iter_leaves

if TYPE_CHECKING:
    from chartgate.check.context import ChartContext
    from chartgate.check.definition import Finding
    from chartgate.render.renderer import Render
    from chartgate.plan.scenarios import Scenario


#: Values shown per scenario at most; the rest are counted (`values_omitted`): the files are named.
_MAX_VALUES_SHOWN = 30
_MAX_VALUE_CHARS = 200  # a list or long text set by a values file is cut (the file is named)


def _changed_values(ctx: "ChartContext", scenario: "Scenario") -> dict[str, Any]:
    """{dotted path: value} of every value the scenario's inputs change from the chart's defaults
    (`debug.enabled: true`), whether it comes from `--set` or from a values file."""
    defaults = dict(iter_leaves(ctx.chart.effective_values))
    return {".".join(path): _shown(value) for path, value in iter_leaves(ctx.values_for(scenario))
            if path not in defaults or defaults[path] != value}


def _shown(value: Any) -> Any:
    """A value as reports can carry it: JSON (a YAML date becomes its text), a long one cut."""
    text = json.dumps(value, default=str)
    return json.loads(text) if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "..."


def scenario_inputs(ctx: "ChartContext", scenario: "Scenario") -> dict:
    """A scenario's inputs in report form (Scenario.describe_inputs) plus `values`, the values that
    differ from the chart's defaults. Memoised per scenario on the chart context."""
    cache = ctx.__dict__.setdefault("_scenario_inputs", {})
    if scenario.name not in cache:
        inputs = scenario.describe_inputs()
        if scenario.values_files or scenario.set_values:
            try:
                changed = _changed_values(ctx, scenario)
            except ChartgateError:  # an unreadable values file: the render reports it
                changed = {}
            inputs["values"] = dict(list(changed.items())[:_MAX_VALUES_SHOWN])
            if len(changed) > _MAX_VALUES_SHOWN:
                inputs["values_omitted"] = len(changed) - _MAX_VALUES_SHOWN
        cache[scenario.name] = inputs
    return dict(cache[scenario.name])


def _holding(finding: "Finding", renders: dict[str, "Render"]) -> list[str]:
    if not finding.resource:
        return []
    return [name for name, render in renders.items() if render.ok and any(
        m.resource_id == finding.resource and (not finding.template or m.source == finding.template)
        for m in render.manifests)]


def _fallback(ctx: "ChartContext", renders: dict[str, "Render"]) -> list[str]:
    default = renders.get("default")
    if default is None and any(s.name == "default" for s in ctx.scenarios):
        default = ctx.try_render("default")
    if default is not None and default.ok:
        return ["default"]
    return [name for name, render in renders.items() if render.ok][:1]


def attribute(ctx: "ChartContext", findings: Iterable["Finding"],
              renders: dict[str, "Render"]) -> tuple[list["Finding"], dict[str, dict]]:
    """The findings, each naming its scenarios, and {scenario: {"command", "inputs"}} for those named.
    `renders`: what the check rendered, by scenario name (ChartContext.recording)."""
    order = {s.name: i for i, s in enumerate(ctx.scenarios)}
    renders = dict(sorted(renders.items(), key=lambda item: order.get(item[0], len(order))))
    attributed, reproduce = [], {}
    for finding in findings:
        names = list(finding.scenarios) or _holding(finding, renders) or _fallback(ctx, renders)
        for name in names:
            if name in reproduce:
                continue
            render = renders.get(name)
            if render is None and name in order:
                render = ctx.try_render(name)
            if render is not None:
                inputs = scenario_inputs(ctx, render.scenario) if name in order else render.scenario.describe_inputs()
                reproduce[name] = {"command": render.command, "inputs": inputs}
        attributed.append(finding if tuple(names) == finding.scenarios else replace(finding, scenarios=tuple(names)))
    return attributed, reproduce


__all__ = ["attribute", "scenario_inputs"]


def git_commit(directory: Path) -> str | None:
    """The commit checked out where the charts live (None outside a git checkout, or without git)."""
    try:
        proc = subprocess.run(["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None
