"""blueprint.yaml (catalyst.openova.io/v1alpha1, kind Blueprint) as a typed, read-only object.

The platform monorepo keeps each Blueprint as a folder:

    platform/<name>/blueprint.yaml      the Blueprint resource (this module)
    platform/<name>/chart/              the umbrella chart; `spec.manifests.chart: ./chart` names it

A blueprint.yaml inside the chart directory itself (the simpler fixture layout) is read too.

What is read, and how strictly:
- `metadata.name`, `metadata.labels`, `metadata.version`; `spec.version`, `spec.card`,
  `spec.visibility`, `spec.owner`, `spec.configSchema`, `spec.placementSchema`, `spec.depends`,
  `spec.manifests`, `spec.upgrades`, `spec.rotation`, `spec.observability`, and `spec.upstream`
  where a Blueprint carries one (the real format does not require it).
- `spec.depends` is a list of `{blueprint, version, alias, when, values}` mappings. A plain name
  (`- bp-cilium`) is read as `{blueprint: bp-cilium}`: the older fixture form, accepted because
  nothing conflicts with it.
- Unknown keys are kept in `raw` and never an error; a known key of the wrong shape is an
  InvalidChart naming the file, the key and (when the text is at hand) its line.

Nothing here decides whether a chart passes a policy: policies read the object and judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import yaml

from chartgate.core.errors import InvalidChart, InvalidYaml
from chartgate.core.yamlio import load_text, loader_for

if TYPE_CHECKING:
    from chartgate.discover.charts import Chart

_KIND = "Blueprint"
_FILE_NAME = "blueprint.yaml"

_Key = tuple  # a path of mapping keys and list indexes, e.g. ("spec", "depends", 0, "blueprint")


def _freeze(value: Any) -> Any:
    """A read-only deep copy: mappings become MappingProxyType, lists become tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """Plain dicts and lists again (for code that wants to modify a copy)."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def jsonpath(key: _Key) -> str:
    """`("spec", "depends", 0, "version")` as `$.spec.depends[0].version`."""
    text = "$"
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


@dataclass(frozen=True)
class _BlueprintDependency:
    """One `spec.depends` entry: a Blueprint the catalog installs before this one."""

    blueprint: str
    version: str = ""  # a constraint such as "^1"; empty when not stated
    alias: str = ""
    when: str = ""  # condition under which the dependency is installed; empty = always
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    line: int | None = None

    @property
    def key(self) -> str:
        """How the Blueprint refers to this dependency (its alias, else the Blueprint name)."""
        return self.alias or self.blueprint


@dataclass(frozen=True)
class _ManifestSource:
    """`spec.manifests.source`: an upstream chart pulled by reference instead of a local chart/."""

    kind: str = ""
    ref: str = ""


@dataclass(frozen=True)
class _Manifests:
    """`spec.manifests`: `{chart: ./chart}` or `{source: {kind, ref}, overlays: {...}}`."""

    chart: str | None = None
    source: _ManifestSource | None = None
    overlays: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Upstream:
    """A statement of the wrapped upstream chart: values.yaml `catalystBlueprint.upstream`
    (`chart`, `version`, `repo`) or, where a Blueprint carries one, blueprint.yaml `spec.upstream`.
    `repository` is read as a synonym of `repo`."""

    chart: str = ""
    version: str = ""
    repo: str = ""


@dataclass(frozen=True)
class Blueprint:
    """A parsed blueprint.yaml. Every mapping is read-only; `raw` is the whole document."""

    source: str  # where it came from, for messages (a path, or "<name>/blueprint.yaml")
    raw: Mapping[str, Any]
    api_version: str = ""
    kind: str = ""
    name: str = ""  # metadata.name
    labels: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    metadata_version: str = ""  # metadata.version (some Blueprints carry it)
    version: str = ""  # spec.version: the Blueprint version (= Chart.yaml version)
    card: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    visibility: str = ""
    owner: Any = None  # a name, or a mapping (team, contact ...)
    config_schema: Mapping[str, Any] | None = None
    placement_schema: Mapping[str, Any] | None = None
    depends: tuple[_BlueprintDependency, ...] = ()
    manifests: _Manifests | None = None
    upgrades: Mapping[str, Any] | None = None
    rotation: Any = None
    observability: Any = None
    upstream: Upstream | None = None  # spec.upstream, only where the Blueprint has one
    path: Path | None = None
    lines: Mapping[_Key, int] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)

    @property
    def depends_names(self) -> tuple[str, ...]:
        """The Blueprints named in spec.depends (aliases resolved to their Blueprint)."""
        return tuple(d.blueprint for d in self.depends)

    def line_of(self, *key: Any) -> int | None:
        """1-based line of a key in the file (the nearest enclosing key that is known)."""
        key = tuple(key)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def chart_dir(self) -> Path | None:
        """The chart directory `spec.manifests.chart` names, resolved against blueprint.yaml's folder."""
        if self.path is None or self.manifests is None or not self.manifests.chart:
            return None
        return (self.path.parent / self.manifests.chart).resolve()


