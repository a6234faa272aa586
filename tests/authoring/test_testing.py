"""chartgate.testing.judge: a user's own policy test in a few lines - the real Helm renders the chart
with the values and APIs the test gives, the gate's own judging runs the policy, and every way a test
could pass by judging nothing is an error."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from chartgate import Applicability, ChartContext, ChartgateError, Finding, RenderError, ScenarioContext, policy
from chartgate.testing import judge, load_policies

COMMON = dict(rationale="r", reference="r")

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\n",
    "values.yaml": "port: 8080\nmonitoring: false\nrequireName: false\nname: ''\n",
    "templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-cm
        data:
          port: {{ .Values.port | quote }}
          {{- if .Values.requireName }}
          name: {{ required "set name: the ConfigMap needs it" .Values.name }}
          {{- end }}
        """,
    "templates/sm.yaml": """\
        {{- if and .Values.monitoring (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata:
          name: {{ .Release.Name }}
        spec:
          endpoints: [{port: http}]
        {{- end }}
        """,
}


@pytest.fixture
def chart(tmp_path) -> Path:
    root = tmp_path / "tiny"
    for rel, text in CHART.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


@policy(id="TST-001", title="ports are below 9000", receives="scenario",
        applies_to=Applicability(kinds=("ConfigMap",), scenarios="*"), **COMMON)
def low_ports(ctx: ScenarioContext):
    for cm in ctx.render.of_kind("ConfigMap"):
        if int(cm.body["data"]["port"]) >= 9000:
            yield Finding.on(cm, "$.data.port", "use a port below 9000", value=cm.body["data"]["port"])


def test_a_good_chart_passes_and_a_mutant_fails_with_the_finding(chart):
    assert judge(chart, low_ports).outcome == "passed"
    judged = judge(chart, low_ports, values={"port": 9443})
    assert judged.outcome == "failed"
    [finding] = judged.findings
    assert (finding.resource, finding.template, finding.path) == ("ConfigMap/tiny/tiny-cm", "tiny/templates/cm.yaml",
                                                                 "$.data.port")
    assert finding.excerpt == "'9443'"
    assert Path(judged.render.command.split()[0]).name == "helm" and " template " in judged.render.command


def test_advertised_apis_reach_capabilities_and_kinds_decide_applicability(chart):
    @policy(id="TST-002", title="no ServiceMonitor", receives="scenario",
            applies_to=Applicability(kinds=("ServiceMonitor",), scenarios="*"), **COMMON)
    def no_monitor(ctx: ScenarioContext):
        for sm in ctx.render.of_kind("ServiceMonitor"):
            yield Finding.on(sm, "$", "no ServiceMonitor here")

    bare = judge(chart, no_monitor, values={"monitoring": True})
    assert bare.outcome == "skipped" and "ServiceMonitor" in bare.results[0].message
    served = judge(chart, no_monitor, values={"monitoring": True}, api_versions=["monitoring.coreos.com/v1"])
    assert served.outcome == "failed" and served.findings[0].resource == "ServiceMonitor/tiny/tiny"


def test_a_policy_file_with_several_policies_gives_one_outcome_each(chart, tmp_path):
    module = tmp_path / "policies" / "mine.py"
    module.parent.mkdir()
    module.write_text(textwrap.dedent('''
        from chartgate import Applicability, ChartContext, Finding, policy

        @policy(id="TST-010", title="always fine", receives="scenario", applies_to=Applicability(scenarios="*"),
                rationale="r", reference="r")
        def fine(ctx):
            return None

        @policy(id="TST-011", title="chart-level: the port value", receives="chart", rationale="r", reference="r")
        def port_value(ctx: ChartContext):
            assert [s.name for s in ctx.scenarios] == ["default"]  # the one scenario judged
            if ctx.values_for("default")["port"] != 8080:
                yield Finding("port must stay 8080", template="values.yaml", path="$.port")
        '''))
    assert [p.id for p in load_policies(module)] == ["TST-010", "TST-011"]
    judged = judge(chart, module, values={"port": 8081})
    assert judged.outcomes == {"TST-010": "passed", "TST-011": "failed"}
    with pytest.raises(ValueError, match="read judged.outcomes"):
        judged.outcome  # noqa: B018


def test_a_policy_that_would_not_run_on_the_scenario_is_an_error_not_a_pass(chart):
    @policy(id="TST-003", title="ci only", receives="scenario", applies_to=Applicability(scenarios=("ci",)), **COMMON)
    def ci_only(ctx):
        yield from ()

    with pytest.raises(ChartgateError, match="TST-003 does not run on a scenario of kind 'default'"):
        judge(chart, ci_only)
    assert judge(chart, ci_only, kind="ci").outcome == "passed"


def test_a_render_helm_refuses_raises_with_helms_message(chart):
    with pytest.raises(RenderError, match="set name: the ConfigMap needs it"):
        judge(chart, low_ports, values={"requireName": True})


def test_not_a_chart_directory(tmp_path):
    with pytest.raises(ChartgateError, match="not a chart directory"):
        judge(tmp_path, low_ports)


def test_waivers_apply_as_the_gate_applies_them(chart, tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - policy: TST-001\n    chart: tiny\n    reason: legacy port\n"
                       "    owner: team\n    expires: 2027-06-30\n")
    assert judge(chart, low_ports, values={"port": 9443}, waivers=waivers, today=date(2027, 1, 1)).outcome == "waived"
    expired = judge(chart, low_ports, values={"port": 9443}, waivers=waivers, today=date(2027, 7, 1))
    assert expired.outcome == "failed"


@policy(id="MIS-101", title="chart-level returns True", receives="chart", **COMMON)
def returns_true(ctx: ChartContext):
    return True


@policy(id="MIS-102", title="a manifest as the resource", receives="scenario",
        applies_to=Applicability(scenarios="*"), **COMMON)
def manifest_as_resource(ctx: ScenarioContext):
    for m in ctx.manifests:
        yield Finding("wrong", m)


@policy(id="MIS-103", title="Finding.on a body", receives="scenario",
        applies_to=Applicability(scenarios="*"), **COMMON)
def on_a_body(ctx: ScenarioContext):
    for m in ctx.manifests:
        yield Finding.on(m.body, "$", "wrong")


@policy(id="MIS-104", title="an empty message", receives="scenario",
        applies_to=Applicability(scenarios="*"), **COMMON)
def empty_message(ctx: ScenarioContext):
    for m in ctx.manifests:
        yield Finding("  ", m.resource_id)


@pytest.mark.parametrize("misused, said", [
    (returns_true, "MIS-101: the check returned bool True"),
    (manifest_as_resource, "MIS-102: the check yielded a Finding whose resource=Manifest("),
    (on_a_body, "MIS-103: Finding.on(...) takes a chartgate.Manifest"),
    (empty_message, "MIS-104: the check yielded a Finding whose message is empty"),
])
def test_a_misused_check_is_an_error_naming_the_policy(chart, misused, said):
    judged = judge(chart, misused)
    assert judged.outcome == "error"
    assert judged.results[0].message.startswith(said), judged.results[0].message


def test_values_merge_as_helm_merges_them_and_null_removes_a_key(chart):
    rendered = judge(chart, low_ports, values={"port": None}).render.of_kind("ConfigMap")[0]
    assert not rendered.body["data"]["port"]  # the default 8080 is gone, as with `helm template -f`
