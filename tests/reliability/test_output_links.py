"""The golden and report directories are chartgate's own: nothing is written or deleted through a
link out of them (or out of their repository), and `--update-golden` deletes only orphans that
chartgate wrote. Each test drives the real plugin (pytester) over a chart rendered by the real Helm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import chartgate.report  # noqa: F401  (imported once: in-process pytester runs drop what they import)
import chartgate.report.terminal  # noqa: F401
from chartgate.compare.golden import _HEADER

from .helpers import plugin_repo

OPTIONS = ("--chart-root", "charts", "--overlay-root", "overlays", "--cache-dir", "cache",
           "--helm-version", "4.1.4", "-p", "no:cacheprovider", "-p", "no:randomly")
FOREIGN = "# someone's notes, never written by chartgate\nkinds: {}\n"


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch) -> Path:
    return plugin_repo(pytester, monkeypatch)  # policies/ (GOLD-001, RENDER-001), charts/tiny, .tools


@pytest.fixture
def outside(tmp_path_factory) -> Path:
    """A directory elsewhere, holding files chartgate never wrote."""
    place = tmp_path_factory.mktemp("elsewhere")
    (place / "notes.yaml").write_text(FOREIGN)
    (place / "default.yaml").write_text(FOREIGN)
    return place


def contents(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("policies", *OPTIONS, *args)


def test_a_chart_golden_directory_linking_elsewhere_is_refused_and_nothing_there_is_touched(
        pytester, repo, outside):
    before = contents(outside)
    (repo / "golden").mkdir()
    (repo / "golden" / "tiny").symlink_to(outside, target_is_directory=True)
    result = run(pytester, "--update-golden")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert contents(outside) == before  # nothing written there, nothing deleted as an orphan
    data = json.loads((repo / "reports" / "chartgate.json").read_text())
    golden = [r for r in data["results"] if r["policy"] == "GOLD-001"]
    assert golden and all(r["outcome"] == "error" for r in golden)
    assert all(f"golden/tiny -> {outside}" in r["message"] for r in golden), golden[0]["message"]
    assert data["golden"]["removed"] == [] and data["summary"]["gate"] == "failed"


def test_a_golden_directory_linking_out_of_the_repository_is_a_usage_error(pytester, repo, outside):
    before = contents(outside)
    (repo / "golden").symlink_to(outside, target_is_directory=True)
    result = run(pytester, "--update-golden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"golden directory {repo / 'golden'} leads out of {repo}" in result.stderr.str()
    assert f"{repo / 'golden'} -> {outside}" in result.stderr.str()
    assert contents(outside) == before


def test_a_report_directory_linking_out_of_the_repository_is_a_usage_error(pytester, repo, outside):
    before = contents(outside)
    (repo / "reports").symlink_to(outside, target_is_directory=True)
    result = run(pytester, "--update-golden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"report directory {repo / 'reports'} leads out of {repo}" in result.stderr.str()
    assert contents(outside) == before  # no report written there


def test_update_golden_deletes_only_orphans_chartgate_wrote(pytester, repo):
    assert run(pytester, "--update-golden").ret == pytest.ExitCode.OK
    chart_dir = repo / "golden" / "tiny"
    ours = chart_dir / "gone.yaml"  # what chartgate wrote for a scenario that no longer exists
    ours.write_text(_HEADER + "chart: tiny\nkinds:\n  ConfigMap:\n    v1: 1\nscenario: gone\n")
    foreign = chart_dir / "notes.yaml"
    foreign.write_text(FOREIGN)
    copied = chart_dir / "copied.yaml"  # chartgate's header, but written for another place
    copied.write_text(_HEADER + "chart: tiny\nkinds: {}\nscenario: default\n")

    result = run(pytester, "--update-golden")
    assert not ours.exists()
    assert foreign.read_text() == FOREIGN and copied.exists()
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the files chartgate did not write stay orphans
    result.stdout.fnmatch_lines([f"*orphaned golden file removed: {ours}*", "*2 orphaned golden file(s)*",
                                 "*Not deleted: chartgate did not write them*"])


def test_a_removed_charts_golden_directory_linking_elsewhere_is_never_an_orphan(tmp_path, outside):
    """The full-run path: a golden/<chart> of a chart that no longer exists, linked elsewhere, whose
    files look like chartgate's and name a chart under this run's roots, is neither listed nor deleted."""
    from chartgate.compare.golden import GoldenStore
    charts = tmp_path / "charts"
    charts.mkdir()
    (outside / "default.yaml").write_text(_HEADER + "chart: gone\nchart_path: ../charts/gone\nkinds: {}\n"
                                          "scenario: default\n")
    before = contents(outside)
    (tmp_path / "golden").mkdir()
    (tmp_path / "golden" / "gone").symlink_to(outside, target_is_directory=True)
    store = GoldenStore(tmp_path / "golden", update=True)
    assert store.orphans({}, set(), full_run=True, chart_roots=(charts,)) == []
    assert store.remove([tmp_path / "golden" / "gone" / "default.yaml"]) == []
    assert contents(outside) == before
