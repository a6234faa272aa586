"""Discover charts under a root and load what policies need: Chart.yaml, values, blueprint.yaml,
vendored dependencies (unpacked or packaged), templates and CRDs. Nothing here runs Helm."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import tarfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from chartgate.core.errors import ChartgateError, InvalidChart
from chartgate.core.helmignore import HELMIGNORE, no_rules, parse_helmignore
from chartgate.parse.manifests import cluster_scoped_kind
from chartgate.discover.profiles import attach_profile
from chartgate.core.values import merge
from chartgate.core.yamlio import decode_utf8, load_text

# Discovery does not look for charts inside build outputs and tool directories. A chart's own files
# are another matter: they are read as Helm loads them (see _read_tree), whatever the names.
_NOT_SEARCHED_FOR_CHARTS = {".git", ".venv", "node_modules", "__pycache__", ".tools", ".hypothesis"}


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read_tree(root: Path) -> dict[str, bytes]:
    """{relative posix path: bytes} of the chart tree as Helm loads it: `.helmignore` (the root's)
    applied as Helm applies it, every other file read whatever its directory is named, links
    followed inside the tree (see from_dir)."""
    real_root = os.path.realpath(root)
    files: dict[str, bytes] = {}

    def refuse(link: str, why: str) -> InvalidChart:
        try:
            target = os.readlink(link)
        except OSError:
            target = "?"
        return InvalidChart(f"{link}: symbolic link to {target} {why}")

    def resolve(full: str) -> os.stat_result:
        """The entry's status, links followed; a link that dangles, loops or leaves the chart is refused.
        One rule for every link, whatever its name and whether or not .helmignore leaves it out: Helm
        resolves every link it meets before it looks at the ignore rules."""
        link = os.path.islink(full)
        try:
            info = os.stat(full)  # follows links
        except OSError as exc:
            if not link:
                raise InvalidChart(f"{full}: cannot read chart file: {exc.strerror or exc}") from None
            if exc.errno == errno.ELOOP:
                raise refuse(full, "is a loop of links; Helm fails on it. Remove the link.") from None
            raise refuse(full, "points at nothing (a dangling link); Helm fails on it too "
                         "(\"error evaluating symlink\"). Remove the link or restore its target.") from None
        real = os.path.realpath(full)
        if link and not _inside(real, real_root):
            raise refuse(full, f"leaves the chart directory {real_root} (it resolves to {real}). Helm "
                         "would copy what it points at into the render (a link to /proc/self/environ "
                         "copies the CI's environment), so chartgate refuses it: put the file itself in "
                         "the chart, or point the link inside the chart.")
        return info

    ignore_file = os.path.join(str(root), HELMIGNORE)
    rules = no_rules()
    if os.path.lexists(ignore_file):
        resolve(ignore_file)
        try:
            with open(ignore_file, "rb") as fh:
                rules = parse_helmignore(fh.read().decode("utf-8", errors="replace"), ignore_file)
        except OSError as exc:
            raise InvalidChart(f"{ignore_file}: cannot read: {exc.strerror or exc}") from None

    def visit(directory: str, prefix: str, ancestors: tuple[str, ...]) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            raise InvalidChart(f"{directory}: cannot read the chart directory: {exc.strerror or exc}") from None
        for name in names:
            full = os.path.join(directory, name)
            info = resolve(full)
            is_dir = stat.S_ISDIR(info.st_mode)
            if rules.ignores(f"{prefix}{name}", is_dir):
                continue
            if is_dir:
                real = os.path.realpath(full)
                if real in ancestors:
                    raise refuse(full, f"loops back to {real}, one of its own parent directories; Helm "
                                 "would follow it 40 levels deep and fail. Remove the link.")
                visit(full, f"{prefix}{name}/", ancestors + (real,))
            elif stat.S_ISREG(info.st_mode):
                try:
                    with open(full, "rb") as fh:
                        files[f"{prefix}{name}"] = fh.read()
                except OSError as exc:
                    raise InvalidChart(f"{full}: cannot read chart file: {exc.strerror or exc}") from None
            else:  # a FIFO would block the read forever; a device or socket is no chart file
                raise InvalidChart(f"{full}: not a regular file or directory (a FIFO, socket or device); "
                                   "a chart holds files only. Remove it.")

    visit(str(root), "", (real_root,))
    return files


@dataclass(frozen=True)
class Dependency:
    """A dependency Chart.yaml declares: its name, version range, repository, `alias` and `condition`."""

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
        """Every file of the chart directory Helm loads (`.helmignore` applied as Helm applies it, no
        directory left out for its name), following symbolic links as Helm does.

        Helm's loader follows links to files and directories and reads what they point at, so a link
        is read the same way here (its content is part of the digest and the render's cache key).
        A link that leaves the chart directory, that dangles, or that loops back to one of its own
        parent directories is refused with an InvalidChart naming the link: Helm would copy whatever
        lies outside (`files/env -> /proc/self/environ`) into the render, fail on a dangling link,
        and follow a loop 40 levels deep.
        """
        return cls(str(root), _read_tree(Path(root)))

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
        source = f"{self.origin}/{rel}"
        return load_text(decode_utf8(self.files[rel], source), source)

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
    # How the chart is judged: a registered profile (chartgate.discover.profiles; "blueprint": a Blueprint
    # umbrella, every policy) or "generic" (any other chart: rules declared for a profile are
    # skipped). Set by discovery, overridable per chart.
    profile: str = "generic"
    # Where `dependencies` are declared: Chart.yaml, or requirements.yaml for an apiVersion v1 chart.
    dependencies_file: str = "Chart.yaml"

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
        """CRDs shipped in `crds/` directories (this chart's and its subcharts'), with their file.
        Parsed once per chart (a real operator's CRDs are megabytes of YAML); treat them as read-only."""
        return list(self._crd_documents)

    @cached_property
    def _crd_documents(self) -> tuple[tuple[str, dict], ...]:
        found: list[tuple[str, dict]] = []
        for rel in sorted(self.files.under("crds/")):
            if rel.endswith((".yaml", ".yml", ".json")):
                for doc in load_text(self.files.text(rel), f"{self.origin}/{rel}", multi=True) or []:
                    if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                        found.append((f"{self.name}/{rel}", doc))
        for sub in self.subcharts.values():
            found.extend((f"{self.name}/charts/{src}", doc) for src, doc in sub.crd_documents())
        return tuple(found)

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


def _load_chart(files: ChartFiles, *, path: Path | None = None, packaged: bool = False) -> Chart:
    """Build a Chart from its files, loading vendored subcharts recursively."""
    meta = _mapping(files.yaml("Chart.yaml"), f"{files.origin}/Chart.yaml", "Chart.yaml")
    for key in ("name", "version"):
        if not meta.get(key):
            raise InvalidChart(f"{files.origin}/Chart.yaml: missing required key `{key}`")
    values = _mapping(files.yaml("values.yaml", required=False), f"{files.origin}/values.yaml", "values.yaml")
    deps_file, raw_deps = "Chart.yaml", meta.get("dependencies")
    if str(meta.get("apiVersion", "")) == "v1" and "requirements.yaml" in files.files:
        # apiVersion v1 charts (Helm 2's format, still rendered by Helm 3 and 4) list their
        # dependencies in requirements.yaml, and Helm reads them from there.
        deps_file = "requirements.yaml"
        raw_deps = _mapping(files.yaml(deps_file), f"{files.origin}/{deps_file}", deps_file).get("dependencies")
    if raw_deps is not None and not isinstance(raw_deps, list):
        raise InvalidChart(f"{files.origin}/{deps_file}: `dependencies` must be a list, got {type(raw_deps).__name__}")
    deps = []
    for i, raw in enumerate(raw_deps or []):
        if not isinstance(raw, dict) or not raw.get("name"):
            raise InvalidChart(f"{files.origin}/{deps_file}: dependencies[{i}] needs at least a `name`")
        deps.append(Dependency(str(raw["name"]), str(raw.get("version", "")), str(raw.get("repository", "")),
                               str(raw.get("alias", "")), str(raw.get("condition", ""))))
    subcharts = {dep.key: _load_vendored(files, dep, path, deps_file) for dep in deps}
    return Chart(str(meta["name"]), str(meta["version"]), files, meta, values, deps, subcharts,
                 path=path, packaged=packaged, dependencies_file=deps_file)


def _load_vendored(parent: ChartFiles, dep: Dependency, parent_path: Path | None,
                   deps_file: str = "Chart.yaml") -> Chart:
    """Find `dep` in the parent's charts/ directory, as an unpacked directory or a .tgz."""
    unpacked = {rel.split("/", 2)[1] for rel in parent.under("charts/") if rel.count("/") >= 2}
    for dirname in sorted(unpacked):
        sub_files = ChartFiles(f"{parent.origin}/charts/{dirname}",
                               {rel.split("/", 2)[2]: data for rel, data in parent.under(f"charts/{dirname}/").items()})
        if "Chart.yaml" in sub_files.files:
            sub_meta = sub_files.yaml("Chart.yaml") or {}
            if isinstance(sub_meta, dict) and sub_meta.get("name") == dep.name:
                sub_path = parent_path / "charts" / dirname if parent_path else None
                return _load_chart(sub_files, path=sub_path)
    for rel, data in sorted(parent.under("charts/").items()):
        name = rel.split("/", 1)[1]
        if "/" not in name and name.endswith(".tgz") and name.startswith(f"{dep.name}-"):
            return _load_chart(ChartFiles.from_tgz(data, f"{parent.origin}/{rel}"), packaged=True)
    raise InvalidChart(
        f"{parent.origin}/{deps_file}: dependency `{dep.name}` (version {dep.version or 'unpinned'}) is not "
        f"vendored: charts/ has no `{dep.name}` chart directory or `{dep.name}-*.tgz`. "
        f"Run `helm dependency build {parent.origin}` and commit the result."
    )


@dataclass(frozen=True)
class BrokenChart:
    """A chart directory that could not be loaded; reported as an `error` result, never skipped."""

    name: str
    path: Path
    error: ChartgateError


def _find_chart_dirs(root: Path) -> list[Path]:
    """Every directory holding a Chart.yaml, not descending into a chart's own charts/ directory.

    Symbolically linked directories are followed (a chart linked into the tree is found, as
    `helm template <link>` would render it); a directory already seen under another path (a link
    loop, or two links to one chart) is visited once.
    """
    found: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if d not in _NOT_SEARCHED_FOR_CHARTS)
        if "Chart.yaml" in filenames:
            found.append(Path(dirpath))
            dirnames[:] = [d for d in dirnames if d != "charts"]
    return found


def _load_chart_dir(chart_dir: Path) -> Chart:
    chart = _load_chart(ChartFiles.from_dir(chart_dir), path=chart_dir)
    attach_profile(chart, chart_dir)  # a registered profile's own files (blueprint.yaml ...), or generic
    return chart


def discover(roots: Iterable[Path]) -> list[Chart | BrokenChart]:
    """Load every chart under `roots`, in a stable order. Broken charts are returned, not dropped."""
    results: list[Chart | BrokenChart] = []
    seen: dict[str, Path] = {}
    for root in roots:
        for chart_dir in _find_chart_dirs(Path(root)):
            try:
                chart = _load_chart_dir(chart_dir)
            except ChartgateError as exc:
                results.append(BrokenChart(chart_dir.name, chart_dir, exc))
                continue
            except OSError as exc:  # e.g. a blueprint.yaml that cannot be read
                results.append(BrokenChart(chart_dir.name, chart_dir, InvalidChart(
                    f"{exc.filename or chart_dir}: cannot read: {exc.strerror or exc}")))
                continue
            if chart.name in seen:
                results.append(BrokenChart(chart.name, chart_dir, InvalidChart(
                    f"{chart_dir}/Chart.yaml: chart name `{chart.name}` is also used by {seen[chart.name]}; "
                    "chart names must be unique across --chart-root trees")))
                continue
            seen[chart.name] = chart_dir
            results.append(chart)
    return results
