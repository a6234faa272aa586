"""The same chart renders the same objects under every supported Helm version, and the same objects
every time.

Before comparing Helm versions, the primary Helm renders the scenario a second time: fields that
differ between two renders of the same Helm (a `randAlphaNum` password, a `genCA` certificate, a
timestamp) are nondeterministic by design. They are left out of the comparison - they would differ
between any two renders - and reported once, as a warning naming the field (HELM-002). Both rules mask
with the same function (`Nondeterminism.masked`). A value the template keeps with `lookup` (read back
from the cluster on upgrade, generated only on install) is masked too, but not reported: it is not
regenerated on upgrade. HELM-001 reports each object that differs once, naming the fields that
differ with both values."""

import json

from chartgate import (Applicability, ChartContext, Finding, NotApplicable, ScenarioContext, ScenarioKind, Severity,
                       policy)
from chartgate.lib.renders import differing_paths, jsonpath, value_at

# The configurations a cluster can actually receive. Toggle and plan scenarios are left out: each
# Helm comparison is a second full render, and the template features that differ between Helm
# versions show up in these already.
COMPARED = (ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.CI, ScenarioKind.OVERLAY,
            ScenarioKind.RELEASE, ScenarioKind.KUBE_VERSION)
REFERENCE = "docs/policies.md#helm"
SHOWN_FIELDS = 3
_ABSENT = object()


def normalised(manifests, nondeterminism) -> dict[tuple, tuple]:
    """Objects by identity, nondeterministic fields masked (HELM-002's fields, the same function) and
    objects with a nondeterministic name left out: document order and key order are not significant."""
    found: dict[tuple, list] = {}
    for m in manifests:
        if m.identity() not in nondeterminism.objects:
            found.setdefault(m.identity(), []).append((m, nondeterminism.masked(m)))
    return {key: tuple(sorted(items, key=lambda item: json.dumps(item[1], sort_keys=True, default=str)))
            for key, items in found.items()}


def _shown(value) -> str:
    return "absent" if value is _ABSENT else json.dumps(value, sort_keys=True, default=str)


def field_differences(one: dict, two: dict, primary: str, version: str) -> tuple[str, str]:
    """(JSONPath of the first differing field, `$.spec.x: 5 under Helm 4.1.4, 0 under Helm 3.19.0; ...`
    for the first few)."""
    trails = sorted(differing_paths(one, two), key=jsonpath)
    shown = [f"{jsonpath(t)}: {_shown(value_at(one, t, _ABSENT))} under Helm {primary}, "
             f"{_shown(value_at(two, t, _ABSENT))} under Helm {version}" for t in trails[:SHOWN_FIELDS]]
    more = f" and {len(trails) - SHOWN_FIELDS} more field(s)" if len(trails) > SHOWN_FIELDS else ""
    return jsonpath(trails[0]) if trails else "$", "; ".join(shown) + more


@policy(
    id="HELM-001",
    title="Helm 3 and Helm 4 render identical object sets",
    receives="scenario",
    applies_to=Applicability(requires=("helm-matrix",), scenarios=COMPARED),
    rationale="""Clusters and CI runners upgrade Helm on their own schedule. A chart whose output
    depends on the Helm version (Capabilities defaults, template function changes) behaves
    differently in the field than in review. Document order may differ; the objects may not. Fields
    the chart computes afresh on every render are not compared (HELM-002 lists them).""",
    reference=REFERENCE,
)
def same_objects_across_helm_versions(ctx: ScenarioContext):
    nondeterminism = ctx.chart.nondeterminism(ctx.scenario)
    primary_version = ctx.chart.helm_versions[0] if ctx.chart.helm_versions else "primary"
    primary = normalised(ctx.manifests, nondeterminism)
    advice = ("avoid depending on Helm's defaults (e.g. .Capabilities.KubeVersion) or version-specific "
              "template functions.")
    for version in ctx.chart.helm_matrix:
        other = normalised(ctx.chart.render_with_helm(version, ctx.scenario).manifests, nondeterminism)
        for key in sorted(primary.keys() | other.keys()):  # one finding per object that differs
            mine, theirs = primary.get(key, ()), other.get(key, ())
            if [body for _, body in mine] == [body for _, body in theirs]:
                continue
            m, path = (mine or theirs)[0][0], "$"
            if not theirs:
                how = f"renders under Helm {primary_version} but not under Helm {version}"
            elif not mine:
                how = f"renders under Helm {version} but not under Helm {primary_version}"
            elif len(mine) == len(theirs) == 1:
                path, fields = field_differences(mine[0][1], theirs[0][1], primary_version, version)
                how = f"renders differently under Helm {version}: {fields}"
            else:
                how = f"renders differently under Helm {version} ({len(mine)} and {len(theirs)} objects of this name)"
            yield Finding.on(m, path, f"{m.resource_id} {how}; {advice}")


@policy(
    id="HELM-002",
    title="Fields that change on every render are known (nondeterministic output)",
    severity=Severity.WARNING,
    receives="chart",
    applies_to=Applicability(requires=("helm-matrix",)),
    rationale="""A value generated at render time (randAlphaNum, genCA, now) changes on every `helm
    upgrade`: passwords rotate and certificates are re-issued unless the chart looks the old value
    up. It also cannot be compared between renders, so chartgate leaves it out of HELM-001 and says
    which fields those are.""",
    reference=REFERENCE,
)
def nondeterministic_fields_are_reported(ctx: ChartContext):
    compared = [s for s in ctx.scenarios if s.kind in COMPARED]
    seen: dict[str, dict[str, list[str]]] = {}  # resource -> field -> scenarios: one finding per object
    for scenario in compared:
        found = ctx.nondeterminism(scenario)
        for key, paths in found.fields.items():
            for path in paths if key not in found.kept else ():
                seen.setdefault(found.sources[key], {}).setdefault(jsonpath(path), []).append(scenario.name)
        for key in found.objects - found.kept:
            seen.setdefault(found.sources[key], {}).setdefault("$.metadata.name", []).append(scenario.name)
    if not any(True for _ in compared):
        raise NotApplicable("no scenario of a kind HELM-001 compares")
    for resource, fields in sorted(seen.items()):
        paths = sorted(fields)
        scenarios = list(dict.fromkeys(name for path in paths for name in fields[path]))
        shown = ", ".join(scenarios[:3]) + (f" and {len(scenarios) - 3} more" if len(scenarios) > 3 else "")
        differ = "differs" if len(paths) == 1 else "differ"
        yield Finding(f"{resource} {', '.join(paths)} {differ} between two renders of the same inputs (scenarios "
                      f"{shown}): generated at render time, so it changes on every upgrade and is left out of the "
                      "Helm comparison. If it must be stable, keep the generated value with `lookup` or take it "
                      "from values; otherwise waive this warning.", resource=resource, path=paths[0])
