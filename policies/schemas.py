"""Schemas: every rendered object is one the target Kubernetes versions accept as written.

`helm template` renders anything; the API server does not. Unknown fields and wrong types in
built-in objects are rejected by strict field validation (kubectl's default) or silently dropped;
custom resources must match the schema of the CRD the chart ships; API versions come and go with
Kubernetes releases. Target versions come from the platform file (`kubernetesVersions`).
"""

from collections import defaultdict

from chartgate import Applicability, Finding, NotApplicable, ScenarioContext, Severity, policy
from chartgate.lib.apis import is_builtin
from chartgate.lib.schemas import (crd_index, has_builtin_schema, lifecycle, shipped_crds, validate_builtin,
                               validate_custom)

REFERENCE = "docs/policies.md#sch"

MAX_FINDINGS_PER_OBJECT = 10  # one broken template can produce hundreds of errors; show the first


def versions_text(versions) -> str:
    return "Kubernetes " + " and ".join(versions)


def judged_builtin(manifest, kube_version: str) -> bool:
    """Built-in, served, and not removed: the objects SCH-001 validates (the rest are SCH-003's)."""
    if not is_builtin(manifest.api_version, kube_version):
        return False
    if not has_builtin_schema(manifest.api_version, manifest.kind, kube_version):
        return False
    status = lifecycle(manifest.api_version, manifest.kind, kube_version)
    return status is None or status[0] != "removed"


@policy(
    id="SCH-001",
    title="Built-in objects validate strictly against each target Kubernetes version's schema",
    receives="scenario",
    applies_to=Applicability(scenarios="*"),
    rationale="""An unknown field (a typo, a field at the wrong level) is rejected by strict field
    validation or silently dropped by the API server; a string where an integer belongs fails the
    apply. Both pass `helm template` and `helm lint`. Every built-in object must match the
    OpenAPI schema of every target Kubernetes version, with unknown fields forbidden.""",
    reference=REFERENCE,
)
def builtin_objects_validate(ctx: ScenarioContext):
    for manifest in ctx.manifests:
        problems: dict[tuple[str, str], list[str]] = defaultdict(list)
        for version in ctx.chart.kube_versions:
            if judged_builtin(manifest, version):
                for violation in validate_builtin(manifest.body, version) or []:
                    problems[(violation.path, violation.message)].append(version)
        for (path, message), versions in sorted(problems.items())[:MAX_FINDINGS_PER_OBJECT]:
            yield Finding.on(manifest, path,
                             f"{path}: {message} ({manifest.api_version} {manifest.kind} schema of "
                             f"{versions_text(versions)}). Fix the template so the field matches the "
                             "Kubernetes API reference.")


@policy(
    id="SCH-002",
    title="Custom resources validate against the openAPIV3Schema of the CRD the chart ships",
    receives="scenario",
    applies_to=Applicability(scenarios="*"),
    rationale="""A custom resource that violates its CRD's schema is rejected at install time (or
    pruned of the misspelt field, so the operator silently uses a default). When the chart ships
    the CRD (crds/ or templates) the schema is known, so the mistake can be caught before release.
    The apiVersion must also be one the CRD serves.""",
    reference=REFERENCE,
)
def custom_resources_validate(ctx: ScenarioContext):
    shipped = shipped_crds(ctx.chart.chart)
    rendered_crds = [(m.source, m.body) for m in ctx.manifests
                     if m.kind == "CustomResourceDefinition" and m.group == "apiextensions.k8s.io"]
    for key, versions in crd_index(rendered_crds).items():
        shipped.setdefault(key, versions)
    judged = [m for m in ctx.manifests if (m.group, m.kind) in shipped]
    if not judged:
        raise NotApplicable("no custom resource of a CRD the chart ships is rendered in this scenario")
    for manifest in judged:
        versions = shipped[(manifest.group, manifest.kind)]
        served = {v.version: v for v in versions if v.served}
        version = served.get(manifest.version)
        if version is None:
            yield Finding.on(manifest, "$.apiVersion",
                             f"{manifest.api_version} is not a version the {manifest.kind} CRD serves "
                             f"({versions[0].source}: {', '.join(sorted(served)) or 'none served'}). Use a "
                             "served version.", value=manifest.api_version)
            continue
        for violation in validate_custom(manifest.body, version)[:MAX_FINDINGS_PER_OBJECT]:
            yield Finding.on(manifest, violation.path,
                             f"{violation.path}: {violation.message} (schema of {manifest.kind} "
                             f"{version.version} in {version.source}). Fix the template or values so the "
                             "resource matches its CRD.")


def removal_findings(ctx: ScenarioContext):
    """(manifest, versions, why, replacement) for objects some target version does not serve."""
    for manifest in ctx.manifests:
        removed: dict[tuple[str, str], list[str]] = defaultdict(list)
        for version in ctx.chart.kube_versions:
            if not is_builtin(manifest.api_version, version):
                continue
            status = lifecycle(manifest.api_version, manifest.kind, version)
            if status and status[0] == "removed":
                fact = status[1]
                removed[(f"removed in {fact.removed_in}", fact.replacement)].append(version)
            elif not has_builtin_schema(manifest.api_version, manifest.kind, version):
                removed[("not in its OpenAPI schema", "a version that Kubernetes release serves")].append(version)
        for (why, replacement), versions in removed.items():
            yield manifest, versions, why, replacement


@policy(
    id="SCH-003",
    title="No object uses an API version a target Kubernetes version does not serve",
    receives="scenario",
    applies_to=Applicability(scenarios="*"),
    rationale="""An object at a removed API version (autoscaling/v2beta2, policy/v1beta1,
    flowcontrol v1beta3...) makes the whole release fail on that cluster with `no matches for
    kind`. Every target Kubernetes version must serve every built-in apiVersion/kind rendered.""",
    reference=REFERENCE,
)
def no_removed_apis(ctx: ScenarioContext):
    for manifest, versions, why, replacement in removal_findings(ctx):
        yield Finding.on(manifest, "$.apiVersion",
                         f"{versions_text(versions)} {'does' if len(versions) == 1 else 'do'} not serve "
                         f"{manifest.api_version} {manifest.kind} "
                         f"({why}); use {replacement}.", value=manifest.api_version)


@policy(
    id="SCH-004",
    title="No object uses an API version deprecated in a target Kubernetes version",
    severity=Severity.WARNING,
    receives="scenario",
    applies_to=Applicability(scenarios="*"),
    rationale="""A deprecated API version still applies but is scheduled for removal; migrating
    while both versions are served avoids a forced, rushed change at the next cluster upgrade.""",
    reference=REFERENCE,
)
def no_deprecated_apis(ctx: ScenarioContext):
    for manifest in ctx.manifests:
        deprecated = []
        for version in ctx.chart.kube_versions:
            status = lifecycle(manifest.api_version, manifest.kind, version)
            if status and status[0] == "deprecated":
                deprecated.append((version, status[1]))
        if deprecated:
            fact = deprecated[0][1]
            removal = f", removed in {fact.removed_in}" if fact.removed_in else ""
            yield Finding.on(manifest, "$.apiVersion",
                             f"{manifest.api_version} {manifest.kind} is deprecated in "
                             f"{versions_text([v for v, _ in deprecated])} (since {fact.deprecated_in}{removal}); "
                             f"migrate to {fact.replacement}.", value=manifest.api_version)
