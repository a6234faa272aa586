"""Hygiene: pinned images everywhere, and the chart's own overlay objects labelled as the platform expects.

Both policies judge the union of every planned scenario that rendered (default, capabilities, each
toggle's opt-in, ci/ and overlay values files), so objects that only a toggle or a values file turns
on are checked too; each offending object is reported once, naming the scenarios that render it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from chartgate import Applicability, ChartContext, Finding, Manifest, NotApplicable, policy
from chartgate.lib.apis import builtin_groups
from chartgate.lib.values import supplied_values

REFERENCE = "docs/policies.md#hyg"

FLOATING_TAGS = {"latest"}  # tags that name whatever was pushed last, not one image
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
STANDARD_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by")
# Cluster-shared objects: one CustomResourceDefinition serves every release of the chart, so labels
# naming one release (or the tool of one install) cannot be asked of it; its name label can.
SHARED_KINDS = frozenset({"CustomResourceDefinition"})
PER_RELEASE_LABELS = frozenset({"app.kubernetes.io/instance", "app.kubernetes.io/managed-by"})
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


@dataclass(frozen=True)
class Seen:
    """A rendered object (one variant of its body), with every scenario that renders it so."""

    manifest: Manifest
    scenarios: tuple[str, ...]


def rendered_objects(ctx: ChartContext) -> list[Seen]:
    """Every distinct object across the chart's planned scenarios that rendered (failed renders are
    RENDER-001's to report)."""
    renders = [r for r in (ctx.try_render(s) for s in ctx.scenarios) if r.ok]
    if not renders:
        raise NotApplicable("no planned scenario rendered; RENDER-001 reports why")
    found: dict[tuple, tuple[Manifest, list[str]]] = {}
    for render in renders:
        for manifest in render.manifests:
            key = (manifest.identity(), manifest.source, id(manifest.body))  # bodies are shared per content
            found.setdefault(key, (manifest, []))[1].append(render.scenario.name)
    return [Seen(manifest, tuple(names)) for manifest, names in found.values()]


@dataclass(frozen=True)
class Problem:
    seen: Seen
    path: str  # JSONPath of the offending field
    what: str  # what is wrong, e.g. "image 'x:latest' uses the floating tag `latest`"
    advice: str  # what to change
    value: Any  # the excerpt shown in reports


def where(scenarios: list[str]) -> str:
    shown = ", ".join(scenarios[:3]) + (f" and {len(scenarios) - 3} more" if len(scenarios) > 3 else "")
    return f"scenario{'s' if len(scenarios) > 1 else ''} {shown}"


def report_once(problems: Iterable[Problem]) -> Iterator[Finding]:
    """One finding per (object, field, problem), however many scenarios or body variants show it."""
    merged: dict[tuple, tuple[Problem, list[str]]] = {}
    for problem in problems:
        manifest = problem.seen.manifest
        key = (manifest.resource_id, manifest.source, problem.path, problem.what)
        first, scenarios = merged.setdefault(key, (problem, []))
        scenarios.extend(s for s in problem.seen.scenarios if s not in scenarios)
    for problem, scenarios in merged.values():
        yield Finding.on(problem.seen.manifest, problem.path,
                         f"{problem.what} ({where(scenarios)}). {problem.advice}", value=problem.value,
                         scenarios=scenarios)


def is_builtin_group(group: str, kube_versions) -> bool:
    return all(group in builtin_groups(version) for version in kube_versions)


def image_problem(reference: Any) -> str | None:
    """Why an image reference does not name one immutable image, or None if it does."""
    if not isinstance(reference, str) or not reference.strip():
        return "is empty"
    ref = reference.strip()
    name, _, digest = ref.partition("@")
    if digest:
        return None if _DIGEST.fullmatch(digest) else f"has a malformed digest {digest!r}"
    last = name.rsplit("/", 1)[-1]  # a registry port (host:5000/x) is not a tag
    if ":" not in last:
        return "has no tag (Kubernetes pulls `latest`)"
    tag = last.rsplit(":", 1)[1]
    if not tag:
        return "has an empty tag"
    if tag.lower() in FLOATING_TAGS:
        return f"uses the floating tag `{tag}`"
    return None


def image_fields(node: Any, path: str = "$", *, require_image: bool = True) -> Iterator[tuple[str, Any]]:
    """(JSONPath, value) of every `image` field: containers, initContainers and ephemeralContainers
    of any pod template, and image fields of custom resources (Dataplane, ServingRuntime, ...).

    With `require_image`, a container that has no `image` at all is reported too (for built-in pod
    templates; custom resources may list containers as partial overrides of a runtime's)."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}"
            if key == "image" and not isinstance(value, (dict, list)):
                yield child, value
            elif key in CONTAINER_LISTS and isinstance(value, list):
                for i, container in enumerate(value):
                    if require_image and isinstance(container, dict) and "image" not in container:
                        yield f"{child}[{i}].image", None
                    yield from image_fields(container, f"{child}[{i}]", require_image=require_image)
            else:
                yield from image_fields(value, child, require_image=require_image)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from image_fields(item, f"{path}[{i}]", require_image=require_image)


@policy(
    id="HYG-001",
    title="Every container image has an explicit tag or digest, never a floating one",
    receives="chart",
    rationale="""`latest`, an empty tag or no tag at all resolve to whatever was pushed last: two nodes
    can run different code under one release, a rollback does not roll anything back, and the
    release evidence cannot say what ran. Pin a version tag, or better a digest.""",
    reference=REFERENCE,
)
def images_are_pinned(ctx: ChartContext):
    yield from report_once(unpinned_images(ctx))


def is_helm_test(manifest: Manifest) -> bool:
    """A `helm test` hook: never installed with the release, only run on demand by `helm test`."""
    hooks = str(manifest.annotations.get("helm.sh/hook", ""))
    return any(h.strip() in ("test", "test-success", "test-failure") for h in hooks.split(","))


def unpinned_images(ctx: ChartContext):
    for seen in rendered_objects(ctx):
        if seen.manifest.kind == "CustomResourceDefinition":
            continue  # schemas describe `image` fields, they do not set them
        if is_helm_test(seen.manifest):
            continue  # not part of what the release installs (`helm create` ships `busybox` here)
        builtin = is_builtin_group(seen.manifest.group, ctx.kube_versions)
        for path, value in image_fields(seen.manifest.body, require_image=builtin):
            problem = image_problem(value)
            if problem:
                yield Problem(seen, path, f"image {value!r} {problem}",
                              "Set an explicit version tag or @sha256 digest in the values that feed this field; "
                              "or add a waiver with a reason.", {"image": value})


def is_overlay(ctx: ChartContext, manifest: Manifest) -> bool:
    """Rendered by the chart's own templates/, not by a vendored subchart."""
    return manifest.source.startswith(f"{ctx.name}/templates/")


