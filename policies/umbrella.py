"""Umbrella shape: a Blueprint chart wraps a pinned, vendored upstream chart and says so consistently.

Chart.yaml declares the upstream under `dependencies:`, `helm dependency build` vendors exactly that
version into charts/, and the pin reads the same in Chart.yaml, values.yaml
(`catalystBlueprint.upstream`) and blueprint.yaml (`spec.upstream`). Checks that compare with
blueprint.yaml are skipped for charts that have none.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from chartgate import ChartContext, Finding, NotApplicable, ScenarioContext, ScenarioKind, policy

REFERENCE = "DESIGN.md, contract 1 (umbrella shape); docs/BLUEPRINT-AUTHORING.md §11.1"

# An exact SemVer pin (Helm tolerates a leading `v`); anything else is a range or a typo.
_EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


def same_version(a: Any, b: Any) -> bool:
    """Versions are equal as SemVer: `v1.21.1` and `1.21.1` name the same release."""
    return str(a).strip().removeprefix("v") == str(b).strip().removeprefix("v")


def dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def chart_file(ctx: ChartContext, name: str) -> str:
    return f"{ctx.name}/{name}"


def blueprint_file(ctx: ChartContext) -> str:
    path, chart_dir = ctx.chart.blueprint_path, ctx.chart.path
    if path is not None and chart_dir is not None and path.parent != chart_dir:
        return f"{ctx.name}/../blueprint.yaml"  # the Blueprint folder's file beside chart/
    return chart_file(ctx, "blueprint.yaml")


def require_blueprint(ctx: ChartContext) -> dict:
    if ctx.chart.blueprint is None:
        raise NotApplicable("the chart has no blueprint.yaml (not a Blueprint chart)")
    return ctx.chart.blueprint


def require_dependencies(ctx: ChartContext):
    if not ctx.chart.dependencies:
        raise NotApplicable("Chart.yaml declares no dependencies; UMB-001 reports the hollow chart")
    return ctx.chart.dependencies


@policy(
    id="UMB-001",
    title="The chart declares its upstream chart(s) under dependencies (no hollow chart)",
    rationale="""A Blueprint is an umbrella over the upstream chart, so `helm dependency build` bundles
    the upstream payload into the released artifact. A chart with overlay templates only ships none
    of the software it is named after.""",
    reference=REFERENCE,
)
def declares_dependencies(ctx: ChartContext):
    if ctx.chart.chart_yaml.get("type") == "library":
        raise NotApplicable("library charts render nothing and wrap nothing")
    if ctx.chart.dependencies:
        return
    upstream = dig(ctx.chart.blueprint, "spec", "upstream") or dig(ctx.chart.values, "catalystBlueprint", "upstream")
    hint = (f" blueprint.yaml/values.yaml name the upstream {upstream.get('chart')} {upstream.get('version')}."
            if isinstance(upstream, dict) and upstream.get("chart") else "")
    yield Finding(
        f"Chart.yaml declares no dependencies, so the chart is hollow: it renders only its own overlay "
        f"templates.{hint} Declare the upstream chart (name, exact version, repository) under "
        "`dependencies:` and run `helm dependency build` to vendor it into charts/.",
        template=chart_file(ctx, "Chart.yaml"), path="$.dependencies")


def vendored_archives(ctx: ChartContext, name: str) -> dict[str, str]:
    """charts/<name>-<version>.tgz files: {path: version from the file name}."""
    pattern = re.compile(rf"charts/{re.escape(name)}-(v?\d[^/]*)\.tgz")
    return {rel: m.group(1) for rel in ctx.chart.files.files for m in [pattern.fullmatch(rel)] if m}


def lock_versions(ctx: ChartContext) -> dict[str, str]:
    """Resolved versions from Chart.lock, when the chart has one."""
    if "Chart.lock" not in ctx.chart.files.files:
        return {}
    lock = ctx.chart.files.yaml("Chart.lock") or {}
    return {str(d.get("name")): str(d.get("version")) for d in lock.get("dependencies") or [] if isinstance(d, dict)}


@policy(
    id="UMB-002",
    title="Every dependency is pinned exactly and vendored in charts/ at that version",
    rationale="""The release must be reproducible offline: the upstream payload that was reviewed is
    the one in charts/. A version range, or a vendored copy at another version than Chart.yaml pins,
    means the artifact does not contain what the chart claims.""",
    reference=REFERENCE,
)
def dependencies_vendored_at_pin(ctx: ChartContext):
    locked = lock_versions(ctx)
    for i, dep in enumerate(require_dependencies(ctx)):
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
                              "only the pinned version is vendored.", template=chart_file(ctx, rel), path=where)
        if dep.name in locked and not same_version(locked[dep.name], dep.version):
            yield Finding(f"Chart.lock resolves `{dep.name}` to {locked[dep.name]} but Chart.yaml pins "
                          f"{dep.version}; run `helm dependency update` and commit Chart.lock and charts/.",
                          template=chart_file(ctx, "Chart.lock"), path=f"$.dependencies[?name=='{dep.name}'].version")


def upstream_pins(ctx: ChartContext, blueprint: dict) -> Iterator[Finding]:
    """Each file's statement of the upstream (chart, version, repository) against Chart.yaml."""
    stated = [
        (blueprint_file(ctx), "$.spec.upstream", dig(blueprint, "spec", "upstream")),
        (chart_file(ctx, "values.yaml"), "$.catalystBlueprint.upstream", dig(ctx.chart.values, "catalystBlueprint",
                                                                              "upstream")),
    ]
    deps = {dep.name: dep for dep in ctx.chart.dependencies}
    for file, path, upstream in stated:
        if not isinstance(upstream, dict) or not upstream.get("version"):
            yield Finding(f"{file} does not state the pinned upstream at {path} (chart and version); add it "
                          f"so it can be checked against Chart.yaml's dependencies.", template=file, path=path)
            continue
        name = str(upstream.get("chart") or (next(iter(deps)) if len(deps) == 1 else ""))
        dep = deps.get(name)
        if dep is None:
            yield Finding(f"{file} names the upstream chart {name or '(none)'!r} at {path}.chart, but Chart.yaml "
                          f"declares only {', '.join(deps)}; name the dependency the chart actually wraps.",
                          template=file, path=f"{path}.chart", excerpt=f"chart: {name}")
            continue
        if not same_version(upstream["version"], dep.version):
            yield Finding(f"{file} pins upstream {name} at {upstream['version']} but Chart.yaml's dependency "
                          f"pins {dep.version} (the version vendored in charts/). Make all three agree: "
                          "Chart.yaml dependencies, values.yaml catalystBlueprint.upstream.version and "
                          "blueprint.yaml spec.upstream.version.",
                          template=file, path=f"{path}.version", excerpt=f"version: {upstream['version']}")
        repo = upstream.get("repository")
        if repo and dep.repository and str(repo).rstrip("/") != dep.repository.rstrip("/"):
            yield Finding(f"{file} says upstream {name} comes from {repo} but Chart.yaml pulls it from "
                          f"{dep.repository}; point both at the same repository.",
                          template=file, path=f"{path}.repository", excerpt=f"repository: {repo}")


