"""A child toggle renders nothing while its parent is off.

A toggle nested in another - by the values tree (`metrics.serviceMonitor.enabled` under
`metrics.enabled`) or by the templates' `if` nesting (`{{ if .Values.service.enabled }} ... {{ if
.Values.serviceMonitor.enabled }}`) - is planned with its parents on (chartgate.plan.nesting): nobody
deploys a ServiceMonitor without its Service. A template that still renders the child's objects with a
parent off is reported here, once per child, instead of once per scenario by whichever rule trips on
the orphan (a ServiceMonitor selecting no Service, an HPA scaling no Deployment).
"""

from chartgate import ChartContext, Finding, NotApplicable, Severity, policy

SHOWN = 3


@policy(
    id="NEST-001",
    title="A child toggle renders nothing while its parent is off",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""A switch that only makes sense inside another (a ServiceMonitor for the metrics
    Service, an HPA for the Deployment) should not render its objects when the enclosing switch is off:
    they point at objects that are not there. Test the parent too (`if and .Values.service.enabled
    .Values.serviceMonitor.enabled`), or refuse the combination with `fail`.""",
    reference="docs/policies.md#nest",
)
def children_need_their_parents(ctx: ChartContext):
    nested = [t for t in ctx.toggles if t.parents and t.referenced]  # values tree or `if` nesting
    if not nested:
        raise NotApplicable("no toggle is nested in another (values tree or template `if` nesting)")
    for toggle in nested:
        parents = [p for p in toggle.parents if ctx.toggle(p).referenced]  # an unread parent is none
        if not parents:
            continue
        parents_off = [(parent, False) for parent in parents]
        on = ctx.try_render(ctx.variant("capabilities", f"orphan.{toggle.dotted}",
                                        set_values=parents_off + [(toggle.dotted, True)]))
        off = ctx.try_render(ctx.variant("capabilities", f"orphan-off.{toggle.dotted}",
                                         set_values=parents_off + [(toggle.dotted, False)]))
        if not (on.ok and off.ok):
            continue  # refused (the chart enforces its parent) or broken (RENDER-001's business)
        before = {m.identity() for m in off.manifests}
        orphans = [m for m in on.manifests if m.identity() not in before]
        if not orphans:
            continue
        shown = ", ".join(f"{m.resource_id} ({m.source})" for m in orphans[:SHOWN])
        more = f" and {len(orphans) - SHOWN} more" if len(orphans) > SHOWN else ""
        yield Finding(f"{toggle.dotted}=true renders {shown}{more} with its parent off "
                      f"({', '.join(f'{p}=false' for p in parents)}). The chart's plan switches "
                      f"{toggle.dotted} on only with {', '.join(parents)}; test "
                      "the parent in the template too, or refuse the combination with `fail`.",
                      resource=orphans[0].resource_id, template=orphans[0].source)
