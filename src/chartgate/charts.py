"""Discover charts under a root and load what policies need: Chart.yaml, values, blueprint.yaml,
vendored dependencies (unpacked or packaged), templates and CRDs. Nothing here runs Helm."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from .errors import ChartgateError, InvalidChart, InvalidYaml
from .manifests import cluster_scoped_kind
from .values import merge
from .yamlio import load_text

_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".tools", ".hypothesis"}


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    repository: str = ""
    alias: str = ""
    condition: str = ""

    @property
    def key(self) -> str:
        """The values key the umbrella uses for this subchart."""
        return self.alias or self.name


@dataclass
class ChartFiles:
    """A chart's files as {relative posix path: bytes}, read from a directory or a .tgz."""

    origin: str  # human-readable location for error messages
    files: dict[str, bytes]

    @classmethod
    def from_dir(cls, root: Path) -> "ChartFiles":
        files: dict[str, bytes] = {}
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for name in filenames:
                full = Path(dirpath) / name
                files[full.relative_to(root).as_posix()] = full.read_bytes()
        return cls(str(root), files)

    @classmethod
    def from_tgz(cls, data: bytes, origin: str) -> "ChartFiles":
        files: dict[str, bytes] = {}
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                for member in tar.getmembers():
                    if not member.isfile():
                        continue
                    parts = PurePosixPath(member.name).parts
                    if len(parts) < 2 or ".." in parts:
                        continue
                    files["/".join(parts[1:])] = tar.extractfile(member).read()
        except (tarfile.TarError, OSError) as exc:
            raise InvalidChart(f"{origin}: not a readable chart archive: {exc}") from None
        return cls(origin, files)

    def text(self, rel: str) -> str:
        return self.files[rel].decode("utf-8", errors="replace")

    def yaml(self, rel: str, *, required: bool = True) -> Any:
        if rel not in self.files:
            if required:
                raise InvalidChart(f"{self.origin}: missing {rel}")
            return None
        return load_text(self.text(rel), f"{self.origin}/{rel}")

    def under(self, prefix: str) -> dict[str, bytes]:
        return {k: v for k, v in self.files.items() if k.startswith(prefix)}

    def digest(self) -> str:
        digest = hashlib.sha256()
        for rel in sorted(self.files):
            digest.update(rel.encode() + b"\0")
            digest.update(hashlib.sha256(self.files[rel]).digest())
        return digest.hexdigest()


def _mapping(data: Any, origin: str, what: str) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidChart(f"{origin}: {what} must be a YAML mapping, got {type(data).__name__}")
    return data


@dataclass
class Chart:
    """A chart (umbrella or vendored subchart) as loaded from its files."""

    name: str
    version: str
    files: ChartFiles
    chart_yaml: dict
    values: dict
    dependencies: list[Dependency]
    subcharts: dict[str, "Chart"]  # by dependency values key
    path: Path | None = None  # directory on disk (umbrella charts and unpacked subcharts)
    blueprint: dict | None = None
    blueprint_path: Path | None = None
    packaged: bool = False
    # How the chart is judged: "blueprint" (a Blueprint umbrella: every policy) or "generic" (any
    # other chart: Blueprint-only rules are skipped). Set by discovery, overridable per chart.
    profile: str = "generic"

    @property
    def origin(self) -> str:
        return self.files.origin

    @cached_property
    def digest(self) -> str:
        """sha256 over the chart tree, vendored dependencies included."""
        return self.files.digest()

    @property
    def templates(self) -> dict[str, str]:
        """This chart's own templates (not its subcharts'), by path relative to the chart."""
        return {rel: data.decode("utf-8", errors="replace") for rel, data in self.files.under("templates/").items()}

    def all_templates(self, prefix: str = "") -> dict[str, str]:
        """Templates of this chart and every vendored subchart, keyed like Helm's `# Source:` paths."""
        me = prefix + self.name
        found = {f"{me}/{rel}": text for rel, text in self.templates.items()}
        for sub in self.subcharts.values():
            found.update(sub.all_templates(f"{me}/charts/"))
        return found

    def crd_documents(self) -> list[tuple[str, dict]]:
        """CRDs shipped in `crds/` directories (this chart's and its subcharts'), with their file."""
        found: list[tuple[str, dict]] = []
        for rel in sorted(self.files.under("crds/")):
            if rel.endswith((".yaml", ".yml", ".json")):
                for doc in load_text(self.files.text(rel), f"{self.origin}/{rel}", multi=True) or []:
                    if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                        found.append((f"{self.name}/{rel}", doc))
        for sub in self.subcharts.values():
            found.extend((f"{self.name}/charts/{src}", doc) for src, doc in sub.crd_documents())
        return found

    @cached_property
    def cluster_scoped_kinds(self) -> frozenset[str]:
        """Kinds that the CRDs in crds/ directories declare cluster-scoped (parsed once per chart)."""
        return frozenset(k for _, doc in self.crd_documents() for k in [cluster_scoped_kind(doc)] if k)

    @cached_property
    def effective_values(self) -> dict:
        """The chart's default values as Helm computes them: each subchart's defaults under its key,
        overridden by what the umbrella sets there."""
        values = dict(self.values)
        for key, sub in self.subcharts.items():
            values[key] = merge(sub.effective_values, values.get(key) or {})
        return values

    def walk(self) -> Iterable["Chart"]:
        yield self
        for sub in self.subcharts.values():
            yield from sub.walk()


