"""The verdict is sacred: whatever goes wrong - a policy bug, an interrupt, nothing selected, a chart
tree configured elsewhere, a partial run - the gate is red or incomplete, never green, and a partial
run never deletes anything. Each test drives the real plugin (pytester) over charts rendered by the
real Helm."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import chartgate.report  # noqa: F401  (imported once: in-process pytester runs drop what they import)
import chartgate.report.terminal  # noqa: F401

from ..conftest import REPO
from .helpers import plugin_repo, write_chart

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  port: \"{port}\"\n"
PYTHON = sys.executable


def add_chart(root: Path, name: str, templates: dict[str, str]) -> Path:
    return write_chart(root / "charts", name, templates)


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch) -> Path:
    root = plugin_repo(pytester, monkeypatch)  # policies/ (GOLD-001, RENDER-001), charts/tiny, .tools
    (root / "charts" / "tiny" / "templates" / "cm.yaml").write_text(CONFIGMAP.format(name="cm", port=80))
    return root


def run(pytester: pytest.Pytester, *args: str, **kwargs) -> pytest.RunResult:
    return pytester.runpytest("policies", "--chart-root", "charts", "--cache-dir", "cache",
                              "--helm-version", "4.1.4", "-p", "no:cacheprovider", *args, **kwargs)


def report(repo: Path) -> dict:
    return json.loads((repo / "reports" / "chartgate.json").read_text())


BUGGY_POLICY = '''
from chartgate import Applicability, Finding, NotApplicable, ScenarioContext, policy

@policy(id="BUG-001", title="compares a rendered port", receives="scenario", applies_to=Applicability(scenarios="*"),
        rationale="r", reference="r")
def buggy(ctx: ScenarioContext):
    for m in ctx.manifests:
        if m.body["data"]["port"] > 1024:   # str > int: TypeError
            yield Finding.on(m, "$.data.port", "high port")

@policy(id="BUG-002", title="finds, then gives up", receives="scenario", applies_to=Applicability(scenarios="*"),
        rationale="r", reference="r")
def finds_then_not_applicable(ctx: ScenarioContext):
    yield Finding.on(ctx.manifests[0], "$", "a real finding")
    raise NotApplicable("nothing more to judge")
'''


# -- 1. a policy that raises ----------------------------------------------------------------------

def test_a_policy_that_raises_is_an_error_result_the_chart_stays_in_the_report_and_the_gate_is_red(
        pytester, repo):
    (repo / "policies" / "buggy.py").write_text(BUGGY_POLICY)
    result = run(pytester, "--update-golden")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = report(repo)
    bug = [r for r in data["results"] if r["policy"] == "BUG-001"]
    assert bug and all(r["outcome"] == "error" and r["chart"] == "tiny" for r in bug)
    assert all("TypeError" in r["message"] and "buggy.py" in r["message"] for r in bug)  # a short traceback
    kept = [r for r in data["results"] if r["policy"] == "BUG-002"]
    assert kept and all(r["outcome"] == "failed" and r["findings"][0]["message"] == "a real finding" for r in kept)
    assert data["summary"]["gate"] == "failed"
    assert "tiny" in data["summary"]["per_chart"]


def test_a_policy_that_raises_under_xdist_is_an_error_result_too(pytester, repo):
    (repo / "policies" / "buggy.py").write_text(BUGGY_POLICY)
    result = pytester.runpytest_subprocess("policies", "--chart-root", "charts", "--cache-dir", "cache",
                                           "--helm-version", "4.1.4", "-p", "no:cacheprovider", "-n", "2",
                                           "--update-golden")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = report(repo)
    assert {r["outcome"] for r in data["results"] if r["policy"] == "BUG-001"} == {"error"}
    assert data["summary"]["gate"] == "failed"


# -- 2. interrupted and partial sessions ------------------------------------------------------------

INTERRUPTING_POLICY = '''
from chartgate import Applicability, ScenarioContext, policy

@policy(id="ZZZ-001", title="interrupts", receives="scenario", applies_to=Applicability(scenarios="*"),
        rationale="r", reference="r")
def interrupts(ctx: ScenarioContext):
    raise KeyboardInterrupt
    yield
'''


def test_an_interrupted_session_writes_incomplete_red_reports(pytester, repo):
    run(pytester, "--update-golden")  # a green run: its reports must not survive as the verdict
    assert report(repo)["summary"]["gate"] == "passed"
    (repo / "policies" / "zzz.py").write_text(INTERRUPTING_POLICY)
    result = run(pytester, no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    data = report(repo)
    assert data["summary"]["gate"] == "incomplete"
    assert data["summary"]["incomplete"].startswith("interrupted:")


def test_stopping_at_the_first_failure_is_incomplete_not_a_verdict(pytester, repo):
    add_chart(repo, "broken", {"cm.yaml": '{{ fail "broken: set x" }}\n'})
    result = run(pytester, "--update-golden", "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = report(repo)
    assert data["summary"]["gate"] == "incomplete" and "stopped early" in data["summary"]["incomplete"]


SLOW_POLICY = '''
import time
from chartgate import ChartContext, policy

@policy(id="SLOW-001", title="slow", receives="chart", rationale="r", reference="r")
def slow(ctx: ChartContext):
    time.sleep(60)
    return []
'''


def test_sigterm_from_a_ci_timeout_ends_the_session_incomplete(pytester, repo):
    (repo / "policies" / "slow.py").write_text(SLOW_POLICY)
    (repo / "reports").mkdir()
    (repo / "reports" / "chartgate.json").write_text('{"summary": {"gate": "passed"}}')  # a stale green
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([PYTHON, "-m", "pytest", "policies", "--chart-root", "charts", "--cache-dir", "cache",
                             "--helm-version", "4.1.4", "-p", "no:cacheprovider", "--update-golden"],
                            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (repo / "golden" / "tiny").is_dir():
        time.sleep(0.2)  # wait until judging has started
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    data = report(repo)
    assert data["summary"]["gate"] == "incomplete", out
    assert "gate: INCOMPLETE" in out or "incomplete" in out


# -- 4. nothing selected -----------------------------------------------------------------------------

def test_no_chart_under_the_root_is_a_usage_error_and_overwrites_green_reports(pytester, repo):
    run(pytester, "--update-golden")
    shutil.rmtree(repo / "charts" / "tiny")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert report(repo)["summary"]["gate"] == "incomplete"
    assert "no chart found under" in report(repo)["summary"]["incomplete"]


def test_a_k_expression_that_selects_nothing_is_not_a_green_run(pytester, repo):
    run(pytester, "--update-golden")
    result = run(pytester, "-k", "no-such-policy")
    assert result.ret != pytest.ExitCode.OK
    assert report(repo)["summary"]["gate"] == "incomplete"
    assert "nothing selected" in report(repo)["summary"]["incomplete"]


def test_a_release_overlay_glob_that_matches_nothing_is_a_usage_error(pytester, repo):
    result = run(pytester, "--release-overlay", "clusters/**/*.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*release-overlays: the glob*matches no file*"])
    assert "clusters/**/*.yaml" in result.stderr.str()


# -- 5. settings come from where chartgate runs --------------------------------------------------------

def test_running_from_another_repository_gates_that_repository_with_its_own_settings(tmp_path):
    other = tmp_path / "other"
    add_chart(other, "theirs", {"cm.yaml": CONFIGMAP.format(name="theirs", port=80)})
    (other / "pyproject.toml").write_text('[tool.chartgate]\nchart-roots = ["charts"]\nreport-dir = "out"\n'
                                          'helm-versions = ["4.1.4"]\npacks = []\n')
    (other / "policies").mkdir()  # a pack of its own (no installed pack): two modules of chartgate's would be partial
    for name in ("golden.py", "render.py"):
        shutil.copy(REPO / "policies" / name, other / "policies" / name)
    env = {**os.environ, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("HELM_BIN", None)
    proc = subprocess.run([PYTHON, "-m", "pytest", "policies", "-p", "no:cacheprovider", "-q", "--update-golden"],
                          cwd=other, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((other / "out" / "chartgate.json").read_text())
    assert {c["name"] for c in data["charts"]} == {"theirs"}  # not the bundled fixtures
    assert (other / "golden" / "theirs" / "default.yaml").is_file()
    assert not (REPO / "golden" / "theirs").exists()


def test_without_configuration_another_repository_is_told_where_to_set_its_chart_roots(tmp_path):
    env = {**os.environ, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools")}
    proc = subprocess.run([PYTHON, "-m", "pytest", str(REPO / "policies" / "render.py"), "-p", "no:cacheprovider"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "no chart root: pass --chart-root PATH or set `chart-roots`" in proc.stderr


# -- 7. a partial run never deletes goldens -------------------------------------------------------------

@pytest.mark.parametrize("partial", [("--shard", "1/2"), ("--changed-since", "HEAD"), ("broken",)])
def test_a_partial_run_never_makes_other_charts_goldens_orphans(pytester, repo, partial):
    add_chart(repo, "other", {"cm.yaml": CONFIGMAP.format(name="other", port=81)})
    run(pytester, "--update-golden")
    before = sorted(p.relative_to(repo) for p in (repo / "golden").rglob("*.yaml"))
    args: tuple[str, ...] = partial
    if partial[0] == "--changed-since":
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty",
                        "-m", "base"], cwd=repo, check=True)
        (repo / "charts" / "tiny" / "values.yaml").write_text("changed: true\n")
    elif partial[0] == "broken":
        (repo / "charts" / "other" / "values.yaml").write_text("key: [unclosed\n")
        args = ()
    run(pytester, "--update-golden", *args)
    after = sorted(p.relative_to(repo) for p in (repo / "golden").rglob("*.yaml"))
    assert after == before


# -- 15. golden updates under -n are reported ---------------------------------------------------------

def test_golden_updates_made_by_xdist_workers_appear_in_the_report(pytester, repo):
    result = pytester.runpytest_subprocess("policies", "--chart-root", "charts", "--cache-dir", "cache",
                                           "--helm-version", "4.1.4", "-p", "no:cacheprovider", "-n", "2",
                                           "--update-golden")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    updated = report(repo)["golden"]["updated"]
    assert sorted(Path(p).name for p in updated) == ["capabilities.yaml", "default.yaml"]


def test_a_shard_that_gets_no_chart_is_complete_and_passes_so_a_merge_stays_green(pytester, repo):
    result = run(pytester, "--shard", "2/2")  # one chart, two shards: shard 2 has nothing to judge
    assert result.ret == pytest.ExitCode.OK
    data = report(repo)
    assert data["summary"]["gate"] == "passed" and data["shard"]["index"] == 2 and data["shard"]["total"] == 2
    assert data["charts"] == [] and data["results"] == []


# -- 16. a waiver is a reviewed exception, never a switch that turns the gate off ----------------------

NEVER_RENDERS = '{{ fail "this chart never renders" }}\n'
WAIVE = """waivers:
  - policy: {policy}
    chart: {chart}
    reason: accepted
    owner: platform-team
    expires: {expires}
