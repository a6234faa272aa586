"""No hardcoded FQDN: DNS-name extraction (incl. embedded documents), the Public Suffix List and the
exemptions, the FQDN policies on hand-written values and renders, and - with the real Helm - on
minimal charts holding each false-positive shape, on a `helm create` chart and on charts shaped like
mainstream ones (next to true positives that must still fail)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chartgate.parse.dnsnames import (find_names, has_public_suffix, is_cluster_local, is_reverse_dns, is_within,
                                      _names_in_text, _parse_embedded, _public_suffix, _suffix_list_provenance)
from chartgate.core.errors import ChartFailed, RenderError
from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.discover.platform import Platform
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind
from chartgate.check.context import ScenarioContext

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
    assert _names_in_text(text) == names


def test_embedded_documents_are_parsed_by_format():
    assert _parse_embedded('{"a": "x.example.com"}') == ("json", {"a": "x.example.com"})
    assert _parse_embedded("a: 1\nb:\n  - c\n")[0] == "yaml"
    assert _parse_embedded('title = "t"\n[server]\nport = 1\n')[0] == "toml"
    assert _parse_embedded("[server]\nhost=foo.example.com\n") == ("ini", {"server": {"host": "foo.example.com"}})
    assert _parse_embedded("#!/bin/sh\necho hi\n") is None  # a script is text
    assert _parse_embedded("just: one line") is None  # one-liners are scanned as text


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


def test_the_sentinel_is_recognised_before_the_public_suffix_rule():
    # `.invalid` is no public suffix; the sentinel and names under it still say what they are.
    body = {"a": SENTINEL, "b": f"https://api.{SENTINEL}/x", "c": f"*.{SENTINEL}"}
    assert verdicts(body) == {SENTINEL: "the sentinel FQDN", f"api.{SENTINEL}": "the sentinel FQDN"}
    assert not has_public_suffix(SENTINEL)


def test_real_domains_are_not_exempt():
    body = {"data": {"url": "https://grafana.acme.org/x", "nested": '{"sink": "logs.example.com"}'},
            "spec": {"name": "foo.openova.io"}, "status": "https://status.acme.org/"}
    assert verdicts(body) == {"grafana.acme.org": None, "logs.example.com": None, "foo.openova.io": None,
                              "status.acme.org": None}  # a URL's host, not the field path `status.x`


def test_descriptions_are_documentation_wherever_they_are():
    body = {"spec": {"description": "see docs.example.com"}}
    assert verdicts(body, kind="CustomResourceDefinition") == {"docs.example.com": "CRD schema documentation"}
    assert verdicts(body, kind="GatewayClass") == {"docs.example.com": "documentation"}
    assert verdicts({"spec": {"endpoint": "see docs.example.com"}}, kind="GatewayClass") == {"docs.example.com": None}


@pytest.mark.parametrize("body", [
    {"data": {"resource.exclusions": "- apiGroups: [cilium.io]\n  kinds: [CiliumIdentity]\n"}},  # embedded RBAC-like
    {"data": {"cfg.yaml": "leaderElection:\n  resourceName: 92062b70.l7mp.io\nx: 1\n"}},
    {"rules": [{"resourceNames": ["58ac56fa.applicationsets.argoproj.io"]}]},
    {"args": ["--leader-election-id=58ac56fa.applicationsets.argoproj.io"]},
    {"args": ["--election-id=leader.acme-corp.com"]},
    {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com"}}]},
    {"data": {"ingress-class": "cilium.ingress.networking.knative.dev"}},
    {"spec": {"ingressClassName": "edge.acme-corp.com"}},
    {"data": {"cfg.yaml": "ignoreAnnotations:\n  - deploy.acme-corp.com\nx: 1\n"}},
    {"properties": {"url": {"description": "For example:\n  url: https://api.acme-corp.com\n  b: c\n"}}},
    {"data": {"ignore.yaml": "jsonPointers:\n  - /metadata/annotations/deploy.acme-corp.com~1revision\n"
                             "jqPathExpressions:\n  - '.metadata.annotations.\"deploy.acme-corp.com\"'\n"}},
])
def test_identifiers_that_look_like_domains(body):
    assert all(verdicts(body, kind="ConfigMap").values()), verdicts(body, kind="ConfigMap")


def test_a_name_in_a_path_is_no_host_but_the_urls_host_is():
    assert verdicts({"data": {"mirror": "https://docs.acme.org/mirrors/cache.acme-corp.com"}}) == {
        "docs.acme.org": None, "cache.acme-corp.com": "a segment of a path (after a host or a root), not a host"}


def test_a_host_after_a_flag_that_is_no_identifier_is_still_a_finding():
    assert verdicts({"args": ["--upstream=https://auth.acme-corp.com", "--server api.acme-corp.com"]}) == {
        "auth.acme-corp.com": None, "api.acme-corp.com": None}
    assert verdicts({"data": {"cfg.yaml": "hosts:\n  - api.acme-corp.com\nx: 1\n"}}) == {"api.acme-corp.com": None}


# --- FQDN inputs and FQDN-001 on values -----------------------------------------------------------

def chart_stub(values: dict, blueprint: dict | None = None, subcharts=()):
    return SimpleNamespace(name="chart", values=values, effective_values=values, blueprint=blueprint,
                           blueprint_path=None, subcharts={k: None for k in subcharts}, crd_documents=lambda: [],
                           all_templates=lambda: {}, walk=lambda: [])


def chart_context(chart, **methods):
    memos: dict = {}  # ChartContext.memo: computed once per chart
    return SimpleNamespace(chart=chart, name="chart", platform=Platform(), kube_versions=("1.33",),
                           memo=lambda key, compute: memos[key] if key in memos else memos.setdefault(key, compute()),
                           **methods)


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
    return Render("chart", scenario, "helm template chart", _parse_render(text, namespace="ns") if text else [],
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
    from chartgate.check.applicability import unmet_requirement
    assert fqdn.missing_fqdn_fails_loudly.requires == ("fqdn-inputs",)
    ctx = chart_context(chart_stub({"replicas": 1, "tls": {"domains": [{"main": "", "sans": []}]}}))
    assert "no FQDN input" in unmet_requirement(fqdn.missing_fqdn_fails_loudly, ctx)
    assert unmet_requirement(fqdn.missing_fqdn_fails_loudly, chart_context(chart_stub({"domain": ""}))) is None


# --- the Public Suffix List and name shapes --------------------------------------------------------

@pytest.mark.parametrize("name, suffix", [
    ("api.acme.com", "com"), ("www.example.co.uk", "co.uk"), ("grafana.net", "net"),
    ("chart-example.local", None), ("db.corp.internal", None), ("limits.cpu", None),  # no public suffix
    ("kubernetes.default", None), ("x.svc", None), ("sovereign.chartgate.invalid", None), ("a.b.test", None),
    ("co.uk", None), ("in-addr.arpa", None),  # a public suffix itself has no registrable part
])
def test_public_suffixes_come_from_the_bundled_list(name, suffix):
    assert _public_suffix(name) == suffix
    assert has_public_suffix(name) is (suffix is not None)


def test_the_suffix_list_version_is_recorded_for_provenance():
    recorded = _suffix_list_provenance()
    assert recorded["package"] == "publicsuffixlist"
    assert recorded["version"][:1].isdigit() and recorded["list_version"][:2] == "20"


@pytest.mark.parametrize("name, reverse", [
    ("com.example.app", True), ("io.k8s.api", True), ("org.apache.kafka", True),
    ("logging.level.com.acme.shop", True),  # a Java logger key inside a properties file
    ("acme.com", False), ("www.example.com.au", False), ("de.wikipedia.org", False), ("dev.example.com", False),
])
def test_reverse_dns_identifiers(name, reverse):
    assert is_reverse_dns(name) is reverse


@pytest.mark.parametrize("text, form", [
    ("https://api.acme.com/v1", "url"), ("admin@acme.com", "mailbox"), ("api.acme.com:8443", "host-port"),
    ("--controller-class=k8s.io/ingress-nginx", "qualified"), ("api.acme.com", "bare"),
    ("spring.application.name=shop", "assignment"),
])
def test_how_a_name_is_written(text, form):
    [occ] = find_names({"v": text})
    assert occ.form == form


def test_comment_lines_of_embedded_text_are_documentation():
    script = "#!/bin/sh\n# docs: https://github.com/acme/widget\nexec widget --upstream https://api.acme.com\n"
    assert [o.name for o in find_names({"start.sh": script})] == ["api.acme.com"]


def test_command_line_flag_names_are_not_names():
    assert _names_in_text("--collector.textfile.directory /host --web.listen-address=:9100") == []


def test_file_names_that_end_in_a_real_tld_are_not_names():
    assert _names_in_text("python app.py --config values.json run.sh app.properties notes.md") == []


def test_positions_where_no_host_is_meant():
    body = {
        "metadata": {"name": "efs.csi.aws.com", "finalizers": ["cleanup.acme-corp.com"],
                     "labels": {"backup.acme-corp.com": "daily", "team": "billing.acme-corp.com"},
                     "annotations": {"acme-corp.com/docs": "https://docs.acme-corp.com/widget",
                                     "artifacthub.io/links": "- url: https://github.com/acme/widget"}},
        "provisioner": "ebs.csi.aws.com",
        "spec": {"issuerRef": {"group": "cert-manager.io"}, "controller": "k8s.io/ingress-nginx",
                 "env": [{"valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}],
                 "runbook_url": "https://runbooks.acme-corp.com/widget"},
    }
    assert all(verdicts(body, kind="StorageClass").values()), verdicts(body, kind="StorageClass")


def test_configmap_data_keys_and_example_blocks():
    body = {"data": {"sso.acme-corp.com": "x", "_example": "acme-corp.com: |\n  selector: {app: x}\n"}}
    assert verdicts(body, kind="ConfigMap") == {
        "sso.acme-corp.com": "a ConfigMap/Secret data key (a file name)",
        "acme-corp.com": "a documentation block (`_example`) the controller ignores"}
    assert verdicts({"spec": {"config": {"sso.acme-corp.com": ""}}}, kind="KnativeServing") == {
        "sso.acme-corp.com": None}  # a domain as a key of a custom resource's config is still a domain


def test_hosts_in_configuring_annotations_are_still_findings():
    body = {"metadata": {"annotations": {
        "nginx.ingress.kubernetes.io/auth-url": "https://auth.acme-corp.com/oauth2/auth",
        "external-dns.alpha.kubernetes.io/hostname": "api.acme-corp.com"}}}
    reported = {name for name, why in verdicts(body, kind="Ingress").items() if why is None}
    assert reported == {"auth.acme-corp.com", "api.acme-corp.com"}


# --- type-respecting sentinel injection -----------------------------------------------------------

def test_the_sentinel_only_replaces_names_of_the_same_type():
    values = {"tls": {"domains": [{"main": "", "sans": []}]}, "domains": {"primary": "", "aliases": []},
              "ingress": {"domain": "", "extraDomains": ["a.acme.com"], "ports": {"domain": 5}},
              "gateway": {"baseDomain": None}}
    chart = chart_stub(values)
    assert fqdn.fqdn_inputs(chart) == [("gateway", "baseDomain"), ("ingress", "domain"), ("ingress", "extraDomains")]
    assert fqdn.sentinel_values(chart, SENTINEL) == [
        ("gateway.baseDomain", SENTINEL), ("ingress.domain", SENTINEL), ("ingress.extraDomains", [SENTINEL])]


def test_schema_inputs_respect_the_values_type_too():
    schema = {"properties": {"tls": {"properties": {"domains": {"type": "string"}}},
                             "web": {"properties": {"domains": {"type": "array", "items": {"type": "string"}}}}}}
    chart = chart_stub({"tls": {"domains": [{"main": ""}]}}, {"spec": {"configSchema": schema}})
    assert fqdn.sentinel_values(chart, SENTINEL) == [("web.domains", [SENTINEL])]


# --- values documents: mainstream shapes ----------------------------------------------------------

def values_findings(values: dict, **chart_yaml) -> list[str]:
    chart = chart_stub(values)
    meta = SimpleNamespace(chart_yaml=chart_yaml)
    chart.walk = lambda: [meta]
    return [f.path for f in fqdn.defaults_hold_no_domain.check(chart_context(chart))]


def test_mainstream_values_hold_no_reportable_domain():
    values = {
        "ingress": {"enabled": False, "hosts": ["chart-example.local"],
                    "annotations": {"kubernetes.io/ingress.class": "nginx"}, "tls": []},
        "httpRoute": {"hostnames": ["chart-example.local"]},
        "grafana.ini": {"server": {"domain": "{{ if (and .Values.ingress.enabled .Values.ingress.hosts) }}"
                                             "{{ .Values.ingress.hosts | first }}{{ else }}''{{ end }}",
                                   "root_url": "%(protocol)s://%(domain)s:%(http_port)s/grafana"},
                        "paths": {"data": "/var/lib/grafana/"}},
        "configs": {"cm": {"admin.enabled": True, "application.instanceLabelKey": "argocd.argoproj.io/instance",
                           "timeout.reconciliation": "180s"},
                    "params": {"server.insecure": False, "controller.repo.server.timeout.seconds": 60}},
        "global": {"domain": ""},
        "controller": {"image": {"registry": "registry.k8s.io", "image": "ingress-nginx/controller"},
                       "ingressClassResource": {"controllerValue": "k8s.io/ingress-nginx"},
                       "podAnnotations": {"prometheus.io/scrape": "true"}},
        "extraArgs": ["--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1.16.1"],
        "clusterDomain": "cluster.local",
        "datasources": {"url": "http://prometheus-server.monitoring.svc.cluster.local"},
        "catalystBlueprint": {"upstream": {"chart": "grafana", "version": "8.5.0",
                                           "repo": "https://grafana.github.io/helm-charts"}},
        "homepage": "https://github.com/acme/widget",
        "upstreamRepo": "https://charts.acme-corp.com/stable",
    }
    assert values_findings(values, home="https://github.com/acme/widget",
                           dependencies=[{"name": "w", "repository": "https://charts.acme-corp.com/stable/"}]) == []


def test_values_findings_a_maintainer_accepts():
    # A placeholder domain as a default (argo-cd's `global.domain: argocd.example.com` shape) ships to
    # every cluster that forgets to override it; a vendor endpoint is an external dependency to allow-list.
    assert values_findings({"global": {"domain": "argocd.example.com"}}) == ["$.global.domain"]
    assert values_findings({"grafana.ini": {"grafana_net": {"url": "https://grafana.net"}}}) == [
        "$['grafana.ini'].grafana_net.url"]
    assert values_findings({"upstreamRepo": "https://charts.acme-corp.com/stable"}) == ["$.upstreamRepo"]


# --- minimal charts rendered with the real Helm ----------------------------------------------------
#
# Each chart holds one shape: `fp-*` must leave FQDN-001/002/003 quiet, `tp-*` must fail exactly the
# policies named (proof that the same run can fail). One gate run renders them all.

def deployment(name: str, container: str) -> str:
    """A Deployment whose single container is `container` (YAML indented by 8)."""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}-{name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
{container}"""


