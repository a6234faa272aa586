"""Toggles as the Blueprint contract defines them: classified by name, by the platform file or by what
their opt-in renders; nested toggles exercised inside their parents; toggles no template reads never
rendered; and the static scan of values references that decides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartgate.discover.charts import _load_chart_dir
from chartgate.check.loader import load_policy_module
from chartgate.check.definition import Outcome, policies_in
from chartgate.plan.references import chart_references, _template_references
from chartgate.plan.toggles import Classification, ToggleCategory, discover_toggles

from ..conftest import REPO, gate_config, run_gate

OBSERVABILITY = policies_in(load_policy_module(REPO / "policies" / "observability.py"))
RENDER = policies_in(load_policy_module(REPO / "policies" / "render.py"))

SERVICE_MONITOR = """{{- if and %s (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: %s}
spec: {selector: {matchLabels: {app: x}}, endpoints: [{port: metrics}]}
{{- end }}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {k: %s}\n"


def write_chart(root: Path, name: str, values: str, templates: dict[str, str], *, blueprint: bool = True,
                sub: tuple[str, str, dict[str, str]] | None = None) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    deps = ""
    if sub:
        sub_name, sub_values, sub_templates = sub
        deps = f"dependencies:\n  - name: {sub_name}\n    version: 1.0.0\n    repository: oci://example.invalid\n"
        sub_dir = chart / "charts" / sub_name
        (sub_dir / "templates").mkdir(parents=True)
        (sub_dir / "Chart.yaml").write_text(f"apiVersion: v2\nname: {sub_name}\nversion: 1.0.0\n")
        (sub_dir / "values.yaml").write_text(sub_values)
        for rel, text in sub_templates.items():
            (sub_dir / "templates" / rel).write_text(text)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n{deps}")
    (chart / "values.yaml").write_text(values)
    for rel, text in templates.items():
        (chart / "templates" / rel).write_text(text)
    if blueprint:
        (chart / "blueprint.yaml").write_text(
            f"apiVersion: catalyst.openova.io/v1alpha1\nkind: Blueprint\nmetadata: {{name: {name}}}\n"
            "spec: {version: 1.0.0}\n")
    return chart


# -- the static scan --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, paths, whole", [
    ("{{ if .Values.a.b.enabled }}", {("a", "b", "enabled")}, False),
    ("{{ $root := . }}{{ $root.Values.x.y }}", {("x", "y")}, False),
    ('{{ index .Values "m" "n-o" }}{{ get .Values.p "q" }}', {("m", "n-o"), ("p", "q"), ("p",)}, False),
    ("{{ toYaml .Values.z | nindent 2 }}", {("z",)}, False),
    ('{{ include "x" (dict "Values" .Values) }}', set(), True),
    ("{{- with .Values }}{{ .a }}{{ end }}", set(), True),
])
def test_template_references(text, paths, whole):
    assert _template_references(text) == (paths, whole)


def test_subchart_reads_are_scoped_under_its_key_and_global_is_shared(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path, "bp-x", "up: {}\n", {}, sub=(
        "up", "a: {enabled: false}\n", {"t.yaml": "{{ .Values.a.enabled }}{{ .Values.global.domain }}"})))
    refs = chart_references(chart)
    assert refs.reads(("up", "a", "enabled")) and refs.reads(("global", "domain"))
    assert not refs.reads(("a", "enabled"))  # the umbrella's own `a` is not the subchart's


# -- classification -----------------------------------------------------------------------------------

