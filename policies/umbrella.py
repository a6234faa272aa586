"""Umbrella shape: a Blueprint chart wraps a pinned, vendored upstream chart and says so consistently.

The hard contract (docs/blueprint.md, "The umbrella pin"): the upstream chart is pinned in three places
that agree - Chart.yaml `dependencies[]` (name, version, repository), values.yaml
`catalystBlueprint.upstream` (chart, version, repo) and the vendored payload in charts/
(`<dep>-<version>.tgz` or an unpacked `<dep>/Chart.yaml` at that version) - and the Blueprint's
identity in blueprint.yaml (`metadata.name`, `spec.version`) is the chart's. blueprint.yaml itself
carries no upstream in the real format; where one does (`spec.upstream`), it is checked too.

All UMB rules are Blueprint-only (`Applicability(profile="blueprint")`): a chart without blueprint.yaml
is not an umbrella of this contract; a library chart renders and wraps nothing (UMB-001 requires an
application chart). What they deliberately accept:
- a values-only umbrella (no templates/): the payload is the upstream, configured by values;
- a Blueprint with no dependency that names no upstream anywhere: it wraps nothing (UMB-001 is
  skipped with that reason); only a chart that *names* an upstream it does not declare is hollow;
- a composite umbrella whose dependencies are Blueprints (`bp-*` charts): it has no upstream pin of
  its own, so values.yaml need not state one;
- library-chart dependencies (helpers such as `common`): they are pinned and vendored like any
  dependency, but are never "the upstream" and render nothing.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from chartgate import (Applicability, ChartContext, Dependency, Finding, NotApplicable, ScenarioContext, ScenarioKind,
                       policy)
from chartgate.lib.blueprint import Upstream, blueprint_file_label, blueprint_of, upstream_statements

REFERENCE = "docs/policies.md#umb"

# An exact SemVer pin (Helm tolerates a leading `v`); anything else is a range or a typo.
_EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


def same_version(a: Any, b: Any) -> bool:
    """Versions are equal as SemVer: `v1.21.1` and `1.21.1` name the same release."""
    return str(a).strip().removeprefix("v") == str(b).strip().removeprefix("v")


def same_repository(a: str, b: str) -> bool:
    return a.strip().rstrip("/") == b.strip().rstrip("/")


def dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def chart_file(ctx: ChartContext, name: str) -> str:
    return f"{ctx.name}/{name}"


def blueprint_file(ctx: ChartContext) -> str:
    return blueprint_file_label(ctx.chart)


def is_library(dep_chart) -> bool:
    return dep_chart.chart_yaml.get("type") == "library"


def is_blueprint_dependency(ctx: ChartContext, dep: Dependency) -> bool:
    """A dependency that is itself a Blueprint chart (a composite umbrella's member): named `bp-*`,
    or vendored with its blueprint.yaml."""
    sub = ctx.chart.subcharts.get(dep.key)
    return dep.name.startswith("bp-") or (sub is not None and "blueprint.yaml" in sub.files.files)


def upstream_dependencies(ctx: ChartContext) -> list[Dependency]:
    """The dependencies that are upstream charts: not library charts, not Blueprints."""
    return [d for d in ctx.chart.dependencies
            if not is_library(ctx.chart.subcharts[d.key]) and not is_blueprint_dependency(ctx, d)]


def stated_upstreams(ctx: ChartContext) -> list[tuple[str, str, Upstream, int | None]]:
    """Every statement of the upstream as (file, JSONPath, Upstream, line): values.yaml
    `catalystBlueprint.upstream` (one mapping or a list), and blueprint.yaml `spec.upstream` where
    the Blueprint carries one."""
    stated = [(chart_file(ctx, "values.yaml"), path, upstream, None)
              for path, upstream in upstream_statements(ctx.chart.values, chart_file(ctx, "values.yaml"))]
    blueprint = blueprint_of(ctx.chart)
    if blueprint is not None and blueprint.upstream is not None:
        stated.append((blueprint_file(ctx), "$.spec.upstream", blueprint.upstream,
                       blueprint.line_of("spec", "upstream")))
    return stated


@policy(
    id="UMB-001",
    title="A Blueprint that names an upstream chart declares it under dependencies (no hollow chart)",
    rationale="""A Blueprint is an umbrella over the upstream chart, so `helm dependency build` bundles
    the upstream payload into the released artifact. A chart that names its upstream (values.yaml
    catalystBlueprint.upstream) but declares no dependency ships overlay templates only, none of the
    software it is named after. A Blueprint that names no upstream anywhere wraps nothing on purpose
    and is skipped.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(profile="blueprint", requires=("application-chart",)),
)
def declares_dependencies(ctx: ChartContext):
    if ctx.chart.dependencies:
        return
    named = [(file, path, up, line) for file, path, up, line in stated_upstreams(ctx) if up.chart or up.version]
    if not named:
        blueprint = blueprint_of(ctx.chart)
        source = blueprint.manifests.source if blueprint is not None and blueprint.manifests else None
        if source is not None and source.ref:
            raise NotApplicable(f"blueprint.yaml installs its upstream by reference (spec.manifests.source "
                                f"{source.kind} {source.ref}), not as a vendored dependency")
        raise NotApplicable("the Blueprint wraps no upstream chart: Chart.yaml declares no dependency and "
                            "neither values.yaml catalystBlueprint.upstream nor blueprint.yaml names one")
    for file, path, upstream, line in named:
        what = " ".join(filter(None, (upstream.chart, upstream.version)))
        yield Finding(
            f"{file} names the upstream chart {what} at {path}, but Chart.yaml declares no dependencies, so "
            f"the chart is hollow: it renders only its own overlay templates. Declare the upstream under "
            "`dependencies:` (name, exact version, repository) and run `helm dependency build` to vendor it "
            "into charts/; or, if the Blueprint really wraps nothing, remove the upstream statement.",
            template=file, path=path, line=line, excerpt=f"chart: {upstream.chart}\nversion: {upstream.version}")


