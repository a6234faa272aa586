"""Generate a platform monorepo of Blueprint umbrella charts for benchmarking.

Layout, as in a real Catalyst monorepo:

    <root>/platform/<name>/blueprint.yaml      <root>/products/<name>/blueprint.yaml
    <root>/platform/<name>/chart/...           <root>/products/<name>/chart/...

Each umbrella `bp-<name>` declares one upstream dependency, vendored unpacked in `chart/charts/`
(a stand-in operator: ServiceAccount, RBAC, ConfigMap, Deployment, Service, and a ServiceMonitor
behind a toggle and a Capabilities gate), and adds overlay templates behind toggles that default
off (NetworkPolicy, ServiceMonitor, HPA; every third chart also a PodDisruptionBudget and every
fourth a Capabilities-gated GatewayClass). The charts are written to pass the repository's policies,
so a run measures the gate, not a pile of failures.

    python bench/monorepo.py DEST [--charts 50]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_CHARTS = 50
_WORDS = ("atlas", "beacon", "cinder", "delta", "ember", "fjord", "garnet", "harbor", "iris", "juniper",
          "kestrel", "lumen", "meadow", "nimbus", "onyx", "prism", "quartz", "raven", "sierra", "tundra",
          "umber", "vertex", "willow", "xenon", "yarrow", "zephyr")

# Templates use @NAME@-style placeholders so Helm's own {{ }} need no escaping.
UPSTREAM_CHART_YAML = """apiVersion: v2
name: @UP@
version: "@UPVER@"
appVersion: "@UPVER@"
description: Stand-in for the upstream @UP@ chart (benchmark fixture).
"""

UPSTREAM_VALUES = """replicaCount: 1
image:
  repository: registry.example.invalid/@UP@
  tag: "@UPVER@"
rbac:
  create: true
serviceAccount:
  create: true
  name: ""  # used when create is false: an account that already exists ("default" if empty)
metrics:
  port: 8080
  serviceMonitor:
    enabled: false
    interval: 30s
"""

UPSTREAM_HELPERS = """{{- define "@UP@.fullname" -}}{{ .Release.Name }}-@UP@{{- end }}
{{- define "@UP@.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ include "@UP@.fullname" . }}{{ else }}{{ .Values.serviceAccount.name | default "default" }}{{ end }}
{{- end }}
{{- define "@UP@.selector" -}}
app.kubernetes.io/name: @UP@
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
"""

UPSTREAM_TEMPLATES = {
    "serviceaccount.yaml": """{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "@UP@.fullname" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}
""",
    "rbac.yaml": """{{- if .Values.rbac.create }}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "@UP@.fullname" . }}
  namespace: {{ .Release.Namespace }}
rules:
  - apiGroups: [""]
    resources: ["configmaps", "leases"]
    verbs: ["get", "list", "watch", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "@UP@.fullname" . }}
  namespace: {{ .Release.Namespace }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "@UP@.fullname" . }}
