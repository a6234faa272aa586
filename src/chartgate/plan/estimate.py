"""What a chart's run will cost in `helm template` runs, before anything is rendered, and its budget.

Every render a run makes is counted (`--plan` prints the parts; the budget bounds their sum):

- judging: the planned scenarios (declared and combined), identical effective inputs counted once;
- comparison: the scenarios the HELM- policies compare, under each other configured Helm version;
- determinism: a second render of each of those when the templates can produce random output;
- variants: renders policies derive from a planned scenario: PROP-001's configurations, the FQDN
  sentinel renders and the capability differentials (CAP-001/CAP-002 render a scenario again without
  an optional API its objects use; `_capability_variants`);
- planning: rows and bisection probes rendered while planning around refusals (refusals.py).

The budget (`render-budget` in [tool.chartgate], `render_budget` per chart) bounds the total: what
planning may spend is what the rest leaves. When it is spent, the combinations not yet covered are
listed as uncovered and the chart's coverage is partial.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable

from chartgate.discover.capabilities import advertised_api_checks
from chartgate.plan.determinism import may_be_nondeterministic
from chartgate.plan.scenarios import Scenario, ScenarioKind

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart
    from chartgate.render.renderer import Renderer

#: Measured on the benchmark's charts (see README, Performance): bp-warden (126 guarded switches,
#: 66 guards) covers every feasible pair in about this many renders of planning.
DEFAULT_RENDER_BUDGET = 600

#: The scenario kinds the HELM- policies compare across Helm versions (policies/helm_matrix.py).
_COMPARED = frozenset({ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.CI, ScenarioKind.OVERLAY,
                      ScenarioKind.RELEASE, ScenarioKind.KUBE_VERSION})


@dataclass(frozen=True)
class RenderEstimate:
    judging: int = 0
    comparison: int = 0
    determinism: int = 0
    variants: int = 0
    planning: int = 0
    limit: int = DEFAULT_RENDER_BUDGET

    @property
    def fixed(self) -> int:
        """Renders the run makes whatever planning does."""
        return self.judging + self.comparison + self.determinism + self.variants

    @property
    def total(self) -> int:
        return self.fixed + self.planning

    @property
    def planning_allowance(self) -> int:
        return max(0, self.limit - self.fixed)

    def describe(self) -> str:
        parts = [f"judging {self.judging}"]
        parts += [f"{label} {n}" for label, n in (("Helm comparison", self.comparison),
                                                   ("determinism", self.determinism), ("policy variants", self.variants),
                                                   ("planning", self.planning)) if n]
        return f"{self.total} ({', '.join(parts)}; budget {self.limit})"


def _distinct(renderer: "Renderer", chart: "Chart", scenarios: Iterable[Scenario]) -> list[Scenario]:
    """One scenario per effective request (what the renderer actually runs Helm for)."""
    seen: dict[tuple, Scenario] = {}
    for scenario in scenarios:
        effective = renderer.effective_request(chart, renderer.request(chart, scenario))
        seen.setdefault(tuple(effective.args()), scenario)
    return list(seen.values())


def estimate(renderer: "Renderer", chart: "Chart", scenarios: list[Scenario], *, other_helms: int,
             planning: int = 0, limit: int = DEFAULT_RENDER_BUDGET, toggles: list | None = None) -> RenderEstimate:
    judged = _distinct(renderer, chart, scenarios)
    compared = [s for s in judged if s.kind in _COMPARED]
    with_properties = _distinct(renderer, chart, judged + _property_variants(chart, judged)
                               + _capability_variants(chart, judged, toggles or []))
    bare = _fqdn_variants(chart, judged)  # the sentinel always makes a new request; the bare defaults may not
    fqdn = len(bare) and len(bare) - 1 + len(_distinct(renderer, chart, with_properties + bare[:1])) - len(with_properties)
    return RenderEstimate(
        judging=len(judged),
        comparison=len(compared) * other_helms,
        determinism=len(compared) if may_be_nondeterministic(chart) else 0,
        variants=len(with_properties) - len(judged) + fqdn,
        planning=planning,
        limit=limit,
    )


def _base(judged: list[Scenario], *names: str) -> Scenario | None:
    return next((s for name in names for s in judged if s.name == name), None)


def _property_variants(chart: "Chart", judged: list[Scenario]) -> list[Scenario]:
    """PROP-001's renders when nothing fails: the boundaries, then the derandomised search's draws
    (strategies.search_configurations), each set on the `capabilities` (else `default`) scenario."""
    from chartgate.plan.strategies import active_profile, config_space, search_configurations
    base = _base(judged, "capabilities", "default")
    if base is None or chart.profile != "blueprint" or not chart.blueprint:
        return []
    space = config_space(chart.blueprint, chart.name, chart.effective_values)
    if space is None:
        return []
    profile = active_profile()
    configs = list(space.boundaries)[:profile.examples]
    configs += search_configurations(space.configurations, profile, limit=profile.examples - len(configs))
    return [replace(base, name=f"{base.name}+property", set_values=base.set_values + tuple(c)) for c in configs]


#: The scenario kinds CAP-001 judges on a chart that is not a Blueprint (policies/capabilities.py).
_DEFAULT_LIKE = frozenset({ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.KUBE_VERSION})
_SWITCH_WORDS = frozenset({"enabled", "enable", "create"})


@dataclass(frozen=True)
class _GatedTemplate:
    """A template that tests an optional API: where, which, the values scope of its chart, and the
    words of its text up to the test (the values it reads to get there)."""
    source: str
    group_version: str
    scope: tuple[str, ...]
    words: frozenset[str]


def _gated_templates(chart: "Chart", optional: set[str], scope: tuple[str, ...] = (), prefix: str = "") -> list[_GatedTemplate]:
    me = prefix + chart.name
    found = []
    for rel, text in chart.templates.items():
        for api_version, end in advertised_api_checks(text):
            gv = "/".join(api_version.split("/")[:2])
            if gv in optional:
                found.append(_GatedTemplate(f"{me}/{rel}", gv, scope, frozenset(_WORD.findall(text[:end]))))
    for key, sub in chart.subcharts.items():
        found += _gated_templates(sub, optional, scope + (key,), f"{me}/charts/")
    return found


def _capability_variants(chart: "Chart", judged: list[Scenario], toggles: list) -> list[Scenario]:
    """The differential renders of CAP-001 and CAP-002 (policies/capabilities.py): a scenario that
    advertises an optional API and renders an object of it from a template tested nowhere before (per
    release identity for CAP-001) is rendered again without that API. Which scenario renders a gated
    template is read from the toggles the text before the test names (all of a toggle's path inside the
    template's chart): on when each such toggle is on in the scenario, or by default."""
    from chartgate.discover.capabilities import advertised_apis
    optional = {"/".join(api.split("/")[:2]) for api in advertised_apis(chart)}
    if not optional:
        return []
    gated = _gated_templates(chart, optional)
    switches = {}
    for gate in gated:
        switches[gate] = [t for t in toggles if tuple(t.path[:len(gate.scope)]) == gate.scope
                          and _relative_words(t.path[len(gate.scope):]) <= gate.words]
    blueprint = chart.profile == "blueprint"
    seen: set[tuple] = set()
    variants = []
    for scenario in judged:
        advertised = {"/".join(api.split("/")[:2]) for api in scenario.api_versions} & optional
        if not advertised:
            continue
        values = dict(scenario.set_values)
        for gate in gated:
            if gate.group_version not in advertised or not all(values.get(t.dotted, t.default) is True
                                                                for t in switches[gate]):
                continue
            keys = [(gate.source, gate.group_version)]  # CAP-002: one proof per gate
            if blueprint or scenario.kind in _DEFAULT_LIKE:  # CAP-001: once per object identity
                keys.append((gate.source, gate.group_version, scenario.release, scenario.namespace))
            if all(key in seen for key in keys):
                continue
            seen.update(keys)
            without = tuple(a for a in scenario.api_versions if "/".join(a.split("/")[:2]) != gate.group_version)
            variants.append(replace(scenario, name=f"{scenario.name}+without-{gate.group_version}",
                                    api_versions=without))
    return variants


def _relative_words(path) -> set[str]:
    parts = list(path)
    if parts and parts[-1] in _SWITCH_WORDS:
        parts = parts[:-1]
    return set(parts) or {"\0"}  # a bare `enabled` at the chart's top names nothing


#: The kinds FQDN-002 renders again with the sentinel domain in every FQDN input (policies/fqdn.py).
_FQDN_SENTINEL_KINDS = frozenset({ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.OPT_IN,
                                 ScenarioKind.CI, ScenarioKind.OVERLAY, ScenarioKind.RELEASE})


def _fqdn_variants(chart: "Chart", judged: list[Scenario]) -> list[Scenario]:
    """The FQDN policies' renders of a chart with FQDN inputs, besides the planned ones: the bare
    defaults (no overlay) first, then one sentinel render for it and for each sentinel kind's scenario
    (those are counted, not built: the sentinel values are the policy's)."""
    from chartgate.parse.dnsnames import fqdn_inputs
    default = _base(judged, "default")
    if not fqdn_inputs(chart) or default is None:
        return []
    sentinels = [s for s in judged if s.kind in _FQDN_SENTINEL_KINDS]
    return [replace(default, name="default+no-overlay", values_files=()), default, *sentinels]


#: Planning renders (refused rows and bisection probes) as a power of the guards reading a factor,
#: fitted on bp-warden at four sizes (10, 20, 33 and 66 guards over 47-220 factors: 15, 58, 80 and
#: 300 renders; README, Performance): each guard met costs a row and a bisection, and more guards
#: refuse more of the rows planned around the others.
_PLANNING_SCALE, _PLANNING_POWER = 0.385, 1.59
#: New rows that re-cover what refused rows lost, per row of the plan (14-21 for 16-25 on bp-warden).
_RECOVER_ROWS = 0.85
_GUARD = re.compile(r"\b(fail|required)\b")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_IF = re.compile(r"\{\{-?\s*(if|else if|with)\b")


def _guards_on_factors(chart: "Chart", factors) -> int:
    """`fail`/`required` calls guarded by a factor: the call's line, or one of the two before it that
    opens an `if`, reads a factor (a `required` of a cluster value beside a toggle's line is no guard)."""
    words = {part for f in factors for part in f.name.split(".")[-2:]} - {"enabled", "enable", "create"}
    found = 0
    for text in chart.all_templates().values():
        lines = text.splitlines()
        for index, line in enumerate(lines):
            if not _GUARD.search(line):
                continue
            window = [previous for previous in lines[max(0, index - 2):index] if _IF.search(previous)] + [line]
            if words & set(_WORD.findall(" ".join(window))):
                found += 1
    return found


def guess_planning(chart: "Chart", plan) -> int:
    """What planning around refusals will render, without rendering (for --plan): the refused rows and
    bisection probes of the guards reading a factor, and the rows re-covering what they refused."""
    guards = _guards_on_factors(chart, plan.factors)
    if not guards:
        return 0
    return round(_PLANNING_SCALE * guards ** _PLANNING_POWER + _RECOVER_ROWS * len(plan.scenarios))
