"""Flux HelmReleases in a cluster overlay tree become scenarios with their values, name and namespace."""

from __future__ import annotations

import pytest

from chartgate.discover.charts import _load_chart_dir
from chartgate.core.errors import InvalidConfig
from chartgate.plan.releases import release_scenarios
from chartgate.plan.scenarios import ScenarioKind

from ..conftest import CHARTS, REPO


def test_fixture_cluster_release_becomes_a_scenario():
    chart = _load_chart_dir(CHARTS / "bp-knative")
    files = sorted((REPO / "fixtures" / "clusters").glob("**/*.yaml"))
    [scenario] = release_scenarios(chart, files, ("monitoring.coreos.com/v1",))
    assert scenario.kind is ScenarioKind.RELEASE
    assert scenario.name == "release.sovereign-eu.bp-knative"
    assert (scenario.release, scenario.namespace) == ("knative", "knative-operator")
    assert dict(scenario.set_values)["knativeOverlay"]["knativeServing"]["sovereignFqdn"] == "eu.sovereign.example.test"
    assert scenario.api_versions == ("monitoring.coreos.com/v1",)


def test_release_for_another_chart_is_ignored(tmp_path):
    chart = _load_chart_dir(CHARTS / "bp-kserve")
    files = sorted((REPO / "fixtures" / "clusters").glob("**/*.yaml"))
    assert release_scenarios(chart, files) == []


def test_values_from_is_refused_not_ignored(tmp_path):
    path = tmp_path / "hr.yaml"
    path.write_text("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\n"
                    "spec:\n  chart: {spec: {chart: bp-kserve}}\n  valuesFrom: [{kind: ConfigMap, name: v}]\n")
    with pytest.raises(InvalidConfig, match="valuesFrom"):
        release_scenarios(_load_chart_dir(CHARTS / "bp-kserve"), [path])
