"""Golden kind summaries: what each scenario renders, by kind and apiVersion, does not drift unseen."""

from chartgate import Applicability, Finding, ScenarioContext, ScenarioKind, policy

# Every scenario with a stable, reviewed name. Generated `plan.NNN` combinations are renumbered when
# the factor space changes, so pinning their kinds would only produce churn.
GOLDEN_SCENARIOS = tuple(kind for kind in ScenarioKind if kind is not ScenarioKind.PLAN)
from chartgate.lib.renders import kind_summary


@policy(
    id="GOLD-001",
    title="Rendered kinds match the golden kind summary",
    receives="scenario",
    applies_to=Applicability(scenarios=GOLDEN_SCENARIOS),
    role="golden",  # the engine finds it by this role: its results decide which golden files are in use
    rationale="""A chart change that adds, drops or multiplies objects must be a reviewed change: the
    golden summary under golden/<chart>/<scenario>.yaml records the kinds each scenario renders,
    so drift shows up in code review as a one-line diff.""",
    reference="docs/policies.md#gold",
    cache_extra=lambda chart, scenario: chart.golden.fingerprint(chart.name, scenario),
)
def kinds_match_golden(ctx: ScenarioContext):
    store = ctx.chart.golden
    new_chart = not store.has_files(ctx.name)  # asked before the check (--update-golden writes)
    drift = store.check(ctx.name, ctx.scenario.name, kind_summary(ctx.manifests), ctx.chart.chart.path)
    if drift and new_chart:  # one cause, one finding: the same message in every scenario is one defect
        directory = store.path_for(ctx.name, ctx.scenario.name).parent
        yield Finding(f"no golden file for any scenario of {ctx.name} yet ({directory}/): a new chart; create it "
                      "with --update-golden (one file per scenario), then review and commit the files.",
                      template=str(directory), path="$")
    elif drift:
        path = ctx.chart.golden.path_for(ctx.name, ctx.scenario.name)
        yield Finding(
            "rendered kinds differ from the golden summary:\n" + "\n".join(drift)
            + "\nIf the change is intended, run `chartgate check --update-golden` (or `pytest --update-golden`) "
              "and commit the file.",
            template=str(path), path="$.kinds")
