"""An external chart repository, as a platform team would have it - written here, outside chartgate's
checkout, for the packaging tests. Three charts shaped like `helm create`'s, `[tool.chartgate]` in
its pyproject.toml and one policy module of its own in a folder that is not called `policies`:

- charts/web: a debugging sidecar behind `debug.enabled` (off by default) runs privileged - a planted
  defect only a render with the toggle on shows (SEC-001);
- charts/api: its Deployment `required`s `database.host`, which the chart's `ci/default-values.yaml`
  supplies (the chart-testing convention); without that file the chart cannot render at all;
- charts/shop: an umbrella over web (`repository: file://../web`), vendored as `helm dependency
  update` leaves it, `charts/web-0.1.0.tgz`, and passing web nothing: web's findings are web's;
- gate-checks/team.py: TEAM-001, every Deployment names its owning team - no chart does, a planted
  defect only this repository's policy knows about.
"""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path

CHART_YAML = """\
apiVersion: v2
name: {name}
description: {description}
type: application
version: 0.1.0
appVersion: "{app_version}"
"""

HELMIGNORE = ".git/\n*.swp\n*.bak\n.idea/\n"

#: `helm create`'s _helpers.tpl, for the chart named CHART.
HELPERS_TPL = """\
{{- define "CHART.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "CHART.fullname" -}}
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

{{- define "CHART.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "CHART.selectorLabels" -}}
app.kubernetes.io/name: {{ include "CHART.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "CHART.labels" -}}
helm.sh/chart: {{ include "CHART.chart" . }}
{{ include "CHART.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "CHART.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "CHART.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
"""

#: `helm create`'s values.yaml (trimmed to what the templates below read); {extra} is appended.
VALUES_YAML = """\
replicaCount: 1
image:
  repository: {image}
  pullPolicy: IfNotPresent
  tag: "{tag}"
imagePullSecrets: []
nameOverride: ""
fullnameOverride: ""
serviceAccount:
  create: true
  automount: true
  annotations: {{}}
  name: ""
podAnnotations: {{}}
podLabels: {{}}
podSecurityContext: {{}}
securityContext: {{}}
service:
  type: ClusterIP
  port: {port}
resources: {{}}
nodeSelector: {{}}
tolerations: []
affinity: {{}}
{extra}"""

#: `helm create`'s deployment.yaml; {env} and {sidecars} are the chart's own additions.
DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "CHART.fullname" . }}}}
  labels:
    {{{{- include "CHART.labels" . | nindent 4 }}}}
spec:
  replicas: {{{{ .Values.replicaCount }}}}
  selector:
    matchLabels:
      {{{{- include "CHART.selectorLabels" . | nindent 6 }}}}
  template:
    metadata:
      labels:
        {{{{- include "CHART.labels" . | nindent 8 }}}}
    spec:
      serviceAccountName: {{{{ include "CHART.serviceAccountName" . }}}}
      securityContext:
        {{{{- toYaml .Values.podSecurityContext | nindent 8 }}}}
      containers:
        - name: {{{{ .Chart.Name }}}}
          securityContext:
            {{{{- toYaml .Values.securityContext | nindent 12 }}}}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag | default .Chart.AppVersion }}}}"
          imagePullPolicy: {{{{ .Values.image.pullPolicy }}}}
          ports:
            - name: http
              containerPort: {{{{ .Values.service.port }}}}
              protocol: TCP
{env}          resources:
            {{{{- toYaml .Values.resources | nindent 12 }}}}
{sidecars}"""

SERVICE_YAML = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "CHART.fullname" . }}
  labels:
    {{- include "CHART.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "CHART.selectorLabels" . | nindent 4 }}
"""

SERVICEACCOUNT_YAML = """\
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "CHART.serviceAccountName" . }}
  labels:
    {{- include "CHART.labels" . | nindent 4 }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
{{- end }}
"""

#: web's planted toggle-dependent defect: the debugging sidecar runs privileged, and only renders with
#: `debug.enabled=true` - a defaults-only check never sees it.
WEB_DEBUG_VALUES = """\
# A debugging sidecar (tcpdump, strace) for a release under investigation.
debug:
  enabled: false
  image: registry.example.org/tools/netdebug:1.4.2
"""
WEB_DEBUG_SIDECAR = """\
        {{- if .Values.debug.enabled }}
        - name: debug
          image: {{ .Values.debug.image | quote }}
          command: ["sleep", "infinity"]
          securityContext:
            privileged: true
        {{- end }}
"""

#: api's required input: the database it talks to has no sensible default.
API_VALUES = """\
database:
  # The PostgreSQL server this API uses; every installation sets it.
  host: ""
  port: 5432
"""
API_ENV = """\
          env:
            - name: DATABASE_HOST
              value: {{ required "api needs database.host: the PostgreSQL server it uses" .Values.database.host | quote }}
            - name: DATABASE_PORT
              value: {{ .Values.database.port | quote }}
"""
API_CI_VALUES = """\
# chart-testing (ct lint/install) renders the chart with this file.
database:
  host: postgres.databases.svc.cluster.local
"""

