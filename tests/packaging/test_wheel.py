"""The built wheel, installed without extras into a fresh virtual environment, gates a chart
repository outside the checkout with the built-in pack and the repository's own policies - no
checkout path anywhere on the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO
from .external import write_external_repository
from .runs import REPORTS, counts, failed_nodeids, judged, pytest_in, report, user_env

PYTHON = sys.executable
#: What the wheel is built from: the package sources, the built-in pack's source and the metadata.
SOURCES = ("src", "policies", "pyproject.toml", "setup.py", "README.md")


def run(*cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kwargs)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the built wheel installed, no extras; returns its python."""
    base = tmp_path_factory.mktemp("wheel")
    tree = base / "source"  # a copy: building in the checkout would leave build/ and egg-info there
    tree.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, tree / name)
    run(PYTHON, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", base / "dist", tree)
    wheel = next((base / "dist").glob("chartgate-*.whl"))
    run(PYTHON, "-m", "venv", base / "venv")
    python = base / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel)
    return python


@pytest.mark.slow
def test_the_wheel_ships_the_built_in_pack_and_registers_it(installed):
    probe = run(installed, "-c", "import importlib.metadata as m, importlib.util as u, chartgate_builtin, sys\n"
                                 "print([(e.name, e.value) for e in m.entry_points(group='chartgate.policies')])\n"
                                 "print(chartgate_builtin.__file__)\n"
                                 "print(u.find_spec('xdist'), u.find_spec('policies'))",
                cwd=installed.parents[2]).stdout.splitlines()  # outside the checkout: no policies/ on sys.path
    assert probe[0] == "[('builtin', 'chartgate_builtin')]"
    assert "site-packages/chartgate_builtin/__init__.py" in probe[1] and not probe[1].startswith(str(REPO))
    assert probe[2] == "None None"  # no extras (pytest-xdist), and no top-level `policies` package


@pytest.mark.slow
def test_the_installed_wheel_gates_an_external_repository(installed, tmp_path):
    repo = write_external_repository(tmp_path / "platform-charts")
    env = user_env(tmp_path / "cache")
    root = pytest_in(installed, repo, env=env)
    output = root.stdout + root.stderr
    assert root.returncode == pytest.ExitCode.TESTS_FAILED, output[-4000:]  # planted: TEAM-001, no goldens
    assert f"rootdir: {repo}" in output and "configfile: pyproject.toml" in output
    assert str(REPO / "policies") not in root.stdout  # the installed pack, not the checkout's source
    data = report(repo)  # in the configured report directory
    outcomes = judged(data)
    assert outcomes["TEAM-001"] == {"failed"}  # the own policy, from gate-checks/
    assert outcomes["RENDER-001"] == {"passed"} and "failed" in outcomes["SEC-002"]  # the built-in pack
    assert all(len(p["module_sha256"]) == 64 for p in data["policies"])
    assert data["summary"]["gate"] == "failed" and data["summary"]["partial"] is None
    assert sorted(p.name for p in (repo / REPORTS).iterdir()) == [
        "chartgate.html", "chartgate.json", "chartgate.md", "chartgate.sarif", "junit.xml"]

    sub = pytest_in(installed, repo / "charts" / "web", env=env)  # the same gate from a subdirectory
    assert sub.returncode == pytest.ExitCode.TESTS_FAILED, (sub.stdout + sub.stderr)[-4000:]
    assert counts(sub.stdout) == counts(root.stdout)
    assert judged(report(repo)) == outcomes

    builtin = next(n for n in failed_nodeids(root.stdout) if n.startswith("chartgate_builtin/golden.py::"))
    again = pytest_in(installed, repo, builtin, env=env)  # a failing built-in check, pasted back
    assert again.returncode == pytest.ExitCode.TESTS_FAILED and counts(again.stdout) == "1 failed", \
        (again.stdout + again.stderr)[-3000:]

    (repo / "golden").mkdir()
    fixed = pytest_in(installed, repo, "--update-golden", env=env)  # goldens written: only TEAM-001 blocks
    assert fixed.returncode == pytest.ExitCode.TESTS_FAILED
    assert {r["policy"] for r in report(repo)["results"] if r["outcome"] == "failed"
            and r["severity"] == "error"} == {"TEAM-001"}
    (repo / "gate-checks" / "team.py").unlink()  # without the planted defect the gate is green
    green = pytest_in(installed, repo, env=env)
    assert green.returncode == pytest.ExitCode.OK, (green.stdout + green.stderr)[-3000:]
    assert report(repo)["summary"]["gate"] == "passed"


@pytest.mark.slow
def test_the_installed_command_checks_baselines_and_splits_warnings_from_blocking(installed, tmp_path):
    """The steps of the README's "use it in your repository": `chartgate check` (the same verdict as
    pytest), `chartgate baseline`, then only new findings block; junit.xml fails only what blocks."""
    repo = write_external_repository(tmp_path / "platform-charts")
    env = user_env(tmp_path / "cache")
    chartgate = installed.parent / "chartgate"
    listed = subprocess.run([chartgate, "policies", "--format", "json"], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=300)
    assert listed.returncode == 0 and '"SEC-001"' in listed.stdout and '"TEAM-001"' in listed.stdout

    (repo / "golden").mkdir()
    first = subprocess.run([chartgate, "check", "--update-golden"], cwd=repo / "charts", env=env,
                           capture_output=True, text=True, timeout=900)
    assert first.returncode == 1, (first.stdout + first.stderr)[-4000:]  # TEAM-001 and the SEC errors
    data = report(repo)
    blocking = [r for r in data["results"] if r["outcome"] == "failed" and r["severity"] == "error"]
    warnings = [r for r in data["results"] if r["outcome"] == "failed" and r["severity"] == "warning"]
    assert blocking and warnings
    junit = (repo / REPORTS / "junit.xml").read_text(encoding="utf-8")
    assert f'failures="{len(blocking)}"' in junit  # a warning is a passed test case with its finding

    written = subprocess.run([chartgate, "baseline"], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=900)
    assert (repo / "chartgate-baseline.json").is_file(), (written.stdout + written.stderr)[-4000:]
    held = subprocess.run([chartgate, "check"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert held.returncode == 0, (held.stdout + held.stderr)[-4000:]
    assert report(repo)["summary"]["gate"] == "passed"
    assert {r["policy"] for r in report(repo)["results"] if r["outcome"] == "baselined"} >= {"TEAM-001"}

    template = repo / "charts" / "web" / "templates" / "debug.yaml"  # a new defect: only it blocks
    template.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-debug\nspec:\n"
                        "  containers:\n    - name: debug\n      image: busybox:1.37\n"
                        "      securityContext:\n        privileged: true\n")
    new = subprocess.run([chartgate, "check", "--update-golden"], cwd=repo, env=env, capture_output=True,
                         text=True, timeout=900)
    assert new.returncode == 1, (new.stdout + new.stderr)[-4000:]
    failed = [r for r in report(repo)["results"] if r["outcome"] == "failed" and r["severity"] == "error"]
    assert {r["policy"] for r in failed} >= {"SEC-001"}
    assert all("debug" in f["resource"] for r in failed for f in r["findings"] if not f.get("baselined"))
