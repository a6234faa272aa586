"""Bad input never reaches the user as a traceback: each case is an `error` result for the chart it
belongs to, or a usage error naming the file and line, and a broken render cache is bypassed.

Cases: impossible YAML timestamps (`2024-02-30`) in values, blueprint.yaml and waivers; waiver expiries
written as date-times; bytes that are not UTF-8 in Chart.yaml, values, blueprint.yaml, HelmRelease and
waiver files; a cache directory that is a file or cannot be written; cache entries of the wrong shape.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import pytest

from chartgate.core import yamlio
from chartgate.discover.charts import BrokenChart, discover, _load_chart_dir
from chartgate.core.errors import InvalidWaiver, InvalidYaml
from chartgate.check.definition import Outcome
from chartgate.plan.releases import release_scenarios
from chartgate.render.renderer import Renderer
from chartgate.plan.scenarios import Scenario, ScenarioKind
from chartgate.check.waivers import load_waivers

from .helpers import CONFIGMAP, helm, no_crash, plugin_repo, run_plugin, run_small_gate, write_chart

DEFAULT = Scenario("default", ScenarioKind.DEFAULT)
LATIN1 = "caf\xe9".encode("latin-1")  # b"caf\xe9": valid Latin-1, not UTF-8

WAIVER = """waivers:
  - policy: GOLD-001
    chart: tiny
    reason: the golden file is regenerated weekly
    owner: platform-team
    expires: {expires}