# -- parsing -------------------------------------------------------------------------------------


class _Reader:
    """Shape checks with messages that name the file, the key and its line."""

    def __init__(self, source: str, lines: Mapping[_Key, int]):
        self.source = source
        self.lines = lines

    def where(self, key: _Key) -> str:
        probe = tuple(key)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe) if probe else None
        return f"{self.source}:{line}" if line else self.source

    def error(self, key: _Key, problem: str) -> InvalidChart:
        dotted = jsonpath(key).removeprefix("$.")
        return InvalidChart(f"{self.where(key)}: `{dotted}` {problem}. Fix blueprint.yaml (see the Blueprint "
                            "format in docs/policies.md#umb).")

    def mapping(self, data: Any, key: _Key, *, optional: bool = True) -> dict | None:
        if data is None and optional:
            return None
        if not isinstance(data, dict):
            raise self.error(key, f"must be a mapping, got {_type_name(data)}")
        return data

    def text(self, data: Any, key: _Key, *, scalar_ok: bool = False) -> str:
        """A string (numbers accepted where YAML may have read a version as one)."""
        if data is None:
            return ""
        if isinstance(data, str):
            return data
        if scalar_ok and isinstance(data, (int, float)) and not isinstance(data, bool):
            return str(data)
        raise self.error(key, f"must be a string, got {_type_name(data)} {data!r}"
                         + (" (quote versions: \"1.0\")" if scalar_ok else ""))


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number", float: "a number",
            type(None): "nothing"}.get(type(value), type(value).__name__)