@policy(
    id="UMB-003",
    title="The upstream pin agrees across Chart.yaml, values.yaml and blueprint.yaml",
    rationale="""The catalog, the upgrade tooling and the chart's own NOTES read the upstream version
    from blueprint.yaml and values.yaml; when they disagree with the vendored dependency, operators
    are told they run one upstream release while the cluster runs another.""",
    reference=REFERENCE,
)
def upstream_pin_agrees(ctx: ChartContext):
    blueprint = require_blueprint(ctx)
    require_dependencies(ctx)
    yield from upstream_pins(ctx, blueprint)


@policy(
    id="UMB-004",
    title="Chart name and version agree with blueprint.yaml",
    rationale="""The Blueprint catalog resolves a Blueprint by metadata.name and spec.version to the
    OCI chart of the same name and version; any disagreement publishes a Blueprint whose chart
    cannot be found, or the wrong one.""",
    reference=REFERENCE,
)
def identity_matches_blueprint(ctx: ChartContext):
    blueprint = require_blueprint(ctx)
    file = blueprint_file(ctx)
    name, version = dig(blueprint, "metadata", "name"), dig(blueprint, "spec", "version")
    if str(name) != ctx.chart.name:
        yield Finding(f"{file} metadata.name is {name!r} but Chart.yaml name is {ctx.chart.name!r}; the "
                      "Blueprint and its chart must share one name.",
                      template=file, path="$.metadata.name", excerpt=f"name: {name}")
    if version is None or not same_version(version, ctx.chart.version):
        yield Finding(f"{file} spec.version is {version!r} but Chart.yaml version is {ctx.chart.version!r}; "
                      "bump both together when releasing.",
                      template=file, path="$.spec.version", excerpt=f"version: {version}")


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
    scenarios=(ScenarioKind.DEFAULT,),
    judges_failed_renders=True,
    rationale="""Declaring and vendoring the upstream is not enough if it renders nothing by default
    (a `condition:` switched off, an emptied subchart): the default install would then ship overlays
    around software that is not there.""",
    reference=REFERENCE,
)
def default_render_has_payload(ctx: ScenarioContext):
    if ctx.render.error is not None:
        raise NotApplicable("the scenario did not render; RENDER-001 reports why")
    chart = ctx.chart.chart
    deps = [d for d in require_dependencies(ctx.chart)
            if chart.subcharts[d.key].chart_yaml.get("type") != "library"]
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
