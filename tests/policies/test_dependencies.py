"""DEP-001: a vendored file:// dependency is the same as its source chart in the repository. The copy
is made by the real `helm dependency update` (which rewrites Chart.yaml): a fresh copy passes, an
edited source fails, naming the files and the command that refreshes the copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartgate.check.loader import load_policy_module
from chartgate.check.definition import Outcome, policies_in

from ..conftest import REPO, gate_config, run_gate
from ..reliability.helpers import helm, write_chart

DEPENDENCIES = policies_in(load_policy_module(REPO / "policies" / "dependencies.py"))
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: {value}\n"
UMBRELLA_YAML = ("apiVersion: v2\nname: umbrella\nversion: 1.0.0\n"
                 "dependencies:\n  - name: app\n    version: 0.1.0\n    repository: file://../app\n")


def repository(root: Path, *, vendor: str = "helm") -> Path:
    """charts/app (the source, with a .helmignore) and charts/umbrella depending on it by file://."""
    charts = root / "charts"
    app = write_chart(charts, "app", {"cm.yaml": CONFIGMAP.format(name="app", value="v1")},
                      chart_yaml="# the app chart\napiVersion: v2\nname: app\nversion: 0.1.0  # pinned\n")
    (app / ".helmignore").write_text("*.orig\nnotes/\n")
    (app / "notes").mkdir()
    (app / "notes" / "todo.txt").write_text("not packaged\n")
    write_chart(charts, "umbrella", {"cm.yaml": CONFIGMAP.format(name="umbrella", value="u")},
                chart_yaml=UMBRELLA_YAML)
    if vendor == "helm":
        proc = helm().run(["dependency", "update", str(charts / "umbrella")])
        assert proc.returncode == 0, proc.stderr
        assert (charts / "umbrella" / "charts" / "app-0.1.0.tgz").is_file()
    else:  # an unpacked copy, committed by hand
        shutil.copytree(app, charts / "umbrella" / "charts" / "app", ignore=shutil.ignore_patterns("notes"))
    return charts


def dep_results(tmp_path: Path, charts: Path):
    run = run_gate(gate_config(tmp_path, charts, tmp_path / "overlays", cache=tmp_path / "cache"), DEPENDENCIES)
    return {r.chart: r for r in run.gate.results}


@pytest.mark.parametrize("vendor", ["helm", "unpacked"])
def test_a_fresh_copy_passes_though_helm_rewrote_its_chart_yaml(tmp_path, vendor):
    (tmp_path / "overlays").mkdir()
    results = dep_results(tmp_path, repository(tmp_path, vendor=vendor))
    assert results["umbrella"].outcome is Outcome.PASSED, results["umbrella"].findings
    assert results["app"].outcome is Outcome.SKIPPED  # no dependencies


@pytest.mark.parametrize("vendor", ["helm", "unpacked"])
def test_an_edited_source_makes_the_copy_stale(tmp_path, vendor):
    (tmp_path / "overlays").mkdir()
    charts = repository(tmp_path, vendor=vendor)
    (charts / "app" / "templates" / "cm.yaml").write_text(CONFIGMAP.format(name="app", value="v2"))
    (charts / "app" / "templates" / "svc.yaml").write_text(CONFIGMAP.format(name="svc", value="new"))
    (charts / "app" / "scratch.orig").write_text("ignored by .helmignore\n")
    result = dep_results(tmp_path, charts)["umbrella"]
    assert result.outcome is Outcome.FAILED
    [finding] = result.findings
    assert "2 file(s) differ: templates/cm.yaml (changed), templates/svc.yaml (missing from the copy)" \
        in finding.message
    assert f"helm dependency update {charts / 'umbrella'}" in finding.message
    assert finding.template == "umbrella/Chart.yaml" and "app" in finding.path


def test_a_source_outside_the_gated_tree_is_not_read(tmp_path):
    (tmp_path / "overlays").mkdir()
    charts = repository(tmp_path / "elsewhere")  # the source lies outside the chart root gated below
    gated = tmp_path / "gated"
    shutil.copytree(charts / "umbrella", gated / "umbrella")
    (gated / "umbrella" / "Chart.yaml").write_text(UMBRELLA_YAML.replace("file://../app",
                                                                         f"file://{charts / 'app'}"))
    result = dep_results(tmp_path, gated)["umbrella"]
    assert result.outcome is Outcome.SKIPPED and "inside the gated chart roots" in result.message
