"""Umbrella shape on in-memory charts (no Helm): pins, vendored copies packaged or unpacked,
Chart.lock, and agreement with values.yaml and blueprint.yaml."""

from __future__ import annotations

import io
import tarfile
from types import SimpleNamespace

import pytest
import yaml

from chartgate.charts import ChartFiles, load_chart
from chartgate.context import ChartContext
from chartgate.loader import load_policy_module
from chartgate.policy import NotApplicable

from ..conftest import REPO

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
    chart = load_chart(ChartFiles("mem/bp-demo", files))
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


BLUEPRINT = {"metadata": {"name": "bp-demo"},
             "spec": {"version": "1.0.0", "upstream": {"chart": "up", "version": "1.2.0",
                                                       "repository": "oci://example.test/charts"}}}
VALUES = {"catalystBlueprint": {"upstream": {"chart": "up", "version": "1.2.0"}}}


def test_blueprint_checks_skip_without_blueprint_yaml():
    for policy in (umb.upstream_pin_agrees, umb.identity_matches_blueprint):
        with pytest.raises(NotApplicable):
            list(policy.check(umbrella(values=VALUES)))


def test_upstream_pin_agrees_and_each_disagreeing_file_is_named():
    assert messages(umb.upstream_pin_agrees, umbrella(blueprint=BLUEPRINT, values=VALUES)) == []
    values = {"catalystBlueprint": {"upstream": {"chart": "up", "version": "1.1.0"}}}
    found = list(umb.upstream_pin_agrees.check(umbrella(blueprint=BLUEPRINT, values=values)))
    assert [(f.template, f.path) for f in found] == [("bp-demo/values.yaml", "$.catalystBlueprint.upstream.version")]
    found = list(umb.upstream_pin_agrees.check(umbrella(blueprint=BLUEPRINT, values={})))
    assert [f.path for f in found] == ["$.catalystBlueprint.upstream"]


def test_blueprint_naming_another_upstream_chart_fails():
    blueprint = {**BLUEPRINT, "spec": {**BLUEPRINT["spec"], "upstream": {"chart": "other", "version": "1.2.0"}}}
    found = messages(umb.upstream_pin_agrees, umbrella(blueprint=blueprint, values=VALUES))
    assert found == ["bp-demo/blueprint.yaml names the upstream chart 'other' at $.spec.upstream.chart, but "
                     "Chart.yaml declares only up; name the dependency the chart actually wraps."]


def test_chart_identity_must_match_blueprint():
    assert messages(umb.identity_matches_blueprint, umbrella(blueprint=BLUEPRINT)) == []
    renamed = {**BLUEPRINT, "metadata": {"name": "bp-other"}, "spec": {"version": "2.0.0"}}
    found = list(umb.identity_matches_blueprint.check(umbrella(blueprint=renamed)))
    assert [f.path for f in found] == ["$.metadata.name", "$.spec.version"]


def test_library_charts_are_never_hollow():
    ctx = umbrella()
    ctx.chart.chart_yaml["type"] = "library"
    with pytest.raises(NotApplicable):
        list(umb.declares_dependencies.check(ctx))


def test_condition_value_takes_the_first_path_that_exists():
    ctx = umbrella(values={"up": {"enabled": False}, "global": {"up": True}})
    assert umb.condition_value(ctx, "missing.key, up.enabled") is False
    assert umb.condition_value(ctx, "missing.key") is None
