"""An external chart repository, as a platform team would have it: one `helm create`-style chart,
`[tool.chartgate]` in its pyproject.toml, and one policy module of its own in a folder that is not
called `policies` - written here, outside chartgate's checkout, for the packaging tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

CHART_YAML = """\
apiVersion: v2
name: web
description: A Helm chart for Kubernetes
type: application
version: 0.1.0
appVersion: "1.16.0"
"""

VALUES_YAML = """\
replicaCount: 1
image:
  repository: nginx
  pullPolicy: IfNotPresent
  tag: "1.27.3"
imagePullSecrets: []
nameOverride: ""
fullnameOverride: ""
serviceAccount:
  create: true
  automount: true
  annotations: {}
  name: ""
podAnnotations: {}
podLabels: {}
podSecurityContext: {}
securityContext: {}
service:
  type: ClusterIP
  port: 80
resources: {}
nodeSelector: {}
tolerations: []
affinity: {}
"""

HELPERS_TPL = """\
{{- define "web.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "web.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "web.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "web.selectorLabels" -}}
app.kubernetes.io/name: {{ include "web.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "web.labels" -}}
helm.sh/chart: {{ include "web.chart" . }}
{{ include "web.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "web.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "web.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
"""

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "web.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "web.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "web.serviceAccountName" . }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"""

SERVICE_YAML = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "web.selectorLabels" . | nindent 4 }}
"""

SERVICEACCOUNT_YAML = """\
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "web.serviceAccountName" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
{{- end }}
"""

#: The repository's own rule: every Deployment names its owning team. The chart above has no such
#: label, so the rule fails on it - a planted defect only this repository's policy knows about.
OWN_POLICY = '''\
"""This repository's own policies."""

from chartgate import Applicability, Finding, ScenarioContext, policy


@policy(
    id="TEAM-001",
    title="Every Deployment names its owning team",
    rationale="""On-call finds the owner of a workload by its team label.""",
    reference="https://example.invalid/handbook#team-label",
    receives="scenario",
    applies_to=Applicability(scenarios="*"),
)
def deployments_name_their_team(ctx: ScenarioContext):
    for manifest in ctx.render.of_kind("Deployment"):
        if "example.org/team" not in ((manifest.body.get("metadata") or {}).get("labels") or {}):
            yield Finding.on(manifest, "$.metadata.labels", "no example.org/team label")
'''

PYPROJECT = """\
[project]
name = "platform-charts"
version = "0"

[tool.pytest.ini_options]
addopts = "-p no:cacheprovider"
markers = ["team: marks nothing; proves this file's pytest options are read"]

[tool.chartgate]
chart-roots = ["charts"]
policies = "gate-checks"
report-dir = "out/gate-reports"
helm-versions = ["4.1.4"]
"""


def write_external_repository(root: Path, *, pyproject: str = PYPROJECT) -> Path:
    """The repository at `root`: charts/web, gate-checks/team.py, pyproject.toml; returns `root`."""
    chart = root / "charts" / "web"
    files = {
        chart / "Chart.yaml": CHART_YAML,
        chart / "values.yaml": VALUES_YAML,
        chart / ".helmignore": ".git/\n*.swp\n",
        chart / "templates" / "_helpers.tpl": HELPERS_TPL,
        chart / "templates" / "deployment.yaml": DEPLOYMENT_YAML,
        chart / "templates" / "service.yaml": SERVICE_YAML,
        chart / "templates" / "serviceaccount.yaml": SERVICEACCOUNT_YAML,
        chart / "templates" / "NOTES.txt": "Installed {{ .Release.Name }}.\n",
        root / "gate-checks" / "team.py": OWN_POLICY,
        root / "pyproject.toml": pyproject,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if path.suffix == ".toml" else text)
    return root
