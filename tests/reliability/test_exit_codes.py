"""The exit status is one documented scheme, the same through both front ends: `pytest` in the
repository (the plugin) and `chartgate check` (run from a subdirectory, finding [tool.chartgate]
upward). 0 green, 1 blocking findings, 2 incomplete or partial, 3 internal error, 4 usage or
configuration error. Each case runs both on a small generated repository rendered by the real Helm,
and `check` must also write the same reports as `pytest`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chartgate.core.exitcodes import Exit, for_session, for_verdict

from ..conftest import REPO
from .helpers import CONFIGMAP, write_chart

# packs = []: the repository's policies/ holds copies of two built-in modules, which the installed
# built-in pack would otherwise define a second time.
CONFIG = '[tool.chartgate]\nchart-roots = ["charts"]\nhelm-versions = ["4.1.4"]\npacks = []\n'


def make_repo(root: Path, config: str = CONFIG) -> Path:
    """charts/tiny, policies/ (GOLD-001 and RENDER-001), [tool.chartgate] in pyproject.toml, a subdirectory."""
    write_chart(root / "charts", "tiny", {"cm.yaml": CONFIGMAP.format(name="cm", value="v")})
    (root / "policies").mkdir()
    for name in ("golden.py", "render.py"):
        shutil.copy(REPO / "policies" / name, root / "policies" / name)
    (root / "pyproject.toml").write_text(config)
    (root / "docs").mkdir()
    return root


def _env(tmp: Path) -> dict:
    env = {**os.environ, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools"), "XDG_CACHE_HOME": str(tmp / "xdg-cache")}
    env.pop("HELM_BIN", None)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def via_pytest(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "policies", "-p", "no:cacheprovider", *args], cwd=repo,
                          env=_env(repo.parent), capture_output=True, text=True, timeout=300)


def via_check(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`chartgate check` from the repository's docs/ directory: the configuration is found upward."""
    return subprocess.run([sys.executable, "-m", "chartgate", "check", *args, "-p", "no:cacheprovider"],
                          cwd=cwd or repo / "docs", env=_env(repo.parent), capture_output=True, text=True,
                          timeout=300)