SHOP_CHART_YAML = CHART_YAML + """\
dependencies:
  - name: web
    version: 0.1.0
    repository: file://../web
"""
SHOP_VALUES = """\
nameOverride: ""
fullnameOverride: ""
# The shop's own settings; the web front end runs with its chart's defaults.
settings:
  currency: EUR
  checkoutTimeoutSeconds: 30
"""
SHOP_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "shop.fullname" . }}-settings
  labels:
    {{- include "shop.labels" . | nindent 4 }}
data:
  currency: {{ .Values.settings.currency | quote }}
  checkout-timeout-seconds: {{ .Values.settings.checkoutTimeoutSeconds | quote }}
"""
SHOP_HELPERS = "\n\n".join(HELPERS_TPL.split("\n\n")[:-1]) + "\n"  # no service account of its own

#: The repository's own rule: every Deployment names its owning team. No chart above has that label,
#: so the rule fails on each - a planted defect only this repository's policy knows about.
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

#: The planted toggle-dependent defect, as the reports name it.
DEBUG_SCENARIO_VALUE = "debug.enabled=true"


def _service_chart(name: str, *, description: str, image: str, tag: str, port: int, extra_values: str = "",
                   env: str = "", sidecars: str = "") -> dict[str, str]:
    """A `helm create NAME` chart (deployment, service, service account, NOTES.txt), relative paths -> text."""
    def named(text: str) -> str:
        return text.replace("CHART.", f"{name}.")
    return {
        "Chart.yaml": CHART_YAML.format(name=name, description=description, app_version=tag),
        "values.yaml": VALUES_YAML.format(image=image, tag=tag, port=port, extra=extra_values),
        ".helmignore": HELMIGNORE,
        "templates/_helpers.tpl": named(HELPERS_TPL),
        "templates/deployment.yaml": named(DEPLOYMENT_YAML.format(env=env, sidecars=sidecars)),
        "templates/service.yaml": named(SERVICE_YAML),
        "templates/serviceaccount.yaml": named(SERVICEACCOUNT_YAML),
        "templates/NOTES.txt": f"Installed {name} as {{{{ .Release.Name }}}}.\n",
    }


def chart_files() -> dict[str, dict[str, str]]:
    """chart name -> its files (relative path -> text), the umbrella's vendored copy excepted."""
    web = _service_chart("web", description="The shop's web front end", image="nginx", tag="1.27.3", port=80,
                         extra_values=WEB_DEBUG_VALUES, sidecars=WEB_DEBUG_SIDECAR)
    api = _service_chart("api", description="The shop's order API", image="registry.example.org/shop/api",
                         tag="2.3.0", port=8080, extra_values=API_VALUES, env=API_ENV)
    api["ci/default-values.yaml"] = API_CI_VALUES
    shop = {
        "Chart.yaml": SHOP_CHART_YAML.format(name="shop", description="The shop, its settings and its web front end",
                                             app_version="1.0.0"),
        "values.yaml": SHOP_VALUES,
        ".helmignore": HELMIGNORE,
        "templates/_helpers.tpl": SHOP_HELPERS.replace("CHART.", "shop."),
        "templates/configmap.yaml": SHOP_CONFIGMAP,
        "templates/NOTES.txt": "The shop is installed as {{ .Release.Name }}.\n",
    }
    return {"web": web, "api": api, "shop": shop}


def vendor(repo: Path, dependency: str = "web", umbrella: str = "shop") -> Path:
    """Package charts/<dependency> into charts/<umbrella>/charts/<dependency>-0.1.0.tgz, as `helm
    dependency update` does (the files under a `<dependency>/` directory, .helmignore applied - this
    repository's ignore rules match nothing it holds); returns the archive."""
    source = repo / "charts" / dependency
    target = repo / "charts" / umbrella / "charts" / f"{dependency}-0.1.0.tgz"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{dependency}/{path.relative_to(source).as_posix()}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return target


def write_external_repository(root: Path, *, pyproject: str = PYPROJECT, ci_values: bool = True,
                              team_label: bool = False) -> Path:
    """The repository at `root` (see the module docstring); `ci_values=False` leaves out api's
    ci/default-values.yaml, so api's required value is unset everywhere; `team_label=True` gives every
    chart's objects the team label TEAM-001 asks for. Returns `root`."""
    files = {root / "gate-checks" / "team.py": OWN_POLICY, root / "pyproject.toml": textwrap.dedent(pyproject)}
    for chart, chart_files_ in chart_files().items():
        for rel, text in chart_files_.items():
            if team_label and rel == "templates/_helpers.tpl":
                text = text.replace("app.kubernetes.io/managed-by:", "example.org/team: shop\napp.kubernetes.io/managed-by:")
            if ci_values or not rel.startswith("ci/"):
                files[root / "charts" / chart / rel] = text
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    vendor(root)
    return root