def test_classification_by_name_feature_switches_and_platform_pins(tmp_path):
    values = """
xOverlay:
  serviceMonitor: {enabled: false}
  hpa: {enabled: false}
  networkPolicy: {enabled: false, egress: {enabled: false}}
  gatewayClass: {create: true}
  scaleToZero: {enabled: true}
  tracing: {enabled: false}
  widget: {enabled: true}
rbac: {create: true}
serviceAccount: {create: true}
"""
    reads = "{{ .Values.xOverlay }}{{ .Values.rbac }}{{ .Values.serviceAccount }}"
    chart = _load_chart_dir(write_chart(tmp_path, "bp-x", values, {"t.yaml": reads}))
    found = {t.dotted: t for t in discover_toggles(chart)}
    category = {name: t.category for name, t in found.items()}
    assert category["xOverlay.serviceMonitor.enabled"] is ToggleCategory.OBSERVABILITY
    assert category["xOverlay.tracing.enabled"] is ToggleCategory.OBSERVABILITY
    assert category["xOverlay.hpa.enabled"] is ToggleCategory.OVERLAY
    assert category["xOverlay.networkPolicy.egress.enabled"] is ToggleCategory.OVERLAY
    for feature in ("xOverlay.gatewayClass.create", "xOverlay.scaleToZero.enabled", "xOverlay.widget.enabled",
                    "rbac.create", "serviceAccount.create"):
        assert category[feature] is ToggleCategory.FEATURE, feature
    assert found["xOverlay.networkPolicy.egress.enabled"].parents == ("xOverlay.networkPolicy.enabled",)
    pinned = {t.dotted: t.category for t in discover_toggles(
        chart, Classification(include=("xOverlay.widget.*",), exclude=("xOverlay.tracing.*",)))}
    assert pinned["xOverlay.widget.enabled"] is ToggleCategory.OBSERVABILITY
    assert pinned["xOverlay.tracing.enabled"] is ToggleCategory.FEATURE


def gate_on(tmp_path: Path, chart_root: Path, policies=OBSERVABILITY + RENDER, **kw):
    (tmp_path / "overlays").mkdir(exist_ok=True)
    return run_gate(gate_config(tmp_path, chart_root, tmp_path / "overlays", cache=tmp_path / "cache", **kw),
                    policies)


def test_a_feature_named_toggle_that_switches_on_monitoring_is_held_to_default_false(tmp_path):
    # `extras.enabled` is no observability word, but what it switches on is a ServiceMonitor.
    values = "extras: {enabled: true}\nplain: {enabled: true}\n"
    templates = {"sm.yaml": SERVICE_MONITOR % (".Values.extras.enabled", "sm"),
                 "cm.yaml": "{{- if .Values.plain.enabled }}\n" + CONFIGMAP % ("plain", "v") + "{{- end }}\n"}
    write_chart(tmp_path / "charts", "bp-probe", values, templates)
    run = gate_on(tmp_path, tmp_path / "charts")
    [obs1] = run.results_for("OBS-001")
    assert obs1.outcome is Outcome.FAILED
    assert [f.path for f in obs1.findings] == ["$.extras.enabled"]  # `plain` renders no monitoring object
    assert "its opt-in render adds monitoring objects" in obs1.findings[0].message


def test_a_nested_toggle_is_exercised_with_its_parent_on(tmp_path):
    values = "xOverlay:\n  networkPolicy:\n    enabled: false\n    egress: {enabled: false}\n"
    netpol = """{{- if .Values.xOverlay.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {}
  policyTypes: [Ingress{{ if .Values.xOverlay.networkPolicy.egress.enabled }}, Egress{{ end }}]
{{- end }}
"""
    write_chart(tmp_path / "charts", "bp-nested", values, {"np.yaml": netpol})
    run = gate_on(tmp_path, tmp_path / "charts")
    plan = {s.name: s for s in run.gate.plans["bp-nested"]}
    nested = plan["on.xOverlay.networkPolicy.egress.enabled"]
    assert dict(nested.set_values) == {"xOverlay.networkPolicy.enabled": True,
                                       "xOverlay.networkPolicy.egress.enabled": True}
    # The egress toggle only changes a field value, inside its parent: wired, explicit-off is clean.
    assert {r.outcome for r in run.results_for("OBS-003")} == {Outcome.PASSED}
    assert {r.outcome for r in run.results_for("OBS-005")} == {Outcome.PASSED}


