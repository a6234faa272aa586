"""Parent and child toggles: inferred from the values tree and the templates' `if` nesting, planned
together (no scenario has a child on with its parent off), and a child that renders without its
parent reported once (NEST-001), not once per scenario by the rules that trip on the orphan."""

from __future__ import annotations

import pytest

from chartgate.discover.charts import _load_chart_dir
from chartgate.plan.nesting import template_parents, with_parents_on
from chartgate.check.definition import Outcome, Severity

from ..conftest import gate_config, run_gate

VALUES = """\
service: {enabled: true}
serviceMonitor: {enabled: false}
deployment:
  enabled: true
  autoscaling: {enabled: false}
"""
DEPLOYMENT = """\
{{- if .Values.deployment.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata: {name: orphans}
spec:
  selector: {matchLabels: {app: orphans}}
  template:
    metadata: {labels: {app: orphans}}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0.0
          ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
{{- end }}
"""
SERVICE = """\
{{- if .Values.service.enabled }}
apiVersion: v1
kind: Service
metadata: {name: orphans, labels: {app: orphans}}
spec:
  selector: {app: orphans}
  ports:
    - {name: http, port: 80, targetPort: http}
    {{- if .Values.serviceMonitor.enabled }}
    - {name: metrics, port: 9090, targetPort: metrics}
    {{- end }}
{{- if .Values.serviceMonitor.enabled }}
---
apiVersion: v1
kind: Service
metadata: {name: orphans-metrics, labels: {app: orphans, role: metrics}}
spec:
  selector: {app: orphans}
  ports: [{name: metrics, port: 9090, targetPort: metrics}]
{{- end }}
{{- end }}
"""
# Gated on its own toggle only: renders with the Service off (the orphan NEST-001 reports once).
SERVICE_MONITOR = """\
{{- if and .Values.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: orphans}
spec:
  selector: {matchLabels: {app: orphans, role: metrics}}
  endpoints: [{port: metrics}]
{{- end }}
"""
HPA = """\
{{- if .Values.deployment.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: orphans}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: orphans}
  minReplicas: 1
  maxReplicas: 3
{{- end }}
"""


def write_orphans(root):
    chart = root / "charts" / "orphans"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: orphans\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(VALUES)
    for name, text in {"deployment.yaml": DEPLOYMENT, "service.yaml": SERVICE,
                       "servicemonitor.yaml": SERVICE_MONITOR, "hpa.yaml": HPA}.items():
        (chart / "templates" / name).write_text(text)
    return chart


@pytest.fixture(scope="module")
def nesting_run(tmp_path_factory, policies, render_cache):
    root = tmp_path_factory.mktemp("nesting")
    write_orphans(root)
    (root / "overlays").mkdir()
    chosen = [p for p in policies if p.id in ("WIR-001", "WIR-002", "NEST-001", "RENDER-001")]
    return run_gate(gate_config(root, root / "charts", root / "overlays", cache=render_cache), chosen)


def test_parents_come_from_the_values_tree_and_the_if_nesting(tmp_path):
    chart = _load_chart_dir(write_orphans(tmp_path))
    from chartgate.plan.toggles import discover_toggles
    parents = {t.dotted: t.parents for t in discover_toggles(chart)}
    assert parents["serviceMonitor.enabled"] == ("service.enabled",)  # the metrics Service's nested `if`
    assert parents["deployment.autoscaling.enabled"] == ("deployment.enabled",)  # the values tree
    assert parents["service.enabled"] == parents["deployment.enabled"] == ()


def test_no_scenario_switches_a_child_on_with_its_parent_off(nesting_run):
    children = {"serviceMonitor.enabled": "service.enabled", "deployment.autoscaling.enabled": "deployment.enabled"}
    for scenario in nesting_run.gate.plans["orphans"]:
        sets = dict(scenario.set_values)
        for child, parent in children.items():
            assert not (sets.get(child) is True and sets.get(parent) is False), scenario.name


def test_the_orphans_are_reported_once_per_child_not_per_scenario(nesting_run):
    wiring = [r for r in nesting_run.gate.results if r.policy.id in ("WIR-001", "WIR-002")]
    assert wiring and all(r.outcome in (Outcome.PASSED, Outcome.SKIPPED) for r in wiring), [
        (r.policy.id, r.scenario, [f.message for f in r.findings]) for r in wiring if r.outcome is Outcome.FAILED]
    [nest] = nesting_run.results_for("NEST-001")
    assert nest.outcome is Outcome.FAILED and nest.severity is Severity.WARNING
    messages = sorted(f.message for f in nest.findings)
    assert len(messages) == 2
    assert messages[0].startswith("deployment.autoscaling.enabled=true renders HorizontalPodAutoscaler/")
    assert "(deployment.enabled=false)" in messages[0]
    assert messages[1].startswith("serviceMonitor.enabled=true renders ServiceMonitor/")
    assert "(service.enabled=false)" in messages[1]


OBJ = "\n---\nkind: ConfigMap\n"


@pytest.mark.parametrize("template, parents", [
    ("{{ if .Values.a.enabled }}{{ if .Values.b.enabled }}" + OBJ + "{{ end }}{{ end }}",
     {("b", "enabled"): {("a", "enabled")}}),
    ("{{ if .Values.a.enabled }}{{ if .Values.b.enabled }}  port: 1\n{{ end }}{{ end }}", {}),  # adjusts, no object
    ("{{ if .Values.a.enabled }}{{ else }}{{ if .Values.b.enabled }}" + OBJ + "{{ end }}{{ end }}", {}),  # else
    ("{{ if not .Values.a.enabled }}{{ if .Values.b.enabled }}" + OBJ + "{{ end }}{{ end }}", {}),
    ("{{ if or .Values.a.enabled .Values.c }}{{ if .Values.b.enabled }}" + OBJ + "{{ end }}{{ end }}", {}),
    ("{{ if and .Values.a.enabled .Values.b.enabled }}" + OBJ + "{{ end }}", {}),  # tested together
    ("{{ if .Values.a.enabled }}{{ if .Values.b.enabled }}" + OBJ + "{{ end }}{{ end }}"
     "{{ if .Values.b.enabled }}{{ if .Values.a.enabled }}" + OBJ + "{{ end }}{{ end }}", {}),  # both ways
])
def test_template_nesting(tmp_path, template, parents):
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("a: {enabled: true}\nb: {enabled: false}\n")
    (chart / "templates" / "t.yaml").write_text(template)
    assert template_parents(_load_chart_dir(chart), [("a", "enabled"), ("b", "enabled")]) == parents


def test_a_row_switches_the_parents_of_its_children_on_transitively():
    row, extra = with_parents_on({"c": True, "b": False, "x": False}, {"c": ("b",), "b": ("a",)})
    assert row == {"c": True, "b": True, "x": False} and extra == [("a", True)]
