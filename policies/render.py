"""Every planned scenario renders: a chart that cannot be rendered is never skipped silently."""

from chartgate import Finding, ScenarioContext, policy


@policy(
    id="RENDER-001",
    title="Every planned scenario renders",
    scenarios="*",
    judges_failed_renders=True,
    rationale="""A chart that fails to render ships nothing; tools that skip unrenderable charts let
    broken releases through. Every planned scenario (defaults, capabilities, each toggle, each
    values file) must render.""",
    reference="docs/policies.md#render",
)
def scenario_renders(ctx: ScenarioContext):
    error = ctx.render.error
    if error is not None:
        yield Finding(f"`helm template` failed ({error.reason}): {error.helm_message}\n"
                      f"reproduce: {error.command}", template=ctx.name)
