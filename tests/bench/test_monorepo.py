"""The benchmark's generated monorepo: deterministic, in the real Blueprint format (docs/blueprint.md), rendered by real Helm."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HELM = REPO / ".tools" / "helm-v4.1.4" / "helm"
sys.path.insert(0, str(REPO / "bench"))

import mainstream  # noqa: E402
import monorepo  # noqa: E402
import run as bench_run  # noqa: E402

SMALL = dict(count=8, scale=0.05)


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def helm(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = {"HELM_CONFIG_HOME": str(tmp / "hc"), "HELM_CACHE_HOME": str(tmp / "hk"), "HELM_DATA_HOME": str(tmp / "hd"),
           "PATH": "/usr/bin:/bin", "KUBECONFIG": str(tmp / "none")}
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, env=env)


def documents(text: str) -> list[dict]:
    return [d for d in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mono")
    monorepo.generate(root, SMALL["count"], SMALL["scale"])
    return root


def test_generation_is_deterministic(small, tmp_path):
    again = tmp_path / "again"
    monorepo.generate(again, SMALL["count"], SMALL["scale"])
    assert tree_digest(again) == tree_digest(small)


def test_layout_and_blueprint_format(small):
    platform = sorted(p.name for p in (small / "platform").iterdir())
    assert platform == sorted(monorepo.chart_names(SMALL["count"]))
    for folder in [*(small / "platform").iterdir(), small / "products" / "suite"]:
        blueprint = yaml.safe_load((folder / "blueprint.yaml").read_text())
        chart = yaml.safe_load((folder / "chart" / "Chart.yaml").read_text())
        assert blueprint["apiVersion"] == "catalyst.openova.io/v1alpha1" and blueprint["kind"] == "Blueprint"
        assert blueprint["metadata"]["name"] == chart["name"]
        assert blueprint["spec"]["version"] == chart["version"]
        assert blueprint["spec"]["manifests"] == {"chart": "./chart"}
        assert "upstream" not in blueprint["spec"]  # the real format pins the upstream in Chart.yaml + values
        for dep in blueprint["spec"].get("depends", []):
            assert set(dep) == {"blueprint", "version"} and dep["blueprint"].startswith("bp-")
        for dep in chart["dependencies"]:  # vendored unpacked at the pinned version
            vendored = yaml.safe_load((folder / "chart" / "charts" / dep["name"] / "Chart.yaml").read_text())
            assert vendored["version"] == dep["version"]
        if folder.parent.name == "platform":
            values = yaml.safe_load((folder / "chart" / "values.yaml").read_text())
            (dep,) = chart["dependencies"]
            assert values["catalystBlueprint"]["upstream"] == {"chart": dep["name"], "version": dep["version"],
                                                               "repo": dep["repository"]}
    suite = yaml.safe_load((small / "products" / "suite" / "chart" / "Chart.yaml").read_text())
    members = {d["name"] for d in suite["dependencies"]}
    assert 2 <= len(members) <= 10 and members <= {f"bp-{p}" for p in platform}


def test_helm_releases(small):
    files = sorted((small / "clusters").glob("*/bootstrap-kit/*.yaml"))
    charts = {f"bp-{n}" for n in monorepo.chart_names(SMALL["count"])} | {"bp-suite"}
    assert {f.parts[-3] for f in files} == set(monorepo.CLUSTERS)
    for f in files:
        release = yaml.safe_load(f.read_text())
        assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2" and release["kind"] == "HelmRelease"
        assert release["spec"]["chart"]["spec"]["chart"] in charts
        assert release["spec"]["releaseName"] and release["spec"]["targetNamespace"]
        assert f.name[:3].rstrip("-").isdigit()


def test_full_size_monorepo_has_about_a_hundred_releases(tmp_path):
    blueprints = monorepo.plan_blueprints(tmp_path, monorepo.DEFAULT_CHARTS, 1.0)
    for bp in blueprints:  # write_clusters only needs names, indexes and profiles
        bp.folder.mkdir(parents=True)
    assert 90 <= monorepo.write_clusters(tmp_path, blueprints, "bp-suite") <= 120
    kinds = [bp.profile.archetype for bp in blueprints]
    assert {"cni", "observability", "registry", "tenants", "provider", "operator"} <= set(kinds)
    assert sum(not bp.profile.overlay for bp in blueprints) >= 3  # values-only umbrellas
    assert sum(bool(bp.profile.required) for bp in blueprints) >= 2


@pytest.mark.skipif(not HELM.is_file(), reason="the pinned Helm is provisioned by `make tools`")
def test_every_chart_renders_and_keeps_the_observability_contract(small, tmp_path):
    for chart_yaml in sorted(small.glob("*/*/chart/Chart.yaml")):
        chart = chart_yaml.parent
        ci = sorted(chart.glob("ci/*-values.yaml"))
        values = ["-f", str(ci[0])] if ci else []
        default = helm("template", "rel", str(chart), *values, tmp=tmp_path)
        assert default.returncode == 0, (chart, default.stderr)
        objects = documents(default.stdout)
        assert objects, chart
        assert not [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com/")], chart
        if ci:  # the `required` value is what the ci file supplies
            bare = helm("template", "rel", str(chart), tmp=tmp_path)
            assert bare.returncode == 1 and "is required" in bare.stderr
    name = monorepo.chart_names(1)[0]
    chart = small / "platform" / name / "chart"
    key = monorepo.camel(name) + "Overlay"
    on = helm("template", "rel", str(chart), "--set", f"{key}.serviceMonitor.enabled=true",
              "--api-versions", "monitoring.coreos.com/v1", tmp=tmp_path)
    assert [o["kind"] for o in documents(on.stdout)].count("ServiceMonitor") == 1
    gated = helm("template", "rel", str(chart), "--set", f"{key}.serviceMonitor.enabled=true", tmp=tmp_path)
    assert "ServiceMonitor" not in [o["kind"] for o in documents(gated.stdout)]


def test_full_size_shapes(tmp_path):
    """At scale 1: a 1 MB+ CRD schema, a loop chart near 2,000 objects, hundreds of booleans."""
    big = monorepo.crd("x.catalyst.example", "BigConfig", 1250, seed=1)
    schema = big["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert len(json.dumps(schema)) > 1_000_000
    profiles = monorepo.monorepo_profiles()
    tenants = max((p for p in profiles if p.archetype == "tenants"), key=lambda p: p.instances)
    assert 6 * tenants.instances + 20 >= 2000
    assert max(p.flags for p in profiles) >= 300
    assert len([p for p in profiles if max(p.crds, default=0) >= 1024]) >= 3


@pytest.mark.skipif(not HELM.is_file(), reason="the pinned Helm is provisioned by `make tools`")
def test_mainstream_charts_render(tmp_path):
    charts = mainstream.write_mainstream_charts(tmp_path / "mainstream", HELM)
    assert [c.name for c in charts][:5] == ["demo", "probe-exporter", "edge-ingress", "cert-issuer", "keyvalue"]
    assert {c.name for c in charts} >= set(mainstream.PLANTED_DOMAINS)
    assert {"cache-ha", "queue-operator"} <= {c.name for c in charts}
    assert "config-reloader" in [c.name for c in charts]
    assert not (tmp_path / "mainstream" / "demo" / "blueprint.yaml").exists()
    for chart in charts:
        proc = helm("template", "rel", str(chart), tmp=tmp_path)
        assert proc.returncode == 0, (chart, proc.stderr)
        assert documents(proc.stdout)


def test_bench_parsers():
    plan = ("bp-a: 2-wise covering array (IPOG), 12 of 65536 combinations (0%), 16 factors\n"
            "  scenarios: 22 declared + 10 combined; estimated renders: 32\n")
    assert bench_run.parse_plan(plan) == {"bp-a": {"rows": 12, "factors": 16, "declared": 22, "combined": 10,
                                                   "estimated_renders": 32}}
    checkov = json.dumps([{"check_type": "helm", "summary": {"passed": 3, "failed": 2, "skipped": 0,
                                                             "parsing_errors": 0, "resource_count": 4}}])
    assert bench_run.checkov_counts(checkov)["failed"] == 2


def test_phase_rows_read_both_timings_shapes():
    class Run:
        label = "cold"
        report = {"render_stats": {"renders": 7, "parse_seconds": 1.5}}

    for check in ({"check": {"OBS": {"wall": 1.0, "cpu": 0.5}}}, {"check:OBS": {"wall": 1.0, "cpu": 0.5}}):
        run = Run()
        run.timings = {"phases": {"render": {"wall": 2.0, "cpu": 1.0}, **check}, "peak_rss_mb": 100}
        table = bench_run.Table()
        bench_run.phase_rows(table, run)
        rows = {figure.strip(): value for figure, value, _ in table.rows}
        assert rows["cold: check OBS"] == "wall 1.0 s, CPU 0.5 s"
        assert rows["cold: render"] == "wall 2.0 s, CPU 1.0 s, 7 renders"
        assert rows["cold: discover"] == "n/a" and rows["cold: peak RSS (engine)"] == "100 MB"
    run = Run()
    run.timings = None
    table = bench_run.Table()
    bench_run.phase_rows(table, run)
    assert {value for _, value, _ in table.rows} <= {"n/a"} | {v for _, v, _ in table.rows if "parse_seconds" in v}
