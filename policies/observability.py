"""Observability toggles default to false, are wired, and are Capabilities-gated.

Generalises the three proofs of docs/blueprint.md (default-off, opt-in, explicit-off) to every
observability toggle chartgate finds in a chart's effective values, the vendored subcharts' included
(see chartgate.plan.toggles for the classification: by name, by the platform file, or because switching
the toggle on adds monitoring objects; feature switches such as `rbac.create` are not bound). A
nested toggle (`metrics.serviceMonitor.enabled`) is exercised with its enclosing toggles on.
"""

from __future__ import annotations

import json

from chartgate import Applicability, ChartContext, Finding, NotApplicable, ScenarioContext, ScenarioKind, policy
from chartgate.lib.apis import is_builtin
from chartgate.lib.presence import presence
from chartgate.lib.values import values_file

REFERENCE = "docs/policies.md#obs"
MONITORING_GROUP = "monitoring.coreos.com"


def observability_toggles(ctx: ChartContext):
    found = ctx.observability_toggles
    if not found:
        raise NotApplicable("the chart has no observability or overlay toggles")
    return found


def scenario_toggle(ctx: ScenarioContext):
    """The toggle a toggle scenario exercises, when it is bound by the observability contract."""
    toggle = ctx.chart.toggle(ctx.scenario.toggle)
    if toggle not in ctx.chart.observability_toggles:
        raise NotApplicable(f"{toggle.dotted} is a feature switch (its opt-in adds no monitoring object), not "
                            "bound by the observability contract")
    return toggle


def bodies(render) -> dict[tuple, str]:
    """Objects by identity with their canonical body: what "renders the same" compares."""
    return {m.identity(): json.dumps(m.body, sort_keys=True, default=str) for m in render.manifests}


def controlled(ctx: ChartContext, toggle) -> dict:
    """Objects the toggle switches on: rendered with it on, absent with it explicitly off (its
    enclosing toggles on) - also for a toggle that wrongly defaults to true. Empty when either render
    is not available (RENDER-001's business, or an infeasible input)."""
    if not toggle.exercised:
        return {}  # no template reads it: it cannot switch anything on
    on, off = ctx.try_render(f"on.{toggle.dotted}"), ctx.try_render(f"off.{toggle.dotted}")
    if not (on.ok and off.ok):
        return {}
    before = {m.identity() for m in off.manifests}
    return {m.identity(): m for m in on.manifests if m.identity() not in before}


def where_set(ctx: ChartContext, toggle) -> dict:
    """The values.yaml that decides the toggle's default (the umbrella's, unless only the subchart sets
    it) and the toggle's JSONPath in that file: a finding's `template` and `path`."""
    template, path = values_file(ctx.chart, toggle.path)
    return {"template": template, "path": path}


def declared_by_umbrella(ctx: ChartContext, toggle) -> bool:
    node = ctx.chart.values
    for part in toggle.path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@policy(
    id="OBS-001",
    title="Observability and overlay toggles default to false",
    receives="chart",
    applies_to=Applicability(profile="blueprint"),
    rationale="""A fresh cluster has no Prometheus Operator and no tuning yet: every ServiceMonitor,
    PodMonitor, PrometheusRule, metrics, tracing, HPA and NetworkPolicy switch of the Blueprint must be
    off by default (also inside the upstream subchart, after the umbrella's overrides) and be turned on
    per cluster.""",
    reference=REFERENCE,
)
def toggles_default_false(ctx: ChartContext):
    for toggle in observability_toggles(ctx):
        if toggle.default is not False:
            why = "" if toggle.must_default_false else " (its opt-in render adds monitoring objects)"
            yield Finding(
                f"{toggle.dotted} defaults to {toggle.default!r}; {toggle.category.value} toggles{why} must "
                f"default to false. Set `{toggle.dotted}: false` in the umbrella values.yaml and enable it in "
                "the cluster overlay instead.",
                **where_set(ctx, toggle),
                excerpt=f"{toggle.dotted}: {toggle.default}")


@policy(
    id="OBS-002",
    title="The default render contains no monitoring objects and nothing an off-by-default toggle controls",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", scenarios=(ScenarioKind.DEFAULT,)),
    rationale="""monitoring.coreos.com objects are rejected by a cluster without the Prometheus
    Operator, and anything an off-by-default toggle controls must not appear unless asked for.""",
    reference=REFERENCE,
)
def default_render_is_quiet(ctx: ScenarioContext):
    toggles = [t for t in ctx.chart.observability_toggles if t.default is False]
    owned_by_on_toggle = {key for t in ctx.chart.observability_toggles if t.default is not False
                          for key in controlled(ctx.chart, t)}  # OBS-001 reports those defaults
    rendered = {m.identity(): m for m in ctx.manifests}
    for manifest in ctx.manifests:
        if manifest.group == MONITORING_GROUP and manifest.identity() not in owned_by_on_toggle:
            yield Finding.on(manifest, "$.apiVersion", f"{manifest.kind} ({manifest.api_version}) is rendered by "
                             "default; it must only render when its toggle is on and the API is advertised.")
    for toggle in toggles:
        for key in controlled(ctx.chart, toggle):
            if key in rendered and rendered[key].group != MONITORING_GROUP:
                yield Finding.on(rendered[key], "$", f"rendered by default, but it is controlled by "
                                 f"{toggle.dotted}; it must only appear when the toggle is set to true.")