def load_chart(files: ChartFiles, *, path: Path | None = None, packaged: bool = False) -> Chart:
    """Build a Chart from its files, loading vendored subcharts recursively."""
    meta = _mapping(files.yaml("Chart.yaml"), f"{files.origin}/Chart.yaml", "Chart.yaml")
    for key in ("name", "version"):
        if not meta.get(key):
            raise InvalidChart(f"{files.origin}/Chart.yaml: missing required key `{key}`")
    values = _mapping(files.yaml("values.yaml", required=False), f"{files.origin}/values.yaml", "values.yaml")
    deps = []
    for i, raw in enumerate(meta.get("dependencies") or []):
        if not isinstance(raw, dict) or not raw.get("name"):
            raise InvalidChart(f"{files.origin}/Chart.yaml: dependencies[{i}] needs at least a `name`")
        deps.append(Dependency(str(raw["name"]), str(raw.get("version", "")), str(raw.get("repository", "")),
                               str(raw.get("alias", "")), str(raw.get("condition", ""))))
    subcharts = {dep.key: _load_vendored(files, dep, path) for dep in deps}
    return Chart(str(meta["name"]), str(meta["version"]), files, meta, values, deps, subcharts,
                 path=path, packaged=packaged)


def _load_vendored(parent: ChartFiles, dep: Dependency, parent_path: Path | None) -> Chart:
    """Find `dep` in the parent's charts/ directory, as an unpacked directory or a .tgz."""
    unpacked = {rel.split("/", 2)[1] for rel in parent.under("charts/") if rel.count("/") >= 2}
    for dirname in sorted(unpacked):
        sub_files = ChartFiles(f"{parent.origin}/charts/{dirname}",
                               {rel.split("/", 2)[2]: data for rel, data in parent.under(f"charts/{dirname}/").items()})
        if "Chart.yaml" in sub_files.files:
            sub_meta = sub_files.yaml("Chart.yaml") or {}
            if isinstance(sub_meta, dict) and sub_meta.get("name") == dep.name:
                sub_path = parent_path / "charts" / dirname if parent_path else None
                return load_chart(sub_files, path=sub_path)
    for rel, data in sorted(parent.under("charts/").items()):
        name = rel.split("/", 1)[1]
        if "/" not in name and name.endswith(".tgz") and name.startswith(f"{dep.name}-"):
            return load_chart(ChartFiles.from_tgz(data, f"{parent.origin}/{rel}"), packaged=True)
    raise InvalidChart(
        f"{parent.origin}/Chart.yaml: dependency `{dep.name}` (version {dep.version or 'unpinned'}) is not "
        f"vendored: charts/ has no `{dep.name}` chart directory or `{dep.name}-*.tgz`. "
        f"Run `helm dependency build {parent.origin}` and commit the result."
    )


@dataclass(frozen=True)
class BrokenChart:
    """A chart directory that could not be loaded; reported as an `error` result, never skipped."""

    name: str
    path: Path
    error: ChartgateError


def find_chart_dirs(root: Path) -> list[Path]:
    """Every directory holding a Chart.yaml, not descending into a chart's own charts/ directory."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        if "Chart.yaml" in filenames:
            found.append(Path(dirpath))
            dirnames[:] = [d for d in dirnames if d != "charts"]
    return found


def _find_blueprint(chart_dir: Path) -> Path | None:
    for candidate in (chart_dir / "blueprint.yaml", chart_dir.parent / "blueprint.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_chart_dir(chart_dir: Path) -> Chart:
    chart = load_chart(ChartFiles.from_dir(chart_dir), path=chart_dir)
    from .blueprint import attach_blueprint  # blueprint.yaml: its location, format and typed view
    attach_blueprint(chart, chart_dir)
    return chart


def discover(roots: Iterable[Path]) -> list[Chart | BrokenChart]:
    """Load every chart under `roots`, in a stable order. Broken charts are returned, not dropped."""
    results: list[Chart | BrokenChart] = []
    seen: dict[str, Path] = {}
    for root in roots:
        for chart_dir in find_chart_dirs(Path(root)):
            try:
                chart = load_chart_dir(chart_dir)
            except (InvalidChart, InvalidYaml) as exc:
                results.append(BrokenChart(chart_dir.name, chart_dir, exc))
                continue
            if chart.name in seen:
                results.append(BrokenChart(chart.name, chart_dir, InvalidChart(
                    f"{chart_dir}/Chart.yaml: chart name `{chart.name}` is also used by {seen[chart.name]}; "
                    "chart names must be unique across --chart-root trees")))
                continue
            seen[chart.name] = chart_dir
            results.append(chart)
    return results