def test_a_toggle_no_template_reads_is_never_rendered_and_counted_as_pruned(tmp_path):
    upstream = "\n".join(f"feature{i}: {{enabled: false}}" for i in range(40)) + "\nused: {enabled: false}\n"
    write_chart(tmp_path / "charts", "bp-big", "up: {}\n", {"cm.yaml": CONFIGMAP % ("own", "v")},
                sub=("up", upstream, {"cm.yaml": "{{- if .Values.used.enabled }}\n" + CONFIGMAP % ("used", "v")
                                      + "{{- end }}\n"}))
    run = gate_on(tmp_path, tmp_path / "charts")
    plan = run.gate.combination_plans["bp-big"]
    assert [f.name for f in plan.factors if f.kind == "toggle"] == ["up.used.enabled"]
    assert len(plan.pruned) == 40
    assert "pruned: 40 toggle(s) no template reads" in run.gate.describe_plans()


def test_an_umbrella_override_nothing_reads_is_reported_as_not_wired(tmp_path):
    # The umbrella sets `up.metrics.serviceMonitor.enable` (typo); the subchart reads `.enabled`.
    sub_values = "metrics: {serviceMonitor: {enabled: false}}\n"
    write_chart(tmp_path / "charts", "bp-typo", "up:\n  metrics: {serviceMonitor: {enable: false}}\n",
                {"cm.yaml": CONFIGMAP % ("own", "v")},
                sub=("up", sub_values, {"sm.yaml": SERVICE_MONITOR % (".Values.metrics.serviceMonitor.enabled", "sm")}))
    run = gate_on(tmp_path, tmp_path / "charts")
    [obs3] = run.results_for("OBS-003")
    assert obs3.outcome is Outcome.FAILED
    assert [f.path for f in obs3.findings] == ["$.up.metrics.serviceMonitor.enable"]


# -- required input: chart-testing's ci/ values ------------------------------------------------------

REQUIRED = '{{- $d := required "bp-req: set domain (the cluster FQDN)" .Values.domain }}\n' + CONFIGMAP % ("cm", "{{ $d }}")


def test_a_chart_that_requires_input_is_layered_on_its_first_ci_file(tmp_path):
    chart = write_chart(tmp_path / "charts", "bp-req", "domain: \"\"\nxOverlay: {hpa: {enabled: false}}\n",
                        {"cm.yaml": REQUIRED, "hpa.yaml": "{{- if .Values.xOverlay.hpa.enabled }}\n"
                         + CONFIGMAP % ("hpa", "v") + "{{- end }}\n"})
    (chart / "ci").mkdir()
    (chart / "ci" / "b-values.yaml").write_text("domain: b.sovereign.chartgate.invalid\n")
    (chart / "ci" / "a-values.yaml").write_text("domain: a.sovereign.chartgate.invalid\n")
    run = gate_on(tmp_path, tmp_path / "charts")
    plan = {s.name: s for s in run.gate.plans["bp-req"]}
    assert [p.name for p in plan["default"].values_files] == ["a-values.yaml"]  # the first in sorted order
    assert [p.name for p in plan["on.xOverlay.hpa.enabled"].values_files] == ["a-values.yaml"]
    assert plan["bare"].values_files == ()
    outcomes = {(r.policy.id, r.scenario): r.outcome for r in run.gate.results}
    assert outcomes[("RENDER-001", "bare")] is Outcome.PASSED  # the message names the key
    assert not [r for r in run.gate.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)]
    assert not run.summary.red


def test_a_required_value_without_a_named_key_fails_once_on_the_bare_render(tmp_path):
    chart = write_chart(tmp_path / "charts", "bp-req", "domain: \"\"\n",
                        {"cm.yaml": REQUIRED.replace("bp-req: set domain (the cluster FQDN)", "missing input")})
    (chart / "ci").mkdir()
    (chart / "ci" / "a-values.yaml").write_text("domain: a.sovereign.chartgate.invalid\n")
    run = gate_on(tmp_path, tmp_path / "charts")
    failing = [(r.policy.id, r.scenario) for r in run.gate.results if r.outcome is Outcome.FAILED]
    assert failing == [("RENDER-001", "bare")]


# -- infeasible generated inputs -----------------------------------------------------------------------

