"""Realistic report input: a gate run over a mutant chart (bp-stunner whose HPA toggle defaults to
true) with stable test-only policies (data/report_policies/report_cases.py: a defect in many scenarios, a
warning, a waived defect, a partly waived one), the engine-owned render and golden policies, and a
chart that cannot be loaded (errors on every policy)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from chartgate.check.loader import load_policy_module
from chartgate.check.definition import policies_in

from ..conftest import MUTANTS, REPO, GateRun, build_mutant, gate_config, run_gate

DATA = Path(__file__).parent / "data"
REPORT_POLICY_MODULES = (REPO / "policies" / "golden.py", REPO / "policies" / "render.py",
                         DATA / "report_policies" / "report_cases.py")
TODAY = dt.date(2026, 11, 28)  # waivers are judged on this day (an expiry is at most a year ahead)
WAIVERS = """\
waivers:
  - policy: RPT-003
    chart: bp-stunner
    reason: "upstream Services are reviewed upstream <see ticket & notes>"
    owner: platform-team
    expires: 2027-06-30
  - policy: RPT-001
    chart: bp-stunner
    scenario: capabilities
    reason: "capabilities scenario accepted for now"
    owner: platform-team
    expires: 2027-06-30
"""


@pytest.fixture(scope="session")
def report_policies():
    return [p for path in REPORT_POLICY_MODULES for p in policies_in(load_policy_module(path))]


@pytest.fixture(scope="session")
def failing_run(tmp_path_factory, report_policies, render_cache) -> GateRun:
    """bp-stunner whose HPA toggle defaults to true, and a chart `bp-broken` whose Chart.yaml does not parse."""
    tmp = tmp_path_factory.mktemp("failing")
    chart_root, overlay_root, _ = build_mutant(MUTANTS / "obs-toggle-defaults-true.yaml", tmp)
    broken = chart_root / "bp-broken"
    broken.mkdir()
    (broken / "Chart.yaml").write_text("apiVersion: v2\nname: [unclosed\n")
    waivers = tmp / "waivers.yaml"
    waivers.write_text(WAIVERS)
    config = gate_config(tmp, chart_root, overlay_root, cache=render_cache, waivers_file=waivers,
                         helm_versions=("4.1.4",), today=TODAY)
    return run_gate(config, report_policies)


@pytest.fixture(scope="session")
def failing_report(failing_run) -> dict:
    return json.loads(Path(failing_run.summary.reports["chartgate.json"]).read_text())