def vendored_archives(ctx: ChartContext, name: str) -> dict[str, str]:
    """charts/<name>-<version>.tgz files: {path: version from the file name}."""
    pattern = re.compile(rf"charts/{re.escape(name)}-(v?\d[^/]*)\.tgz")
    return {rel: m.group(1) for rel in ctx.chart.files.files for m in [pattern.fullmatch(rel)] if m}


def lock_versions(ctx: ChartContext) -> dict[str, str]:
    """Resolved versions from Chart.lock, when the chart has one."""
    if "Chart.lock" not in ctx.chart.files.files:
        return {}
    lock = ctx.chart.files.yaml("Chart.lock") or {}
    if not isinstance(lock, dict):
        return {}
    return {str(d.get("name")): str(d.get("version")) for d in lock.get("dependencies") or [] if isinstance(d, dict)}


@policy(
    id="UMB-002",
    title="Every dependency is pinned exactly and vendored in charts/ at that version",
    rationale="""The release must be reproducible offline: the upstream payload that was reviewed is
    the one in charts/. A version range, or a vendored copy at another version than Chart.yaml pins,
    means the artifact does not contain what the chart claims.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(profile="blueprint", requires=("dependencies",)),
)
def dependencies_vendored_at_pin(ctx: ChartContext):
    locked = lock_versions(ctx)
    for i, dep in enumerate(ctx.chart.dependencies):
        where = f"$.dependencies[{i}].version"
        if not _EXACT_VERSION.fullmatch(dep.version):
            yield Finding(f"dependency `{dep.name}` is pinned as {dep.version!r}, which is not one exact version; "
                          "pin the exact upstream release (e.g. 1.2.3) so every build vendors the same chart.",
                          template=chart_file(ctx, "Chart.yaml"), path=where, excerpt=f"version: {dep.version}")
            continue
        vendored = ctx.chart.subcharts[dep.key]
        if not same_version(vendored.version, dep.version):
            kind = "packaged" if vendored.packaged else "unpacked"
            copy = vendored.origin.removeprefix(f"{ctx.chart.origin}/")
            yield Finding(f"dependency `{dep.name}` is pinned at {dep.version} but the {kind} copy {copy} "
                          f"is version {vendored.version}. Run `helm dependency update` "
                          "and commit charts/, or correct the pin.",
                          template=chart_file(ctx, "Chart.yaml"), path=where, excerpt=f"version: {dep.version}")
        for rel, version in sorted(vendored_archives(ctx, dep.name).items()):
            if vendored.origin != f"{ctx.chart.origin}/{rel}" and not same_version(version, dep.version):
                yield Finding(f"{rel} is a stale copy of `{dep.name}` (pinned at {dep.version}); delete it so "
                              "only the pinned version is vendored.", template=chart_file(ctx, rel))  # the file
        if dep.name in locked and not same_version(locked[dep.name], dep.version):
            yield Finding(f"Chart.lock resolves `{dep.name}` to {locked[dep.name]} but Chart.yaml pins "
                          f"{dep.version}; run `helm dependency update` and commit Chart.lock and charts/.",
                          template=chart_file(ctx, "Chart.lock"),
                          path=f"$.dependencies[?(@.name=='{dep.name}')].version")


def upstream_pins(ctx: ChartContext) -> Iterator[Finding]:
    """Each statement of the upstream (chart, version, repo) against Chart.yaml's dependencies."""
    deps = {dep.name: dep for dep in ctx.chart.dependencies}
    upstreams = upstream_dependencies(ctx)
    stated = stated_upstreams(ctx)
    if not any(file.endswith("/values.yaml") for file, *_ in stated) and upstreams:
        names = ", ".join(f"{d.name} {d.version}" for d in upstreams)
        yield Finding(f"values.yaml does not state the pinned upstream ({names}) at $.catalystBlueprint.upstream; "
                      "add `catalystBlueprint: {upstream: {chart, version, repo}}` so the catalog and the upgrade "
                      "tooling read the same pin as Chart.yaml.",
                      template=chart_file(ctx, "values.yaml"), path="$.catalystBlueprint.upstream")
    for file, path, upstream, line in stated:
        if not upstream.version:
            yield Finding(f"{file} states the upstream at {path} without a `version`; add the version Chart.yaml "
                          "pins, so it can be checked against the vendored chart.",
                          template=file, path=path, line=line)
            continue
        name = upstream.chart or (upstreams[0].name if len(upstreams) == 1 else "")
        dep = deps.get(name)
        if dep is None:
            yield Finding(f"{file} names the upstream chart {name or '(none)'!r} at {path}.chart, but Chart.yaml "
                          f"declares only {', '.join(deps)}; name the dependency the chart actually wraps.",
                          template=file, path=f"{path}.chart", line=line, excerpt=f"chart: {name}")
            continue
        if not same_version(upstream.version, dep.version):
            yield Finding(f"{file} pins upstream {name} at {upstream.version} but Chart.yaml's dependency "
                          f"pins {dep.version} (the version vendored in charts/). Make all three agree: "
                          "Chart.yaml dependencies, values.yaml catalystBlueprint.upstream.version and the "
                          "vendored chart.",
                          template=file, path=f"{path}.version", line=line, excerpt=f"version: {upstream.version}")
        if upstream.repo and dep.repository and not same_repository(upstream.repo, dep.repository):
            yield Finding(f"{file} says upstream {name} comes from {upstream.repo} but Chart.yaml pulls it from "
                          f"{dep.repository}; point both at the same repository.",
                          template=file, path=f"{path}.repo", line=line, excerpt=f"repo: {upstream.repo}")


@policy(
    id="UMB-003",
    title="The upstream pin agrees across Chart.yaml dependencies and values.yaml catalystBlueprint.upstream",
    rationale="""The catalog, the upgrade tooling and the chart's own NOTES read the upstream chart,
    version and repository from values.yaml (catalystBlueprint.upstream); when they disagree with the
    dependency Chart.yaml pins and charts/ vendors, operators are told they run one upstream release
    while the cluster runs another.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(profile="blueprint", requires=("dependencies",)),
)
def upstream_pin_agrees(ctx: ChartContext):
    if not upstream_dependencies(ctx) and not stated_upstreams(ctx):
        raise NotApplicable("every dependency is a Blueprint or a library chart, and no upstream is stated: "
                            "there is no upstream pin to compare")
    yield from upstream_pins(ctx)


@policy(
    id="UMB-004",
    title="blueprint.yaml names this chart: metadata.name, spec.version and spec.manifests.chart agree",
    rationale="""The Blueprint catalog resolves a Blueprint by metadata.name and spec.version to the
    OCI chart of the same name and version, built from the directory spec.manifests.chart names; any
    disagreement publishes a Blueprint whose chart cannot be found, or the wrong one.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(profile="blueprint", requires=("blueprint-file",)),
)
def identity_matches_blueprint(ctx: ChartContext):
    blueprint = blueprint_of(ctx.chart)
    file = blueprint_file(ctx)
    chart_dir = blueprint.chart_dir()
    if not (blueprint.name or blueprint.version or blueprint.metadata_version or chart_dir):
        raise NotApplicable(f"{file} states neither metadata.name, spec.version nor spec.manifests.chart")
    if blueprint.name and blueprint.name != ctx.chart.name:
        yield Finding(f"{file} metadata.name is {blueprint.name!r} but Chart.yaml name is {ctx.chart.name!r}; the "
                      "Blueprint and its chart must share one name.",
                      template=file, path="$.metadata.name", line=blueprint.line_of("metadata", "name"),
                      excerpt=f"name: {blueprint.name}")
    for key, version in ((("spec", "version"), blueprint.version), (("metadata", "version"),
                                                                   blueprint.metadata_version)):
        if version and not same_version(version, ctx.chart.version):
            yield Finding(f"{file} {'.'.join(key)} is {version!r} but Chart.yaml version is {ctx.chart.version!r}; "
                          "bump both together when releasing.",
                          template=file, path="$." + ".".join(key), line=blueprint.line_of(*key),
                          excerpt=f"version: {version}")
    if chart_dir is not None and ctx.chart.path is not None and chart_dir != ctx.chart.path.resolve():
        chart_in = blueprint.manifests.chart
        yield Finding(f"{file} spec.manifests.chart is {chart_in!r}, which resolves to {chart_dir}, not to this "
                      f"chart's directory {ctx.chart.path}; name the chart directory relative to blueprint.yaml "
                      "(./chart in the platform/<name>/ layout).",
                      template=file, path="$.spec.manifests.chart",
                      line=blueprint.line_of("spec", "manifests", "chart"), excerpt=f"chart: {chart_in}")


def condition_value(ctx: ChartContext, condition: str) -> Any:
    """What a dependency `condition:` resolves to in the default values (first path that exists wins)."""
    for dotted_path in filter(None, (c.strip() for c in condition.split(","))):
        value = dig(ctx.chart.effective_values, *dotted_path.split("."))
        if value is not None:
            return value
    return None


@policy(
    id="UMB-005",
    title="The default render contains the upstream payload, not only overlays",
    receives="scenario",
    applies_to=Applicability(profile="blueprint", requires=("dependencies",), scenarios=(ScenarioKind.DEFAULT,)),
    rationale="""Declaring and vendoring the upstream is not enough if it renders nothing by default
    (a `condition:` switched off, an emptied subchart): the default install would then ship overlays
    around software that is not there.""",
    reference=REFERENCE,
)
def default_render_has_payload(ctx: ScenarioContext):
    chart = ctx.chart.chart
    deps = [d for d in chart.dependencies if not is_library(chart.subcharts[d.key])]
    if not deps:
        raise NotApplicable("every dependency is a library chart (renders nothing by design)")
    if any(m.source.startswith(f"{ctx.name}/charts/") for m in ctx.manifests):
        return
    described = []
    for dep in deps:
        value = condition_value(ctx.chart, dep.condition)
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        note = f" (condition {dep.condition} = {shown})" if dep.condition else ""
        described.append(f"{dep.name}{note}")
    own = sorted({m.source for m in ctx.manifests})
    yield Finding(
        f"the default render contains no object from charts/ ({', '.join(described)}); it renders "
        f"{', '.join(own) if own else 'nothing at all'}. Enable the upstream chart by default (its "
        "`condition:` value, or the subchart values that switch its workloads off) so the Blueprint ships "
        "its payload.",
        template=chart_file(ctx.chart, "Chart.yaml"), path="$.dependencies")