def _parse_blueprint(data: Any, source: str, *, path: Path | None = None,
                    lines: Mapping[_Key, int] | None = None) -> Blueprint:
    """Build a Blueprint from a loaded document; raises InvalidChart for wrong shapes."""
    read = _Reader(source, lines or {})
    doc = read.mapping(data, (), optional=False) if data is not None else {}
    kind = read.text(doc.get("kind"), ("kind",))
    if kind and kind != _KIND:
        raise read.error(("kind",), f"is {kind!r}; a blueprint.yaml holds one `kind: {_KIND}` resource")
    api_version = read.text(doc.get("apiVersion"), ("apiVersion",))
    meta = read.mapping(doc.get("metadata"), ("metadata",)) or {}
    spec = read.mapping(doc.get("spec"), ("spec",)) or {}
    labels = read.mapping(meta.get("labels"), ("metadata", "labels")) or {}
    for label, value in labels.items():
        if isinstance(value, (dict, list)):
            raise read.error(("metadata", "labels", label), "must be a scalar label value")
    visibility = read.text(spec.get("visibility"), ("spec", "visibility"))
    owner = spec.get("owner")
    if owner is not None and not isinstance(owner, (str, dict)):
        raise read.error(("spec", "owner"), f"must be a name or a mapping, got {_type_name(owner)}")
    config_schema = read.mapping(spec.get("configSchema"), ("spec", "configSchema"))
    placement = read.mapping(spec.get("placementSchema"), ("spec", "placementSchema"))
    card = read.mapping(spec.get("card"), ("spec", "card")) or {}
    upgrades = read.mapping(spec.get("upgrades"), ("spec", "upgrades"))
    return Blueprint(
        source=source,
        raw=_freeze(doc),
        api_version=api_version,
        kind=kind,
        name=read.text(meta.get("name"), ("metadata", "name")),
        labels=_freeze(labels),
        metadata_version=read.text(meta.get("version"), ("metadata", "version"), scalar_ok=True),
        version=read.text(spec.get("version"), ("spec", "version"), scalar_ok=True),
        card=_freeze(card),
        visibility=visibility,
        owner=_freeze(owner),
        config_schema=_freeze(config_schema) if config_schema is not None else None,
        placement_schema=_freeze(placement) if placement is not None else None,
        depends=_depends(read, spec.get("depends")),
        manifests=_manifests(read, spec.get("manifests")),
        upgrades=_freeze(upgrades) if upgrades is not None else None,
        rotation=_freeze(spec.get("rotation")),
        observability=_freeze(spec.get("observability")),
        upstream=_upstream(read, spec.get("upstream"), ("spec", "upstream")) if "upstream" in spec else None,
        path=path,
        lines=MappingProxyType(dict(lines or {})),
    )