def test_an_opt_in_the_chart_refuses_with_its_own_fail_is_infeasible_not_an_error(tmp_path):
    values = "xOverlay:\n  hpa: {enabled: false, maxReplicas: null}\n"
    hpa = ('{{- if .Values.xOverlay.hpa.enabled }}\n{{- $m := required "xOverlay.hpa.maxReplicas is required on HPA" '
           '.Values.xOverlay.hpa.maxReplicas }}\n' + CONFIGMAP % ("hpa", "{{ $m }}") + "{{- end }}\n")
    write_chart(tmp_path / "charts", "bp-inf", values, {"hpa.yaml": hpa, "cm.yaml": CONFIGMAP % ("cm", "v")})
    run = gate_on(tmp_path, tmp_path / "charts")
    on = [r for r in run.gate.results if r.scenario == "on.xOverlay.hpa.enabled"]
    assert on and all(r.outcome is Outcome.SKIPPED and r.cause == "infeasible" for r in on)
    assert all("maxReplicas is required on HPA" in r.message for r in on)
    assert not run.summary.red


def test_a_row_the_values_schema_rejects_is_infeasible_not_a_render_error(tmp_path):
    # The chart's values.schema.json says `controller.enabled` must be true: a plan row switching it off
    # is refused by the chart, like its own `fail`.
    values = "controller: {enabled: true}\nmetrics: {serviceMonitor: {enabled: false}}\n"
    chart = write_chart(tmp_path / "charts", "bp-schema", values, {
        "cm.yaml": "{{- if .Values.controller.enabled }}\n" + CONFIGMAP % ("cm", "v") + "{{- end }}\n",
        "sm.yaml": SERVICE_MONITOR % (".Values.metrics.serviceMonitor.enabled", "sm")})
    (chart / "values.schema.json").write_text(
        '{"type": "object", "properties": {"controller": {"type": "object", '
        '"properties": {"enabled": {"const": true}}}}}')
    run = gate_on(tmp_path, tmp_path / "charts")
    [plan] = run.gate.combination_plans.values()
    assert plan.infeasible and all("schema" in message for _, message in plan.infeasible)
    render = [r for r in run.results_for("RENDER-001") if r.outcome is not Outcome.PASSED]
    assert render and all(r.outcome is Outcome.SKIPPED and r.cause == "infeasible" for r in render)
    assert not run.summary.red


def test_declared_constraints_make_the_opt_in_feasible(tmp_path):
    from chartgate.discover.chartconfig import parse_chart_settings
    values = "xOverlay:\n  hpa: {enabled: false, maxReplicas: null}\n"
    hpa = ('{{- if .Values.xOverlay.hpa.enabled }}\n{{- $m := required "xOverlay.hpa.maxReplicas is required on HPA" '
           '.Values.xOverlay.hpa.maxReplicas }}\n' + CONFIGMAP % ("hpa", "{{ $m }}") + "{{- end }}\n")
    write_chart(tmp_path / "charts", "bp-inf", values, {"hpa.yaml": hpa, "cm.yaml": CONFIGMAP % ("cm", "v")})
    settings = parse_chart_settings({"bp-*": {"constraints": {"xOverlay.hpa.enabled": {
        "values": {"xOverlay.hpa.maxReplicas": 3}}}}}, "pyproject.toml")
    run = gate_on(tmp_path, tmp_path / "charts", chart_settings=settings)
    on = [r for r in run.results_for("OBS-003")]
    assert on and all(r.outcome is Outcome.PASSED for r in on)


# -- profiles and per-chart policy selection -------------------------------------------------------------

def test_generic_charts_skip_blueprint_only_rules_with_that_reason(tmp_path):
    write_chart(tmp_path / "charts", "plain", "metrics: {serviceMonitor: {enabled: true}}\n",
                {"sm.yaml": SERVICE_MONITOR % (".Values.metrics.serviceMonitor.enabled", "sm")}, blueprint=False)
    run = gate_on(tmp_path, tmp_path / "charts")
    obs = [r for r in run.gate.results if r.policy.id.startswith("OBS")]
    assert obs and all(r.outcome is Outcome.SKIPPED and "Blueprint-only rule" in r.message for r in obs)


