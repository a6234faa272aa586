"""When a policy applies: `@policy(..., receives=..., applies_to=Applicability(...))`, the one place a
policy says which charts and scenarios it judges. The engine judges it before a check runs, so every
"nothing to judge here" is the same `skipped` result with a reason, never a silent `passed`.
`NotApplicable`, raised by a check, is left for what is found while judging (no object of interest
in what rendered, nothing of the kind the rule reads in the values).

A requirement is a fact about the chart (its toggles, its dependencies ...). Each entry of
_REQUIREMENTS maps a name to (holds(ctx) -> bool, why-not(ctx) -> str); a chart profile adds its own
(the Blueprint profile: "blueprint-file", "config-schema"; see chartgate.discover.profiles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from chartgate.parse.dnsnames import fqdn_inputs
from chartgate.core.errors import InvalidConfig
from chartgate.core.kube import api_group, builtin_groups
from chartgate.discover.profiles import file_requirement_owner, profile, profile_names, requirements
from chartgate.plan.scenarios import ScenarioKind

if TYPE_CHECKING:
    from chartgate.check.context import ChartContext
    from chartgate.check.definition import Policy
    from chartgate.parse.manifests import Manifest
    from chartgate.render.renderer import Render
    from chartgate.plan.scenarios import Scenario

#: What a check receives: a ChartContext once per chart, or a ScenarioContext once per planned scenario.
_RECEIVES = ("chart", "scenario")

#: The `skipped` message of a rule for generic charts on a chart of a registered profile.
_GENERIC_ONLY = "rule for generic charts: {name} is judged with the {profile} profile"


@dataclass(frozen=True)
class Applicability:
    """Which charts and scenarios a policy judges, declared once on `@policy(applies_to=...)`.

    The engine judges it before the check runs and records `skipped`, with the reason, where it
    does not hold. Every part is optional; `Applicability()` applies everywhere."""

    # The chart profile the rule is for: "blueprint" (Blueprint umbrellas; a generic chart may opt
    # in with `enable`), "generic", or None for every chart.
    profile: str | None = None
    # Chart facts the rule needs, e.g. ("blueprint-file",); the error for an unknown one lists them all.
    requires: tuple[str, ...] = ()
    # The render must hold one of these kinds: the scenario's render for receives="scenario", some
    # planned scenario's render for receives="chart".
    kinds: tuple[str, ...] = ()
    # receives="scenario" only: the scenario kinds (or scenario names) the check runs on, "*" for
    # every scenario, or a mapping {profile: kinds or "*"} when that differs by chart profile (left
    # out of the hash: a mapping has none).
    scenarios: Any = field(default=(), hash=False)
    # receives="scenario" only: the check also judges renders Helm refused (the render check), and the
    # `bare` scenario of a chart whose defaults need input.
    failed_renders: bool = False

    def runs_in(self, scenario: "Scenario") -> bool:
        """Is a check of this applicability planned on `scenario` (for some profile)?"""
        if scenario.kind.value == "bare":  # chart defaults that need input: only render checks judge it
            return self.failed_renders
        return any(_admits(kinds, scenario) for kinds in self.scenarios_by_profile().values())

    def scenarios_by_profile(self) -> dict[str | None, Any]:
        """{profile: kinds or "*"}; the key None stands for every profile."""
        if isinstance(self.scenarios, Mapping):
            return dict(self.scenarios)
        return {None: self.scenarios}

    @property
    def all_scenarios(self) -> Any:
        """The scenario kinds (or names) the check runs on for some profile, "*" for every scenario."""
        chosen = list(self.scenarios_by_profile().values())
        if any(kinds == "*" for kinds in chosen):
            return "*"
        return tuple(dict.fromkeys(kind for kinds in chosen for kind in kinds))


def _admits(kinds: Any, scenario: "Scenario") -> bool:
    return kinds == "*" or scenario.kind in kinds or scenario.name in kinds


def _has_observability_toggles(ctx: "ChartContext") -> bool:
    return any(t.must_default_false for t in ctx.toggles)


def _has_optional_api_gates(ctx: "ChartContext") -> bool:
    def optional(api: str) -> bool:
        first = api.split("/")[0]
        group = "" if "." not in first else api_group("/".join(api.split("/")[:2]))
        return not all(group in builtin_groups(v) for v in ctx.kube_versions)
    return any(optional(g.api_version) for g in ctx.capability_gates)


_REQUIREMENTS: dict[str, tuple[Callable[["ChartContext"], bool], Callable[["ChartContext"], str]]] = {
    "application-chart": (
        lambda ctx: ctx.chart.chart_yaml.get("type") != "library",
        lambda ctx: f"{ctx.name} is a library chart (Chart.yaml type: library): it renders nothing and wraps "
                    "nothing"),
    "dependencies": (
        lambda ctx: bool(ctx.chart.dependencies),
        lambda ctx: "Chart.yaml declares no dependencies"),
    "toggles": (
        _has_observability_toggles,
        lambda ctx: "the chart has no observability or overlay toggles"),
    "capability-gates": (
        _has_optional_api_gates,
        lambda ctx: "no template tests .Capabilities.APIVersions.Has for an optional API"),
    "fqdn-inputs": (
        lambda ctx: bool(fqdn_inputs(ctx.chart)),
        lambda ctx: "the chart has no FQDN input (no values or configSchema key says fqdn or domain and holds "
                    "a name)"),
    "helm-matrix": (
        lambda ctx: bool(ctx.helm_matrix),
        lambda ctx: "only one Helm version is configured (--helm-version)"),
}


def unmet_requirement(policy: "Policy", ctx: "ChartContext", opted_in: str | None = None) -> str | None:
    """Why the chart is outside the policy's profile or lacks a fact it requires, or None.

    `opted_in` names the chart setting that enables this policy explicitly (`enable = ["OBS-*"]`): it
    opts a generic chart into Blueprint platform rules. A rule that reads blueprint.yaml cannot be
    opted into without one: that is a configuration error (InvalidConfig) naming the chart and the
    setting, raised rather than skipped, because the user asked for the rule."""
    declared = policy.applicability
    if declared.profile is not None and declared.profile != ctx.chart.profile and not opted_in:
        owner = profile(declared.profile)
        said = owner.skipped if owner is not None else _GENERIC_ONLY
        return said.format(name=ctx.name, profile=ctx.chart.profile)
    known = _all_requirements()
    for name in declared.requires:
        holds, why_not = known[name]
        if holds(ctx):
            continue
        owner = file_requirement_owner(name)
        if owner is not None and (opted_in or ctx.chart.profile == owner.name):
            asked = opted_in or f"profile = \"{owner.name}\" for {ctx.name}"
            raise InvalidConfig(owner.missing_file.format(policy=policy.id, name=ctx.name, asked=asked))
        return why_not(ctx)
    return None


def _all_requirements() -> dict:
    """The requirements a policy may declare: the generic ones and every registered profile's."""
    return {**_REQUIREMENTS, **requirements()}