def _depends(read: _Reader, data: Any) -> tuple[_BlueprintDependency, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise read.error(("spec", "depends"), f"must be a list of {{blueprint, version, alias, when, values}} "
                         f"mappings, got {_type_name(data)}")
    found: list[_BlueprintDependency] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(data):
        key = ("spec", "depends", i)
        if isinstance(entry, str) and entry.strip():
            dep = _BlueprintDependency(entry.strip(), line=read.lines.get(key))  # the older plain-name form
        elif isinstance(entry, dict):
            name = entry.get("blueprint")
            if name is None and "name" in entry:  # an early fixture spelling; nothing conflicts with it
                name = entry["name"]
            if not isinstance(name, str) or not name.strip():
                raise read.error(key, "needs `blueprint: <name>` (the Blueprint to install first)")
            values = read.mapping(entry.get("values"), key + ("values",)) or {}
            when = entry.get("when")
            dep = _BlueprintDependency(
                name.strip(),
                version=read.text(entry.get("version"), key + ("version",), scalar_ok=True),
                alias=read.text(entry.get("alias"), key + ("alias",)),
                when=str(when).lower() if isinstance(when, bool) else read.text(when, key + ("when",)),
                values=_freeze(values), line=read.lines.get(key))
        else:
            raise read.error(key, f"must be a mapping such as {{blueprint: bp-cert-manager, version: \"^1\"}}, "
                             f"got {_type_name(entry)}")
        if dep.key in seen:
            raise read.error(key, f"repeats `{dep.key}` (also spec.depends[{seen[dep.key]}]); give one of them "
                             "an `alias`")
        seen[dep.key] = i
        found.append(dep)
    return tuple(found)


def _manifests(read: _Reader, data: Any) -> _Manifests | None:
    key = ("spec", "manifests")
    manifests = read.mapping(data, key)
    if manifests is None:
        return None
    chart = manifests.get("chart")
    if chart is not None and (not isinstance(chart, str) or not chart.strip()):
        raise read.error(key + ("chart",), "must be the chart directory relative to blueprint.yaml (e.g. ./chart)")
    source = None
    if manifests.get("source") is not None:
        raw = read.mapping(manifests["source"], key + ("source",))
        source = _ManifestSource(read.text(raw.get("kind"), key + ("source", "kind")),
                                read.text(raw.get("ref"), key + ("source", "ref")))
    overlays = read.mapping(manifests.get("overlays"), key + ("overlays",)) or {}
    return _Manifests(chart.strip() if isinstance(chart, str) else None, source, _freeze(overlays))


def _upstream(read: _Reader, data: Any, key: _Key) -> Upstream | None:
    upstream = read.mapping(data, key)
    if upstream is None:
        return None
    repo = upstream.get("repo", upstream.get("repository"))
    repo_key = key + ("repo" if "repo" in upstream else "repository",)
    return Upstream(read.text(upstream.get("chart"), key + ("chart",)),
                    read.text(upstream.get("version"), key + ("version",), scalar_ok=True),
                    read.text(repo, repo_key))


def upstream_statements(values: Any, source: str = "values.yaml") -> list[tuple[str, Upstream]]:
    """values.yaml `catalystBlueprint.upstream` as (JSONPath, Upstream) pairs: one mapping, or a list
    of them for a chart that wraps several upstream charts. Wrong shapes raise InvalidChart."""
    read = _Reader(source, {})
    block = values.get("catalystBlueprint") if isinstance(values, dict) else None
    if not isinstance(block, dict) or block.get("upstream") is None:
        return []
    data = block["upstream"]
    if isinstance(data, list):
        return [(f"$.catalystBlueprint.upstream[{i}]", _upstream(read, entry, ("catalystBlueprint", "upstream", i)))
                for i, entry in enumerate(data)]
    return [("$.catalystBlueprint.upstream", _upstream(read, data, ("catalystBlueprint", "upstream")))]


def _line_index(text: str) -> dict[_Key, int]:
    """1-based line of every mapping key and list item of a YAML document."""
    try:
        node = yaml.compose(text, Loader=loader_for(text))
    except yaml.YAMLError:
        return {}
    lines: dict[_Key, int] = {}

    def walk(node: Any, key: _Key) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    child = key + (k.value,)
                    lines.setdefault(child, k.start_mark.line + 1)
                    walk(v, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines.setdefault(key + (i,), item.start_mark.line + 1)
                walk(item, key + (i,))

    if node is not None:
        walk(node, ())
    return lines


def _read_blueprint_file(path: Path) -> tuple[dict, Blueprint]:
    """(raw dict, typed Blueprint) of a blueprint.yaml on disk; every problem names the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise InvalidChart(f"{path}:{line}: blueprint.yaml is not UTF-8 text (byte {exc.start}); "
                           "save it as UTF-8") from None
    except OSError as exc:
        raise InvalidChart(f"{path}: cannot read blueprint.yaml: {exc.strerror}") from None
    data = load_text(text, str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidChart(f"{path}: blueprint.yaml must be a YAML mapping (one Blueprint resource), "
                           f"got {_type_name(data)}")
    return data, _parse_blueprint(data, str(path), path=path, lines=_line_index(text))


# -- where a chart's blueprint.yaml is -----------------------------------------------------------


def _find_blueprint(chart_dir: Path) -> Path | None:
    """The blueprint.yaml of the chart in `chart_dir`: in the directory itself, or in its parent
    (the Blueprint folder, `platform/<name>/blueprint.yaml` beside `platform/<name>/chart/`). A
    parent blueprint.yaml whose `spec.manifests.chart` names another existing directory belongs to
    that chart, not this one."""
    own = chart_dir / _FILE_NAME
    if own.is_file():
        return own
    beside = chart_dir.parent / _FILE_NAME
    if not beside.is_file():
        return None
    named = _manifests_chart(beside)
    if named is not None:
        target = (beside.parent / named).resolve()
        if target != chart_dir.resolve() and (target / "Chart.yaml").is_file():
            return None
    return beside


def _manifests_chart(path: Path) -> str | None:
    """`spec.manifests.chart` of a blueprint.yaml, read leniently (errors surface when it is loaded)."""
    try:
        data = load_text(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, InvalidYaml):
        return None
    spec = data.get("spec") if isinstance(data, dict) else None
    manifests = spec.get("manifests") if isinstance(spec, dict) else None
    chart = manifests.get("chart") if isinstance(manifests, dict) else None
    return chart if isinstance(chart, str) and chart.strip() else None


_STASH = "_chartgate_blueprint"


def attach_blueprint(chart: "Chart", chart_dir: Path) -> bool:
    """Give a chart loaded from `chart_dir` its blueprint.yaml (if it has one): the raw mapping in
    `chart.blueprint` (for existing readers), its path, the "blueprint" profile, and the typed
    object that `blueprint_of(chart)` returns. True when it has one (the Blueprint profile's `attach`)."""
    path = _find_blueprint(chart_dir)
    if path is None:
        return False
    raw, typed = _read_blueprint_file(path)
    chart.blueprint = raw
    chart.blueprint_path = path
    chart.profile = "blueprint"
    chart.__dict__[_STASH] = (raw, typed)
    return True


def blueprint_of(chart: Any) -> Blueprint | None:
    """The chart's Blueprint as a typed object, or None for a chart without blueprint.yaml.

    Works for charts whose `blueprint` dict was set by hand (tests, stubs) too: it is parsed then,
    without line numbers. Raises InvalidChart when that dict has a wrong shape."""
    raw = getattr(chart, "blueprint", None)
    if raw is None:
        return None
    stashed = getattr(chart, "__dict__", {}).get(_STASH)
    if stashed is not None and stashed[0] is raw:
        return stashed[1]
    path = getattr(chart, "blueprint_path", None)
    source = str(path) if path else f"{getattr(chart, 'name', 'chart')}/{_FILE_NAME}"
    typed = _parse_blueprint(raw, source, path=path)
    if hasattr(chart, "__dict__"):
        chart.__dict__[_STASH] = (raw, typed)
    return typed


def blueprint_file_label(chart: Any) -> str:
    """How findings name the chart's blueprint.yaml, relative to the chart: `bp-x/blueprint.yaml`
    inside the chart directory, `bp-x/../blueprint.yaml` for the Blueprint folder's file."""
    path, chart_dir, name = getattr(chart, "blueprint_path", None), getattr(chart, "path", None), chart.name
    if path is not None and chart_dir is not None and Path(path).parent != Path(chart_dir):
        return f"{name}/../{_FILE_NAME}"
    return f"{name}/{_FILE_NAME}"


# -- configSchema paths and values paths ---------------------------------------------------------


def _config_properties(schema: Any, values: Any,
                      overlay: str | None = None) -> Iterator[tuple[tuple, tuple | None, Mapping]]:
    """Every (schema path, values path or None, property schema) of a configSchema.

    The schema's paths are the console's configuration, not necessarily the chart's values paths.
    A property's values path is, in order: its `x-values-path` (absolute, dotted; on an object it
    re-roots the children); the same path when values has it; the same path under the overlay key
    (`gatewayClass.create` -> `stunnerOverlay.gatewayClass.create`); else None (unmapped)."""

    def exists(path: tuple) -> bool:
        node = values
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return False
            node = node[part]
        return True

    def resolve(path: tuple, prop: Mapping, parent: tuple | None) -> tuple | None:
        override = prop.get("x-values-path")
        if isinstance(override, str) and override.strip("."):
            return tuple(override.split("."))
        if parent is not None:
            return parent + (path[-1],)
        if exists(path):
            return path
        if overlay and exists((overlay,) + path):
            return (overlay,) + path
        return None

    def walk(node: Any, prefix: tuple, mapped_prefix: tuple | None, anchored: bool) -> Iterator:
        if not isinstance(node, Mapping):
            return
        for key, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, Mapping):
                continue
            path = prefix + (str(key),)
            mapped = resolve(path, prop, mapped_prefix if anchored else None)
            yield path, mapped, prop
            # Once a property maps (explicitly or because values has it), its children follow it.
            yield from walk(prop, path, mapped, mapped is not None)

    yield from walk(schema, (), None, False)
