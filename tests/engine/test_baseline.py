"""Baselines, ownership and dependencies judged where their templates live - on small charts rendered by
the real Helm and judged by the real pod-security and render policies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from chartgate.core.errors import InvalidConfig
from chartgate.engine.gate import Gate
from chartgate.check.loader import load_policy_module
from chartgate.check.definition import Outcome, policies_in

from ..conftest import REPO, gate_config
from ..reliability.helpers import write_chart

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}-{name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          env: [{{name: TOKEN, value: {{{{ .Values.token | quote }}}}}}]
          securityContext: {{privileged: {privileged}}}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  a: b\n"
SECRET_VALUE = "s3cr3t-value-never-in-the-baseline"


def deployment(name: str, privileged: bool = True) -> str:
    return DEPLOYMENT.format(name=name, privileged=str(privileged).lower())


@pytest.fixture(scope="module")
def pod_policies():
    return [p for name in ("security_pods.py", "render.py")
            for p in policies_in(load_policy_module(REPO / "policies" / name))]


@pytest.fixture
def judge(tmp_path, pod_policies, render_cache):
    """Runs the gate over tmp_path/charts with the baseline file beside it; returns (gate, summary, report)."""
    (tmp_path / "overlays").mkdir(exist_ok=True)

    def run(**kw):
        kw.setdefault("baseline_file", tmp_path / "chartgate-baseline.json")
        gate = Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", cache=render_cache, **kw))
        summary = gate.run(pod_policies)
        report = json.loads((tmp_path / "reports" / "chartgate.json").read_text())
        return gate, summary, report
    return run


def blocking_keys(summary) -> set[tuple[str, str, str]]:
    """What blocks: the findings of blocking results that are not baselined."""
    return {(r.policy.id, r.chart, f.resource) for r in summary.blocking for f in r.findings if not f.baselined}


def web_chart(tmp_path: Path, **deployments: bool) -> Path:
    templates = {f"{name}.yaml": deployment(name, privileged) for name, privileged in deployments.items()}
    return write_chart(tmp_path / "charts", "web", templates, values=f"token: {SECRET_VALUE}\n")


# -- baselines -------------------------------------------------------------------------------------------
def test_a_baseline_accepts_todays_findings_and_only_new_ones_block(tmp_path, judge):
    chart = web_chart(tmp_path, api=True)
    _, summary, _ = judge()
    assert summary.verdict == "failed" and ("SEC-001", "web", "Deployment/web/web-api") in blocking_keys(summary)

    _, summary, report = judge(write_baseline=True)
    baseline_file = tmp_path / "chartgate-baseline.json"
    text = baseline_file.read_text()
    data = json.loads(text)
    assert summary.verdict == "passed" and report["summary"]["baseline"]["written"]["entries"] == len(data["entries"])
    assert SECRET_VALUE not in text and "default" not in text  # no values, no scenario names
    assert data["entries"] == sorted(data["entries"], key=lambda e: tuple(e.values()))
    assert {"policy": "SEC-001", "chart": "web", "resource": "Deployment/<namespace>/<release>-api",
            "template": "web/templates/api.yaml",
            "path": "$.spec.template.spec.containers[0].securityContext.privileged",
            "key": "container 'app': privileged"} in data["entries"]
    assert text.count("\n") >= len(data["entries"]) + 4  # one entry a line: a review sees what changed

    # The next run uses it: green, the findings reported apart as baselined, in every format.
    gate, summary, report = judge()
    assert summary.verdict == "passed" and not summary.blocking and not summary.stale_baseline
    sec001 = next(r for r in gate.results if r.policy.id == "SEC-001")
    assert sec001.outcome is Outcome.BASELINED and all(f.baselined for f in sec001.findings)
    defects = {d["policy"]: d for d in report["defects"]}
    assert defects["SEC-001"]["outcome"] == "baselined" and not defects["SEC-001"]["blocking"]
    assert report["summary"]["defects"]["baselined"] == len(report["defects"])
    reports = tmp_path / "reports"
    sarif = json.loads((reports / "chartgate.sarif").read_text())
    assert all(r["suppressions"][0]["status"] == "accepted" for r in sarif["runs"][0]["results"])
    junit = ET.parse(reports / "junit.xml").getroot()
    assert junit.get("failures") == "0" and not junit.findall(".//failure")
    markdown = (reports / "chartgate.md").read_text()
    assert "## Baselined findings" in markdown and "finding(s) baselined, not blocking" in markdown
    assert "Baselined findings" in (reports / "chartgate.html").read_text()

    # A new defect: red, and only it blocks.
    (chart / "templates" / "worker.yaml").write_text(deployment("worker"))
    gate, summary, report = judge()
    assert summary.verdict == "failed"
    assert blocking_keys(summary) and {res for _, _, res in blocking_keys(summary)} == {"Deployment/web/web-worker"}
    assert {d["resource"] for d in report["defects"] if d["blocking"]} == {"Deployment/web/web-worker"}
    mixed = next(r for r in gate.results if r.policy.id == "SEC-001")
    assert mixed.outcome is Outcome.FAILED and [f.baselined for f in mixed.findings] == [True, False]

    # The old defect fixed (and the new one gone): its entry no longer matches - reported, not red.
    (chart / "templates" / "worker.yaml").unlink()
    (chart / "templates" / "api.yaml").write_text(deployment("api", privileged=False))
    _, summary, report = judge()
    assert summary.verdict == "passed"
    assert [(e["policy"], e["resource"]) for e in summary.stale_baseline] == [
        ("SEC-001", "Deployment/<namespace>/<release>-api")]
    assert report["summary"]["baseline"]["note"].startswith("1 baseline entries no longer match; run `chartgate baseline`")
    assert baseline_file.read_text() == text  # a normal run never rewrites it


def test_a_malformed_baseline_is_a_configuration_error_naming_the_file_and_entry(tmp_path, judge):
    web_chart(tmp_path, api=True)
    baseline_file = tmp_path / "chartgate-baseline.json"
    baseline_file.write_text(json.dumps({"version": 1, "created_at": "x", "entries": [
        {"policy": "SEC-001", "chart": "web", "resource": "r", "template": "t", "path": "p", "key": "k"},
        {"policy": "SEC-001", "chart": "web"}]}))
    with pytest.raises(InvalidConfig, match=r"chartgate-baseline.json: entries\[1\] must be an object"):
        Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", baseline_file=baseline_file)).baseline
    baseline_file.write_text('{"version": 1, "entries": [\n  {"policy": }\n]}')
    with pytest.raises(InvalidConfig, match=r"chartgate-baseline.json:2: the baseline file is not valid JSON"):
        Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", baseline_file=baseline_file)).baseline


def test_a_partial_run_never_writes_the_baseline(tmp_path, judge):
    web_chart(tmp_path, api=True)
    with pytest.raises(InvalidConfig, match="--write-baseline: --shard and --changed-since judge part of the gate"):
        Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", shard="1/2", write_baseline=True,
                         baseline_file=tmp_path / "chartgate-baseline.json")).baseline
    # A chart that cannot be loaded: its findings are unknown, a baseline would lose them - refused.
    write_chart(tmp_path / "charts", "broken", chart_yaml="apiVersion: v2\nname: broken\n")
    _, summary, report = judge(write_baseline=True)
    assert not (tmp_path / "chartgate-baseline.json").exists()
    assert "the baseline was not written" in summary.baseline_refused
    assert report["summary"]["baseline"]["refused"] == summary.baseline_refused


# -- ownership -------------------------------------------------------------------------------------------
def umbrella_with_vendored(tmp_path: Path, own_templates: dict[str, str], *, repository: str,
                           values: str = "{}\n") -> Path:
    """`shop` vendoring `cache` (privileged) under charts/, with its own templates."""
    charts = tmp_path / "charts"
    source = write_chart(tmp_path / ("src" if repository.startswith("https") else "charts"), "cache",
                         {"cache.yaml": deployment("cache")}, values="token: t\n")
    shop = write_chart(charts, "shop", own_templates, values=values, chart_yaml=(
        "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n"
        f"  - name: cache\n    version: 0.1.0\n    repository: {repository}\n"))
    shutil.copytree(source, shop / "charts" / "cache")
    return shop


def test_findings_in_a_vendored_subchart_are_upstream_and_own_ones_come_first(tmp_path, judge):
    umbrella_with_vendored(tmp_path, {"api.yaml": deployment("api")}, repository="https://charts.example.com")
    gate, summary, report = judge()
    sec001 = next(r for r in gate.results if r.policy.id == "SEC-001")
    marks = {f.resource: (f.dependency, f.to_dict().get("ownership", "own")) for f in sec001.findings}
    assert marks == {"Deployment/shop/shop-api": (None, "own"), "Deployment/shop/shop-cache": ("cache", "upstream")}
    assert summary.verdict == "failed"
    blocking = [d for d in report["defects"] if d["blocking"]]
    assert {d["ownership"] for d in blocking} == {"own", "upstream"}
    assert [d["ownership"] for d in blocking] == sorted(d["ownership"] for d in blocking)  # own first
    upstream = next(d for d in report["defects"] if d["ownership"] == "upstream")
    assert upstream["dependency"] == "cache"
    assert "upstream: cache" in (tmp_path / "reports" / "chartgate.md").read_text()
    sarif = json.loads((tmp_path / "reports" / "chartgate.sarif").read_text())
    assert {r["properties"]["ownership"] for r in sarif["runs"][0]["results"]} == {"own", "upstream"}

    # fail-on-upstream = false: the team gates what it wrote; the upstream findings are still reported.
    gate, summary, report = judge(fail_on_upstream=False)
    assert summary.verdict == "failed"
    assert {res for _, _, res in blocking_keys(summary)} >= {"Deployment/shop/shop-api"}
    assert all(d["ownership"] == "own" for d in report["defects"] if d["blocking"])
    assert any(d["ownership"] == "upstream" and not d["blocking"] for d in report["defects"])


def test_fail_on_upstream_false_lets_a_chart_with_only_upstream_findings_pass(tmp_path, judge):
    umbrella_with_vendored(tmp_path, {"settings.yaml": CONFIGMAP}, repository="https://charts.example.com")
    _, summary, _ = judge()
    assert summary.verdict == "failed"  # default: upstream findings block
    gate, summary, report = judge(fail_on_upstream=False)
    assert summary.verdict == "passed" and not summary.blocking
    failed = [r for r in gate.results if r.outcome is Outcome.FAILED]
    assert failed and all(f.dependency == "cache" for r in failed for f in r.findings)  # reported, not blocking
    assert report["summary"]["defects"]["upstream"] == len(report["defects"]) > 0
    junit = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    assert junit.get("failures") == "0"


# -- a dependency in the same repository -----------------------------------------------------------------
def test_a_same_repository_dependency_is_judged_where_its_templates_live(tmp_path, judge):
    umbrella_with_vendored(tmp_path, {"settings.yaml": CONFIGMAP}, repository="file://../cache")
    gate, summary, report = judge()
    on_cache = {(r.policy.id, f.resource) for r in gate.results if r.chart == "cache" for f in r.findings}
    on_shop = [(r.policy.id, f.resource) for r in gate.results if r.chart == "shop" for f in r.findings]
    assert ("SEC-001", "Deployment/cache/cache-cache") in on_cache and not on_shop
    moved = report["summary"]["judged_elsewhere"]["shop"]["cache"]
    assert moved == len(on_cache) and summary.verdict == "failed"  # judged once, still red
    assert f"shop: {moved} finding(s) judged in chart cache" in (tmp_path / "reports" / "chartgate.md").read_text()


@pytest.mark.parametrize("change", ["umbrella-values", "dependency-excluded", "vendored-copy-differs"])
def test_a_dependency_judged_differently_keeps_its_findings_under_the_umbrella(tmp_path, judge, change):
    values = "cache:\n  token: other\n" if change == "umbrella-values" else "{}\n"
    shop = umbrella_with_vendored(tmp_path, {"settings.yaml": CONFIGMAP}, repository="file://../cache", values=values)
    kw = {}
    if change == "dependency-excluded":
        kw["exclude_charts"] = ("cache",)
    if change == "vendored-copy-differs":
        (shop / "charts" / "cache" / "templates" / "cache.yaml").write_text(deployment("cache") + "# older copy\n")
    gate, summary, report = judge(**kw)
    on_shop = {(r.policy.id, f.resource) for r in gate.results if r.chart == "shop" for f in r.findings}
    assert ("SEC-001", "Deployment/shop/shop-cache") in on_shop
    assert not report["summary"]["judged_elsewhere"] and summary.verdict == "failed"


# -- through the pytest plugin ---------------------------------------------------------------------------
def test_the_plugin_writes_uses_and_guards_the_baseline(pytester, monkeypatch):
    from ..reliability.helpers import no_crash, plugin_repo, run_plugin
    root = plugin_repo(pytester, monkeypatch)
    baseline_file = root / "chartgate-baseline.json"
    result = run_plugin(pytester, "--cache-dir", "cache")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # a new chart: its golden files are missing (GOLD-001)

    result = run_plugin(pytester, "--cache-dir", "cache", "--write-baseline")
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.OK, output[-3000:]
    entries = json.loads(baseline_file.read_text())["entries"]
    assert entries and {e["policy"] for e in entries} == {"GOLD-001"}
    assert f"baseline written: {len(entries)} entries to {baseline_file}" in output

    result = run_plugin(pytester, "--cache-dir", "cache")  # found beside the configuration, used
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.OK and "finding(s) baselined, not blocking" in output

    written = baseline_file.read_text()
    result = run_plugin(pytester, "--cache-dir", "cache", "--write-baseline", "-k", "RENDER")
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and result.ret != pytest.ExitCode.OK
    assert "baseline not written: the run judged only part of the gate" in output
    assert baseline_file.read_text() == written  # a partial run never shrinks it

    baseline_file.write_text('{"version": 1, "entries": [{"policy": "GOLD-001"}]}')
    result = run_plugin(pytester, "--cache-dir", "cache")
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{baseline_file}: entries[0] must be an object with exactly the string keys" in output


def test_marks_survive_the_trip_from_an_xdist_worker(tmp_path, judge):
    from chartgate.check.definition import Result
    umbrella_with_vendored(tmp_path, {"settings.yaml": CONFIGMAP}, repository="file://../cache")
    gate, _, _ = judge(write_baseline=True)
    for result in gate.results:
        again = Result.from_dict(json.loads(json.dumps(result.to_dict())), result.policy)
        assert (again.outcome, again.judged_in, again.findings) == (result.outcome, result.judged_in, result.findings)
    assert any(r.judged_in for r in gate.results) and any(f.baselined for r in gate.results for f in r.findings)


HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .Release.Name }}-cache
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: no-such-workload}
  minReplicas: 1
  maxReplicas: 2
"""


