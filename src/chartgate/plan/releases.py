"""Flux HelmRelease objects in a cluster overlay tree become scenarios: what each cluster really gets.

A HelmRelease installs one of the discovered charts when its `spec.chart.spec.chart` names the chart
(or a path ending in the chart's directory). Its `values`, `releaseName` and `targetNamespace` are
rendered as given; `valuesFrom` (ConfigMaps/Secrets in the cluster) cannot be resolved offline and
is reported, never silently ignored.

A HelmRelease file is input from a cluster repository, so its names are validated before they get
anywhere near a command line: the release name as Helm requires it (a DNS-1123 subdomain of at most
53 characters), the namespace as a DNS-1123 label, `metadata.name` as a Kubernetes object name. A
bad one is an InvalidConfig naming the file and line.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from chartgate.discover.charts import Chart
from chartgate.core.errors import InvalidConfig
from chartgate.plan.scenarios import Scenario, ScenarioKind, safe_name
from chartgate.core.yamlio import load_text, read_text

_FLUX_GROUP = "helm.toolkit.fluxcd.io"

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")
_RELEASE_NAME_MAX = 53  # Helm's limit (release names end up in label values and object names)
_NAMESPACE_MAX = 63
_OBJECT_NAME_MAX = 253


def _release_name_problem(name: str) -> str | None:
    """Why `name` is not a valid Helm release name, or None when it is."""
    if not _DNS1123_SUBDOMAIN.fullmatch(name):
        return ("is not a valid Helm release name: lower-case letters, digits, '-' and '.', starting and "
                "ending with a letter or digit")
    if len(name) > _RELEASE_NAME_MAX:
        return f"is {len(name)} characters long; Helm release names have at most {_RELEASE_NAME_MAX}"
    return None


def _namespace_problem(name: str) -> str | None:
    """Why `name` is not a valid namespace (a DNS-1123 label), or None when it is."""
    if not re.fullmatch(_DNS1123_LABEL, name):
        return "is not a valid namespace: lower-case letters, digits and '-', starting and ending with a letter or digit"
    if len(name) > _NAMESPACE_MAX:
        return f"is {len(name)} characters long; namespaces have at most {_NAMESPACE_MAX}"
    return None


def _object_name_problem(name: str) -> str | None:
    if not _DNS1123_SUBDOMAIN.fullmatch(name):
        return ("is not a valid Kubernetes object name: lower-case letters, digits, '-' and '.', starting and "
                "ending with a letter or digit")
    if len(name) > _OBJECT_NAME_MAX:
        return f"is {len(name)} characters long; object names have at most {_OBJECT_NAME_MAX}"
    return None


def _line_of(text: str, index: int, keys: tuple[str, ...]) -> int | None:
    """1-based line of `keys` (a path of mapping keys) in the `index`-th YAML document of `text`."""
    try:
        node = list(yaml.compose_all(text, Loader=yaml.SafeLoader))[index]
    except (yaml.YAMLError, IndexError):
        return None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
        if not found:
            return None
        node = found[0]
    return node.start_mark.line + 1


def release_scenarios(chart: Chart, files: list[Path], api_versions: tuple[str, ...] = ()) -> list[Scenario]:
    """Scenarios for the HelmReleases in `files` that install `chart`. What the cluster serves is
    unknown offline, so every API the chart's templates test for is advertised."""
    found = []
    for path in files:
        try:
            stat = Path(path).stat()
        except OSError:
            stat = None  # read_text below says what is wrong with the file
        text, documents = _parsed(str(path), stat.st_mtime_ns if stat else -1, stat.st_size if stat else -1)
        for index, doc in enumerate(documents):
            if not isinstance(doc, dict) or doc.get("kind") != "HelmRelease":
                continue
            if not str(doc.get("apiVersion", "")).startswith(f"{_FLUX_GROUP}/"):
                continue
            spec = doc.get("spec") or {}
            if not isinstance(spec, dict):
                continue
            chart_spec = ((spec.get("chart") or {}).get("spec") or {}) if isinstance(spec.get("chart"), dict) else {}
            ref = (chart_spec.get("chart") if isinstance(chart_spec, dict) else "") or ""
            if not _matches(chart, str(ref)):
                continue
            meta = doc.get("metadata") or {}
            meta = meta if isinstance(meta, dict) else {}

            def invalid(keys: tuple[str, ...], what: str, value: object, problem: str) -> InvalidConfig:
                line = _line_of(text, index, keys)
                where = f"{path}:{line}" if line else str(path)
                return InvalidConfig(f"{where}: HelmRelease {what} {value!r} {problem}. Fix it in that file "
                                     "(chartgate renders this release as a scenario).")

            name = str(meta.get("name", "release"))
            problem = _object_name_problem(name)
            if problem:
                raise invalid(("metadata", "name"), "metadata.name", name, problem)
            if spec.get("valuesFrom"):
                raise InvalidConfig(f"{path}: HelmRelease {name} uses valuesFrom, which chartgate cannot resolve "
                                    "offline; inline the values or exclude this file from --release-overlay")
            values = spec.get("values") or {}
            if not isinstance(values, dict):
                raise InvalidConfig(f"{path}: HelmRelease {name}: spec.values must be a mapping")
            if spec.get("releaseName"):
                release, keys, what = str(spec["releaseName"]), ("spec", "releaseName"), f"{name}: spec.releaseName"
            else:
                release, keys = name, ("metadata", "name")
                what = f"{name}: metadata.name (the release name, as spec.releaseName is not set)"
            problem = _release_name_problem(release)
            if problem:
                raise invalid(keys, what, release, problem)
            if spec.get("targetNamespace"):
                namespace, keys, what = str(spec["targetNamespace"]), ("spec", "targetNamespace"), "spec.targetNamespace"
            else:
                namespace, keys, what = str(meta.get("namespace") or "default"), ("metadata", "namespace"), \
                    "metadata.namespace"
            problem = _namespace_problem(namespace)
            if problem:
                raise invalid(keys, f"{name}: {what}", namespace, problem)
            cluster = path.parent.name
            found.append(Scenario(
                f"release.{safe_name(cluster)}.{safe_name(name)}", ScenarioKind.RELEASE, (),
                tuple((str(k), v) for k, v in sorted(values.items(), key=lambda kv: str(kv[0]))), api_versions,
                release=release, namespace=namespace,
                description=f"Flux HelmRelease {name} in {path}",
                extra={"source": str(path)},  # the file a check of this scenario reads (result-cache key)
            ))
    return found


@functools.lru_cache(maxsize=4096)
def _parsed(path: str, mtime_ns: int, size: int) -> tuple[str, list]:
    """A HelmRelease file's text and documents, parsed once per content (every chart reads every file:
    52 charts x 100 files were 30 s of a --plan). Read-only: the documents are shared."""
    text = read_text(Path(path), what="HelmRelease file")
    return text, load_text(text, path, multi=True) or []


def check_release_files(files: list[Path], charts: list[Chart]) -> None:
    """Validate, once and up front, every HelmRelease in `files` that installs one of `charts`: raise
    the first problem (InvalidConfig / InvalidYaml naming the file and line). For a gate's set-up, so
    a bad HelmRelease is one usage error instead of an error in the middle of planning."""
    for chart in charts:
        release_scenarios(chart, files)


def _matches(chart: Chart, ref: str) -> bool:
    ref = ref.rstrip("/")
    return ref == chart.name or (chart.path is not None and ref.split("/")[-1] in (chart.name, chart.path.name)
                                 and (ref.endswith(f"/{chart.path.name}") or ref.endswith(f"/{chart.name}")))
