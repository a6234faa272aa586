"""Our platform's own rules, beside chartgate's built-in ones."""

from chartgate import Applicability, Finding, ScenarioContext, policy

REGISTRY = "registry.invalid/"  # the platform's registry: images are scanned and mirrored there
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def pod_spec(workload) -> dict:
    """The pod template's spec of a workload (a CronJob nests it one level deeper)."""
    spec = workload.body.get("spec") or {}
    if workload.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


@policy(
    id="WEB-001",                      # stable, never reused; waivers and reports refer to it
    title="Every container image comes from the platform registry",
    receives="scenario",               # a ScenarioContext, once per planned scenario (or "chart")
    applies_to=Applicability(
        scenarios="*",                 # every planned scenario
        kinds=WORKLOADS,               # skipped, with that reason, where no workload renders
    ),
    rationale="Only images in the platform registry are scanned and mirrored; any other registry "
              "can change or vanish under a running release.",
    reference="policies/web.py",
)
def platform_registry(ctx: ScenarioContext):
    for workload in ctx.render.of_kind(*WORKLOADS):
        prefix = "$.spec.jobTemplate.spec.template.spec" if workload.kind == "CronJob" else "$.spec.template.spec"
        for field in ("initContainers", "containers"):
            for i, container in enumerate(pod_spec(workload).get(field) or []):
                image = str(container.get("image", ""))
                if not image.startswith(REGISTRY):
                    yield Finding.on(workload, f"{prefix}.{field}[{i}].image",
                                     f"container {container.get('name')} runs {image}, which is not in "
                                     f"{REGISTRY}: mirror the image there and point the chart's values at it",
                                     value=image, key=f"container {container.get('name')}")