MINIMAL_CHARTS: dict[str, dict] = {
    "fp-configmap-keys": {"templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-files"}
data:
  sso.acme-corp.com: "trusted"
  app.properties: "spring.application.name=billing"
  nginx.conf: "worker_processes 1;"
"""}},
    "fp-label-annotation-keys": {"templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{ .Release.Name }}-meta"
  labels: {backup.acme-corp.com: daily, team.acme-corp.com/owner: billing}
  annotations: {acme-corp.com/managed: "true", restore.acme-corp.com: "weekly"}
data: {a: b}
"""}},
    "fp-resource-field-ref": {"templates": {"deploy.yaml": deployment("fields", """        - name: app
          image: "nginx:1.27"
          env:
            - name: CPU_LIMIT
              valueFrom: {resourceFieldRef: {containerName: app, resource: limits.cpu}}
            - name: MEMORY_REQUEST
              valueFrom: {resourceFieldRef: {containerName: app, resource: requests.memory}}
            - name: NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
""")}},
    "fp-reverse-dns": {"values": "appId: com.acme.app\n", "templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-java"}
data:
  APP_ID: {{ .Values.appId | quote }}
  MAIN_PACKAGE: org.acme.shop
  SCHEMA: io.k8s.api.core.v1
  application.properties: |
    logging.level.com.acme.shop=DEBUG
    logging.level.org.springframework.web=INFO
    spring.application.name=shop
