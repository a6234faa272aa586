"""When a policy applies: the vocabulary of `@policy(requires=...)` and `kinds=...`, judged by the
engine before a check runs, so every "nothing to judge here" is the same `skipped` result with a
reason, never a silent `passed`.

A requirement is a fact about the chart (its profile, its toggles, its dependencies ...). Each entry
of REQUIREMENTS maps a name to (holds(ctx) -> bool, why-not(ctx) -> str).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from .errors import InvalidConfig

if TYPE_CHECKING:
    from .context import ChartContext
    from .manifests import Manifest
    from .definition import Policy


def _has_observability_toggles(ctx: "ChartContext") -> bool:
    return any(t.must_default_false for t in ctx.toggles)


def _has_optional_api_gates(ctx: "ChartContext") -> bool:
    from .kube import builtin_groups
    from .kube import api_group as group_of

    def optional(api: str) -> bool:
        first = api.split("/")[0]
        group = "" if "." not in first else group_of("/".join(api.split("/")[:2]))
        return not all(group in builtin_groups(v) for v in ctx.kube_versions)
    return any(optional(g.api_version) for g in ctx.capability_gates)


def _config_schema(ctx: "ChartContext") -> bool:
    spec = (ctx.chart.blueprint or {}).get("spec") or {}
    return isinstance(spec, dict) and bool(spec.get("configSchema"))


def _fqdn_inputs(ctx: "ChartContext") -> list:
    from .dnsnames import fqdn_inputs
    return fqdn_inputs(ctx.chart)


REQUIREMENTS: dict[str, tuple[Callable[["ChartContext"], bool], Callable[["ChartContext"], str]]] = {
    "blueprint": (
        lambda ctx: ctx.chart.profile == "blueprint",
        lambda ctx: f"Blueprint-only rule: {ctx.name} is judged with the generic profile "
                    "(no blueprint.yaml, or profile = \"generic\" in its chart configuration)"),
    "blueprint-file": (
        lambda ctx: ctx.chart.blueprint is not None,
        lambda ctx: f"the rule reads blueprint.yaml, and {ctx.name} has none"),
    "dependencies": (
        lambda ctx: bool(ctx.chart.dependencies),
        lambda ctx: "Chart.yaml declares no dependencies"),
    "toggles": (
        _has_observability_toggles,
        lambda ctx: "the chart has no observability or overlay toggles"),
    "capability-gates": (
        _has_optional_api_gates,
        lambda ctx: "no template tests .Capabilities.APIVersions.Has for an optional API"),
    "config-schema": (
        _config_schema,
        lambda ctx: "blueprint.yaml declares no spec.configSchema"),
    "fqdn-inputs": (
        lambda ctx: bool(_fqdn_inputs(ctx)),
        lambda ctx: "the chart has no FQDN input (no values or configSchema key says fqdn or domain and holds "
                    "a name)"),
    "helm-matrix": (
        lambda ctx: bool(ctx.helm_matrix),
        lambda ctx: "only one Helm version is configured (--helm-version)"),
}


def unmet_requirement(policy: "Policy", ctx: "ChartContext", opted_in: str | None = None) -> str | None:
    """Why the chart does not meet the policy's `requires`, or None when it does.

    `opted_in` names the chart setting that enables this policy explicitly (`enable = ["OBS-*"]`): it
    opts a generic chart into Blueprint platform rules. A rule that reads blueprint.yaml cannot be
    opted into without one: that is a configuration error (InvalidConfig) naming the chart and the
    setting, raised rather than skipped, because the user asked for the rule."""
    for name in policy.requires:
        if name == "blueprint" and opted_in:
            continue
        holds, why_not = REQUIREMENTS[name]
        if holds(ctx):
            continue
        if name == "blueprint-file" and (opted_in or ctx.chart.profile == "blueprint"):
            asked = opted_in or f"profile = \"blueprint\" for {ctx.name}"
            raise InvalidConfig(f"{policy.id} reads blueprint.yaml, but chart {ctx.name} has none, and {asked} "
                                "asks for it. Add the chart's blueprint.yaml (in the chart directory, or beside "
                                "a chart/ directory), or leave this rule out of the chart's enable/profile setting")
        return why_not(ctx)
    return None


def missing_kinds(policy: "Policy", manifests: Iterable["Manifest"], where: str = "in this scenario") -> str | None:
    """Why the render offers nothing of the policy's `kinds`, or None when it has one of them."""
    if not policy.kinds:
        return None
    wanted = set(policy.kinds)
    if any(m.kind in wanted for m in manifests):
        return None
    return f"no {' or '.join(policy.kinds)} rendered {where}"