def overlays(ctx: ChartContext) -> list[Seen]:
    found = [seen for seen in rendered_objects(ctx) if is_overlay(ctx, seen.manifest)]
    if not found:
        raise NotApplicable("no scenario renders an object from the chart's own templates/")
    return found


@policy(
    id="HYG-002",
    title="The chart's own overlay objects carry the standard app.kubernetes.io labels",
    receives="chart",
    rationale="""Overlay objects are Catalyst's additions to an upstream chart; without
    app.kubernetes.io/name, /instance and /managed-by, `kubectl get -l`, dashboards and garbage
    collection of a release cannot find them. Subchart objects are upstream's business. A
    CustomResourceDefinition is shared by every release of the chart, so only its name label is
    asked of it, not the per-release /instance and /managed-by.""",
    reference=REFERENCE,
)
def overlay_objects_have_standard_labels(ctx: ChartContext):
    yield from report_once(missing_standard_labels(ctx))


def supplied_by_input(ctx: ChartContext, seen: Seen) -> bool:
    """Is the object one the scenarios' input wrote whole (`extraObjects`/`extraManifests` in a ci/
    file, an overlay or a HelmRelease), rendered verbatim by the chart? Then its labels are the input's,
    not the chart's. True when every scenario that renders it supplies an object literal of the same
    apiVersion, kind and name (a templated name matching)."""
    body = seen.manifest.body
    name = str((body.get("metadata") or {}).get("name") or "")

    def literal(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("kind") == body.get("kind") and node.get("apiVersion") == body.get("apiVersion") \
                    and _names_match(str((node.get("metadata") or {}).get("name") or ""), name):
                return True
            return any(literal(child) for child in node.values())
        if isinstance(node, list):
            return any(literal(child) for child in node)
        return False
    planned = {scenario.name: scenario for scenario in ctx.scenarios}
    return all(any(literal(v) for v in supplied_values(planned[n])) for n in seen.scenarios)


def _names_match(supplied: str, rendered: str) -> bool:
    """`{{ .Release.Name }}-upstreams` matches `rel-upstreams`: each template action matches anything."""
    pattern = "".join(".*" if part.startswith("{{") else re.escape(part)
                      for part in re.split(r"(\{\{.*?\}\})", supplied))
    return bool(supplied) and re.fullmatch(pattern, rendered) is not None


def missing_standard_labels(ctx: ChartContext) -> Iterator[Problem]:
    for seen in overlays(ctx):
        if supplied_by_input(ctx, seen):  # the input's object: its labels are the input's
            continue
        labels = seen.manifest.labels
        wanted = [label for label in STANDARD_LABELS
                  if not (seen.manifest.kind in SHARED_KINDS and label in PER_RELEASE_LABELS)]
        missing = [label for label in wanted if not str(labels.get(label) or "").strip()]
        if missing:
            yield Problem(seen, "$.metadata.labels", f"overlay object lacks {', '.join(missing)}",
                          "Include the chart's common labels helper in the template's metadata.labels.", labels)


@policy(
    id="HYG-003",
    title="The chart's own overlay objects carry the Blueprint label",
    receives="chart",
    applies_to=Applicability(profile="blueprint", requires=("blueprint-file",)),
    rationale="""The platform finds everything a Blueprint installed by its Blueprint label
    (platform file: blueprintLabel), e.g. to show it in the console or to uninstall it cleanly.
    Overlay objects are the Blueprint's own, so they must carry it with the Blueprint's name.""",
    reference=REFERENCE,
)
def overlay_objects_have_blueprint_label(ctx: ChartContext):
    label = ctx.platform.blueprint_label
    expected = str((ctx.chart.blueprint.get("metadata") or {}).get("name") or ctx.name)
    yield from report_once(wrong_blueprint_labels(ctx, label, expected))


def wrong_blueprint_labels(ctx: ChartContext, label: str, expected: str) -> Iterator[Problem]:
    for seen in overlays(ctx):
        value = seen.manifest.labels.get(label)
        if value != expected:
            state = "lacks" if value is None else f"sets {value!r} for"
            yield Problem(seen, f"$.metadata.labels['{label}']", f"overlay object {state} the Blueprint label {label}",
                          f"Carry `{label}: {expected}` via the chart's common labels helper.", seen.manifest.labels)