@policy(
    id="OBS-003",
    title="Opt-in changes the render (the toggle is wired)",
    receives="chart",
    applies_to=Applicability(profile="blueprint"),
    rationale="""A toggle that changes nothing when turned on is dead configuration: operators believe
    they enabled monitoring or autoscaling and got nothing. Flipping it must change the render - add
    objects or change field values.""",
    reference=REFERENCE,
)
def opt_in_changes_the_render(ctx: ChartContext):
    for toggle in observability_toggles(ctx):
        if not toggle.referenced:
            if declared_by_umbrella(ctx, toggle):  # the umbrella sets a key nothing reads: a typo or stale
                yield Finding(f"{toggle.dotted} is set in values.yaml but no template of the chart or its "
                              "subcharts reads it, so switching it on changes nothing. Fix the key (compare "
                              "the subchart's values.yaml) or remove it.",
                              **where_set(ctx, toggle))  # the umbrella's values.yaml
            continue
        on, off = ctx.try_render(f"on.{toggle.dotted}"), ctx.try_render(f"off.{toggle.dotted}")
        if not (on.ok and off.ok):
            continue  # RENDER-001 reports a failed render; an infeasible opt-in proves nothing either way
        if bodies(on) == bodies(off):
            inside = f" (with {', '.join(toggle.parents)} on)" if toggle.parents else ""
            yield Finding(
                f"{toggle.dotted}=true{inside} renders exactly what {toggle.dotted}=false renders, "
                f"even with every optional API ({', '.join(on.scenario.api_versions) or 'none'}) advertised. "
                "Wire the toggle into its template (`{{- if .Values." + toggle.dotted + " }}`) or remove it "
                "from values.yaml.",
                **where_set(ctx, toggle))


@policy(
    id="OBS-004",
    title="Opt-in without the API renders no object of an absent API",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", scenarios=(ScenarioKind.OPT_IN_NO_API,)),
    rationale="""Defence in depth: an operator may enable a toggle before the CRD's provider is
    installed. The chart must then render without error and leave the CRD-typed object out (gate it
    with .Capabilities.APIVersions.Has), or the whole release fails to apply - unless the API is
    present anyway: the chart ships its CRD, or a Blueprint it declares in spec.depends provides it.""",
    reference=REFERENCE,
)
def opt_in_without_api_is_gated(ctx: ScenarioContext):
    toggle = scenario_toggle(ctx)
    controlled_keys = set(controlled(ctx.chart, toggle))
    present = presence(ctx.chart.chart, ctx.chart.platform, ctx.render)
    for manifest in ctx.manifests:
        if manifest.identity() not in controlled_keys or is_builtin(manifest.api_version):
            continue
        if present.covers(manifest):
            continue
        yield Finding.on(manifest, "$.apiVersion",
                         f"{toggle.dotted}=true renders {manifest.kind} ({manifest.api_version}) although the "
                         f"cluster does not advertise {manifest.api_version}, the chart ships no CRD for it and "
                         f"no Blueprint in spec.depends provides {manifest.group}. Wrap the template in "
                         f'`{{{{- if .Capabilities.APIVersions.Has "{manifest.api_version}" }}}}`. '
                         "One finding for CAP-001 and OBS-004: CAP-001 leaves this object to this one.")


@policy(
    id="OBS-005",
    title="Explicit-off renders no monitoring object, even with its API advertised",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", scenarios=(ScenarioKind.OFF,)),
    rationale="""The third proof (explicit-off): with a toggle explicitly off and the Prometheus Operator's API
    advertised, no monitoring object may appear. A ServiceMonitor gated only on
    .Capabilities.APIVersions.Has (or on `or` instead of `and`) stays out of a bare cluster but lands on
    every cluster that runs the operator, whatever the overlay says.""",
    reference=REFERENCE,
)
def explicit_off_renders_no_monitoring(ctx: ScenarioContext):
    toggle = scenario_toggle(ctx)
    if toggle.default is not False:
        raise NotApplicable(f"{toggle.dotted} defaults to {toggle.default!r}; OBS-001 reports the default")
    default = ctx.chart.try_render("default")
    in_default = {m.identity() for m in default.manifests} if default.ok else set()  # OBS-002's business
    owned_by_on_toggle = {key for t in ctx.chart.observability_toggles if t.default is not False
                          for key in controlled(ctx.chart, t)}  # OBS-001's business
    for manifest in ctx.manifests:
        if manifest.group != MONITORING_GROUP or manifest.identity() in in_default | owned_by_on_toggle:
            continue
        yield Finding.on(manifest, "$.apiVersion",
                         f"{manifest.kind} ({manifest.api_version}) renders with {toggle.dotted}=false as soon as "
                         f"{manifest.api_version} is advertised: it is gated on the API alone. Gate it on its "
                         f"toggle as well: `{{{{- if and .Values.<toggle> (.Capabilities.APIVersions.Has "
                         f'"{manifest.api_version}") }}}}`.')