subjects:
  - kind: ServiceAccount
    name: {{ include "@UP@.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}
""",
    "configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "@UP@.fullname" . }}-config
  namespace: {{ .Release.Namespace }}
data:
  log-level: info
  metrics-port: {{ .Values.metrics.port | quote }}
""",
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "@UP@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.selector" . | nindent 4 }}
spec:
  replicas: {{ int .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "@UP@.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "@UP@.selector" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "@UP@.serviceAccountName" . }}
      containers:
        - name: manager
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - name: metrics
              containerPort: {{ int .Values.metrics.port }}
          envFrom:
            - configMapRef:
                name: {{ include "@UP@.fullname" . }}-config
""",
    "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ include "@UP@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.selector" . | nindent 4 }}
spec:
  selector:
    {{- include "@UP@.selector" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ int .Values.metrics.port }}
      targetPort: metrics
""",
    "servicemonitor.yaml": """{{- if and .Values.metrics.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "@UP@.fullname" . }}
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    matchLabels:
      {{- include "@UP@.selector" . | nindent 6 }}
  endpoints:
    - port: metrics
      interval: {{ .Values.metrics.serviceMonitor.interval }}
{{- end }}
""",
}

UMBRELLA_CHART_YAML = """apiVersion: v2
name: bp-@NAME@
version: 1.0.0
type: application
description: Blueprint umbrella chart for @NAME@ (benchmark fixture); wraps @UP@ @UPVER@.
dependencies:
  - name: @UP@
    version: "@UPVER@"
    repository: "oci://registry.example.invalid/charts"
"""

UMBRELLA_HELPERS = """{{- define "bp-@NAME@.fullname" -}}{{ .Release.Name }}-overlay{{- end }}
{{- define "bp-@NAME@.labels" -}}
app.kubernetes.io/name: bp-@NAME@
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
catalyst.openova.io/blueprint: bp-@NAME@
{{- end }}
{{- define "bp-@NAME@.operatorSelector" -}}
app.kubernetes.io/name: @UP@
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
"""

UMBRELLA_TEMPLATES = {
    "networkpolicy.yaml": """{{- if .Values.@KEY@.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "bp-@NAME@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "bp-@NAME@.operatorSelector" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    - ports:
        - protocol: TCP
          port: 8080
{{- end }}
""",
    "servicemonitor.yaml": """{{- if and .Values.@KEY@.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "bp-@NAME@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "bp-@NAME@.operatorSelector" . | nindent 6 }}
  endpoints:
    - port: metrics
      interval: {{ .Values.@KEY@.serviceMonitor.interval }}
{{- end }}
""",
    "hpa.yaml": """{{- if .Values.@KEY@.hpa.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "bp-@NAME@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .Release.Name }}-@UP@
  minReplicas: {{ int .Values.@KEY@.hpa.minReplicas }}
  maxReplicas: {{ int .Values.@KEY@.hpa.maxReplicas }}
{{- end }}
""",
}

PDB_TEMPLATE = """{{- if .Values.@KEY@.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "bp-@NAME@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "bp-@NAME@.operatorSelector" . | nindent 6 }}
{{- end }}
"""

GATEWAYCLASS_TEMPLATE = """{{- if .Capabilities.APIVersions.Has "gateway.networking.k8s.io/v1" }}
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: bp-@NAME@-cilium
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  controllerName: cilium.io/gateway-controller
{{- end }}
"""

UMBRELLA_VALUES = """# Only overrides of the vendored upstream chart live under its key.
@UP@:
  metrics:
    serviceMonitor:
      enabled: false

# Overlay values consumed by this chart's own templates; every optional object is off by default.
@KEY@:
  networkPolicy:
    enabled: false
  serviceMonitor:
    enabled: false
    interval: 30s
  hpa:
    enabled: false
    minReplicas: 1
    maxReplicas: 3
@PDB@
catalystBlueprint:
  upstream:
    chart: @UP@
    version: "@UPVER@"
"""

PDB_VALUES = """  podDisruptionBudget:
    enabled: false
"""

BLUEPRINT = """apiVersion: catalyst.openova.io/v1alpha1
kind: Blueprint
metadata:
  name: bp-@NAME@
spec:
  version: 1.0.0
  upstream:
    chart: @UP@
    version: "@UPVER@"
    repository: "oci://registry.example.invalid/charts"
@DEPENDS@  configSchema:
    type: object
    properties:
      @KEY@:
        type: object
        properties:
          networkPolicy:
            type: object
            properties:
              enabled: {type: boolean, default: false}
          serviceMonitor:
            type: object
            properties:
              enabled: {type: boolean, default: false}
          hpa:
            type: object
            properties:
              enabled: {type: boolean, default: false}
              minReplicas: {type: integer, minimum: 1, default: 1}
              maxReplicas: {type: integer, minimum: 1, default: 3}
"""


def chart_names(count: int) -> list[str]:
    """Deterministic, unique, readable names: atlas, beacon, ..., atlas-2, ..."""
    return [_WORDS[i % len(_WORDS)] + (f"-{i // len(_WORDS) + 1}" if i >= len(_WORDS) else "")
            for i in range(count)]


def _fill(text: str, subs: dict[str, str]) -> str:
    for key, value in subs.items():
        text = text.replace(f"@{key}@", value)
    return text


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_blueprint(folder: Path, name: str, index: int) -> Path:
    """One `<folder>/blueprint.yaml` + `<folder>/chart/` umbrella with its vendored upstream."""
    key = name.replace("-", "") + "Overlay"
    up = f"{name}-operator"
    with_pdb, with_gateway = index % 3 == 0, index % 4 == 0
    subs = {"NAME": name, "UP": up, "UPVER": f"1.{index % 7}.{index % 5}", "KEY": key,
            "PDB": PDB_VALUES.rstrip("\n") if with_pdb else "",
            "DEPENDS": "  depends:\n    - bp-cilium\n" if with_gateway else ""}
    chart = folder / "chart"
    _write(folder / "blueprint.yaml", _fill(BLUEPRINT, subs))
    _write(chart / "Chart.yaml", _fill(UMBRELLA_CHART_YAML, subs))
    _write(chart / "values.yaml", _fill(UMBRELLA_VALUES, subs))
    _write(chart / "templates" / "_helpers.tpl", _fill(UMBRELLA_HELPERS, subs))
    templates = dict(UMBRELLA_TEMPLATES)
    if with_pdb:
        templates["pdb.yaml"] = PDB_TEMPLATE
    if with_gateway:
        templates["gatewayclass.yaml"] = GATEWAYCLASS_TEMPLATE
    for file, text in templates.items():
        _write(chart / "templates" / file, _fill(text, subs))
    upstream = chart / "charts" / up
    _write(upstream / "Chart.yaml", _fill(UPSTREAM_CHART_YAML, subs))
    _write(upstream / "values.yaml", _fill(UPSTREAM_VALUES, subs))
    _write(upstream / "templates" / "_helpers.tpl", _fill(UPSTREAM_HELPERS, subs))
    for file, text in UPSTREAM_TEMPLATES.items():
        _write(upstream / "templates" / file, _fill(text, subs))
    return chart


def generate(root: Path, count: int = DEFAULT_CHARTS) -> list[Path]:
    """Write `count` Blueprints, alternating platform/ and products/; returns the chart directories."""
    charts = []
    for index, name in enumerate(chart_names(count)):
        area = "platform" if index % 2 == 0 else "products"
        charts.append(write_blueprint(Path(root) / area / name, name, index))
    return charts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="directory to write the monorepo into (created)")
    parser.add_argument("--charts", type=int, default=DEFAULT_CHARTS, help="number of Blueprint charts")
    args = parser.parse_args(argv)
    charts = generate(args.dest, args.charts)
    print(f"wrote {len(charts)} Blueprint charts under {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
