"""Which custom APIs a chart can count on when it is installed, in one place.

An object of a non-built-in API is safe on a fresh cluster when its API is *present*:
  (a) the chart ships the CRD itself: rendered from templates (the umbrella's or a subchart's) or
      in any `crds/` directory of the chart tree, serving that version; or
  (b) a Blueprint the chart declares in blueprint.yaml `spec.depends` provides the API group (the
      catalog installs it first); which Blueprint provides which groups is platform knowledge,
      `blueprintApis` in the platform file. A dependency with an `alias` or a `when` condition
      counts under its Blueprint name (the chart pairs its objects with the same condition).
A live `.Capabilities.APIVersions.Has` gate is the third way, but that is a property of the
templates, judged by rendering (CAP-001), not a presence fact.

CAP-001 and OBS-004 both ask `presence(chart, platform, render).why_present(manifest)`, so they
cannot disagree on what counts as present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from chartgate.discover.blueprint import blueprint_of

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart
    from chartgate.parse.manifests import Manifest
    from chartgate.render.renderer import Render


CrdKey = tuple[str, str]  # (group, kind)


def _crd_versions(doc: Any) -> tuple[CrdKey, set[str]] | None:
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if not isinstance(spec, dict):
        return None
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    key = (str(spec.get("group", "")), str(names.get("kind", "")))
    versions = {str(v.get("name")) for v in spec.get("versions") or []
                if isinstance(v, dict) and v.get("served", True)}
    if spec.get("version"):  # apiextensions.k8s.io/v1beta1 style
        versions.add(str(spec["version"]))
    return key, versions


def shipped_crds(chart: "Chart", render: "Render | None" = None) -> dict[CrdKey, set[str]]:
    """(group, kind) -> served versions of every CRD the chart ships: in a `crds/` directory of the
    chart or any vendored subchart, and (given a render) rendered from templates."""
    documents: list[Any] = [doc for _, doc in chart.crd_documents()]
    if render is not None:
        documents += [m.body for m in render.of_kind("CustomResourceDefinition")]
    found: dict[CrdKey, set[str]] = {}
    for doc in documents:
        parsed = _crd_versions(doc)
        if parsed is not None:
            found.setdefault(parsed[0], set()).update(parsed[1])
    return found


def declared_blueprints(chart: Any) -> list[str]:
    """Blueprint names in the chart's blueprint.yaml `spec.depends` (aliases resolved), in order."""
    blueprint = blueprint_of(chart)
    return list(blueprint.depends_names) if blueprint is not None else []


def provided_groups(chart: Any, platform: Any) -> dict[str, str]:
    """API group -> the declared dependency Blueprint that provides it (first declared wins)."""
    apis: Mapping[str, Iterable[str]] = getattr(platform, "blueprint_apis", None) or {}
    found: dict[str, str] = {}
    for name in declared_blueprints(chart):
        for group in apis.get(name, ()):
            found.setdefault(group, name)
    return found


@dataclass(frozen=True)
class Presence:
    """What a chart can count on: CRDs it ships and groups its declared Blueprints provide."""

    crds: Mapping[CrdKey, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    provided: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # group -> Blueprint
    depends: tuple[str, ...] = ()  # the declared Blueprints, for messages

    @property
    def groups(self) -> frozenset[str]:
        """Every API group present in some form (a shipped CRD of any kind, or a provided group)."""
        return frozenset({g for g, _ in self.crds} | set(self.provided))

    def why_present(self, group: str, kind: str, version: str) -> str | None:
        """Why an object of group/version, kind is safe without a gate; None when it is not."""
        if version in self.crds.get((group, kind), ()):
            return f"the chart ships the CRD for {kind}.{group} ({version})"
        if group in self.provided:
            return f"{self.provided[group]} (declared in blueprint.yaml spec.depends) provides {group}"
        return None

    def covers(self, manifest: "Manifest") -> str | None:
        """`why_present` for a rendered object."""
        return self.why_present(manifest.group, manifest.kind, manifest.version)


def presence(chart: "Chart", platform: Any = None, render: "Render | None" = None) -> Presence:
    """The APIs `chart` can count on in `render` (pass the render so CRDs rendered from templates
    count; without one only `crds/` directories and declared Blueprints do)."""
    crds = {key: frozenset(versions) for key, versions in shipped_crds(chart, render).items()}
    return Presence(MappingProxyType(crds), MappingProxyType(provided_groups(chart, platform)),
                    tuple(declared_blueprints(chart)))


def present_groups(chart: "Chart", platform: Any = None, render: "Render | None" = None) -> set[str]:
    """API groups present for `chart` (see `presence`); coarse: one shipped CRD marks its group."""
    return set(presence(chart, platform, render).groups)


__all__ = ["Presence", "declared_blueprints", "present_groups", "presence", "provided_groups", "shipped_crds"]
