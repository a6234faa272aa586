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
