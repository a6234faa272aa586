"""Every planned scenario renders: a chart that cannot be rendered is never skipped silently.

A chart may refuse to render its bare defaults on purpose, through its own `required`/`fail`, when a
per-cluster value is missing (the Sovereign FQDN, say). When it ships `ci/*-values.yaml`, chartgate
layers its scenarios on the first of them and the `bare` scenario records that the chart requires
input: that passes when the chart's message names the missing key, and fails when it does not."""

from chartgate import Applicability, ChartFailed, Finding, ScenarioContext, ScenarioKind, policy
from chartgate.lib.values import mentions_values_key


@policy(
    id="RENDER-001",
    title="Every planned scenario renders",
    receives="scenario",
    applies_to=Applicability(scenarios="*"),
    role="render",  # the engine finds it by this role (render failures are reported here)
    rationale="""A chart that fails to render ships nothing; tools that skip unrenderable charts let
    broken releases through. Every planned scenario (defaults, capabilities, each toggle, each
    values file) must render; a chart that needs input must say which key.""",
    reference="docs/policies.md#render",
)
def scenario_renders(ctx: ScenarioContext):
    error = ctx.render.error
    if error is None:
        return
    if ctx.scenario.kind is ScenarioKind.BARE and isinstance(error, ChartFailed):
        if not mentions_values_key(error.helm_message, ctx.chart.chart.effective_values):
            yield Finding(f"the chart's defaults alone stop in its own `required`/`fail`, but the message does not "
                          f"name the values key to set: {error.helm_message}\nName the key in the message "
                          "(e.g. `required \"set global.domain\" .Values.global.domain`).", template=ctx.name)
        return
    advice = ""
    if isinstance(error, ChartFailed) and _defaults_fail_alike(ctx, error):
        # The same stop in every scenario is one cause: one message, so the report shows one defect.
        advice = ("\nThe chart requires input its defaults do not give: ship a ci/<name>-values.yaml that sets "
                  "it (chartgate then layers every generated scenario on the first one), or give it in the "
                  "cluster overlay <overlay-root>/<chart>/base.yaml.")
    yield Finding(f"`helm template` failed ({error.reason}): {error.helm_message}{advice}", template=ctx.name)


def _defaults_fail_alike(ctx: ScenarioContext, error: ChartFailed) -> bool:
    """Does the chart's default scenario stop with this same message (the defaults need input)?"""
    if ctx.scenario.kind is ScenarioKind.DEFAULT:
        return True
    if not any(s.name == "default" for s in ctx.chart.scenarios):
        return False
    default = ctx.chart.try_render("default")
    return default.error is not None and default.error.helm_message == error.helm_message
