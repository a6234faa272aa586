"""A run that judged only part of the whole gate (every policy module of the pack on every discovered
chart) says so: its verdict is `partial` - never `passed` - with what was selected and what was not
in every report and the terminal, and its exit status is not green's. `--co` says it only collected.
Each test drives the real plugin (pytester) over a chart rendered by the real Helm."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import chartgate.report  # noqa: F401  (imported once: in-process pytester runs drop what they import)
import chartgate.report.terminal  # noqa: F401

from .helpers import plugin_repo, write_chart

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: v\n"
NOT_WHOLE = 2  # the exit status of a partial or incomplete run that saw nothing blocking


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch) -> Path:
    root = plugin_repo(pytester, monkeypatch)  # policies/ (GOLD-001, RENDER-001), charts/tiny, .tools
    pytester.runpytest("policies", *OPTIONS, "--update-golden")  # goldens in place: a full run is green
    return root


OPTIONS = ("--chart-root", "charts", "--overlay-root", "overlays", "--cache-dir", "cache",
           "--helm-version", "4.1.4", "-p", "no:cacheprovider", "-p", "no:randomly")


def run(pytester: pytest.Pytester, *args: str, target: str = "policies") -> pytest.RunResult:
    return pytester.runpytest(target, *OPTIONS, *args)


def reports(repo: Path) -> tuple[dict, str, str]:
    out = repo / "reports"
    return (json.loads((out / "chartgate.json").read_text()), (out / "chartgate.md").read_text(),
            (out / "chartgate.html").read_text())


def test_the_whole_gate_is_green_and_not_partial(pytester, repo):
    result = run(pytester)
    assert result.ret == pytest.ExitCode.OK
    data, markdown, _ = reports(repo)
    assert data["summary"]["gate"] == "passed" and data["summary"]["partial"] is None
    assert "Partial" not in markdown


def test_a_k_expression_that_deselects_some_checks_is_partial_in_every_report(pytester, repo):
    result = run(pytester, "-k", "GOLD-001")
    assert result.ret == NOT_WHOLE
    data, markdown, html = reports(repo)
    summary = data["summary"]
    assert summary["gate"] == "partial" and summary["incomplete"] is None
    partial = summary["partial"]
    assert partial["checks"] == {"collected": 4, "selected": 2, "deselected": 2}
    assert sorted(Path(n).name for n in partial["deselected"]) == [
        "render.py::RENDER-001[tiny:capabilities]", "render.py::RENDER-001[tiny:default]"]
    assert "2 of 4 checks deselected" in partial["reason"]
    assert "| Partial |" in markdown and "2 of 4 checks deselected" in markdown
    assert "gate-partial" in html and "2 of 4 checks deselected" in html
    result.stdout.fnmatch_lines(["*partial: 2 of 4 checks deselected*", "*gate: PARTIAL*"])
    assert "gate: green" not in result.stdout.str()


def test_deselect_and_node_ids_are_partial_too(pytester, repo):
    result = run(pytester, "--deselect", "policies/render.py::RENDER-001[tiny:default]")
    assert result.ret == NOT_WHOLE
    assert reports(repo)[0]["summary"]["partial"]["checks"]["deselected"] == 1

    result = run(pytester, target="policies/golden.py::GOLD-001[tiny:default]")
    assert result.ret == NOT_WHOLE
    partial = reports(repo)[0]["summary"]["partial"]
    assert partial["checks"] == {"collected": 2, "selected": 1, "deselected": 1}
    assert partial["policy_modules"]["not_run"] == ["policies/render.py"]


def test_running_some_modules_of_the_pack_is_partial(pytester, repo):
    result = run(pytester, target="policies/golden.py")
    assert result.ret == NOT_WHOLE
    data = reports(repo)[0]
    assert data["summary"]["gate"] == "partial"
    assert data["summary"]["partial"]["policy_modules"] == {"run": ["policies/golden.py"],
                                                            "not_run": ["policies/render.py"]}
    result.stdout.fnmatch_lines(["*1 policy module(s) of the pack not run: policies/render.py*"])


def test_a_partial_run_with_a_blocking_finding_is_failed_and_still_says_partial(pytester, repo):
    (repo / "charts" / "tiny" / "templates" / "extra.yaml").write_text(CONFIGMAP.format(name="extra"))
    result = run(pytester, "-k", "GOLD-001 and default")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    summary = reports(repo)[0]["summary"]
    assert summary["gate"] == "failed" and summary["partial"]["checks"]["selected"] == 1


def test_changed_since_is_partial_naming_the_charts_left_out(pytester, repo):
    write_chart(repo / "charts", "other", {"cm.yaml": CONFIGMAP.format(name="other")})
    run(pytester, "--update-golden")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "base"],
                   cwd=repo, check=True)
    (repo / "charts" / "tiny" / "values.yaml").write_text("changed: true\n")
    result = run(pytester, "--changed-since", "HEAD")
    assert result.ret == NOT_WHOLE
    summary = reports(repo)[0]["summary"]
    assert summary["gate"] == "partial"
    assert summary["partial"]["charts"] == {"discovered": 2, "left_out": ["other"]}
    assert summary["partial"]["changed_since"] == "HEAD"


def test_collect_only_says_it_collected_only_and_is_never_green(pytester, repo):
    result = run(pytester, "--co")
    assert result.ret == NOT_WHOLE
    summary = reports(repo)[0]["summary"]
    assert summary["gate"] == "incomplete"
    assert summary["incomplete"].startswith("collected only (--collect-only/--co): 4 checks collected")
    assert "stopped early" not in summary["incomplete"]


def test_a_k_expression_that_selects_nothing_is_incomplete_with_the_same_exit_status(pytester, repo):
    result = run(pytester, "-k", "no-such-policy")
    assert result.ret == NOT_WHOLE
    assert reports(repo)[0]["summary"]["gate"] == "incomplete"


def test_a_partial_run_does_not_record_timings(pytester, repo):
    run(pytester, "-k", "GOLD-001", "--record-timings", "--timings-file", "timings.json")
    assert not (repo / "timings.json").exists()  # a part's seconds would unbalance the next --shard
    run(pytester, "--record-timings", "--timings-file", "timings.json")
    assert (repo / "timings.json").is_file()
