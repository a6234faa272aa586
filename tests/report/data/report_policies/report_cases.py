"""Test-only policies that give the report tests stable material, whatever the real policies judge:
a defect seen in many scenarios whose message names the scenario (RPT-001), a warning-severity
chart-level finding with a known line in values.yaml (RPT-002) and a defect waived everywhere
(RPT-003). They run over the bp-stunner mutant whose HPA toggle defaults to true."""

from chartgate import Applicability, Finding, policy


@policy(id="RPT-001", title="Overlay HPAs allow at most two replicas", receives="scenario",
        applies_to=Applicability(scenarios="*"),
        rationale="A test rule: the same defect in every scenario that renders the HPA.",
        reference="tests/report/data/report_policies/report_cases.py")
def hpa_cap(ctx):
    for hpa in ctx.render.of_kind("HorizontalPodAutoscaler"):
        most = hpa.body["spec"]["maxReplicas"]
        if most > 2:
            yield Finding.on(hpa, "$.spec.maxReplicas",
                             f"{hpa.resource_id} allows {most} replicas in scenario {ctx.scenario.name}; "
                             "set stunnerOverlay.hpa.maxReplicas to 2 or less.", value={"maxReplicas": most})


@policy(id="RPT-002", title="The HPA toggle is off in values.yaml", receives="chart", severity="warning",
        rationale="A test rule: a warning below --fail-on, located in values.yaml.",
        reference="tests/report/data/report_policies/report_cases.py")
def hpa_default(ctx):
    if ctx.chart.values.get("stunnerOverlay", {}).get("hpa", {}).get("enabled"):
        yield Finding("stunnerOverlay.hpa.enabled is true in values.yaml; prefer false.",
                      template=f"{ctx.chart.name}/values.yaml", path="$.stunnerOverlay.hpa.enabled")


@policy(id="RPT-003", title="Services are reviewed", receives="scenario", applies_to=Applicability(scenarios="*"),
        rationale="A test rule whose findings the test waiver accepts in every scenario.",
        reference="tests/report/data/report_policies/report_cases.py")
def services(ctx):
    for service in ctx.render.of_kind("Service"):
        yield Finding.on(service, "$.spec.type", f"{service.resource_id} needs a review.")
