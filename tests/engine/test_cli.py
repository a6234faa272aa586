"""`chartgate policies`, `explain`, `baseline` (guarded), the help texts and the argument split of
`check`: in-process, over this repository's policies."""

from __future__ import annotations

import json

import pytest

from chartgate.cli import main
from chartgate.runner import _pytest_args, split_arguments

from ..conftest import REPO

CONFIG = str(REPO / "pyproject.toml")


def test_policies_lists_every_policy_of_the_modules_a_run_collects(capsys):
    assert main(["policies", "--config", CONFIG]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "SEVERITY", "PROFILE", "TITLE"]
    sec = next(line for line in lines if line.startswith("SEC-001 "))
    assert sec.split()[:3] == ["SEC-001", "error", "any"] and "No privileged container" in sec
    assert next(line for line in lines if line.startswith("OBS-001 ")).split()[2] == "blueprint"


def test_policies_as_json(capsys):
    assert main(["policies", "--config", CONFIG, "--format", "json"]) == 0
    data = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert data["SEC-002"]["severity"] == "warning" and data["SEC-002"]["module"] == "policies/security_pods.py"
    assert {"id", "severity", "profile", "title", "applies_to", "rationale", "reference"} <= set(data["GOLD-001"])


def test_explain_describes_the_rule_and_how_to_waive_it(capsys):
    assert main(["explain", "sec-001", "--config", CONFIG]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SEC-001: No privileged container")
    assert "severity:   error (blocks the gate)" in out and "profile:    any" in out
    assert "a compromise of it is root on the node" in " ".join(out.split())  # the rationale
    assert "    - policy: SEC-001" in out and "expires: " in out


def test_render_001_cannot_be_waived_and_says_so(capsys):
    assert main(["explain", "RENDER-001", "--config", CONFIG]) == 0
    assert "Waiving: not possible" in capsys.readouterr().out


def test_an_unknown_id_exits_4_naming_the_closest(capsys):
    assert main(["explain", "SEC-01", "--config", CONFIG]) == 4
    err = capsys.readouterr().err
    assert "no policy 'SEC-01'; closest: SEC-001, SEC-010" in err


def test_baseline_without_the_write_baseline_option_says_so(tmp_path, capsys, monkeypatch):
    from chartgate import runner
    if "--write-baseline" in (runner.plugin_options() or {"--write-baseline"}):
        pytest.skip("this chartgate has baseline support")
    monkeypatch.chdir(tmp_path)
    assert main(["baseline", "--config", CONFIG]) == 4
    assert "no baseline support" in capsys.readouterr().err


def test_the_plugin_options_are_listed_for_the_guard():
    from chartgate.runner import plugin_options
    assert {"--shard", "--plan", "--report-dir"} <= plugin_options()


@pytest.mark.parametrize("command", ["check", "plan", "baseline", "policies", "explain", "merge", "tools"])
def test_every_command_has_help_with_its_exit_codes(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: chartgate {command}" in out and "exit status" in out


def test_a_wrong_command_line_is_a_usage_error(capsys):
    assert main(["no-such-command"]) == 4
    assert main(["merge"]) == 4


def test_check_passes_pytest_options_through_and_puts_paths_first(tmp_path):
    assert split_arguments(["policies/a.py", "-k", "x", "--config", "c.toml", "--shard", "1/2"]) == (
        "c.toml", ["policies/a.py"], ["-k", "x", "--shard", "1/2"])
    (tmp_path / "pyproject.toml").write_text('[tool.chartgate]\npacks = []\n')
    (tmp_path / "policies").mkdir()
    args = _pytest_args(tmp_path / "pyproject.toml", [], ["-n", "2"])
    assert args == [str(tmp_path / "policies"), "-c", str(tmp_path / "pyproject.toml"), "--rootdir", str(tmp_path),
                    "--chartgate-config", str(tmp_path / "pyproject.toml"), "-n", "2"]
