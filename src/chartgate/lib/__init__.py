"""chartgate.lib: the documented helpers a policy module may import, besides `chartgate` itself.

A policy imports from `chartgate` (the `@policy` decorator, the contexts, `Finding`, the enums and
errors) and from these modules, nothing else of the package (a test walks `policies/*.py` and fails
on any other import or an underscore name):

- `chartgate.lib.rules` - container and pod rules written as a predicate over a container (or pod)
  view; the helper names the running policy and adds the waiver hint.
- `chartgate.lib.podspec` - pods as the kubelet runs them: pod specs, containers with their
  effective securityContext, the chart-wide view of every planned scenario, one finding per defect.
- `chartgate.lib.selectors` - label selectors and the pod templates they select.
- `chartgate.lib.dns` - DNS names: finding them in values and rendered objects, classifying them.
- `chartgate.lib.apis` - API groups: built in, or served by a CRD the chart ships or a Blueprint.
- `chartgate.lib.presence` - which custom APIs a chart can count on when it is installed.
- `chartgate.lib.schemas` - Kubernetes and CRD schema validation, API lifecycle (deprecations).
- `chartgate.lib.values` - values paths: reading, spelling and finding them in templates.
- `chartgate.lib.configspace` - configurations drawn from a Blueprint's configSchema.
- `chartgate.lib.renders` - comparing renders, per-object memos, chart files.
- `chartgate.lib.blueprint` - a Blueprint chart's blueprint.yaml and upstream statements.

Per-chart state a policy computes once (an index, a memo of differential renders) goes through
`ChartContext.memo(key, compute)`, released with the chart.
"""

MODULES = ("apis", "blueprint", "configspace", "dns", "podspec", "presence", "renders", "rules", "schemas",
           "selectors", "values")

__all__ = list(MODULES)