def test_a_chart_configuration_disables_a_family_and_sets_a_profile(tmp_path):
    from chartgate.discover.chartconfig import parse_chart_settings
    write_chart(tmp_path / "charts", "plain", "metrics: {serviceMonitor: {enabled: true}}\n",
                {"sm.yaml": SERVICE_MONITOR % (".Values.metrics.serviceMonitor.enabled", "sm")}, blueprint=False)
    settings = parse_chart_settings({"plain": {"profile": "blueprint", "disable": ["OBS-00[2-5]"]}}, "pyproject.toml")
    run = gate_on(tmp_path, tmp_path / "charts", chart_settings=settings)
    by_id = {r.policy.id: r for r in run.gate.results if r.policy.id.startswith("OBS")}
    assert by_id["OBS-001"].outcome is Outcome.FAILED  # judged as a Blueprint now
    assert all(by_id[i].outcome is Outcome.SKIPPED and "disabled for this chart" in by_id[i].message
               for i in ("OBS-002", "OBS-003", "OBS-004", "OBS-005"))


def test_a_generic_chart_opts_into_observability_rules_without_a_blueprint_yaml(tmp_path):
    """`enable = ["*", "OBS-001"]` judges the Blueprint platform rule on a generic chart; the catch-all `*`
    alone does not opt in (the other OBS rules stay skipped as Blueprint-only)."""
    from chartgate.discover.chartconfig import parse_chart_settings
    write_chart(tmp_path / "charts", "plain", "metrics: {serviceMonitor: {enabled: true}}\n",
                {"sm.yaml": SERVICE_MONITOR % (".Values.metrics.serviceMonitor.enabled", "sm")}, blueprint=False)
    settings = parse_chart_settings({"plain": {"enable": ["*", "OBS-001"]}}, "pyproject.toml")
    run = gate_on(tmp_path, tmp_path / "charts", chart_settings=settings)
    by_id = {r.policy.id: r for r in run.gate.results if r.policy.id.startswith("OBS") and r.scenario is None}
    assert by_id["OBS-001"].outcome is Outcome.FAILED
    assert "metrics.serviceMonitor.enabled defaults to True" in by_id["OBS-001"].findings[0].message
    others = [r for r in run.gate.results if r.policy.id in ("OBS-002", "OBS-003", "OBS-004", "OBS-005")]
    assert others and all(r.outcome is Outcome.SKIPPED and "Blueprint-only rule" in r.message for r in others)


BLUEPRINT_FILE_RULES = [p for p in policies_in(load_policy_module(REPO / "policies" / "umbrella.py"))
                        + policies_in(load_policy_module(REPO / "policies" / "hygiene.py"))
                        if "blueprint-file" in p.requires]


@pytest.mark.parametrize("chart_setting, asked", [
    ({"profile": "blueprint"}, 'profile = "blueprint" for plain'),
    ({"enable": ["*", "UMB-004", "HYG-003"]}, "enable = ["),
])
def test_a_rule_that_reads_blueprint_yaml_is_a_configuration_error_without_one(tmp_path, chart_setting, asked):
    """Asked for on a chart without blueprint.yaml, such a rule is an error naming the chart and the
    setting - never chartgate's own AttributeError, never a silent skip."""
    from chartgate.discover.chartconfig import parse_chart_settings
    assert {p.id for p in BLUEPRINT_FILE_RULES} >= {"UMB-004", "HYG-003"}
    write_chart(tmp_path / "charts", "plain", "replicas: 1\n", {"cm.yaml": CONFIGMAP % ("cm", "v")}, blueprint=False)
    settings = parse_chart_settings({"plain": chart_setting}, "pyproject.toml")
    run = gate_on(tmp_path, tmp_path / "charts", policies=BLUEPRINT_FILE_RULES + RENDER, chart_settings=settings)
    asked_for = [r for r in run.gate.results if r.policy.id in ("UMB-004", "HYG-003")]
    assert len(asked_for) == 2
    for r in asked_for:
        assert r.outcome is Outcome.ERROR and r.cause == "configuration", r.message
        assert f"{r.policy.id} reads blueprint.yaml, but chart plain has none" in r.message and asked in r.message
        assert "AttributeError" not in r.message
    assert run.summary.red