"""}},
    "fp-cluster-local": {"values": "clusterDomain: cluster.local\n", "templates": {"deploy.yaml": deployment(
        "local", """        - name: app
          image: "nginx:1.27"
          env:
            - {name: KUBE_API, value: "https://kubernetes.default.svc:443"}
            - {name: KUBE_API_SHORT, value: "kubernetes.default"}
            - {name: DB, value: "postgres.data.svc:5432"}
            - {name: CACHE, value: "redis.data.svc.{{ .Values.clusterDomain }}:6379"}
""")}},
    "fp-knative-example-block": {"templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: config-domain}
data:
  _example: |
    ################################
    #                              #
    #    EXAMPLE CONFIGURATION     #
    #                              #
    ################################
    # This block is not actually functional configuration; it documents the keys.
    # Default value for domain, for routes without another match.
    acme-corp.com: |

    # acme-corp.org serves routes labelled app=nonprofit.
    acme-corp.org: |
      selector:
        app: nonprofit
"""}},
    "fp-file-names": {"templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-scripts"}
data:
  start.sh: |
    #!/bin/sh
    python app.py --config /etc/app/config.yaml --values values.json
    perl scripts/migrate.pl && unzip -o bundle.zip && rustc main.rs
    exec ./run.sh app.properties
