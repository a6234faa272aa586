"""Golden kind summaries: what each scenario renders, by kind and apiVersion, does not drift unseen."""

from chartgate import Finding, ScenarioContext, ScenarioKind, policy

# Every scenario with a stable, reviewed name. Generated `plan.NNN` combinations are renumbered when
# the factor space changes, so pinning their kinds would only produce churn.
GOLDEN_SCENARIOS = tuple(kind for kind in ScenarioKind if kind is not ScenarioKind.PLAN)
from chartgate.golden import kind_summary


@policy(
    id="GOLD-001",
    title="Rendered kinds match the golden kind summary",
    scenarios=GOLDEN_SCENARIOS,
    rationale="""A chart change that adds, drops or multiplies objects must be a reviewed change: the
    golden summary under golden/<chart>/<scenario>.yaml records the kinds each scenario renders,
    so drift shows up in code review as a one-line diff.""",
    reference="docs/policies.md#gold",
    cache_extra=lambda chart, scenario: chart.golden.fingerprint(chart.name, scenario),
)
def kinds_match_golden(ctx: ScenarioContext):
    drift = ctx.chart.golden.check(ctx.name, ctx.scenario.name, kind_summary(ctx.manifests), ctx.chart.chart.path)
    if drift:
        path = ctx.chart.golden.path_for(ctx.name, ctx.scenario.name)
        yield Finding(
            "rendered kinds differ from the golden summary:\n" + "\n".join(drift)
            + "\nIf the change is intended, run `pytest policies --update-golden` and commit the file.",
            template=str(path), path="$.kinds")
