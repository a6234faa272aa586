"""False-positive shapes of mainstream charts (issue 18), each as a minimal chart of our own rendered
by the real Helm across its planned scenarios, with a true defect planted beside it that must stay
found:

- a ServiceAccount the user is told to supply (`serviceAccount.create: false`) is not dangling (WIR-005),
  and a binding's subjects across scenarios are one SEC-015 finding, not one per subject;
- hardening a scenario switches off (`containerSecurityContext.enabled: false`, `livenessProbe.enabled:
  false`) is the user's choice: posture warnings judge the scenarios that keep it on;
- labels a controller adds at run time (`statefulset.kubernetes.io/pod-name`) select pods (WIR-004);
- a cluster-shared CRD is not asked for per-release labels (HYG-002);
- one defect is one finding: per container name, not per index as a sidecar switches on.
"""

from __future__ import annotations

import pytest

from chartgate.check.definition import Outcome

from ..conftest import REPO, gate_config, run_gate

HELPERS = """{{- define "x.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "x.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "x.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
"""

HARDENED_POD = """      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
"""
HARDENED_CONTAINER = """          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {memory: 64Mi}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /readyz, port: 8080}}
"""


def workload(kind: str = "Deployment", account: str = "default", extra: str = "") -> str:
    return f"""apiVersion: apps/v1
kind: {kind}
metadata:
  name: {{{{ include "x.fullname" . }}}}
  labels: {{{{- include "x.labels" . | nindent 4 }}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{{{- include "x.selector" . | nindent 6 }}}}
  template:
    metadata:
      labels: {{{{- include "x.labels" . | nindent 8 }}}}
    spec:
      serviceAccountName: {account}
      automountServiceAccountToken: false
{HARDENED_POD}      containers:
        - name: app
          image: "registry.example.invalid/app:1.2.3"
          ports: [{{name: http, containerPort: 8080}}]
{HARDENED_CONTAINER}{extra}"""


# --- shape 1: the user supplies the ServiceAccount ---------------------------------------------------

SUPPLIED = {
    "values.yaml": ("serviceAccount:\n  create: true\n"
                    "  # With create false: an existing account (default when empty).\n  name: \"\"\n"),
    "templates/_helpers.tpl": HELPERS + """{{- define "x.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "x.fullname" .) .Values.serviceAccount.name }}
{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}
""",
    "templates/serviceaccount.yaml": """{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "x.serviceAccountName" . }}
  labels: {{- include "x.labels" . | nindent 4 }}
{{- end }}
""",
    # The controller's role: it watches Secrets everywhere (a true SEC-015, waived in real life).
    "templates/rbac.yaml": """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ include "x.fullname" . }}
  labels: {{- include "x.labels" . | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ include "x.fullname" . }}
  labels: {{- include "x.labels" . | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{ include "x.fullname" . }}}
subjects:
  - kind: ServiceAccount
    name: {{ include "x.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "x.fullname" . }}-leader
  labels: {{- include "x.labels" . | nindent 4 }}
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "x.fullname" . }}-leader
  labels: {{- include "x.labels" . | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ include "x.fullname" . }}-leader}
subjects:
  # Like some public charts, the leader-election binding names the account whether or not it is created.
  - kind: ServiceAccount
    name: {{ include "x.fullname" . }}
    namespace: {{ .Release.Namespace }}
  # Planted: an account no template ever renders (a renamed helper): dangling in every scenario.
  - kind: ServiceAccount
    name: {{ include "x.fullname" . }}-reader
    namespace: {{ .Release.Namespace }}
""",
    "templates/deployment.yaml": workload(account='{{ include "x.serviceAccountName" . }}'),
}


# --- shape 2: hardening switches, and a sidecar that moves the main container ------------------------

SWITCHES = {
    "values.yaml": """podSecurityContext:
  enabled: true
  fsGroup: 1001
  seccompProfile: {type: RuntimeDefault}
containerSecurityContext:
  enabled: true
  runAsUser: 1001
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: {drop: [ALL]}
livenessProbe:
  enabled: true
  initialDelaySeconds: 10
readinessProbe:
  enabled: true
  initialDelaySeconds: 5
proxy:
  enabled: false
""",
    "templates/_helpers.tpl": HELPERS,
    "templates/service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ include "x.fullname" . }}
  labels: {{- include "x.labels" . | nindent 4 }}
spec:
  selector: {{- include "x.selector" . | nindent 4 }}
  ports: [{name: http, port: 80, targetPort: http}]
""",
    "templates/statefulset.yaml": """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "x.fullname" . }}
  labels: {{- include "x.labels" . | nindent 4 }}
