"""Whole-gate reliability under bad input and bad luck: unloadable charts are errors (never skips),
huge renders stay within bounded memory, concurrent runs share a cache safely, interrupted writes
leave the previous files, and renders never reach a cluster or the network."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chartgate.discover.charts import _load_chart_dir
from chartgate.engine.gate import Gate
from chartgate.render.helm import Helm, TemplateRequest
from chartgate.check.loader import load_policy_module
from chartgate.check.definition import Outcome, policies_in
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind
from chartgate.render.toolchain import locate
from chartgate.core import yamlio

from ..conftest import REPO, gate_config

PYTHON = sys.executable
DEFAULT = Scenario("default", ScenarioKind.DEFAULT)
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\n"


@functools.cache
def _pinned():
    return locate(REPO / ".tools", env={})


def engine_policies():
    """GOLD-001 and RENDER-001 only: enough to exercise the gate, cheap to run."""
    return [p for name in ("golden.py", "render.py") for p in policies_in(load_policy_module(REPO / "policies" / name))]


def write_chart(root: Path, name: str, templates: dict[str, str], chart_yaml: str | None = None) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(chart_yaml or f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("{}\n")
    for rel, text in templates.items():
        (chart / "templates" / rel).write_text(text)
    return chart


def run_small_gate(tmp_path: Path, chart_root: Path, **kw) -> tuple[Gate, object]:
    (tmp_path / "overlays").mkdir(exist_ok=True)
    gate = Gate(gate_config(tmp_path, chart_root, tmp_path / "overlays", cache=tmp_path / "cache", **kw))
    return gate, gate.run(engine_policies())


# -- unloadable charts are errors, never skipped ----------------------------------------------------

def test_a_chart_with_unvendored_dependencies_is_an_error_result_and_the_gate_is_red(tmp_path):
    charts = tmp_path / "charts"
    write_chart(charts, "hollow", {}, chart_yaml="apiVersion: v2\nname: hollow\nversion: 0.1.0\n"
                "dependencies:\n  - name: upstream\n    version: 2.0.0\n    repository: oci://example.org/charts\n")
    gate, summary = run_small_gate(tmp_path, charts)

    results = [r for r in gate.results if r.chart == "hollow"]
    assert {r.policy.id for r in results} == {"GOLD-001", "RENDER-001"}
    assert {r.policy.id: r.outcome for r in results} == {"RENDER-001": Outcome.ERROR, "GOLD-001": Outcome.SKIPPED}
    assert all("helm dependency build" in r.message and "`upstream`" in r.message for r in results)
    assert summary.red
    report = json.loads((tmp_path / "reports" / "chartgate.json").read_text())
    assert {r["outcome"] for r in report["results"] if r["chart"] == "hollow"} == {"error", "skipped"}
    assert len([d for d in report["defects"] if d["chart"] == "hollow"]) == 1  # one cause, one finding


def test_hostile_chart_names_never_write_outside_the_report_and_golden_dirs(tmp_path):
    charts = tmp_path / "charts"
    for i, name in enumerate(["../evil", "a/b", "name with spaces"]):
        write_chart(charts, f"chart{i}", {"cm.yaml": CONFIGMAP.format(name="cm")},
                    chart_yaml=f"apiVersion: v2\nname: {name!r}\nversion: 0.1.0\n")
    gate, summary = run_small_gate(tmp_path, charts)

    assert {r.chart for r in gate.results} == {"../evil", "a/b", "name with spaces"}
    # Helm itself refuses such names; RENDER-001 says so for each chart and scenario (once), and the
    # other policies on those scenarios point at it instead of repeating the cause.
    assert {r.outcome for r in gate.results} == {Outcome.SKIPPED, Outcome.FAILED} and summary.red
    render = [r for r in gate.results if r.policy.id == "RENDER-001"]
    assert render and all(r.outcome is Outcome.FAILED for r in render)
    assert all("see RENDER-001" in r.message for r in gate.results if r.outcome is Outcome.SKIPPED)
    allowed = [tmp_path / d for d in ("charts", "overlays", "reports", "golden", "cache")]
    for path in tmp_path.rglob("*"):
        assert any(path == d or d in path.parents for d in allowed), f"written outside its directory: {path}"
    assert not (tmp_path.parent / "evil").exists()


# -- a very large render ----------------------------------------------------------------------------

MANY_CONFIGMAPS = """{{- range $i := until 20000 }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
data:
  index: "{{ $i }}"
{{- end }}
"""

_MEASURE_PARSE = textwrap.dedent("""
    import gc, json, resource, sys, time
    from chartgate.parse.manifests import kind_summary
    from chartgate.parse.manifests import _parse_render
    text = open(sys.argv[1], encoding="utf-8").read()
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    manifests = _parse_render(text, namespace="big")
    summary = kind_summary(manifests)
    seconds = time.perf_counter() - started
    peak_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    print(json.dumps({"objects": len(manifests), "summary": summary, "seconds": seconds,
                      "peak_growth": peak_growth, "size": len(text)}))
""")


def test_a_render_of_twenty_thousand_objects_is_parsed_in_bounded_memory(tmp_path):
    """Peak memory growth while parsing (and summarising) stays a small multiple of Helm's output.

    Measured as the growth of the peak RSS in a fresh interpreter: tracemalloc would be exact but
    slows this allocation-heavy parse several times over.
    """
    chart = write_chart(tmp_path, "big", {"many.yaml": MANY_CONFIGMAPS})
    output = Helm(_pinned(), timeout=120).template(TemplateRequest(chart), chart="big", scenario="default")
    rendered = tmp_path / "render.yaml"
    rendered.write_text(output.stdout)

    proc = subprocess.run([PYTHON, "-c", _MEASURE_PARSE, str(rendered)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    measured = json.loads(proc.stdout)
    assert measured["objects"] == 20000 and measured["summary"] == {"ConfigMap": {"v1": 20000}}
    ratio = measured["peak_growth"] / measured["size"]
    assert ratio < 20, f"parsing {measured['size'] / 2**20:.1f} MiB of output grew memory {ratio:.1f}x"


# -- two runs, one cache ----------------------------------------------------------------------------

_RENDER_INTO_CACHE = textwrap.dedent("""
    import hashlib, json, sys
    from pathlib import Path
    from chartgate.discover.charts import _load_chart_dir
    from chartgate.render.helm import Helm
    from chartgate.render.renderer import Renderer
    from chartgate.plan.scenarios import Scenario, ScenarioKind
    from chartgate.render.toolchain import locate
    tools, cache, *charts = sys.argv[1:]
    renderer = Renderer(Helm(locate(Path(tools), env={})), Path(cache), workers=2)
    jobs = [(_load_chart_dir(Path(c)), Scenario("default", ScenarioKind.DEFAULT)) for c in charts]
    out = {}
    for render in renderer.render_all(jobs):
        assert render.ok, render.error
        out[render.chart] = hashlib.sha256(render.stdout.encode()).hexdigest()
    print(json.dumps(out))
""")


def test_two_processes_sharing_one_render_cache_agree_and_leave_it_consistent(tmp_path):
    charts = tmp_path / "charts"
    for name in ("shared-a", "shared-b", "only-1", "only-2"):
        write_chart(charts, name, {f"cm{i}.yaml": CONFIGMAP.format(name=f"{name}-{i}") for i in range(3)})
    cache = tmp_path / "cache"

    def start(*names):
        return subprocess.Popen([PYTHON, "-c", _RENDER_INTO_CACHE, str(REPO / ".tools"), str(cache),
                                 *(str(charts / n) for n in names)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    runs = [start("shared-a", "shared-b", "only-1"), start("shared-b", "shared-a", "only-2")]
    outputs = []
    for proc in runs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        outputs.append(json.loads(stdout))

    assert outputs[0]["shared-a"] == outputs[1]["shared-a"] and outputs[0]["shared-b"] == outputs[1]["shared-b"]
    entries = sorted((cache / "renders").rglob("*.json"))
    assert len(entries) == 4 and all("documents" in json.loads(p.read_text()) for p in entries)
    assert not [p for p in cache.rglob("*") if p.name.endswith(".tmp")]
    # A third run is served entirely from the cache, with the same results.
    later = Renderer(Helm(_pinned()), cache, workers=1)
    for name in ("shared-a", "only-2"):
        render = later.render(_load_chart_dir(charts / name), DEFAULT)
        assert render.cached and render.ok
    assert later.stats["renders"] == 0


# -- interrupted writes -----------------------------------------------------------------------------

def test_an_interrupted_report_write_keeps_the_previous_reports(tmp_path, monkeypatch):
    charts = tmp_path / "charts"
    write_chart(charts, "tiny", {"cm.yaml": CONFIGMAP.format(name="cm")})
    gate, _ = run_small_gate(tmp_path, charts)
    reports = tmp_path / "reports"
    before = {p.name: p.read_bytes() for p in reports.iterdir()}
    assert "chartgate.json" in before

    real_replace, calls = os.replace, []

    def replace_then_fail(src, dst):  # the first report lands, the second write is interrupted
        calls.append(dst)
        if len(calls) > 1:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(yamlio.os, "replace", replace_then_fail)
    (charts / "tiny" / "templates" / "cm2.yaml").write_text(CONFIGMAP.format(name="cm2"))
    with pytest.raises(KeyboardInterrupt):
        run_small_gate(tmp_path, charts)
    monkeypatch.undo()

    after = {p.name: p.read_bytes() for p in reports.iterdir()}
    assert set(after) == set(before), "a temporary file was left behind"
    unchanged = [name for name in before if after[name] == before[name]]
    assert len(unchanged) >= len(before) - 1  # only the write that completed changed anything


_KILLED_WRITER = textwrap.dedent("""
    import os, sys, time
    from chartgate.core import yamlio
    target, ready = sys.argv[1:]
    def stall(fd):  # the new content is in the temp file; the rename has not happened yet
        open(ready, "w").close()
        time.sleep(60)
    yamlio.os.fsync = stall
    yamlio.write_atomic(target, "kinds: {Half: {written: 1}}\\n" * 1000)
""")


def test_a_writer_killed_mid_write_leaves_the_previous_golden_intact(tmp_path):
    golden = tmp_path / "golden" / "tiny" / "default.yaml"
    golden.parent.mkdir(parents=True)
    golden.write_text("kinds:\n  ConfigMap:\n    v1: 1\n")
    ready = tmp_path / "ready"
    proc = subprocess.Popen([PYTHON, "-c", _KILLED_WRITER, str(golden), str(ready)])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), "the writer never reached the write"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    assert golden.read_text() == "kinds:\n  ConfigMap:\n    v1: 1\n"
    # SIGKILL allows no clean-up: the temp file stays, hidden and never mistaken for a golden file.
    leftovers = [p.name for p in golden.parent.iterdir() if p != golden]
    assert all(name.startswith(".default.yaml.") and name.endswith(".tmp") for name in leftovers)
    assert [p.name for p in golden.parent.glob("*.yaml")] == ["default.yaml"]


# -- no cluster, no network -----------------------------------------------------------------------

LOOKUP_TEMPLATE = """{{- $existing := lookup "v1" "Secret" "kube-system" "cluster-admin-token" }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
data:
  foundSecret: {{ $existing | len | quote }}
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
"""


def test_renders_never_contact_the_cluster_in_the_users_kubeconfig(tmp_path, monkeypatch):
    """KUBECONFIG points at a listening 'API server'; the render succeeds and nothing connects."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    port = server.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(textwrap.dedent(f"""\
        apiVersion: v1
        kind: Config
        clusters: [{{name: prod, cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}}}]
        users: [{{name: admin, user: {{token: not-a-real-token}}}}]
        contexts: [{{name: prod, context: {{cluster: prod, user: admin}}}}]
        current-context: prod
        """))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("HELM_CONFIG_HOME", str(home / "helm-config"))
    chart = _load_chart_dir(write_chart(tmp_path, "probe", {"probe.yaml": LOOKUP_TEMPLATE}))
    helm = Helm(_pinned(), timeout=30)

    started = time.monotonic()
    render = Renderer(helm, None, workers=1).render(chart, DEFAULT)
    elapsed = time.monotonic() - started

    try:
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody knocked
    finally:
        server.close()
    assert render.ok, render.error
    [probe] = render.manifests
    assert probe.body["data"]["foundSecret"] == "0"  # `lookup` in `helm template` finds nothing
    assert probe.body["data"]["kubeVersion"].startswith("v1.")  # Helm's default, not the cluster's
    assert elapsed < 15
    assert helm.env["KUBECONFIG"] != str(kubeconfig) and not os.path.exists(helm.env["KUBECONFIG"])
    assert not helm.env["HELM_CONFIG_HOME"].startswith(str(home))
    assert list(home.iterdir()) == [], "helm wrote into the user's home"
