"""Capabilities gating: a fresh cluster never receives an object whose API it does not serve.

An object whose API group is not built into every target Kubernetes version is acceptable only if
(a) it disappears when its group/version is not advertised (a live `.Capabilities.APIVersions.Has`
gate), (b) the chart ships its CRD, or (c) a Blueprint the chart declares in blueprint.yaml
`spec.depends` provides the group. (b) and (c) are what "present" means, decided in one engine
function (`chartgate.presence.presence`) that OBS-004 uses too. (a) is differential: the scenario
is rendered again with the object's group/version taken out of `--api-versions`, and the two
renders are compared.

CAP-001 judges every chart (Blueprint or not); CAP-002 every chart whose templates test an
optional API. An object a Blueprint's observability toggle switches on, which that toggle's opt-in
renders on a cluster without the API, is OBS-004's one finding (naming CAP-001 too), not two.
"""

from __future__ import annotations

import re
from typing import Iterable

from chartgate import (Applicability, ChartContext, ChartFailed, Finding, Manifest, NotApplicable, Render,
                       ScenarioContext, ScenarioKind, policy)
from chartgate.lib.apis import builtin_groups
from chartgate.lib.presence import presence

REFERENCE = "docs/policies.md#cap"


def is_builtin_group(group: str, kube_versions: Iterable[str]) -> bool:
    """Served by a plain API server of *every* target version (one missing version is enough to need a gate)."""
    return all(group in builtin_groups(version) for version in kube_versions)


def api_group(api: str) -> str:
    """Group of an advertised API string (`g/v`, `g/v/Kind`, or core `v1`, `v1/Pod`)."""
    first = api.split("/")[0]
    return "" if re.fullmatch(r"v\d+\w*", first) else first


def group_version(api: str) -> str:
    """`group/version` of an advertised API string, dropping a trailing Kind."""
    parts = api.split("/")
    return parts[0] if not api_group(api) else "/".join(parts[:2])


def without_api(apis: Iterable[str], gv: str) -> tuple[str, ...]:
    return tuple(api for api in apis if group_version(api) != gv)


def render_without(ctx: ChartContext, render: Render, gv: str) -> Render:
    """The same scenario with `gv` no longer advertised (memoised: often equals a planned render,
    e.g. `on-no-api.*` for `on.*`). A failed render comes back with `.error` set."""
    scenario = render.scenario
    return ctx.try_render(ctx.variant(scenario, f"without-{gv}",
                                      api_versions=without_api(scenario.api_versions, gv)))


DEFAULT_LIKE = (ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.KUBE_VERSION)


def ungated(ctx: ChartContext, render: Render, manifest: Manifest) -> bool:
    """True if the object also renders when its group/version is not advertised.

    A scenario that does not advertise the API answers at once. Otherwise one differential render
    per (template, kind, API) and chart decides, not one per scenario: whether a template is gated
    is a property of the template, and a gate that values can bypass (`or .Values.force`) still shows
    up in a planned scenario that sets those values without the API (the plan covers every pair of
    toggle and API)."""
    gv = manifest.api_version
    if gv not in {group_version(api) for api in render.scenario.api_versions}:
        return True  # rendered although the scenario never advertised its API
    decided = ctx.memo(("CAP-001", "gated"), dict)
    key = (manifest.source, manifest.kind, manifest.identity(), gv)
    if key not in decided:
        # A render that fails loudly without the API does not ship the object either.
        decided[key] = manifest.identity() in {m.identity() for m in render_without(ctx, render, gv).manifests}
    return decided[key]


def left_to_obs004(ctx: ChartContext) -> dict[tuple, str]:
    """Objects OBS-004 reports, by identity, with their toggle: a Blueprint's observability toggle
    switches them on and its opt-in renders them on a cluster without optional APIs. One defect, one
    finding: CAP-001 leaves them to OBS-004, whose finding names both rules. Memoised per chart."""
    return ctx.memo(("CAP-001", "left to OBS-004"), lambda: _left_to_obs004(ctx))


def _left_to_obs004(ctx: ChartContext) -> dict[tuple, str]:
    found: dict[tuple, str] = {}
    planned = {s.name for s in ctx.scenarios}
    for toggle in ctx.observability_toggles if ctx.chart.profile == "blueprint" else ():
        names = (f"on.{toggle.dotted}", f"off.{toggle.dotted}", f"on-no-api.{toggle.dotted}")
        if not all(name in planned for name in names):
            continue
        on, off, bare = (ctx.try_render(name) for name in names)
        if on.ok and off.ok and bare.ok:
            switched = {m.identity() for m in on.manifests} - {m.identity() for m in off.manifests}
            for m in bare.manifests:
                if m.identity() in switched:
                    found.setdefault(m.identity(), toggle.dotted)
    return found


