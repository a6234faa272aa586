"""Plan combined toggle x capability scenarios for a chart with a t-wise covering array.

The hand-shaped plan (`scenarios.plan_chart`) moves one toggle at a time. Faults that need two or
three switches together (an HPA that only breaks with the NetworkPolicy on, a ServiceMonitor that
ignores its Capabilities gate when metrics are on) need combinations. This module builds the factor
space of a chart and covers it:

- every discovered toggle (observability, overlay and feature), levels: its default, then the other;
- every optional API the templates test for (`advertised_apis`), levels: absent, advertised;
- the target Kubernetes versions (`PlanConfig.kube_versions`), one level each, when the templates
  compare `.Capabilities.KubeVersion` (otherwise the version cannot change the render).

Small spaces are enumerated exhaustively; larger ones get a covering array of strength t (see
`covering`). Each row becomes a `Scenario` of kind PLAN named `plan.NNN`. A row whose effective inputs
equal an already planned scenario's (or an earlier row's) is dropped: it would render the same thing.

Nothing here runs Helm. Integration: `plan_combinations(chart, overlays, config, existing=declared)`
returns a `CombinationPlan`; append its `.scenarios` to the chart's plan, print `describe_plans(...)`
for `--plan`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from chartgate.discover.capabilities import advertised_apis, kube_version_constraints
from chartgate.discover.charts import Chart
from chartgate.plan.covering import (DEFAULT_EXHAUSTIVE_THRESHOLD, DEFAULT_STRENGTH, covering_array, exhaustive_size,
                                     is_exhaustive)
from chartgate.plan.refusals import coverage_lines
from chartgate.plan.nesting import with_parents_on
from chartgate.plan.scenarios import Scenario, ScenarioKind, base_overlays, full_kube_version
from chartgate.plan.toggles import ToggleCategory, discover_toggles
from chartgate.core.values import get_path, with_files

_ALL_CATEGORIES = frozenset(ToggleCategory)
DEFAULT_PLAN_THRESHOLD = DEFAULT_EXHAUSTIVE_THRESHOLD  # one default, declared in covering


@dataclass(frozen=True)
class PlanConfig:
    strength: int = DEFAULT_STRENGTH  # t: every t factors see every combination of their levels
    # Enumerate everything up to this many combinations. 32 keeps a typical Blueprint (4-5 switches,
    # 1-2 optional APIs) cheap: each combination is a render plus every per-scenario policy.
    exhaustive_threshold: int = DEFAULT_PLAN_THRESHOLD
    kube_versions: tuple[str, ...] = ()  # e.g. ("1.30", "1.33"); empty: no Kubernetes-version factor
    categories: frozenset[ToggleCategory] = _ALL_CATEGORIES  # which toggles become factors
    include_apis: bool = True  # optional APIs (advertised or not) become factors

    def __post_init__(self):
        if self.strength < 1:
            raise ValueError(f"plan strength must be >= 1 (2 = pairwise), given {self.strength}")
        if self.exhaustive_threshold < 0:
            raise ValueError(f"exhaustive threshold must be >= 0, given {self.exhaustive_threshold}")


class _FactorKind:
    TOGGLE = "toggle"
    API = "api"
    KUBE = "kube"


@dataclass(frozen=True)
class _Factor:
    """One dimension of the plan. `levels[0]` is the bare default (toggle default, API absent)."""

    name: str  # unique within the plan: the dotted toggle path, `api:<group/version>` or `kube-version`
    kind: str  # _FactorKind
    levels: tuple[Any, ...]
    detail: str = ""  # toggle category, API version, ...
    parents: tuple[str, ...] = ()  # a toggle's parents: on whenever it is on (nesting.py)

    def show(self, level: Any) -> str:
        if self.kind == _FactorKind.API:
            return "adv" if level else "-"
        if isinstance(level, bool):
            return "on" if level else "off"
        return str(level)


@dataclass
class CombinationPlan:
    """A chart's combination plan: the factor space, the rows covering it and the scenarios they became."""

    chart: str
    factors: list[_Factor]
    strength: int
    exhaustive: bool  # True: every combination is planned (the space was under the threshold)
    rows: list[dict[str, Any]]  # the covering array, {factor name: level}, before de-duplication
    scenarios: list[Scenario]  # one per distinct row, kind PLAN
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (row index, scenario it repeats)
    existing: list[Scenario] = field(default_factory=list)  # the scenarios planned before this plan
    pruned: list[str] = field(default_factory=list)  # toggles no template reads: not factors, never rendered
    # Rows the chart refuses through its own fail/required (infeasible inputs), the combinations they
    # alone covered re-planned in rows of their own, and those combinations the chart refuses too.
    infeasible: list[tuple[str, str]] = field(default_factory=list)  # (scenario, the chart's message)
    infeasible_combinations: list[tuple[tuple[str, Any], ...]] = field(default_factory=list)
    repairs: list[Scenario] = field(default_factory=list)  # rows added to cover what infeasible rows lost
    coverage: Any = None  # refusals._Coverage: the guards learned, what stayed uncovered (budget spent)
    estimate: Any = None  # estimate.RenderEstimate: every render the run makes for the chart, and its budget

    @property
    def space(self) -> dict[str, tuple]:
        return {f.name: f.levels for f in self.factors}

    @property
    def exhaustive_size(self) -> int:
        return exhaustive_size({f.name: f.levels for f in self.factors})

    @property
    def estimated_renders(self) -> int:
        """`helm template` runs for the chart's whole plan: distinct requests, declared and combined."""
        return len({_request_key(s) for s in [*self.existing, *self.scenarios]})


