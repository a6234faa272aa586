"""Flux HelmRelease objects in a cluster overlay tree become scenarios: what each cluster really gets.

A HelmRelease installs one of the discovered charts when its `spec.chart.spec.chart` names the chart
(or a path ending in the chart's directory). Its `values`, `releaseName` and `targetNamespace` are
rendered as given; `valuesFrom` (ConfigMaps/Secrets in the cluster) cannot be resolved offline and
is reported, never silently ignored.
"""

from __future__ import annotations

from pathlib import Path

from .charts import Chart
from .errors import InvalidConfig
from .scenarios import Scenario, ScenarioKind, safe_name
from .yamlio import load_text

FLUX_GROUP = "helm.toolkit.fluxcd.io"


def _matches(chart: Chart, ref: str) -> bool:
    ref = ref.rstrip("/")
    return ref == chart.name or (chart.path is not None and ref.split("/")[-1] in (chart.name, chart.path.name)
                                 and (ref.endswith(f"/{chart.path.name}") or ref.endswith(f"/{chart.name}")))


def release_scenarios(chart: Chart, files: list[Path], api_versions: tuple[str, ...] = ()) -> list[Scenario]:
    """Scenarios for the HelmReleases in `files` that install `chart`. What the cluster serves is
    unknown offline, so every API the chart's templates test for is advertised."""
    found = []
    for path in files:
        for doc in load_text(path.read_text(encoding="utf-8"), str(path), multi=True) or []:
            if not isinstance(doc, dict) or doc.get("kind") != "HelmRelease":
                continue
            if not str(doc.get("apiVersion", "")).startswith(f"{FLUX_GROUP}/"):
                continue
            spec = doc.get("spec") or {}
            ref = (((spec.get("chart") or {}).get("spec") or {}).get("chart")) or ""
            if not _matches(chart, str(ref)):
                continue
            meta = doc.get("metadata") or {}
            name = str(meta.get("name", "release"))
            if spec.get("valuesFrom"):
                raise InvalidConfig(f"{path}: HelmRelease {name} uses valuesFrom, which chartgate cannot resolve "
                                    "offline; inline the values or exclude this file from --release-overlay")
            values = spec.get("values") or {}
            if not isinstance(values, dict):
                raise InvalidConfig(f"{path}: HelmRelease {name}: spec.values must be a mapping")
            cluster = path.parent.name
            found.append(Scenario(
                f"release.{safe_name(cluster)}.{safe_name(name)}", ScenarioKind.RELEASE, (),
                tuple((str(k), v) for k, v in sorted(values.items())), api_versions,
                release=str(spec.get("releaseName") or name),
                namespace=str(spec.get("targetNamespace") or meta.get("namespace") or "default"),
                description=f"Flux HelmRelease {name} in {path}",
            ))
    return found