def test_a_per_scenario_check_is_moved_only_for_scenarios_passing_the_dependency_nothing(tmp_path, render_cache):
    # WIR-002 judges every scenario: the dependency's HPA scales nothing. The umbrella's default scenario
    # renders the subchart as the source chart's default does: moved. Its overlay scenario that sets
    # `cache:` values renders it differently: the finding stays with the umbrella there.
    charts, overlays = tmp_path / "charts", tmp_path / "overlays"
    source = write_chart(charts, "cache", {"hpa.yaml": HPA}, values="size: 1\n")
    shop = write_chart(charts, "shop", {"settings.yaml": CONFIGMAP}, chart_yaml=(
        "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n"
        "  - name: cache\n    version: 0.1.0\n    repository: file://../cache\n"))
    shutil.copytree(source, shop / "charts" / "cache")
    (overlays / "shop").mkdir(parents=True)
    (overlays / "shop" / "big-values.yaml").write_text("cache:\n  size: 3\n")
    (overlays / "shop" / "plain-values.yaml").write_text("other: 1\n")
    policies = [p for p in policies_in(load_policy_module(REPO / "policies" / "wiring.py")) if p.id == "WIR-002"]
    gate = Gate(gate_config(tmp_path, charts, overlays, cache=render_cache))
    gate.run(policies)
    shop = {r.scenario: r for r in gate.results if r.chart == "shop"}
    cache_default = next(r for r in gate.results if r.chart == "cache" and r.scenario == "default")
    assert cache_default.outcome is Outcome.FAILED
    big = next(name for name in shop if "big" in name)
    plain = next(name for name in shop if "plain" in name)
    assert shop["default"].outcome is Outcome.PASSED and shop["default"].judged_in == {"cache": 1}
    assert shop[plain].outcome is Outcome.PASSED and shop[plain].judged_in == {"cache": 1}
    assert shop[big].outcome is Outcome.FAILED and not shop[big].judged_in