def _request_key(scenario: Scenario) -> tuple:
    """What the renderer sees (identical keys are rendered once)."""
    return (scenario.values_files, json.dumps(scenario.set_values, sort_keys=True, default=str),
            scenario.api_versions, scenario.kube_version, scenario.release, scenario.namespace)


def _effective_defaults(chart: Chart, base: Sequence[Path]) -> dict:
    """The chart's values as Helm computes them with the cluster's base overlays applied on top."""
    return with_files(chart.effective_values, base)


def _build_factors(chart: Chart, config: PlanConfig, defaults: dict, toggles=None) -> list[_Factor]:
    """Toggles no template can read are left out: they cannot change the render (see references.py)."""
    factors = []
    for toggle in toggles if toggles is not None else discover_toggles(chart):
        if toggle.category not in config.categories or not toggle.referenced:
            continue
        default = get_path(defaults, toggle.path, toggle.default)
        default = default if isinstance(default, bool) else toggle.default
        factors.append(_Factor(toggle.dotted, _FactorKind.TOGGLE, (default, not default), toggle.category.value,
                              toggle.parents))
    if config.include_apis:
        factors += [_Factor(f"api:{api}", _FactorKind.API, (False, True), api) for api in advertised_apis(chart)]
    if config.kube_versions and kube_version_constraints(chart):  # else the version cannot change the render
        factors.append(_Factor("kube-version", _FactorKind.KUBE, tuple(dict.fromkeys(config.kube_versions)),
                              "Kubernetes version"))
    return factors


def _normalised(scenario: Scenario, defaults: dict[str, Any]) -> tuple:
    """Effective inputs: `--set` lines equal to the default change nothing, API order is irrelevant."""
    sets = tuple(sorted(((k, repr(v)) for k, v in scenario.set_values if defaults.get(k, _NO_DEFAULT) != v)))
    return (scenario.values_files, sets, tuple(sorted(set(scenario.api_versions))), scenario.kube_version,
            scenario.release, scenario.namespace)


_NO_DEFAULT = object()


def _apply_constraints(row: dict[str, Any], constraints: dict | None) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """A row as the chart's declared constraints allow it: a toggle that is on brings its `requires`
    on and its `excludes` off (when they are factors of the plan), plus its `values`."""
    if not constraints:
        return row, []
    row, extra = dict(row), []
    for toggle, constraint in constraints.items():
        if row.get(toggle) is True:
            for path in constraint.requires:
                if path in row:
                    row[path] = True
                else:
                    extra.append((path, True))
            for path in constraint.excludes:
                if path in row:
                    row[path] = False
            extra += list(constraint.values)
    return row, extra