spec:
  serviceName: {{ include "x.fullname" . }}
  selector:
    matchLabels: {{- include "x.selector" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "x.labels" . | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      {{- if .Values.podSecurityContext.enabled }}
      securityContext: {{- omit .Values.podSecurityContext "enabled" | toYaml | nindent 8 }}
      {{- end }}
      containers:
        {{- if .Values.proxy.enabled }}
        # Planted: the proxy sidecar sets no hardening of its own.
        - name: proxy
          image: "registry.example.invalid/proxy:2.0.1"
          resources: {requests: {cpu: 10m, memory: 16Mi}}
        {{- end }}
        - name: store
          image: "registry.example.invalid/store:7.4.2"
          ports: [{name: http, containerPort: 8080}]
          {{- if .Values.containerSecurityContext.enabled }}
          securityContext: {{- omit .Values.containerSecurityContext "enabled" | toYaml | nindent 12 }}
          {{- end }}
          # Planted: no memory limit.
          resources: {requests: {cpu: 10m, memory: 32Mi}}
          {{- if .Values.livenessProbe.enabled }}
          livenessProbe:
            tcpSocket: {port: http}
            initialDelaySeconds: {{ .Values.livenessProbe.initialDelaySeconds }}
          {{- end }}
          {{- if .Values.readinessProbe.enabled }}
          readinessProbe:
            tcpSocket: {port: http}
            initialDelaySeconds: {{ .Values.readinessProbe.initialDelaySeconds }}
          {{- end }}
""",
}


# --- shape 3: per-replica Services select the controller's pod-name label ----------------------------

PER_POD = {
    "values.yaml": "replicas: 2\n",
    "templates/_helpers.tpl": HELPERS,
    "templates/statefulset.yaml": workload("StatefulSet").replace(
        "  replicas: 2\n", "  replicas: {{ .Values.replicas }}\n  serviceName: {{ include \"x.fullname\" . }}\n"),
    "templates/services.yaml": """{{- range $i := until (int .Values.replicas) }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "x.fullname" $ }}-{{ $i }}
  labels: {{- include "x.labels" $ | nindent 4 }}
spec:
  selector:
    {{- include "x.selector" $ | nindent 4 }}
    statefulset.kubernetes.io/pod-name: {{ include "x.fullname" $ }}-{{ $i }}
  ports: [{name: http, port: 80, targetPort: http}]
{{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "x.fullname" . }}-first
  labels: {{- include "x.labels" . | nindent 4 }}
spec:
  selector:
    {{- include "x.selector" . | nindent 4 }}
    apps.kubernetes.io/pod-index: "0"
  ports: [{name: http, port: 80, targetPort: http}]
---
# Planted: the pod-name of a StatefulSet this chart does not have.
apiVersion: v1
kind: Service
metadata:
  name: {{ include "x.fullname" . }}-arbiter
  labels: {{- include "x.labels" . | nindent 4 }}
spec:
  selector:
    statefulset.kubernetes.io/pod-name: {{ include "x.fullname" . }}-arbiter-0
  ports: [{name: http, port: 80, targetPort: http}]
""",
}


# --- shape 8: CRDs are shared by every release ----------------------------------------------------------

SHARED_CRDS = {
    "values.yaml": "crds:\n  enabled: true\n",
    "templates/_helpers.tpl": HELPERS,
    "templates/crds.yaml": """{{- if .Values.crds.enabled }}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.shapes.example.invalid
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
  annotations:
    helm.sh/resource-policy: keep
spec:
  group: shapes.example.invalid
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
{{- end }}
""",
    # Planted: the chart's own ConfigMap without its release's labels.
    "templates/configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "x.fullname" . }}
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
data:
  mode: standalone
""",
}

CHARTS = {"supplied-account": SUPPLIED, "hardening-switches": SWITCHES, "per-pod-services": PER_POD,
          "shared-crds": SHARED_CRDS}


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory, policies, render_cache):
    root = tmp_path_factory.mktemp("mainstream-shapes")
    for name, files in CHARTS.items():
        chart = root / "charts" / name
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\nappVersion: \"1.0.0\"\n")
        for rel, text in files.items():
            (chart / rel).write_text(text)
    (root / "overlays").mkdir()
    judged = [p for p in policies if p.family in ("SEC", "WIR", "HYG", "RENDER")]
    return run_gate(gate_config(root, root / "charts", root / "overlays", cache=render_cache), judged)