def test_the_settings_resolve_beside_the_configuration_file(tmp_path):
    from chartgate.settings import SETTINGS, resolve
    (tmp_path / "repo" / "charts").mkdir(parents=True)
    config = tmp_path / "repo" / "pyproject.toml"
    config.write_text('[tool.chartgate]\nchart-roots = ["charts"]\nfail-on-upstream = false\n')
    resolved = resolve({key: None for key in SETTINGS}, config, cwd=tmp_path)
    assert resolved["baseline-file"] == tmp_path / "repo" / "chartgate-baseline.json"  # need not exist yet
    assert resolved["fail-on-upstream"] is False
    config.write_text('[tool.chartgate]\nchart-roots = ["charts"]\nfail-on-upstream = "no"\n')
    with pytest.raises(InvalidConfig, match="fail-on-upstream must be a bool"):
        resolve({key: None for key in SETTINGS}, config, cwd=tmp_path)


TOGGLED = """{{- if .Values.debug.enabled }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-debug
spec:
  containers:
    - name: debug
      image: busybox:1.37
      securityContext: {privileged: true}
{{- end }}
"""


def test_an_umbrella_exploring_the_dependencys_toggle_leaves_the_finding_to_its_twin(tmp_path, judge):
    # The umbrella's plan sets `cache.debug.enabled=true`: the subchart then renders as the source chart
    # does in its own scenario setting `debug.enabled=true` - judged there, not again under the umbrella.
    # (An umbrella passing the dependency values of its own keeps the finding: see the test above.)
    source = write_chart(tmp_path / "charts", "cache", {"debug.yaml": TOGGLED}, values="debug: {enabled: false}\n")
    shop = write_chart(tmp_path / "charts", "shop", {"settings.yaml": CONFIGMAP}, chart_yaml=(
        "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n"
        "  - name: cache\n    version: 0.1.0\n    repository: file://../cache\n"))
    shutil.copytree(source, shop / "charts" / "cache")
    gate, summary, report = judge()
    assert any(("cache.debug.enabled", True) in s.set_values for s in gate.plans["shop"])
    on = {r.chart: [f.resource for f in r.findings] for r in gate.results if r.policy.id == "SEC-001"}
    assert on == {"cache": ["Pod/cache/cache-debug"], "shop": []}
    assert report["summary"]["judged_elsewhere"]["shop"]["cache"] >= 1 and summary.verdict == "failed"