def _row_scenario(name: str, row: dict[str, Any], factors: list[_Factor], base: tuple[Path, ...],
                  index: int, total: int, constraints: dict | None = None) -> Scenario:
    row, extra = _apply_constraints(row, constraints)
    row, parents_on = with_parents_on(row, {f.name: f.parents for f in factors if f.parents})
    extra += parents_on
    # Only toggles moved off their default are passed to Helm: the shortest reproducible command.
    set_values = tuple(extra) + tuple((f.name, row[f.name]) for f in factors
                                      if f.kind == _FactorKind.TOGGLE and row[f.name] != f.levels[0])
    apis = tuple(f.detail for f in factors if f.kind == _FactorKind.API and row[f.name])
    kube = next((full_kube_version(row[f.name]) for f in factors if f.kind == _FactorKind.KUBE), None)
    changed = [f"{k}={'true' if v else 'false'}" for k, v in set_values] or ["defaults"]
    description = (f"combination {index + 1}/{total}: {', '.join(changed)}; "
                   f"APIs: {', '.join(apis) or 'none'}" + (f"; Kubernetes {kube}" if kube else ""))
    return Scenario(name, ScenarioKind.PLAN, base, set_values, apis, kube, description=description,
                    extra={"assignment": dict(row)})


def plan_combinations(chart: Chart, overlay_roots: Iterable[Path] = (), config: PlanConfig = PlanConfig(),
                      existing: Sequence[Scenario] = (), *, base_files: Sequence[Path] | None = None,
                      toggles=None, constraints: dict | None = None) -> CombinationPlan:
    """Cover the chart's toggle x capability (x Kubernetes version) space with PLAN scenarios.

    `existing` are the scenarios already planned for the chart (e.g. `plan_chart`'s): a row with the
    same effective inputs as one of them is not planned again. `base_files` (default: the cluster
    overlays under `overlay_roots`) are the values files every row starts from; `constraints` are the
    chart's declared toggle constraints (chartgate.discover.chartconfig).
    """
    base = tuple(base_files) if base_files is not None else base_overlays(chart, tuple(Path(p) for p in overlay_roots))
    defaults = _effective_defaults(chart, base)
    toggles = toggles if toggles is not None else discover_toggles(chart)
    factors = _build_factors(chart, config, defaults, toggles)
    pruned = [t.dotted for t in toggles if t.category in config.categories and not t.referenced]
    space = {f.name: f.levels for f in factors}
    rows = covering_array(space, config.strength, exhaustive_threshold=config.exhaustive_threshold)
    exhaustive = is_exhaustive(space, config.strength, config.exhaustive_threshold)
    toggle_defaults = {f.name: f.levels[0] for f in factors if f.kind == _FactorKind.TOGGLE}

    seen: dict[tuple, str] = {}
    for scenario in existing:  # the first declared scenario with given inputs names them
        seen.setdefault(_normalised(scenario, toggle_defaults), scenario.name)
    kept: list[tuple[int, Scenario]] = []
    duplicates: list[tuple[int, str]] = []
    width = max(3, len(str(len(rows))))
    for index, row in enumerate(rows):
        candidate = _row_scenario(f"plan.{len(kept) + 1:0{width}d}", row, factors, base, index, len(rows),
                                  constraints)
        key = _normalised(candidate, toggle_defaults)
        if key in seen:
            duplicates.append((index, seen[key]))
        else:
            seen[key] = candidate.name
            kept.append((index, candidate))
    scenarios = [s for _, s in kept]
    return CombinationPlan(chart.name, factors, min(config.strength, max(len(factors), 1)), exhaustive, rows,
                           scenarios, duplicates, list(existing), pruned)


_REFUSES = re.compile(r"\b(fail|required)\b")


def can_refuse(chart: Chart) -> bool:
    """Could some input make the chart stop in its own `fail`/`required`, or its values schema reject
    it? (Else no row is infeasible.)"""
    return (any(_REFUSES.search(text) for text in chart.all_templates().values())
            or any(rel.rsplit("/", 1)[-1] == "values.schema.json" for rel in chart.files.files))


def repair_scenarios(plan: CombinationPlan, rows: list[dict[str, Any]], base: tuple[Path, ...],
                     constraints: dict | None = None) -> list[Scenario]:
    width = max(3, len(str(len(plan.rows) + len(rows))))
    start = len(plan.scenarios)
    return [_row_scenario(f"plan.{start + i + 1:0{width}d}", row, plan.factors, base, i, len(rows), constraints)
            for i, row in enumerate(rows)]


