"""The same chart renders the same objects under every supported Helm version, and the same objects
every time.

Before comparing Helm versions, the primary Helm renders the scenario a second time: fields that
differ between two renders of the same Helm (a `randAlphaNum` password, a `genCA` certificate, a
timestamp) are nondeterministic by design. They are left out of the comparison - they would differ
between any two renders - and reported once, as a warning naming the field (HELM-002)."""

import json

from chartgate import ChartContext, Finding, NotApplicable, ScenarioContext, ScenarioKind, Severity, policy

# The configurations a cluster can actually receive. Toggle and plan scenarios are left out: each
# Helm comparison is a second full render, and the template features that differ between Helm
# versions show up in these already.
COMPARED = (ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.CI, ScenarioKind.OVERLAY,
            ScenarioKind.RELEASE, ScenarioKind.KUBE_VERSION)
REFERENCE = "docs/policies.md#helm"


def normalised(manifests, nondeterminism) -> dict[str, object]:
    """Objects keyed by their canonical JSON, nondeterministic fields masked and objects with a
    nondeterministic name left out: document order and key order are not significant."""
    return {json.dumps(nondeterminism.masked(m), sort_keys=True, default=str): m for m in manifests
            if m.identity() not in nondeterminism.objects}


@policy(
    id="HELM-001",
    title="Helm 3 and Helm 4 render identical object sets",
    scenarios=COMPARED,
    requires=("helm-matrix",),
    rationale="""Clusters and CI runners upgrade Helm on their own schedule. A chart whose output
    depends on the Helm version (Capabilities defaults, template function changes) behaves
    differently in the field than in review. Document order may differ; the objects may not. Fields
    the chart computes afresh on every render are not compared (HELM-002 lists them).""",
    reference=REFERENCE,
)
def same_objects_across_helm_versions(ctx: ScenarioContext):
    nondeterminism = ctx.chart.nondeterminism(ctx.scenario)
    primary = normalised(ctx.manifests, nondeterminism)
    for version in ctx.chart.helm_matrix:
        other = normalised(ctx.chart.render_with_helm(version, ctx.scenario).manifests, nondeterminism)
        for key in sorted(primary.keys() - other.keys()):
            m = primary[key]
            yield Finding.on(m, "$", f"{m.resource_id} renders differently (or not at all) under Helm {version}; "
                             "avoid depending on Helm's defaults (e.g. .Capabilities.KubeVersion) or "
                             "version-specific template functions.")
        for key in sorted(other.keys() - primary.keys()):
            m = other[key]
            yield Finding.on(m, "$", f"Helm {version} renders {m.resource_id} differently (or additionally); "
                             "compare the two renders with the reproduce command.")


@policy(
    id="HELM-002",
    title="Fields that change on every render are known (nondeterministic output)",
    severity=Severity.WARNING,
    requires=("helm-matrix",),
    rationale="""A value generated at render time (randAlphaNum, genCA, now) changes on every `helm
    upgrade`: passwords rotate and certificates are re-issued unless the chart looks the old value
    up. It also cannot be compared between renders, so chartgate leaves it out of HELM-001 and says
    which fields those are.""",
    reference=REFERENCE,
)
def nondeterministic_fields_are_reported(ctx: ChartContext):
    compared = [s for s in ctx.scenarios if s.kind in COMPARED]
    seen: dict[tuple[str, str], list[str]] = {}
    for scenario in compared:
        found = ctx.nondeterminism(scenario)
        for key, paths in found.fields.items():
            for path in paths:
                seen.setdefault((found.sources[key], path), []).append(scenario.name)
        for key in found.objects:
            seen.setdefault((found.sources[key], "$.metadata.name"), []).append(scenario.name)
    if not any(True for _ in compared):
        raise NotApplicable("no scenario of a kind HELM-001 compares")
    for (resource, path), scenarios in sorted(seen.items()):
        shown = ", ".join(scenarios[:3]) + (f" and {len(scenarios) - 3} more" if len(scenarios) > 3 else "")
        yield Finding(f"{resource} {path} differs between two renders of the same inputs (scenarios {shown}): "
                      "it is generated at render time, so it changes on every upgrade and is left out of the "
                      "Helm comparison. If it must be stable, keep the generated value with `lookup` or take it "
                      "from values; otherwise waive this warning.", resource=resource, path=path)