def test_a_generic_chart_without_opt_in_skips_rules_that_read_blueprint_yaml(tmp_path):
    write_chart(tmp_path / "charts", "plain", "replicas: 1\n", {"cm.yaml": CONFIGMAP % ("cm", "v")}, blueprint=False)
    run = gate_on(tmp_path, tmp_path / "charts", policies=BLUEPRINT_FILE_RULES + RENDER)
    judged = [r for r in run.gate.results if r.policy in BLUEPRINT_FILE_RULES]
    assert judged and all(r.outcome is Outcome.SKIPPED and "Blueprint-only rule" in r.message for r in judged)


def test_the_plan_covers_the_space_without_the_rows_the_chart_refuses(tmp_path):
    # Four switches, two of them mutually exclusive by the chart's own contract.
    values = "xOverlay:\n" + "".join(f"  {n}: {{enabled: false}}\n" for n in ("a", "b", "c", "d"))
    guard = ('{{- if and .Values.xOverlay.a.enabled .Values.xOverlay.b.enabled }}'
             '{{- fail "xOverlay.a and xOverlay.b are mutually exclusive" }}{{- end }}\n')
    objects = "".join("{{- if .Values.xOverlay.%s.enabled }}\n---\n%s{{- end }}\n" % (n, CONFIGMAP % (n, "v"))
                      for n in ("a", "b", "c", "d"))
    write_chart(tmp_path / "charts", "bp-excl", values, {"guard.yaml": guard, "cm.yaml": objects,
                                                         "base.yaml": CONFIGMAP % ("base", "v")})
    run = gate_on(tmp_path, tmp_path / "charts", exhaustive_threshold=0)
    plan = run.gate.combination_plans["bp-excl"]
    assert plan.infeasible and all("mutually exclusive" in message for _, message in plan.infeasible)
    # Every pair but (a on, b on) is covered by a row the chart renders; that pair is recorded as refused.
    from chartgate.plan.covering import coverage_gaps
    rendered = [s.extra["assignment"] for s in plan.scenarios if s.name not in dict(plan.infeasible)]
    rendered += [{f.name: f.levels[0] for f in plan.factors}]  # the `default` scenario (a row repeats it)
    for scenario in plan.repairs:
        rendered.append(scenario.extra["assignment"])
    assert coverage_gaps(rendered, plan.space, 2) == [(("xOverlay.a.enabled", True), ("xOverlay.b.enabled", True))]
    assert (("xOverlay.a.enabled", True), ("xOverlay.b.enabled", True)) in plan.infeasible_combinations
    # Infeasible rows are skipped with the chart's message, never failures.
    infeasible = [r for r in run.gate.results if r.cause == "infeasible"]
    assert infeasible and not run.summary.red
    assert "infeasible: " in run.gate.describe_plans()


def test_plan_shows_what_the_render_cache_knows_is_infeasible(tmp_path):
    values = "xOverlay:\n  hpa: {enabled: false, maxReplicas: null}\n"
    hpa = ('{{- if .Values.xOverlay.hpa.enabled }}\n{{- $m := required "xOverlay.hpa.maxReplicas is required on HPA" '
           '.Values.xOverlay.hpa.maxReplicas }}\n' + CONFIGMAP % ("hpa", "{{ $m }}") + "{{- end }}\n")
    write_chart(tmp_path / "charts", "bp-inf", values, {"hpa.yaml": hpa, "cm.yaml": CONFIGMAP % ("cm", "v")})
    before = gate_on(tmp_path, tmp_path / "charts")  # renders everything into the cache
    assert "known infeasible" in before.gate.describe_plans()
    from chartgate.engine.gate import Gate
    planner = Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", cache=tmp_path / "cache",
                               plan_only=True))
    text = planner.describe_plans()
    assert "infeasible (known from the render cache):" in text and "on.xOverlay.hpa.enabled" in text
