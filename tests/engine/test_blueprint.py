"""blueprint.yaml as the platform monorepo writes it: typed and read-only, `spec.depends` mappings
(and the older plain names), `spec.manifests`, the Blueprint folder layout, and wrong shapes that
name the file, the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartgate.discover.blueprint import (
    Blueprint, _BlueprintDependency, attach_blueprint, blueprint_of, _config_properties, _find_blueprint,
    jsonpath, _parse_blueprint, _read_blueprint_file, upstream_statements)
from chartgate.discover.charts import BrokenChart, discover, _load_chart_dir
from chartgate.core.errors import InvalidChart

from ..conftest import CHARTS

CHART_YAML = "apiVersion: v2\nname: bp-demo\nversion: 1.2.0\n"

REAL = """\
apiVersion: catalyst.openova.io/v1alpha1
kind: Blueprint
metadata:
  name: bp-demo
  labels:
    catalyst.openova.io/category: data
  version: 1.2.0
spec:
  version: 1.2.0
  card:
    title: Demo
    summary: A demo Blueprint.
    icon: demo.svg
    category: data
    tags: [demo]
  visibility: listed
  owner: platform-data
  configSchema:
    type: object
    properties:
      replicas: {type: integer, minimum: 1, default: 1, x-catalyst-ui-hint: slider}
  placementSchema:
    modes: [single-region, multi-region]
    default: single-region
    minRegions: 1
    maxRegions: 3
  depends:
    - blueprint: bp-cert-manager
      version: "^1"
    - blueprint: bp-postgres
      version: "^2"
      alias: db
      when: "{{ .Values.persistence.enabled }}"
      values:
        databases: [demo]
  manifests:
    chart: ./chart
  upgrades:
    from: ["1.1.0"]
    blocks: []
  rotation: {secrets: 90d}
  observability: {dashboards: [demo]}
  somethingNew: {the: future}