"""


def only_broken(root: Path) -> BrokenChart:
    [result] = discover([root])
    assert isinstance(result, BrokenChart), f"expected a broken chart, got {result!r}"
    return result


# -- impossible timestamps --------------------------------------------------------------------------

@pytest.mark.parametrize("rel, text, line", [
    ("values.yaml", "image:\n  tag: v1\nreleaseDate: 2024-02-30\n", 3),
    ("blueprint.yaml", "apiVersion: v1\nkind: Blueprint\nmetadata:\n  name: tiny\n  created: 2023-13-01\n", 5),
    ("Chart.yaml", "apiVersion: v2\nname: tiny\nversion: 0.1.0\nannotations:\n  released: 2024-02-30\n", 5),
])
def test_an_impossible_date_in_a_chart_file_is_a_broken_chart_naming_file_and_line(tmp_path, rel, text, line):
    chart = write_chart(tmp_path, "tiny", files={rel: text})
    error = only_broken(tmp_path).error
    message = str(error)
    assert isinstance(error, InvalidYaml) and message.startswith(f"{chart}/{rel}:{line}: ")
    assert "not a valid one" in message and "quote it" in message


def test_an_impossible_date_in_values_is_an_error_result_and_every_policy_says_why(tmp_path):
    root = tmp_path / "charts"
    write_chart(root, "dated", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")}, values="when: 2024-02-30\n")
    gate, summary = run_small_gate(tmp_path, root)
    results = [r for r in gate.results if r.chart == "dated"]
    assert results and all("values.yaml:1:" in r.message and r.cause == "chart-failed" for r in results)
    # one cause, one finding: the render check's error; every other check skipped with that cause
    assert [r.policy.id for r in results if r.outcome is Outcome.ERROR] == ["RENDER-001"]
    assert all(r.outcome is Outcome.SKIPPED for r in results if r.policy.id != "RENDER-001")
    assert summary.red


def test_ordinary_dates_still_load():
    assert yamlio.load_text("a: 2024-02-29\nb: '2024-02-30'\n", "x.yaml") == {"a": dt.date(2024, 2, 29),
                                                                          "b": "2024-02-30"}


@pytest.mark.parametrize("expires, line, says", [
    ("2024-02-30", 6, "not a valid one"),
    ("2027-01-01T00:00:00Z", 2, "not a date and time"),
    ("2027-01-01 12:00:00", 2, "write `expires: 2027-01-01`"),
])
def test_waiver_expiries_that_are_not_dates_name_the_file_and_line(tmp_path, expires, line, says):
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVER.format(expires=expires))
    with pytest.raises(InvalidWaiver) as excinfo:
        load_waivers(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}:{line}: ") and says in message, message


def test_a_datetime_waiver_expiry_is_a_usage_error_through_the_plugin(pytester, monkeypatch):
    root = plugin_repo(pytester, monkeypatch)
    (root / "waivers.yaml").write_text(WAIVER.format(expires="2027-01-01T00:00:00Z"))
    result = run_plugin(pytester, "--waivers", "waivers.yaml", "--cache-dir", "cache")
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "waivers.yaml:2: waivers[0].expires must be a date like 2027-03-31, not a date and time" in output


# -- bytes that are not UTF-8 -------------------------------------------------------------------------

@pytest.mark.parametrize("rel, prefix", [
    ("values.yaml", b"replicas: 1\nowner: "),
    ("Chart.yaml", b"apiVersion: v2\nname: tiny\nversion: 0.1.0\ndescription: "),
    ("blueprint.yaml", b"apiVersion: v1\nkind: Blueprint\nmetadata:\n  name: "),
])
def test_a_chart_file_that_is_not_utf8_is_a_broken_chart_naming_file_and_line(tmp_path, rel, prefix):
    chart = write_chart(tmp_path, "tiny", files={rel: prefix + LATIN1 + b"\n"})
    message = str(only_broken(tmp_path).error)
    line = prefix.count(b"\n") + 1
    assert message.startswith(f"{chart}/{rel}:{line}") and "UTF-8" in message, message


def test_a_helmrelease_file_that_is_not_utf8_names_file_and_line(tmp_path):
    chart = _load_chart_dir(write_chart(tmp_path / "charts", "tiny"))
    path = tmp_path / "hr.yaml"
    path.write_bytes(b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: " + LATIN1 + b"\n")
    with pytest.raises(InvalidYaml, match=rf"^{path}:4: not UTF-8 text: byte 0xe9 at column 12"):
        release_scenarios(chart, [path])


def test_a_waivers_file_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_bytes(WAIVER.format(expires="2027-01-01").encode().replace(b"platform-team", LATIN1))
    with pytest.raises(InvalidWaiver, match=rf"^{path}:5: not UTF-8 text"):
        load_waivers(path)


def test_a_helmrelease_that_is_not_utf8_is_a_usage_error_through_the_plugin(pytester, monkeypatch):
    root = plugin_repo(pytester, monkeypatch)
    (root / "clusters").mkdir()
    (root / "clusters" / "tiny.yaml").write_bytes(
        b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: tiny\n"
        b"spec:\n  chart: {spec: {chart: tiny}}\n  values:\n    owner: " + LATIN1 + b"\n")
    result = run_plugin(pytester, "--release-overlay", "clusters/*.yaml", "--cache-dir", "cache")
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "clusters/tiny.yaml:8: not UTF-8 text" in output


def test_a_hostile_release_name_is_a_usage_error_through_the_plugin(pytester, monkeypatch):
    root = plugin_repo(pytester, monkeypatch)
    (root / "clusters").mkdir()
    (root / "clusters" / "tiny.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: tiny\n"
        "spec:\n  releaseName: --post-renderer=./x.sh\n  chart: {spec: {chart: tiny}}\n")
    result = run_plugin(pytester, "--release-overlay", "clusters/*.yaml", "--cache-dir", "cache")
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "clusters/tiny.yaml:6: HelmRelease tiny: spec.releaseName '--post-renderer=./x.sh'" in output


def test_an_overlay_values_file_that_is_not_utf8_never_crashes_the_run(pytester, monkeypatch):
    root = plugin_repo(pytester, monkeypatch)
    (root / "overlays" / "tiny").mkdir()
    (root / "overlays" / "tiny" / "eu-values.yaml").write_bytes(b"owner: " + LATIN1 + b"\n")
    result = run_plugin(pytester, "--cache-dir", "cache", "--update-golden")
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the scenario's RENDER-001 fails, naming the file
    assert "RENDER-001[tiny:overlay.eu]" in output and "overlays/tiny/eu-values.yaml" in output
    assert "UTF-8" in output


# -- the render cache -----------------------------------------------------------------------------------

def test_a_cache_dir_that_is_a_file_is_bypassed_with_one_warning(pytester, monkeypatch):
    root = plugin_repo(pytester, monkeypatch)
    (root / "cache").write_text("not a directory\n")
    result = run_plugin(pytester, "--cache-dir", "cache", "--update-golden")
    output = no_crash(result)
    assert result.ret == pytest.ExitCode.OK, output[-3000:]
    assert output.count("RenderCacheWarning: render cache") == 1, output[-3000:]
    assert "cannot be written" in output and "--no-render-cache" in output
    assert (root / "cache").read_text() == "not a directory\n"


@pytest.mark.parametrize("make_cache", ["file", "below-a-file"])
def test_an_unusable_cache_never_fails_a_render(tmp_path, make_cache):
    chart = _load_chart_dir(write_chart(tmp_path, "c", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")}))
    (tmp_path / "blocker").write_text("x")
    cache = tmp_path / "blocker" if make_cache == "file" else tmp_path / "blocker" / "cache"
    renderer = Renderer(helm(), cache, workers=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = renderer.render(chart, DEFAULT)
        second = renderer.render(chart, Scenario("other", ScenarioKind.CI, set_values=(("x", 1),)))
    assert first.ok and second.ok and renderer.cache_dir is None
    assert len([w for w in caught if "render cache" in str(w.message)]) <= 1


@pytest.mark.parametrize("shape", [
    [], "a string", {"stdout": 3}, {"error": {}}, {"error": {"reason": "chart-fail"}},
    {"stdout": "", "warnings": "not a list"}, {"stdout": "", "seconds": "slow"},
    {"stdout": "", "documents": [["only-one"]]}, {"stdout": "", "documents": [["src", ["not", "a", "map"]]]},
    {"stdout": "", "documents": [["src", {"kind": "ConfigMap"}]]}, {"stdout": "", "documents": "x"},
])
def test_a_cache_entry_of_the_wrong_shape_is_rendered_again(tmp_path, shape):
    chart = _load_chart_dir(write_chart(tmp_path, "c", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")}))
    cache = tmp_path / "cache"
    Renderer(helm(), cache, workers=1).render(chart, DEFAULT)
    [entry] = (cache / "renders").rglob("*.json")
    entry.write_text(json.dumps(shape))

    renderer = Renderer(helm(), cache, workers=1)
    render = renderer.render(chart, DEFAULT)
    assert render.ok and not render.cached and [m.name for m in render.manifests] == ["cm"]
    assert renderer.stats["renders"] == 1
    assert "documents" in json.loads(entry.read_text())  # rewritten with a good entry


def test_a_helmrelease_value_that_yaml_reads_as_a_date_is_passed_on_as_a_string(tmp_path):
    """Flux (and the API server) hand such a value to Helm as a string; turning it into --set-json
    must not crash on a Python date."""
    chart = _load_chart_dir(write_chart(tmp_path / "charts", "tiny", {"cm.yaml": CONFIGMAP.format(
        name="cm", value="{{ .Values.releaseDate | quote }}")}))
    path = tmp_path / "hr.yaml"
    path.write_text("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: tiny\n"
                    "spec:\n  chart: {spec: {chart: tiny}}\n  values:\n    releaseDate: 2024-02-29\n")
    [scenario] = release_scenarios(chart, [path])
    render = Renderer(helm(), None, workers=1).render(chart, scenario)
    assert render.ok, render.error
    assert render.manifests[0].body["data"]["key"] == "2024-02-29"
