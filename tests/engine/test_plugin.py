"""The pytest plugin, driven end to end with pytester: options, exit codes and summary lines.

Each test builds a tiny repository (policies/, charts/, a link to the provisioned .tools/) and runs
pytest in-process over it with the engine's own GOLD-001 and RENDER-001 policies.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import _hypothesis_pytestplugin  # noqa: F401
import hypothesis  # noqa: F401
import pytest
import xdist.looponfail  # noqa: F401
import xdist.plugin  # noqa: F401

import chartgate.report  # noqa: F401
import chartgate.report.terminal  # noqa: F401
from chartgate.compare.golden import _HEADER

from ..conftest import REPO

# The imports above are for speed: an in-process pytester run drops every module it imported, so
# without them each run would import hypothesis and the report writers afresh (~10x slower).

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\n"


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch) -> Path:
    monkeypatch.delenv("HELM_BIN", raising=False)  # the provisioned, pinned Helm unless a test says otherwise
    monkeypatch.delenv("CHARTGATE_TOOLS_DIR", raising=False)
    root = pytester.path
    (root / ".tools").symlink_to(REPO / ".tools")
    (root / "policies").mkdir()
    for name in ("golden.py", "render.py"):
        shutil.copy(REPO / "policies" / name, root / "policies" / name)
    (root / "overlays").mkdir()
    add_chart(root, "tiny", {"cm.yaml": CONFIGMAP.format(name="cm")})
    return root


def add_chart(root: Path, name: str, templates: dict[str, str], values: str = "{}\n") -> Path:
    chart = root / "charts" / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    for rel, text in templates.items():
        (chart / "templates" / rel).write_text(text)
    return chart


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("policies", "--chart-root", "charts", "--overlay-root", "overlays",
                              "--cache-dir", "cache", "--helm-version", "4.1.4", "-p", "no:cacheprovider", *args)


def test_chart_root_that_is_not_a_directory_is_a_usage_error(pytester, repo):
    result = run(pytester, "--chart-root", "no-such-dir")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--chart-root must be a directory, given: *no-such-dir*"])


def test_update_golden_writes_and_the_next_run_is_green(pytester, repo):
    first = run(pytester)
    assert first.ret == pytest.ExitCode.TESTS_FAILED
    first.stdout.fnmatch_lines(["*no golden file*create it with --update-golden*"])

    update = run(pytester, "--update-golden")
    assert update.ret == pytest.ExitCode.OK
    update.stdout.fnmatch_lines(["*golden file written: *golden/tiny/default.yaml*", "*gate: green*"])
    assert (repo / "golden" / "tiny" / "capabilities.yaml").is_file()

    again = run(pytester)
    assert again.ret == pytest.ExitCode.OK
    again.assert_outcomes(passed=4)
    again.stdout.fnmatch_lines(["*tiny: 4 passed*", "*report: *chartgate.json*", "*gate: green*"])
    assert "golden file written" not in again.stdout.str()


def test_an_orphan_golden_is_reported_with_the_hint_and_removed_by_update(pytester, repo):
    run(pytester, "--update-golden")
    orphan = repo / "golden" / "tiny" / "removed-scenario.yaml"  # as chartgate wrote it, for a scenario now gone
    orphan.write_text(_HEADER + "chart: tiny\nkinds: {}\nscenario: removed-scenario\n")

    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # every item passed, the gate is still red
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*1 orphaned golden file(s), produced by no scenario:*",
                                 f"*{orphan}*", "*Re-run with --update-golden to delete unused golden files.*",
                                 "*gate: RED*"])

    cleaned = run(pytester, "--update-golden")
    assert cleaned.ret == pytest.ExitCode.OK
    cleaned.stdout.fnmatch_lines([f"*orphaned golden file removed: {orphan}*"])
    assert not orphan.exists() and (repo / "golden" / "tiny" / "default.yaml").exists()


def test_a_partial_run_reports_no_false_orphans(pytester, repo):
    add_chart(repo, "other", {"cm.yaml": CONFIGMAP.format(name="other")})
    run(pytester, "--update-golden")
    (repo / "charts" / "other" / "Chart.yaml").unlink()  # a chart this partial run does not see...
    shutil.rmtree(repo / "charts" / "other")

    # ...and only one scenario of one chart selected: neither is an orphan in this run.
    result = run(pytester, "-k", "GOLD-001 and default")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()  # partial: not green
    result.assert_outcomes(passed=1, deselected=3)
    assert "orphaned" not in result.stdout.str()

    full = run(pytester)  # the full run does see the removed chart's golden files
    full.stdout.fnmatch_lines(["*2 orphaned golden file(s)*", "*golden/other/*"])
    assert full.ret == pytest.ExitCode.TESTS_FAILED


def test_an_unrenderable_chart_makes_the_run_fail(pytester, repo):
    add_chart(repo, "needs-domain", {"fqdn.yaml": '{{ fail "needs-domain: set global.domain" }}\n'})
    result = run(pytester, "--update-golden")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*needs-domain: set global.domain*", "*reproduce*helm template*"])
    outcomes = result.parseoutcomes()
    # One cause, reported once per scenario by RENDER-001; the other policies on those scenarios are
    # skipped with a pointer to it (never passed), and the gate is red.
    assert outcomes.get("failed", 0) == 2  # RENDER-001 on `default` and `capabilities`
    report = json.loads((repo / "reports" / "chartgate.json").read_text())
    golden = [r for r in report["results"] if r["chart"] == "needs-domain" and r["policy"] == "GOLD-001"]
    assert golden and all(r["outcome"] == "skipped" and "see RENDER-001" in r["message"] for r in golden)
    assert report["summary"]["gate"] == "failed"


def test_a_chart_that_cannot_be_loaded_is_an_error_naming_file_and_line(pytester, repo):
    add_chart(repo, "bad-values", {}, values="replicas: 1\nimage: {tag: v1\n")
    result = run(pytester, "--update-golden")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*chart could not be loaded: *bad-values/values.yaml:3: invalid YAML*"])


def test_render_timeout_option_kills_a_hanging_helm(pytester, repo, monkeypatch):
    hanging = repo / "hanging-helm"
    hanging.write_text('#!/bin/sh\nif [ "$1" = version ]; then echo v4.1.4; exit 0; fi\nexec sleep 60\n')
    hanging.chmod(0o755)
    monkeypatch.setenv("HELM_BIN", str(hanging))
    started = time.monotonic()
    result = run(pytester, "--render-timeout", "0.5", "--no-render-cache")
    assert time.monotonic() - started < 30
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no result after 0.5s (per-render timeout; raise it with --render-timeout)*"])


def test_missing_helm_is_one_error_per_chart_and_the_reports_still_say_so(pytester, repo, monkeypatch):
    """One cause, one finding: the chart's render check reports the missing Helm once; every other
    check of the chart is skipped with that cause (never passed), and the gate is red."""
    monkeypatch.setenv("HELM_BIN", str(repo / "no-such-helm"))
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1, skipped=3)
    result.stdout.fnmatch_lines(["*HELM_BIN=*no-such-helm* does not name an existing file*unset it*",
                                 "*tiny: 3 skipped, 1 error*", "*gate: RED*"])
    assert "Traceback" not in result.stdout.str()
    report = json.loads((repo / "reports" / "chartgate.json").read_text())
    [error] = [r for r in report["results"] if r["outcome"] == "error"]
    assert error["policy"] == "RENDER-001" and error["cause"] == "chart-failed"
    skipped = [r for r in report["results"] if r["outcome"] == "skipped"]
    assert len(skipped) == 3 and all(r["cause"] == "chart-failed" and "no-such-helm" in r["message"]
                                     for r in skipped)
    assert len(report["defects"]) == 1


def test_a_chart_failure_is_red_even_when_its_render_check_does_not_run(pytester, repo, monkeypatch):
    monkeypatch.setenv("HELM_BIN", str(repo / "no-such-helm"))
    result = run(pytester, "-k", "GOLD")
    assert result.ret != pytest.ExitCode.OK
    report = json.loads((repo / "reports" / "chartgate.json").read_text())
    assert report["summary"]["gate"] != "passed"
    assert ["tiny", "all scenarios"] in report["summary"]["unreported_render_failures"]


def test_a_chart_that_cannot_be_loaded_is_one_error_the_rest_skipped(pytester, repo):
    add_chart(repo, "bad-values", {}, values="replicas: 1\nimage: {tag: v1\n")
    run(pytester, "--update-golden")
    report = json.loads((repo / "reports" / "chartgate.json").read_text())
    mine = [r for r in report["results"] if r["chart"] == "bad-values"]
    assert [r["outcome"] for r in mine if r["outcome"] != "skipped"] == ["error"]
    assert [d["policy"] for d in report["defects"] if d["chart"] == "bad-values"] == ["RENDER-001"]


def test_a_required_value_in_every_scenario_is_one_defect(pytester, repo):
    add_chart(repo, "needs-input", {"cm.yaml": '{{ required "needs-input: set cluster.domain" .Values.cluster.domain }}'
                                               "\n" + CONFIGMAP.format(name="cm")},
              values="cluster: {domain: null}\nmetrics: {enabled: false}\n")
    run(pytester, "--update-golden")
    report = json.loads((repo / "reports" / "chartgate.json").read_text())
    render = [r for r in report["results"] if r["chart"] == "needs-input" and r["policy"] == "RENDER-001"]
    assert len(render) >= 2 and all(r["outcome"] == "failed" for r in render)
    defects = [d for d in report["defects"] if d["chart"] == "needs-input"]
    assert [d["policy"] for d in defects] == ["RENDER-001"] and len(defects[0]["occurrences"]) == len(render)


def test_a_tampered_provisioned_helm_is_refused_and_never_run(pytester, repo):
    marker = repo / "tampered-helm-ran"
    (repo / ".tools").unlink()
    fake = repo / ".tools" / "helm-v4.1.4" / "helm"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\ntouch {marker}\necho v4.1.4\n")
    fake.chmod(0o755)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*has sha256 *, but Helm 4.1.4 is pinned to *It was not executed.*"])
    assert not marker.exists()


def test_a_malformed_waivers_file_stops_the_run_naming_file_and_line(pytester, repo):
    waivers = repo / "waivers.yaml"
    waivers.write_text("waivers:\n  - policy: GOLD-001\n    chart: [tiny\n")
    result = run(pytester, "--waivers", str(waivers))
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # not a verdict: bad input
    result.stderr.fnmatch_lines([f"*{waivers}:4: invalid YAML*Fix the file at that line*"])
    assert result.stderr.str().count("invalid YAML") == 1  # once, not once per policy module
    assert not (repo / "reports").exists()


def test_a_new_chart_without_golden_files_is_one_defect(pytester, repo):
    """One cause, one finding: a chart with no golden file at all is one GOLD-001 defect seen in every
    scenario, not one defect per scenario; a chart that has some goldens still gets one per drift."""
    import json
    first = run(pytester)
    assert first.ret == pytest.ExitCode.TESTS_FAILED
    data = json.loads((repo / "reports" / "chartgate.json").read_text())
    failed = [r for r in data["results"] if r["policy"] == "GOLD-001" and r["outcome"] == "failed"]
    gold = [d for d in data["defects"] if d["policy"] == "GOLD-001"]
    assert len(failed) >= 2 and len(gold) == 1
    assert len(gold[0]["occurrences"]) == len(failed)
    assert "a new chart; create it with --update-golden" in gold[0]["message"]
    assert run(pytester, "--update-golden").ret == pytest.ExitCode.OK
    (repo / "golden" / "tiny" / "capabilities.yaml").unlink()  # one file missing now: named on its own
    again = run(pytester)
    assert again.ret == pytest.ExitCode.TESTS_FAILED
    again.stdout.fnmatch_lines(["*no golden file *golden/tiny/capabilities.yaml*create it with --update-golden*"])
