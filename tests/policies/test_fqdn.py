"""No hardcoded FQDN: DNS-name extraction (incl. embedded documents), the exemptions, and the FQDN
policies on hand-written values and renders (no Helm)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chartgate.dnsnames import find_names, is_cluster_local, is_within, names_in_text, parse_embedded
from chartgate.errors import ChartFailed, RenderError
from chartgate.loader import load_policy_module
from chartgate.manifests import parse_render
from chartgate.platform import Platform
from chartgate.policy import NotApplicable
from chartgate.render import Render
from chartgate.scenarios import Scenario, ScenarioKind
from chartgate.context import ScenarioContext

from ..conftest import REPO

fqdn = load_policy_module(REPO / "policies" / "fqdn.py")
SENTINEL = Platform().fqdn_sentinel


# --- finding names --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, names", [
    ("https://grafana.acme.org/x", ["grafana.acme.org"]),
    ("foo.openova.io,bar.example.com", ["foo.openova.io", "bar.example.com"]),
    ("seaweedfs.storage.svc:8333", ["seaweedfs.storage.svc"]),
    ("*.sovereign.example.test", ["sovereign.example.test"]),
    ("see example.com.", ["example.com"]),
    ("hatice <hatice.yildiz@openova.io>", ["openova.io"]),  # the mailbox's domain, not its local part
    ("config.yaml", []), ("/etc/app/settings.json", []),  # file names
    ("v1.21.1", []), ("10.0.0.1", []), ("1.5s", []), ("250ms", []),  # versions, addresses, durations
    ("Knative.Serving", []),  # prose/code, not a lower-case hostname
])
def test_names_in_text(text, names):
    assert names_in_text(text) == names


def test_embedded_documents_are_parsed_by_format():
    assert parse_embedded('{"a": "x.example.com"}') == ("json", {"a": "x.example.com"})
    assert parse_embedded("a: 1\nb:\n  - c\n")[0] == "yaml"
    assert parse_embedded('title = "t"\n[server]\nport = 1\n')[0] == "toml"
    assert parse_embedded("[server]\nhost=foo.example.com\n") == ("ini", {"server": {"host": "foo.example.com"}})
    assert parse_embedded("#!/bin/sh\necho hi\n") is None  # a script is text
    assert parse_embedded("just: one line") is None  # one-liners are scanned as text


def test_names_inside_embedded_documents_report_the_inner_path():
    data = {"data": {"cfg.json": '{"ingress": {"domain": "apps.example.com"}}', "x.example.org": "1"}}
    found = {(o.name, o.path, o.inner_path, o.in_key) for o in find_names(data)}
    assert found == {("apps.example.com", "$.data['cfg.json']", "json $.ingress.domain", False),
                     ("x.example.org", "$.data['x.example.org']", "", True)}


def test_dns_facts():
    assert is_within("a.b.example.com", "example.com") and is_within("example.com", "*.example.com")
    assert not is_within("badexample.com", "example.com")
    assert is_cluster_local("api.ns.svc") and is_cluster_local("api.ns.svc.cluster.local")
    assert not is_cluster_local("svc.example.com")


# --- exemptions -----------------------------------------------------------------------------------

GROUPS = {"operator.knative.dev", "stunner.l7mp.io", "apps"}


def verdicts(body: dict, kind: str = "ConfigMap") -> dict[str, str | None]:
    return {o.name: fqdn.exemption(o, sentinel=SENTINEL, allow=("trusted.example.net",), api_groups=GROUPS, kind=kind)
            for o in find_names(body)}


def test_identifiers_are_not_domains():
    body = {
        "metadata": {"labels": {"app.kubernetes.io/name": "x"}, "name": "knativeservings.operator.knative.dev"},
        "spec": {"controllerName": "stunner.l7mp.io/gateway-operator",
                 "selector": {"matchExpressions": [{"key": "serving.kserve.io/inferenceservice"}]},
                 "containers": [{"image": "gcr.io/knative-releases/knative.dev/operator:v1",
                                 "env": [{"valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]}],
                 "dnsNames": ["svc-a.ns.svc", f"api.{SENTINEL}"],
                 "upstream": "https://api.trusted.example.net/v1"},
        "webhooks": [{"name": "inferenceservice.kserve-webhook-server.defaulter"}],
    }
    assert all(verdicts(body).values()), verdicts(body)


def test_real_domains_are_not_exempt():
    body = {"data": {"url": "https://grafana.acme.org/x", "nested": '{"sink": "logs.example.com"}'},
            "spec": {"name": "foo.openova.io"}}
    assert verdicts(body) == {"grafana.acme.org": None, "logs.example.com": None, "foo.openova.io": None}


def test_crd_descriptions_are_documentation_only_in_crds():
    body = {"spec": {"description": "see docs.example.com"}}
    assert verdicts(body, kind="CustomResourceDefinition") == {"docs.example.com": "CRD schema documentation"}
    assert verdicts(body, kind="GatewayClass") == {"docs.example.com": None}


# --- FQDN inputs and FQDN-001 on values -----------------------------------------------------------

def chart_stub(values: dict, blueprint: dict | None = None, subcharts=()):
    return SimpleNamespace(values=values, effective_values=values, blueprint=blueprint, blueprint_path=None,
                           subcharts={k: None for k in subcharts}, crd_documents=lambda: [],
                           all_templates=lambda: {})


def chart_context(chart, **methods):
    return SimpleNamespace(chart=chart, name="chart", platform=Platform(), kube_versions=("1.33",), **methods)


def test_fqdn_inputs_come_from_values_and_the_blueprint_schema():
    schema = {"type": "object", "properties": {"ingress": {"type": "object", "properties": {
        "baseDomain": {"type": "string"}, "replicas": {"type": "integer"}}}}}
    chart = chart_stub({"overlay": {"sovereignFqdn": "", "hostNetwork": False, "domains": []}},
                       {"spec": {"configSchema": schema}})
    assert fqdn.fqdn_inputs(chart) == [("ingress", "baseDomain"), ("overlay", "domains"), ("overlay", "sovereignFqdn")]
    assert fqdn.sentinel_values(chart, SENTINEL)[1] == ("overlay.domains", [SENTINEL])


def test_defaults_with_domains_and_host_keys_fail():
    values = {"gateway": {"domain": "example.com", "hostname": "api.internal.example.org"},
              "db": {"host": "0.0.0.0", "clusterDomain": "cluster.local", "bindHost": "localhost"},
              "grafana": {"url": "https://grafana.acme.org"},
              "image": {"repository": "docker.io/acme/app"}, "pod": {"hostNetwork": True}}
    policy = next(p for p in fqdn.__dict__.values() if getattr(p, "id", "") == "FQDN-001")
    findings = list(policy.check(chart_context(chart_stub(values))))
    assert sorted(f.path for f in findings) == ["$.gateway.domain", "$.gateway.hostname", "$.grafana.url"]
    assert all(f.template == "chart/values.yaml" for f in findings)


def test_blueprint_schema_defaults_are_checked():
    schema = {"properties": {"ingress": {"properties": {"domain": {"type": "string", "default": "apps.acme.org"}}}}}
    policy = fqdn.defaults_hold_no_domain
    findings = list(policy.check(chart_context(chart_stub({}, {"spec": {"configSchema": schema}}))))
    assert [f.path for f in findings] == ["$.spec.configSchema.properties.ingress.properties.domain.default"]


# --- FQDN-002 and FQDN-003 on hand-written renders -------------------------------------------------

CONFIGMAP = """
---
# Source: chart/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {app.kubernetes.io/name: chart}}
data:
  ingress: '{"ingressDomain": "%s", "gateway": "ns/gw"}'
