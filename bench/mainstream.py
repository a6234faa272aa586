"""Generic charts (no blueprint.yaml) shaped like popular public charts, for the checkov comparison.

    mainstream/demo/             `helm create demo`, generated with the real Helm binary
    mainstream/probe-exporter/   an exporter: Deployment, Service, modules ConfigMap, one ServiceMonitor
                                 per probe target, PrometheusRule, PDB, NetworkPolicy
    mainstream/edge-ingress/     an ingress controller: controller, IngressClass, RBAC, admission webhook
                                 with hook Jobs, metrics Service, HPA/PDB, optional default backend
    mainstream/cert-issuer/      a certificate controller with its CRDs in templates (crds.enabled),
                                 controller, webhook, CA injector, startup check hook Job
    mainstream/keyvalue/         an application built on a `common` library subchart (names, labels,
                                 images helpers), StatefulSet with a generated password Secret and an
                                 optional metrics sidecar
    mainstream/cache-ha/         a replicated cache: hardening switches, per-replica Services, a binding
                                 to the account the user supplies; an optional exporter sidecar
    mainstream/queue-operator/   an operator with CRDs in templates, webhook configurations patched by
                                 name, bindings to its account whether or not it is created
    mainstream/config-reloader/  a config reloader: OpenShift-only RBAC gated on the API and a flag, a
                                 ServiceMonitor that fails without its CRDs, a values schema, a
                                 metrics Service nested in the Service's `if`, lookup-kept password

Written for chartgate's benchmark; patterns are the common ones of public charts, the text is ours.
Like real public charts they are not all written to chartgate's Blueprint contracts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from monorepo import crd, dump, fill, write

COMMON_HELPERS = """{{/* Library helpers shared by application charts (names, labels, images, tpl values). */}}
{{- define "common.names.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.names.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "common.names.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.labels.matchLabels" -}}
app.kubernetes.io/name: {{ include "common.names.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "common.labels.standard" -}}
{{ include "common.labels.matchLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "common.images.image" -}}
{{- $registry := .imageRoot.registry | default .global.imageRegistry -}}
{{- $tag := .imageRoot.tag | toString -}}
{{- if .imageRoot.digest -}}
{{- printf "%s/%s@%s" $registry .imageRoot.repository .imageRoot.digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $registry .imageRoot.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "common.tplvalues.render" -}}
{{- if typeIs "string" .value -}}
{{- tpl .value .context -}}
{{- else -}}
{{- tpl (.value | toYaml) .context -}}
{{- end -}}
{{- end -}}

{{- define "common.secrets.passwords.manage" -}}
{{- $provided := index .providedValues 0 -}}
{{- if $provided -}}
{{- $provided | b64enc | quote -}}
{{- else -}}
{{- randAlphaNum (int .length) | b64enc | quote -}}
{{- end -}}
{{- end -}}
"""

KEYVALUE_TEMPLATES = {
    "statefulset.yaml": """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "common.names.fullname" . }}
  namespace: {{ include "common.names.namespace" . }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  serviceName: {{ include "common.names.fullname" . }}-headless
  selector:
    matchLabels: {{- include "common.labels.matchLabels" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "common.labels.standard" . | nindent 8 }}
      annotations:
        checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
    spec:
      serviceAccountName: {{ include "common.names.fullname" . }}
      securityContext: {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: keyvalue
          image: {{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global) }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          securityContext: {{- toYaml .Values.containerSecurityContext | nindent 12 }}
          env:
            - name: KV_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ include "common.names.fullname" . }}
                  key: password
            {{- with .Values.extraEnvVars }}
            {{- include "common.tplvalues.render" (dict "value" . "context" $) | nindent 12 }}
            {{- end }}
          ports:
            - name: kv
              containerPort: {{ .Values.containerPorts.kv }}
          livenessProbe:
            tcpSocket:
              port: kv
            initialDelaySeconds: 20
          readinessProbe:
            exec:
              command: ["kv-cli", "ping"]
          resources: {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - name: data
              mountPath: /data
        {{- if .Values.metrics.enabled }}
        - name: metrics
          image: {{ include "common.images.image" (dict "imageRoot" .Values.metrics.image "global" .Values.global) }}
          securityContext: {{- toYaml .Values.containerSecurityContext | nindent 12 }}
          ports:
            - name: http-metrics
              containerPort: 9121
          resources: {{- toYaml .Values.metrics.resources | nindent 12 }}
        {{- end }}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: {{- toYaml .Values.persistence.accessModes | nindent 10 }}
        resources:
          requests:
            storage: {{ .Values.persistence.size | quote }}
""",
    "services.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ include "common.names.fullname" . }}
  namespace: {{ include "common.names.namespace" . }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - name: kv
      port: {{ .Values.service.port }}
      targetPort: kv
  selector: {{- include "common.labels.matchLabels" . | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "common.names.fullname" . }}-headless
  namespace: {{ include "common.names.namespace" . }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
spec:
  clusterIP: None
  ports:
    - name: kv
      port: {{ .Values.service.port }}
      targetPort: kv
  selector: {{- include "common.labels.matchLabels" . | nindent 4 }}
{{- if .Values.metrics.enabled }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "common.names.fullname" . }}-metrics
  namespace: {{ include "common.names.namespace" . }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
    app.kubernetes.io/component: metrics
spec:
  ports:
    - name: http-metrics
      port: 9121
      targetPort: http-metrics
  selector: {{- include "common.labels.matchLabels" . | nindent 4 }}
{{- end }}
""",
    "secret.yaml": """apiVersion: v1
kind: Secret
metadata:
  name: {{ include "common.names.fullname" . }}
  namespace: {{ include "common.names.namespace" . }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
type: Opaque
data:
  password: {{ include "common.secrets.passwords.manage" (dict "providedValues" (list .Values.auth.password) "length" 16) }}
""",
    "serviceaccount.yaml": """apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "common.names.fullname" . }}
  namespace: {{ include "common.names.namespace" . }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
automountServiceAccountToken: false
""",
    "servicemonitor.yaml": """{{- if and .Values.metrics.enabled .Values.metrics.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "common.names.fullname" . }}
  namespace: {{ default (include "common.names.namespace" .) .Values.metrics.serviceMonitor.namespace }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
spec:
  endpoints:
    - port: http-metrics
      interval: {{ .Values.metrics.serviceMonitor.interval }}
  namespaceSelector:
    matchNames:
      - {{ include "common.names.namespace" . }}
  selector:
    matchLabels: {{- include "common.labels.matchLabels" . | nindent 6 }}
      app.kubernetes.io/component: metrics
{{- end }}
""",
    "pdb.yaml": """{{- if .Values.pdb.create }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "common.names.fullname" . }}
  namespace: {{ include "common.names.namespace" . }}
  labels: {{- include "common.labels.standard" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  selector:
    matchLabels: {{- include "common.labels.matchLabels" . | nindent 6 }}
{{- end }}
""",
}

KEYVALUE_VALUES = {
    "global": {"imageRegistry": "registry.example.invalid"},
    "nameOverride": "", "fullnameOverride": "", "namespaceOverride": "",
    "image": {"registry": "", "repository": "library/keyvalue", "tag": "7.4.2", "digest": "",
              "pullPolicy": "IfNotPresent"},
    "replicaCount": 1,
    "auth": {"password": ""},
    "extraEnvVars": [],
    "containerPorts": {"kv": 6379},
    "service": {"type": "ClusterIP", "port": 6379},
    "podSecurityContext": {"fsGroup": 1001, "runAsUser": 1001, "runAsNonRoot": True},
    "containerSecurityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                 "capabilities": {"drop": ["ALL"]}},
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    "persistence": {"accessModes": ["ReadWriteOnce"], "size": "8Gi"},
    "pdb": {"create": True, "maxUnavailable": 1},
    "metrics": {"enabled": False, "image": {"registry": "", "repository": "library/keyvalue-exporter",
                                            "tag": "1.67.0", "digest": "", "pullPolicy": "IfNotPresent"},
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
                "serviceMonitor": {"enabled": False, "interval": "30s", "namespace": ""}},
}

EXPORTER_TEMPLATES = {
    "_helpers.tpl": """{{- define "probe-exporter.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "probe-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "probe-exporter.labels" -}}
{{ include "probe-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
""",
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "probe-exporter.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "probe-exporter.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {{- include "probe-exporter.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "probe-exporter.selectorLabels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    spec:
      serviceAccountName: {{ include "probe-exporter.fullname" . }}
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65534
      containers:
        - name: exporter
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          args: ["--config.file=/config/modules.yaml"]
          ports:
            - name: http
              containerPort: 9115
          livenessProbe:
            httpGet: {path: /-/healthy, port: http}
          readinessProbe:
            httpGet: {path: /-/healthy, port: http}
          resources: {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities: {drop: ["ALL"]}
          volumeMounts:
            - name: config
              mountPath: /config
      volumes:
        - name: config
          configMap:
            name: {{ include "probe-exporter.fullname" . }}
""",
    "configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "probe-exporter.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "probe-exporter.labels" . | nindent 4 }}
data:
  modules.yaml: |
{{ toYaml .Values.config | indent 4 }}
""",
    "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ include "probe-exporter.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "probe-exporter.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  ports:
    - name: http
      port: 9115
      targetPort: http
  selector: {{- include "probe-exporter.selectorLabels" . | nindent 4 }}
""",
    "serviceaccount.yaml": """apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "probe-exporter.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "probe-exporter.labels" . | nindent 4 }}
""",
    "servicemonitor.yaml": """{{- if .Values.serviceMonitor.enabled }}
{{- range .Values.serviceMonitor.targets }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "probe-exporter.fullname" $ }}-{{ .name }}
  namespace: {{ $.Release.Namespace }}
  labels: {{- include "probe-exporter.labels" $ | nindent 4 }}
spec:
  endpoints:
    - port: http
      path: /probe
      interval: {{ .interval | default $.Values.serviceMonitor.interval }}
      params:
        module: [{{ .module | default "tcp_connect" }}]
        target: [{{ .url | quote }}]
  selector:
    matchLabels: {{- include "probe-exporter.selectorLabels" $ | nindent 6 }}
{{- end }}
{{- end }}
""",
    "prometheusrule.yaml": """{{- if .Values.prometheusRule.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ include "probe-exporter.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "probe-exporter.labels" . | nindent 4 }}
spec:
  groups:
    - name: {{ include "probe-exporter.fullname" . }}
      rules: {{- toYaml .Values.prometheusRule.rules | nindent 8 }}
{{- end }}
""",
    "pdb.yaml": """{{- if .Values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "probe-exporter.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "probe-exporter.labels" . | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{- include "probe-exporter.selectorLabels" . | nindent 6 }}
{{- end }}
""",
    "networkpolicy.yaml": """{{- if .Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "probe-exporter.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "probe-exporter.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels: {{- include "probe-exporter.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    - ports:
        - port: http
          protocol: TCP
{{- end }}
""",
}


def exporter_values() -> dict:
    modules = {f"http_{code}": {"prober": "http", "timeout": "5s",
                                "http": {"valid_status_codes": [code], "method": "GET", "preferred_ip_protocol": "ip4"}}
               for code in (200, 204, 301, 302, 401, 403)}
    modules["tcp_connect"] = {"prober": "tcp", "timeout": "5s"}
    return {"replicas": 1, "image": {"repository": "registry.example.invalid/probe-exporter", "tag": ""},
            "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
            "config": {"modules": modules},
            "serviceMonitor": {"enabled": False, "interval": "30s",
                               "targets": [{"name": f"probe-{i}", "url": f"http://service-{i}:8080/healthz",
                                            "module": "http_200"} for i in range(12)]},
            "prometheusRule": {"enabled": False, "rules": [
                {"alert": "ProbeFailed", "expr": "probe_success == 0", "for": "5m",
                 "labels": {"severity": "critical"}, "annotations": {"summary": "Probe failed."}}]},
            "podDisruptionBudget": {"enabled": False},
            "networkPolicy": {"enabled": False}}


INGRESS_COMPONENTS = """{{- define "edge-ingress.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "edge-ingress.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "edge-ingress.labels" -}}
{{ include "edge-ingress.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
"""

INGRESS_TEMPLATES = {
    "controller-deployment.yaml": """apiVersion: apps/v1
kind: {{ .Values.controller.kind }}
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
spec:
  {{- if and (eq .Values.controller.kind "Deployment") (not .Values.controller.autoscaling.enabled) }}
  replicas: {{ .Values.controller.replicaCount }}
  {{- end }}
  selector:
    matchLabels: {{- include "edge-ingress.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: controller
  template:
    metadata:
      labels: {{- include "edge-ingress.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: controller
    spec:
      serviceAccountName: {{ include "edge-ingress.fullname" . }}
      terminationGracePeriodSeconds: 300
      containers:
        - name: controller
          image: "{{ .Values.controller.image.repository }}:{{ .Values.controller.image.tag }}"
          args:
            - /edge-controller
            - --publish-service=$(POD_NAMESPACE)/{{ include "edge-ingress.fullname" . }}-controller
            - --election-id={{ include "edge-ingress.fullname" . }}-leader
            - --controller-class={{ .Values.controller.ingressClassResource.controllerValue }}
            - --ingress-class={{ .Values.controller.ingressClassResource.name }}
            - --configmap=$(POD_NAMESPACE)/{{ include "edge-ingress.fullname" . }}-controller
            {{- if .Values.controller.admissionWebhooks.enabled }}
            - --validating-webhook=:8443
            - --validating-webhook-certificate=/usr/local/certificates/cert
            - --validating-webhook-key=/usr/local/certificates/key
            {{- end }}
            {{- range $key, $value := .Values.controller.extraArgs }}
            - --{{ $key }}={{ $value }}
            {{- end }}
          env:
            - name: POD_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
          securityContext:
            runAsNonRoot: true
            runAsUser: 101
            allowPrivilegeEscalation: false
            capabilities: {drop: ["ALL"], add: ["NET_BIND_SERVICE"]}
          ports:
            - {name: http, containerPort: 80, protocol: TCP}
            - {name: https, containerPort: 443, protocol: TCP}
            - {name: metrics, containerPort: 10254, protocol: TCP}
            {{- if .Values.controller.admissionWebhooks.enabled }}
            - {name: webhook, containerPort: 8443, protocol: TCP}
            {{- end }}
          livenessProbe:
            httpGet: {path: /healthz, port: 10254}
          readinessProbe:
            httpGet: {path: /healthz, port: 10254}
          resources: {{- toYaml .Values.controller.resources | nindent 12 }}
          {{- if .Values.controller.admissionWebhooks.enabled }}
          volumeMounts:
            - name: webhook-cert
              mountPath: /usr/local/certificates/
              readOnly: true
          {{- end }}
      {{- if .Values.controller.admissionWebhooks.enabled }}
      volumes:
        - name: webhook-cert
          secret:
            secretName: {{ include "edge-ingress.fullname" . }}-admission
      {{- end }}
""",
    "controller-configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
data:
  allow-snippet-annotations: "false"
  {{- range $key, $value := .Values.controller.config }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
""",
    "controller-service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
  {{- with .Values.controller.service.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.controller.service.type }}
  externalTrafficPolicy: {{ .Values.controller.service.externalTrafficPolicy }}
  ports:
    - {name: http, port: 80, targetPort: http, protocol: TCP}
    - {name: https, port: 443, targetPort: https, protocol: TCP}
  selector: {{- include "edge-ingress.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: controller
{{- if .Values.controller.metrics.enabled }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller-metrics
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
spec:
  type: ClusterIP
  ports:
    - {name: metrics, port: 10254, targetPort: metrics, protocol: TCP}
  selector: {{- include "edge-ingress.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: controller
{{- end }}
{{- if .Values.controller.admissionWebhooks.enabled }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller-admission
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
spec:
  type: ClusterIP
  ports:
    - {name: https-webhook, port: 443, targetPort: webhook, protocol: TCP}
  selector: {{- include "edge-ingress.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: controller
{{- end }}
""",
    "controller-servicemonitor.yaml": """{{- if and .Values.controller.metrics.enabled .Values.controller.metrics.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
spec:
  endpoints:
    - port: metrics
      interval: 30s
  selector:
    matchLabels: {{- include "edge-ingress.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: controller
{{- end }}
""",
    "ingressclass.yaml": """{{- if .Values.controller.ingressClassResource.enabled }}
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: {{ .Values.controller.ingressClassResource.name }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
  {{- if .Values.controller.ingressClassResource.default }}
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
  {{- end }}
spec:
  controller: {{ .Values.controller.ingressClassResource.controllerValue }}
{{- end }}
""",
    "rbac.yaml": """{{- if .Values.rbac.create }}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ include "edge-ingress.fullname" . }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: [configmaps, endpoints, nodes, pods, secrets, namespaces]
    verbs: [list, watch]
  - apiGroups: [""]
    resources: [services]
    verbs: [get, list, watch]
  - apiGroups: ["networking.k8s.io"]
    resources: [ingresses, ingressclasses]
    verbs: [get, list, watch]
  - apiGroups: ["networking.k8s.io"]
    resources: [ingresses/status]
    verbs: [update]
  - apiGroups: ["discovery.k8s.io"]
    resources: [endpointslices]
    verbs: [list, watch, get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ include "edge-ingress.fullname" . }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ include "edge-ingress.fullname" . }}
subjects:
  - kind: ServiceAccount
    name: {{ include "edge-ingress.fullname" . }}
    namespace: {{ .Release.Namespace }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "edge-ingress.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: [configmaps, pods, secrets, endpoints]
    verbs: [get]
  - apiGroups: ["coordination.k8s.io"]
    resources: [leases]
    resourceNames: ["{{ include "edge-ingress.fullname" . }}-leader"]
    verbs: [get, update]
  - apiGroups: ["coordination.k8s.io"]
    resources: [leases]
    verbs: [create]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "edge-ingress.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "edge-ingress.fullname" . }}
subjects:
  - kind: ServiceAccount
    name: {{ include "edge-ingress.fullname" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "edge-ingress.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
automountServiceAccountToken: true
""",
    "admission-webhook.yaml": """{{- if .Values.controller.admissionWebhooks.enabled }}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {{ include "edge-ingress.fullname" . }}-admission
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: admission-webhook
webhooks:
  - name: validate.edge-ingress.ingress.example.invalid
    matchPolicy: Equivalent
    rules:
      - apiGroups: ["networking.k8s.io"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["ingresses"]
    failurePolicy: {{ .Values.controller.admissionWebhooks.failurePolicy }}
    sideEffects: None
    admissionReviewVersions: ["v1"]
    clientConfig:
      service:
        namespace: {{ .Release.Namespace }}
        name: {{ include "edge-ingress.fullname" . }}-controller-admission
        path: /networking/v1/ingresses
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "edge-ingress.fullname" . }}-admission-create
  namespace: {{ .Release.Namespace }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: admission-webhook
spec:
  ttlSecondsAfterFinished: 0
  template:
    metadata:
      labels: {{- include "edge-ingress.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: admission-webhook
    spec:
      restartPolicy: OnFailure
      serviceAccountName: {{ include "edge-ingress.fullname" . }}
      securityContext: {runAsNonRoot: true, runAsUser: 2000}
      containers:
        - name: create
          image: "{{ .Values.controller.admissionWebhooks.image.repository }}:{{ .Values.controller.admissionWebhooks.image.tag }}"
          args:
            - create
            - --host={{ include "edge-ingress.fullname" . }}-controller-admission,{{ include "edge-ingress.fullname" . }}-controller-admission.$(POD_NAMESPACE).svc
            - --namespace=$(POD_NAMESPACE)
            - --secret-name={{ include "edge-ingress.fullname" . }}-admission
          env:
            - name: POD_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ["ALL"]}}
{{- end }}
""",
    "hpa.yaml": """{{- if .Values.controller.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "edge-ingress.fullname" . }}-controller
  minReplicas: {{ .Values.controller.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.controller.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
{{- end }}
""",
    "pdb.yaml": """{{- if gt (int .Values.controller.replicaCount) 1 }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "edge-ingress.fullname" . }}-controller
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
spec:
  minAvailable: 1
  selector:
    matchLabels: {{- include "edge-ingress.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: controller
{{- end }}
""",
    "default-backend.yaml": """{{- if .Values.defaultBackend.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "edge-ingress.fullname" . }}-defaultbackend
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
    app.kubernetes.io/component: default-backend
spec:
  replicas: 1
  selector:
    matchLabels: {{- include "edge-ingress.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: default-backend
  template:
    metadata:
      labels: {{- include "edge-ingress.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: default-backend
    spec:
      containers:
        - name: backend
          image: "{{ .Values.defaultBackend.image.repository }}:{{ .Values.defaultBackend.image.tag }}"
          ports: [{name: http, containerPort: 8080}]
          securityContext: {runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "edge-ingress.fullname" . }}-defaultbackend
  namespace: {{ .Release.Namespace }}
  labels: {{- include "edge-ingress.labels" . | nindent 4 }}
spec:
  ports: [{name: http, port: 80, targetPort: http}]
  selector: {{- include "edge-ingress.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: default-backend
{{- end }}
""",
}

INGRESS_VALUES = {
    "controller": {
        "kind": "Deployment", "replicaCount": 1,
        "image": {"repository": "registry.example.invalid/edge/controller", "tag": "v1.12.1"},
        "config": {"use-forwarded-headers": "false", "proxy-body-size": "8m", "ssl-protocols": "TLSv1.2 TLSv1.3",
                   "worker-processes": "auto", "keep-alive": "75"},
        "extraArgs": {},
        "resources": {"requests": {"cpu": "100m", "memory": "90Mi"}},
        "service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "annotations": {}},
        "ingressClassResource": {"enabled": True, "name": "edge", "default": False,
                                 "controllerValue": "k8s.io/edge-ingress"},
        "admissionWebhooks": {"enabled": True, "failurePolicy": "Fail",
                              "image": {"repository": "registry.example.invalid/edge/certgen", "tag": "v1.5.2"}},
        "metrics": {"enabled": False, "serviceMonitor": {"enabled": False}},
        "autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 11},
    },
    "defaultBackend": {"enabled": False, "image": {"repository": "registry.example.invalid/edge/defaultbackend",
                                                   "tag": "1.5"}},
    "rbac": {"create": True},
}

ISSUER_COMPONENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "cert-issuer.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
spec:
  replicas: {{ .Values.@C@.replicaCount }}
  selector:
    matchLabels: {{- include "cert-issuer.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: @CN@
  template:
    metadata:
      labels: {{- include "cert-issuer.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: @CN@
    spec:
      serviceAccountName: {{ include "cert-issuer.fullname" . }}-@CN@
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: @CN@
          image: "{{ .Values.image.registry }}/@CN@:{{ .Values.image.tag | default .Chart.AppVersion }}"
          args:
            - --v={{ .Values.global.logLevel }}
            - --leader-election-namespace={{ .Values.global.leaderElection.namespace }}
            {{- range .Values.@C@.extraArgs }}
            - {{ . }}
            {{- end }}
          ports:
            - {name: http-metrics, containerPort: 9402, protocol: TCP}
            - {name: http-healthz, containerPort: 9403, protocol: TCP}
          livenessProbe:
            httpGet: {path: /livez, port: http-healthz}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ["ALL"]}}
          resources: {{- toYaml .Values.@C@.resources | nindent 12 }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "cert-issuer.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
automountServiceAccountToken: true
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ include "cert-issuer.fullname" . }}-@CN@
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
rules:
  - apiGroups: ["issuer.certs.example"]
    resources: ["*"]
    verbs: ["get", "list", "watch", "update", "patch"]
  - apiGroups: [""]
    resources: ["secrets", "events"]
    verbs: ["get", "list", "watch", "create", "update", "delete", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ include "cert-issuer.fullname" . }}-@CN@
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ include "cert-issuer.fullname" . }}-@CN@
subjects:
  - kind: ServiceAccount
    name: {{ include "cert-issuer.fullname" . }}-@CN@
    namespace: {{ .Release.Namespace }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "cert-issuer.fullname" . }}-@CN@
  namespace: {{ .Release.Namespace }}
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
spec:
  ports:
    - {name: tcp-prometheus-servicemonitor, port: 9402, targetPort: http-metrics, protocol: TCP}
  selector: {{- include "cert-issuer.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: @CN@
"""

ISSUER_HELPERS = """{{- define "cert-issuer.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- define "cert-issuer.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "cert-issuer.labels" -}}
{{ include "cert-issuer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
"""

ISSUER_EXTRA = {
    "crds.yaml": """{{- if .Values.crds.enabled }}
{{- range $path, $_ := .Files.Glob "files/crds/*.yaml" }}
---
{{ $.Files.Get $path }}
{{- end }}
{{- end }}
""",
    "webhook-configurations.yaml": """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {{ include "cert-issuer.fullname" . }}-webhook
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
webhooks:
  - name: webhook.issuer.certs.example
    namespaceSelector:
      matchExpressions:
        - {key: issuer.certs.example/disable-validation, operator: NotIn, values: ["true"]}
    rules:
      - apiGroups: ["issuer.certs.example"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["*/*"]
    admissionReviewVersions: ["v1"]
    timeoutSeconds: 30
    failurePolicy: Fail
    sideEffects: None
    clientConfig:
      service:
        name: {{ include "cert-issuer.fullname" . }}-webhook
        namespace: {{ .Release.Namespace }}
        path: /validate
""",
    "servicemonitor.yaml": """{{- if and .Values.prometheus.enabled .Values.prometheus.servicemonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "cert-issuer.fullname" . }}-controller
  namespace: {{ .Release.Namespace }}
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels: {{- include "cert-issuer.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: controller
  endpoints:
    - port: tcp-prometheus-servicemonitor
      interval: {{ .Values.prometheus.servicemonitor.interval }}
{{- end }}
""",
    "startupapicheck-job.yaml": """{{- if .Values.startupapicheck.enabled }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "cert-issuer.fullname" . }}-startupapicheck
  namespace: {{ .Release.Namespace }}
  annotations:
    helm.sh/hook: post-install
    helm.sh/hook-weight: "1"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
  labels: {{- include "cert-issuer.labels" . | nindent 4 }}
spec:
  backoffLimit: 4
  template:
    metadata:
      labels: {{- include "cert-issuer.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: startupapicheck
    spec:
      restartPolicy: OnFailure
      serviceAccountName: {{ include "cert-issuer.fullname" . }}-controller
      securityContext: {runAsNonRoot: true}
      containers:
        - name: check
          image: "{{ .Values.image.registry }}/startupapicheck:{{ .Values.image.tag | default .Chart.AppVersion }}"
          args: ["check", "api", "--wait=1m"]
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}
{{- end }}
""",
}

ISSUER_VALUES = {
    "global": {"logLevel": 2, "leaderElection": {"namespace": "kube-system"}},
    "crds": {"enabled": True, "keep": True},
    "image": {"registry": "registry.example.invalid/cert-issuer", "tag": ""},
    "controller": {"replicaCount": 1, "extraArgs": [], "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}},
    "webhook": {"replicaCount": 1, "extraArgs": [], "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}},
    "cainjector": {"replicaCount": 1, "extraArgs": [], "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}},
    "prometheus": {"enabled": True, "servicemonitor": {"enabled": False, "interval": "60s"}},
    "startupapicheck": {"enabled": True},
}


def helm_create(dest: Path, helm: Path | None) -> Path | None:
    """`helm create demo` with the real Helm (None when no Helm binary is available)."""
    if helm is None or not Path(helm).is_file():
        print(f"mainstream: no Helm binary at {helm}; `helm create` chart not written")
        return None
    dest.mkdir(parents=True, exist_ok=True)
    home = dest.parent / ".helm-home"
    env = {"HELM_CONFIG_HOME": str(home / "config"), "HELM_CACHE_HOME": str(home / "cache"),
           "HELM_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}
    if (dest / "demo").exists():
        return dest / "demo"
    subprocess.run([str(helm), "create", "demo"], cwd=dest, env=env, check=True, capture_output=True)
    shutil_rmtree(home)
    return dest / "demo"


def shutil_rmtree(path: Path) -> None:
    import shutil  # noqa: PLC0415
    shutil.rmtree(path, ignore_errors=True)


def chart_yaml(name: str, version: str, app_version: str, description: str, **extra) -> str:
    return dump({"apiVersion": "v2", "name": name, "description": description, "type": "application",
                 "version": version, "appVersion": app_version, **extra})


def write_mainstream_charts(dest: Path, helm: Path | None) -> list[Path]:
    charts = []
    demo = helm_create(dest, helm)
    if demo:
        charts.append(demo)

    exporter = dest / "probe-exporter"
    write(exporter / "Chart.yaml", chart_yaml("probe-exporter", "9.1.0", "v0.25.0",
                                              "Probes endpoints over HTTP, TCP and ICMP and exposes the results."))
    write(exporter / "values.yaml", dump(exporter_values()))
    for name, text in EXPORTER_TEMPLATES.items():
        write(exporter / "templates" / name, text)
    charts.append(exporter)

    ingress = dest / "edge-ingress"
    write(ingress / "Chart.yaml", chart_yaml("edge-ingress", "4.12.0", "1.12.1",
                                             "An ingress controller using a reverse proxy as load balancer."))
    write(ingress / "values.yaml", dump(INGRESS_VALUES))
    write(ingress / "templates" / "_helpers.tpl", INGRESS_COMPONENTS)
    for name, text in INGRESS_TEMPLATES.items():
        write(ingress / "templates" / name, text)
    charts.append(ingress)

    issuer = dest / "cert-issuer"
    write(issuer / "Chart.yaml", chart_yaml("cert-issuer", "1.16.2", "v1.16.2",
                                            "Issues and renews X.509 certificates inside the cluster."))
    write(issuer / "values.yaml", dump(ISSUER_VALUES))
    write(issuer / "templates" / "_helpers.tpl", ISSUER_HELPERS)
    for comp in ("controller", "webhook", "cainjector"):
        write(issuer / "templates" / f"{comp}.yaml", fill(ISSUER_COMPONENT, C=comp, CN=comp))
    for name, text in ISSUER_EXTRA.items():
        write(issuer / "templates" / name, text)
    for i, (kind, kib) in enumerate((("Certificate", 90), ("CertificateRequest", 40), ("Issuer", 110),
                                     ("ClusterIssuer", 110), ("Order", 30), ("Challenge", 70))):
        doc = crd("issuer.certs.example", kind, kib, 700 + i)
        doc["metadata"]["labels"] = {"app.kubernetes.io/name": "cert-issuer"}
        write(issuer / "files" / "crds" / f"{kind.lower()}s.yaml", dump(doc))
    charts.append(issuer)

    kv = dest / "keyvalue"
    write(kv / "Chart.yaml", chart_yaml("keyvalue", "20.6.1", "7.4.2", "An in-memory key-value store.",
                                        dependencies=[{"name": "common", "version": "2.29.0",
                                                       "repository": "oci://registry.example.invalid/charts",
                                                       "tags": ["keyvalue-common"]}]))
    write(kv / "values.yaml", dump(KEYVALUE_VALUES))
    for name, text in KEYVALUE_TEMPLATES.items():
        write(kv / "templates" / name, text)
    common = kv / "charts" / "common"
    write(common / "Chart.yaml", chart_yaml("common", "2.29.0", "2.29.0",
                                            "A library chart of helpers shared by application charts.",
                                            type="library"))
    write(common / "values.yaml", "exampleValue: common-chart\n")
    write(common / "templates" / "_helpers.tpl", COMMON_HELPERS)
    charts.append(kv)
    charts += write_issue18_charts(dest)
    charts += write_fqdn_shape_charts(dest)
    charts.append(write_reloader_chart(dest))
    return charts


# --- issue 18: charts holding the FQDN/ING false-positive shapes, next to planted true defects ---------
#
#     mainstream/edge-proxy/     an edge proxy: entrypoints ranged from `ports`, each with an empty
#                                `http.tls.domains` list of {main, sans} objects read off `$d.main`
#     mainstream/gitops/         a GitOps controller: leader-election ids and Lease `resourceNames`
#                                written like domains, `apiGroups` inside an embedded exclusions list,
#                                an SSH known_hosts ConfigMap, a projected token audience
#     mainstream/serverless-net/ a serverless networking layer: Knative's qualified ingress class, a CRD
#                                whose description holds a YAML example
#     mainstream/dashboards/     a dashboards chart: dashboard JSON with links to its public gallery
#     mainstream/web-app/        an application with ci/*-values.yaml host names and `extraObjects`
#
# The planted true defects (PLANTED_DOMAINS) must stay found; nothing else may be reported as a
# hardcoded domain (FQDN-002/003 errors) on these charts.

#: chart -> the hardcoded domains planted in it (each must be reported by FQDN-001/002/003).
PLANTED_DOMAINS = {
    "edge-proxy": {"proxy.acme-corp.com"},
    "gitops": {"gitops.example.com"},  # a placeholder default domain (FQDN-001 and FQDN-003: one defect)
    "serverless-net": {"activator.acme-corp.com"},
    "dashboards": {"grafana.acme-corp.com"},
    "web-app": {"telemetry.acme-corp.com"},
}

_FQDN_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-@NAME@
  labels: {app.kubernetes.io/name: @NAME@, app.kubernetes.io/instance: "{{ .Release.Name }}"}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: @NAME@, app.kubernetes.io/instance: "{{ .Release.Name }}"}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: @NAME@, app.kubernetes.io/instance: "{{ .Release.Name }}"}
    spec:
      serviceAccountName: {{ .Release.Name }}-@NAME@
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: @NAME@
          image: "registry.example.invalid/@NAME@:1.0.0"
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 128Mi}}
@ARGS@
"""

FQDN_SHAPE_CHARTS: dict[str, dict] = {
    "edge-proxy": {
        "values": {"ports": {"web": {"port": 8000, "http": {"tls": {"enabled": False, "domains": []}}},
                             "websecure": {"port": 8443, "http": {"tls": {"enabled": True, "domains": []}}}},
                   "publishedHostname": "proxy.acme-corp.com"},  # planted: a default host
        "templates": {"deployment.yaml": fill(_FQDN_DEPLOYMENT, NAME="proxy", ARGS="""          args:
            {{- range $name, $config := .Values.ports }}
            - "--entryPoints.{{ $name }}.address=:{{ $config.port }}/tcp"
            {{- if $config.http.tls.enabled }}
            - "--entryPoints.{{ $name }}.http.tls=true"
            {{- range $i, $d := $config.http.tls.domains }}
            - "--entryPoints.{{ $name }}.http.tls.domains[{{ $i }}].main={{ $d.main }}"
            - "--entryPoints.{{ $name }}.http.tls.domains[{{ $i }}].sans={{ join "," $d.sans }}"
            {{- end }}
            {{- end }}
            {{- end }}
            - "--providers.kubernetesingress.ingressendpoint.hostname={{ .Values.publishedHostname }}"
""")}},
    "gitops": {
        "values": {"global": {"domain": "gitops.example.com"},  # planted: argo-cd's placeholder default
                   "configs": {"knownHosts": "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
                                             "[ssh.github.com]:443 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
                                             "bitbucket.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIazEu89wgQZ4bqs3d63QSMzYVa0MuJ2e2gKTKqu+UUO\n"}},
        "templates": {
            "deployment.yaml": fill(_FQDN_DEPLOYMENT, NAME="appset", ARGS="""          args:
            - --leader-election-id=58ac56fa.applicationsets.gitops.example.org
            - --leader-elect=true
          env:
            - {name: GITOPS_URL, value: "https://{{ .Values.global.domain }}"}
          volumeMounts: [{name: cloud-token, mountPath: /var/run/secrets/cloud, readOnly: true}]
      volumes:
        - name: cloud-token
          projected:
            sources:
              - serviceAccountToken: {audience: sts.amazonaws.com, expirationSeconds: 86400, path: token}"""),
            "rbac.yaml": """apiVersion: v1
kind: ServiceAccount
metadata: {name: "{{ .Release.Name }}-appset"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: "{{ .Release.Name }}-appset-leader-election"}
rules:
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    resourceNames: [58ac56fa.applicationsets.gitops.example.org, 92062b70.l7mp.io]
    verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: "{{ .Release.Name }}-appset-leader-election"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: "{{ .Release.Name }}-appset-leader-election"}
subjects: [{kind: ServiceAccount, name: "{{ .Release.Name }}-appset", namespace: "{{ .Release.Namespace }}"}]
""",
            "configmaps.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: gitops-cm}
data:
  url: "https://{{ .Values.global.domain }}"
  resource.exclusions: |
    - apiGroups: [cilium.io, "*.crossplane.io"]
      kinds: [CiliumIdentity, ProviderConfigUsage]
      clusters: ["*"]
  resource.compareoptions: |
    ignoreAggregatedRoles: true
    ignoreResourceStatusField: crd
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gitops-ssh-known-hosts-cm}
data:
  ssh_known_hosts: |
    {{- .Values.configs.knownHosts | nindent 4 }}
"""}},
    "serverless-net": {
        "values": {"ingressClass": "cilium.ingress.networking.knative.dev"},
        "templates": {
            "config-network.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: config-network, labels: {app.kubernetes.io/name: serverless-net}}
data:
  ingress-class: {{ .Values.ingressClass | quote }}
  certificate-class: cert-manager.certificate.networking.knative.dev
  activator-endpoint: "https://activator.acme-corp.com"
""",  # the last line is the planted defect
            "crd.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: domainclaims.networking.serverless.example.org}
spec:
  group: networking.serverless.example.org
  names: {kind: DomainClaim, plural: domainclaims, singular: domainclaim}
  scope: Cluster
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          description: |
            DomainClaim reserves a domain for a namespace, e.g.
              spec:
                namespace: shop
                domain: shop.example.org
          properties:
            spec:
              type: object
              properties:
                namespace: {type: string}
"""}},
    "dashboards": {
        "values": {"grafana.ini": {"server": {"root_url": "https://grafana.acme-corp.com"}}},  # planted
        "templates": {"dashboards.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-dashboards", labels: {grafana_dashboard: "1"}}
data:
  node-exporter.json: |-
    {"title": "Node Exporter", "uid": "node", "gnetId": 1860, "schemaVersion": 39,
     "links": [{"title": "Gallery", "type": "link", "url": "https://grafana.com/grafana/dashboards/1860"}],
     "panels": [{"type": "text", "options": {"mode": "markdown", "content": "See https://grafana.com/docs/grafana/latest/"}},
                {"type": "timeseries", "title": "CPU", "targets": [{"expr": "rate(node_cpu_seconds_total[5m])"}]}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-grafana"}
data:
  grafana.ini: |
    [server]
    root_url = {{ index .Values "grafana.ini" "server" "root_url" }}
"""}},
    "web-app": {
        "values": {"ingress": {"enabled": False, "hostname": "web.local", "extraHosts": []}, "extraObjects": []},
        "files": {
            "ci/ingress-values.yaml": dump({"ingress": {"enabled": True, "hostname": "shop.acme-corp.com",
                                                        "extraHosts": ["www.acme-corp.com"]}}),
            "ci/extra-objects-values.yaml": dump({"extraObjects": [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{ .Release.Name }}-upstreams"},
                 "data": {"PAYMENTS_URL": "https://payments.partner-bank.com/api"}}]}),
        },
        "templates": {
            "deployment.yaml": fill(_FQDN_DEPLOYMENT, NAME="web", ARGS="""          env:
            - {name: TELEMETRY_ENDPOINT, value: "https://telemetry.acme-corp.com/v1/traces"}"""),  # planted
            "ingress.yaml": """{{- if .Values.ingress.enabled }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: "{{ .Release.Name }}-web"}
spec:
  rules:
    {{- range (prepend .Values.ingress.extraHosts .Values.ingress.hostname) }}
    - host: {{ . | quote }}
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: "web", port: {number: 80}}}}]
    {{- end }}
{{- end }}
""",
            "extra-list.yaml": """{{- range .Values.extraObjects }}
---
{{ if typeIs "string" . }}{{ tpl . $ }}{{ else }}{{ tpl (toYaml .) $ }}{{ end }}
{{- end }}
"""}},
}


def write_fqdn_shape_charts(dest: Path) -> list[Path]:
    """The charts of FQDN_SHAPE_CHARTS under `dest` (issue 18's FQDN/ING shapes, with planted defects)."""
    charts = []
    for name, spec in FQDN_SHAPE_CHARTS.items():
        chart = dest / name
        write(chart / "Chart.yaml", chart_yaml(name, "1.0.0", "1.0.0", f"{name}: FQDN/ING shapes of public charts."))
        write(chart / "values.yaml", dump(spec["values"]))
        for rel, text in spec["templates"].items():
            write(chart / "templates" / rel, text)
        for rel, text in spec.get("files", {}).items():
            write(chart / rel, text)
        charts.append(chart)
    return charts


# --- issue 18 shapes: a replicated cache (redis-ha / bitnami style) and a queue operator (keda / metallb
# style). Each shape a public chart shows is here beside a planted true defect that must stay found:
#   cache-ha:       hardening switches (podSecurityContext/containerSecurityContext/livenessProbe.enabled),
#                   per-replica Services selecting `statefulset.kubernetes.io/pod-name`, a RoleBinding to
#                   the account the user supplies (`default` when they name none).
#                   Planted: the optional exporter sidecar sets no hardening, no memory limit and a hostPort.
#   queue-operator: CRDs in templates/ labelled for the chart, not a release; bindings that name the
#                   operator's account whether or not `serviceAccount.create` is on; webhook configurations
#                   patched by name. Planted: a metrics-reader ClusterRole with `resources: ["*"]` on the
#                   core group, bound cluster-wide (it reads every Secret).

CACHE_HA_HELPERS = """{{- define "cache-ha.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "cache-ha.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "cache-ha.labels" -}}
{{ include "cache-ha.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "cache-ha.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "cache-ha.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}
"""

CACHE_HA_TEMPLATES = {
    "serviceaccount.yaml": """{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "cache-ha.serviceAccountName" . }}
  labels: {{- include "cache-ha.labels" . | nindent 4 }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
{{- end }}
""",
    "rbac.yaml": """{{- if .Values.rbac.create }}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "cache-ha.fullname" . }}
  labels: {{- include "cache-ha.labels" . | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: ["endpoints", "pods"]
    verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "cache-ha.fullname" . }}
  labels: {{- include "cache-ha.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "cache-ha.fullname" . }}
subjects:
  - kind: ServiceAccount
    name: {{ include "cache-ha.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}
""",
    "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ include "cache-ha.fullname" . }}
  labels: {{- include "cache-ha.labels" . | nindent 4 }}
spec:
  clusterIP: None
  selector: {{- include "cache-ha.selectorLabels" . | nindent 4 }}
  ports:
    - name: cache
      port: {{ .Values.port }}
      targetPort: cache
""",
    "announce-services.yaml": """{{- if .Values.announce.enabled }}
{{- range $i := until (int $.Values.replicas) }}
---
# One stable address per replica, for clients that must reach a given member.
apiVersion: v1
kind: Service
metadata:
  name: {{ include "cache-ha.fullname" $ }}-announce-{{ $i }}
  labels: {{- include "cache-ha.labels" $ | nindent 4 }}
spec:
  publishNotReadyAddresses: true
  selector:
    {{- include "cache-ha.selectorLabels" $ | nindent 4 }}
    statefulset.kubernetes.io/pod-name: {{ include "cache-ha.fullname" $ }}-server-{{ $i }}
  ports:
    - name: cache
      port: {{ $.Values.port }}
      targetPort: cache
{{- end }}
{{- end }}
""",
    "statefulset.yaml": """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "cache-ha.fullname" . }}-server
  labels: {{- include "cache-ha.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  serviceName: {{ include "cache-ha.fullname" . }}
  podManagementPolicy: Parallel
  selector:
    matchLabels: {{- include "cache-ha.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "cache-ha.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "cache-ha.serviceAccountName" . }}
      {{- if .Values.podSecurityContext.enabled }}
      securityContext: {{- omit .Values.podSecurityContext "enabled" | toYaml | nindent 8 }}
      {{- end }}
      containers:
        - name: server
          image: {{ .Values.image.repository }}:{{ .Values.image.tag }}
          args: ["--port", "{{ .Values.port }}", "--appendonly", "yes"]
          ports:
            - name: cache
              containerPort: {{ .Values.port }}
          {{- if .Values.containerSecurityContext.enabled }}
          securityContext: {{- omit .Values.containerSecurityContext "enabled" | toYaml | nindent 12 }}
          {{- end }}
          resources: {{- toYaml .Values.resources | nindent 12 }}
          {{- if .Values.livenessProbe.enabled }}
          livenessProbe:
            tcpSocket:
              port: cache
            initialDelaySeconds: {{ .Values.livenessProbe.initialDelaySeconds }}
            periodSeconds: {{ .Values.livenessProbe.periodSeconds }}
          {{- end }}
          {{- if .Values.readinessProbe.enabled }}
          readinessProbe:
            exec:
              command: ["sh", "-c", "cache-cli -p {{ .Values.port }} ping"]
            initialDelaySeconds: {{ .Values.readinessProbe.initialDelaySeconds }}
            periodSeconds: {{ .Values.readinessProbe.periodSeconds }}
          {{- end }}
          volumeMounts:
            - name: data
              mountPath: /data
        {{- if .Values.exporter.enabled }}
        - name: exporter
          image: {{ .Values.exporter.image.repository }}:{{ .Values.exporter.image.tag }}
          ports:
            - name: metrics
              containerPort: {{ .Values.exporter.port }}
              {{- with .Values.exporter.hostPort }}
              hostPort: {{ . }}
              {{- end }}
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
        {{- end }}
      volumes:
        - name: data
          emptyDir: {}
""",
}

CACHE_HA_VALUES = {
    "image": {"repository": "registry.example.invalid/cache", "tag": "7.2.4"},
    "replicas": 3,
    "port": 6379,
    "serviceAccount": {"create": True, "name": "", "automountServiceAccountToken": False},
    "rbac": {"create": True},
    "podSecurityContext": {"enabled": True, "fsGroup": 1000, "runAsUser": 1000, "runAsNonRoot": True,
                           "seccompProfile": {"type": "RuntimeDefault"}},
    "containerSecurityContext": {"enabled": True, "runAsUser": 1000, "runAsNonRoot": True,
                                 "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                 "capabilities": {"drop": ["ALL"]}},
    "livenessProbe": {"enabled": True, "initialDelaySeconds": 15, "periodSeconds": 15},
    "readinessProbe": {"enabled": True, "initialDelaySeconds": 15, "periodSeconds": 15},
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    "announce": {"enabled": True},
    "exporter": {"enabled": False, "image": {"repository": "registry.example.invalid/cache-exporter",
                                             "tag": "v1.62.0"}, "port": 9121, "hostPort": 9121},
}

OPERATOR_HELPERS = """{{- define "queue-operator.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "queue-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "queue-operator.labels" -}}
{{ include "queue-operator.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: queue-operator
{{- end -}}
{{- define "queue-operator.serviceAccountName" -}}
{{ default (include "queue-operator.fullname" .) .Values.serviceAccount.name }}
{{- end -}}
"""


def operator_crd(kind: str) -> str:
    plural = kind.lower() + "s"
    return f"""{{{{- if .Values.crds.install }}}}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.queue.example.invalid
  labels:
    app.kubernetes.io/name: {{{{ .Chart.Name }}}}
    app.kubernetes.io/part-of: queue-operator
    app.kubernetes.io/version: {{{{ .Chart.AppVersion | quote }}}}
  annotations:
    helm.sh/resource-policy: keep
spec:
  group: queue.example.invalid
  names:
    kind: {kind}
    listKind: {kind}List
    plural: {plural}
    singular: {kind.lower()}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources:
        status: {{}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
{{{{- end }}}}
"""


OPERATOR_TEMPLATES = {
    "crd-scaledqueues.yaml": operator_crd("ScaledQueue"),
    "crd-queuetriggers.yaml": operator_crd("QueueTrigger"),
    "serviceaccount.yaml": """{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "queue-operator.serviceAccountName" . }}
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
{{- end }}
""",
    "rbac.yaml": """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ include "queue-operator.fullname" . }}
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
rules:
  - apiGroups: ["queue.example.invalid"]
    resources: ["*"]
    verbs: ["*"]
  - apiGroups: [""]
    resources: ["configmaps", "events"]
    verbs: ["get", "list", "watch", "create", "patch"]
  - apiGroups: ["apps"]
    resources: ["deployments", "deployments/scale", "statefulsets", "statefulsets/scale"]
    verbs: ["get", "list", "watch", "update", "patch"]
  - apiGroups: ["admissionregistration.k8s.io"]
    resources: ["validatingwebhookconfigurations"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["admissionregistration.k8s.io"]
    resources: ["validatingwebhookconfigurations"]
    resourceNames: ["{{ include "queue-operator.fullname" . }}-webhook"]
    verbs: ["update", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ include "queue-operator.fullname" . }}
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ include "queue-operator.fullname" . }}
subjects:
  - kind: ServiceAccount
    name: {{ include "queue-operator.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "queue-operator.fullname" . }}-leader-election
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "queue-operator.fullname" . }}-leader-election
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "queue-operator.fullname" . }}-leader-election
subjects:
  - kind: ServiceAccount
    name: {{ include "queue-operator.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- if .Values.metricsReader.enabled }}
---
# Lets the metrics adapter read queue lengths wherever they are kept.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ include "queue-operator.fullname" . }}-metrics-reader
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: ["*"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ include "queue-operator.fullname" . }}-metrics-reader
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ include "queue-operator.fullname" . }}-metrics-reader
subjects:
  - kind: ServiceAccount
    name: {{ include "queue-operator.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}
""",
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "queue-operator.fullname" . }}
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels: {{- include "queue-operator.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "queue-operator.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "queue-operator.serviceAccountName" . }}
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: operator
          image: {{ .Values.image.repository }}:{{ .Values.image.tag }}
          args: ["--leader-elect", "--webhook-port=9443", "--metrics-bind-address=:8080"]
          ports:
            - name: webhook
              containerPort: 9443
            - name: metrics
              containerPort: 8080
            - name: health
              containerPort: 8081
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          resources: {{- toYaml .Values.resources | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: health
          readinessProbe:
            httpGet:
              path: /readyz
              port: health
""",
    "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ include "queue-operator.fullname" . }}-webhook
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
spec:
  selector: {{- include "queue-operator.selectorLabels" . | nindent 4 }}
  ports:
    - name: webhook
      port: 443
      targetPort: webhook
""",
    "webhook.yaml": """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {{ include "queue-operator.fullname" . }}-webhook
  labels: {{- include "queue-operator.labels" . | nindent 4 }}
webhooks:
  - name: vscaledqueue.queue.example.invalid
    admissionReviewVersions: ["v1"]
    sideEffects: None
    failurePolicy: Ignore
    clientConfig:
      service:
        name: {{ include "queue-operator.fullname" . }}-webhook
        namespace: {{ .Release.Namespace }}
        path: /validate-scaledqueue
    rules:
      - apiGroups: ["queue.example.invalid"]
        apiVersions: ["v1alpha1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["scaledqueues"]
""",
}

OPERATOR_VALUES = {
    "crds": {"install": True},
    "replicaCount": 1,
    "image": {"repository": "registry.example.invalid/queue-operator", "tag": "2.16.1"},
    "serviceAccount": {"create": True, "name": ""},
    "metricsReader": {"enabled": True},
    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"memory": "1000Mi"}},
}


def write_issue18_charts(dest: Path) -> list[Path]:
    """The two charts above (generic: no blueprint.yaml)."""
    cache = dest / "cache-ha"
    write(cache / "Chart.yaml", chart_yaml("cache-ha", "4.27.6", "7.2.4",
                                           "A replicated in-memory cache with stable per-member addresses."))
    write(cache / "values.yaml", dump(CACHE_HA_VALUES))
    write(cache / "templates" / "_helpers.tpl", CACHE_HA_HELPERS)
    for name, text in CACHE_HA_TEMPLATES.items():
        write(cache / "templates" / name, text)
    operator = dest / "queue-operator"
    write(operator / "Chart.yaml", chart_yaml("queue-operator", "2.16.1", "2.16.1",
                                              "Scales workloads by the length of the queues they consume."))
    write(operator / "values.yaml", dump(OPERATOR_VALUES))
    write(operator / "templates" / "_helpers.tpl", OPERATOR_HELPERS)
    for name, text in OPERATOR_TEMPLATES.items():
        write(operator / "templates" / name, text)
    return [cache, operator]


# -- config-reloader: issue 18's planning and Helm-comparison shapes ----------------------------------
# A config reloader in the style of popular public charts: an OpenShift DeploymentConfig watch gated on
# the API *and* a non-toggle flag, a ServiceMonitor that `fail`s without its CRDs ("deploy
# monitoring.coreos.com/v1 first"), a values schema that pins `reloader.enabled`, a metrics Service
# nested in the Service's `if` with a ServiceMonitor that tests only its own toggle (the one planted
# child-without-parent), zeros under `if`, a password kept with `lookup` and a webhook CA made with genCA.

RELOADER_HELPERS = """{{- define "config-reloader.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "config-reloader.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "config-reloader.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "config-reloader.password" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-auth" (include "config-reloader.fullname" .)) -}}
{{- if and $existing $existing.data -}}{{ index $existing.data "password" }}{{- else -}}{{ randAlphaNum 32 | b64enc }}{{- end -}}
{{- end -}}
"""

RELOADER_TEMPLATES = {
    "deployment.yaml": """{{- if .Values.reloader.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "config-reloader.fullname" . }}
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.reloader.replicas }}
  {{- if .Values.reloader.deployment.minReadySeconds }}
  minReadySeconds: {{ .Values.reloader.deployment.minReadySeconds }}
  {{- end }}
  {{- if .Values.reloader.deployment.progressDeadlineSeconds }}
  progressDeadlineSeconds: {{ .Values.reloader.deployment.progressDeadlineSeconds }}
  {{- end }}
  revisionHistoryLimit: {{ .Values.reloader.deployment.revisionHistoryLimit }}
  selector:
    matchLabels: {{- include "config-reloader.selector" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "config-reloader.labels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "config-reloader.fullname" . }}
      securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: reloader
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args:
            - --log-level={{ .Values.reloader.logLevel }}
            {{- if .Values.reloader.isOpenshift }}
            - --is-openshift=true
            {{- end }}
          env:
            - name: RELOADER_PASSWORD
              valueFrom: {secretKeyRef: {name: {{ include "config-reloader.fullname" . }}-auth, key: password}}
          ports:
            - {name: http, containerPort: 9090}
          readinessProbe: {httpGet: {path: /metrics, port: http}}
          livenessProbe: {httpGet: {path: /live, port: http}}
          resources: {{- toYaml .Values.reloader.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
{{- end }}
""",
    "serviceaccount.yaml": """apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "config-reloader.fullname" . }}
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
""",
    "role.yaml": """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "config-reloader.fullname" . }}
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
rules:
  - apiGroups: [apps]
    resources: [deployments, daemonsets, statefulsets]
    verbs: [list, get, update, patch]
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [list, get, watch]
{{- if and (.Capabilities.APIVersions.Has "apps.openshift.io/v1") .Values.reloader.isOpenshift }}
  - apiGroups: [apps.openshift.io]
    resources: [deploymentconfigs]
    verbs: [list, get, update, patch]
{{- end }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "config-reloader.fullname" . }}
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ include "config-reloader.fullname" . }}}
subjects:
  - kind: ServiceAccount
    name: {{ include "config-reloader.fullname" . }}
    namespace: {{ .Release.Namespace }}
""",
    "service.yaml": """{{- if .Values.service.enabled }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "config-reloader.fullname" . }}
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
spec:
  selector: {{- include "config-reloader.selector" . | nindent 4 }}
  ports:
    - {name: http, port: 9090, targetPort: http}
{{- if .Values.serviceMonitor.enabled }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "config-reloader.fullname" . }}-metrics
  labels:
    {{- include "config-reloader.labels" . | nindent 4 }}
    app.kubernetes.io/component: metrics
spec:
  selector: {{- include "config-reloader.selector" . | nindent 4 }}
  ports:
    - {name: metrics, port: 9090, targetPort: http}
{{- end }}
{{- end }}
""",
    "servicemonitor.yaml": """{{- if .Values.serviceMonitor.enabled }}
{{- if not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
{{- fail "serviceMonitor.enabled=true needs monitoring.coreos.com/v1: deploy the Prometheus Operator CRDs first" }}
{{- end }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "config-reloader.fullname" . }}
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "config-reloader.selector" . | nindent 6 }}
      app.kubernetes.io/component: metrics
  endpoints:
    - port: metrics
      interval: {{ .Values.serviceMonitor.interval }}
{{- end }}
""",
    "secret.yaml": """apiVersion: v1
kind: Secret
metadata:
  name: {{ include "config-reloader.fullname" . }}-auth
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
type: Opaque
data:
  password: {{ include "config-reloader.password" . }}
""",
    "webhook-ca.yaml": """{{- $ca := genCA (printf "%s-ca" (include "config-reloader.fullname" .)) 3650 }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "config-reloader.fullname" . }}-webhook-ca
  labels: {{- include "config-reloader.labels" . | nindent 4 }}
type: kubernetes.io/tls
data:
  ca.crt: {{ $ca.Cert | b64enc }}
  tls.crt: {{ $ca.Cert | b64enc }}
  tls.key: {{ $ca.Key | b64enc }}
""",
}

RELOADER_VALUES = {
    "image": {"repository": "registry.example.invalid/config-reloader", "tag": "v1.4.0"},
    "reloader": {
        "enabled": True, "replicas": 1, "logLevel": "info", "isOpenshift": False,
        "deployment": {"minReadySeconds": 0, "progressDeadlineSeconds": 0, "revisionHistoryLimit": 2},
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
    },
    "service": {"enabled": True},
    "serviceMonitor": {"enabled": False, "interval": "30s"},
}

RELOADER_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "reloader": {"type": "object", "properties": {
            "enabled": {"const": True, "description": "the reloader is the chart; it cannot be switched off"}}},
        "serviceMonitor": {"type": "object", "properties": {"interval": {"type": "string"}}},
    },
}


def write_reloader_chart(dest: Path) -> Path:
    """config-reloader (see the block comment above): written from the constants, no Helm needed."""
    import json  # noqa: PLC0415
    chart = dest / "config-reloader"
    write(chart / "Chart.yaml", chart_yaml("config-reloader", "2.1.3", "v1.4.0",
                                           "Rolls workloads when the ConfigMaps and Secrets they mount change."))
    write(chart / "values.yaml", dump(RELOADER_VALUES))
    write(chart / "values.schema.json", json.dumps(RELOADER_SCHEMA, indent=2) + "\n")
    write(chart / "templates" / "_helpers.tpl", RELOADER_HELPERS)
    for name, text in RELOADER_TEMPLATES.items():
        write(chart / "templates" / name, text)
    return chart
