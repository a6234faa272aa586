"""Hygiene helpers and policies on hand-written renders (no Helm): image references, where images
live in pod templates and custom resources, and labels on the chart's own overlay objects."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import REPO

hyg = load_policy_module(REPO / "policies" / "hygiene.py")


@pytest.mark.parametrize("image, problem", [
    ("docker.io/l7mp/stunnerd:1.1.0", None),
    ("registry.local:5000/team/app:v2", None),
    ("app@sha256:" + "a" * 64, None),
    ("app:1.0@sha256:" + "b" * 64, None),
    ("docker.io/kserve/kserve-controller:latest", "uses the floating tag `latest`"),
    ("app:LATEST", "uses the floating tag `LATEST`"),
    ("registry.local:5000/team/app", "has no tag (Kubernetes pulls `latest`)"),
    ("app:", "has an empty tag"),
    ("", "is empty"),
    (None, "is empty"),
    ("app@sha256:xyz", "has a malformed digest 'sha256:xyz'"),
])
def test_image_problem(image, problem):
    assert hyg.image_problem(image) == problem


def test_image_fields_cover_every_container_list_and_custom_resources():
    cronjob = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "initContainers": [{"name": "init", "image": "busybox:1.36"}],
        "containers": [{"name": "main"}],
        "ephemeralContainers": [{"name": "debug", "image": "debug:latest"}]}}}}}}
    assert list(hyg.image_fields(cronjob)) == [
        ("$.spec.jobTemplate.spec.template.spec.initContainers[0].image", "busybox:1.36"),
        ("$.spec.jobTemplate.spec.template.spec.containers[0].image", None),
        ("$.spec.jobTemplate.spec.template.spec.ephemeralContainers[0].image", "debug:latest")]
    dataplane = {"spec": {"image": "stunnerd:1.1.0", "containers": [{"name": "override"}]}}
    assert list(hyg.image_fields(dataplane, require_image=False)) == [("$.spec.image", "stunnerd:1.1.0")]


OVERLAY = """
---
# Source: bp-demo/templates/hpa.yaml
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: demo
  labels: {app.kubernetes.io/name: bp-demo, app.kubernetes.io/instance: demo}
---
# Source: bp-demo/charts/up/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: up}
spec:
  template:
    spec:
      containers: [{name: up, image: "up:latest"}]
"""


def chart_context(renders: dict[str, str], blueprint: dict | None = None):
    """A chart context whose planned scenarios render `renders` {scenario name: text}."""
    scenarios = [Scenario(name, ScenarioKind.DEFAULT) for name in renders]
    by_name = {s.name: Render("bp-demo", s, "helm template", _parse_render(renders[s.name], namespace="demo"))
               for s in scenarios}
    return SimpleNamespace(
        name="bp-demo", scenarios=scenarios, kube_versions=("1.30", "1.33"),
        chart=SimpleNamespace(blueprint=blueprint),
        platform=SimpleNamespace(blueprint_label="catalyst.openova.io/blueprint"),
        try_render=lambda scenario: by_name[scenario.name])


def test_one_finding_per_defect_naming_every_scenario_that_shows_it():
    findings = list(hyg.images_are_pinned.check(chart_context({"default": OVERLAY, "on.hpa": OVERLAY})))
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.resource, finding.template, finding.path) == (
        "Deployment/demo/up", "bp-demo/charts/up/templates/deployment.yaml",
        "$.spec.template.spec.containers[0].image")
    assert "(scenarios default, on.hpa)" in finding.message


def test_only_overlay_objects_need_the_labels():
    findings = list(hyg.overlay_objects_have_standard_labels.check(chart_context({"default": OVERLAY})))
    assert [(f.resource, f.path) for f in findings] == [("HorizontalPodAutoscaler/demo/demo", "$.metadata.labels")]
    assert findings[0].message.startswith("overlay object lacks app.kubernetes.io/managed-by (scenario default)")


def test_blueprint_label_must_carry_the_blueprint_name_and_is_skipped_without_blueprint():
    ctx = chart_context({"default": OVERLAY.replace("instance: demo}", "instance: demo, "
                                                    "catalyst.openova.io/blueprint: bp-wrong}")},
                        blueprint={"metadata": {"name": "bp-demo"}})
    [finding] = hyg.overlay_objects_have_blueprint_label.check(ctx)
    assert "sets 'bp-wrong' for the Blueprint label" in finding.message
    assert "`catalyst.openova.io/blueprint: bp-demo`" in finding.message
    # Without blueprint.yaml the chart is judged with the generic profile: the engine skips the rule.
    declared = hyg.overlay_objects_have_blueprint_label
    assert (declared.profile, *declared.requires) == ("blueprint", "blueprint-file")


# -- objects the scenario's input wrote (extraObjects in a ci/ file) are the input's, real Helm ------

EXTRA_OBJECTS = """{{- range .Values.extraObjects }}
---
{{ tpl (toYaml .) $ }}
{{- end }}
"""
LABELLED = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-own
  labels: {app.kubernetes.io/name: app, app.kubernetes.io/instance: "{{ .Release.Name }}",
           app.kubernetes.io/managed-by: "{{ .Release.Service }}"}
data: {k: v}
"""
SUPPLIED = ("extraObjects:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n"
            "      name: '{{ .Release.Name }}-upstreams'\n    data: {URL: https://payments.example.org}\n")


def _hyg002(tmp_path, values: str, ci: str | None):
    from chartgate.check.definition import policies_in
    from ..conftest import gate_config, run_gate
    from ..reliability.helpers import write_chart
    chart = write_chart(tmp_path / "charts", "app", {"own.yaml": LABELLED, "extra.yaml": EXTRA_OBJECTS}, values=values)
    if ci is not None:
        (chart / "ci").mkdir()
        (chart / "ci" / "extra-values.yaml").write_text(ci)
    (tmp_path / "overlays").mkdir()
    policy = [p for p in policies_in(hyg) if p.id == "HYG-002"]
    run = run_gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", cache=tmp_path / "cache"), policy)
    [result] = run.gate.results
    return result


def test_an_object_the_ci_values_supply_is_not_the_charts_to_label(tmp_path):
    result = _hyg002(tmp_path, "extraObjects: []\n", SUPPLIED)
    assert result.outcome.value == "passed", [f.message for f in result.findings]


def test_the_same_object_in_the_charts_own_defaults_is_the_charts(tmp_path):
    result = _hyg002(tmp_path, SUPPLIED, None)
    assert result.outcome.value == "failed"
    assert len(result.findings) == 1 and result.findings[0].resource.endswith("-upstreams")