# -- the --plan text ---------------------------------------------------------------------------------

def _table(header: list[str], body: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    fmt = lambda cells: indent + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return [fmt(header), *(fmt(r) for r in body)]


def _describe_plan(plan: CombinationPlan) -> str:
    """A human-readable account of one chart's plan, printed by `--plan` before anything renders."""
    size, total = len(plan.scenarios), plan.exhaustive_size
    how = "exhaustive" if plan.exhaustive else f"{plan.strength}-wise covering array (IPOG)"
    lines = [f"{plan.chart}: {how}, {len(plan.rows)} of {total} combinations "
             f"({100 * len(plan.rows) / total:.0f}%), {len(plan.factors)} factors"]
    if plan.factors:
        lines += _table(["", "factor", "kind", "levels (first = default)"],
                        [[f"F{i}", f.name, f.detail if f.kind == _FactorKind.TOGGLE else f.kind,
                          ", ".join(f.show(v) for v in f.levels)]
                         for i, f in enumerate(plan.factors, start=1)])
        dropped = dict(plan.duplicates)
        names = iter(plan.scenarios)
        lines += _table(["row", "scenario", *(f"F{i}" for i in range(1, len(plan.factors) + 1))],
                        [[str(index + 1), f"= {dropped[index]}" if index in dropped else next(names).name,
                          *(f.show(row[f.name]) for f in plan.factors)]
                         for index, row in enumerate(plan.rows)])
    if plan.duplicates:
        lines.append(f"  rows marked `= name` repeat an already planned scenario's inputs and are not "
                     f"rendered again ({len(plan.duplicates)})")
    if plan.pruned:
        shown = ", ".join(plan.pruned[:5]) + (f" and {len(plan.pruned) - 5} more" if len(plan.pruned) > 5 else "")
        lines.append(f"  pruned: {len(plan.pruned)} toggle(s) no template reads ({shown}): they cannot change "
                     "the render")
    if plan.infeasible:
        lines.append(f"  infeasible: {len(plan.infeasible)} row(s) the chart refuses with its own fail/required "
                     f"({', '.join(name for name, _ in plan.infeasible[:5])}); {len(plan.repairs)} row(s) re-cover "
                     f"what they alone covered, {len(plan.infeasible_combinations)} combination(s) refused as well")
    lines += coverage_lines(plan.coverage, plan.estimate)
    lines.append(f"  scenarios: {len(plan.existing)} declared + {size} combined; "
                 f"estimated renders: {plan.estimate.describe() if plan.estimate else plan.estimated_renders}")
    return "\n".join(lines)


def describe_plans(plans: Iterable[CombinationPlan], known_infeasible: dict[str, list[str]] | None = None,
                   unresolved: dict[str, list[str]] | None = None) -> str:
    """The --plan text. `known_infeasible`: per chart, the planned scenarios an earlier run's render
    cache already knows the chart refuses (--plan itself renders nothing of the plan). `unresolved`:
    per chart, the template reads the static values scan cannot follow (see references.py)."""
    plans = list(plans)
    renders = sum(p.estimate.total if p.estimate else p.estimated_renders for p in plans)
    parts = []
    for plan in plans:
        text = _describe_plan(plan)
        known = (known_infeasible or {}).get(plan.chart)
        if known:
            text += (f"\n  infeasible (known from the render cache): {len(known)} scenario(s) the chart refuses "
                     f"with its own fail/required ({', '.join(known[:5])}{' ...' if len(known) > 5 else ''})")
        reads = (unresolved or {}).get(plan.chart)
        if reads:
            text += ("\n  every value counts as read (no toggle or --set line pruned): "
                     + "; ".join(reads[:3]) + (f"; and {len(reads) - 3} more" if len(reads) > 3 else ""))
        parts.append(text)
    pruned = sum(len(p.pruned) for p in plans)
    infeasible = sum(len(v) for v in (known_infeasible or {}).values())
    parts.append(f"total: {len(plans)} charts, {sum(len(p.scenarios) for p in plans)} combined scenarios, "
                 f"{pruned} toggles pruned, {infeasible} scenarios known infeasible, estimated renders: {renders}")
    return "\n\n".join(parts)