"""}},
    "fp-upstream-metadata": {
        "chart": {"home": "https://github.com/acme-corp/widget", "sources": ["https://github.com/acme-corp/widget"],
                  "dependencies": [{"name": "widget", "version": "1.2.3",
                                    "repository": "https://charts.acme-corp.com/stable"}]},
        "subcharts": {"widget": {"version": "1.2.3"}},
        "values": "catalystBlueprint:\n  upstream: {chart: widget, version: 1.2.3, "
                  "repo: 'https://charts.acme-corp.com/stable'}\n",
        "templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{ .Release.Name }}-about"
  annotations: {acme-corp.com/homepage: {{ .Chart.Home | quote }}}
data:
  upstream: {{ .Values.catalystBlueprint.upstream.repo | quote }}
"""}},
    "fp-docs-links": {"templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{ .Release.Name }}-docs"
  annotations:
    artifacthub.io/links: |
      - name: source
        url: https://github.com/acme-corp/widget
    acme-corp.com/documentation: https://docs.acme-corp.com/widget
    kubernetes.io/description: "Widget settings, see https://github.com/acme-corp/widget#configuration"
data:
  settings.json: '{"description": "documented at https://docs.acme-corp.com/widget/settings", "port": 8080}'
  start.sh: |
    #!/bin/sh
    # Upstream docs: https://github.com/acme-corp/widget/blob/main/docs/start.md
    exec widget --port 8080
"""}},
    "fp-identifiers": {"templates": {"identifiers.yaml": """apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: "{{ .Release.Name }}-nginx"}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: "{{ .Release.Name }}-gp3"}
provisioner: ebs.csi.aws.com
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: efs.csi.aws.com}
spec: {attachRequired: false}
---
apiVersion: v1
kind: Secret
metadata:
  name: "{{ .Release.Name }}-tls"
  finalizers: [cleanup.acme-corp.com/certificates]
type: kubernetes.io/tls
data: {tls.crt: "", tls.key: ""}
""", "deploy.yaml": deployment("controller", """        - name: controller
          image: "registry.k8s.io/ingress-nginx/controller:v1.11.2"
          args: ["--controller-class=k8s.io/ingress-nginx", "--election-id=ingress-nginx-leader",
                 "--collector.textfile.directory", "/host/textfile"]
""")}},
    # --- true positives -------------------------------------------------------------------------
    "tp-template-host": {"templates": {"deploy.yaml": deployment("api", """        - name: api
          image: "nginx:1.27"
          env:
            - {name: UPSTREAM, value: "https://api.acme-corp.com/v1"}
""")}, "expect": {"FQDN-002"}},
    "tp-default-domain": {"values": "ingress:\n  domain: apps.acme-corp.com\n", "templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-routes"}
data:
  host: "api.{{ .Values.ingress.domain }}"
"""}, "expect": {"FQDN-001", "FQDN-003"}},
    "tp-auth-url-annotation": {"templates": {"ingress.yaml": """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: "{{ .Release.Name }}-web"
  annotations:
    nginx.ingress.kubernetes.io/auth-url: https://auth.acme-corp.com/oauth2/auth
    acme-corp.com/docs: https://docs.acme-corp.com/web
spec:
  rules:
    - host: chart-example.local
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: web, port: {number: 80}}}
"""}, "expect": {"FQDN-002"}},
    # --- type-respecting sentinel: FQDN-named keys holding a list of objects and a map --------------
    "types-list-of-objects": {
        "values": "tls:\n  domains:\n    - main: \"\"\n      sans: []\nhostDomains: []\n",
        "templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-tls"}
data:
  {{- range $i, $d := .Values.tls.domains }}
  main-{{ $i }}: {{ $d.main | quote }}
  sans-{{ $i }}: {{ join "," $d.sans | quote }}
  {{- end }}
  hosts: {{ join "," .Values.hostDomains | quote }}
"""}},
    "types-map": {  # the blueprint's configSchema calls `domains` a string; the values hold a map
        "files": {"blueprint.yaml": """apiVersion: catalyst.openova.io/v1alpha1
kind: Blueprint
metadata: {name: types-map}
spec:
  version: 0.1.0
  configSchema:
    type: object
    properties:
      domains: {type: string}
"""},
        "values": "domains:\n  primary: \"\"\n  aliases: []\n",
        "templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-domains"}
data:
  primary: {{ .Values.domains.primary | quote }}
  aliases: {{ join "," .Values.domains.aliases | quote }}
"""}},
}

