"""Generate a platform monorepo sized like a real one, for benchmarking chartgate.

Layout (the Blueprint layout, docs/blueprint.md):

    <root>/platform/<name>/blueprint.yaml                 the Blueprint (catalyst.openova.io/v1alpha1)
    <root>/platform/<name>/chart/                         umbrella: Chart.yaml, values.yaml, templates/,
                                                          charts/<upstream>/ vendored unpacked, ci/
    <root>/products/<suite>/{blueprint.yaml,chart/}       one composite umbrella of ten bp-* charts
    <root>/clusters/<cluster>/bootstrap-kit/NN-<name>.yaml   Flux HelmReleases (about two per chart)
    <root>/mainstream/<chart>/                            generic charts (no blueprint.yaml) shaped like
                                                          popular public charts, for the checkov row

The upstream subcharts are stand-ins written here, sized like real upstream charts: hundreds of
boolean values (most never read by a template, some read, some nested under a parent switch),
several charts that render 300-2,000 objects from loops over values lists, CRDs of up to 1 MB+ of
openAPIV3Schema in crds/, ConfigMaps carrying large JSON dashboards and YAML pipeline configs,
ServiceMonitors/PodMonitors behind observability toggles that default false and Capabilities gates,
values-only umbrellas (no templates/), and charts that `required` a per-cluster value which their
ci/*-values.yaml supply. They are written to pass the policies, so a run measures the gate.

Everything is deterministic (a fixed seed per chart): the same arguments write the same bytes.

    python bench/monorepo.py DEST [--charts 50] [--scale 1.0] [--no-mainstream] [--helm PATH]

`--charts N` is the number of platform Blueprints (the composite product comes on top when N >= 2);
`--scale F` multiplies every size (loop lengths, boolean counts, CRD and dashboard bytes), so tests
and quick runs can write a small but complete version.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

DEFAULT_CHARTS = 50
REPO = Path(__file__).resolve().parent.parent
DEFAULT_HELM = REPO / ".tools" / "helm-v4.1.4" / "helm"
BLUEPRINT_LABEL = "catalyst.openova.io/blueprint"
REPOSITORY = "oci://registry.example.invalid/charts"
BLUEPRINT_REPOSITORY = "oci://registry.example.invalid/blueprints"
IMAGE_REGISTRY = "registry.example.invalid/catalyst"
CLUSTERS = ("_template", "sovereign-eu", "sovereign-ch")

_WORDS = ("atlas", "beacon", "cinder", "delta", "ember", "fjord", "garnet", "harbor", "iris", "juniper",
          "kestrel", "lumen", "meadow", "nimbus", "onyx", "prism", "quartz", "raven", "sierra", "tundra",
          "umber", "vertex", "willow", "xenon", "yarrow", "zephyr")

# Vocabulary for feature-flag names and CRD prose. No word here is an observability or optional-object
# word (metrics, monitoring, tracing, hpa, networkPolicy ...): feature flags are the payload's own switches.
_FLAG_A = ("host", "socket", "bpf", "egress", "ingress", "local", "dns", "wire", "tunnel", "bandwidth",
           "cluster", "node", "endpoint", "identity", "service", "session", "route", "proxy", "mesh", "policy",
           "encryption", "l7", "ipam", "masquerade", "nat", "affinity", "topology", "cache", "quota", "audit")
_FLAG_B = ("Firewall", "Routing", "Redirect", "Balancer", "Mode", "Sync", "Gc", "Preflight", "Fallback",
           "Compat", "Offload", "Filter", "Prefilter", "Hairpin", "Strict", "Fast", "Legacy", "Dual", "Auto",
           "Pinning", "Replay", "Batching", "Pooling", "Hints", "Dedup", "Lease", "Warmup", "Probe", "Drain")
_PROSE = ("the", "controller", "reconciles", "this", "field", "when", "set", "otherwise", "defaults", "apply",
          "to", "every", "selected", "workload", "within", "namespace", "value", "must", "be", "a", "valid",
          "duration", "number", "of", "seconds", "before", "retrying", "failed", "operation", "list", "entries",
          "are", "merged", "in", "order", "later", "override", "earlier", "ones", "is", "ignored", "if", "empty",
          "specifies", "how", "traffic", "handled", "by", "gateway", "for", "each", "peer", "connection")


# -- sizes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    key: str  # values key (camelCase)
    workload: str = "Deployment"  # Deployment | DaemonSet | StatefulSet
    optional: bool = False  # `<key>.enabled: false` by default: a feature the operator turns on
    monitor: bool = True  # a ServiceMonitor (PodMonitor for DaemonSets) toggle, default false
    pdb: bool = False  # a podDisruptionBudget.enabled toggle, default false
    autoscaling: bool = False  # an autoscaling.enabled toggle (HPA), default false

    @property
    def dash(self) -> str:
        return "".join("-" + c.lower() if c.isupper() else c for c in self.key)


@dataclass(frozen=True)
class Profile:
    """What one upstream chart (and its umbrella) looks like. Sizes are at scale 1."""

    archetype: str
    components: tuple[Component, ...]
    flags: int = 40  # boolean values in the upstream values (about 60 % of them `<flag>.enabled` toggles)
    referenced: int = 8  # how many of those the templates read (into the main ConfigMap)
    instances: int = 0  # loop entries: ServiceAccount, Role, RoleBinding, ConfigMap, Deployment, Service each
    crds: tuple[int, ...] = ()  # openAPIV3Schema size (KiB) of each CRD in the subchart's crds/
    template_crds: int = 0  # CRDs rendered from templates (files/crds/*.yaml through .Files.Glob)
    template_crd_kib: int = 12
    dashboards: int = 0  # ConfigMaps with a Grafana-style JSON dashboard (files/dashboards/*.json)
    dashboard_kib: int = 30
    pipelines: int = 0  # entries of an embedded YAML pipeline config (collector-style ConfigMap)
    rule_groups: int = 0  # PrometheusRules behind prometheusRule.enabled (default false, gated)
    overlay: bool = True  # False: values-only umbrella (no templates/ in the umbrella)
    required: str = ""  # "fqdn" | "bucket": a value the chart `required`s; ci/*-values.yaml supply it
    nested_netpol: bool = False  # networkPolicy.enabled with a nested networkPolicy.egress.enabled
    pdb_overlay: bool = False
    gateway_class: bool = False  # Capabilities-gated GatewayClass; blueprint depends on bp-cilium
    issuer: bool = False  # a cert-manager Issuer for the webhook; blueprint depends on bp-cert-manager
    guards: int = 0  # fail/required guards refusing combinations of referenced toggles (see guards())


def _scaled(value: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(value * scale)) if value else 0


def scaled(profile: Profile, scale: float) -> Profile:
    if scale == 1:
        return profile
    return replace(profile, flags=_scaled(profile.flags, scale, 4), referenced=_scaled(profile.referenced, scale, 2),
                   instances=_scaled(profile.instances, scale), crds=tuple(_scaled(k, scale) for k in profile.crds),
                   template_crds=_scaled(profile.template_crds, scale),
                   dashboards=_scaled(profile.dashboards, scale), dashboard_kib=_scaled(profile.dashboard_kib, scale),
                   pipelines=_scaled(profile.pipelines, scale), rule_groups=_scaled(profile.rule_groups, scale),
                   guards=_scaled(profile.guards, scale))


C = Component
CNI = Profile("cni", (C("agent", "DaemonSet"), C("operator", pdb=True, autoscaling=True),
                      C("envoy", "DaemonSet", monitor=True), C("relay", optional=True, monitor=False),
                      C("clustermesh", optional=True, monitor=False)),
              flags=320, referenced=48, crds=(1250, 180, 90, 60, 40, 25), nested_netpol=True, gateway_class=True)
OBSERVABILITY = Profile("observability", (C("collector", pdb=True, autoscaling=True), C("agent", "DaemonSet"),
                                          C("gateway", pdb=True), C("querier", optional=True, monitor=False)),
                        flags=220, referenced=30, dashboards=24, dashboard_kib=40, pipelines=160, rule_groups=40,
                        crds=(220, 60))
REGISTRY = Profile("registry", (C("core", pdb=True, autoscaling=True), C("portal"), C("jobservice"),
                                C("registry", pdb=True), C("scanner", optional=True, monitor=False),
                                C("database", "StatefulSet"), C("cache", "StatefulSet")),
                   flags=200, referenced=24, crds=(30,), pdb_overlay=True)
TENANTS = Profile("tenants", (C("controller", pdb=True, autoscaling=True), C("webhook")), flags=120,
                  referenced=16, crds=(120,), issuer=True)
PROVIDER = Profile("provider", (C("controller", pdb=True),), flags=60, referenced=8, template_crds=150,
                   template_crd_kib=14)
OPERATOR = Profile("operator", (C("controller", pdb=True, autoscaling=True),), flags=60, referenced=10, crds=(60,))
OPERATOR_WEBHOOK = Profile("operator", (C("controller", pdb=True, autoscaling=True), C("webhook")), flags=110,
                           referenced=14, crds=(150, 40), issuer=True, pdb_overlay=True)
VALUES_ONLY = Profile("operator", (C("controller", pdb=True),), flags=40, referenced=6, crds=(30,), overlay=False)
#: The chart that broke the real monorepo's planning (issue 19): a CNI umbrella whose templates read
#: ~125 feature switches and guard 66 pairs of them with `fail`/`required`. Not among the 50.
GUARDED = replace(CNI, flags=340, referenced=210, crds=(1250, 180, 90), guards=66)
GUARDED_NAME = "warden"


def monorepo_profiles() -> list[Profile]:
    """The 50 platform Blueprints, in an order that puts one of each kind among the first ten."""
    big = [CNI, replace(TENANTS, instances=334), OBSERVABILITY, replace(REGISTRY, required="fqdn"),
           replace(PROVIDER, template_crds=300), VALUES_ONLY, replace(TENANTS, instances=200),
           OPERATOR_WEBHOOK, replace(CNI, crds=(1100, 120, 60)), replace(REGISTRY, required="bucket"),
           replace(TENANTS, instances=100), replace(OBSERVABILITY, dashboards=16, pipelines=90),
           PROVIDER, replace(TENANTS, instances=50), replace(CNI, flags=260, crds=(1400, 80)),
           replace(OBSERVABILITY, dashboards=10, rule_groups=20), REGISTRY]
    rest = []
    for i in range(50 - len(big)):
        if i % 6 == 5:
            rest.append(replace(VALUES_ONLY, flags=30 + 10 * (i % 4)))
        elif i % 4 == 3:
            rest.append(replace(OPERATOR_WEBHOOK, flags=80 + 10 * (i % 5), gateway_class=i % 8 == 3))
        else:
            rest.append(replace(OPERATOR, flags=40 + 10 * (i % 7), crds=(40 + 20 * (i % 5),) if i % 3 else (),
                                pdb_overlay=i % 3 == 0, gateway_class=i % 9 == 4))
    ordered = []
    for i in range(50):  # interleave: big ones spread over the first ~34 charts
        source = big if (i % 2 == 0 or not rest) and big else rest
        ordered.append(source.pop(0))
    return ordered


def chart_names(count: int) -> list[str]:
    """Deterministic, unique, readable names: atlas, beacon, ..., atlas-2, ..."""
    return [_WORDS[i % len(_WORDS)] + (f"-{i // len(_WORDS) + 1}" if i >= len(_WORDS) else "")
            for i in range(count)]


# -- writing ----------------------------------------------------------------------------------------


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    pass


def dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120,
                     allow_unicode=True)


def fill(text: str, **subs: str) -> str:
    for key, value in subs.items():
        text = text.replace(f"@{key}@", str(value))
    return text


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(p.capitalize() for p in rest)


def kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name)


# -- upstream subchart templates -------------------------------------------------------------------

HELPERS = """{{/* Names and labels of the @UP@ chart. */}}
{{- define "@UP@.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "@UP@.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "@UP@.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "@UP@.labels" -}}
{{ include "@UP@.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "@UP@.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The ServiceAccount a component runs as: its own, or an existing one when create is false. */}}
{{- define "@UP@.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- printf "%s-%s" (include "@UP@.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- .root.Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "@UP@.image" -}}
{{- printf "%s/%s:%s" .root.Values.global.imageRegistry .image.repository (.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
"""

SERVICE_ACCOUNT = """{{- $c := .Values.@C@ }}
{{- if and .Values.serviceAccount.create @ENABLED@ }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "@UP@.serviceAccountName" (dict "root" . "component" "@CN@") }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: true
{{- end }}
"""

RBAC = """{{- $c := .Values.@C@ }}
{{- if and .Values.rbac.create @ENABLED@ }}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
rules:
  - apiGroups: [""]
    resources: ["pods", "services", "endpoints", "configmaps", "nodes"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["apps"]
    resources: ["deployments", "daemonsets", "statefulsets"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["discovery.k8s.io"]
    resources: ["endpointslices"]
    verbs: ["get", "list", "watch"]
@CRD_RULES@  {{- with .Values.rbac.extraClusterRules }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ include "@UP@.fullname" . }}-@CN@
subjects:
  - kind: ServiceAccount
    name: {{ include "@UP@.serviceAccountName" (dict "root" . "component" "@CN@") }}
    namespace: {{ .Release.Namespace }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@-leader-election
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "list", "watch", "create", "update", "patch"]
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@-leader-election
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "@UP@.fullname" . }}-@CN@-leader-election
subjects:
  - kind: ServiceAccount
    name: {{ include "@UP@.serviceAccountName" (dict "root" . "component" "@CN@") }}
    namespace: {{ .Release.Namespace }}
{{- end }}
"""

CONFIGMAP = """{{- $c := .Values.@C@ }}
{{- if @ENABLED@ }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
data:
  log-level: {{ $c.logLevel | quote }}
  log-format: {{ .Values.logFormat | quote }}
@FLAG_LINES@@REQUIRED_LINE@  config.yaml: |
    {{- toYaml $c.config | nindent 4 }}
{{- end }}
"""

WORKLOAD = """{{- $c := .Values.@C@ }}
{{- if @ENABLED@ }}
apiVersion: apps/v1
kind: @KIND@
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
spec:
@REPLICAS@  selector:
    matchLabels:
      {{- include "@UP@.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: @CN@
@STS_HEAD@  template:
    metadata:
      labels:
        {{- include "@UP@.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: @CN@
        {{- with $c.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/@CN@/configmap.yaml") . | sha256sum }}
        {{- with $c.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "@UP@.serviceAccountName" (dict "root" . "component" "@CN@") }}
      {{- with $c.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: {{ int $c.terminationGracePeriodSeconds }}
      containers:
        - name: @CN@
          image: {{ include "@UP@.image" (dict "root" . "image" $c.image) | quote }}
          imagePullPolicy: {{ $c.image.pullPolicy }}
          args:
            - --config=/etc/@UP@/config.yaml
            - --log-level={{ $c.logLevel }}
            - --metrics-bind-address=:{{ int $c.metrics.port }}
            - --health-probe-bind-address=:{{ int $c.probePort }}
            {{- range $c.extraArgs }}
            - {{ . | quote }}
            {{- end }}
          env:
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- range $c.extraEnv }}
            - name: {{ .name }}
              value: {{ .value | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ int $c.service.targetPort }}
              protocol: TCP
            - name: metrics
              containerPort: {{ int $c.metrics.port }}
              protocol: TCP
            - name: probes
              containerPort: {{ int $c.probePort }}
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /healthz
              port: probes
            initialDelaySeconds: 15
            periodSeconds: 20
          readinessProbe:
            httpGet:
              path: /readyz
              port: probes
            periodSeconds: 10
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: config
              mountPath: /etc/@UP@
              readOnly: true
            - name: tmp
              mountPath: /tmp
@STS_MOUNT@      volumes:
        - name: config
          configMap:
            name: {{ include "@UP@.fullname" . }}-@CN@
        - name: tmp
          emptyDir: {}
@STS_TAIL@{{- end }}
"""

STS_HEAD = """  serviceName: {{ include "@UP@.fullname" . }}-@CN@-headless
  podManagementPolicy: Parallel
"""
STS_MOUNT = """            - name: data
              mountPath: /var/lib/@CN@
"""
STS_TAIL = """  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: {{ $c.persistence.size | quote }}
        {{- with $c.persistence.storageClass }}
        storageClassName: {{ . }}
        {{- end }}
"""

SERVICE = """{{- $c := .Values.@C@ }}
{{- if @ENABLED@ }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
  {{- with $c.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $c.service.type }}
  selector:
    {{- include "@UP@.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
  ports:
    - name: http
      port: {{ int $c.service.port }}
      targetPort: http
      protocol: TCP
    - name: metrics
      port: {{ int $c.metrics.port }}
      targetPort: metrics
      protocol: TCP
@HEADLESS@{{- end }}
"""

HEADLESS = """---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@-headless
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "@UP@.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
  ports:
    - name: http
      port: {{ int $c.service.port }}
      targetPort: http
      protocol: TCP
"""

SERVICE_MONITOR = """{{- $c := .Values.@C@ }}
{{- if and @ENABLED@ $c.metrics.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
    {{- with $c.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "@UP@.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: @CN@
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ $c.metrics.serviceMonitor.interval }}
      scrapeTimeout: {{ $c.metrics.serviceMonitor.scrapeTimeout }}
{{- end }}
"""

POD_MONITOR = """{{- $c := .Values.@C@ }}
{{- if and $c.metrics.podMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
spec:
  selector:
    matchLabels:
      {{- include "@UP@.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: @CN@
  podMetricsEndpoints:
    - port: metrics
      path: /metrics
      interval: {{ $c.metrics.podMonitor.interval }}
{{- end }}
"""

PDB = """{{- $c := .Values.@C@ }}
{{- if $c.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
spec:
  maxUnavailable: {{ $c.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "@UP@.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: @CN@
{{- end }}
"""

HPA = """{{- $c := .Values.@C@ }}
{{- if $c.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "@UP@.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "@UP@.fullname" . }}-@CN@
  minReplicas: {{ int $c.autoscaling.minReplicas }}
  maxReplicas: {{ int $c.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ int $c.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
"""

NETPOL = """{{- if .Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "@UP@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "@UP@.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    {{- if .Values.networkPolicy.egress.enabled }}
    - Egress
    {{- end }}
  ingress:
    - ports:
        - protocol: TCP
          port: http
        - protocol: TCP
          port: metrics
  {{- if .Values.networkPolicy.egress.enabled }}
  egress:
    - ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 53
    {{- range .Values.networkPolicy.egress.extraPorts }}
    - ports:
        - protocol: TCP
          port: {{ int . }}
    {{- end }}
  {{- end }}
{{- end }}
"""

CUSTOM_RESOURCE = """{{- if .Values.defaultConfig.create }}
apiVersion: @GROUP@/v1
kind: @KIND@
metadata:
  name: {{ include "@UP@.fullname" . }}-default
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
spec:
  mode: {{ .Values.defaultConfig.mode }}
  replicas: {{ int .Values.defaultConfig.replicas }}
  paused: false
  selector:
    matchLabels:
      {{- include "@UP@.selectorLabels" . | nindent 6 }}
{{- end }}
"""

INSTANCES = """{{- /* One isolated runtime per entry of .Values.instances (tenants, gateways, pipelines...). */ -}}
{{- range $i, $t := .Values.instances }}
{{- $name := printf "%s-%s" (include "@UP@.fullname" $) $t.name | trunc 63 | trimSuffix "-" }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $t.name }}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $t.name }}
rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: [{{ $name | quote }}]
    verbs: ["get", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $t.name }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ $.Release.Namespace }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $t.name }}
data:
  tier: {{ $t.tier | quote }}
  settings.json: |
    {{- toPrettyJson (merge (dict "name" $t.name "port" $t.port) $t.settings $.Values.instanceDefaults) | nindent 4 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $t.name }}
spec:
  replicas: {{ int $t.replicas }}
  selector:
    matchLabels:
      {{- include "@UP@.selectorLabels" $ | nindent 6 }}
      app.kubernetes.io/component: {{ $t.name }}
  template:
    metadata:
      labels:
        {{- include "@UP@.selectorLabels" $ | nindent 8 }}
        app.kubernetes.io/component: {{ $t.name }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: runtime
          image: {{ include "@UP@.image" (dict "root" $ "image" $.Values.instanceImage) | quote }}
          args: ["--settings=/etc/instance/settings.json"]
          ports:
            - name: http
              containerPort: {{ int $t.port }}
              protocol: TCP
          livenessProbe:
            tcpSocket:
              port: http
            periodSeconds: 20
          readinessProbe:
            tcpSocket:
              port: http
          resources:
            {{- toYaml $.Values.instanceResources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: settings
              mountPath: /etc/instance
      volumes:
        - name: settings
          configMap:
            name: {{ $name }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $t.name }}
spec:
  selector:
    {{- include "@UP@.selectorLabels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $t.name }}
  ports:
    - name: http
      port: {{ int $t.port }}
      targetPort: http
      protocol: TCP
{{- end }}
"""

TEMPLATE_CRDS = """{{- if .Values.crds.install }}
{{- range $path, $_ := .Files.Glob "files/crds/*.yaml" }}
---
{{ $.Files.Get $path }}
{{- end }}
{{- end }}
"""

DASHBOARDS = """{{- /* Grafana-style dashboards shipped as ConfigMaps (picked up by a dashboard sidecar by label). */ -}}
{{- range $path, $_ := .Files.Glob "files/dashboards/*.json" }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-%s" (include "@UP@.fullname" $) (base $path | trimSuffix ".json") | trunc 63 | trimSuffix "-" }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
    {{ $.Values.dashboardLabel }}: "1"
data:
  {{ base $path }}: |-
    {{- $.Files.Get $path | nindent 4 }}
{{- end }}
"""

PIPELINES = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "@UP@.fullname" . }}-pipelines
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "@UP@.labels" . | nindent 4 }}
data:
  pipelines.yaml: |
    {{- toYaml .Values.pipelines | nindent 4 }}
  routing.json: |
    {{- toPrettyJson .Values.routing | nindent 4 }}
"""

RULES = """{{- if and .Values.prometheusRule.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
{{- range .Values.ruleGroups }}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ printf "%s-%s" (include "@UP@.fullname" $) .name | trunc 63 | trimSuffix "-" }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "@UP@.labels" $ | nindent 4 }}
spec:
  groups:
    - name: {{ .name }}
      rules:
        {{- toYaml .rules | nindent 8 }}
{{- end }}
{{- end }}
"""

REQUIRED_LINES = {
    "fqdn": '  external-url: {{ printf "https://%s" (required "externalDomain is required: set the registry\'s '
            'public domain (the Sovereign FQDN) in the cluster overlay" .Values.externalDomain) | quote }}\n',
    "bucket": '  storage-bucket: {{ required "storage.bucket is required: name the object storage bucket for '
              'this cluster" .Values.storage.bucket | quote }}\n',
}


# -- generated content -------------------------------------------------------------------------------


def flag_names(rng: random.Random, count: int) -> list[str]:
    names, seen = [], set()
    while len(names) < count:
        name = rng.choice(_FLAG_A) + rng.choice(_FLAG_B)
        if name in seen:
            name += str(len(names))
        seen.add(name)
        names.append(camel(name) if "-" in name else name)
    return names


def prose(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_PROSE) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def schema_node(rng: random.Random, depth: int, budget: list[int]) -> dict:
    """A random openAPIV3Schema subtree; `budget[0]` counts down the bytes still to produce."""
    kind = rng.random()
    if depth >= 5 or budget[0] <= 0 or kind < 0.55:
        leaf = rng.choice(("string", "integer", "boolean", "string", "enum", "quantity"))
        node: dict = {"description": prose(rng, rng.randint(8, 40))}
        if leaf == "enum":
            node.update(type="string", enum=[rng.choice(_FLAG_B) for _ in range(rng.randint(2, 5))])
        elif leaf == "integer":
            node.update(type="integer", format="int32", minimum=0, maximum=rng.choice((100, 65535, 2147483647)))
        elif leaf == "quantity":
            node.update({"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True,
                         "pattern": r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE])?$"})
        else:
            node["type"] = leaf
        budget[0] -= len(node["description"]) + 40
        return node
    if kind < 0.7:
        node = {"description": prose(rng, rng.randint(10, 30)), "type": "array",
                "items": schema_node(rng, depth + 1, budget)}
        if rng.random() < 0.3:
            node["x-kubernetes-list-type"] = "atomic"
        return node
    props = {}
    for _ in range(rng.randint(3, 9)):
        props[camel(rng.choice(_FLAG_A) + "-" + rng.choice(_FLAG_B).lower())] = schema_node(rng, depth + 1, budget)
    node = {"description": prose(rng, rng.randint(10, 30)), "type": "object", "properties": props}
    if rng.random() < 0.2:
        node["required"] = sorted(props)[:1]
    return node


def crd(group: str, kind: str, kib: int, seed: int, scope: str = "Namespaced") -> dict:
    """A CustomResourceDefinition whose openAPIV3Schema is about `kib` KiB of JSON."""
    rng = random.Random(seed)
    plural = kind.lower() + "s"
    budget = [kib * 1024]
    generated: dict = {}
    while budget[0] > 0:
        key = camel(rng.choice(_FLAG_A) + "-" + rng.choice(_FLAG_B).lower()) + str(len(generated))
        generated[key] = schema_node(rng, 1, budget)
    spec_props = {
        "mode": {"type": "string", "enum": ["standard", "strict", "permissive"], "description": "Operating mode."},
        "replicas": {"type": "integer", "format": "int32", "minimum": 0, "description": "Desired replicas."},
        "paused": {"type": "boolean", "description": "Stop reconciling while true."},
        "selector": {"type": "object", "description": "Pods this configuration applies to.",
                     "properties": {"matchLabels": {"type": "object",
                                                    "additionalProperties": {"type": "string"}}}},
        **generated,
    }
    schema = {"type": "object", "description": prose(rng, 30), "properties": {
        "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this object."},
        "kind": {"type": "string", "description": "Kind is a string value representing the REST resource."},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "description": prose(rng, 20), "properties": spec_props},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    }}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.5"}},
            "spec": {"group": group, "names": {"kind": kind, "listKind": kind + "List", "plural": plural,
                                              "singular": kind.lower()},
                     "scope": scope,
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema},
                                   "subresources": {"status": {}}}]}}


def dashboard(rng: random.Random, title: str, kib: int) -> str:
    panels, size, i = [], 0, 0
    while size < kib * 1024:
        metric = f"{rng.choice(_FLAG_A)}_{rng.choice(('requests', 'errors', 'latency_seconds', 'bytes'))}_total"
        panel = {"id": i + 1, "type": rng.choice(("timeseries", "stat", "gauge", "table")),
                 "title": f"{rng.choice(_FLAG_B)} {metric.replace('_', ' ').title()}",
                 "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
                 "datasource": {"type": "prometheus", "uid": "${datasource}"},
                 "targets": [{"refId": ref, "legendFormat": "{{namespace}} {{pod}}",
                              "expr": f'sum by (namespace, pod) (rate({metric}{{namespace=~"$namespace"}}[$__rate_interval]))'}
                             for ref in "AB"],
                 "fieldConfig": {"defaults": {"unit": rng.choice(("reqps", "s", "bytes", "percentunit")),
                                              "thresholds": {"mode": "absolute", "steps": [
                                                  {"color": "green", "value": None}, {"color": "red", "value": 80}]}},
                                 "overrides": []},
                 "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]},
                             "tooltip": {"mode": "multi", "sort": "desc"}},
                 "description": prose(rng, 25)}
        panels.append(panel)
        size += len(json.dumps(panel))
        i += 1
    return json.dumps({"title": title, "uid": title.lower().replace(" ", "-")[:40], "schemaVersion": 39,
                       "editable": False, "tags": ["catalyst", "generated"], "time": {"from": "now-6h", "to": "now"},
                       "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"},
                                               {"name": "namespace", "type": "query", "datasource": "${datasource}",
                                                "query": "label_values(up, namespace)"}]},
                       "panels": panels}, indent=2) + "\n"


def component_values(comp: Component, rng: random.Random, index: int) -> dict:
    values: dict = {}
    if comp.optional:
        values["enabled"] = False
    if comp.workload != "DaemonSet":
        values["replicas"] = 1
    values["image"] = {"repository": comp.dash, "tag": "", "pullPolicy": "IfNotPresent"}
    values["logLevel"] = "info"
    values["probePort"] = 8081
    values["terminationGracePeriodSeconds"] = 30
    values["extraArgs"] = []
    values["extraEnv"] = []
    values["podLabels"] = {}
    values["podAnnotations"] = {}
    values["priorityClassName"] = ""
    values["nodeSelector"] = {}
    values["tolerations"] = []
    values["affinity"] = {}
    values["resources"] = {"requests": {"cpu": f"{50 * (index + 1)}m", "memory": f"{64 * (index + 1)}Mi"},
                           "limits": {"memory": f"{256 * (index + 1)}Mi"}}
    values["service"] = {"type": "ClusterIP", "port": 8443 + index, "targetPort": 9443 + index, "annotations": {}}
    metrics: dict = {"port": 9090 + index}
    if comp.monitor and not comp.optional:
        if comp.workload == "DaemonSet":
            metrics["podMonitor"] = {"enabled": False, "interval": "30s"}
        else:
            metrics["serviceMonitor"] = {"enabled": False, "interval": "30s", "scrapeTimeout": "10s", "labels": {}}
    values["metrics"] = metrics
    if comp.pdb and not comp.optional:
        values["podDisruptionBudget"] = {"enabled": False, "maxUnavailable": 1}
    if comp.autoscaling and not comp.optional and comp.workload == "Deployment":
        values["autoscaling"] = {"enabled": False, "minReplicas": 1, "maxReplicas": 5,
                                 "targetCPUUtilizationPercentage": 75}
    if comp.workload == "StatefulSet":
        values["persistence"] = {"size": "8Gi", "storageClass": ""}
    values["config"] = {"workers": 4 + index, "resyncPeriod": "10m", "leaderElection": {"leaseDuration": "15s"},
                        "queue": {"qps": 50, "burst": 100},
                        "features": {f"{rng.choice(_FLAG_A)}{rng.choice(_FLAG_B)}": rng.random() < 0.5
                                     for _ in range(6)}}
    return values


@dataclass
class Upstream:
    name: str
    version: str
    profile: Profile
    group: str
    kind: str
    flags: list[tuple[str, bool, bool]] = field(default_factory=list)  # (values path, is toggle, referenced)
    defaults: dict[str, bool] = field(default_factory=dict)  # feature toggle path -> its default


def write_upstream(dest: Path, up: Upstream, seed: int, required: str) -> None:
    """The vendored upstream subchart `dest` (= <umbrella>/charts/<name>)."""
    rng = random.Random(seed)
    p = up.profile
    write(dest / "Chart.yaml", dump({
        "apiVersion": "v2", "name": up.name, "version": up.version, "appVersion": f"v{up.version}",
        "description": f"Stand-in for the upstream {up.name} chart ({p.archetype}), written for chartgate's benchmark.",
        "type": "application", "kubeVersion": ">=1.28.0-0",
        "keywords": [p.archetype, "operator"], "maintainers": [{"name": "bench"}]}))
    # Feature flags: most are `<flag>.enabled` toggles; the rest plain booleans under `tuning`.
    names = flag_names(rng, p.flags)
    features: dict = {}
    tuning: dict = {}
    flags = []
    for i, name in enumerate(names):
        default = rng.random() < 0.35
        referenced = i < p.referenced
        if i % 5 in (1, 3):
            tuning[name] = default
            flags.append((f"tuning.{name}", False, referenced))
        else:
            features[name] = {"enabled": default}
            if rng.random() < 0.3:
                features[name]["mode"] = rng.choice(("auto", "strict", "legacy"))
            flags.append((f"features.{name}.enabled", True, referenced))
    up.flags = flags
    up.defaults = {f"features.{name}.enabled": node["enabled"] for name, node in features.items()}
    values: dict = {
        "global": {"imageRegistry": IMAGE_REGISTRY},
        "commonLabels": {},
        "logFormat": "json",
        "serviceAccount": {"create": True, "name": "", "annotations": {}},
        "rbac": {"create": True, "extraClusterRules": []},
    }
    if p.nested_netpol:
        values["networkPolicy"] = {"enabled": False, "egress": {"enabled": False, "extraPorts": []}}
    if required == "fqdn":
        values["externalDomain"] = ""
    elif required == "bucket":
        values["storage"] = {"bucket": "", "region": ""}
    for index, comp in enumerate(p.components):
        values[comp.key] = component_values(comp, rng, index)
    if p.crds:
        values["defaultConfig"] = {"create": True, "mode": "standard", "replicas": 1}
    if p.template_crds:
        values["crds"] = {"install": True}
    if p.instances:
        values["instanceImage"] = {"repository": "runtime", "tag": ""}
        values["instanceResources"] = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
        values["instanceDefaults"] = {"drainSeconds": 30, "maxConnections": 1024, "logRequests": False}
        tiers = ("bronze", "silver", "gold")
        values["instances"] = [{"name": f"t{i:04d}", "tier": tiers[i % 3], "replicas": 1, "port": 8080 + (i % 50),
                                "settings": {"quota": 100 * (1 + i % 7), "burst": i % 2 == 0}}
                               for i in range(p.instances)]
    if p.dashboards:
        values["dashboardLabel"] = "grafana_dashboard"
    if p.pipelines:
        values["pipelines"] = {
            "receivers": {f"otlp/{i}": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{4317 + i}"}}}
                          for i in range(min(p.pipelines, 40))},
            "processors": {f"batch/{i}": {"send_batch_size": 512 + i, "timeout": "5s"} for i in range(p.pipelines)},
            "exporters": {f"otlp/{rng.choice(_FLAG_A)}{i}": {"endpoint": f"gateway-collector:{4317 + i % 40}",
                                                               "tls": {"insecure": True}}
                          for i in range(p.pipelines)},
            "service": {"pipelines": {f"signals/{i}": {"receivers": [f"otlp/{i % min(p.pipelines, 40)}"],
                                                        "processors": [f"batch/{i}"]}
                                      for i in range(p.pipelines)}}}
        values["routing"] = {"tables": [{"match": {"namespace": f"team-{i}", "severity": rng.choice(_FLAG_B)},
                                         "route": f"signals/{i}"} for i in range(p.pipelines)]}
    if p.rule_groups:
        values["prometheusRule"] = {"enabled": False}
        values["ruleGroups"] = [{"name": f"{rng.choice(_FLAG_A)}-rules-{g}", "rules": [
            {"alert": f"{rng.choice(_FLAG_B)}{rng.choice(_FLAG_B)}{r}",
             "expr": f'sum by (namespace) (rate({rng.choice(_FLAG_A)}_errors_total[5m])) > {r + 1}',
             "for": "10m", "labels": {"severity": rng.choice(("warning", "critical"))},
             "annotations": {"summary": prose(rng, 8), "description": prose(rng, 20)}}
            for r in range(8)]} for g in range(p.rule_groups)]
    values["features"] = features
    values["tuning"] = tuning
    header = (f"# Default values for {up.name}.\n# Stand-in for a large upstream chart: most feature flags "
              "below are documentation of the\n# payload's knobs and are read by the payload itself, not "
              "by these templates.\n")
    write(dest / "values.yaml", header + dump(values))

    t = dest / "templates"
    write(t / "_helpers.tpl", fill(HELPERS, UP=up.name))
    crd_kinds = [up.kind if i == 0 else f"{up.kind}{rng.choice(_FLAG_B)}{i}" for i in range(len(p.crds))]
    crd_kinds += [f"{rng.choice(_FLAG_B)}{rng.choice(_FLAG_B)}{i}" for i in range(p.template_crds)]
    crd_rules = ""
    if crd_kinds:  # the operator's own API: every resource by name, never a wildcard
        plurals = [k.lower() + "s" for k in crd_kinds]
        crd_rules = (f'  - apiGroups: ["{up.group}"]\n    resources: {json.dumps(plurals)}\n'
                     '    verbs: ["get", "list", "watch", "update", "patch"]\n'
                     f'  - apiGroups: ["{up.group}"]\n    resources: {json.dumps([x + "/status" for x in plurals])}\n'
                     '    verbs: ["get", "update", "patch"]\n')
    referenced = [(path, toggle) for path, toggle, ref in flags if ref]
    main = p.components[0]
    for comp in p.components:
        enabled = f"$c.enabled" if comp.optional else "true"
        subs = dict(UP=up.name, C=comp.key, CN=comp.dash, ENABLED=enabled, KIND=comp.workload)
        d = t / comp.dash
        write(d / "serviceaccount.yaml", fill(SERVICE_ACCOUNT, **subs))
        write(d / "rbac.yaml", fill(RBAC, **subs, CRD_RULES=crd_rules))
        flag_lines = ""
        if comp is main:
            flag_lines = "".join(f'  {kebab(path.split(".")[1])}: {{{{ .Values.{path} | quote }}}}\n'
                                 for path, _ in referenced)
        write(d / "configmap.yaml", fill(CONFIGMAP, **subs, FLAG_LINES=flag_lines,
                                         REQUIRED_LINE=REQUIRED_LINES.get(required, "") if comp is main else ""))
        replicas = ""
        if comp.workload != "DaemonSet":
            replicas = ("  {{- if not $c.autoscaling.enabled }}\n  replicas: {{ int $c.replicas }}\n  {{- end }}\n"
                        if comp.autoscaling and not comp.optional else "  replicas: {{ int $c.replicas }}\n")
        sts = comp.workload == "StatefulSet"
        write(d / f"{comp.workload.lower()}.yaml", fill(WORKLOAD, **subs, REPLICAS=replicas,
                                                         STS_HEAD=fill(STS_HEAD, **subs) if sts else "",
                                                         STS_MOUNT=STS_MOUNT if sts else "",
                                                         STS_TAIL=STS_TAIL if sts else ""))
        write(d / "service.yaml", fill(SERVICE, **subs, HEADLESS=fill(HEADLESS, **subs) if sts else ""))
        if comp.monitor and not comp.optional:
            if comp.workload == "DaemonSet":
                write(d / "podmonitor.yaml", fill(POD_MONITOR, **subs))
            else:
                write(d / "servicemonitor.yaml", fill(SERVICE_MONITOR, **subs))
        if comp.pdb and not comp.optional:
            write(d / "pdb.yaml", fill(PDB, **subs))
        if comp.autoscaling and not comp.optional and comp.workload == "Deployment":
            write(d / "hpa.yaml", fill(HPA, **subs))
    if p.guards:
        write(t / "guards.yaml", guard_template(guards(up)[0], ".Values"))
    if p.nested_netpol:
        write(t / "networkpolicy.yaml", fill(NETPOL, UP=up.name))
    if p.instances:
        write(t / "instances.yaml", fill(INSTANCES, UP=up.name))
    if p.dashboards:
        write(t / "dashboards.yaml", fill(DASHBOARDS, UP=up.name))
        for i in range(p.dashboards):
            title = f"{up.name.split('-')[0].title()} {rng.choice(_FLAG_B)} Overview {i + 1}"
            write(dest / "files" / "dashboards" / f"{up.name}-{i + 1:02d}.json", dashboard(rng, title, p.dashboard_kib))
    if p.pipelines:
        write(t / "pipelines.yaml", fill(PIPELINES, UP=up.name))
    if p.rule_groups:
        write(t / "prometheusrules.yaml", fill(RULES, UP=up.name))
    for i, kib in enumerate(p.crds):
        kind = crd_kinds[i]
        write(dest / "crds" / f"{kind.lower()}s.{up.group}.yaml", dump(crd(up.group, kind, kib, seed * 100 + i)))
    if p.crds:
        write(t / "defaultconfig.yaml", fill(CUSTOM_RESOURCE, UP=up.name, GROUP=up.group, KIND=up.kind))
    if p.template_crds:
        write(t / "crds.yaml", fill(TEMPLATE_CRDS, UP=up.name))
        for i in range(p.template_crds):
            kind = crd_kinds[len(p.crds) + i]
            doc = crd(up.group, kind, p.template_crd_kib, seed * 1000 + i, "Cluster")
            write(dest / "files" / "crds" / f"{i:04d}-{kind.lower()}.yaml", dump(doc))


# -- guards: the chart's own contract between its switches -------------------------------------------


def guards(up: Upstream) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(subchart guards, umbrella guards): `p.guards` of (kind, toggle a, toggle b) over the referenced
    feature toggles, like a CNI's: `excludes` (a and b never both on), `requires` (a on needs b on),
    `required` (a on needs a value nothing sets). Every guard lets the defaults render; one in four
    sits in the umbrella, which reads the subchart's values."""
    toggles = [path for path, toggle, ref in up.flags if toggle and ref]
    n, found = len(toggles), []
    for g in range(up.profile.guards if n >= 2 else 0):
        a = toggles[g % n]
        b = toggles[(g * 7 + 1 + g // n) % n]
        b = b if b != a else toggles[(g + 1) % n]
        da, db = up.defaults[a], up.defaults[b]
        allowed = {"excludes": not (da and db), "requires": not (da and not db), "required": not da}
        kinds = ("excludes", "requires", "required")
        kind = next(k for k in kinds[g % 3:] + kinds[:g % 3] if allowed[k])
        found.append((kind, a, b))
    return [x for i, x in enumerate(found) if i % 4 != 3], [x for i, x in enumerate(found) if i % 4 == 3]


def guard_template(found: list[tuple[str, str, str]], root: str, head: str = "") -> str:
    """Templates that render nothing and stop the render (`fail`/`required`) when a guard is broken."""
    lines = ["{{- /* The payload's contract between its feature switches. */ -}}\n", head]
    for kind, a, b in found:
        na, nb = a.split(".")[1], b.split(".")[1]
        if kind == "excludes":
            lines.append(f'{{{{- if and {root}.{a} {root}.{b} }}}}{{{{- fail "features.{na} and features.{nb} '
                         f'cannot be enabled together" }}}}{{{{- end }}}}\n')
        elif kind == "requires":
            lines.append(f'{{{{- if and {root}.{a} (not {root}.{b}) }}}}{{{{- fail "features.{na} requires '
                         f'features.{nb}.enabled=true" }}}}{{{{- end }}}}\n')
        else:
            lines.append(f'{{{{- if {root}.{a} }}}}{{{{- $_ := required "features.{na}.endpoint is required when '
                         f'features.{na} is enabled" {root}.features.{na}.endpoint }}}}{{{{- end }}}}\n')
    return "".join(lines)


# -- the umbrella ------------------------------------------------------------------------------------

UMBRELLA_HELPERS = """{{/* Overlay helpers for bp-@NAME@ (prefixed so they never clash with the subchart's). */}}
{{- define "bp-@NAME@.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bp-@NAME@.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
catalyst.openova.io/blueprint: bp-@NAME@
{{- end -}}

{{/* The upstream's main workload (same formula as the subchart's fullname). */}}
{{- define "bp-@NAME@.upstreamName" -}}
{{- printf "%s-%s" (printf "%s-%s" .Release.Name "@UP@" | trunc 63 | trimSuffix "-") "@MAIN@" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bp-@NAME@.upstreamSelector" -}}
app.kubernetes.io/name: @UP@
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: @MAIN@
{{- end -}}
"""

OVERLAY_NETPOL = """{{- if .Values.@KEY@.networkPolicy.enabled }}
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
      {{- include "bp-@NAME@.upstreamSelector" . | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    - ports:
        - protocol: TCP
          port: http
    {{- with .Values.@KEY@.networkPolicy.allowedNamespaces }}
      from:
        {{- range . }}
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ . }}
        {{- end }}
    {{- end }}
    - ports:
        - protocol: TCP
          port: metrics
{{- end }}
"""

OVERLAY_SM = """{{- if and .Values.@KEY@.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
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
      {{- include "bp-@NAME@.upstreamSelector" . | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ .Values.@KEY@.serviceMonitor.interval }}
{{- end }}
"""

OVERLAY_HPA = """{{- if .Values.@KEY@.hpa.enabled }}
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
    name: {{ include "bp-@NAME@.upstreamName" . }}
  minReplicas: {{ int .Values.@KEY@.hpa.minReplicas }}
  maxReplicas: {{ int .Values.@KEY@.hpa.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ int .Values.@KEY@.hpa.targetCPUUtilizationPercentage }}
{{- end }}
"""

OVERLAY_PDB = """{{- if .Values.@KEY@.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "bp-@NAME@.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  minAvailable: {{ int .Values.@KEY@.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "bp-@NAME@.upstreamSelector" . | nindent 6 }}
{{- end }}
"""

OVERLAY_GATEWAYCLASS = """{{- if .Capabilities.APIVersions.Has "gateway.networking.k8s.io/v1" }}
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: {{ .Values.@KEY@.gatewayClass.name }}
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  controllerName: io.cilium/gateway-controller
  description: Gateways of bp-@NAME@ on Cilium
{{- end }}
"""

OVERLAY_ISSUER = """apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: {{ include "bp-@NAME@.fullname" . }}-selfsigned
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bp-@NAME@.labels" . | nindent 4 }}
spec:
  selfSigned: {}
"""

OVERLAY_NOTES = """bp-@NAME@ installed {{ .Chart.AppVersion }} of @UP@ into {{ .Release.Namespace }}.
Optional overlays (NetworkPolicy, ServiceMonitor, HPA) are off until the cluster overlay enables them.
"""


@dataclass
class Blueprint:
    name: str  # without bp-
    index: int
    profile: Profile
    upstream: Upstream
    folder: Path

    @property
    def chart_name(self) -> str:
        return f"bp-{self.name}"

    @property
    def key(self) -> str:
        return camel(self.name).replace("-", "") + "Overlay"

    @property
    def chart(self) -> Path:
        return self.folder / "chart"


def config_schema(bp: Blueprint) -> dict:
    p, key = bp.profile, bp.key
    props: dict = {}
    if p.overlay:
        overlay: dict = {
            "networkPolicy": {"type": "object", "properties": {"enabled": {
                "type": "boolean", "default": False, "title": "Restrict ingress to the payload",
                "x-catalyst-ui-hint": "toggle"}}},
            "serviceMonitor": {"type": "object", "properties": {
                "enabled": {"type": "boolean", "default": False, "x-catalyst-ui-hint": "toggle"},
                "interval": {"type": "string", "enum": ["15s", "30s", "60s"], "default": "30s"}}},
        }
        if p.components[0].workload == "Deployment":
            overlay["hpa"] = {"type": "object", "properties": {
                "enabled": {"type": "boolean", "default": False},
                "minReplicas": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
                "maxReplicas": {"type": "integer", "minimum": 3, "maximum": 20, "default": 5},
                "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 10, "maximum": 95,
                                                   "default": 75}}}
        if p.pdb_overlay:
            overlay["podDisruptionBudget"] = {"type": "object", "properties": {
                "enabled": {"type": "boolean", "default": False},
                "minAvailable": {"type": "integer", "minimum": 0, "maximum": 1, "default": 1}}}
        props[key] = {"type": "object", "properties": overlay}
    main = p.components[0]
    up_props: dict = {main.key: {"type": "object", "properties": {
        "logLevel": {"type": "string", "enum": ["debug", "info", "warn", "error"], "default": "info",
                     "x-catalyst-ui-hint": "select"},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 5, "default": 1}}}} \
        if main.workload != "DaemonSet" else {main.key: {"type": "object", "properties": {
            "logLevel": {"type": "string", "enum": ["debug", "info", "warn", "error"], "default": "info"}}}}
    for path, toggle, referenced in bp.upstream.flags[:6]:
        if referenced and toggle:
            name = path.split(".")[1]
            up_props.setdefault("features", {"type": "object", "properties": {}})["properties"][name] = {
                "type": "object", "properties": {"enabled": {"type": "boolean",
                                                            "default": _flag_default(bp, path)}}}
    props[bp.upstream.name] = {"type": "object", "properties": up_props}
    return {"type": "object", "properties": props}


def _flag_default(bp: Blueprint, path: str) -> bool:
    values = yaml.safe_load((bp.chart / "charts" / bp.upstream.name / "values.yaml").read_text())
    node = values
    for part in path.split("."):
        node = node[part]
    return bool(node)


def write_blueprint(bp: Blueprint, seed: int) -> None:
    p, up = bp.profile, bp.upstream
    chart = bp.chart
    write_upstream(chart / "charts" / up.name, up, seed, p.required)
    write(chart / "Chart.yaml", dump({
        "apiVersion": "v2", "name": bp.chart_name, "version": "1.0.0", "type": "application",
        "appVersion": up.version,
        "description": f"Catalyst Blueprint umbrella chart for {bp.name}: wraps the upstream {up.name} chart"
                       + (" and adds Catalyst overlays (all optional overlays default off)." if p.overlay
                          else " (values-only: no templates of its own)."),
        "dependencies": [{"name": up.name, "version": up.version, "repository": REPOSITORY}]}))
    values: dict = {}
    comment = ("# Upstream values (the vendored subchart). Only Catalyst overrides live here; everything else\n"
               "# keeps the upstream default.\n")
    overrides: dict = {"commonLabels": {BLUEPRINT_LABEL: bp.chart_name}}
    main = p.components[0]
    overrides[main.key] = {"logLevel": "info"}
    for comp in p.components:
        if comp.monitor and not comp.optional:
            kind = "podMonitor" if comp.workload == "DaemonSet" else "serviceMonitor"
            overrides.setdefault(comp.key, {})["metrics"] = {kind: {"enabled": False}}
    if p.rule_groups:
        overrides["prometheusRule"] = {"enabled": False}
    values[up.name] = overrides
    if p.overlay:
        overlay: dict = {
            "networkPolicy": {"enabled": False, "allowedNamespaces": []},
            "serviceMonitor": {"enabled": False, "interval": "30s"},
        }
        if main.workload == "Deployment":  # the overlay HPA scales the upstream's main Deployment
            overlay["hpa"] = {"enabled": False, "minReplicas": 1, "maxReplicas": 5,
                              "targetCPUUtilizationPercentage": 75}
        if p.pdb_overlay:
            overlay["podDisruptionBudget"] = {"enabled": False, "minAvailable": 1}
        if p.gateway_class:
            overlay["gatewayClass"] = {"name": f"{bp.name}-cilium"}
        values[bp.key] = overlay
    values["catalystBlueprint"] = {"upstream": {"chart": up.name, "version": up.version, "repo": REPOSITORY}}
    text = comment + dump({up.name: values.pop(up.name)})
    if p.overlay:
        text += "\n# Catalyst overlay values consumed by this chart's own templates; every optional object is off.\n"
        text += dump({bp.key: values.pop(bp.key)})
    text += "\n# Provenance: the pinned upstream chart (must agree with Chart.yaml).\n" + dump(values)
    write(chart / "values.yaml", text)
    if p.overlay:
        subs = dict(NAME=bp.name, KEY=bp.key, UP=up.name, MAIN=main.dash)
        t = chart / "templates"
        write(t / "_helpers.tpl", fill(UMBRELLA_HELPERS, **subs))
        write(t / "NOTES.txt", fill(OVERLAY_NOTES, **subs))
        write(t / "networkpolicy.yaml", fill(OVERLAY_NETPOL, **subs))
        write(t / "servicemonitor.yaml", fill(OVERLAY_SM, **subs))
        if main.workload == "Deployment":
            write(t / "hpa.yaml", fill(OVERLAY_HPA, **subs))
        if p.pdb_overlay:
            write(t / "pdb.yaml", fill(OVERLAY_PDB, **subs))
        if p.gateway_class:
            write(t / "gatewayclass.yaml", fill(OVERLAY_GATEWAYCLASS, **subs))
        if p.issuer:
            write(t / "issuer.yaml", fill(OVERLAY_ISSUER, **subs))
        if p.guards:
            write(t / "guards.yaml", guard_template(guards(up)[1], "$up", f'{{{{- $up := index .Values "{up.name}" }}}}\n'))
    if p.required:
        ci_values = ({up.name: {"externalDomain": "registry.ci.example.test"}} if p.required == "fqdn"
                     else {up.name: {"storage": {"bucket": f"{bp.name}-ci", "region": "eu-1"}}})
        write(chart / "ci" / "default-values.yaml",
              "# chart-testing: the per-cluster value the chart requires, with a dummy value.\n" + dump(ci_values))
        on = json.loads(json.dumps(ci_values))
        if p.overlay:
            on[bp.key] = {"networkPolicy": {"enabled": True}, "serviceMonitor": {"enabled": True}}
        write(chart / "ci" / "overlays-values.yaml", "# chart-testing: every overlay on.\n" + dump(on))
    if p.overlay and p.nested_netpol:
        write(chart / "tests" / "observability-toggle.sh", OBS_TOGGLE_SH.replace("@KEY@", bp.key))
        (chart / "tests" / "observability-toggle.sh").chmod(0o755)
    depends = []
    if p.gateway_class:
        depends.append({"blueprint": "bp-cilium", "version": "^1"})
    if p.issuer:
        depends.append({"blueprint": "bp-cert-manager", "version": "^1"})
    spec: dict = {
        "version": "1.0.0",
        "card": {"title": bp.name.replace("-", " ").title(), "summary": f"{up.name} packaged as a Catalyst Blueprint.",
                 "icon": f"icons/{bp.name}.svg", "category": p.archetype, "tags": [p.archetype, "platform"]},
        "visibility": "listed" if bp.index % 5 else "unlisted",
        "owner": "platform-team",
        "configSchema": config_schema(bp),
        "placementSchema": {"modes": ["single-region", "multi-region"], "default": "single-region",
                            "minRegions": 1, "maxRegions": 3},
    }
    if depends:
        spec["depends"] = depends
    spec["manifests"] = {"chart": "./chart"}
    if bp.index % 3 == 0:
        spec["upgrades"] = {"from": ["0.9.x"], "blocks": []}
    if p.overlay:
        spec["observability"] = {"toggles": [f"{bp.key}.serviceMonitor.enabled"]}
    write(bp.folder / "blueprint.yaml", dump({
        "apiVersion": "catalyst.openova.io/v1alpha1", "kind": "Blueprint",
        "metadata": {"name": bp.chart_name, "labels": {"catalyst.openova.io/category": p.archetype}},
        "spec": spec}))


OBS_TOGGLE_SH = """#!/usr/bin/env bash
# The seed's observability gate for this chart: default-off, opt-in, explicit-off.
set -euo pipefail
chart="$(cd "$(dirname "$0")/.." && pwd)"
if helm template t "$chart" | grep -q '^apiVersion: monitoring.coreos.com'; then echo "default-off: FAIL"; exit 1; fi
helm template t "$chart" --set @KEY@.serviceMonitor.enabled=true --api-versions monitoring.coreos.com/v1 \\
  | grep -q '^kind: ServiceMonitor' || { echo "opt-in: FAIL"; exit 1; }
if helm template t "$chart" --set @KEY@.serviceMonitor.enabled=false --api-versions monitoring.coreos.com/v1 \\
  | grep -q '^kind: ServiceMonitor'; then echo "explicit-off: FAIL"; exit 1; fi
echo "observability toggles: ok"
"""


def upstream_suffix(archetype: str) -> str:
    return {"cni": "agent", "observability": "stack", "registry": "registry", "tenants": "gateway",
            "provider": "provider"}.get(archetype, "operator")


def write_composite(root: Path, members: list[Blueprint]) -> Path:
    """products/<suite>: one umbrella whose dependencies are the member bp-* charts, vendored unpacked."""
    name = "suite"
    folder = root / "products" / name
    chart = folder / "chart"
    deps = [{"name": m.chart_name, "version": "1.0.0", "repository": BLUEPRINT_REPOSITORY} for m in members]
    write(chart / "Chart.yaml", dump({
        "apiVersion": "v2", "name": f"bp-{name}", "version": "1.0.0", "type": "application",
        "description": "Composite Blueprint: ten platform Blueprints installed as one product.",
        "dependencies": deps}))
    values: dict = {}
    for m in members:
        member_values: dict = {}
        if m.profile.overlay:
            member_values[m.key] = {"serviceMonitor": {"enabled": False}}
        member_values[m.upstream.name] = {"commonLabels": {BLUEPRINT_LABEL: f"bp-{name}"}}
        values[m.chart_name] = member_values
    write(chart / "values.yaml", "# Per-member overrides; each member keeps its own defaults otherwise.\n" + dump(values))
    for m in members:
        shutil.copytree(m.chart, chart / "charts" / m.chart_name)
    # What the members need installed first, the product needs too.
    depends = {}
    for m in members:
        blueprint = yaml.safe_load((m.folder / "blueprint.yaml").read_text())
        for dep in blueprint["spec"].get("depends", []):
            depends.setdefault(dep["blueprint"], dep)
    spec: dict = {"version": "1.0.0", "card": {"title": "Suite", "summary": "Ten Blueprints as one product.",
                                               "category": "product"},
                  "visibility": "listed", "owner": "product-team"}
    if depends:
        spec["depends"] = [depends[k] for k in sorted(depends)]
    spec["manifests"] = {"chart": "./chart"}
    write(folder / "blueprint.yaml", dump({
        "apiVersion": "catalyst.openova.io/v1alpha1", "kind": "Blueprint",
        "metadata": {"name": f"bp-{name}", "labels": {"catalyst.openova.io/category": "product"}},
        "spec": spec}))
    return chart


def release_values(bp: Blueprint, cluster: str, seq: int) -> dict:
    values: dict = {}
    up = bp.upstream.name
    if bp.profile.required == "fqdn":
        values[up] = {"externalDomain": "${SOVEREIGN_FQDN}" if cluster == "_template"
                      else f"registry.{cluster}.example.test"}
    elif bp.profile.required == "bucket":
        values[up] = {"storage": {"bucket": f"{bp.name}-{cluster}".replace("_", ""), "region": "eu-1"}}
    if cluster != "_template":
        if bp.profile.overlay:
            values[bp.key] = {"serviceMonitor": {"enabled": True}, "networkPolicy": {"enabled": seq % 2 == 0}}
        main = bp.profile.components[0]
        if main.monitor:
            kind = "podMonitor" if main.workload == "DaemonSet" else "serviceMonitor"
            values.setdefault(up, {})[main.key] = {"metrics": {kind: {"enabled": True}}, "logLevel": "info"}
    return values


def helm_release(chart_name: str, release: str, namespace: str, values: dict) -> str:
    doc = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
           "metadata": {"name": chart_name, "namespace": "flux-system"},
           "spec": {"interval": "10m", "releaseName": release, "targetNamespace": namespace,
                    "install": {"createNamespace": True, "remediation": {"retries": 3}},
                    "chart": {"spec": {"chart": chart_name, "version": "1.0.0",
                                       "sourceRef": {"kind": "HelmRepository", "name": "blueprints"}}}}}
    if values:
        doc["spec"]["values"] = values
    return dump(doc)


def write_clusters(root: Path, blueprints: list[Blueprint], composite: str | None) -> int:
    """Flux HelmReleases: `_template` installs everything, sovereign-eu two thirds, sovereign-ch a third."""
    count = 0
    for cluster in CLUSTERS:
        seq = 0
        for bp in blueprints:
            if cluster == "sovereign-eu" and bp.index % 3 == 1:
                continue
            if cluster == "sovereign-ch" and (bp.index % 2 or bp.index % 3 == 2):
                continue
            seq += 1
            write(root / "clusters" / cluster / "bootstrap-kit" / f"{seq:02d}-{bp.name}.yaml",
                  helm_release(bp.chart_name, bp.name, f"{bp.name}-system", release_values(bp, cluster, seq)))
            count += 1
        if composite:
            seq += 1
            write(root / "clusters" / cluster / "bootstrap-kit" / f"{seq:02d}-suite.yaml",
                  helm_release(composite, "suite", "suite-system", {}))
            count += 1
    return count


# -- mainstream-style generic charts (checkov comparison) ----------------------------------------------


def write_mainstream(root: Path, helm: Path | None) -> list[Path]:
    from mainstream import write_mainstream_charts  # noqa: PLC0415 (kept in its own module: long templates)
    return write_mainstream_charts(root / "mainstream", helm)


# -- entry points ------------------------------------------------------------------------------------


def plan_blueprints(root: Path, count: int, scale: float) -> list[Blueprint]:
    profiles = monorepo_profiles()
    out = []
    for index, name in enumerate(chart_names(count)):
        profile = scaled(profiles[index % len(profiles)], scale)
        up_name = f"{name}-{upstream_suffix(profile.archetype)}"
        version = f"{1 + index % 3}.{index % 11}.{index % 5}"
        group = f"{name.replace('-', '')}.catalyst.example"
        kind = name.replace("-", "").capitalize() + "Config"
        up = Upstream(up_name, version, profile, group, kind)
        out.append(Blueprint(name, index, profile, up, Path(root) / "platform" / name))
    return out


def guarded_blueprint(root: Path, scale: float, index: int = DEFAULT_CHARTS) -> Blueprint:
    """The guard-heavy CNI umbrella (`bp-warden`), written beside the others by `generate(guarded=True)`."""
    profile = scaled(GUARDED, scale)
    up = Upstream(f"{GUARDED_NAME}-agent", "1.16.3", profile, "warden.catalyst.example", "WardenConfig")
    return Blueprint(GUARDED_NAME, index, profile, up, Path(root) / "platform" / GUARDED_NAME)


def generate(root: Path, count: int = DEFAULT_CHARTS, scale: float = 1.0, *, composite: bool = True,
             mainstream: bool = False, helm: Path | None = None, guarded: bool = False) -> list[Path]:
    """Write the monorepo under `root`; returns the chart directories (platform, then products).
    `guarded`: also the guard-heavy chart (`guarded_blueprint`; no HelmRelease installs it)."""
    root = Path(root)
    blueprints = plan_blueprints(root, count, scale)
    for bp in blueprints:
        write_blueprint(bp, seed=1000 + bp.index)
    charts = [bp.chart for bp in blueprints]
    if guarded:
        warden = guarded_blueprint(root, scale)
        write_blueprint(warden, seed=1000 + warden.index)
        charts.append(warden.chart)
    composite_name = None
    if composite and count >= 2:
        # mid-sized members (operators) first, as a product bundles services rather than CNIs
        members = sorted((bp for bp in blueprints if not bp.profile.required),
                         key=lambda bp: (bp.profile.archetype != "operator", bp.index))[:10]
        members.sort(key=lambda bp: bp.index)
        charts.append(write_composite(root, members))
        composite_name = "bp-suite"
    write_clusters(root, blueprints, composite_name)
    if mainstream:
        write_mainstream(root, helm)
    return charts


def _bool_leaves(node) -> tuple[int, int]:
    """(boolean values, of which `enabled`/`create` switches) in a values tree."""
    booleans = toggles = 0
    stack = [(None, node)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.items())
        elif isinstance(value, bool):
            booleans += 1
            toggles += key in ("enabled", "enable", "create")
    return booleans, toggles


def describe(root: Path, helm: Path) -> list[dict]:
    """Per chart: rendered objects and bytes (default values; the ci file where a value is required),
    booleans and toggles in the values (umbrella and vendored charts), and the largest CRD schema."""
    rows = []
    home = Path(root) / ".describe-helm"
    env = {"HELM_CONFIG_HOME": str(home / "c"), "HELM_CACHE_HOME": str(home / "k"), "HELM_DATA_HOME": str(home / "d"),
           "PATH": "/usr/bin:/bin", "KUBECONFIG": str(home / "none")}
    for chart_yaml in sorted(Path(root).glob("*/*/chart/Chart.yaml")) + sorted(Path(root).glob("mainstream/*/Chart.yaml")):
        chart = chart_yaml.parent
        ci = sorted(chart.glob("ci/*-values.yaml"))
        proc = subprocess.run([str(helm), "template", "rel", str(chart), *(["-f", str(ci[0])] if ci else [])],
                              capture_output=True, text=True, env=env)
        objects = sum(1 for line in proc.stdout.splitlines() if line.startswith("kind: "))
        booleans = toggles = 0
        for values in chart.rglob("values.yaml"):
            b, t = _bool_leaves(yaml.load(values.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
            booleans, toggles = booleans + b, toggles + t
        crd_sizes = []
        for path in sorted(set(chart.rglob("crds/*.yaml"))):
            doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            for version in (doc or {}).get("spec", {}).get("versions", []):
                crd_sizes.append(len(json.dumps(version.get("schema", {}).get("openAPIV3Schema", {}))))
        rows.append({"chart": str(chart.relative_to(root)), "rc": proc.returncode, "objects": objects,
                     "render_bytes": len(proc.stdout), "booleans": booleans, "toggles": toggles,
                     "crds": len(crd_sizes), "largest_crd_schema_bytes": max(crd_sizes, default=0),
                     "crd_schema_bytes": sum(crd_sizes), "templates": len(list(chart.rglob("templates/*.yaml")))
                     + len(list(chart.rglob("templates/*/*.yaml")))})
    shutil.rmtree(home, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="directory to write the monorepo into (created)")
    parser.add_argument("--charts", type=int, default=DEFAULT_CHARTS, help="number of platform Blueprints")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor for every chart (1 = realistic)")
    parser.add_argument("--no-composite", action="store_true", help="leave out products/suite")
    parser.add_argument("--guarded", action="store_true", help="also write the guard-heavy bp-warden")
    parser.add_argument("--mainstream", action="store_true", help="also write mainstream/ (generic charts)")
    parser.add_argument("--helm", type=Path, default=DEFAULT_HELM, help="Helm binary for `helm create`")
    parser.add_argument("--describe", action="store_true",
                        help="then render every chart with Helm and print its size (objects, booleans, CRDs)")
    args = parser.parse_args(argv)
    charts = generate(args.dest, args.charts, args.scale, composite=not args.no_composite,
                      mainstream=args.mainstream, helm=args.helm, guarded=args.guarded)
    print(f"wrote {len(charts)} Blueprint charts under {args.dest}")
    if args.describe:
        rows = describe(args.dest, args.helm)
        print(f"{'chart':38} {'rc':>2} {'objects':>7} {'render':>9} {'bools':>5} {'toggles':>7} {'crds':>4} "
              f"{'largest CRD schema':>18} {'templates':>9}")
        for r in rows:
            print(f"{r['chart']:38} {r['rc']:>2} {r['objects']:>7} {r['render_bytes'] / 1024:>7.0f}KB {r['booleans']:>5} "
                  f"{r['toggles']:>7} {r['crds']:>4} {r['largest_crd_schema_bytes'] / 1024:>16.0f}KB {r['templates']:>9}")
        total = sum(r["objects"] for r in rows)
        print(f"total: {len(rows)} charts, {total} objects in the default renders")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
