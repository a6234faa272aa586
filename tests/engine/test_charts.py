"""Loading charts from disk: bad input becomes a BrokenChart whose error names the file and line and
says what to do; it is never dropped."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from chartgate.discover.charts import BrokenChart, Chart, discover, _load_chart_dir
from chartgate.core.errors import InvalidChart, InvalidYaml
from chartgate.core.yamlio import _MAX_ALIAS_EXPANSION, load_text

GOOD_CHART_YAML = "apiVersion: v2\nname: tiny\nversion: 0.1.0\n"

# "Billion laughs": 9 levels of 9 aliases, 72 aliases in all, standing for 9**9 strings.
ALIAS_BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi"))


def write_chart(root: Path, files: dict[str, str], name: str = "tiny") -> Path:
    chart = root / name
    for rel, text in {"Chart.yaml": GOOD_CHART_YAML, "values.yaml": "{}\n", **files}.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    return chart


def only_broken(root: Path) -> BrokenChart:
    [result] = discover([root])
    assert isinstance(result, BrokenChart), f"expected a broken chart, got {result!r}"
    return result


def test_malformed_chart_yaml_names_file_and_line(tmp_path):
    chart = write_chart(tmp_path, {"Chart.yaml": "apiVersion: v2\nname: tiny\nversion: [0.1.0\ndescription: x\n"})
    broken = only_broken(tmp_path)
    assert broken.path == chart and isinstance(broken.error, InvalidYaml)
    message = str(broken.error)
    assert f"{chart}/Chart.yaml:4:" in message  # the line where the parser gave up
    assert "Fix the file at that line" in message
    assert "<unicode string>" not in message  # pyyaml's noise is not passed on


def test_chart_yaml_without_a_version_names_the_key(tmp_path):
    chart = write_chart(tmp_path, {"Chart.yaml": "apiVersion: v2\nname: tiny\n"})
    message = str(only_broken(tmp_path).error)
    assert f"{chart}/Chart.yaml" in message and "missing required key `version`" in message


def test_chart_yaml_that_is_not_a_mapping(tmp_path):
    write_chart(tmp_path, {"Chart.yaml": "- name: tiny\n"})
    assert "Chart.yaml must be a YAML mapping, got list" in str(only_broken(tmp_path).error)


def test_malformed_values_yaml_names_file_and_line(tmp_path):
    chart = write_chart(tmp_path, {"values.yaml": "replicas: 1\nimage:\n  tag: v1\n\tpullPolicy: Always\n"})
    message = str(only_broken(tmp_path).error)
    assert f"{chart}/values.yaml:4:" in message and "Fix the file at that line" in message


def test_malformed_blueprint_yaml_names_file_and_line(tmp_path):
    chart = write_chart(tmp_path, {"blueprint.yaml": "kind: Blueprint\nspec:\n  upstream: {version: 1.2\n"})
    message = str(only_broken(tmp_path).error)
    assert f"{chart}/blueprint.yaml:4:" in message  # end of file: the flow mapping never closed
    assert "Fix the file at that line" in message


def test_blueprint_beside_the_chart_dir_is_read_too(tmp_path):
    """The monorepo layout: platform/<name>/blueprint.yaml next to platform/<name>/chart/."""
    write_chart(tmp_path, {}, name="chart")
    (tmp_path / "blueprint.yaml").write_text("kind: [Blueprint\n")
    assert f"{tmp_path}/blueprint.yaml:2:" in str(only_broken(tmp_path).error)


def test_dependency_that_is_not_vendored_says_to_run_helm_dependency_build(tmp_path):
    chart = write_chart(tmp_path, {"Chart.yaml": GOOD_CHART_YAML + (
        "dependencies:\n  - name: upstream\n    version: 1.2.3\n    repository: https://charts.example.org\n")})
    error = only_broken(tmp_path).error
    assert isinstance(error, InvalidChart)
    message = str(error)
    assert f"{chart}/Chart.yaml" in message and "dependency `upstream` (version 1.2.3)" in message
    assert f"helm dependency build {chart}" in message


def test_a_broken_chart_does_not_hide_its_healthy_neighbours(tmp_path):
    write_chart(tmp_path, {"values.yaml": "a: [\n"}, name="broken")
    write_chart(tmp_path, {}, name="healthy")
    results = discover([tmp_path])
    assert [type(r).__name__ for r in results] == ["BrokenChart", "Chart"]


def test_alias_bomb_in_values_is_refused_quickly_and_cheaply(tmp_path):
    chart = write_chart(tmp_path, {"values.yaml": ALIAS_BOMB})
    tracemalloc.start()
    started = time.perf_counter()
    try:
        broken = only_broken(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2
    assert peak < 20 * 2**20, f"refusing the bomb took {peak / 2**20:.0f} MiB"
    message = str(broken.error)
    assert f"{chart}/values.yaml:" in message
    assert f"more than {_MAX_ALIAS_EXPANSION} nodes" in message and "alias bomb" in message


def test_a_self_referencing_alias_is_refused(tmp_path):
    write_chart(tmp_path, {"values.yaml": "loop: &loop\n  again: *loop\n"})
    assert "recursive YAML alias" in str(only_broken(tmp_path).error)


def test_ordinary_anchors_and_merge_keys_still_load():
    values = load_text("base: &base {cpu: 1, memory: 2Gi}\nweb: {<<: *base, cpu: 2}\nworker: *base\n",
                       "values.yaml")
    assert values["web"] == {"cpu": 2, "memory": "2Gi"} and values["worker"] == values["base"]


def test_an_asterisk_in_a_plain_string_is_not_an_alias():
    assert load_text("schedule: '*/5 * * * *'\nverbs: ['*']\n", "values.yaml")["verbs"] == ["*"]


@pytest.mark.parametrize("bad_name", ["../evil", "a/b", "name with spaces"])
def test_chart_names_with_path_characters_load_under_their_own_name(tmp_path, bad_name):
    """The name is data; where it is used as a path component, golden/report code sanitises it."""
    write_chart(tmp_path, {"Chart.yaml": f"apiVersion: v2\nname: {bad_name!r}\nversion: 0.1.0\n"})
    [chart] = discover([tmp_path])
    assert isinstance(chart, Chart) and chart.name == bad_name


def test_load_chart_dir_raises_the_same_error_discover_reports(tmp_path):
    chart = write_chart(tmp_path, {"values.yaml": "a: b: c\n"})
    with pytest.raises(InvalidYaml, match=r"values\.yaml:1:"):
        _load_chart_dir(chart)