# --- the shape the templates read: an empty list whose items are objects (issue 18, shape 4) ---------
# `[]` says nothing about its items; the templates read `$d.main` off them (through a variable bound
# to a parent, as entrypoint configs are), so the sentinel as a list of strings broke every render.
MINIMAL_CHARTS["fp-empty-list-of-objects"] = {
    "values": "ports:\n  websecure:\n    port: 8443\n    http:\n      tls:\n        enabled: true\n"
              "        domains: []\nextraDomains: ~\n",
    "templates": {"deploy.yaml": deployment("proxy", """        - name: proxy
          image: "nginx:1.27"
          args:
            {{- range $name, $config := .Values.ports }}
            - "--entrypoints.{{ $name }}.address=:{{ $config.port }}"
            {{- range $i, $d := $config.http.tls.domains }}
            - "--entrypoints.{{ $name }}.http.tls.domains[{{ $i }}].main={{ $d.main }}"
            - "--entrypoints.{{ $name }}.http.tls.domains[{{ $i }}].sans={{ join "," $d.sans }}"
            {{- end }}
            {{- end }}
            {{- range .Values.extraDomains }}
            - "--extra-domain={{ .name }}"
            {{- end }}
""")}}

# --- identifiers written like domain names (issue 18, shape 7) ----------------------------------------
MINIMAL_CHARTS["fp-identifiers-like-domains"] = {"templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-controller-config"}
data:
  resource.exclusions: |
    - apiGroups: [cilium.io, "*.crossplane.io"]
      kinds: [CiliumIdentity]
      clusters: ["*"]
  resource.customizations.ignoreDifferences.all: |
    jsonPointers:
      - /metadata/annotations/deploy.acme-corp.com~1revision
    jqPathExpressions:
      - '.metadata.labels."team.acme-corp.com"'
  controller_manager_config.yaml: |
    apiVersion: controller-runtime.sigs.k8s.io/v1alpha1
    kind: ControllerManagerConfig
    leaderElection:
      leaderElect: true
      resourceName: 92062b70.l7mp.io
    ignoreAnnotations:
      - kubectl.kubernetes.io
      - deploy.acme-corp.com
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config-network}
data:
  ingress-class: cilium.ingress.networking.knative.dev
  ingress.class: cilium.ingress.networking.knative.dev
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: "{{ .Release.Name }}-leader-election"}
rules:
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    resourceNames: [58ac56fa.applicationsets.argoproj.io]
    verbs: [get, update]
""", "crd.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.acme-corp.com}
spec:
  group: acme-corp.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            endpoint:
              type: string
              description: |
                The upstream to call, for example:
                  endpoint: https://api.acme-corp.com/v1
                  fallback: https://backup.acme-corp.com
""", "deploy.yaml": deployment("appset", """        - name: controller
          image: "nginx:1.27"
          args:
            - --leader-election-id=58ac56fa.applicationsets.argoproj.io
            - "--token-audience sts.amazonaws.com"
          volumeMounts: [{name: aws-token, mountPath: /var/run/secrets/aws}]
      volumes:
        - name: aws-token
          projected:
            sources:
              - serviceAccountToken: {audience: sts.amazonaws.com, expirationSeconds: 86400, path: token}
""")}}
MINIMAL_CHARTS["tp-flag-host"] = {"templates": {"deploy.yaml": deployment("proxy", """        - name: proxy
          image: "nginx:1.27"
          args: [--election-id=proxy-leader, "--upstream=https://auth.acme-corp.com/oauth2"]
""")}, "expect": {"FQDN-002"}}

# --- public endpoints in data: known_hosts, dashboard links (issue 18, shape 7): FQDN-004 notes them --
DASHBOARD = {"title": "Node", "gnetId": 1860, "links": [{"title": "Source", "url": "https://grafana.com/grafana/dashboards/1860"}],
             "panels": [{"type": "text", "options": {"content": "[Docs](https://grafana.com/docs/)"}},
                        {"type": "graph", "links": [{"url": "https://status.acme-corp.com/"}]}]}
MINIMAL_CHARTS["fp-public-endpoints-in-data"] = {
    "values": "knownHosts: |\n  github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
              "  [ssh.github.com]:443 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
    "templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-ssh-known-hosts"}
data:
  ssh_known_hosts: |
    {{- .Values.knownHosts | nindent 4 }}
    gitlab.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFSMqzJeV9rUzU4kWitGjeR4PWSa29SPqJ1fVkhtj3Hw9xjLVXVYrU9QlYWrOLXBpQ6KWjbjTDTdDkoohFzgbEY=
---
apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-dashboards", labels: {grafana_dashboard: "1"}}
data:
  node.json: '""" + __import__("json").dumps(DASHBOARD) + """'
"""}, "expect": {"FQDN-004"}}

# --- what the scenario's input supplied is the input's (issue 18, shape 5) ---------------------------
# Host names a chart's own ci/*-values.yaml test file sets, and `extraObjects` a user writes there, are
# the input's: the ci scenario renders them, but the chart hardcodes nothing. The same objects in the
# chart's own defaults are the chart's, and still found.
EXTRA_OBJECTS_TEMPLATES = {"extra.yaml": """{{- range .Values.extraObjects }}
---
{{ if typeIs "string" . }}{{ tpl . $ }}{{ else }}{{ tpl (toYaml .) $ }}{{ end }}
{{- end }}
""", "ingress.yaml": """{{- if .Values.ingress.enabled }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: "{{ .Release.Name }}-web"}
spec:
  rules:
    {{- range .Values.ingress.hosts }}
    - host: {{ . | quote }}
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
    {{- end }}
{{- end }}
"""}
EXTRA_CONFIGMAP = """  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: "{{ .Release.Name }}-extra"}
    data: {upstream: "https://api.acme-corp.com/v1"}