def both(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    return via_pytest(repo, *args), via_check(repo, *args)


def shown(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout + proc.stderr)[-3000:]


def report(repo: Path) -> dict:
    return json.loads((repo / "reports" / "chartgate.json").read_text())


def judged(data: dict) -> list[tuple]:
    return sorted((r["policy"], r["chart"], r["scenario"], r["outcome"]) for r in data["results"])


@pytest.fixture
def repo(tmp_path) -> Path:
    return make_repo(tmp_path / "repo")


def test_1_blocking_findings_then_0_green_with_the_same_reports_from_both(repo):
    """A new chart has no golden file (GOLD-001 blocks): 1; after --update-golden: 0. Each time
    `chartgate check` writes what `pytest` wrote."""
    for expected in (Exit.BLOCKING, Exit.GREEN):
        if expected is Exit.GREEN:
            assert via_pytest(repo, "--update-golden").returncode == Exit.GREEN
        plain = via_pytest(repo)
        assert plain.returncode == expected, shown(plain)
        from_pytest = report(repo)
        junit_pytest = sorted(c.get("name") for c in ET.parse(repo / "reports" / "junit.xml").iter("testcase"))
        check = via_check(repo)
        assert check.returncode == expected, shown(check)
        from_check = report(repo)
        assert judged(from_check) == judged(from_pytest) and len(judged(from_check)) == 4
        assert from_check["summary"]["gate"] == from_pytest["summary"]["gate"] == (
            "passed" if expected is Exit.GREEN else "failed")
        assert from_check["summary"]["defects"] == from_pytest["summary"]["defects"]
        assert from_check["summary"]["partial"] == from_pytest["summary"]["partial"] is None
        assert sorted(c.get("name") for c in ET.parse(repo / "reports" / "junit.xml").iter("testcase")) \
            == junit_pytest
        # the node ids print as they can be pasted back into either command
        assert ("policies/golden.py::GOLD-001[tiny:default]" in check.stdout) == (expected is Exit.BLOCKING)


def test_2_partial_from_both_and_from_a_policy_module_path(repo):
    assert via_pytest(repo, "--update-golden").returncode == Exit.GREEN
    for proc in (*both(repo, "-k", "GOLD"), via_check(repo, "../policies/golden.py")):
        assert proc.returncode == Exit.NOT_WHOLE, shown(proc)
        assert report(repo)["summary"]["gate"] == "partial"


def test_2_nothing_selected_is_incomplete_from_both(repo):
    for proc in both(repo, "-k", "no-such-check"):
        assert proc.returncode == Exit.NOT_WHOLE, shown(proc)
        assert report(repo)["summary"]["gate"] == "incomplete"


CRASHING_CONFTEST = '''
def pytest_collection_modifyitems(items):
    raise RuntimeError("a bug in a plugin")
'''


def test_3_an_internal_error_from_both(tmp_path):
    repo = make_repo(tmp_path / "repo")
    (repo / "conftest.py").write_text(CRASHING_CONFTEST)
    for proc in both(repo):
        assert proc.returncode == Exit.INTERNAL, shown(proc)
        assert "INTERNALERROR" in proc.stdout + proc.stderr


@pytest.mark.parametrize("config, args, message", [
    (CONFIG + 'no-such-key = 1\n', (), "unknown [tool.chartgate] keys ['no-such-key']"),
    (CONFIG.replace('"charts"', '"missing"'), (), "--chart-root must be a directory"),
    (CONFIG, ("--no-such-option",), "unrecognized arguments: --no-such-option"),
    (CONFIG, ("--shard", "3/2"), "--shard 3/2"),
], ids=["bad-table", "missing-chart-root", "unknown-option", "bad-shard"])
def test_4_usage_and_configuration_errors_from_both(tmp_path, config, args, message):
    repo = make_repo(tmp_path / "repo", config)
    for proc in both(repo, *args):
        assert proc.returncode == Exit.USAGE, shown(proc)
        assert message in proc.stdout + proc.stderr, shown(proc)
    assert not (repo / "reports").exists()  # nothing judged, nothing written


def test_4_check_outside_any_configured_repository_says_where_it_looked(tmp_path):
    proc = via_check(make_repo(tmp_path / "repo"), cwd=tmp_path)
    assert proc.returncode == Exit.USAGE
    assert f"no [tool.chartgate] table in pyproject.toml of {tmp_path} or any directory above it" in proc.stderr


def test_check_with_config_runs_the_repository_of_that_file(tmp_path):
    repo = make_repo(tmp_path / "repo", "")
    (repo / "gate.toml").write_text(CONFIG + 'report-dir = "out"\n')
    proc = via_check(repo, "--config", str(repo / "gate.toml"), "--update-golden", cwd=tmp_path)
    assert proc.returncode == Exit.GREEN, shown(proc)
    assert json.loads((repo / "out" / "chartgate.json").read_text())["summary"]["gate"] == "passed"


def test_the_mapping_is_total_and_keeps_pytests_own_errors():
    assert [for_verdict(v, False) for v in ("passed", "failed", "partial", "incomplete")] == [0, 1, 2, 2]
    assert for_verdict("incomplete", True) == for_verdict("partial", True) == Exit.BLOCKING
    assert for_session(pytest.ExitCode.NO_TESTS_COLLECTED, "passed", False) == Exit.GREEN  # an empty shard
    assert for_session(pytest.ExitCode.NO_TESTS_COLLECTED, "incomplete", False) == Exit.NOT_WHOLE
    assert for_session(pytest.ExitCode.TESTS_FAILED, "passed", False) == Exit.BLOCKING  # a failed non-policy test
    assert for_session(pytest.ExitCode.INTERNAL_ERROR, "failed", True) == Exit.INTERNAL
    assert for_session(pytest.ExitCode.USAGE_ERROR, "incomplete", False) == Exit.USAGE
