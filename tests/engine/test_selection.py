"""--shard splits charts deterministically with no overlap; --changed-since picks changed charts and
their dependents."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chartgate.discover.charts import discover
from chartgate.core.errors import InvalidConfig
from chartgate.discover.selection import _affects, changed_charts, changed_files, _chart_paths, _needs, parse_shard, shard

from ..conftest import CHARTS


def test_shards_partition_the_charts():
    names = [f"chart-{i:02d}" for i in range(53)]
    shards = [shard(names, i, 4) for i in range(1, 5)]
    assert set().union(*shards) == set(names)
    assert sum(len(s) for s in shards) == len(names)  # no chart in two shards
    assert shards == [shard(list(reversed(names)), i, 4) for i in range(1, 5)]  # order-independent


@pytest.mark.parametrize("text", ["0/3", "4/3", "a/b", "1"])
def test_bad_shard_is_a_clear_error(text):
    with pytest.raises(InvalidConfig, match="--shard"):
        parse_shard(text)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


def test_changed_since_selects_changed_charts_and_their_dependents(tmp_path):
    import shutil
    shutil.copytree(CHARTS, tmp_path / "charts")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    charts = {c.name: c for c in discover([tmp_path / "charts"])}
    assert changed_charts(charts, changed_files(tmp_path, "HEAD")) == set()

    hpa = tmp_path / "charts" / "bp-knative" / "templates" / "hpa.yaml"
    hpa.write_text(hpa.read_text() + "\n")
    # bp-kserve declares `- blueprint: bp-knative` in blueprint.yaml `depends`, so it is re-checked too.
    assert changed_charts(charts, changed_files(tmp_path, "HEAD")) == {"bp-knative", "bp-kserve"}


def test_changed_since_follows_chart_yaml_dependencies_and_the_blueprint_folder(tmp_path):
    import shutil
    shutil.copytree(CHARTS, tmp_path / "charts")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    charts = {c.name: c for c in discover([tmp_path / "charts"])}
    # bp-app-essentials vendors bp-memcached (Chart.yaml dependencies): a change to bp-memcached selects it.
    values = tmp_path / "charts" / "bp-memcached" / "values.yaml"
    values.write_text(values.read_text() + "\n")
    assert changed_charts(charts, changed_files(tmp_path, "HEAD")) == {"bp-memcached", "bp-app-essentials"}
    # A file of the Blueprint folder outside chart/ (platform/<name>/README.md) belongs to the Blueprint.
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "values")
    (tmp_path / "charts" / "bp-reloader" / "README.md").write_text("# Reloader\n")
    assert changed_charts(charts, changed_files(tmp_path, "HEAD")) == {"bp-reloader", "bp-app-essentials"}


def chart_with(tmp_path: Path, name: str, blueprint: str, deps: str = "") -> Path:
    chart = tmp_path / name / "chart"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n{deps}")
    (tmp_path / name / "blueprint.yaml").write_text(blueprint)
    return chart


def test_mapping_form_depends_with_alias_select_dependents_without_crashing(tmp_path):
    chart_with(tmp_path, "bp-postgres", "kind: Blueprint\nmetadata: {name: bp-postgres}\n")
    chart_with(tmp_path, "bp-app", "kind: Blueprint\nspec:\n  depends:\n"
                                    "    - {blueprint: bp-postgres, version: '^2', alias: db, values: {x: 1}}\n")
    chart_with(tmp_path, "bp-top", "kind: Blueprint\nspec:\n  depends: [bp-app]\n")  # the plain-name form
    charts = {c.name: c for c in discover([tmp_path])}
    assert _needs(charts["bp-app"]) == {"bp-postgres"}
    changed = {(tmp_path / "bp-postgres" / "chart" / "Chart.yaml").resolve()}
    assert changed_charts(charts, changed) == {"bp-postgres", "bp-app", "bp-top"}  # transitively


def test_files_that_affect_a_chart(tmp_path):
    chart_dir = chart_with(tmp_path, "bp-x", "kind: Blueprint\n")
    [chart] = discover([tmp_path])
    assert _chart_paths(chart) == [chart_dir.resolve(), (tmp_path / "bp-x").resolve()]
    assert _affects(chart, (tmp_path / "bp-x" / "blueprint.yaml").resolve())
    assert _affects(chart, (chart_dir / "charts" / "up-1.0.0.tgz").resolve())
    assert not _affects(chart, (tmp_path / "bp-y" / "values.yaml").resolve())


def test_a_blueprint_is_known_by_its_metadata_name_too(tmp_path):
    chart_with(tmp_path, "postgres-umbrella", "kind: Blueprint\nmetadata: {name: bp-postgres}\n")
    chart_with(tmp_path, "bp-app", "kind: Blueprint\nspec:\n  depends: [{blueprint: bp-postgres}]\n")
    charts = {c.name: c for c in discover([tmp_path])}
    changed = {(tmp_path / "postgres-umbrella" / "blueprint.yaml").resolve()}
    assert changed_charts(charts, changed) == {"postgres-umbrella", "bp-app"}


def test_changed_since_unknown_revision_is_a_clear_error(tmp_path):
    _git(tmp_path, "init", "-q")
    with pytest.raises(InvalidConfig, match="--changed-since no-such-rev"):
        changed_files(tmp_path, "no-such-rev")


def test_shards_balance_on_recorded_costs_and_still_partition_the_charts():
    from chartgate.discover.selection import assignment
    names = [f"chart-{i:02d}" for i in range(20)]
    costs = {name: 1.0 for name in names} | {"chart-00": 30.0, "chart-01": 29.0}  # two giants
    placed = assignment(names, 2, costs)
    load = {i: sum(costs[n] for n, where in placed.items() if where == i) for i in (1, 2)}
    assert set(placed) == set(names) and set(placed.values()) == {1, 2}
    assert placed["chart-00"] != placed["chart-01"]  # the giants are split
    assert abs(load[1] - load[2]) <= 1.0  # round-robin by name would put both giants in shard 1
    round_robin = assignment(names, 2)
    assert round_robin["chart-00"] == round_robin["chart-02"] == 1
    # A chart without a recorded cost counts as the median of the known ones, deterministically.
    with_new = assignment(names + ["chart-new"], 2, costs)
    assert with_new == assignment(list(reversed(names + ["chart-new"])), 2, costs)


def test_recorded_timings_round_trip(tmp_path):
    from chartgate.core.timings import load_chart_costs, write_chart_costs
    path = tmp_path / "chartgate-timings.json"
    assert load_chart_costs(path) == {}
    write_chart_costs(path, {"a": 1.234, "b": 2.0})
    write_chart_costs(path, {"b": 3.0})  # merged: a run over some charts keeps the others' costs
    assert load_chart_costs(path) == {"a": 1.23, "b": 3.0}


def _repo_with_two_charts(tmp_path: Path) -> Path:
    for name in ("alpha", "beta"):
        chart = tmp_path / "charts" / name
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
        (chart / "values.yaml").write_text("{}\n")
        (tmp_path / "overlays" / name).mkdir(parents=True)
        (tmp_path / "overlays" / name / "base.yaml").write_text("x: 1\n")
    (tmp_path / "clusters").mkdir()
    (tmp_path / "clusters" / "beta.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: beta, namespace: beta}\n"
        "spec:\n  chart: {spec: {chart: beta}}\n  values: {x: 2}\n")
    (tmp_path / "platform.yaml").write_text("ingressClass: cilium\n")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.py").write_text("# a policy module\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=tmp_path, check=True)
    return tmp_path


@pytest.mark.parametrize("changed, selected", [
    ("overlays/alpha/base.yaml", {"alpha"}),           # a cluster overlay affects its chart
    ("clusters/beta.yaml", {"beta"}),                  # a HelmRelease affects the chart it installs
    ("platform.yaml", {"alpha", "beta"}),              # platform facts affect every chart
    ("policies/p.py", {"alpha", "beta"}),              # so does a policy change
    ("charts/beta/values.yaml", {"beta"}),
])
def test_changed_since_maps_every_input_to_the_charts_it_affects(tmp_path, changed, selected):
    from chartgate.engine.gate import Gate, GateConfig
    root = _repo_with_two_charts(tmp_path)
    path = root / changed
    path.write_text(path.read_text() + "# changed\n")
    gate = Gate(GateConfig(chart_roots=(root / "charts",), overlay_roots=(root / "overlays",),
                           release_globs=(str(root / "clusters" / "*.yaml"),), platform_file=root / "platform.yaml",
                           changed_since="HEAD", cache_dir=None))
    assert gate.selected == selected