"""
MINIMAL_CHARTS["fp-input-supplied-hosts"] = {
    "values": "ingress:\n  enabled: false\n  hosts: [chart-example.local]\nextraObjects: []\n",
    "files": {"ci/hosts-values.yaml": "ingress:\n  enabled: true\n  hosts: [shop.acme-corp.com, www.acme-corp.com]\n",
              "ci/extra-values.yaml": "extraObjects:\n" + EXTRA_CONFIGMAP,
              "ci/extra-string-values.yaml": "extraObjects:\n  - |\n    apiVersion: v1\n    kind: Secret\n"
                                             "    metadata: {name: extra-secret}\n"
                                             "    stringData: {url: \"https://auth.acme-corp.com\"}\n"},
    "templates": EXTRA_OBJECTS_TEMPLATES}
MINIMAL_CHARTS["tp-extra-objects-default"] = {
    "values": "ingress:\n  enabled: false\n  hosts: []\nextraObjects:\n" + EXTRA_CONFIGMAP,
    "files": {"ci/hosts-values.yaml": "ingress:\n  enabled: true\n  hosts: [shop.acme-corp.com]\n"},
    "templates": EXTRA_OBJECTS_TEMPLATES, "expect": {"FQDN-001", "FQDN-002"}}

FQDN_IDS = ("FQDN-001", "FQDN-002", "FQDN-003", "FQDN-004")


def write_chart(root, name: str, spec: dict) -> None:
    import yaml
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    meta = {"apiVersion": "v2", "name": name, "version": "0.1.0", **spec.get("chart", {})}
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    (chart / "values.yaml").write_text(spec.get("values", ""))
    for rel, text in spec.get("templates", {}).items():
        (chart / "templates" / rel).write_text(text)
    for rel, text in spec.get("files", {}).items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    for sub, sub_meta in spec.get("subcharts", {}).items():
        (chart / "charts" / sub / "templates").mkdir(parents=True)
        (chart / "charts" / sub / "Chart.yaml").write_text(
            yaml.safe_dump({"apiVersion": "v2", "name": sub, **sub_meta}))


def judge(tmp_path, chart_root, policies, ids, cache):
    """Results of the policies `ids` on every chart under `chart_root` (no reports written)."""
    from chartgate.engine.gate import Gate
    from ..conftest import gate_config
    gate = Gate(gate_config(tmp_path, chart_root, chart_root / "no-overlays", cache=cache))
    checks = gate.planned_checks([p for p in policies if p.id in ids])
    gate.prerender(checks)
    return [gate.evaluate(check) for check in checks]


def failing(results, chart: str) -> set[str]:
    from chartgate.check.definition import Outcome
    return {r.policy.id for r in results if r.chart == chart and r.outcome in (Outcome.FAILED, Outcome.ERROR)}


def outcome_report(results, chart: str) -> list:
    from chartgate.check.definition import Outcome
    return [(r.policy.id, r.scenario, r.outcome.value, r.message[:300], [f.message[:200] for f in r.findings])
            for r in results if r.chart == chart and r.outcome in (Outcome.FAILED, Outcome.ERROR)]


@pytest.fixture(scope="module")
def minimal_run(tmp_path_factory, policies, render_cache):
    tmp = tmp_path_factory.mktemp("fqdn-minimal")
    root = tmp / "charts"
    for name, spec in MINIMAL_CHARTS.items():
        write_chart(root, name, spec)
    return judge(tmp, root, policies, FQDN_IDS, render_cache)


@pytest.mark.parametrize("chart", sorted(MINIMAL_CHARTS))
def test_minimal_chart_fails_exactly_the_expected_fqdn_policies(minimal_run, chart):
    expected = MINIMAL_CHARTS[chart].get("expect", set())
    assert failing(minimal_run, chart) == expected, outcome_report(minimal_run, chart)
    assert {r.chart for r in minimal_run} == set(MINIMAL_CHARTS)


def test_true_positives_name_the_domain_and_where_it_is(minimal_run):
    messages = {r.chart: "\n".join(f.message for f in r.findings) for r in minimal_run if r.findings}
    assert "'api.acme-corp.com' at $.spec.template.spec.containers[0].env[0].value" in messages["tp-template-host"]
    assert "'auth.acme-corp.com'" in messages["tp-auth-url-annotation"]
    assert "docs.acme-corp.com" not in messages["tp-auth-url-annotation"]  # the docs link beside it is quiet


def test_the_sentinel_keeps_lists_of_objects_and_maps_intact(minimal_run):
    from chartgate.check.definition import Outcome
    for chart in ("types-list-of-objects", "types-map"):
        sentinel_runs = [r for r in minimal_run if r.chart == chart and r.policy.id == "FQDN-002"]
        assert sentinel_runs and all(r.outcome is Outcome.PASSED for r in sentinel_runs), outcome_report(
            minimal_run, chart)
        assert [r.outcome for r in minimal_run if r.chart == chart and r.policy.id == "FQDN-003"] == [
            Outcome.PASSED if chart == "types-list-of-objects" else Outcome.SKIPPED]


# --- a `helm create` chart and charts shaped like mainstream ones ---------------------------------

MAINSTREAM_CHARTS: dict[str, dict] = {
    "ingress-nginx-like": {
        "chart": {"home": "https://github.com/kubernetes/ingress-nginx",
                  "sources": ["https://github.com/kubernetes/ingress-nginx"],
                  "annotations": {"artifacthub.io/changes": "- Update controller image"}},
        "values": """controller:
  image: {registry: registry.k8s.io, image: ingress-nginx/controller, tag: v1.11.2}
  ingressClassResource: {name: nginx, controllerValue: k8s.io/ingress-nginx}
  electionID: ingress-nginx-leader
  config: {use-forwarded-headers: "true", allow-snippet-annotations: "false"}
  service:
    annotations: {}
