"""Umbrella shape on in-memory charts (no Helm): pins, vendored copies packaged or unpacked,
Chart.lock, the three-way pin with values.yaml `catalystBlueprint.upstream`, the Blueprint identity,
and the legitimate shapes that must stay quiet (no upstream, composites, library dependencies)."""

from __future__ import annotations

import io
import tarfile
from types import SimpleNamespace

import pytest
import yaml

from chartgate.discover.charts import ChartFiles, discover, _load_chart, _load_chart_dir
from chartgate.check.context import ChartContext
from chartgate.check.loader import load_policy_module
from chartgate.check.definition import NotApplicable

from ..conftest import CHARTS, REPO

umb = load_policy_module(REPO / "policies" / "umbrella.py")


def tgz(root: str, files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def umbrella(pin: str = "1.2.0", vendored: str = "1.2.0", *, extra: dict | None = None,
             blueprint: dict | None = None, values: dict | None = None) -> ChartContext:
    """bp-demo wrapping `up`, vendored as charts/up-<vendored>.tgz."""
    meta = {"apiVersion": "v2", "name": "bp-demo", "version": "1.0.0",
            "dependencies": [{"name": "up", "version": pin, "repository": "oci://example.test/charts"}]}
    files = {
        "Chart.yaml": yaml.safe_dump(meta).encode(),
        "values.yaml": yaml.safe_dump(values or {}).encode(),
        f"charts/up-{vendored}.tgz": tgz("up", {"Chart.yaml": f"apiVersion: v2\nname: up\nversion: {vendored}\n"}),
    }
    files.update({k: v if isinstance(v, bytes) else v.encode() for k, v in (extra or {}).items()})
    chart = _load_chart(ChartFiles("mem/bp-demo", files))
    chart.blueprint = blueprint
    return ChartContext(chart, [], renderer=None, platform=SimpleNamespace())


def messages(policy, ctx) -> list[str]:
    return [f.message for f in policy.check(ctx)]


def test_versions_compare_as_semver_with_optional_v():
    assert umb.same_version("v1.21.1", "1.21.1")
    assert not umb.same_version("1.21.1", "1.21.10")


@pytest.mark.parametrize("pin, exact", [("1.2.0", True), ("v0.16.0", True), ("1.2.0-rc.1", True),
                                        ("^1.2.0", False), ("~1.2", False), (">=1.0.0", False), ("", False),
                                        ("1.2.x", False)])
def test_only_exact_versions_count_as_pins(pin, exact):
    assert bool(umb._EXACT_VERSION.fullmatch(pin)) is exact


def test_packaged_dependency_at_the_pin_passes():
    assert messages(umb.dependencies_vendored_at_pin, umbrella()) == []


def test_packaged_dependency_at_another_version_fails_naming_the_archive():
    found = list(umb.dependencies_vendored_at_pin.check(umbrella(pin="1.2.0", vendored="1.1.0")))
    assert len(found) == 1  # the only copy is not also called "stale"
    assert "pinned at 1.2.0 but the packaged copy charts/up-1.1.0.tgz is version 1.1.0" in found[0].message
    assert [(f.template, f.path) for f in found] == [("bp-demo/Chart.yaml", "$.dependencies[0].version")]


def test_range_pin_and_stale_lock_fail():
    assert "not one exact version" in messages(umb.dependencies_vendored_at_pin, umbrella(pin="^1.2.0"))[0]
    lock = "dependencies:\n- name: up\n  version: 1.1.0\n"
    found = messages(umb.dependencies_vendored_at_pin, umbrella(extra={"Chart.lock": lock}))
    assert found and "Chart.lock resolves `up` to 1.1.0" in found[0]


def test_stale_second_archive_is_reported():
    stale = tgz("up", {"Chart.yaml": "apiVersion: v2\nname: up\nversion: 1.3.0\n"})
    found = messages(umb.dependencies_vendored_at_pin, umbrella(extra={"charts/up-1.3.0.tgz": stale}))
    assert any("charts/up-1.3.0.tgz is a stale copy" in m for m in found)


BLUEPRINT = {"apiVersion": "catalyst.openova.io/v1alpha1", "kind": "Blueprint", "metadata": {"name": "bp-demo"},
             "spec": {"version": "1.0.0", "depends": [{"blueprint": "bp-cert-manager", "version": "^1"}]}}
VALUES = {"catalystBlueprint": {"upstream": {"chart": "up", "version": "1.2.0", "repo": "oci://example.test/charts"}}}


def found(policy, ctx) -> list[tuple[str, str]]:
    return [(f.template, f.path) for f in policy.check(ctx)]


def test_umb_rules_are_blueprint_only_and_point_at_the_docs():
    declared = lambda p: (p.profile, *p.requires)  # noqa: E731 - the profile, then the chart facts it needs
    # Library charts render nothing and wrap nothing: UMB-001 is declared for application charts.
    assert declared(umb.declares_dependencies) == ("blueprint", "application-chart")
    assert declared(umb.identity_matches_blueprint) == ("blueprint", "blueprint-file")  # it reads blueprint.yaml
    for p in (umb.dependencies_vendored_at_pin, umb.upstream_pin_agrees, umb.default_render_has_payload):
        assert declared(p) == ("blueprint", "dependencies")
    from chartgate.check.definition import policies_in
    assert {p.reference for p in policies_in(umb)} == {"docs/policies.md#umb"}


def test_the_real_format_passes_without_spec_upstream():
    ctx = umbrella(blueprint=BLUEPRINT, values=VALUES)
    for policy in (umb.declares_dependencies, umb.upstream_pin_agrees, umb.identity_matches_blueprint):
        assert messages(policy, ctx) == [], policy.id


def test_values_pin_disagreeing_with_chart_yaml_is_named():
    values = {"catalystBlueprint": {"upstream": {"chart": "up", "version": "1.1.0"}}}
    ctx = umbrella(blueprint=BLUEPRINT, values=values)
    assert found(umb.upstream_pin_agrees, ctx) == [("bp-demo/values.yaml", "$.catalystBlueprint.upstream.version")]
    values = {"catalystBlueprint": {"upstream": {"chart": "up", "version": "1.2.0", "repo": "oci://mirror.test/up"}}}
    [finding] = umb.upstream_pin_agrees.check(umbrella(blueprint=BLUEPRINT, values=values))
    assert finding.path == "$.catalystBlueprint.upstream.repo"
    assert "comes from oci://mirror.test/up but Chart.yaml pulls it from oci://example.test/charts" in finding.message


def test_repository_is_read_as_a_synonym_and_trailing_slashes_do_not_matter():
    values = {"catalystBlueprint": {"upstream": {"chart": "up", "version": "v1.2.0",
                                                 "repository": "oci://example.test/charts/"}}}
    assert messages(umb.upstream_pin_agrees, umbrella(blueprint=BLUEPRINT, values=values)) == []


def test_missing_values_statement_is_a_finding_for_an_upstream_umbrella():
    assert found(umb.upstream_pin_agrees, umbrella(blueprint=BLUEPRINT, values={})) == [
        ("bp-demo/values.yaml", "$.catalystBlueprint.upstream")]
    values = {"catalystBlueprint": {"upstream": {"chart": "up"}}}
    [finding] = umb.upstream_pin_agrees.check(umbrella(blueprint=BLUEPRINT, values=values))
    assert "without a `version`" in finding.message


def test_values_naming_another_chart_fails():
    values = {"catalystBlueprint": {"upstream": {"chart": "other", "version": "1.2.0"}}}
    assert messages(umb.upstream_pin_agrees, umbrella(blueprint=BLUEPRINT, values=values)) == [
        "bp-demo/values.yaml names the upstream chart 'other' at $.catalystBlueprint.upstream.chart, but "
        "Chart.yaml declares only up; name the dependency the chart actually wraps."]


def test_a_blueprint_that_does_carry_spec_upstream_is_checked_too():
    blueprint = {**BLUEPRINT, "spec": {**BLUEPRINT["spec"], "upstream": {"chart": "up", "version": "1.3.0"}}}
    assert found(umb.upstream_pin_agrees, umbrella(blueprint=blueprint, values=VALUES)) == [
        ("bp-demo/blueprint.yaml", "$.spec.upstream.version")]


def test_several_upstreams_as_a_list_are_each_checked():
    values = {"catalystBlueprint": {"upstream": [{"chart": "up", "version": "1.2.0"},
                                                 {"chart": "up", "version": "9.9.9"}]}}
    assert found(umb.upstream_pin_agrees, umbrella(blueprint=BLUEPRINT, values=values)) == [
        ("bp-demo/values.yaml", "$.catalystBlueprint.upstream[1].version")]


def composite(*, values: dict | None = None) -> ChartContext:
    """bp-suite: a products/ style umbrella whose dependencies are two Blueprint charts."""
    meta = {"apiVersion": "v2", "name": "bp-suite", "version": "1.0.0", "dependencies": [
        {"name": "bp-a", "version": "1.0.0", "repository": "oci://example.test/bp"},
        {"name": "bp-b", "version": "2.0.0", "repository": "oci://example.test/bp"}]}
    files = {"Chart.yaml": yaml.safe_dump(meta).encode(), "values.yaml": yaml.safe_dump(values or {}).encode()}
    for name, version in (("bp-a", "1.0.0"), ("bp-b", "2.0.0")):
        files[f"charts/{name}-{version}.tgz"] = tgz(name, {"Chart.yaml": f"apiVersion: v2\nname: {name}\n"
                                                                        f"version: {version}\n"})
    chart = _load_chart(ChartFiles("mem/bp-suite", files))
    chart.blueprint = {"metadata": {"name": "bp-suite"}, "spec": {"version": "1.0.0"}}
    return ChartContext(chart, [], renderer=None, platform=SimpleNamespace())


def test_a_composite_of_blueprints_states_no_upstream_and_is_not_reported():
    ctx = composite()
    with pytest.raises(NotApplicable, match="every dependency is a Blueprint or a library chart"):
        list(umb.upstream_pin_agrees.check(ctx))
    assert messages(umb.dependencies_vendored_at_pin, ctx) == []
    assert messages(umb.declares_dependencies, ctx) == []


def test_library_dependencies_are_not_the_upstream():
    meta = {"apiVersion": "v2", "name": "bp-demo", "version": "1.0.0", "dependencies": [
        {"name": "up", "version": "1.2.0", "repository": "oci://example.test/charts"},
        {"name": "common", "version": "2.0.0", "repository": "oci://example.test/charts"}]}
    files = {"Chart.yaml": yaml.safe_dump(meta).encode(), "values.yaml": yaml.safe_dump(VALUES).encode(),
             "charts/up-1.2.0.tgz": tgz("up", {"Chart.yaml": "apiVersion: v2\nname: up\nversion: 1.2.0\n"}),
             "charts/common-2.0.0.tgz": tgz("common", {"Chart.yaml": "apiVersion: v2\nname: common\n"
                                                                     "version: 2.0.0\ntype: library\n"})}
    chart = _load_chart(ChartFiles("mem/bp-demo", files))
    chart.blueprint = BLUEPRINT
    ctx = ChartContext(chart, [], renderer=None, platform=SimpleNamespace())
    assert [d.name for d in umb.upstream_dependencies(ctx)] == ["up"]
    assert messages(umb.upstream_pin_agrees, ctx) == []


def no_dependency(values: dict, blueprint: dict = BLUEPRINT) -> ChartContext:
    meta = {"apiVersion": "v2", "name": "bp-demo", "version": "1.0.0"}
    files = {"Chart.yaml": yaml.safe_dump(meta).encode(), "values.yaml": yaml.safe_dump(values).encode(),
             "templates/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"}
    chart = _load_chart(ChartFiles("mem/bp-demo", files))
    chart.blueprint = blueprint
    return ChartContext(chart, [], renderer=None, platform=SimpleNamespace())


def test_a_blueprint_without_dependency_that_names_no_upstream_wraps_nothing():
    with pytest.raises(NotApplicable, match="the Blueprint wraps no upstream chart"):
        list(umb.declares_dependencies.check(no_dependency({"demoOverlay": {"replicas": 1}})))
    source = {**BLUEPRINT, "spec": {**BLUEPRINT["spec"], "manifests": {"source": {
        "kind": "HelmChart", "ref": "oci://example.test/charts/up:1.2.0"}}}}
    with pytest.raises(NotApplicable, match="installs its upstream by reference"):
        list(umb.declares_dependencies.check(no_dependency({}, source)))


def test_a_chart_that_names_its_upstream_but_declares_none_is_hollow():
    [finding] = umb.declares_dependencies.check(no_dependency(VALUES))
    assert (finding.template, finding.path) == ("bp-demo/values.yaml", "$.catalystBlueprint.upstream")
    assert "names the upstream chart up 1.2.0" in finding.message and "the chart is hollow" in finding.message


def test_chart_identity_must_match_blueprint():
    assert messages(umb.identity_matches_blueprint, umbrella(blueprint=BLUEPRINT)) == []
    renamed = {**BLUEPRINT, "metadata": {"name": "bp-other", "version": "1.0.0"}, "spec": {"version": "2.0.0"}}
    assert [f.path for f in umb.identity_matches_blueprint.check(umbrella(blueprint=renamed))] == [
        "$.metadata.name", "$.spec.version"]
    stale_metadata = {**BLUEPRINT, "metadata": {"name": "bp-demo", "version": "0.9.0"}}
    assert [f.path for f in umb.identity_matches_blueprint.check(umbrella(blueprint=stale_metadata))] == [
        "$.metadata.version"]
    with pytest.raises(NotApplicable, match="states neither"):
        list(umb.identity_matches_blueprint.check(umbrella(blueprint={"kind": "Blueprint", "spec": {}})))


def test_identity_findings_carry_the_line_and_manifests_chart_must_name_this_chart(tmp_path):
    chart_dir = tmp_path / "bp-demo" / "chart"
    chart_dir.mkdir(parents=True)
    (chart_dir / "Chart.yaml").write_text("apiVersion: v2\nname: bp-demo\nversion: 1.0.0\n")
    (tmp_path / "bp-demo" / "blueprint.yaml").write_text(
        "kind: Blueprint\nmetadata:\n  name: bp-demo\nspec:\n  version: 1.0.1\n  manifests:\n    chart: ./helm\n")
    ctx = ChartContext(_load_chart_dir(chart_dir), [], renderer=None, platform=SimpleNamespace())
    version, manifests = umb.identity_matches_blueprint.check(ctx)
    assert (version.template, version.path, version.line) == ("bp-demo/../blueprint.yaml", "$.spec.version", 5)
    assert (manifests.path, manifests.line) == ("$.spec.manifests.chart", 7)
    assert "spec.manifests.chart is './helm'" in manifests.message


def test_umb_is_quiet_on_every_fixture_chart():
    for chart in discover([CHARTS]):
        ctx = ChartContext(chart, [], renderer=None, platform=SimpleNamespace())
        for policy in (umb.declares_dependencies, umb.dependencies_vendored_at_pin, umb.upstream_pin_agrees,
                       umb.identity_matches_blueprint):
            try:
                assert messages(policy, ctx) == [], (policy.id, chart.name)
            except NotApplicable:
                pass


def test_library_charts_are_never_hollow():
    from chartgate.check.applicability import unmet_requirement
    ctx = umbrella()
    ctx.chart.chart_yaml["type"] = "library"
    ctx.chart.profile = "blueprint"  # a Blueprint umbrella that is a library chart
    # The engine skips UMB-001 on a library chart before its check runs (a declared requirement).
    assert "is a library chart (Chart.yaml type: library)" in unmet_requirement(umb.declares_dependencies, ctx)


def test_condition_value_takes_the_first_path_that_exists():
    ctx = umbrella(values={"up": {"enabled": False}, "global": {"up": True}})
    assert umb.condition_value(ctx, "missing.key, up.enabled") is False
    assert umb.condition_value(ctx, "missing.key") is None