"""


def render_of(text: str, name: str = "default", error: RenderError | None = None) -> Render:
    scenario = Scenario(name, ScenarioKind.DEFAULT)
    return Render("chart", scenario, "helm template chart", parse_render(text, namespace="ns") if text else [],
                  error=error)


def scenario_context(chart_ctx, render: Render) -> ScenarioContext:
    return ScenarioContext(chart_ctx, render.scenario, render)


def test_a_domain_in_embedded_json_is_reported_with_both_paths():
    rendered = render_of(CONFIGMAP % "models.acme.org")
    ctx = chart_context(chart_stub({}), render=lambda scenario: rendered)
    findings = list(fqdn.render_names_only_the_sentinel.check(scenario_context(ctx, rendered)))
    assert len(findings) == 1
    assert findings[0].resource == "ConfigMap/ns/settings" and findings[0].path == "$.data.ingress"
    assert "'models.acme.org' at $.data.ingress (inside the embedded json $.ingressDomain)" in findings[0].message


def test_the_sentinel_render_is_clean():
    rendered = render_of(CONFIGMAP % SENTINEL)
    ctx = chart_context(chart_stub({}), render=lambda scenario: rendered)
    assert list(fqdn.render_names_only_the_sentinel.check(scenario_context(ctx, rendered))) == []


def fallback_context(bare: Render, with_sentinel: Render | None = None):
    """A chart with one FQDN input whose overlay-less render is `bare`."""
    renders = {"bare": bare, "bare+sentinel": with_sentinel}
    return chart_context(
        chart_stub({"gateway": {"domain": ""}}),
        variant=lambda base, name, **kw: "bare" if base == "default" else "bare+sentinel",
        try_render=lambda key: renders[key], render=lambda key: renders[key])


def test_missing_fqdn_must_fail_naming_the_key():
    named = ChartFailed("chart", "bare", "execution error: gateway.domain is required", "helm template chart")
    assert list(fqdn.missing_fqdn_fails_loudly.check(fallback_context(render_of("", error=named)))) == []
    vague = ChartFailed("chart", "bare", "execution error: missing setting", "helm template chart")
    [finding] = fqdn.missing_fqdn_fails_loudly.check(fallback_context(render_of("", error=vague)))
    assert "does not name the FQDN key (gateway.domain)" in finding.message


def test_a_silent_fallback_fails_but_a_domain_kept_with_the_sentinel_is_left_to_fqdn_002():
    ctx = fallback_context(render_of(CONFIGMAP % "example.com"), render_of(CONFIGMAP % SENTINEL))
    [finding] = fqdn.missing_fqdn_fails_loudly.check(ctx)
    assert "silently falls back to 'example.com'" in finding.message
    ctx = fallback_context(render_of(CONFIGMAP % "example.com"), render_of(CONFIGMAP % "example.com"))
    assert list(fqdn.missing_fqdn_fails_loudly.check(ctx)) == []


def test_a_chart_without_fqdn_inputs_is_not_applicable_for_fqdn_003():
    with pytest.raises(NotApplicable):
        list(fqdn.missing_fqdn_fails_loudly.check(chart_context(chart_stub({"replicas": 1}))))