"""


@pytest.mark.parametrize("policy, chart, expires, line, says", [
    ('"*"', '"*"', "9999-12-31", 2, "waivers[0].policy: policy '*' must name one policy id"),
    ("RENDER-001", "broken", "2027-01-01", 2, "waivers[0].policy: policy 'RENDER-001' covers RENDER-001, which "
                                               "cannot be waived"),
    ("GOLD-001", "broken", "9999-12-31", 6, "waivers[0].expires 9999-12-31 is more than 365 days ahead"),
])
def test_a_waiver_that_would_green_a_chart_that_never_renders_is_a_usage_error(pytester, repo, policy, chart,
                                                                               expires, line, says):
    add_chart(repo, "broken", {"cm.yaml": NEVER_RENDERS})
    (repo / "waivers.yaml").write_text(WAIVE.format(policy=policy, chart=chart, expires=expires))
    result = run(pytester, "--waivers", "waivers.yaml", "--update-golden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-3000:]
    output = result.stdout.str() + result.stderr.str()
    assert f"waivers.yaml:{line}: {says}" in output, output[-3000:]


def test_an_excluded_chart_is_not_judged_and_every_report_lists_it(pytester, repo):
    add_chart(repo, "broken", {"cm.yaml": NEVER_RENDERS})
    (repo / "golden" / "broken").mkdir(parents=True)
    (repo / "golden" / "broken" / "default.yaml").write_text("kept: until the chart is fixed\n")
    # exclude-charts belongs to the table's chart tree (like its overlays and goldens), so the roots come from there
    (repo / "pyproject.toml").write_text('[tool.chartgate]\nchart-roots = ["charts"]\nexclude-charts = ["brok*"]\n'
                                         'packs = []\n')  # policies/ holds the two modules judged
    result = pytester.runpytest("policies", "--cache-dir", "cache", "--helm-version", "4.1.4", "-p", "no:cacheprovider",
                                "--update-golden")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    data = report(repo)
    assert data["summary"]["gate"] == "passed" and {r["chart"] for r in data["results"]} == {"tiny"}
    assert data["excluded_charts"] == [{"name": "broken", "path": str(repo / "charts" / "broken"),
                                        "pattern": "brok*"}]
    assert "Excluded by configuration | 1 chart, not judged (`exclude-charts`): `broken` (`brok*`)" in \
        (repo / "reports" / "chartgate.md").read_text()
    assert "Excluded by configuration" in (repo / "reports" / "chartgate.html").read_text()
    result.stdout.fnmatch_lines(["*excluded by configuration (exclude-charts), not judged: broken (brok*)*"])
    assert (repo / "golden" / "broken" / "default.yaml").is_file()  # not an orphan: the chart is only excluded


def test_a_chart_that_cannot_be_loaded_stays_an_error_under_any_waiver(pytester, repo):
    (repo / "charts" / "tiny" / "values.yaml").write_text("key: [unclosed\n")
    (repo / "waivers.yaml").write_text(WAIVE.format(policy="GOLD-001", chart="tiny", expires="2027-01-01"))
    result = run(pytester, "--waivers", "waivers.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = report(repo)
    # one cause, one finding: RENDER-001's error (never waived); the other checks skipped with that cause
    assert {r["policy"]: r["outcome"] for r in data["results"]} == {"RENDER-001": "error", "GOLD-001": "skipped"}
    assert all("fix the chart, or exclude it with `exclude-charts`" in r["message"] for r in data["results"])