def not_applicable_here(policy: "Policy", ctx: "ChartContext", scenario: "Scenario | None",
                        render: "Render | None") -> str | None:
    """Why the check has nothing to judge in what rendered, or None: once the chart meets the
    requirements and a scenario's render is usable (a failed render is judged before this), the
    scenario kinds the chart's profile is judged on, then the declared `kinds` - in the scenario's
    render, or for a chart-level check in some planned scenario's render."""
    if scenario is None:
        return _missing_kinds_in_chart(policy, ctx)
    outside = _outside_profile_scenarios(policy.applicability, ctx, scenario)
    if outside or render is None or not render.ok:
        return outside
    return _missing_kinds(policy, render.manifests)


def _outside_profile_scenarios(declared: Applicability, ctx: "ChartContext", scenario: "Scenario") -> str | None:
    """Why a scenario planned for another profile's kinds is not judged on this chart, or None."""
    by_profile = declared.scenarios_by_profile()
    if None in by_profile:
        return None
    kinds = by_profile.get(ctx.chart.profile, ())
    if scenario.kind.value == "bare" or _admits(kinds, scenario):
        return None
    shown = ", ".join(getattr(k, "value", k) for k in kinds) or "none"
    return (f"on a {ctx.chart.profile} chart this rule judges only scenarios of kind {shown}; {scenario.name} is "
            f"a {scenario.kind.value} scenario")


def _missing_kinds(policy: "Policy", manifests: Iterable["Manifest"], where: str = "in this scenario") -> str | None:
    """Why the render offers nothing of the policy's `kinds`, or None when it has one of them."""
    if not policy.kinds:
        return None
    wanted = set(policy.kinds)
    if any(m.kind in wanted for m in manifests):
        return None
    return f"no {' or '.join(policy.kinds)} rendered {where}"


def _missing_kinds_in_chart(policy: "Policy", ctx: "ChartContext") -> str | None:
    """A chart-level check's `kinds`: why no planned scenario that rendered holds one, or None."""
    if not policy.kinds:
        return None
    renders = [ctx.try_render(s) for s in ctx.scenarios]
    return _missing_kinds(policy, (m for r in renders if r.ok for m in r.manifests), "in any planned scenario")


# -- the declaration, checked when the policy module is collected -------------------------------------


class PolicyDeclarationError(TypeError):
    """Raised at collection when `@policy(...)` is given an argument it cannot use. The message names
    the policy, the argument and the values it accepts."""


def _names(policy_id: str, argument: str, value: Any, example: str) -> tuple[str, ...]:
    """A tuple of names from a list/tuple/set argument. A bare string is refused: `tuple("Deployment")`
    would be ten one-letter names and the policy would never apply anywhere."""
    if isinstance(value, str) or not isinstance(value, Iterable) \
            or not all(isinstance(item, str) for item in value):
        raise PolicyDeclarationError(f"{policy_id}: {argument}={value!r} must be a tuple of names, "
                                     f"e.g. {argument}={example}")
    return tuple(value)


_SCENARIOS_EXAMPLE = "(ScenarioKind.DEFAULT,) or \"*\" for every scenario"