""",
        "templates": {"controller.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-controller"}
data:
  {{- toYaml .Values.controller.config | nindent 2 }}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: {{ .Values.controller.ingressClassResource.name }}
  annotations: {ingressclass.kubernetes.io/is-default-class: "false"}
spec:
  controller: {{ .Values.controller.ingressClassResource.controllerValue }}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: "{{ .Release.Name }}-admission"}
webhooks:
  - name: validate.nginx.ingress.kubernetes.io
    admissionReviewVersions: [v1]
    sideEffects: None
    rules:
      - {apiGroups: [networking.k8s.io], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [ingresses]}
    clientConfig:
      service: {name: "{{ .Release.Name }}-admission", namespace: {{ .Release.Namespace }}, path: /networking/v1/ingresses}
---
""" + deployment("controller", """        - name: controller
          image: "{{ .Values.controller.image.registry }}/{{ .Values.controller.image.image }}:{{ .Values.controller.image.tag }}"
          args:
            - /nginx-ingress-controller
            - --publish-service=$(POD_NAMESPACE)/{{ .Release.Name }}-controller
            - --election-id={{ .Values.controller.electionID }}
            - --controller-class={{ .Values.controller.ingressClassResource.controllerValue }}
            - --configmap=$(POD_NAMESPACE)/{{ .Release.Name }}-controller
            - --validating-webhook=:8443
""")}},
    "cert-manager-like": {
        "values": """image: {repository: quay.io/jetstack/cert-manager-controller, tag: v1.16.1}
acmesolver:
  image: {repository: quay.io/jetstack/cert-manager-acmesolver, tag: v1.16.1}
dns01RecursiveNameservers: ""
webhook:
  serviceName: cert-manager-webhook
""",
        "crds": {"certificates.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert-manager.io
  annotations: {cert-manager.io/inject-ca-from-secret: cert-manager/cert-manager-webhook-ca}
spec:
  group: cert-manager.io
  names: {kind: Certificate, listKind: CertificateList, plural: certificates, singular: certificate}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          description: "A Certificate resource. See https://cert-manager.io/docs/usage/certificate/"
          type: object
          x-kubernetes-preserve-unknown-fields: true
"""},
        "templates": {"webhook.yaml": """apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: "{{ .Release.Name }}-webhook"
  annotations:
    cert-manager.io/inject-ca-from-secret: "{{ .Release.Namespace }}/{{ .Release.Name }}-webhook-ca"
webhooks:
  - name: webhook.cert-manager.io
    admissionReviewVersions: [v1]
    sideEffects: None
    rules:
      - {apiGroups: [cert-manager.io, acme.cert-manager.io], apiVersions: [v1], operations: [CREATE, UPDATE], resources: ["*/*"]}
    clientConfig:
      service: {name: {{ .Values.webhook.serviceName }}, namespace: {{ .Release.Namespace }}, path: /mutate}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "{{ .Release.Name }}-controller-issuers"}
rules:
  - apiGroups: [cert-manager.io]
    resources: [issuers, issuers/status]
    verbs: [update, patch]
---
""" + deployment("controller", """        - name: cert-manager-controller
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          args:
            - --v=2
            - --cluster-resource-namespace=$(POD_NAMESPACE)
            - --leader-election-namespace=kube-system
            - --acme-http01-solver-image={{ .Values.acmesolver.image.repository }}:{{ .Values.acmesolver.image.tag }}
            - --dynamic-serving-dns-names={{ .Values.webhook.serviceName }},{{ .Values.webhook.serviceName }}.{{ .Release.Namespace }},{{ .Values.webhook.serviceName }}.{{ .Release.Namespace }}.svc
            - --max-concurrent-challenges=60
""")}},
    "grafana-like": {
        "chart": {"home": "https://grafana.com", "sources": ["https://github.com/grafana/grafana"]},
        "values": """ingress:
  enabled: false
  hosts: [chart-example.local]
  path: /
grafana.ini:
  paths: {data: /var/lib/grafana/, logs: /var/log/grafana, plugins: /var/lib/grafana/plugins}
  analytics: {check_for_updates: true}
  log: {mode: console}
  server:
    domain: "{{ if (and .Values.ingress.enabled .Values.ingress.hosts) }}{{ .Values.ingress.hosts | first }}{{ else }}''{{ end }}"
datasources:
  datasources.yaml:
    apiVersion: 1
    datasources:
      - name: Prometheus
        type: prometheus
        url: http://prometheus-server.monitoring.svc.cluster.local
""",
        "templates": {"configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{ .Release.Name }}-grafana"
  annotations:
    acme-corp.com/source: "https://github.com/grafana/helm-charts/tree/main/charts/grafana"
data:
  grafana.ini: |
    {{- range $section, $settings := index .Values "grafana.ini" }}
    [{{ $section }}]
    {{- range $key, $value := $settings }}
    {{ $key }} = {{ tpl (toString $value) $ }}
    {{- end }}
    {{- end }}
  datasources.yaml: |
    {{- toYaml .Values.datasources | nindent 4 }}
"""}},
    "argo-cd-like": {
        "values": """global:
  domain: ""
  image: {repository: quay.io/argoproj/argocd, tag: v2.13.0}
configs:
  cm:
    admin.enabled: true
    application.instanceLabelKey: argocd.argoproj.io/instance
    timeout.reconciliation: 180s
    statusbadge.enabled: false
  params:
    server.insecure: false
    controller.repo.server.timeout.seconds: 60
    reposerver.parallelism.limit: 0
dex:
  image: {repository: ghcr.io/dexidp/dex, tag: v2.41.1}
""",
        "templates": {"cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  labels: {app.kubernetes.io/part-of: argocd}
data:
  {{- with .Values.global.domain }}
  url: https://{{ . }}
  {{- end }}
  {{- range $key, $value := .Values.configs.cm }}
  {{ $key }}: {{ $value | toString | quote }}
  {{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cmd-params-cm}
data:
  {{- range $key, $value := .Values.configs.params }}
  {{ $key }}: {{ $value | toString | quote }}
  {{- end }}
"""}},
}


@pytest.fixture(scope="module")
def mainstream_run(tmp_path_factory, policies, render_cache):
    import subprocess
    tmp = tmp_path_factory.mktemp("fqdn-mainstream")
    root = tmp / "charts"
    root.mkdir()
    subprocess.run([str(REPO / ".tools" / "helm-v4.1.4" / "helm"), "create", "created"], cwd=root, check=True,
                   capture_output=True, env={"HOME": str(tmp), "PATH": "/usr/bin:/bin"})
    for name, spec in MAINSTREAM_CHARTS.items():
        write_chart(root, name, spec)
        for rel, text in spec.get("crds", {}).items():
            (root / name / "crds").mkdir(exist_ok=True)
            (root / name / "crds" / rel).write_text(text)
    return judge(tmp, root, policies, FQDN_IDS, render_cache)


@pytest.mark.parametrize("chart", ["created"] + sorted(MAINSTREAM_CHARTS))
def test_fqdn_policies_are_quiet_on_mainstream_charts(mainstream_run, chart):
    from chartgate.check.definition import Outcome
    mine = [r for r in mainstream_run if r.chart == chart]
    assert {r.policy.id for r in mine} == set(FQDN_IDS)
    assert failing(mainstream_run, chart) == set(), outcome_report(mainstream_run, chart)
    assert any(r.policy.id == "FQDN-002" and r.outcome is Outcome.PASSED for r in mine)


def test_external_endpoints_are_one_information_finding_per_chart(minimal_run):
    from chartgate.check.definition import Severity
    [result] = [r for r in minimal_run if r.chart == "fp-public-endpoints-in-data" and r.policy.id == "FQDN-004"]
    assert result.policy.severity is Severity.INFO
    [finding] = result.findings
    for name in ("github.com", "ssh.github.com", "gitlab.com", "grafana.com", "status.acme-corp.com"):
        assert f"'{name}'" in finding.message


def test_names_the_input_supplied_are_the_inputs(minimal_run):
    from chartgate.check.definition import Outcome
    judged = {r.scenario: r.outcome for r in minimal_run if r.chart == "fp-input-supplied-hosts" and r.policy.id == "FQDN-002"}
    assert {"ci.hosts", "ci.extra", "ci.extra-string"} <= set(judged) and set(judged.values()) == {Outcome.PASSED}
    # the chart's own default extraObjects are the chart's: found in every scenario, also ci ones
    tp = {r.scenario: r for r in minimal_run if r.chart == "tp-extra-objects-default" and r.policy.id == "FQDN-002"}
    assert tp["ci.hosts"].outcome is Outcome.FAILED
    assert {f.message.split("'")[1] for f in tp["ci.hosts"].findings} == {"api.acme-corp.com"}


def test_supplied_strings_cover_values_files_and_set_values(tmp_path):
    from chartgate.core.values import supplied_strings
    overlay = tmp_path / "shop-values.yaml"
    overlay.write_text("ingress:\n  hosts: [shop.acme-corp.com]\npodLabels: {team.acme-corp.com/owner: shop}\n")
    release = (("extraObjects", [{"kind": "ConfigMap", "data": {"url": "https://api.acme-corp.com"}}]),)
    scenario = Scenario("release.eu.shop", ScenarioKind.RELEASE, (overlay, tmp_path / "missing.yaml"), release)
    strings = supplied_strings(scenario)
    assert {"shop.acme-corp.com", "team.acme-corp.com/owner", "shop", "https://api.acme-corp.com"} <= strings
    assert fqdn.supplied_names(scenario) == {"shop.acme-corp.com", "team.acme-corp.com", "api.acme-corp.com"}


def test_a_default_domain_and_the_fallback_it_causes_are_one_defect(minimal_run):
    from chartgate.report.defects import group_defects
    results = [r.to_dict() for r in minimal_run if r.chart == "tp-default-domain" and r.outcome.value == "failed"]
    assert {r["policy"] for r in results} == {"FQDN-001", "FQDN-003"}
    [defect] = group_defects({"charts": [], "results": results, "summary": {}})
    assert defect["policies"] == ["FQDN-001", "FQDN-003"] and defect["path"] == "$.ingress.domain"
    assert defect["template"] == "tp-default-domain/values.yaml"


# --- bench/mainstream's FQDN-shape charts: no false finding left, every planted defect found ----------

@pytest.fixture(scope="module")
def bench_shapes_run(tmp_path_factory, policies, render_cache):
    import sys
    sys.path.insert(0, str(REPO / "bench"))
    import mainstream
    tmp = tmp_path_factory.mktemp("fqdn-bench-shapes")
    mainstream.write_fqdn_shape_charts(tmp / "charts")
    return mainstream.PLANTED_DOMAINS, judge(tmp, tmp / "charts", policies, FQDN_IDS, render_cache)


def test_bench_shape_charts_report_only_the_planted_domains(bench_shapes_run):
    from chartgate.check.definition import Outcome
    planted, results = bench_shapes_run
    assert not [r.message for r in results if r.outcome is Outcome.ERROR]
    errors = [(r.chart, f.message) for r in results if r.outcome is Outcome.FAILED and r.severity.value == "error"
              for f in r.findings]
    false = [(chart, message[:160]) for chart, message in errors if not any(f"'{d}'" in message for d in planted[chart])]
    assert false == []
    assert {(chart, d) for chart, names in planted.items() for d in names} == {
        (chart, d) for chart, message in errors for d in planted[chart] if f"'{d}'" in message}
