"""Every policy is proven by a mutant: a good fixture chart with one deliberate defect, on which that
policy (and no unrelated policy) fails. Mutants are declared in fixtures/mutants/*.yaml."""

from __future__ import annotations

import pytest

from chartgate.check.definition import Outcome

from ..conftest import GOOD_CHARTS, MUTANTS, build_mutant, gate_config, run_gate
from .test_finding_paths import unresolved_paths_of

MUTANT_FILES = sorted(MUTANTS.glob("*.yaml"))


@pytest.mark.parametrize("spec_path", MUTANT_FILES, ids=[p.stem for p in MUTANT_FILES])
def test_mutant_fails_exactly_the_expected_policies(spec_path, tmp_path, policies, render_cache):
    chart_root, overlay_root, spec = build_mutant(spec_path, tmp_path)
    run = run_gate(gate_config(tmp_path, chart_root, overlay_root, cache=render_cache), policies, keep_renders=True)
    expected = set(spec["expect"])
    assert run.failing_ids() == expected, (
        f"{spec_path.name}: expected exactly {sorted(expected)} to fail, got {sorted(run.failing_ids())}")
    # A finding is actionable: it names where the defect is, not just that there is one.
    for result in run.gate.results:
        if result.outcome is Outcome.FAILED:
            assert result.findings and all(f.message for f in result.findings)
            assert all(f.resource or f.template for f in result.findings), result.policy.id
    # ... and its JSONPath names something in the object it names (jsonpath-ng resolves it).
    assert unresolved_paths_of(run.gate, chart_root) == []
    for needle in spec.get("message_contains", []):
        messages = "\n".join(f.message for r in run.gate.results for f in r.findings)
        assert needle in messages


def test_every_policy_has_a_mutant(policies):
    import yaml
    covered = set()
    for path in MUTANT_FILES:
        covered |= set(yaml.safe_load(path.read_text())["expect"])
    # Proven elsewhere: golden drift and render failure by engine tests; DEP-001 by test_dependencies.py on
    # a repository whose vendored copy the real `helm dependency update` made (a mutant base has no source).
    exempt = {"GOLD-001", "RENDER-001", "DEP-001"}
    missing = sorted(p.id for p in policies if p.id not in covered | exempt)
    assert not missing, f"policies without a mutant fixture: {missing}"


def test_good_charts_pass_every_policy(good_run):
    bad = [(r.policy.id, r.chart, r.scenario, r.outcome.value, r.message or [f.message for f in r.findings])
           for r in good_run.gate.results if r.outcome not in (Outcome.PASSED, Outcome.SKIPPED)]
    assert not bad
    assert {r.chart for r in good_run.gate.results} == set(GOOD_CHARTS)
