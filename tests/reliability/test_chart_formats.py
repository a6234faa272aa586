"""apiVersion v1 charts (Helm 2's format, still rendered by Helm 3 and 4) declare their dependencies
in requirements.yaml; chartgate reads them there, as Helm does, so their subcharts, conditions and
default values are seen."""

from __future__ import annotations

import pytest

from chartgate.discover.charts import BrokenChart, Chart, discover, _load_chart_dir
from chartgate.render.helm import TemplateRequest

from .helpers import CONFIGMAP, HELM_VERSIONS, helm, write_chart

REQUIREMENTS = """dependencies:
  - name: sub
    version: 1.0.0
    repository: https://charts.example.test
    condition: worker.enabled
    alias: worker
"""


def v1_chart(tmp_path, requirements: str = REQUIREMENTS, api_version: str = "v1"):
    chart = write_chart(tmp_path, "legacy", values="worker:\n  enabled: false\n",
                        chart_yaml=f"apiVersion: {api_version}\nname: legacy\nversion: 0.1.0\n",
                        files={"requirements.yaml": requirements,
                               "charts/sub/Chart.yaml": "apiVersion: v1\nname: sub\nversion: 1.0.0\n",
                               "charts/sub/values.yaml": "replicas: 2\nenabled: true\n",
                               "charts/sub/templates/cm.yaml": CONFIGMAP.format(name="sub", value="v")})
    return chart


def test_dependencies_of_a_v1_chart_come_from_requirements_yaml(tmp_path):
    chart = _load_chart_dir(v1_chart(tmp_path))
    [dep] = chart.dependencies
    assert (dep.name, dep.version, dep.alias, dep.condition) == ("sub", "1.0.0", "worker", "worker.enabled")
    assert chart.dependencies_file == "requirements.yaml"
    assert list(chart.subcharts) == ["worker"] and chart.subcharts["worker"].name == "sub"
    assert chart.effective_values["worker"] == {"replicas": 2, "enabled": False}
    assert "legacy/charts/sub/templates/cm.yaml" in chart.all_templates()


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_helm_reads_requirements_yaml_the_same_way(version, tmp_path):
    chart = v1_chart(tmp_path / version)
    off = helm(version).template(TemplateRequest(chart), chart="legacy", scenario="default").stdout
    on = helm(version).template(TemplateRequest(chart, set_values=(("worker.enabled", True),)),
                                chart="legacy", scenario="on").stdout
    assert "name: sub" not in off and "name: sub" in on  # the condition from requirements.yaml applies


def test_a_v2_chart_ignores_requirements_yaml_like_helm(tmp_path):
    chart = _load_chart_dir(v1_chart(tmp_path, api_version="v2"))
    assert chart.dependencies == [] and chart.dependencies_file == "Chart.yaml"


def test_a_dependency_missing_from_charts_names_requirements_yaml(tmp_path):
    path = v1_chart(tmp_path, REQUIREMENTS.replace("name: sub", "name: other"))
    [broken] = discover([tmp_path])
    assert isinstance(broken, BrokenChart)
    assert str(broken.error).startswith(f"{path}/requirements.yaml: dependency `other`")


@pytest.mark.parametrize("text, says", [
    ("dependencies: {name: sub}\n", "`dependencies` must be a list, got dict"),
    ("dependencies:\n  - version: 1.0.0\n", "dependencies[0] needs at least a `name`"),
    ("- sub\n", "requirements.yaml must be a YAML mapping"),
])
def test_a_malformed_requirements_yaml_is_a_broken_chart(tmp_path, text, says):
    path = v1_chart(tmp_path, text)
    [broken] = discover([tmp_path])
    assert isinstance(broken, BrokenChart) and f"{path}/requirements.yaml" in str(broken.error)
    assert says in str(broken.error)


def test_a_v1_chart_without_requirements_yaml_loads(tmp_path):
    write_chart(tmp_path, "plain", chart_yaml="apiVersion: v1\nname: plain\nversion: 0.1.0\n")
    [chart] = discover([tmp_path])
    assert isinstance(chart, Chart) and chart.dependencies == []
