"""The committed goldens of the fixture charts are the seed's kind summaries, and Helm's warnings are
reported, not mistaken for failures."""

from __future__ import annotations

import json

import yaml

from ..conftest import REPO, gate_config, run_gate

# The seed's "Per-chart kind summary (helm template default render)".
SEED_DEFAULT_KINDS = {
    "bp-stunner": {"ClusterRole", "ClusterRoleBinding", "ConfigMap", "Dataplane", "Deployment", "Role",
                   "RoleBinding", "Service", "ServiceAccount"},
    "bp-knative": {"ClusterRole", "ClusterRoleBinding", "ConfigMap", "CustomResourceDefinition", "Deployment",
                   "KnativeServing", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount"},
    "bp-kserve": {"Certificate", "ClusterRole", "ClusterRoleBinding", "ClusterServingRuntime",
                  "ClusterStorageContainer", "ConfigMap", "Deployment", "Gateway", "Issuer",
                  "MutatingWebhookConfiguration", "Role", "RoleBinding", "Service", "ServiceAccount",
                  "ValidatingWebhookConfiguration"},
}


def _golden_kinds(chart: str, scenario: str) -> set[str]:
    return set(yaml.safe_load((REPO / "golden" / chart / f"{scenario}.yaml").read_text())["kinds"])


def test_default_goldens_are_the_seed_kind_summaries():
    for chart, kinds in SEED_DEFAULT_KINDS.items():
        assert _golden_kinds(chart, "default") == kinds, chart


def test_stunner_gains_gatewayclass_only_when_the_gateway_api_is_advertised():
    assert _golden_kinds("bp-stunner", "capabilities") == SEED_DEFAULT_KINDS["bp-stunner"] | {"GatewayClass"}


def test_helm_warnings_are_kept_and_reported(tmp_path, policies):
    chart = tmp_path / "charts" / "warns"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: warns\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("a: 1\n")
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    overlays = tmp_path / "overlays" / "warns"
    overlays.mkdir(parents=True)
    (overlays / "base.yaml").write_text("a:\n  b: 2\n")  # Helm: "skipped value for warns.a: Not a table."
    render_only = [p for p in policies if p.id == "RENDER-001"]
    run = run_gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays"), render_only)
    assert {r.outcome.value for r in run.gate.results} == {"passed"}
    report = json.loads((tmp_path / "reports" / "chartgate.json").read_text())
    [default] = [s for s in report["charts"][0]["scenarios"] if s["name"] == "default"]
    assert any("Not a table" in w for w in default["helm_warnings"]), default["helm_warnings"]


# -- the fixtures are written in the real Blueprint format (docs/blueprint.md) ------------

def fixture_charts() -> dict:
    from chartgate.discover.charts import Chart, discover
    from ..conftest import CHARTS
    return {c.name: c for c in discover([CHARTS]) if isinstance(c, Chart)}


FIXTURES = fixture_charts()


def test_every_fixture_blueprint_is_the_real_format():
    from chartgate.discover.blueprint import blueprint_of
    assert {"bp-stunner", "bp-knative", "bp-kserve", "bp-reloader", "bp-cluster-autoscaler", "bp-memcached",
            "bp-app-essentials"} <= set(FIXTURES)
    for name, chart in FIXTURES.items():
        bp = blueprint_of(chart)
        assert (bp.api_version, bp.kind) == ("catalyst.openova.io/v1alpha1", "Blueprint"), name
        assert (bp.name, bp.version) == (chart.name, chart.version), name
        assert "upstream" not in chart.blueprint["spec"], f"{name}: the real blueprint.yaml has no spec.upstream"
        assert bp.chart_dir() == chart.path.resolve(), f"{name}: spec.manifests.chart must name the chart"
        for entry in chart.blueprint["spec"].get("depends") or []:
            assert isinstance(entry, dict) and entry.get("blueprint") and entry.get("version"), (name, entry)


def test_values_state_the_three_way_pin_and_overlays_live_under_name_overlay():
    for name, chart in FIXTURES.items():
        upstream = [d for d in chart.dependencies if not d.name.startswith("bp-")]
        pin = (chart.values.get("catalystBlueprint") or {}).get("upstream")
        if not upstream:  # the composite: its dependencies are Blueprints, there is no upstream pin
            assert pin is None, name
            continue
        [dep] = upstream
        assert (pin["chart"], pin["version"], pin["repo"]) == (dep.name, dep.version, dep.repository), name
        assert chart.subcharts[dep.key].version == dep.version, f"{name}: vendored at another version"
        if chart.templates:
            overlay = name.removeprefix("bp-") + "Overlay"
            assert overlay in chart.values, f"{name}: overlay values belong under {overlay}:"


def test_bp_kserve_declares_the_blueprints_whose_apis_it_renders():
    from chartgate.discover.blueprint import blueprint_of
    depends = {d.blueprint: d.version for d in blueprint_of(FIXTURES["bp-kserve"]).depends}
    assert depends["bp-knative"] == "^1"  # the seed: bp-knative is a hard dependency of bp-kserve
    assert "bp-cert-manager" in depends  # its Issuer and Certificate (cert-manager.io)
    assert "bp-cilium" in depends  # its Gateway (gateway.networking.k8s.io)


def test_the_shapes_the_real_monorepo_has_are_all_represented():
    reloader, composite = FIXTURES["bp-reloader"], FIXTURES["bp-app-essentials"]
    # A values-only umbrella (no templates/ at all), its upstream vendored as a .tgz, in the folder layout.
    assert not reloader.templates and not (reloader.path / "templates").exists()
    assert reloader.subcharts["reloader"].packaged and reloader.path.name == "chart"
    # A composite umbrella whose dependencies are two Blueprint charts, vendored (one packaged, one not).
    assert [d.name for d in composite.dependencies] == ["bp-reloader", "bp-memcached"]
    assert {s.packaged for s in composite.subcharts.values()} == {True, False}
    # Upstream values with nested toggles, each child acting only when its parent is on.
    upstream = FIXTURES["bp-memcached"].effective_values["memcached"]
    assert upstream["metrics"]["enabled"] is False and upstream["metrics"]["serviceMonitor"]["enabled"] is False
    assert upstream["networkPolicy"]["enabled"] is False and upstream["networkPolicy"]["egress"]["enabled"] is False


def _helm_template(home, chart_dir, *args: str):
    """The real Helm binary, with a private home so nothing is written beside the chart."""
    import subprocess
    helm = REPO / ".tools" / "helm-v4.1.4" / "helm"
    return subprocess.run([str(helm), "template", "r", str(chart_dir), *args], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(home)})


def test_the_required_input_chart_fails_bare_naming_the_key_and_ships_ci_values(tmp_path):
    chart = FIXTURES["bp-cluster-autoscaler"]
    bare = _helm_template(tmp_path, chart.path)
    assert bare.returncode != 0 and "autoDiscovery.clusterName is required" in bare.stderr
    ci_files = sorted((chart.path / "ci").glob("*-values.yaml"))
    assert [f.name for f in ci_files] == ["default-values.yaml", "scale-down-tuned-values.yaml"]
    for values in ci_files:
        rendered = _helm_template(tmp_path, chart.path, "-f", str(values))
        assert rendered.returncode == 0 and "clusterName=ci-cluster" in rendered.stdout, rendered.stderr


def test_every_fixture_chart_has_committed_goldens():
    for name in FIXTURES:
        assert (REPO / "golden" / name / "default.yaml").is_file(), name
