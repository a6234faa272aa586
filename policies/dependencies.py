"""Vendored dependencies are what their source says: a `file://` dependency whose source chart lives in
the same repository is judged on the copy in `charts/`, so that copy must not lag behind its source.

`helm dependency update` packages the source chart into `charts/<name>-<version>.tgz`; editing the
source and forgetting to refresh the copy ships the old code under the umbrella while every review
looks at the new one. The copy is compared with the source as Helm packages it: the source's files
with its `.helmignore` applied; Chart.yaml and Chart.lock as data (Helm rewrites them when it
packages); the source's own `charts/` left out (nested dependencies are that chart's concern).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from chartgate import Applicability, ChartContext, Finding, InvalidChart, NotApplicable, policy
from chartgate.lib.renders import ChartFiles

REFERENCE = "docs/policies.md#dep"
REWRITTEN_BY_HELM = ("Chart.yaml", "Chart.lock")  # re-serialised by `helm package`/`dependency update`
SHOWN = 5  # differing files named in a finding


def local_source(ctx: ChartContext, repository: str) -> Path | None:
    """The source directory of a `file://` dependency when it is a chart inside the gated chart roots
    (charts are untrusted input: a dependency pointing outside the repository is not read)."""
    if not repository.startswith("file://") or ctx.chart.path is None:
        return None
    source = (ctx.chart.path / repository[len("file://"):]).resolve()
    inside = any(source == root or root in source.parents for root in ctx.chart_roots)
    return source if inside and (source / "Chart.yaml").is_file() else None


def _comparable(files: dict[str, bytes]) -> dict[str, object]:
    kept: dict[str, object] = {}
    for rel, data in files.items():
        if rel.startswith("charts/"):
            continue
        if rel in REWRITTEN_BY_HELM:
            try:
                kept[rel] = yaml.safe_load(data)
            except yaml.YAMLError:
                kept[rel] = data
        else:
            kept[rel] = data
    return kept


def differences(source: dict[str, bytes], copy: dict[str, bytes]) -> list[str]:
    """What the copy lacks, adds or holds differently, as `path (why)`, sorted."""
    want, have = _comparable(source), _comparable(copy)
    changed = [f"{rel} (changed)" for rel in sorted(want.keys() & have.keys()) if want[rel] != have[rel]]
    missing = [f"{rel} (missing from the copy)" for rel in sorted(want.keys() - have.keys())]
    extra = [f"{rel} (not in the source)" for rel in sorted(have.keys() - want.keys())]
    return changed + missing + extra


def sources_digest(ctx: ChartContext, scenario: str | None = None) -> str:
    """The files of every file:// source this chart vendors: DEP-001 reads them beside its own chart,
    so its cached result holds only while they stay the same (an edited source is a new judgement)."""
    digest = hashlib.sha256()
    for dep in ctx.chart.dependencies:
        source = local_source(ctx, dep.repository)
        if source is None:
            continue
        try:
            files = ChartFiles.from_dir(source).files
        except InvalidChart as exc:
            files = {"<unreadable>": str(exc).encode()}
        digest.update(f"{dep.key}\0{source}\0".encode())
        for rel in sorted(files):
            digest.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return digest.hexdigest()


@policy(
    id="DEP-001",
    title="A vendored file:// dependency is the same as its source chart in the repository",
    rationale="""A chart is rendered, judged and released from the copy of each dependency in its
    charts/ directory. When the dependency's source lives in the same repository (repository:
    file://...), a change to the source reaches the umbrella only after `helm dependency update`;
    until then the umbrella ships the old code while reviews and the source chart's own checks look
    at the new one.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(requires=("dependencies",)),
    cache_extra=sources_digest,
)
def vendored_copy_matches_its_source(ctx: ChartContext):
    local = [(dep, source) for dep in ctx.chart.dependencies
             if (source := local_source(ctx, dep.repository)) is not None]
    if not local:
        raise NotApplicable("no dependency is a file:// chart inside the gated chart roots")
    for dep, source in local:
        copy = ctx.chart.subcharts[dep.key]
        try:
            wanted = ChartFiles.from_dir(source).files
        except InvalidChart as exc:
            yield Finding(f"the source of dependency `{dep.name}` ({dep.repository}) cannot be read as Helm "
                          f"would package it: {exc}", template=f"{ctx.name}/{ctx.chart.dependencies_file}")
            continue
        found = differences(wanted, copy.files.files)
        if not found:
            continue
        shown = ", ".join(found[:SHOWN]) + (f" and {len(found) - SHOWN} more" if len(found) > SHOWN else "")
        where = copy.origin.split(f"{ctx.chart.path}/", 1)[-1] if ctx.chart.path else copy.origin
        yield Finding(f"{where} is not the current {dep.repository} ({len(found)} file(s) differ: {shown}); the "
                      f"chart is rendered and released from the stale copy. Run `helm dependency update "
                      f"{ctx.chart.path}` and commit {ctx.name}/charts/.",
                      template=f"{ctx.name}/{ctx.chart.dependencies_file}", path=f"$.dependencies[?(@.name=='{dep.name}')]")
