"""The CI files of examples/external-repo: valid YAML whose jobs install chartgate with pip, run the
repository's own policy tests, shard `chartgate check` over 1..N and merge every shard's reports,
using only options that chartgate really has (`chartgate check` passes its options on to pytest)."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from ..conftest import REPO

EXAMPLES = REPO / "examples" / "external-repo"
GITHUB = EXAMPLES / ".github" / "workflows" / "chartgate.yml"
GITLAB = EXAMPLES / ".gitlab-ci.yml"


@pytest.fixture(scope="module")
def pytest_options() -> set[str]:
    """Every option `pytest --help` lists with the chartgate plugin loaded."""
    out = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:randomly"], cwd=REPO,
                         capture_output=True, text=True, timeout=300).stdout
    assert "--shard" in out, out[-2000:]
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out))


@pytest.fixture(scope="module")
def merge_options() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "chartgate", "merge", "--help"], capture_output=True, text=True,
                         timeout=120).stdout
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out))


def _commands(lines: list[str]) -> list[list[str]]:
    return [shlex.split(" ".join(line.split())) for line in lines]


def _expand(text: str, values: dict[str, str]) -> str:
    """GitHub's `${{ expr }}` substitution for the expressions the example uses."""
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m.group(1)], text)


def _check(command: list[str], pytest_options: set[str], merge_options: set[str]) -> str:
    if command[:2] == ["chartgate", "check"]:
        options = pytest_options
        kind = "gate"
    elif command[:2] == ["chartgate", "merge"]:
        options = merge_options
        kind = "merge"
    else:
        return "other"
    used = [token.split("=", 1)[0] for token in command if token.startswith("--")]
    assert used and set(used) <= options, set(used) - options
    return kind


def test_github_actions_example(pytest_options, merge_options):
    workflow = yaml.safe_load(GITHUB.read_text())
    assert workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as true
    gate, merge = workflow["jobs"]["gate"], workflow["jobs"]["merge"]
    shards = gate["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and gate["strategy"]["fail-fast"] is False
    upload = next(s for s in gate["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    artifacts = set()
    for shard in shards:  # what each matrix job runs, after GitHub substitutes the expressions
        values = {"matrix.shard": str(shard), "strategy.job-total": str(len(shards))}
        runs = [_expand(step["run"], values) for step in gate["steps"] if "run" in step]
        kinds = [_check(c, pytest_options, merge_options) for c in _commands(runs)]
        assert kinds.count("gate") == 1
        assert any("pip install chartgate" in run for run in runs)  # as a user installs it, no checkout
        command = next(c for c in _commands(runs) if c[:2] == ["chartgate", "check"])
        assert command[command.index("--shard") + 1] == f"{shard}/{len(shards)}"
        assert _expand(upload["with"]["path"], values) == command[command.index("--report-dir") + 1]
        artifacts.add(_expand(upload["with"]["name"], values))
    assert len(artifacts) == len(shards)

    assert merge["needs"] == "gate" and merge["if"] == "always()"
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"]["pattern"] == "chartgate-shard-*"
    assert all(fnmatch.fnmatchcase(name, download["with"]["pattern"]) for name in artifacts)
    merges = [c for c in _commands([s["run"] for s in merge["steps"] if "run" in s]) if c[:2] == ["chartgate", "merge"]]
    assert len(merges) == 1 and _check(merges[0], pytest_options, merge_options) == "merge"
    assert merges[0][2] == f"{download['with']['path']}/chartgate-shard-*"


def test_gitlab_ci_example(pytest_options, merge_options):
    pipeline = yaml.safe_load(GITLAB.read_text())
    gate, merge = pipeline["chartgate"], pipeline["chartgate-merge"]
    assert isinstance(gate["parallel"], int) and gate["parallel"] > 1
    installing = pipeline[gate["extends"]]["before_script"]
    assert any("pip install chartgate" in line for line in installing)
    [command] = [c for c in _commands(gate["script"]) if _check(c, pytest_options, merge_options) == "gate"]
    assert command[command.index("--shard") + 1] == "${CI_NODE_INDEX}/${CI_NODE_TOTAL}"
    report_dir = command[command.index("--report-dir") + 1]
    assert report_dir == "reports/shard-${CI_NODE_INDEX}"
    assert gate["artifacts"]["when"] == "always" and "reports/" in gate["artifacts"]["paths"]

    assert merge["needs"] == ["chartgate"] and merge["when"] == "always"
    assert pipeline["stages"].index(merge["stage"]) > pipeline["stages"].index(gate["stage"])
    [merged] = [c for c in _commands(merge["script"]) if _check(c, pytest_options, merge_options) == "merge"]
    assert merged[2] == "reports/shard-*" and merged[merged.index("--out") + 1] == "reports/merged"


def test_the_shard_directories_the_examples_produce_merge(tmp_path):
    """What the merge commands receive (one report directory per shard) is what `chartgate merge` takes."""
    from chartgate.cli import _parser
    args = _parser().parse_args(["merge", "shards/chartgate-shard-1", "shards/chartgate-shard-2", "--out", "reports"])
    assert [str(p) for p in args.report_dirs] == ["shards/chartgate-shard-1", "shards/chartgate-shard-2"]
    assert str(args.out) == "reports"


def test_both_examples_run_the_repositorys_own_policy_tests():
    workflow, pipeline = yaml.safe_load(GITHUB.read_text()), yaml.safe_load(GITLAB.read_text())
    assert any(step.get("run") == "python -m pytest" for step in workflow["jobs"]["policy-tests"]["steps"])
    assert pipeline["policy-tests"]["script"] == ["python -m pytest"]
