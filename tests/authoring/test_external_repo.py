"""examples/external-repo is a chart repository as a user keeps it: its own policy tests pass there
(run from that directory, with the real Helm), and the whole gate - the built-in policies plus its own
policy, its waiver and its golden files - is green on its chart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

from chartgate.engine.gate import Gate, GateConfig
from chartgate.check.loader import load_policies
from chartgate.check.definition import Outcome

from ..conftest import REPO

EXAMPLE = REPO / "examples" / "external-repo"


def test_the_repositorys_own_policy_tests_pass_from_its_directory():
    env = {**os.environ, "CHARTGATE_TOOLS_DIR": str(REPO / ".tools")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"], cwd=EXAMPLE, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout


def test_the_whole_gate_is_green_on_the_example_with_its_waiver(tmp_path, render_cache):
    config = GateConfig(chart_roots=(EXAMPLE / "charts",), overlay_roots=(), report_dir=tmp_path / "reports",
                        golden_dir=EXAMPLE / "golden", cache_dir=render_cache, tools_dir=REPO / ".tools",
                        waivers_file=EXAMPLE / "waivers.yaml", today=date(2027, 1, 15),
                        config_file=EXAMPLE / "pyproject.toml")
    gate = Gate(config)
    summary = gate.run(load_policies(REPO / "policies") + load_policies(EXAMPLE / "policies"))
    bad = [(r.policy.id, r.scenario, r.message or [f.message for f in r.findings]) for r in gate.results
           if r.outcome in (Outcome.FAILED, Outcome.ERROR) and r.severity.value == "error"]
    assert not bad and summary.verdict == "passed"
    own = [r for r in gate.results if r.policy.id == "WEB-001"]
    waived = [r for r in own if r.outcome is Outcome.WAIVED]
    # The waiver covers exactly the exporter sidecar's image, in every scenario that switches it on.
    assert waived and all(f.key == "container exporter" for r in waived for f in r.findings)
    assert {r.outcome for r in own} == {Outcome.PASSED, Outcome.WAIVED}
    assert not summary.unused_waivers

    # Reports are read in the example repository: a policy's reference is shown where it resolves there
    # (its own policies/web.py), and chartgate's own docs/policies.md - not in that repository - is not;
    # the rationale is in the reports instead.
    report = json.loads((tmp_path / "reports" / "chartgate.json").read_text())
    see = {p["id"]: p["see"] for p in report["policies"]}
    assert see["WEB-001"] == "policies/web.py" and see["SEC-001"] == "" and see["HYG-001"] == ""
    for name in ("chartgate.md", "chartgate.html", "chartgate.sarif"):
        written = (tmp_path / "reports" / name).read_text()
        assert "docs/policies.md" not in written, name
    assert "See: policies/web.py" in (tmp_path / "reports" / "chartgate.md").read_text()
