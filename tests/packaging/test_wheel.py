"""The built wheel, installed without extras into a fresh virtual environment, gates a chart
repository outside the checkout (tests/packaging/external.py: three helm-create charts with planted
defects, a file:// dependency, a required value with a ci/ file) with the built-in pack and the
repository's own policies - no checkout path anywhere on the command line. The last test runs the
README's "Pointing it at another chart monorepo" steps, exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO
from .external import DEBUG_SCENARIO_VALUE, write_external_repository
from .runs import REPORTS, counts, failed_nodeids, judged, pytest_in, report, seeded_user_env

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


#: The README's "Pointing it at another chart monorepo" steps after the install, in order.
README_STEPS = ("chartgate tools install", "chartgate policies", "chartgate check --update-golden", "chartgate baseline",
                "chartgate check", "python -m pytest")


def test_the_readme_lists_exactly_the_steps_the_wheel_test_takes():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Pointing it at another chart monorepo", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].strip() for line in section.splitlines()]
    assert lines[:2] == ["cd ../platform-repo", "python -m venv .venv && .venv/bin/pip install chartgate-*.whl"]
    assert tuple(line.removeprefix(".venv/bin/") for line in lines[2:]) == README_STEPS


def blocking(data: dict) -> set[str]:
    return {r["policy"] for r in data["results"] if r["outcome"] == "failed" and r["severity"] == "error"}


def the_planted_toggle_defect_names_its_cause(repo: Path) -> None:
    """web's debug sidecar runs privileged only with debug.enabled=true: every format names the
    scenarios, the value that differs from the defaults and the `helm template` command."""
    data = report(repo)
    defect = next(d for d in data["defects"] if d["policy"] == "SEC-001")
    assert (defect["chart"], defect["resource"], defect["blocking"]) == ("web", "Deployment/web/web", True)
    first = defect["occurrences"][0]
    assert first["scenario"].startswith("plan.") and first["inputs"]["set"]["debug.enabled"] is True
    assert first["command"].split()[1:2] == ["template"] and "--set-json debug.enabled=true" in first["command"]
    assert first["command"].endswith(f"-- web {repo / 'charts' / 'web'}")
    markdown = (repo / REPORTS / "chartgate.md").read_text(encoding="utf-8")
    assert f"values that differ from the chart's defaults: `{DEBUG_SCENARIO_VALUE}`" in markdown
    assert first["command"] in markdown
    sarif = json.loads((repo / REPORTS / "chartgate.sarif").read_text(encoding="utf-8"))
    text = next(r["message"]["text"] for r in sarif["runs"][0]["results"] if r["ruleId"] == "SEC-001")
    assert f"Seen in 2 scenarios: {first['scenario']}" in text and f"values {DEBUG_SCENARIO_VALUE}" in text
    assert f"Reproduce: {first['command']}" in text


@pytest.mark.slow
def test_the_installed_wheel_gates_an_external_repository(installed, tmp_path):
    repo = write_external_repository(tmp_path / "platform-charts")
    env = seeded_user_env(tmp_path / "cache")
    root = pytest_in(installed, repo, env=env)
    output = root.stdout + root.stderr
    assert root.returncode == 1, output[-4000:]  # planted: TEAM-001, SEC-001, no goldens
    assert f"rootdir: {repo}" in output and "configfile: pyproject.toml" in output
    assert str(REPO / "policies") not in root.stdout  # the installed pack, not the checkout's source
    data = report(repo)  # in the configured report directory
    outcomes = judged(data)
    assert "failed" in outcomes["TEAM-001"]  # the own policy, from gate-checks/
    assert outcomes["RENDER-001"] == {"passed"} and "failed" in outcomes["SEC-002"]  # the built-in pack
    assert all(len(p["module_sha256"]) == 64 for p in data["policies"])
    assert data["summary"]["gate"] == "failed" and data["summary"]["partial"] is None
    assert sorted(p.name for p in (repo / REPORTS).iterdir()) == [
        "chartgate.html", "chartgate.json", "chartgate.md", "chartgate.sarif", "junit.xml"]
    # one finding per cause: a new chart's missing goldens are one finding per chart; web's findings
    # are web's, not repeated under shop, which vendors web; api renders with its ci/ values
    assert sorted(d["chart"] for d in data["defects"] if d["policy"] == "GOLD-001") == ["api", "shop", "web"]
    assert {d["policy"] for d in data["defects"] if d["chart"] == "shop"} == {"GOLD-001"}
    assert data["summary"]["judged_elsewhere"] == {"shop": {"web": 21}}
    assert {d["policy"] for d in data["defects"] if d["chart"] == "api"} >= {"TEAM-001", "SEC-002"}
    the_planted_toggle_defect_names_its_cause(repo)

    sub = pytest_in(installed, repo / "charts" / "web", env=env)  # the same gate from a subdirectory
    assert sub.returncode == 1, (sub.stdout + sub.stderr)[-4000:]
    assert counts(sub.stdout) == counts(root.stdout)
    assert judged(report(repo)) == outcomes

    builtin = next(n for n in failed_nodeids(root.stdout) if n.startswith("chartgate_builtin/golden.py::"))
    again = pytest_in(installed, repo, builtin, env=env)  # a failing built-in check, pasted back
    assert again.returncode == 1 and counts(again.stdout) == "1 failed", (again.stdout + again.stderr)[-3000:]

    fixed = pytest_in(installed, repo, "--update-golden", env=env)  # goldens written: the planted defects block
    assert fixed.returncode == 1 and blocking(report(repo)) == {"TEAM-001", "SEC-001"}
    assert (repo / "golden" / "web" / "default.yaml").read_text().startswith(
        "# chartgate golden kind summary. Regenerate with: chartgate check --update-golden\n")

    (repo / "charts" / "api" / "ci" / "default-values.yaml").unlink()  # the required value, unset
    unset = pytest_in(installed, repo, env=env)
    assert unset.returncode == 1
    data = report(repo)
    assert [d["policy"] for d in data["defects"] if d["chart"] == "api"] == ["RENDER-001"]  # one finding
    api = [r for r in data["results"] if r["chart"] == "api"]
    assert {r["outcome"] for r in api if r["policy"] != "RENDER-001"} <= {"skipped", "passed"}
    assert sum(r.get("cause") == "render-failed" for r in api) > 10  # skipped with that reason, counted


def chartgate(installed: Path, *args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([installed.parent / "chartgate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.mark.slow
def test_the_readme_steps_install_check_baseline_and_split_warnings_from_blocking(installed, tmp_path):
    """README, "Pointing it at another chart monorepo": tools install, policies, check --update-golden,
    baseline, check, pytest - the exit codes, the baseline, junit.xml failing only what blocks."""
    repo = write_external_repository(tmp_path / "platform-charts")
    env = seeded_user_env(tmp_path / "cache")
    steps = [step.split()[1:] for step in README_STEPS]
    tools = chartgate(installed, *steps[0], cwd=repo, env=env)
    assert tools.returncode == 0 and "helm 4.1.4: " in tools.stdout and "(sha256 verified)" in tools.stdout, \
        tools.stdout + tools.stderr
    listed = chartgate(installed, *steps[1], cwd=repo, env=env)
    assert listed.returncode == 0 and "SEC-001" in listed.stdout and "TEAM-001" in listed.stdout

    first = chartgate(installed, *steps[2], cwd=repo / "charts", env=env)
    assert first.returncode == 1, (first.stdout + first.stderr)[-4000:]  # the planted defects block
    data = report(repo)
    assert blocking(data) == {"TEAM-001", "SEC-001"} and sorted(p.name for p in (repo / "golden").iterdir()) == [
        "api", "shop", "web"]
    failed = [r for r in data["results"] if r["outcome"] == "failed"]
    warned = [r for r in failed if r["severity"] == "warning"]
    assert warned and len(warned) < len(failed)
    junit = (repo / REPORTS / "junit.xml").read_text(encoding="utf-8")
    assert f'failures="{len(failed) - len(warned)}"' in junit  # a warning is a passed test case with its finding
    the_planted_toggle_defect_names_its_cause(repo)

    written = chartgate(installed, *steps[3], cwd=repo, env=env)
    assert written.returncode == 0 and (repo / "chartgate-baseline.json").is_file(), \
        (written.stdout + written.stderr)[-4000:]
    held = chartgate(installed, *steps[4], cwd=repo, env=env)
    assert held.returncode == 0, (held.stdout + held.stderr)[-4000:]
    data = report(repo)
    assert data["summary"]["gate"] == "passed" and data["summary"]["baseline"]["baselined_findings"] > 0
    assert {r["policy"] for r in data["results"] if r["outcome"] == "baselined"} >= {"TEAM-001", "SEC-001"}
    same = pytest_in(installed, repo, env=env)  # steps[5], pytest there: the same gate
    assert same.returncode == 0 and report(repo)["summary"]["defects"] == data["summary"]["defects"]

    partial = chartgate(installed, "check", "-k", "SEC-004", cwd=repo, env=env)
    assert partial.returncode == 2 and report(repo)["summary"]["gate"] == "partial"
    usage = chartgate(installed, "check", "--no-such-option", cwd=repo, env=env)
    assert usage.returncode == 4 and "--no-such-option" in usage.stderr

    template = repo / "charts" / "api" / "templates" / "probe.yaml"  # a new defect: only it blocks
    template.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-probe\nspec:\n"
                        "  containers:\n    - name: probe\n      image: busybox:1.37\n"
                        "      securityContext:\n        privileged: true\n")
    new = chartgate(installed, "check", "--update-golden", cwd=repo, env=env)
    assert new.returncode == 1, (new.stdout + new.stderr)[-4000:]
    failed = [r for r in report(repo)["results"] if r["outcome"] == "failed" and r["severity"] == "error"]
    assert {r["policy"] for r in failed} >= {"SEC-001"}
    assert all("probe" in f["resource"] for r in failed for f in r["findings"] if not f.get("baselined"))
