"""Observability and overlay toggles default to false, are wired, and are Capabilities-gated.

Generalises the seed's tests/observability-toggle.sh (default-off, opt-in, explicit-off) to every
toggle chartgate finds in a chart's effective values, the vendored subcharts' included.
"""

from chartgate import ChartContext, Finding, NotApplicable, ScenarioContext, ScenarioKind, policy
from chartgate.kube import is_builtin

REFERENCE = "DESIGN.md, contract 2 (observability toggles default false); seed tests/observability-toggle.sh"


def toggles(ctx: ChartContext):
    found = [t for t in ctx.toggles if t.must_default_false]
    if not found:
        raise NotApplicable("the chart has no observability or overlay toggles")
    return found


def controlled(ctx: ChartContext, toggle: str) -> dict:
    """Objects the toggle switches on: rendered with it on, absent with it explicitly off."""
    on = {m.identity(): m for m in ctx.render(f"on.{toggle}").manifests}
    off = {m.identity() for m in ctx.render(f"off.{toggle}").manifests}
    return {key: m for key, m in on.items() if key not in off}


def values_file(ctx: ChartContext, toggle) -> str:
    """The values.yaml that decides the toggle's default: the umbrella's, unless only the subchart sets it."""
    if toggle.in_subchart:
        try:
            node = ctx.chart.values
            for part in toggle.path:
                node = node[part]
        except (KeyError, TypeError):
            return f"{ctx.name}/charts/{toggle.in_subchart}/values.yaml"
    return f"{ctx.name}/values.yaml"


@policy(
    id="OBS-001",
    title="Observability and overlay toggles default to false",
    rationale="""A fresh cluster has no Prometheus Operator and no tuning yet: every ServiceMonitor,
    PodMonitor, PrometheusRule, metrics, HPA and NetworkPolicy switch must be off by default (also
    inside the upstream subchart, after the umbrella's overrides) and be turned on per cluster.""",
    reference=REFERENCE,
)
def toggles_default_false(ctx: ChartContext):
    for toggle in toggles(ctx):
        if toggle.default is not False:
            yield Finding(
                f"{toggle.dotted} defaults to {toggle.default!r}; {toggle.category.value} toggles must default "
                f"to false. Set `{toggle.dotted}: false` in the umbrella values.yaml and enable it in the "
                "cluster overlay instead.",
                template=values_file(ctx, toggle), path=f"$.{toggle.dotted}", excerpt=f"{toggle.dotted}: {toggle.default}")


@policy(
    id="OBS-002",
    title="The default render contains no monitoring objects and nothing a toggle controls",
    scenarios=(ScenarioKind.DEFAULT,),
    rationale="""monitoring.coreos.com objects are rejected by a cluster without the Prometheus
    Operator, and anything an off-by-default toggle controls must not appear unless asked for.""",
    reference=REFERENCE,
)
def default_render_is_quiet(ctx: ScenarioContext):
    rendered = {m.identity(): m for m in ctx.manifests}
    for manifest in ctx.manifests:
        if manifest.group == "monitoring.coreos.com":
            yield Finding.on(manifest, "$.apiVersion", f"{manifest.kind} ({manifest.api_version}) is rendered by "
                             "default; it must only render when its toggle is on and the API is advertised.")
    for toggle in toggles(ctx.chart):
        for key in controlled(ctx.chart, toggle.dotted):
            if key in rendered and rendered[key].group != "monitoring.coreos.com":
                yield Finding.on(rendered[key], "$", f"rendered by default, but it is controlled by "
                                 f"{toggle.dotted}; it must only appear when the toggle is set to true.")


@policy(
    id="OBS-003",
    title="Opt-in renders the object the toggle controls (the toggle is wired)",
    scenarios=(ScenarioKind.OPT_IN,),
    rationale="""A toggle that renders nothing when turned on is dead configuration: operators believe
    they enabled monitoring or autoscaling and got nothing.""",
    reference=REFERENCE,
)
def opt_in_renders(ctx: ScenarioContext):
    toggle = ctx.scenario.toggle
    if not controlled(ctx.chart, toggle):
        yield Finding(
            f"{toggle}=true renders nothing that {toggle}=false does not, even with every optional API "
            f"({', '.join(ctx.scenario.api_versions) or 'none'}) advertised. Wire the toggle into its "
            "template (`{{- if .Values." + toggle + " }}`) or remove it from values.yaml.",
            template=f"{ctx.name}/values.yaml", path=f"$.{toggle}")


@policy(
    id="OBS-004",
    title="Opt-in without the API renders cleanly and without CRD-typed objects",
    scenarios=(ScenarioKind.OPT_IN_NO_API,),
    judges_failed_renders=True,
    rationale="""Defence in depth: an operator may enable a toggle before the CRD's provider is
    installed. The chart must then render without error and leave the CRD-typed object out (gate it
    with .Capabilities.APIVersions.Has), or the whole release fails to apply.""",
    reference=REFERENCE,
)
def opt_in_without_api_is_gated(ctx: ScenarioContext):
    toggle = ctx.scenario.toggle
    if ctx.render.error is not None:
        yield Finding(f"{toggle}=true on a cluster without its API fails the render: "
                      f"{ctx.render.error.helm_message}", template=ctx.name)
        return
    controlled_keys = set(controlled(ctx.chart, toggle))
    for manifest in ctx.manifests:
        if manifest.identity() in controlled_keys and not is_builtin(manifest.api_version):
            yield Finding.on(manifest, "$.apiVersion",
                             f"{toggle}=true renders {manifest.kind} ({manifest.api_version}) although the cluster "
                             f"does not advertise {manifest.api_version}. Wrap the template in "
                             f'`{{{{- if .Capabilities.APIVersions.Has "{manifest.api_version}" }}}}`.')


@policy(
    id="OBS-005",
    title="Explicit-off renders cleanly and exactly like the default",
    scenarios=(ScenarioKind.OFF,),
    judges_failed_renders=True,
    rationale="""Setting a toggle to false explicitly must be the same as leaving it at its default:
    cluster overlays often spell out `enabled: false`.""",
    reference=REFERENCE,
)
def explicit_off_is_default(ctx: ScenarioContext):
    toggle = ctx.scenario.toggle
    if ctx.render.error is not None:
        yield Finding(f"{toggle}=false fails the render: {ctx.render.error.helm_message}", template=ctx.name)
        return
    baseline = {m.identity() for m in ctx.chart.render("capabilities").manifests}
    for manifest in ctx.manifests:
        if manifest.identity() not in baseline:
            yield Finding.on(manifest, "$", f"{toggle}=false renders {manifest.resource_id}, which the default "
                             "render does not; explicit-off must match the default.")
    rendered = {m.identity() for m in ctx.manifests}
    missing = sorted(baseline - rendered)
    if missing:
        yield Finding(f"{toggle}=false drops objects the default renders: "
                      + ", ".join("/".join(k[1:]) for k in missing), template=ctx.name)