"""


def write_folder(root: Path, blueprint: str = REAL, chart_dir: str = "chart") -> Path:
    """The platform layout: <root>/blueprint.yaml beside <root>/<chart_dir>/."""
    (root / chart_dir).mkdir(parents=True, exist_ok=True)
    (root / chart_dir / "Chart.yaml").write_text(CHART_YAML)
    (root / "blueprint.yaml").write_text(blueprint)
    return root / chart_dir


def test_the_real_format_is_read_into_typed_fields(tmp_path):
    write_folder(tmp_path)
    raw, bp = _read_blueprint_file(tmp_path / "blueprint.yaml")
    assert raw["spec"]["somethingNew"] == {"the": "future"}  # unknown keys are kept, never an error
    assert (bp.api_version, bp.kind, bp.name, bp.version, bp.metadata_version) == (
        "catalyst.openova.io/v1alpha1", "Blueprint", "bp-demo", "1.2.0", "1.2.0")
    assert bp.labels == {"catalyst.openova.io/category": "data"}
    assert bp.card["title"] == "Demo" and bp.visibility == "listed" and bp.owner == "platform-data"
    assert bp.config_schema["properties"]["replicas"]["x-catalyst-ui-hint"] == "slider"
    assert bp.placement_schema["maxRegions"] == 3
    assert bp.depends == (
        _BlueprintDependency("bp-cert-manager", "^1", line=28),
        _BlueprintDependency("bp-postgres", "^2", alias="db", when="{{ .Values.persistence.enabled }}",
                            values={"databases": ("demo",)}, line=30))
    assert bp.depends_names == ("bp-cert-manager", "bp-postgres")
    assert [d.key for d in bp.depends] == ["bp-cert-manager", "db"]
    assert bp.manifests.chart == "./chart" and bp.chart_dir() == (tmp_path / "chart").resolve()
    assert bp.upgrades["from"] == ("1.1.0",) and bp.rotation == {"secrets": "90d"}
    assert bp.observability["dashboards"] == ("demo",)
    assert bp.upstream is None  # the real format has no spec.upstream
    assert bp.line_of("spec", "version") == 9 and bp.line_of("spec", "depends", 1, "alias") == 32


def test_a_blueprint_is_read_only():
    bp = _parse_blueprint({"metadata": {"name": "bp-x"}, "spec": {"depends": [{"blueprint": "bp-y"}],
                                                                  "card": {"tags": ["a"]}}}, "bp.yaml")
    with pytest.raises(TypeError):
        bp.raw["spec"]["card"]["title"] = "changed"  # type: ignore[index]
    with pytest.raises(AttributeError):
        bp.card["tags"].append("b")  # tuples have no append
    with pytest.raises(Exception):
        bp.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("depends, names", [
    (["bp-cilium", "bp-cert-manager"], ("bp-cilium", "bp-cert-manager")),  # the older plain-name form
    ([{"blueprint": "bp-cilium"}, "bp-cert-manager"], ("bp-cilium", "bp-cert-manager")),  # mixed
    ([{"name": "bp-cilium"}], ("bp-cilium",)),  # an early fixture spelling
    ([{"blueprint": "bp-postgres", "alias": "a"}, {"blueprint": "bp-postgres", "alias": "b"}],
     ("bp-postgres", "bp-postgres")),  # one Blueprint twice, told apart by alias
    (None, ()),
    ([], ()),
])
def test_depends_accepts_mappings_and_plain_names(depends, names):
    assert _parse_blueprint({"spec": {"depends": depends}}, "bp.yaml").depends_names == names


@pytest.mark.parametrize("text, where, says", [
    ("kind: Blueprint\nspec:\n  depends: bp-cilium\n", ":3", "`spec.depends` must be a list"),
    ("kind: Blueprint\nspec:\n  depends:\n    - version: '^1'\n", ":4", "`spec.depends[0]` needs `blueprint: <name>`"),
    ("kind: Blueprint\nspec:\n  depends:\n    - [bp-cilium]\n", ":4", "`spec.depends[0]` must be a mapping"),
    ("kind: Blueprint\nspec:\n  depends:\n    - bp-a\n    - blueprint: bp-a\n", ":5", "repeats `bp-a`"),
    ("kind: Blueprint\nspec:\n  depends:\n    - {blueprint: bp-a, values: [1]}\n", ":4",
     "`spec.depends[0].values` must be a mapping"),
    ("kind: Blueprint\nspec:\n  version: [1]\n", ":3", "`spec.version` must be a string"),
    ("kind: Blueprint\nmetadata:\n  name: 7\n", ":3", "`metadata.name` must be a string"),
    ("kind: Blueprint\nspec: [1, 2]\n", ":2", "`spec` must be a mapping"),
    ("kind: Blueprint\nspec:\n  manifests:\n    chart: {dir: x}\n", ":4",
     "`spec.manifests.chart` must be the chart dir"),
    ("kind: Blueprint\nspec:\n  configSchema: [a]\n", ":3", "`spec.configSchema` must be a mapping"),
    ("kind: Blueprint\nspec:\n  owner: [a]\n", ":3", "`spec.owner` must be a name or a mapping"),
    ("kind: HelmRelease\n", ":1", "`kind` is 'HelmRelease'"),
    ("- kind: Blueprint\n", "", "must be a YAML mapping"),
])
def test_wrong_shapes_name_the_file_the_key_and_the_line(tmp_path, text, where, says):
    path = tmp_path / "blueprint.yaml"
    path.write_text(text)
    with pytest.raises(InvalidChart) as caught:
        _read_blueprint_file(path)
    message = str(caught.value)
    assert f"{path}{where}:" in message and says in message, message


def test_versions_yaml_reads_as_numbers_are_accepted_as_text():
    bp = _parse_blueprint({"spec": {"version": 1.2, "depends": [{"blueprint": "bp-a", "version": 1}]}}, "bp.yaml")
    assert bp.version == "1.2" and bp.depends[0].version == "1"


def test_non_utf8_blueprint_is_an_invalid_chart_naming_the_line(tmp_path):
    path = tmp_path / "blueprint.yaml"
    path.write_bytes(b"kind: Blueprint\nmetadata:\n  name: bp-\xff\n")
    with pytest.raises(InvalidChart, match=rf"{path}:3: blueprint.yaml is not UTF-8"):
        _read_blueprint_file(path)


def test_a_broken_blueprint_makes_a_broken_chart_not_a_crash(tmp_path):
    write_folder(tmp_path, "kind: Blueprint\nspec:\n  depends: {bp-cilium: true}\n")
    [broken] = discover([tmp_path])
    assert isinstance(broken, BrokenChart) and "`spec.depends` must be a list" in str(broken.error)


def test_manifests_source_form():
    bp = _parse_blueprint({"spec": {"manifests": {"source": {"kind": "HelmChart", "ref": "oci://r.test/c:1.0"},
                                                 "overlays": {"small": {"replicas": 1}}}}}, "bp.yaml")
    assert bp.manifests.chart is None and bp.chart_dir() is None
    assert (bp.manifests.source.kind, bp.manifests.source.ref) == ("HelmChart", "oci://r.test/c:1.0")
    assert bp.manifests.overlays["small"]["replicas"] == 1


def test_folder_layout_is_discovered_with_its_blueprint(tmp_path):
    chart_dir = write_folder(tmp_path / "platform" / "bp-demo")
    [chart] = discover([tmp_path / "platform"])
    assert chart.path == chart_dir and chart.profile == "blueprint"
    assert chart.blueprint_path == tmp_path / "platform" / "bp-demo" / "blueprint.yaml"
    assert chart.blueprint["metadata"]["name"] == "bp-demo"  # the raw mapping, for existing readers
    assert blueprint_of(chart).depends_names == ("bp-cert-manager", "bp-postgres")
    assert blueprint_of(chart) is blueprint_of(chart)  # parsed once, when the chart was loaded


def test_a_parent_blueprint_that_names_another_chart_directory_is_not_this_charts(tmp_path):
    folder = tmp_path / "bp-demo"
    write_folder(folder)  # manifests.chart: ./chart
    (folder / "examples").mkdir()
    (folder / "examples" / "Chart.yaml").write_text("apiVersion: v2\nname: example\nversion: 0.1.0\n")
    assert _find_blueprint(folder / "chart") == folder / "blueprint.yaml"
    assert _find_blueprint(folder / "examples") is None
    # Without spec.manifests.chart (or when it names no chart) the file beside the chart is read.
    (folder / "blueprint.yaml").write_text("kind: Blueprint\nmetadata: {name: bp-demo}\n")
    assert _find_blueprint(folder / "examples") == folder / "blueprint.yaml"


def test_a_blueprint_inside_the_chart_directory_wins(tmp_path):
    chart_dir = write_folder(tmp_path)
    (chart_dir / "blueprint.yaml").write_text("kind: Blueprint\nmetadata: {name: inner}\n")
    chart = _load_chart_dir(chart_dir)
    assert blueprint_of(chart).name == "inner"


def test_blueprint_of_reads_a_hand_set_mapping_and_none_without_one(tmp_path):
    chart = _load_chart_dir(write_folder(tmp_path, "kind: Blueprint\n"))
    chart.blueprint = {"spec": {"depends": [{"blueprint": "bp-x", "alias": "x"}]}}
    assert blueprint_of(chart).depends[0].key == "x"
    chart.blueprint = None
    assert blueprint_of(chart) is None


def test_attach_leaves_a_chart_without_blueprint_generic(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "Chart.yaml").write_text("apiVersion: v2\nname: plain\nversion: 0.1.0\n")
    chart = _load_chart_dir(tmp_path / "plain")
    attach_blueprint(chart, tmp_path / "plain")
    assert chart.blueprint is None and chart.profile == "generic" and blueprint_of(chart) is None


def test_every_fixture_blueprint_parses():
    for chart in discover([CHARTS]):
        assert not isinstance(chart, BrokenChart), chart
        assert isinstance(blueprint_of(chart), Blueprint), chart.name


@pytest.mark.parametrize("values, expected", [
    ({}, []),
    ({"catalystBlueprint": {"upstream": {"chart": "up", "version": "1.0.0", "repo": "oci://r.test/c"}}},
     [("$.catalystBlueprint.upstream", ("up", "1.0.0", "oci://r.test/c"))]),
    ({"catalystBlueprint": {"upstream": {"chart": "up", "version": 1.5, "repository": "https://r.test"}}},
     [("$.catalystBlueprint.upstream", ("up", "1.5", "https://r.test"))]),
    ({"catalystBlueprint": {"upstream": [{"chart": "a", "version": "1.0.0"}, {"chart": "b", "version": "2.0.0"}]}},
     [("$.catalystBlueprint.upstream[0]", ("a", "1.0.0", "")),
      ("$.catalystBlueprint.upstream[1]", ("b", "2.0.0", ""))]),
])
def test_values_upstream_statements(values, expected):
    found = [(path, (u.chart, u.version, u.repo)) for path, u in upstream_statements(values)]
    assert found == expected


def test_values_upstream_of_the_wrong_shape_is_named():
    with pytest.raises(InvalidChart, match="`catalystBlueprint.upstream` must be a mapping"):
        upstream_statements({"catalystBlueprint": {"upstream": "kserve@v0.16.0"}}, "bp-x/values.yaml")


def test_config_schema_paths_map_onto_values_paths():
    schema = {"properties": {
        "gatewayClass": {"type": "object", "properties": {"create": {"type": "boolean"}}},  # under the overlay
        "stunnerOverlay": {"type": "object", "properties": {"hpa": {"type": "object"}}},  # already a values path
        "udp": {"type": "object", "x-values-path": "stunnerOverlay.udpPortRange",  # explicit
                "properties": {"start": {"type": "integer"}}},
        "unknown": {"type": "string"},  # maps nowhere
    }}
    values = {"stunnerOverlay": {"gatewayClass": {"create": True}, "hpa": {}, "udpPortRange": {}}}
    found = {".".join(schema_path): mapped and ".".join(mapped)
             for schema_path, mapped, _ in _config_properties(schema, values, "stunnerOverlay")}
    assert found == {
        "gatewayClass": "stunnerOverlay.gatewayClass", "gatewayClass.create": "stunnerOverlay.gatewayClass.create",
        "stunnerOverlay": "stunnerOverlay", "stunnerOverlay.hpa": "stunnerOverlay.hpa",
        "udp": "stunnerOverlay.udpPortRange", "udp.start": "stunnerOverlay.udpPortRange.start",
        "unknown": None}


def test_jsonpath_spelling():
    assert jsonpath(("spec", "depends", 0, "version")) == "$.spec.depends[0].version"
    assert jsonpath(()) == "$"