def _scenario_kinds(policy_id: str, value: Any, argument: str = "scenarios") -> Any:
    """`"*"`, or a tuple of ScenarioKind members and scenario names."""
    if value == "*":
        return "*"
    kinds_known = [k.value for k in ScenarioKind]
    given = _names(policy_id, argument, value, _SCENARIOS_EXAMPLE)
    # A kind, or one scenario's name (`overlay.planted`, `on.metrics.enabled`: names hold a dot).
    unknown = [n for n in given if n not in kinds_known and "." not in n]
    if unknown or not given:
        raise PolicyDeclarationError(f"{policy_id}: {argument}={value!r}: {unknown or 'empty'} is neither a "
                                     f"scenario kind nor a scenario name; valid kinds: {kinds_known}, or \"*\" "
                                     "for every scenario")
    return tuple(ScenarioKind(n) if n in kinds_known else n for n in given)


def _profile(policy_id: str, value: Any) -> Any:
    if value is not None and value not in profile_names():
        raise PolicyDeclarationError(f"{policy_id}: profile={value!r} is not a chart profile: one of "
                                     f"{list(profile_names())}, or None (the default) for every chart")
    return value


def validated(policy_id: str, receives: Any, applies_to: Any) -> tuple[str, Applicability]:
    """`receives` and `applies_to` of a declaration, checked and normalised, or PolicyDeclarationError
    naming the policy and the values it accepts."""
    if receives is None:
        raise PolicyDeclarationError(
            f"{policy_id}: say which context the check receives: receives=\"chart\" (a ChartContext, once per "
            "chart) or receives=\"scenario\" (a ScenarioContext, once per planned scenario that "
            "applies_to=Applicability(scenarios=...) admits)")
    if receives not in _RECEIVES:
        raise PolicyDeclarationError(f"{policy_id}: receives={receives!r} is not one of {list(_RECEIVES)}: \"chart\" "
                                     "for a ChartContext once per chart, \"scenario\" for a ScenarioContext once "
                                     "per planned scenario")
    if not isinstance(applies_to, Applicability):
        raise PolicyDeclarationError(f"{policy_id}: applies_to={applies_to!r} must be chartgate.Applicability(...), "
                                     "e.g. applies_to=Applicability(profile=\"blueprint\", kinds=(\"Deployment\",))")
    profile = _profile(policy_id, applies_to.profile)
    kinds = _names(policy_id, "kinds", applies_to.kinds, "(\"Deployment\", \"StatefulSet\")")
    requires = _names(policy_id, "requires", applies_to.requires, "(\"blueprint-file\",)")
    known = _all_requirements()
    unknown = sorted(set(requires) - set(known))
    if unknown:
        hint = "".join(f" (a rule for {p} charts declares Applicability(profile=\"{p}\"))"
                       for p in unknown if p in profile_names())
        raise PolicyDeclarationError(f"{policy_id}: unknown requires={unknown}; known: {sorted(known)}{hint}")
    if not isinstance(applies_to.failed_renders, bool):
        raise PolicyDeclarationError(f"{policy_id}: failed_renders={applies_to.failed_renders!r} must be True or "
                                     "False")
    scenarios = applies_to.scenarios
    if receives == "chart":
        if scenarios not in ((), None):
            raise PolicyDeclarationError(
                f"{policy_id}: receives=\"chart\" runs the check once per chart (a ChartContext), but "
                f"applies_to names scenarios={scenarios!r}: declare receives=\"scenario\" for a check that "
                "runs once per scenario of those kinds, or leave scenarios out")
        if applies_to.failed_renders:
            raise PolicyDeclarationError(
                f"{policy_id}: failed_renders=True is for receives=\"scenario\" (the check judges each scenario's "
                "render, also one Helm refused); a chart-level check reads failed renders with ctx.try_render")
        scenarios = ()
    elif scenarios in ((), None):
        raise PolicyDeclarationError(
            f"{policy_id}: receives=\"scenario\" runs the check once per planned scenario, but applies_to names "
            "no scenarios: say which with applies_to=Applicability(scenarios=...) - \"*\" for every scenario, "
            f"or kinds from {[k.value for k in ScenarioKind]}; a check of the whole chart declares "
            "receives=\"chart\"")
    elif isinstance(scenarios, Mapping):
        if not scenarios:
            raise PolicyDeclarationError(f"{policy_id}: scenarios={{}} names no profile: give {{profile: kinds}} for "
                                         f"profiles from {list(profile_names())}")
        wrong = [p for p in scenarios if p not in profile_names()]
        if wrong:
            raise PolicyDeclarationError(f"{policy_id}: scenarios={{{wrong[0]!r}: ...}}: the keys of a scenarios "
                                         f"mapping are chart profiles, one of {list(profile_names())}")
        scenarios = {p: _scenario_kinds(policy_id, kinds, f"scenarios[{p!r}]") for p, kinds in scenarios.items()}
    else:
        scenarios = _scenario_kinds(policy_id, scenarios)
    return receives, Applicability(profile, requires, kinds, scenarios, applies_to.failed_renders)
