"""Realistic report input: a gate run over a mutant chart (failures, one waived), plus a chart that
cannot be loaded (errors). Only the engine-owned policy modules run, to keep it fast and stable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chartgate.loader import load_policy_module
from chartgate.policy import policies_in

from ..conftest import MUTANTS, REPO, GateRun, build_mutant, gate_config, run_gate

REPORT_POLICY_MODULES = ("observability.py", "golden.py", "render.py")
WAIVERS = """\
waivers:
  - policy: OBS-005
    chart: bp-stunner
    reason: "explicit-off differs while the HPA default is being fixed <see ticket & notes>"
    owner: platform-team
    expires: 2099-12-31
"""


@pytest.fixture(scope="session")
def report_policies():
    return [p for name in REPORT_POLICY_MODULES for p in policies_in(load_policy_module(REPO / "policies" / name))]


@pytest.fixture(scope="session")
def failing_run(tmp_path_factory, report_policies, render_cache) -> GateRun:
    """bp-stunner whose HPA toggle defaults to true (OBS-001/002 fail, OBS-005 waived) and a chart
    `bp-broken` whose Chart.yaml does not parse (every policy errors on it)."""
    tmp = tmp_path_factory.mktemp("failing")
    chart_root, overlay_root, _ = build_mutant(MUTANTS / "obs-toggle-defaults-true.yaml", tmp)
    broken = chart_root / "bp-broken"
    broken.mkdir()
    (broken / "Chart.yaml").write_text("apiVersion: v2\nname: [unclosed\n")
    waivers = tmp / "waivers.yaml"
    waivers.write_text(WAIVERS)
    config = gate_config(tmp, chart_root, overlay_root, cache=render_cache, waivers_file=waivers)
    return run_gate(config, report_policies)


@pytest.fixture(scope="session")
def failing_report(failing_run) -> dict:
    return json.loads(Path(failing_run.summary.reports["chartgate.json"]).read_text())