@policy(
    id="CAP-001",
    title="Objects of non-built-in APIs are gated, have their CRD shipped, or come from a declared Blueprint",
    receives="scenario",
    # A third-party chart's opt-in (a toggle, a values file) is its user's choice of cluster; only its
    # defaults must apply to a bare one. Blueprints promise more: every opt-in is gated.
    applies_to=Applicability(scenarios={"blueprint": "*", "generic": DEFAULT_LIKE}),
    rationale="""An object whose API group a plain Kubernetes cluster does not serve (a
    ServiceMonitor, a Gateway, a Certificate) is rejected by the API server when its CRD is missing,
    and the whole release fails to apply. It is safe only behind a live .Capabilities gate, with its
    CRD in the same chart, or when a Blueprint the chart depends on installs that API first.""",
    reference=REFERENCE,
)
def custom_objects_are_safe(ctx: ScenarioContext):
    chart = ctx.chart
    custom = [m for m in ctx.manifests if not is_builtin_group(m.group, chart.kube_versions)]
    if not custom:
        raise NotApplicable("no object of a non-built-in API is rendered in this scenario")
    present = presence(chart.chart, chart.platform, ctx.render)
    obs004 = left_to_obs004(chart)
    for manifest in custom:
        if present.covers(manifest):
            continue  # (b) the chart ships the CRD, or (c) a declared dependency Blueprint provides the API
        if manifest.identity() in obs004:
            continue  # OBS-004's finding on its toggle's opt-in names this rule too
        if not ungated(chart, ctx.render, manifest):
            continue  # (a) a live Capabilities gate
        gv = manifest.api_version
        yield Finding.on(
            manifest, "$.apiVersion",
            f"{manifest.kind} ({gv}) from {manifest.source} renders even when {gv} is not advertised, the "
            f"chart ships no CRD for {manifest.kind}.{manifest.group or 'core'}, and no Blueprint in "
            f"blueprint.yaml spec.depends ({', '.join(present.depends) or 'none declared'}) provides "
            f"{manifest.group} (platform file: blueprintApis). Wrap the template in "
            f"`{{{{- if .Capabilities.APIVersions.Has \"{gv}\" }}}}`, ship the CRD in crds/, or declare the "
            "Blueprint that installs the API under spec.depends (`- blueprint: bp-...`) and list its groups "
            "under blueprintApis in the platform file; or add a waiver with a reason.",
            value={"apiVersion": gv, "kind": manifest.kind, "name": manifest.name})


def renders_from(render: Render, template: str) -> dict:
    """Objects by identity, limited to one template (or all, for a gate in a helper like _helpers.tpl)."""
    helper = template.rsplit("/", 1)[-1].startswith("_")
    return {m.identity(): m.body for m in render.manifests if helper or m.source == template}


def renders_from_template(location: str, template: str) -> bool:
    """A `fail` at `location` (`<template>:<line>:<col>`) is that template's (or any, for a helper's gate)."""
    return template.rsplit("/", 1)[-1].startswith("_") or location.rpartition(":")[0].rpartition(":")[0] == template


def gate_is_live(ctx: ChartContext, api: str, template: str) -> bool | None:
    """Some planned scenario that advertises `api` renders differently from that template without it,
    or renders without it only up to the chart's own `fail` (a gate that guards a `fail`, "deploy
    the CRDs first", is live too). None when no such scenario renders at all: nothing to judge."""
    gv = group_version(api)
    candidates = [s for s in ctx.scenarios if api in s.api_versions]
    renders = [r for r in (ctx.try_render(s) for s in candidates) if r.ok]
    if candidates and not renders:
        return None
    # Scenarios already showing objects from the template are the likely proof; try them first.
    renders.sort(key=lambda r: not renders_from(r, template))
    for render in renders:
        without = render_without(ctx, render, gv)
        if isinstance(without.error, ChartFailed) and renders_from_template(without.error.location, template):
            return True
        if without.ok and renders_from(render, template) != renders_from(without, template):
            return True
    return False


@policy(
    id="CAP-002",
    title="Every Capabilities gate on an optional API is live",
    rationale="""A .Capabilities.APIVersions.Has test that changes nothing is a false promise: the
    author believes an object is gated while it renders (or never renders) regardless, typically
    because the `end` was misplaced or the API string is misspelt. Advertising the API must make an
    object of that template appear or change.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(requires=("capability-gates",)),
)
def gates_are_live(ctx: ChartContext):
    # Gates on built-in APIs (e.g. choosing policy/v1 over v1beta1) are always true under Helm: not judged.
    gates = [g for g in ctx.capability_gates if not is_builtin_group(api_group(g.api_version), ctx.kube_versions)]
    if not gates:
        raise NotApplicable("no template tests .Capabilities.APIVersions.Has for an optional API")
    unjudged = []
    for gate in gates:
        live = gate_is_live(ctx, gate.api_version, gate.template)
        if live is None:
            unjudged.append(gate.api_version)
        elif not live:
            yield Finding(
                f'.Capabilities.APIVersions.Has "{gate.api_version}" in {gate.template} is dead: no planned '
                f"scenario renders anything from that template differently with and without "
                f"{gate.api_version} advertised. Move the gate so it encloses the object it protects "
                "(check where its `{{- end }}` is), fix the API string, or remove the test. If the template "
                "only renders with values no planned scenario sets, add a ci/*-values.yaml that sets them.",
                template=gate.template, excerpt=f'.Capabilities.APIVersions.Has "{gate.api_version}"')
    if unjudged and len(unjudged) == len(gates):
        raise NotApplicable(f"no planned scenario that advertises {', '.join(sorted(set(unjudged)))} renders "
                            "(see RENDER-001, or the plan's infeasible rows): the gates cannot be judged")
