"""HELM-001/002 on minimal generic charts, with the real pinned Helm 4 and Helm 3 reference: a zero under
`if` (Helm 3.18.0 rendered it), generated CA fields with dotted keys (masked alike in both rules), a
password kept with `lookup` (not regenerated), and one finding per differing object naming the field."""

from __future__ import annotations

import textwrap

import pytest

from chartgate.plan.determinism import differing_paths, jsonpath, kept_with_lookup
from chartgate.check.definition import Outcome

from ..conftest import REPO, gate_config, run_gate

HELM3 = REPO / ".tools" / "helm-v3.19.0" / "helm"
pytestmark = pytest.mark.skipif(not HELM3.is_file(), reason="the pinned Helms are provisioned by `make tools`")

CHART_YAML = "apiVersion: v2\nname: {name}\nversion: 0.1.0\n"

ZERO_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  {{- if .Values.progressDeadlineSeconds }}
  progressDeadlineSeconds: {{ .Values.progressDeadlineSeconds }}
  {{- end }}
  {{- if .Values.minReadySeconds }}
  minReadySeconds: {{ .Values.minReadySeconds }}
  {{- end }}
  selector:
    matchLabels: {app: zero}
  template:
    metadata:
      labels: {app: zero}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0.0
"""

CA_SECRET = """\
{{- $ca := genCA "zero-ca" 365 }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-ca
type: kubernetes.io/tls
data:
  ca.crt: {{ $ca.Cert | b64enc }}
  tls.crt: {{ $ca.Cert | b64enc }}
  tls.key: {{ $ca.Key | b64enc }}
"""

KEPT_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-auth
data:
  password: {{ include "zero.password" . }}
"""

KEPT_HELPER = """\
{{- define "zero.password" -}}
{{- $old := lookup "v1" "Secret" .Release.Namespace (printf "%s-auth" .Release.Name) -}}
{{- if $old -}}{{ index $old.data "password" }}{{- else -}}{{ randAlphaNum 20 | b64enc }}{{- end -}}
{{- end -}}
"""

VERSIONED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-info
  annotations:
    rendered-by: {{ .Capabilities.HelmVersion.Version | quote }}
data:
  stable: "yes"
"""


def write_chart(root, name: str, templates: dict[str, str], values: str = "") -> None:
    chart = root / "charts" / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART_YAML.format(name=name))
    (chart / "values.yaml").write_text(values)
    for file, text in templates.items():
        (chart / "templates" / file).write_text(text)


@pytest.fixture(scope="module")
def helm_run(tmp_path_factory, policies, render_cache):
    root = tmp_path_factory.mktemp("helm-matrix")
    write_chart(root, "zero", {"deployment.yaml": ZERO_DEPLOYMENT}, "progressDeadlineSeconds: 0\nminReadySeconds: 0\n")
    write_chart(root, "ca", {"secret.yaml": CA_SECRET})
    write_chart(root, "kept", {"secret.yaml": KEPT_SECRET, "_helpers.tpl": KEPT_HELPER})
    write_chart(root, "versioned", {"configmap.yaml": VERSIONED})
    (root / "overlays").mkdir()
    helm_policies = [p for p in policies if p.id.startswith("HELM-")]
    return run_gate(gate_config(root, root / "charts", root / "overlays", cache=render_cache,
                                helm_versions=("4.1.4", "3.19.0")), helm_policies)


def results(run, policy_id: str, chart: str):
    return [r for r in run.gate.results if r.policy.id == policy_id and r.chart == chart]


def test_a_zero_under_if_renders_alike_on_the_helm_3_reference(helm_run):
    # Helm 3.18.0 rendered `progressDeadlineSeconds: 0` and `minReadySeconds: 0` here (its bug).
    judged = results(helm_run, "HELM-001", "zero")
    assert judged and all(r.outcome is Outcome.PASSED for r in judged)


def test_generated_ca_fields_are_masked_in_both_rules(helm_run):
    assert all(r.outcome is Outcome.PASSED for r in results(helm_run, "HELM-001", "ca"))
    [named] = results(helm_run, "HELM-002", "ca")
    [finding] = named.findings  # one object, one finding naming each field
    assert "$.data['ca.crt'], $.data['tls.crt'], $.data['tls.key'] differ between two renders" in finding.message


def test_a_value_kept_with_lookup_is_not_reported_as_regenerated(helm_run):
    assert all(r.outcome is Outcome.PASSED for r in results(helm_run, "HELM-001", "kept"))
    [kept] = results(helm_run, "HELM-002", "kept")
    assert kept.outcome is Outcome.PASSED, [f.message for f in kept.findings]


def test_one_finding_per_differing_object_naming_the_field_and_both_values(helm_run):
    [default] = [r for r in results(helm_run, "HELM-001", "versioned") if r.scenario == "default"]
    [finding] = default.findings
    assert finding.resource == "ConfigMap/versioned/versioned-info"
    assert finding.path == "$.metadata.annotations.rendered-by" and finding.path in finding.message
    assert '"v4.1.4" under Helm 4.1.4' in finding.message and '"v3.19.0" under Helm 3.19.0' in finding.message


def test_dotted_keys_are_one_field():
    trails = differing_paths({"data": {"ca.crt": "a", "x": [1, 2]}}, {"data": {"ca.crt": "b", "x": [1, 3]}})
    assert sorted(jsonpath(t) for t in trails) == ["$.data.x[1]", "$.data['ca.crt']"]


def test_lookup_is_found_through_included_helpers_only_where_it_is_used():
    templates = {"c/templates/_helpers.tpl": KEPT_HELPER + '{{- define "zero.other" -}}x{{- end -}}\n',
                 "c/templates/secret.yaml": KEPT_SECRET,
                 "c/templates/other.yaml": 'v: {{ include "zero.other" . }} {{ randAlphaNum 5 }}'}
    assert kept_with_lookup(templates) == {"c/templates/secret.yaml"}
