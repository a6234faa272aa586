"""The renderer and its cache: chart errors are cached, tool failures never are, bad entries are
re-rendered, output that is not YAML is a ManifestParseError naming the template."""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

import pytest

from chartgate.discover.charts import _load_chart_dir
from chartgate.core.errors import ChartFailed, HelmCrashed, ManifestParseError
from chartgate.render.helm import Helm
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind
from chartgate.render.toolchain import locate

from ..conftest import REPO

DEFAULT = Scenario("default", ScenarioKind.DEFAULT)
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: {value}\n"


@functools.cache
def _pinned():
    return locate(REPO / ".tools", env={})


def renderer(cache: Path | None, helm: Helm | None = None) -> Renderer:
    return Renderer(helm or Helm(_pinned(), timeout=60), cache, workers=2)


def fake_helm(tmp_path: Path, template_body: str) -> Helm:
    script = tmp_path / "fake-helm"
    script.write_text(f'#!/bin/sh\nif [ "$1" = version ]; then echo v4.1.4; exit 0; fi\n{template_body}\n')
    script.chmod(0o755)
    return Helm(locate(REPO / ".tools", env={"HELM_BIN": str(script)}), timeout=30)


def tiny_chart(root: Path, templates: dict[str, str], name: str = "tiny"):
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    for rel, text in templates.items():
        (chart / "templates" / rel).write_text(text)
    return _load_chart_dir(chart)


def cache_entries(cache: Path) -> list[Path]:
    return sorted((cache / "renders").rglob("*.json")) if (cache / "renders").is_dir() else []


def test_a_render_is_cached_and_read_back(tmp_path):
    chart = tiny_chart(tmp_path, {"cm.yaml": CONFIGMAP.format(name="a", value="x")})
    first = renderer(tmp_path / "cache").render(chart, DEFAULT)
    second = renderer(tmp_path / "cache").render(chart, DEFAULT)
    assert first.ok and not first.cached and second.cached
    assert [m.identity() for m in second.manifests] == [m.identity() for m in first.manifests]


def test_chart_failures_are_cached_with_their_type(tmp_path):
    chart = tiny_chart(tmp_path, {"f.yaml": '{{ fail "tiny needs values.domain" }}\n'})
    first = renderer(tmp_path / "cache").render(chart, DEFAULT)
    second = renderer(tmp_path / "cache").render(chart, DEFAULT)
    assert isinstance(first.error, ChartFailed) and isinstance(second.error, ChartFailed)
    assert second.cached and "tiny needs values.domain" in str(second.error)


def test_a_helm_crash_is_never_cached(tmp_path):
    chart = tiny_chart(tmp_path, {"cm.yaml": CONFIGMAP.format(name="a", value="x")})
    crashed = renderer(tmp_path / "cache", fake_helm(tmp_path, "kill -SEGV $$")).render(chart, DEFAULT)
    assert isinstance(crashed.error, HelmCrashed)
    assert cache_entries(tmp_path / "cache") == []
    # The next run (same cache) renders for real instead of replaying the crash.
    retry = renderer(tmp_path / "cache").render(chart, DEFAULT)
    assert retry.ok and not retry.cached


def test_template_output_that_is_not_yaml_names_the_template(tmp_path):
    """Helm 4 accepts a custom tag (`!vault`) in rendered output; a safe YAML parser cannot."""
    chart = tiny_chart(tmp_path, {"ok.yaml": CONFIGMAP.format(name="a", value="x"),
                                  "secret-ref.yaml": CONFIGMAP.format(name="b", value="!vault secret/db")})
    render = renderer(tmp_path / "cache").render(chart, DEFAULT)
    assert isinstance(render.error, ManifestParseError)
    message = str(render.error)
    assert "tiny/templates/secret-ref.yaml rendered output that is not valid YAML" in message
    assert "!vault" in message and "Fix what that template emits" in message
    assert "reproduce with:" in message and "-- tiny " in message
    # The same verdict comes back from the cache.
    assert isinstance(renderer(tmp_path / "cache").render(chart, DEFAULT).error, ManifestParseError)


