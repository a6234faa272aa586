"""The same chart renders the same objects under every supported Helm version."""

import json

from chartgate import Finding, ScenarioContext, ScenarioKind, policy

# The configurations a cluster can actually receive. Toggle and plan scenarios are left out: each
# Helm comparison is a second full render, and the template features that differ between Helm
# versions show up in these already.
COMPARED = (ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.CI, ScenarioKind.OVERLAY,
            ScenarioKind.RELEASE, ScenarioKind.KUBE_VERSION)


def normalised(manifests) -> dict[str, dict]:
    """Objects keyed by their canonical JSON: document order and key order are not significant."""
    return {json.dumps(m.body, sort_keys=True, default=str): m for m in manifests}


@policy(
    id="HELM-001",
    title="Helm 3 and Helm 4 render identical object sets",
    scenarios=COMPARED,
    rationale="""Clusters and CI runners upgrade Helm on their own schedule. A chart whose output
    depends on the Helm version (Capabilities defaults, template function changes) behaves
    differently in the field than in review. Document order may differ; the objects may not.""",
    reference="docs/policies.md#helm",
    requires=("helm-matrix",),
)
def same_objects_across_helm_versions(ctx: ScenarioContext):
    others = ctx.chart.helm_matrix
    primary = normalised(ctx.manifests)
    for version in others:
        other = normalised(ctx.chart.render_with_helm(version, ctx.scenario).manifests)
        for key in sorted(primary.keys() - other.keys()):
            m = primary[key]
            yield Finding.on(m, "$", f"{m.resource_id} renders differently (or not at all) under Helm {version}; "
                             "avoid depending on Helm's defaults (e.g. .Capabilities.KubeVersion) or "
                             "version-specific template functions.")
        for key in sorted(other.keys() - primary.keys()):
            m = other[key]
            yield Finding.on(m, "$", f"Helm {version} renders {m.resource_id} differently (or additionally); "
                             "compare the two renders with the reproduce command.")