def findings(run, chart: str, policy_id: str):
    return [f for r in run.gate.results if r.chart == chart and r.policy.id == policy_id
            and r.outcome is Outcome.FAILED for f in r.findings]


def scenarios(run, chart: str) -> set[str]:
    return {r.scenario for r in run.gate.results if r.chart == chart and r.scenario}


def test_every_shape_chart_renders_its_opt_out_scenarios(shapes_run):
    assert not [(r.chart, r.scenario, r.message) for r in shapes_run.gate.results if r.outcome is Outcome.ERROR]
    # the plan switches each chart's own switches off somewhere: the shapes are exercised
    for chart in ("supplied-account", "hardening-switches"):
        assert any(s.startswith("plan.") for s in scenarios(shapes_run, chart)), chart


def test_an_account_the_user_supplies_is_not_dangling_but_an_unrendered_one_is(shapes_run):
    wir = findings(shapes_run, "supplied-account", "WIR-005")
    # only the planted account, once per scenario that renders it - every scenario, one defect key
    assert {f.path for f in wir} == {"$.subjects[1].name"}
    assert all("-reader, which the release does not render" in f.message for f in wir)
    assert len({f.key for f in wir}) == 1
    [sec015] = findings(shapes_run, "supplied-account", "SEC-015")  # one per binding, every subject named
    assert ("to ServiceAccount supplied-account/supplied-account-supplied-account, "
            "ServiceAccount supplied-account/default (") in sec015.message
    assert findings(shapes_run, "supplied-account", "SEC-019") == []  # `default` only where the user chose it


def test_hardening_a_scenario_switches_off_is_the_users_choice(shapes_run):
    chart = "hardening-switches"
    for policy_id in ("SEC-002", "SEC-004", "SEC-006", "SEC-007", "SEC-012"):
        found = findings(shapes_run, chart, policy_id)
        # the planted proxy sidecar (no hardening of its own) stays found; the store container is not
        assert found and all("'proxy'" in f.message for f in found), (policy_id, [f.message for f in found])
    # both inherit the pod's RuntimeDefault profile wherever the chart's switch keeps it
    assert findings(shapes_run, chart, "SEC-017") == []


def test_one_defect_on_a_container_is_one_finding_whichever_its_index(shapes_run):
    limits = findings(shapes_run, "hardening-switches", "SEC-011")
    assert sorted(f.message.split(" has no")[0] for f in limits) == ["container 'proxy'", "container 'store'"]


def test_controller_added_pod_labels_select_pods(shapes_run):
    wir = findings(shapes_run, "per-pod-services", "WIR-004")
    assert wir and {f.resource for f in wir} == {"Service/per-pod-services/per-pod-services-per-pod-services-arbiter"}


def test_shared_crds_need_no_per_release_labels(shapes_run):
    [hyg] = findings(shapes_run, "shared-crds", "HYG-002")
    assert hyg.resource == "ConfigMap/shared-crds/shared-crds-shared-crds"


# --- the bench's charts in the style of public charts (bench/mainstream.py) ----------------------------


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory, policies, render_cache):
    import sys
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import mainstream
    finally:
        sys.path.remove(str(REPO / "bench"))
    root = tmp_path_factory.mktemp("bench-shapes")
    mainstream.write_issue18_charts(root / "charts")
    (root / "overlays").mkdir()
    judged = [p for p in policies if p.family in ("SEC", "WIR", "HYG", "RENDER")]
    return run_gate(gate_config(root, root / "charts", root / "overlays", cache=render_cache), judged)


def test_bench_charts_keep_their_planted_defects_and_lose_the_shapes(bench_run):
    failed = {(r.chart, r.policy.id) for r in bench_run.gate.results if r.outcome is Outcome.FAILED}
    assert not [r for r in bench_run.gate.results if r.outcome is Outcome.ERROR]
    # cache-ha: only the exporter sidecar's own gaps, on the scenarios that switch it on
    assert {p for c, p in failed if c == "cache-ha"} == {"SEC-002", "SEC-004", "SEC-007", "SEC-011", "SEC-012",
                                                         "SEC-020"}
    assert all("'exporter'" in f.message for p in ("SEC-002", "SEC-004", "SEC-007", "SEC-012", "SEC-020")
               for f in findings(bench_run, "cache-ha", p))
    # queue-operator: the metrics reader's wildcard, one finding naming both policies
    assert {p for c, p in failed if c == "queue-operator"} == {"SEC-013"}
    [wild] = findings(bench_run, "queue-operator", "SEC-013")
    assert "metrics-reader" in wild.resource and "(SEC-015 too)" in wild.message