def test_output_of_a_broken_helm_that_is_not_yaml_is_a_parse_error(tmp_path):
    chart = tiny_chart(tmp_path, {})
    helm = fake_helm(tmp_path, "printf -- '---\\n# Source: tiny/templates/x.yaml\\nkind: [ConfigMap\\n'")
    render = renderer(None, helm).render(chart, DEFAULT)
    assert isinstance(render.error, ManifestParseError)
    assert "tiny/templates/x.yaml rendered output that is not valid YAML" in str(render.error)


def test_a_document_that_is_not_a_kubernetes_object_is_named(tmp_path):
    chart = tiny_chart(tmp_path, {"loose.yaml": "replicas: 3\n"})
    render = renderer(None).render(chart, DEFAULT)
    assert isinstance(render.error, ManifestParseError)
    assert "tiny/templates/loose.yaml rendered a document that is not a Kubernetes object" in str(render.error)


@pytest.mark.parametrize("damage", ["truncate", "empty", "not-an-entry"])
def test_a_damaged_cache_entry_is_ignored_and_rendered_again(tmp_path, damage):
    chart = tiny_chart(tmp_path, {"cm.yaml": CONFIGMAP.format(name="a", value="x")})
    good = renderer(tmp_path / "cache").render(chart, DEFAULT)
    [entry] = cache_entries(tmp_path / "cache")
    text = entry.read_text()
    entry.write_text({"truncate": text[: len(text) // 2], "empty": "", "not-an-entry": "[1, 2]"}[damage])

    again = renderer(tmp_path / "cache")
    render = again.render(chart, DEFAULT)
    assert render.ok and not render.cached and again.stats["renders"] == 1
    assert [m.body for m in render.manifests] == [m.body for m in good.manifests]
    assert len(json.loads(entry.read_text())["documents"]) == 1  # repaired in place


@pytest.mark.parametrize("damage", ["deleted", "truncated", "not-an-object"])
def test_a_damaged_object_store_is_rendered_again_not_reported_as_a_failing_render(tmp_path, damage):
    """An entry lists its objects by key in objects/; an object that cannot be read back is the cache's
    problem: the scenario renders again (a RENDER-001 failure would turn the gate red for no defect)."""
    from chartgate.core import memo
    chart = tiny_chart(tmp_path, {"cm.yaml": CONFIGMAP.format(name="a", value="x")})
    good = renderer(tmp_path / "cache").render(chart, DEFAULT)
    [stored] = sorted((tmp_path / "cache" / "objects").rglob("*.json"))
    if damage == "deleted":
        stored.unlink()
    else:
        stored.write_text({"truncated": stored.read_text()[:10], "not-an-object": "[1, 2]"}[damage])
    memo.clear_all()  # this process must read the store again, as the next run would

    again = renderer(tmp_path / "cache")
    render = again.render(chart, DEFAULT)
    assert render.ok and not render.cached and again.stats["renders"] == 1
    assert [m.body for m in render.manifests] == [m.body for m in good.manifests]
    memo.clear_all()
    repaired = renderer(tmp_path / "cache")  # the re-render wrote the object again: the next run reads it
    assert repaired.cached_render(chart, DEFAULT).ok and repaired.render(chart, DEFAULT).cached


def test_threads_of_two_renderers_sharing_one_cache_agree(tmp_path):
    """Two gates in one process (separate memos) race on the same cache files."""
    charts = [tiny_chart(tmp_path, {"cm.yaml": CONFIGMAP.format(name=n, value=n)}, name=n) for n in ("a", "b")]
    results: dict[int, list] = {}

    def run(slot: int):
        r = renderer(tmp_path / "cache")
        results[slot] = [[m.body for m in r.render(c, DEFAULT).manifests] for c in charts]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1] and all(results[0])
    assert len(cache_entries(tmp_path / "cache")) == 2
    assert not list((tmp_path / "cache").rglob("*.tmp"))


CAPABILITY_PROBE = """apiVersion: v1
kind: ConfigMap
metadata: {name: probe}
data:
  pdb: "{{ .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" }}"
  removed: "{{ .Capabilities.APIVersions.Has "flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema" }}"
  gateway: "{{ .Capabilities.APIVersions.Has "gateway.networking.k8s.io/v1" }}"
  kube: "{{ .Capabilities.KubeVersion.Version }}"
"""


@pytest.mark.parametrize("version", ["4.1.4", "3.19.0"])
def test_the_bare_cluster_serves_what_a_real_api_server_of_the_target_version_serves(tmp_path, version):
    # Helm alone answers `policy/v1/PodDisruptionBudget` with false, and `.KubeVersion` with the
    # version of its own client libraries: both Helms must answer like a 1.33 API server instead.
    chart = tiny_chart(tmp_path, {"probe.yaml": CAPABILITY_PROBE})
    helm = Helm(locate(REPO / ".tools", version, env={}), timeout=60)
    rendered = Renderer(helm, None, workers=1, kube_version="v1.33.0").render(chart, DEFAULT)
    [probe] = rendered.manifests
    assert probe.body["data"] == {"pdb": "true", "removed": "false", "gateway": "false", "kube": "v1.33.0"}
    assert "--kube-version v1.33.0" in rendered.command


def test_a_kind_list_is_expanded_into_its_items_as_helm_install_applies_them(tmp_path):
    listed = ("apiVersion: v1\nkind: List\nitems:\n"
              "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
              "  - {apiVersion: v1, kind: Secret, metadata: {name: b}}\n")
    chart = tiny_chart(tmp_path, {"list.yaml": listed})
    rendered = renderer(None).render(chart, DEFAULT)
    assert [(m.kind, m.name, m.source) for m in rendered.manifests] == [
        ("ConfigMap", "a", "tiny/templates/list.yaml"), ("Secret", "b", "tiny/templates/list.yaml")]


QUOTING_POLICY = '''
from chartgate import Applicability, Finding, ScenarioContext, policy

@policy(id="QUOTE-001", title="quotes a rendered secret", receives="scenario",
        applies_to=Applicability(scenarios=("default",)), rationale="r", reference="r")
def quotes(ctx: ScenarioContext):
    for secret in ctx.render.of_kind("Secret"):
        yield Finding.on(secret, "$.stringData", f"the token is {secret.body['stringData']['token']}")
'''


def test_a_warm_run_with_every_result_cached_loads_no_render_and_still_redacts(tmp_path):
    from chartgate.engine.gate import Gate
    from chartgate.check.loader import load_policy_module
    from chartgate.check.definition import policies_in

    from ..conftest import gate_config
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {token: rendered-only-t0ken-value}\n"
    tiny_chart(tmp_path / "charts", {"s.yaml": secret, "cm.yaml": CONFIGMAP.format(name="a", value="x")})
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "quote.py").write_text(QUOTING_POLICY)
    policies = policies_in(load_policy_module(tmp_path / "policies" / "quote.py"))
    policies += policies_in(load_policy_module(REPO / "policies" / "golden.py"))
    (tmp_path / "overlays").mkdir()

    def run():
        gate = Gate(gate_config(tmp_path, tmp_path / "charts", tmp_path / "overlays", cache=tmp_path / "cache"))
        return gate, gate.run(policies)

    cold, _ = run()
    warm, _ = run()
    assert warm.renderer.stats["renders"] == 0 and warm.renderer.stats["cache_hits"] == 0  # nothing loaded
    assert warm.store.from_cache == {"tiny"}
    assert sorted((r.policy.id, r.scenario, r.outcome) for r in warm.results) == \
        sorted((r.policy.id, r.scenario, r.outcome) for r in cold.results)
    report = (tmp_path / "reports" / "chartgate.json").read_text()
    assert "rendered-only-t0ken-value" not in report and "<redacted hmac:" in report
    assert '"helm_warnings"' in report and '"rendered": true' in report  # summaries kept for the report
